"""Run a pipeline model here and now, without an Airflow database, scheduler or DAG run.

The same plan the DAG compiler builds from (``compiler.plan``: tasks, groups, bindings, gates, trigger
rules, retries, loops) is executed in this process by a small scheduler, with the same operators a
DAG holds (``compiler.build.operator_arguments``): the component operator's ``execute`` resolves the
inputs with the one resolver, asks the cache, runs the component through the local runner and the
package's launcher, and publishes its manifest; the condition, loop-items, importer and run-state
operators do what they do in a DAG. What Airflow's scheduler and task instances would provide is
provided here by :class:`LocalTaskInstance` (XCom kept in memory, task states) and the scheduling
rules Airflow applies (trigger rules, mapped groups, skip propagation, teardown tasks, retries).
"""

from __future__ import annotations

import datetime
import logging
import secrets
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_kfp.local.config import LocalExecutionConfig
from airflow_kfp.planning.plan import GroupPlan, OperatorFamily, PipelinePlan, TaskPlan
from airflow_kfp.runtime import placeholders

log = logging.getLogger("airflow_kfp.local")

SUCCESS = "success"
FAILED = "failed"
SKIPPED = "skipped"
UPSTREAM_FAILED = "upstream_failed"
_FAILED = frozenset({FAILED, UPSTREAM_FAILED})
LOCAL_DAG_ID = "kfp-local"
"""The DAG id local runs record (in artifact paths, cache entries and manifests)."""

InstanceKey = tuple[str, int]


@dataclass
class LocalRun:
    """One local run: its identity, every task instance's state and manifest, and the errors raised."""

    pipeline_name: str
    run_id: str
    resource_name: str
    pipeline_root: str
    state: str = SUCCESS
    states: dict[str | tuple[str, int], str] = field(default_factory=dict)
    """By Airflow task id (a mapped task: by (task id, map index)), as ``dag.test()`` results are keyed."""
    manifests: dict[str | tuple[str, int], Any] = field(default_factory=dict)
    errors: dict[str | tuple[str, int], BaseException] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    """The pipeline's outputs as manifest values (parameters) or records (artifacts)."""

    def failed_tasks(self) -> list[str]:
        return [str(k if isinstance(k, str) else f"{k[0]}[{k[1]}]") for k, s in self.states.items() if s == FAILED]


class LocalTaskInstance:
    """What the operators use of Airflow's task instance: identity, XCom and the run's task states."""

    def __init__(self, run: _Scheduler, task_id: str, map_index: int, try_number: int) -> None:
        self._run = run
        self.task_id = task_id
        self.dag_id = LOCAL_DAG_ID
        self.run_id = run.result.run_id
        self.map_index = map_index
        self.try_number = try_number
        self.id = str(uuid.uuid4())

    def xcom_push(self, key: str, value: Any) -> None:
        self._run.xcoms[(self.task_id, self.map_index, key)] = value

    def xcom_pull(
        self,
        task_ids: str | Sequence[str] | None = None,
        key: str = "return_value",
        map_indexes: int | Sequence[int] | None = None,
        **_: Any,
    ) -> Any:
        xcoms = self._run.xcoms
        if isinstance(task_ids, str):
            if isinstance(map_indexes, int):
                return xcoms.get((task_ids, map_indexes, key))
            if map_indexes is not None:
                return [xcoms.get((task_ids, i, key)) for i in map_indexes]
            found = self._run.instance_values(task_ids, key)
            return found[0] if len(found) == 1 and (task_ids, -1, key) in xcoms else found
        values: list[Any] = []
        for task_id in task_ids or ():
            if isinstance(map_indexes, int):
                values.append(xcoms.get((task_id, map_indexes, key)))
            else:
                values.extend(self._run.instance_values(task_id, key))
        return values

    def get_task_states(
        self, dag_id: str | None = None, task_ids: Sequence[str] = (), run_ids: Sequence[str] = (), **_: Any
    ) -> dict[str, dict[str, str]]:
        wanted = set(task_ids)
        states: dict[str, str] = {}
        for (task_id, map_index), state in self._run.states.items():
            if task_id in wanted:
                states[task_id if map_index < 0 else f"{task_id}_{map_index}"] = state
        return {self.run_id: states}


@dataclass
class _DagRun:
    dag_id: str
    run_id: str
    conf: dict[str, Any]
    start_date: datetime.datetime
    run_after: datetime.datetime
    logical_date: datetime.datetime


class _Scheduler:
    """Airflow's scheduling rules over one plan, in this process, one task instance at a time."""

    def __init__(
        self,
        plan: PipelinePlan,
        params: Mapping[str, Any],
        config: LocalExecutionConfig,
        operator_classes: Any,
        settings_overrides: Mapping[str, Any],
    ) -> None:
        self.plan = plan
        self.params = dict(params)
        self.config = config
        self.classes = operator_classes
        self.settings_overrides = dict(settings_overrides)
        now = datetime.datetime.now(datetime.UTC)
        run_id = f"local__{now.strftime('%Y-%m-%dT%H-%M-%S')}-{secrets.token_hex(4)}"
        self.result = LocalRun(
            pipeline_name=plan.pipeline_name,
            run_id=run_id,
            resource_name=placeholders.job_resource_name(plan.pipeline_name, f"{LOCAL_DAG_ID}/{run_id}"),
            pipeline_root=config.pipeline_root,
        )
        self.dag_run = _DagRun(LOCAL_DAG_ID, run_id, {}, now, now, now)
        self.xcoms: dict[tuple[str, int, str], Any] = {}
        self.states: dict[InstanceKey, str] = {}
        self.tasks = {t.task_id: t for t in plan.tasks}
        self.groups = {g.group_id: g for g in plan.groups}
        self.upstream = self._edges()

    # -- the graph, as Airflow links it ------------------------------------------------------------
    def _members(self, group_id: str) -> list[str]:
        prefix = group_id + "."
        return [t for t in self.tasks if self._group_of(t, group_id) or t.startswith(prefix)]

    def _group_of(self, task_id: str, group_id: str) -> bool:
        group = self.tasks[task_id].group
        while group is not None:
            if group == group_id:
                return True
            group = self.groups[group].parent if group in self.groups else None
        return False

    def _edges(self) -> dict[str, set[str]]:
        """Task id -> the task ids it follows: a group named upstream stands for its leaves (Airflow's
        ``group >> task``), a group's own upstream is followed by its roots."""
        direct: dict[str, set[str]] = {t: set() for t in self.tasks}
        group_edges: list[tuple[str, str]] = []
        for planned in self.plan.tasks:
            for node in planned.upstream:
                if node in self.tasks:
                    direct[planned.task_id].add(node)
                else:
                    group_edges.append((node, planned.task_id))
        members = {g: self._members(g) for g in self.groups}

        def leaves(group_id: str) -> set[str]:
            inside = set(members[group_id])
            found = {m for m in inside if not any(m in direct[o] for o in inside if o != m)}
            plain = {m for m in found if not self.tasks[m].teardown}
            return plain or found

        for group_id, task_id in group_edges:
            direct[task_id] |= leaves(group_id) if group_id in members else set()
        for group_id, group in self.groups.items():
            inside = set(members[group_id])
            roots = [m for m in inside if not direct[m] & inside]
            for node in group.upstream:
                sources = {node} if node in self.tasks else leaves(node) if node in members else set()
                for root in roots:
                    direct[root] |= sources - {root}
        return direct

    def instance_values(self, task_id: str, key: str) -> list[Any]:
        found = sorted((i, v) for (t, i, k), v in self.xcoms.items() if t == task_id and k == key)
        return [v for _, v in found]

    # -- mapping ---------------------------------------------------------------------------------
    def _loop_items(self, group: GroupPlan) -> list[Any] | str:
        """The items a loop expands over, or the state the whole mapped task takes when there are none
        to read (its items task was skipped or failed)."""
        if group.loop_items is not None:
            return list(group.loop_items.value)
        assert group.items_task is not None
        state = self.states.get((group.items_task, -1))
        if state != SUCCESS:
            return UPSTREAM_FAILED if state in _FAILED else SKIPPED
        value = self.xcoms.get((group.items_task, -1, "return_value"))
        return list(value or [])

    # -- trigger rules ---------------------------------------------------------------------------
    def _upstream_states(self, planned: TaskPlan, map_index: int) -> list[str]:
        found: list[str] = []
        for up in self.upstream[planned.task_id]:
            up_loop = self.tasks[up].loop
            same = planned.loop is not None and up_loop == planned.loop and map_index >= 0
            for (task_id, index), state in self.states.items():
                if task_id == up and (not same or index == map_index or index < 0):
                    found.append(state)
        return found

    @staticmethod
    def _decide(rule: str | None, upstream: list[str]) -> str | None:
        """None: run; else the state Airflow gives the instance without running it."""
        failed = any(s in _FAILED for s in upstream)
        if rule in ("all_done", "teardown", "always"):
            return None
        if rule == "none_failed":
            return UPSTREAM_FAILED if failed else None
        if rule == "none_failed_min_one_success":
            if failed:
                return UPSTREAM_FAILED
            return SKIPPED if upstream and SUCCESS not in upstream else None
        if rule not in (None, "all_success"):
            raise RuntimeError(f"airflow_kfp.local: trigger rule {rule!r} is not one the planner gives")
        if failed:
            return UPSTREAM_FAILED
        return SKIPPED if any(s == SKIPPED for s in upstream) else None

    # -- running ---------------------------------------------------------------------------------
    def run(self) -> LocalRun:
        pending = [t.task_id for t in self.plan.tasks]
        while pending:
            ready = next((t for t in pending if all(self._done(u) for u in self.upstream[t])), None)
            if ready is None:  # the plan is a DAG; this only guards against a planning bug
                raise RuntimeError(f"pipeline '{self.plan.pipeline_name}': tasks {pending} can never start")
            pending.remove(ready)
            self._run_task(self.tasks[ready])
        return self._finish()

    def _done(self, task_id: str) -> bool:
        return any(t == task_id for t, _ in self.states)

    def _run_task(self, planned: TaskPlan) -> None:
        if planned.loop is None:
            self._run_instance(planned, -1, None)
            return
        group = self.groups[planned.loop]
        items = self._loop_items(group)
        if isinstance(items, str):
            self.states[(planned.task_id, -1)] = items
            return
        if not items:  # Airflow maps nothing: the task is skipped (KFP: the loop ran zero times)
            self.states[(planned.task_id, -1)] = SKIPPED
            return
        for index, item in enumerate(items):
            self._run_instance(planned, index, (group, item))

    def _run_instance(self, planned: TaskPlan, map_index: int, loop: tuple[GroupPlan, Any] | None) -> None:
        key = (planned.task_id, map_index)
        externals: dict[str, Any] = {}
        mapped_item: dict[str, Any] = {}
        if loop is not None:
            group, item = loop
            if group.mapped_task == planned.task_id:
                mapped_item = {"loop_key": group.loop_key, "loop_item": item}
            else:
                externals[group.loop_key] = item
        missing = [k for k in planned.external_keys if k not in externals]
        if missing:
            raise RuntimeError(
                f"pipeline '{self.plan.pipeline_name}', task '{planned.task_id}': it reads values given from "
                f"outside the pipeline ({missing}); airflow_kfp.local runs whole pipelines only."
            )
        operator = self._operator(planned, externals, mapped_item)
        rule = "teardown" if planned.teardown else str(getattr(operator.trigger_rule, "value", operator.trigger_rule))
        decided = self._decide(rule, self._upstream_states(planned, map_index))  # the operator's own rule
        if decided is not None:
            self.states[key] = decided
            return
        retries = planned.retry.retries if planned.retry is not None else 0
        for try_number in range(1, retries + 2):
            ti = LocalTaskInstance(self, planned.task_id, map_index, try_number)
            try:
                value = _execute(operator, self._context(ti))
            except BaseException as exc:
                if _is_skip(exc):
                    self.states[key] = SKIPPED
                    return
                if isinstance(exc, KeyboardInterrupt | SystemExit):
                    raise
                retry = try_number <= retries and not _is_fail_now(exc)
                self._log_failure(planned, map_index, try_number, exc, retry)
                if retry:
                    time.sleep(_retry_delay(planned, try_number))
                    continue
                self.states[key] = FAILED
                self.result.errors[self._result_key(planned, map_index)] = exc
                return
            self.xcoms[(planned.task_id, map_index, "return_value")] = value
            self.states[key] = SUCCESS
            if isinstance(value, dict) and "parameters" in value:
                self.result.manifests[self._result_key(planned, map_index)] = value
            return

    def _log_failure(self, planned: TaskPlan, map_index: int, try_number: int, exc: BaseException, retry: bool) -> None:
        where = planned.task_id if map_index < 0 else f"{planned.task_id}[{map_index}]"
        then = "retrying" if retry else "failed"
        log.error("Task %s try %d %s: %s", where, try_number, then, exc)

    @staticmethod
    def _result_key(planned: TaskPlan, map_index: int) -> str | tuple[str, int]:
        return planned.task_id if map_index < 0 else (planned.task_id, map_index)

    def _operator(self, planned: TaskPlan, externals: dict[str, Any], mapped_item: dict[str, Any]) -> Any:
        from airflow_kfp.compiler.build import operator_arguments

        common = {"task_id": planned.task_id, "external_arguments": externals}
        cls, kwargs = operator_arguments(
            planned,
            self.plan,
            self.classes,
            common,
            settings=None,
            settings_overrides=self.settings_overrides,
        )
        for dropped in ("retries", "retry_delay", "retry_exponential_backoff", "max_retry_delay", "outlets"):
            kwargs.pop(dropped, None)  # retries are this scheduler's; assets are Airflow's
        return cls(**kwargs, **mapped_item)

    def _context(self, ti: LocalTaskInstance) -> dict[str, Any]:
        return {
            "ti": ti,
            "task_instance": ti,
            "run_id": self.result.run_id,
            "params": self.params,
            "dag_run": self.dag_run,
            "logical_date": self.dag_run.logical_date,
            "dag": None,
        }

    def _finish(self) -> LocalRun:
        result = self.result
        for (task_id, map_index), state in self.states.items():
            planned = self.tasks[task_id]
            if planned.family == OperatorFamily.RUN_STATE:
                continue  # its verdict is the run's state, below
            result.states[task_id if map_index < 0 else (task_id, map_index)] = state
        failed = any(s == FAILED for (t, _), s in self.states.items())
        result.state = FAILED if failed else SUCCESS
        return result


def _execute(operator: Any, context: dict[str, Any]) -> Any:
    """``operator.execute(context)`` as Airflow's task runner calls it (its safeguard's sentinel given)."""
    try:
        from airflow.sdk.bases.operator import ExecutorSafeguard
    except ImportError:  # pragma: no cover - older task SDKs have no safeguard
        return operator.execute(context)
    return operator.execute(context, **{f"{type(operator).__name__}__sentinel": ExecutorSafeguard.sentinel_value})


def _retry_delay(planned: TaskPlan, try_number: int) -> float:
    """Seconds before the next try, as ``set_retry`` asks (KFP: backoff_duration times backoff_factor per
    try, at most backoff_max_duration); the IR's default backoff is 0s, so usually none."""
    retry = planned.retry
    if retry is None:
        return 0.0
    delay = retry.retry_delay.total_seconds() * (retry.retry_exponential_backoff or 1) ** (try_number - 1)
    return min(delay, retry.max_retry_delay.total_seconds())


def _is_skip(exc: BaseException) -> bool:
    return type(exc).__name__ in ("AirflowSkipException", "DownstreamTasksSkipped")


def _is_fail_now(exc: BaseException) -> bool:
    return type(exc).__name__ == "AirflowFailException"


def run_plan(
    plan: PipelinePlan, params: Mapping[str, Any], config: LocalExecutionConfig
) -> tuple[LocalRun, _Scheduler]:
    """Run a planned pipeline to the end and return what happened (no exception for failed tasks)."""
    from airflow_kfp.compiler.build import OperatorClasses
    from airflow_kfp.local.runners import component_operator

    overrides: dict[str, Any] = {
        **config.settings,
        "runner": "local",
        "artifact_root": config.pipeline_root,
        "enable_caching": config.enable_caching,
    }
    classes = OperatorClasses.for_runner(component_operator(config.runner))
    scheduler = _Scheduler(plan, params, config, classes, overrides)
    return scheduler.run(), scheduler
