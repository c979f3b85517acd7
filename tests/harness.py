"""Run DAGs for real through ``dag.test()`` on SQLite and read back what they produced.

``dag.test()`` in Airflow 3 re-parses the DAG's bundle (the dags folder) to serialise it, so each run
writes a small DAG file that imports the pipeline from a test module, clears the folder of earlier
files, and runs the DAG object imported from that very file.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_counter = itertools.count()


def scheduler_dag(dag: Any) -> Any:
    """The DAG as the scheduler sees it: serialised and read back (Airflow 3.3 names the serialiser
    ``DagSerialization``; 3.1 and 3.2 ``SerializedDAG``)."""
    from airflow.serialization import serialized_objects

    serializer = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG
    return serializer.deserialize_dag(serializer.serialize_dag(dag))


@dataclass
class RunResult:
    dag: Any
    dag_run: Any
    states: dict[str, str]
    manifests: dict[str, Any] = field(default_factory=dict)

    @property
    def state(self) -> str:
        return str(self.dag_run.state)

    def manifest(self, task_id: str, map_index: int = -1) -> dict[str, Any]:
        return self.manifests[(task_id, map_index)] if map_index >= 0 else self.manifests[task_id]

    def task_instance(self, task_id: str, map_index: int = -1) -> Any:
        """The run's task instance (with its try number, dates and state) as the metadata DB holds it."""
        from airflow.utils.session import create_session

        with create_session() as session:
            return next(
                t
                for t in self.dag_run.get_task_instances(session=session)
                if t.task_id == task_id and t.map_index == map_index
            )

    def artifact_path(self, task_id: str, output: str) -> Path:
        uri = self.manifest(task_id)["artifacts"][output]["uri"]
        assert uri.startswith("file://"), uri
        return Path(uri[len("file://") :])


class DagRunner:
    def __init__(self, dags_folder: Path) -> None:
        self.dags_folder = dags_folder

    def load(self, source: str) -> Any:
        """Write a DAG file (Python source defining ``dag``) and import it."""
        for old in self.dags_folder.glob("*.py"):
            old.unlink()
        name = f"kfp_test_dag_{next(_counter)}"
        path = self.dags_folder / f"{name}.py"
        path.write_text(source)
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module.dag

    def dag_source(self, pipeline_ref: str, **to_dag_kwargs: Any) -> str:
        """``pipeline_ref`` is ``"tests.pipelines.module:attribute"``."""
        module, attr = pipeline_ref.split(":")
        kwargs = ", ".join(f"{k}={v!r}" for k, v in to_dag_kwargs.items())
        return (
            "import datetime\n"
            "from airflow_kfp import to_dag\n"
            f"from {module} import {attr} as pipeline\n"
            f"dag = to_dag(pipeline, start_date=datetime.datetime(2024, 1, 1), {kwargs})\n"
        )

    def run(self, dag: Any, conf: dict[str, Any] | None = None) -> RunResult:
        dag_run = dag.test(run_conf=conf)
        return self.collect(dag, dag_run)

    def run_pipeline(self, pipeline_ref: str, conf: dict[str, Any] | None = None, **to_dag_kwargs: Any) -> RunResult:
        dag = self.load(self.dag_source(pipeline_ref, **to_dag_kwargs))
        return self.run(dag, conf)

    def clear_and_resume(self, dag: Any, dag_run: Any, task_ids: list[str]) -> RunResult:
        """Clear ``task_ids`` of a finished run the way the UI's Clear / the REST API do (select with
        ``dag.clear(dry_run=True)``, then ``clear_task_instances``), and run that same run again,
        with ``dag.test()``'s scheduling loop, until it finishes."""
        import time as _time

        from airflow import settings
        from airflow.models.dagrun import DagRun
        from airflow.models.taskinstance import clear_task_instances
        from airflow.sdk.definitions.dag import _run_task
        from airflow.utils.state import DagRunState, TaskInstanceState
        from sqlalchemy import select

        scheduler_copy = scheduler_dag(dag)
        session = settings.Session()
        tis = scheduler_copy.clear(dry_run=True, task_ids=task_ids, run_id=dag_run.run_id, session=session)
        clear_task_instances(list(tis), session, DagRunState.QUEUED)
        session.commit()
        dr = session.scalar(select(DagRun).where(DagRun.id == dag_run.id))
        dr.dag = scheduler_copy
        dr.state = DagRunState.RUNNING  # what the scheduler does with a queued run
        session.commit()
        while dr.state == DagRunState.RUNNING:
            session.expire_all()
            schedulable, _ = dr.update_state(session=session)
            for ti in schedulable:
                ti.try_number += 1
                ti.state = TaskInstanceState.SCHEDULED
            session.commit()
            scheduled = [ti for ti in dr.get_task_instances(session=session) if ti.state == TaskInstanceState.SCHEDULED]
            if not scheduled:
                _time.sleep(0.2)
            for ti in scheduled:
                try:
                    _run_task(ti=ti, task=dag.task_dict[ti.task_id])
                except Exception:  # the task's state says it failed; the loop goes on like dag.test()
                    pass
        return self.collect(dag, dr)

    def collect(self, dag: Any, dag_run: Any) -> RunResult:
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        states: dict[str, str] = {}
        manifests: dict[Any, Any] = {}
        with create_session() as session:
            for ti in dag_run.get_task_instances(session=session):
                key = ti.task_id if ti.map_index < 0 else (ti.task_id, ti.map_index)
                states[key] = str(ti.state) if ti.state is not None else "none"
            rows = session.scalars(
                XComModel.get_many(run_id=dag_run.run_id, dag_ids=dag.dag_id, key="return_value")
            ).all()
            for row in rows:
                value = XComModel.deserialize_value(row)
                if isinstance(value, str):
                    try:
                        value = json.loads(value)
                    except ValueError:  # a plain Airflow task's string result
                        pass
                key = row.task_id if row.map_index < 0 else (row.task_id, row.map_index)
                manifests[key] = value
        return RunResult(dag=dag, dag_run=dag_run, states=states, manifests=manifests)
