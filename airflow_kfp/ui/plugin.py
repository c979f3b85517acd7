"""The Airflow plugin: the experiments app in the api-server and its pages in Airflow's UI."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/kfp"


class KfpExperimentsPlugin(AirflowPlugin):
    """Experiments (nav), a pipeline's runs (DAG tab) and a run's steps and artifacts (run tab)."""

    name = "airflow_kfp_experiments"

    @property
    def fastapi_apps(self) -> list[dict[str, object]]:  # type: ignore[override]
        from airflow_kfp.ui.app import app

        return [{"app": app, "url_prefix": URL_PREFIX, "name": "airflow-kfp experiments"}]

    @property
    def operator_extra_links(self) -> list[object]:  # type: ignore[override]
        """The "Cache source" link, built in the api-server from the task's manifest (perf, issue 15)."""
        from airflow_kfp.operators.cache_link import CacheSourceLink

        return [CacheSourceLink()]

    external_views = [  # noqa: RUF012 - the plugin API is a class attribute
        {
            "name": "Experiments",
            "href": "kfp/ui/?view=experiments",
            "destination": "nav",
            "url_route": "kfp-experiments",
            "category": "browse",
        },
        {
            "name": "Pipeline runs",
            "href": "kfp/ui/?view=runs&dag_id={DAG_ID}",
            "destination": "dag",
            "url_route": "kfp-runs",
        },
        {
            "name": "Pipeline steps",
            "href": "kfp/ui/?view=run&dag_id={DAG_ID}&run_id={RUN_ID}",
            "destination": "dag_run",
            "url_route": "kfp-run",
        },
    ]
