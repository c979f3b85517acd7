"""Scalar metrics of a step: what the runs table, compare and the experiments page rank by."""

from __future__ import annotations

import math
from typing import Any

from airflow_kfp.manifest import ordered_metadata

METRICS_TYPE = "system.Metrics"
PRECOMPUTED = "_step_metrics"
"""Key under which a cached manifest summary carries its step's metrics, already labelled."""


def step_label(task_id: str, map_index: int) -> str:
    return task_id if map_index < 0 else f"{task_id}[{map_index}]"


def is_scalar(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


def step_metrics(task_id: str, map_index: int, manifest: dict[str, Any]) -> dict[str, float]:
    """Every scalar a step's Metrics artifacts hold, keyed ``step/metric`` (mapped: ``step[i]/metric``)."""
    cached = manifest.get(PRECOMPUTED)
    if cached is not None:
        return dict(cached)
    out: dict[str, float] = {}
    label = step_label(task_id, map_index)
    for record in (manifest.get("artifacts") or {}).values():
        if not isinstance(record, dict) or record.get("type") != METRICS_TYPE:
            continue
        for name, value in ordered_metadata(record).items():
            if is_scalar(value):
                out[f"{label}/{name}"] = float(value)
    return out
