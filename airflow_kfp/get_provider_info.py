"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_kfp.config import provider_config_options
from airflow_kfp.version import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-kfp",
        "name": "Kubeflow Pipelines on Airflow",
        "description": "Write pipelines the Kubeflow Pipelines v2 way and run them as Airflow DAGs.",
        "versions": [__version__],
        "asset-uris": [
            {
                "schemes": ["kfp"],
                "handler": "airflow_kfp.lineage.assets.normalize_asset_uri",
                "to_openlineage_converter": "airflow_kfp.lineage.assets.convert_asset_to_openlineage",
            }
        ],
        "plugins": [  # ui (issue 12); also an airflow.plugins entry point, which is what loads it
            {"name": "airflow_kfp_experiments", "plugin-class": "airflow_kfp.ui.plugin.KfpExperimentsPlugin"}
        ],
        "operators": [
            {
                "integration-name": "Kubeflow Pipelines on Airflow",
                "python-modules": [
                    "airflow_kfp.operators.local",
                    "airflow_kfp.operators.base",
                    "airflow_kfp.operators.kubernetes",
                ],
            }
        ],
        "config": {
            "kfp": {
                "description": (
                    "Deployment-wide defaults for airflow-kfp pipelines; to_dag(...) overrides any of them per DAG."
                ),
                "options": provider_config_options(),
            }
        },
    }
