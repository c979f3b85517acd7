"""The plugin's FastAPI app, mounted by the api-server at ``/kfp``: the JSON API and the pages.

Every route depends on Airflow's ``get_user`` (401/403 without a valid token or session cookie) and
asks the auth manager which DAGs the user may read before touching the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from airflow_kfp.ui import data, views
from airflow_kfp.ui.access import readable_dag_ids, require_readable
from airflow_kfp.ui.artifacts import PREVIEW_LIMIT, Target, check_servable, stream

STATIC = Path(__file__).parent / "static"
MAX_RUNS = 2000
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)


def _user_dep() -> Any:
    from airflow.api_fastapi.core_api.security import get_user

    return Depends(get_user)


def _session_dep() -> Any:
    from airflow.api_fastapi.common.db.common import _get_session

    return Depends(_get_session)


User = Annotated[Any, _user_dep()]
Session = Annotated[Any, _session_dep()]


def _split_run(value: str) -> tuple[str, str]:
    dag_id, sep, run_id = value.partition("/")
    if not sep or not dag_id or not run_id:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "name each run as <dag_id>/<run_id>")
    return dag_id, run_id


def _run_summaries(session: Any, runs: list[data.RunRow]) -> tuple[list[dict[str, Any]], Any, Any]:
    """Summaries of many runs in five queries, whatever their number and their tasks' number."""
    dags = data.dag_infos(session, {r.dag_id for r in runs})
    manifests = data.manifests_of_runs(session, runs)
    versions = data.versions(session, [r.version_id for r in runs])
    counts = data.state_counts(session, runs)
    out = [
        views.run_summary(
            r,
            dags.get(r.dag_id),
            manifests.get(r.id, []),
            versions.get(r.version_id or ""),
            counts.get((r.dag_id, r.run_id), {}),
        )
        for r in runs
    ]
    return out, manifests, versions


def create_app() -> FastAPI:
    app = FastAPI(
        title="airflow-kfp experiments",
        description="Experiments, runs with params and metrics, compare, run details and artifacts.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )

    @app.get("/api/experiments", summary="Experiments with their pipelines, run count, last run, best metric")
    def experiments(
        user: User,
        session: Session,
        metric: Annotated[str | None, Query(max_length=500)] = None,
        mode: Literal["max", "min"] = "max",
    ) -> dict[str, Any]:
        readable = readable_dag_ids(user, session)
        dag_ids = data.pipeline_dag_ids(session, readable)
        dags = data.dag_infos(session, dag_ids)
        runs = data.runs_of_dags_brief(session, dag_ids)
        best: dict[int, float] = {}
        if metric and "/" in metric:
            step = metric.rsplit("/", 1)[0].split("[", 1)[0]
            by_run = data.manifests_of_runs(session, runs, task_ids=[step])
            for run in runs:
                value = views.scalar_metrics(by_run.get(run.id, [])).get(metric)
                if value is not None:
                    best[run.id] = value
        return {
            "metric": metric,
            "mode": mode,
            "experiments": views.experiments_view(dags, runs, metric, best, mode),
        }

    @app.get("/api/experiment-runs", summary="Runs filed under one experiment, across its pipelines")
    def experiment_runs(
        user: User,
        session: Session,
        experiment: Annotated[str, Query(min_length=1, max_length=500)],
        limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = 500,
    ) -> dict[str, Any]:
        from airflow_kfp import experiment as exp

        readable = readable_dag_ids(user, session)
        dag_ids = data.pipeline_dag_ids(session, readable)
        dags = data.dag_infos(session, dag_ids)
        brief = [
            r
            for r in data.runs_of_dags_brief(session, dag_ids)
            if exp.run_experiment(dags[r.dag_id].experiment if r.dag_id in dags else None, r.conf) == experiment
        ]
        runs, _, _ = _run_summaries(session, brief[:limit])
        return {"experiment": experiment, "total": len(brief), "runs": runs, "columns": views.columns(runs)}

    @app.get("/api/runs", summary="Runs of one DAG with params as used, scalar metrics and cache hits")
    def runs(
        user: User,
        session: Session,
        dag_id: Annotated[str, Query(min_length=1, max_length=250)],
        limit: Annotated[int, Query(ge=1, le=MAX_RUNS)] = 500,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> dict[str, Any]:
        require_readable(user, dag_id, session)
        dag = data.dag_infos(session, [dag_id]).get(dag_id)
        if dag is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no DAG '{dag_id}'")
        rows, total = data.runs_of_dag(session, dag_id, limit, offset)
        summaries, _, _ = _run_summaries(session, rows)
        return {
            "dag": views.dag_view(dag),
            "total": total,
            "offset": offset,
            "runs": summaries,
            "columns": views.columns(summaries),
        }

    @app.get("/api/run", summary="One run: every step in pipeline order with inputs, outputs, artifacts, cache")
    def run(
        user: User,
        session: Session,
        dag_id: Annotated[str, Query(min_length=1, max_length=250)],
        run_id: Annotated[str, Query(min_length=1, max_length=250)],
    ) -> dict[str, Any]:
        require_readable(user, dag_id, session)
        found = data.runs_by_key(session, [(dag_id, run_id)])
        if not found:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG '{dag_id}' has no run '{run_id}'")
        row = found[0]
        dag = data.dag_infos(session, [dag_id]).get(dag_id)
        version = data.versions(session, [row.version_id]).get(row.version_id or "")
        steps = data.steps_of_run(session, row)
        manifests = [(s.task_id, s.map_index, s.manifest) for s in steps if s.manifest is not None]
        counts: dict[str, int] = {}
        for s in steps:
            counts[s.state or "none"] = counts.get(s.state or "none", 0) + 1
        return {
            "dag": views.dag_view(dag) if dag else None,
            "run": views.run_summary(row, dag, manifests, version, counts),
            "steps": [views.step_view(s) for s in views.ordered_steps(steps, version)],
        }

    @app.get("/api/compare", summary="Two or more runs side by side: params, metrics, versions, ROC, artifacts")
    def compare(
        user: User,
        session: Session,
        run: Annotated[list[str], Query(description="<dag_id>/<run_id>, two or more", max_length=50)],
    ) -> dict[str, Any]:
        keys = [_split_run(r) for r in run]
        if len(set(keys)) < 2:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, "compare needs two or more different runs")
        for dag_id in {d for d, _ in keys}:
            require_readable(user, dag_id, session)
        rows = data.runs_by_key(session, keys)
        missing = [f"{d}/{r}" for d, r in keys if (d, r) not in {(x.dag_id, x.run_id) for x in rows}]
        if missing:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no such run(s): {missing}")
        summaries, manifests, versions = _run_summaries(session, rows)
        return views.compare_view(
            summaries,
            [manifests.get(r.id, []) for r in rows],
            [versions.get(r.version_id or "") for r in rows],
        )

    @app.get("/api/artifact", summary="Stream an artifact a readable run's manifest names (preview is capped)")
    def artifact(
        user: User,
        session: Session,
        dag_id: Annotated[str, Query(min_length=1, max_length=250)],
        run_id: Annotated[str, Query(min_length=1, max_length=250)],
        task_id: Annotated[str, Query(min_length=1, max_length=250)],
        output: Annotated[str, Query(min_length=1, max_length=250)],
        map_index: int = -1,
        mode: Literal["preview", "download"] = "preview",
        member: Annotated[str | None, Query(max_length=1000)] = None,
    ) -> Response:
        require_readable(user, dag_id, session)
        found = data.runs_by_key(session, [(dag_id, run_id)])
        if not found:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"DAG '{dag_id}' has no run '{run_id}'")
        manifests = data.manifests_of_runs(session, found, task_ids=[task_id]).get(found[0].id, [])
        manifest = next((m for t, i, m in manifests if t == task_id and i == map_index), None)
        record = (manifest or {}).get("artifacts", {}).get(output) if manifest else None
        if not isinstance(record, dict):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such artifact in this run's manifests")
        uri = check_servable(record)
        return stream(Target(uri, str(record.get("type") or ""), record, output), mode=mode, member=member)

    @app.get("/api/limits", summary="Limits the pages need to know")
    def limits(user: User) -> dict[str, Any]:
        return {"preview_bytes": PREVIEW_LIMIT, "max_runs": MAX_RUNS}

    # -- pages ---------------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def root() -> Response:
        return RedirectResponse("ui/", status_code=status.HTTP_307_TEMPORARY_REDIRECT)

    @app.get("/ui/", include_in_schema=False)
    def page(user: User) -> Response:
        index = STATIC / "index.html"
        if not index.is_file():
            return JSONResponse(
                {"detail": "the UI's built assets are missing from the package; rebuild with `npm run build` in ui/"},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        return FileResponse(index, headers={"Content-Security-Policy": PAGE_CSP, "Cache-Control": "no-store"})

    assets = {p.name: p for p in (STATIC / "assets").glob("*")} if (STATIC / "assets").is_dir() else {}

    @app.get("/ui/assets/{name}", include_in_schema=False)
    def asset(name: str, user: User, request: Request) -> Response:
        path = assets.get(name)
        if path is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such asset")
        return FileResponse(path, headers={"Cache-Control": "private, max-age=31536000, immutable"})

    return app


app = create_app()
