"""The run graph and lineage routes (issue 24), kept apart from the experiments routes in ``app``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status

from airflow_kfp.ui import answers, data
from airflow_kfp.ui.access import Visibility, readable_dag_ids, require_readable
from airflow_kfp.ui.deps import Session, User
from airflow_kfp.ui.graph import run_graph
from airflow_kfp.ui.lineage import lineage

router = APIRouter()
Name = Annotated[str, Query(min_length=1, max_length=250)]


def graph_answer(
    session: Any, dag_id: str, run_id: str, readable: set[str], visible: answers.Visible | None = None
) -> dict[str, Any]:
    """The run graph: what ``GET /api/graph`` answers once the caller may read the DAG; with
    ``visible``, each manifest is first reduced to what the caller may see (``access.Visibility``),
    as run details do."""
    row = answers._one_run(session, dag_id, run_id)
    answers._fill_versions(session, [row])
    version = data.versions(session, [row.version_id]).get(row.version_id or "")
    steps = data.steps_of_run(session, row)
    if visible is not None:
        for step in steps:
            if step.manifest is not None:
                step.manifest = visible(dag_id, step.manifest)
    return run_graph(dag_id, run_id, version, steps, readable)


@router.get("/api/graph", summary="A run's graph: task and artifact nodes, groups, states, cache, per-node details")
def graph(user: User, session: Session, dag_id: Name, run_id: Name) -> dict[str, Any]:
    require_readable(user, dag_id, session)
    return graph_answer(session, dag_id, run_id, readable_dag_ids(user, session), Visibility(user, session).manifest)


@router.get(
    "/api/lineage",
    summary="An artifact's or a run's lineage across runs and DAGs the caller may read: producers, inputs, consumers",
)
def lineage_route(
    user: User,
    session: Session,
    dag_id: Name,
    run_id: Name,
    task_id: Annotated[str | None, Query(min_length=1, max_length=250)] = None,
    output: Annotated[str | None, Query(min_length=1, max_length=250)] = None,
    map_index: int = -1,
) -> dict[str, Any]:
    require_readable(user, dag_id, session)
    if (task_id is None) != (output is None):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "name an artifact with both task_id and output, or neither")
    answers._one_run(session, dag_id, run_id)  # 404 for an unknown run
    readable = readable_dag_ids(user, session)
    if task_id is not None and output is not None:
        found = lineage(session, readable, artifact=(dag_id, run_id, task_id, map_index, output))
        if not found["found"]:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such artifact in this run's manifests")
        return found
    return lineage(session, readable, run=(dag_id, run_id))
