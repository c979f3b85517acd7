"""Who may see what: every endpoint asks Airflow's auth manager, as the api-server's own routes do.

A user sees a DAG's runs, manifests and artifacts only when the auth manager lets them read the DAG,
its runs, its task instances and its XComs (the manifests live in XCom). An artifact is served only
when the user may also read every DAG that owns it (``airflow_kfp.access``: the DAG its URI lies
under in the artifact root, the producer it records); run details hide what names a DAG they may not
read (another DAG's cache source or artifact URIs). The ui pages use these functions, nothing else.
"""

from __future__ import annotations

import copy
from collections.abc import Collection
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

from airflow_kfp.access import stored_place
from airflow_kfp.stores.layout import encode_segment, place_by_shape

_ENTITIES = ("RUN", "TASK_INSTANCE", "XCOM")


def _auth_manager():  # type: ignore[no-untyped-def]
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def _may_read(user: object, dag_id: str, team_name: str | None) -> bool:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    manager = _auth_manager()
    details = DagDetails(id=dag_id, team_name=team_name)
    if not manager.is_authorized_dag(method="GET", details=details, user=user):
        return False
    return all(
        manager.is_authorized_dag(method="GET", access_entity=DagAccessEntity[e], details=details, user=user)
        for e in _ENTITIES
    )


def readable_dag_ids(user: object, session: Session, candidates: Collection[str] | None = None) -> set[str]:
    """DAG ids the user may read with their runs, task instances and XComs."""
    from airflow.models.dag import DagModel

    readable = set(_auth_manager().get_authorized_dag_ids(user=user, method="GET", session=session))
    if candidates is not None:
        readable &= set(candidates)
    teams = DagModel.get_dag_id_to_team_name_mapping(list(readable), session=session) if readable else {}
    return {d for d in readable if _may_read(user, d, teams.get(d))}


def require_readable(user: object, dag_id: str, session: Session) -> None:
    """403 unless the user may read the DAG (and its runs, task instances, XComs): asked before
    anything is looked up, so the answer never tells whether a DAG exists."""
    if not readable_dag_ids(user, session, [dag_id]):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Forbidden: you may not read this DAG's runs")


def _roots() -> list[str]:
    from airflow_kfp.config import load_settings

    return [load_settings().resolved_artifact_root()]


def record_owners(record: dict[str, Any], dag_id: str) -> tuple[set[str], set[str], str | None]:
    """Who owns the artifact a manifest of ``dag_id`` names: (DAG ids, DAG segments whose id is not
    spelled out in the path, why it is never served or None). The manifest's DAG, the producer it
    records, and the DAG whose folder of the artifact root holds the URI."""
    ids: set[str] = {dag_id}
    segments: set[str] = set()
    producer = record.get("producer")
    if isinstance(producer, dict) and producer.get("dag_id"):
        ids.add(str(producer["dag_id"]))
    uri = record.get("uri")
    if not isinstance(uri, str) or not uri:
        return ids, segments, None
    place = stored_place(uri, _roots())
    if place is None:
        shaped = place_by_shape(uri)  # under a DAG's own artifact_root: its path still names its DAG
        if shaped is not None and shaped.dag_segment is not None:
            owner = shaped.dag_id()
            if owner is not None:
                ids.add(owner)
            else:
                segments.add(shaped.dag_segment)
        if record.get("external"):
            return (
                ids,
                segments,
                ("an imported artifact outside the artifact root is not served by the UI; read it from its own store"),
            )
        return ids, segments, None  # a DAG with its own artifact_root: its manifest and producer decide
    if place.dag_segment is None:
        return ids, segments, "the artifact's URI is in no DAG run's folder of the artifact root"
    owner = place.dag_id()
    if owner is not None:
        ids.add(owner)
    else:
        segments.add(place.dag_segment)
    return ids, segments, None


class Visibility:
    """What one user may see of manifests: answers from the auth manager, asked once per DAG."""

    def __init__(self, user: object, session: Session) -> None:
        self.user, self.session = user, session
        self._known: dict[str, bool] = {}
        self._all: set[str] | None = None

    def may_read(self, ids: Collection[str], segments: Collection[str] = ()) -> bool:
        unknown = [d for d in ids if d not in self._known]
        if unknown:
            readable = readable_dag_ids(self.user, self.session, unknown)
            self._known.update({d: d in readable for d in unknown})
        if not all(self._known[d] for d in ids):
            return False
        if segments:  # a shortened DAG segment: it is one of the readable DAGs', or not readable
            if self._all is None:
                self._all = readable_dag_ids(self.user, self.session)
            encoded = {encode_segment(d) for d in self._all}
            return all(s in encoded for s in segments)
        return True

    def check_artifact(self, dag_id: str, record: dict[str, Any]) -> None:
        """403 unless the user may read every DAG that owns the artifact."""
        ids, segments, refused = record_owners(record, dag_id)
        if refused is not None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, refused)
        if not self.may_read(ids, segments):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, "Forbidden: this artifact was written by a DAG you may not read"
            )

    def manifest(self, dag_id: str, manifest: dict[str, Any]) -> dict[str, Any]:
        """``manifest`` as this user may see it: another DAG's cache source they may not read is not
        named, and an artifact they may not read keeps only its name and type."""
        cache = manifest.get("cache") or {}
        source = cache.get("source_dag_id")
        hide_source = bool(source) and source != dag_id and not self.may_read([str(source)])
        hidden = {}
        for name, record in (manifest.get("artifacts") or {}).items():
            if isinstance(record, dict):
                ids, segments, refused = record_owners(record, dag_id)
                if refused is None and self.may_read(ids, segments):
                    continue
                if (
                    refused is not None
                    and record.get("external")
                    and stored_place(str(record.get("uri")), _roots()) is None
                ):
                    continue  # an import from outside the root: listed (its URI is the run's own input), not served
                hidden[name] = {"type": record.get("type"), "hidden": True}
        inputs: dict[str, list[Any]] = {}
        for name, refs in (manifest.get("input_artifacts") or {}).items():
            if not isinstance(refs, list):
                continue
            shown = [self._input_ref(dag_id, ref) for ref in refs]
            if any(a is not b for a, b in zip(shown, refs, strict=True)):
                inputs[name] = shown
        if not hide_source and not hidden and not inputs:
            return manifest
        seen = copy.deepcopy(manifest)
        if inputs:
            seen["input_artifacts"] = {**seen.get("input_artifacts", {}), **inputs}
        if hide_source:
            seen["cache"] = {
                **cache,
                "source_dag_id": None,
                "source_run_id": None,
                "source_task_id": None,
                "source_map_index": None,
                "source_hidden": True,
            }
        seen.setdefault("artifacts", {}).update(hidden)
        return seen

    def _input_ref(self, dag_id: str, ref: Any) -> Any:
        """An input a step read, as this user may see it: without its URI and producer when a DAG
        they may not read owns it (an import of another DAG's output)."""
        if not isinstance(ref, dict):
            return ref
        ids, segments, refused = record_owners(ref, dag_id)
        if self.may_read(ids, segments) and (refused is None or stored_place(str(ref.get("uri")), _roots()) is None):
            return ref
        return {**ref, "uri": None, "producer": None, "source_hidden": True}
