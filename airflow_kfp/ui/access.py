"""Who may see what: every endpoint asks Airflow's auth manager, as the api-server's own routes do.

A user sees a DAG's runs, manifests and artifacts only when the auth manager lets them read the DAG,
its runs, its task instances and its XComs (the manifests live in XCom).
"""

from __future__ import annotations

from collections.abc import Collection

from fastapi import HTTPException, status
from sqlalchemy.orm import Session

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
