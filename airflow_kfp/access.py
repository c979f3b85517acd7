"""Who may read an artifact: whoever may read the DAG run that wrote it. One rule, three enforcers.

The store's layout (``stores.layout``) encodes the producing DAG and run in every path, so a URI in an
artifact root names its owner. The rule is applied:

- in the UI and its API (``ui.access``), by Airflow's auth manager: every DAG a served artifact's
  URI, producer stamp or cache source names must be readable by the caller;
- on workers, which have no auth manager and no database (Airflow 3), by DAG: an importer (and any
  task reading an input) may read stored outputs of its own DAG only, unless the DAG explicitly lets
  its importers read other DAGs' outputs (``[kfp] import_from_dags`` / ``to_dag(import_from_dags=...)``);
- by the cache, which is scoped (``cache.scope``): a hit never names or serves another DAG's paths.

Data outside every artifact root (an importer's ``gs://`` model, a shared bucket) belongs to no DAG
here; who may read it is that store's business.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_kfp.core.errors import AirflowKfpError
from airflow_kfp.stores.layout import StoredPlace, place_by_shape, place_in_root

__all__ = [
    "ArtifactAccessError",
    "check_import",
    "check_input_record",
    "import_patterns",
    "stored_place",
]


class ArtifactAccessError(AirflowKfpError, PermissionError):
    """A task was about to read stored data its DAG may not read; the message names the fix."""


def import_patterns(text: str) -> tuple[str, ...]:
    """``[kfp] import_from_dags``: comma-separated DAG ids or shell patterns (``churn-*``; ``*`` any)."""
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def stored_place(uri: str, roots: Iterable[str]) -> StoredPlace | None:
    """Where ``uri`` lies in the first of ``roots`` that holds it; None when it is in none."""
    for root in roots:
        if not root:
            continue
        place = place_in_root(uri, root)
        if place is not None:
            return place
    return None


def _owner_text(place: StoredPlace) -> str:
    dag = place.dag_id()
    return f"DAG '{dag}'" if dag is not None else f"the DAG stored as '{place.dag_segment}'"


def _allowed(place: StoredPlace, dag_id: str, patterns: tuple[str, ...]) -> bool:
    if place.owned_by(dag_id):
        return True
    owner = place.dag_id()
    for pattern in patterns:
        if owner is not None and fnmatch.fnmatchcase(owner, pattern):
            return True
        if place.dag_segment is not None and place.owned_by(pattern):
            return True
    return False


def check_import(uri: str, *, roots: Iterable[str], dag_id: str, import_from: str, where: str) -> None:
    """Refuse an imported ``uri`` that lies in an artifact root but not in this DAG's own outputs
    (nor in those of a DAG ``import_from`` names). A URI in no root this worker knows that still has
    the shape of a stored output (another DAG's own ``artifact_root``) names its DAG all the same.
    Data outside every root passes: it is no DAG's."""
    place = stored_place(uri, roots) or place_by_shape(uri)
    if place is None:
        return
    patterns = import_patterns(import_from)
    if place.dag_segment is None:
        what = (
            "the cache index"
            if place.in_index
            else "a folder of the artifact root that belongs to no single DAG run"
            if place.well_formed
            else "a path with '.', '..' or empty segments"
        )
        raise ArtifactAccessError(
            f"{where}: {uri} is {what} under the artifact root {place.root}; an importer reads only data "
            "outside the root or the stored outputs of a DAG run. Pass the URI of one output (from a "
            "manifest), or publish the data outside the artifact root."
        )
    if _allowed(place, dag_id, patterns):
        return
    raise ArtifactAccessError(
        f"{where}: {uri} is an output stored by {_owner_text(place)} under the artifact root {place.root}, "
        f"and this task's DAG '{dag_id}' may not import other DAGs' outputs: whoever may run this DAG could "
        "otherwise read data of DAGs they may not see. Pass an output of this DAG or data outside the "
        "artifact root; or, if this DAG is meant to read that DAG's outputs, say so explicitly with "
        f"to_dag(..., import_from_dags='{place.dag_id() or '<dag id>'}') or [kfp] import_from_dags "
        "(see docs/operating/security.md)."
    )


def check_input_record(
    record: Mapping[str, Any], *, roots: Iterable[str], dag_id: str, import_from: str, where: str
) -> None:
    """An input artifact named by an upstream manifest must be where its producer wrote it: a task
    output inside a try folder of the producing task of this DAG (its own run, or an earlier run whose
    result the cache reused), an import by the importer's rule. Checked before a byte is read."""
    uri = record.get("uri")
    if not isinstance(uri, str) or not uri:
        return
    roots = list(roots)
    if record.get("external"):
        check_import(uri, roots=roots, dag_id=dag_id, import_from=import_from, where=where)
        return
    place = stored_place(uri, roots)
    producer = record.get("producer") or {}
    map_index = producer.get("map_index")
    if place is not None and place.owned_by(dag_id):
        if not producer:
            return
        if producer.get("dag_id") == dag_id and place.in_task_folder(
            dag_id,
            str(producer.get("run_id")),
            str(producer.get("task_id")),
            map_index if isinstance(map_index, int) else -1,
        ):
            return
    raise ArtifactAccessError(
        f"{where}: the input artifact at {uri} is not in its producer's own output location in this DAG's "
        f"artifact root ({', '.join(r for r in roots if r)}), so it is not read: a manifest or cache entry "
        "naming it was changed or forged. Clear the producing task so it writes its outputs again."
    )
