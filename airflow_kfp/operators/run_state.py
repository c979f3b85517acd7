"""The run's final state as KFP decides it: the run fails when any task of the pipeline failed.

Airflow derives a run's state from its leaf tasks. A failure followed by a task that runs anyway (a
task with ``ignore_upstream_failure()``, trigger rule ``all_done``) or by an ExitHandler's exit task
(a teardown, whose own failure Airflow ignores) would therefore end the run ``success``, where KFP
marks it failed. Pipelines holding such tasks get this last task: it runs whatever happened
(``all_done``), reads the states of the pipeline's own tasks in this run, and fails when one of them
failed, so the run (or the group that ``to_task_group`` placed) ends failed, as in KFP.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import BaseOperator

from airflow_kfp.planning.plan import RUN_STATE_TASK_ID

__all__ = ["RUN_STATE_TASK_ID", "RunStateOperator"]

FAILED_STATES = frozenset({"failed", "upstream_failed"})


class RunStateOperator(BaseOperator):
    """Fails when a watched task failed (or could not run because an upstream one failed)."""

    ui_color = "#f3e8fd"

    def __init__(self, *, pipeline_name: str, watched_task_ids: Sequence[str], **kwargs: Any) -> None:
        kwargs.setdefault("trigger_rule", "all_done")
        kwargs.setdefault("retries", 0)
        super().__init__(**kwargs)
        self.pipeline_name = pipeline_name
        self.watched_task_ids = list(watched_task_ids)

    def execute(self, context: Any) -> dict[str, Any]:
        ti = context["ti"]
        run_id = str(context["run_id"])
        found = ti.get_task_states(dag_id=ti.dag_id, task_ids=self.watched_task_ids, run_ids=[run_id])
        states = {name: str(state) for name, state in (found.get(run_id) or {}).items()}
        failed = sorted(name for name, state in states.items() if state in FAILED_STATES)
        if failed:
            raise AirflowFailException(
                f"pipeline '{self.pipeline_name}': {', '.join(f'{n} ({states[n]})' for n in failed)}; the run "
                f"fails, as in KFP, although later tasks (exit handlers, tasks ignoring upstream failures) ran."
            )
        self.log.info("pipeline '%s': no task failed (%d task instances checked).", self.pipeline_name, len(states))
        return {"failed": [], "checked": len(states)}
