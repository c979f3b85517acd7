"""Experiments group runs, as in KFP: a pipeline DAG belongs to one, a run may be filed under another.

The DAG's experiment is a DAG tag (``experiment:<name>``, stored in Airflow's ``dag_tag`` table, so
the UI finds it without parsing anything); a run's ``kfp_experiment`` conf key overrides it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

TAG_PREFIX = "experiment:"
PIPELINE_TAG_PREFIX = "pipeline:"
PIPELINE_TAG = "kfp"
CONF_KEY = "kfp_experiment"
_TAG_MAX_LEN = 100  # Airflow's dag_tag.name column


def experiment_tag(pipeline_name: str, experiment: str | None) -> str:
    """The DAG tag naming the experiment (default: the pipeline's name); a clear error if unusable."""
    name = pipeline_name if experiment is None else experiment
    if not isinstance(name, str) or not name.strip():
        raise ValueError(
            f"pipeline '{pipeline_name}': experiment={experiment!r} must be a non-empty string "
            "(or None for the pipeline's name)."
        )
    tag = TAG_PREFIX + name.strip()
    if len(tag) > _TAG_MAX_LEN:
        raise ValueError(
            f"pipeline '{pipeline_name}': experiment name {name!r} is longer than "
            f"{_TAG_MAX_LEN - len(TAG_PREFIX)} characters (Airflow's tag limit); choose a shorter one."
        )
    return tag


def dag_experiment(tags: Iterable[str]) -> str | None:
    for tag in tags:
        if tag.startswith(TAG_PREFIX):
            return tag[len(TAG_PREFIX) :]
    return None


def run_experiment(dag_default: str | None, conf: Mapping[str, Any] | None) -> str | None:
    """A run's experiment: its conf's ``kfp_experiment`` when that is a non-empty string, else the DAG's."""
    override = (conf or {}).get(CONF_KEY) if isinstance(conf, Mapping) else None
    if isinstance(override, str) and override.strip():
        return override.strip()
    return dag_default
