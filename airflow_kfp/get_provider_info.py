"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_kfp import __version__


def _option(description: str, type_: str, default: str | None, example: str | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": type_,
        "example": example,
        "default": default,
    }


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
                "options": {
                    "runner": _option(
                        "Where components run: 'local' (a subprocess on the worker) or 'kubernetes' (a pod).",
                        "string",
                        "local",
                        "kubernetes",
                    ),
                    "artifact_root": _option(
                        "Where artifacts live: a local folder, file:// URI or s3://bucket/prefix. "
                        "Empty means <AIRFLOW_HOME>/kfp/artifacts.",
                        "string",
                        "",
                        "s3://ml-artifacts/pipelines",
                    ),
                    "artifact_conn_id": _option(
                        "Airflow connection (aws type) used for an s3:// artifact root; empty uses boto3's "
                        "default credential chain.",
                        "string",
                        "",
                        "aws_default",
                    ),
                    "enable_caching": _option(
                        "Reuse the outputs of an identical earlier step instead of running it again.",
                        "boolean",
                        "True",
                        "False",
                    ),
                    "max_cache_staleness": _option(
                        "Cache entries older than this are ignored (e.g. 30d, 12h); empty means no limit.",
                        "string",
                        "",
                        "30d",
                    ),
                    "cache_version": _option(
                        "Part of every cache key: change it to invalidate all cache entries at once.",
                        "string",
                        "",
                        "2",
                    ),
                    "local_install_packages": _option(
                        "Local runner: 'auto' installs packages_to_install into a cached folder only when the "
                        "worker's environment lacks them; 'never' fails instead; 'always' installs every time "
                        "the cache folder is missing.",
                        "string",
                        "auto",
                        "never",
                    ),
                    "local_env_passthrough": _option(
                        "Local runner: extra worker environment variables components receive, comma-separated "
                        "names or PREFIX* (components otherwise get only an allow-list: PATH, locale, proxies, "
                        "their set_env_variable values). Credentials and Airflow settings are refused.",
                        "string",
                        "",
                        "HF_HOME,MLFLOW_TRACKING_URI",
                    ),
                    "local_launch": _option(
                        "Local runner: 'fork' forks each component from a small pre-started launcher kept by "
                        "the worker (its own process, environment and working directory; Linux); 'spawn' starts "
                        "a fresh Python for every component.",
                        "string",
                        "fork",
                        "spawn",
                    ),
                    "namespace": _option("Kubernetes namespace for component pods.", "string", "default", "ml"),
                    "kubernetes_conn_id": _option(
                        "Airflow Kubernetes connection for the pods; empty uses in-cluster or KUBECONFIG.",
                        "string",
                        "",
                        "kubernetes_default",
                    ),
                    "service_account": _option(
                        "Service account of component pods (IRSA/workload identity for the artifact store).",
                        "string",
                        "",
                        "kfp-runner",
                    ),
                    "gpu_resource_name": _option(
                        "Extended resource a GPU limit becomes.", "string", "nvidia.com/gpu", "amd.com/gpu"
                    ),
                    "accelerator_node_label": _option(
                        "Node label that set_accelerator_type() selects on.",
                        "string",
                        "accelerator",
                        "cloud.google.com/gke-accelerator",
                    ),
                    "gpu_toleration_key": _option(
                        "Taint key tolerated (effect NoSchedule, operator Exists) by pods that request a GPU; "
                        "empty adds no toleration.",
                        "string",
                        "nvidia.com/gpu",
                        "amd.com/gpu",
                    ),
                    "default_image": _option(
                        "Image for Python components that keep KFP's default base image (python:3.11); empty keeps it.",
                        "string",
                        "",
                        "registry.example.com/ml/python:3.11",
                    ),
                    "staging_image": _option(
                        "Image with python3 that moves artifacts in and out of container-component pods.",
                        "string",
                        "python:3.12-slim",
                        "registry.example.com/ml/python:3.12-slim",
                    ),
                    "image_pull_policy": _option(
                        "Default imagePullPolicy of component pods; empty leaves it to Kubernetes.",
                        "string",
                        "",
                        "IfNotPresent",
                    ),
                    "artifact_volume_claim": _option(
                        "With a local artifact root on the kubernetes runner: a ReadWriteMany PVC holding "
                        "that root, mounted in every pod at the same path. Empty: a local root is refused.",
                        "string",
                        "",
                        "kfp-artifacts",
                    ),
                    "presigned_url_expiry": _option(
                        "Lifetime of the presigned URLs a pod uses to read and write its artifacts; it must "
                        "cover the pod's queueing and run time (at most 7d for S3).",
                        "string",
                        "12h",
                        "2d",
                    ),
                    # k8s helper (issue 16): deferrable pods and the multipart part size.
                    "deferrable": _option(
                        "Kubernetes runner: free the worker slot while a pod runs (the triggerer watches it); "
                        "per task with kubernetes.set_deferrable(task).",
                        "boolean",
                        "False",
                        "True",
                    ),
                    "multipart_part_size": _option(
                        "Kubernetes runner: size of each part a pod uploads an output file in (S3 allows 5MiB to "
                        "5GiB, at most 10000 parts); a file of any size streams through with flat memory.",
                        "string",
                        "64Mi",
                        "256Mi",
                    ),
                },
            }
        },
    }
