"""The ``[kfp]`` settings, with per-DAG overrides from ``to_dag``."""

from __future__ import annotations

import enum
import os
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

NEVER_PASSED = re.compile(
    r"^(AIRFLOW_CONN_|AIRFLOW_VAR_|AIRFLOW__|_AIRFLOW|AWS_|KUBECONFIG$|GOOGLE_APPLICATION_CREDENTIALS$|AZURE_)"
)
"""Worker variables no allow-list entry may let through (checked last, as a second line): the
setting below is refused when it names one, and the local runner's environment never passes one."""


def parse_passthrough(setting: str) -> tuple[str, ...]:
    """``[kfp] local_env_passthrough``: extra worker variables, by name or ``PREFIX*``, comma-separated.

    Raises ValueError for an entry no component may ever get (``AWS_*``, ``AIRFLOW_CONN_*``...).
    """
    entries = tuple(e.strip() for e in setting.split(",") if e.strip())
    refused = [e for e in entries if NEVER_PASSED.match(e.rstrip("*")) or e == "*"]
    if refused:
        raise ValueError(
            f"[kfp] local_env_passthrough names {refused}: worker credentials and Airflow settings never reach "
            "components; give a component what it needs with set_env_variable(...) in the pipeline instead"
        )
    return entries


class Runner(enum.StrEnum):
    """Where a component's code runs (``[kfp] runner``)."""

    LOCAL = "local"
    """A subprocess on the Airflow worker, with the worker's Python; images are ignored."""
    KUBERNETES = "kubernetes"
    """A pod per task, through the KubernetesPodOperator."""


RUNNERS = tuple(r.value for r in Runner)


def setting(default: Any, description: str, *, example: str | None = None) -> Any:
    """A ``[kfp]`` option: its default, and what ``airflow config list`` and the docs say about it."""
    return field(default=default, metadata={"description": description, "example": example})


def provider_config_options() -> dict[str, dict[str, Any]]:
    """The options of the provider info's ``config`` section, from :class:`KfpSettings`."""
    options: dict[str, dict[str, Any]] = {}
    for f in fields(KfpSettings):
        default = f.default
        options[f.name] = {
            "description": f.metadata["description"],
            "version_added": "0.1.0",
            "type": "boolean" if isinstance(default, bool) else "string",
            "example": f.metadata["example"],
            "default": str(default),
        }
    return options


@dataclass(frozen=True)
class KfpSettings:
    """The ``[kfp]`` section: every option, its default and its documentation, in one place (the
    provider info's config section is derived from these fields)."""

    runner: str = setting(
        "local",
        "Where components run: 'local' (a subprocess on the worker) or 'kubernetes' (a pod).",
        example="kubernetes",
    )
    artifact_root: str = setting(
        "",
        (
            "Where artifacts live: a local folder, file:// URI or s3://bucket/prefix. Empty means "
            "<AIRFLOW_HOME>/kfp/artifacts."
        ),
        example="s3://ml-artifacts/pipelines",
    )
    artifact_conn_id: str = setting(
        "",
        "Airflow connection (aws type) used for an s3:// artifact root; empty uses boto3's default credential chain.",
        example="aws_default",
    )
    registry_root: str = setting(
        "",
        (
            "Where airflow_kfp.Client uploads pipelines and recurring runs (the pipeline registry): a folder, "
            "file:// URI or s3://bucket/prefix, writable only by those allowed to deploy pipelines. Empty means "
            "<AIRFLOW_HOME>/kfp/registry."
        ),
        example="s3://ml-artifacts/registry",
    )
    registry_conn_id: str = setting(
        "",
        "Airflow connection (aws type) for an s3:// registry root; empty uses artifact_conn_id.",
        example="aws_default",
    )
    enable_caching: bool = setting(
        True,
        "Reuse the outputs of an identical earlier step instead of running it again.",
        example="False",
    )
    max_cache_staleness: str = setting(
        "",
        "Cache entries older than this are ignored (e.g. 30d, 12h); empty means no limit.",
        example="30d",
    )
    cache_version: str = setting(
        "",
        "Part of every cache key: change it to invalidate all cache entries at once.",
        example="2",
    )
    cache_scope: str = setting(
        "",
        (
            "Which runs share cache entries, besides the pipeline: empty (the default) keeps every DAG's entries "
            "its own, as KFP keeps them per namespace; a name shares entries among the DAGs that set the same "
            "name (one pipeline deployed as several DAGs). A hit from another DAG is copied into the reading "
            "run's own folder."
        ),
        example="churn-regions",
    )
    import_from_dags: str = setting(
        "",
        (
            "DAG ids (comma-separated, shell patterns allowed) whose stored outputs this DAG's importers may "
            "import; empty: only the DAG's own. Data outside the artifact root is not affected."
        ),
        example="churn-train,churn-*",
    )
    local_install_packages: str = setting(
        "auto",
        (
            "Local runner: 'auto' installs packages_to_install into a cached folder only when the worker's "
            "environment lacks them; 'never' fails instead; 'always' installs every time the cache folder is "
            "missing."
        ),
        example="never",
    )
    local_env_passthrough: str = setting(
        "",
        (
            "Local runner: extra worker environment variables components receive, comma-separated names or "
            "PREFIX* (components otherwise get only an allow-list: PATH, locale, proxies, their "
            "set_env_variable values). Credentials and Airflow settings are refused."
        ),
        example="HF_HOME,MLFLOW_TRACKING_URI",
    )
    local_launch: str = setting(
        "fork",
        (
            "Local runner: 'fork' forks each component from a small pre-started launcher kept by the worker "
            "(its own process, environment and working directory; Linux); 'spawn' starts a fresh Python for "
            "every component."
        ),
        example="spawn",
    )
    namespace: str = setting(
        "default",
        "Kubernetes namespace for component pods.",
        example="ml",
    )
    kubernetes_conn_id: str = setting(
        "",
        "Airflow Kubernetes connection for the pods; empty uses in-cluster or KUBECONFIG.",
        example="kubernetes_default",
    )
    service_account: str = setting(
        "",
        "Service account of component pods (IRSA/workload identity for the artifact store).",
        example="kfp-runner",
    )
    accelerators: str = setting(
        "",
        (
            "Accelerator names set_accelerator_type() accepts besides extended resource names (which are used "
            'as KFP uses them: nvidia.com/gpu, amd.com/gpu...): a JSON object, name -> {"resource": ..., '
            '"node_selector": {...}}, added to (or replacing entries of) the built-in table of Vertex AI and '
            "GKE names (docs/guides/kubernetes.md)."
        ),
        example='{"a100": {"resource": "nvidia.com/gpu", "node_selector": {"gpu-model": "a100"}}}',
    )
    accelerator_toleration: bool = setting(
        False,
        (
            "Kubernetes runner: pods that request an accelerator tolerate the taint named after its resource "
            "(key nvidia.com/gpu, operator Exists, effect NoSchedule), as Kubernetes' ExtendedResourceToleration "
            "admission plugin does; for clusters that taint accelerator nodes without that plugin."
        ),
        example="True",
    )
    default_image: str = setting(
        "",
        "Image for Python components that keep KFP's default base image (python:3.11); empty keeps it.",
        example="registry.example.com/ml/python:3.11",
    )
    staging_image: str = setting(
        "python:3.12-slim",
        "Image with python3 that moves artifacts in and out of container-component pods.",
        example="registry.example.com/ml/python:3.12-slim",
    )
    image_pull_policy: str = setting(
        "",
        "Default imagePullPolicy of component pods; empty leaves it to Kubernetes.",
        example="IfNotPresent",
    )
    artifact_volume_claim: str = setting(
        "",
        (
            "With a local artifact root on the kubernetes runner: a ReadWriteMany PVC holding that root, mounted "
            "in every pod at the same path. Empty: a local root is refused."
        ),
        example="kfp-artifacts",
    )
    presigned_url_expiry: str = setting(
        "12h",
        (
            "Lifetime of the presigned URLs a pod uses to read and write its artifacts; it must cover the pod's "
            "queueing and run time (at most 7d for S3). Capped at the remaining lifetime of the credentials that "
            "sign them (IRSA, an assumed role), with a warning in the task log."
        ),
        example="2d",
    )
    max_output_parameter_size: str = setting(
        "1Mi",
        (
            "Largest output parameter (its JSON text) and largest artifact metadata a component may report; "
            "beyond it the task fails naming the output. Parameters travel in XCom, so data belongs in "
            "artifacts."
        ),
        example="256Ki",
    )
    # k8s helper (issue 16): deferrable pods and the multipart part size.
    deferrable: bool = setting(
        False,
        (
            "Kubernetes runner: free the worker slot while a pod runs (the triggerer watches it); per task "
            "with kubernetes.set_deferrable(task)."
        ),
        example="True",
    )
    pod_startup_timeout: str = setting(
        "10m",
        (
            "Kubernetes runner: how long a pod may wait to be scheduled (e.g. for the autoscaler to add a GPU "
            "node) and to start before the task fails, saying why."
        ),
        example="30m",
    )
    multipart_part_size: str = setting(
        "64Mi",
        (
            "Kubernetes runner: size of each part a pod uploads an output file in (S3 allows 5MiB to 5GiB, at "
            "most 10000 parts); a file of a directory output larger than this goes up in chunks of this size "
            "that the worker copies into place. Any size streams through with flat memory."
        ),
        example="256Mi",
    )

    store_outage_window: str = setting(
        "60s",
        (
            "How long a task waits out an artifact store (S3 endpoint) that is unreachable, refuses connections "
            "or answers 5xx, retrying each operation with backoff and logging every wait, before it fails; long "
            "enough for an endpoint restart. 0 leaves only the S3 client's own few retries."
        ),
        example="5m",
    )

    def store_outage_window_s(self) -> float:
        from airflow_kfp.spec.durations import parse_duration

        return parse_duration(self.store_outage_window).total_seconds()

    def resolved_artifact_root(self) -> str:
        if self.artifact_root:
            return self.artifact_root
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        return os.path.join(home, "kfp", "artifacts")

    def output_parameter_limit(self) -> int:
        """``max_output_parameter_size`` in bytes (at least 1 KiB)."""
        from airflow_kfp.spec.quantities import memory_bytes

        limit = int(memory_bytes(self.max_output_parameter_size))
        if limit < 1024:
            raise ValueError(f"{self.max_output_parameter_size!r} is below 1Ki; parameters need room")
        return limit

    def with_overrides(self, **overrides: Any) -> KfpSettings:
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ValueError(f"unknown [kfp] setting(s) {sorted(unknown)}; known: {sorted(known)}")
        settings = replace(self, **{k: v for k, v in overrides.items() if v is not None})
        settings.check()
        return settings

    def check(self) -> None:
        if self.max_cache_staleness:
            from airflow_kfp.spec.durations import parse_duration

            try:
                parse_duration(self.max_cache_staleness)
            except ValueError as exc:
                raise ValueError(f"[kfp] max_cache_staleness: {exc}") from None
        try:
            self.output_parameter_limit()
        except ValueError as exc:
            raise ValueError(f"[kfp] max_output_parameter_size: {exc}") from None
        try:
            self.store_outage_window_s()
        except ValueError as exc:
            raise ValueError(f"[kfp] store_outage_window: {exc}") from None
        if self.runner not in RUNNERS:
            raise ValueError(f"[kfp] runner is {self.runner!r}; use one of {', '.join(RUNNERS)}")
        if self.local_env_passthrough:
            parse_passthrough(self.local_env_passthrough)
        if len(self.cache_scope) > 200 or any(c in self.cache_scope for c in "\0\n"):
            raise ValueError(f"[kfp] cache_scope is {self.cache_scope!r}: use a short name, such as churn-regions")
        if self.accelerators:
            from airflow_kfp.spec.accelerators import parse_table

            parse_table(self.accelerators)
        if self.local_launch not in ("fork", "spawn"):
            raise ValueError(f"[kfp] local_launch is {self.local_launch!r}; use fork or spawn")
        if self.local_install_packages not in ("auto", "never", "always"):
            raise ValueError(
                f"[kfp] local_install_packages is {self.local_install_packages!r}; use auto, never or always"
            )


def load_settings() -> KfpSettings:
    """Read ``[kfp]`` from Airflow's configuration (env vars AIRFLOW__KFP__* included)."""
    from airflow.configuration import conf

    defaults = KfpSettings()
    values: dict[str, Any] = {}
    for f in fields(KfpSettings):
        default = getattr(defaults, f.name)
        if isinstance(default, bool):
            values[f.name] = conf.getboolean("kfp", f.name, fallback=default)
        else:
            values[f.name] = conf.get("kfp", f.name, fallback=default)
    settings = KfpSettings(**values)
    settings.check()
    return settings
