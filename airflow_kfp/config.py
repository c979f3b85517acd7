"""The ``[kfp]`` settings, with per-DAG overrides from ``to_dag``."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from typing import Any

RUNNERS = ("local", "kubernetes")


@dataclass(frozen=True)
class KfpSettings:
    runner: str = "local"
    artifact_root: str = ""
    artifact_conn_id: str = ""
    enable_caching: bool = True
    max_cache_staleness: str = ""
    cache_version: str = ""
    local_install_packages: str = "auto"
    local_env_passthrough: str = ""
    local_launch: str = "fork"
    namespace: str = "default"
    kubernetes_conn_id: str = ""
    service_account: str = ""
    gpu_resource_name: str = "nvidia.com/gpu"
    accelerator_node_label: str = "accelerator"
    gpu_toleration_key: str = "nvidia.com/gpu"
    default_image: str = ""
    staging_image: str = "python:3.12-slim"
    image_pull_policy: str = ""
    artifact_volume_claim: str = ""
    presigned_url_expiry: str = "12h"
    deferrable: bool = False
    multipart_part_size: str = "64Mi"

    def resolved_artifact_root(self) -> str:
        if self.artifact_root:
            return self.artifact_root
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        return os.path.join(home, "kfp", "artifacts")

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
        if self.runner not in RUNNERS:
            raise ValueError(f"[kfp] runner is {self.runner!r}; use one of {', '.join(RUNNERS)}")
        if self.local_env_passthrough:
            from airflow_kfp.operators.component_env import parse_passthrough

            parse_passthrough(self.local_env_passthrough)
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
