"""A component or pipeline called outside ``@dsl.pipeline`` after ``local.init``: run it now, here.

As in kfp.local (``task_dispatcher.run_single_task`` / ``pipeline_orchestrator.run_local_pipeline``), a
component runs as the one-task pipeline KFP compiles it into, a pipeline as itself; both go through
the same plan and scheduler (``orchestrator``) and come back as a :class:`LocalTask` whose outputs are
values: parameters as Python values, artifacts as ``dsl`` artifact objects (``.path``, ``.uri``,
``.metadata``).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from airflow_kfp.core import artifacts as rt_artifacts
from airflow_kfp.local.config import LocalExecutionConfig

if TYPE_CHECKING:
    from airflow_kfp.dsl.components import BaseComponent
    from airflow_kfp.local.orchestrator import LocalRun
    from airflow_kfp.spec.model import PipelineSpec

log = logging.getLogger("airflow_kfp.local")

FINAL = "FINAL"
"""kfp's ``TaskState.FINAL``: a task that ran locally (its configuration can no longer change)."""


def _artifact_classes() -> dict[str, type[rt_artifacts.Artifact]]:
    found: dict[str, type[rt_artifacts.Artifact]] = {}
    stack: list[type[rt_artifacts.Artifact]] = [rt_artifacts.Artifact]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.schema_title, cls)
        stack.extend(cls.__subclasses__())
    return found


def artifact_object(record: Mapping[str, Any], name: str) -> rt_artifacts.Artifact:
    """A manifest's artifact record as the ``dsl`` object kfp.local returns (its class by schema title)."""
    cls = _artifact_classes().get(str(record.get("type") or ""), rt_artifacts.Artifact)
    artifact = cls(name=name, uri=str(record.get("uri") or ""), metadata=dict(record.get("metadata") or {}))
    _RECORDS[artifact] = dict(record)
    return artifact


_RECORDS: weakref.WeakKeyDictionary[rt_artifacts.Artifact, dict[str, Any]] = weakref.WeakKeyDictionary()
"""The manifest record behind each artifact object a local call returned (held while the object lives)."""


def artifact_record(value: rt_artifacts.Artifact) -> dict[str, Any]:
    """An artifact object passed as an argument. One a local call returned keeps its manifest record
    (size, digest, producer), so it is staged from its store and verified like a DAG's upstream output;
    one made by hand (``dsl.Dataset(uri=...)``) is read where its URI says, as an importer records it."""
    known = _RECORDS.get(value)
    if known is not None and known.get("uri") == value.uri:
        return {**known, "metadata": dict(value.metadata)}
    return {"uri": value.uri, "type": value.schema_title, "metadata": dict(value.metadata), "external": True}


_MULTIPLE = "The task has multiple outputs. Please reference the output by its name."


class LocalTask:
    """What calling a component or pipeline locally returns: kfp.local's finished ``PipelineTask``.

    ``output`` / ``outputs`` hold values; ``state`` is ``"FINAL"`` as in kfp; ``succeeded`` and ``run``
    (every task instance's state, manifest and error) say what happened, beyond what kfp.local keeps."""

    state = FINAL

    def __init__(self, name: str, inputs: dict[str, Any], outputs: dict[str, Any], run: LocalRun) -> None:
        self.name = name
        self._inputs = inputs
        self._outputs = outputs
        self.run = run

    @property
    def inputs(self) -> dict[str, Any]:
        return self._inputs

    @property
    def outputs(self) -> dict[str, Any]:
        return self._outputs

    @property
    def output(self) -> Any:
        if len(self._outputs) != 1:
            raise AttributeError(_MULTIPLE)
        return next(iter(self._outputs.values()))

    @property
    def succeeded(self) -> bool:
        return self.run.state == "success"

    def __getattr__(self, name: str) -> Any:
        from airflow_kfp.dsl.pipeline_task import PipelineTask

        if name == "output":  # the property raised AttributeError: Python asks here; keep kfp's message
            raise AttributeError(_MULTIPLE)
        if not name.startswith("_") and callable(getattr(PipelineTask, name, None)):
            raise Exception(  # kfp's own type and message (dsl.pipeline_task.block_if_final)
                f"Task configuration methods are not supported for local execution. Got call to '.{name}()'."
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"LocalTask(name={self.name!r}, state={self.run.state!r}, outputs={self._outputs!r})"


def _params(spec: PipelineSpec, arguments: Mapping[str, Any], what: str) -> dict[str, Any]:
    known = {i.name: i for i in spec.inputs}
    unknown = sorted(set(arguments) - set(known))
    if unknown:
        raise TypeError(f"{what} got unexpected keyword argument(s) {unknown}; its inputs: {sorted(known)}.")
    params: dict[str, Any] = {}
    for name, spec_input in known.items():
        if name in arguments:
            value = arguments[name]
            if isinstance(value, rt_artifacts.Artifact):
                value = artifact_record(value)
            elif isinstance(value, list) and value and all(isinstance(v, rt_artifacts.Artifact) for v in value):
                value = [artifact_record(v) for v in value]
            params[name] = value
        elif spec_input.has_default:
            params[name] = spec_input.default
    missing = sorted(n for n, i in known.items() if n not in params and not i.has_default and i.kind != "artifact")
    if missing:
        raise TypeError(f"{what} is missing required argument(s) {missing}.")
    return params


def run_spec(spec: PipelineSpec, arguments: Mapping[str, Any], what: str | None = None) -> tuple[LocalRun, Any, Any]:
    """Run a pipeline model with ``arguments`` (defaults filled in as a DAG's params are) under the
    session's configuration; (the run, its scheduler, its plan). Failed tasks do not raise here."""
    from airflow_kfp.local.orchestrator import run_plan
    from airflow_kfp.planning.planner import plan_pipeline
    from airflow_kfp.planning.workspace import add_workspace

    config = LocalExecutionConfig.validate()
    params = _params(spec, arguments, what or f"pipeline '{spec.name}'")
    plan = plan_pipeline(add_workspace(spec), pipeline_version=spec.digest())  # the rewrites to_dag applies
    log.info("Running %s locally (outputs under %s)", what or f"pipeline '{spec.name}'", config.pipeline_root)
    result, scheduler = run_plan(plan, params, config)
    return result, scheduler, plan


def run(component: BaseComponent, arguments: Mapping[str, Any]) -> LocalTask:
    """Run ``component`` (a component, or a pipeline) with ``arguments`` under the session's config."""
    from airflow_kfp.dsl.pipeline import Pipeline, component_pipeline

    is_pipeline = isinstance(component, Pipeline)
    spec = component.spec if is_pipeline else component_pipeline(component)  # type: ignore[attr-defined]
    outputs = spec.output_specs if is_pipeline else component.component_spec.outputs
    return _run(spec, arguments, "pipeline" if is_pipeline else "component", {o.name: o.kind for o in outputs})


def run_importer(uri: str, artifact_class: Any, reimport: bool, metadata: Mapping[str, Any] | None) -> LocalTask:
    """``dsl.importer(...)`` called outside a pipeline: the one-task pipeline of the importer, run now."""
    from airflow_kfp.dsl.importer_node import OUTPUT, importer
    from airflow_kfp.dsl.pipeline_context import PipelineBuilder
    from airflow_kfp.spec.model import ARTIFACT, OutputSpec, TaskOutputArgument
    from airflow_kfp.spec.validate import validate_pipeline

    builder = PipelineBuilder("importer")
    with builder:
        task = importer(
            artifact_uri=uri, artifact_class=artifact_class, reimport=reimport, metadata=dict(metadata or {})
        )
    spec = validate_pipeline(
        builder.spec(
            description="dsl.importer, run locally",
            inputs=[],
            outputs={OUTPUT: TaskOutputArgument(task=task.name, output=OUTPUT)},
            output_specs=[OutputSpec(name=OUTPUT, kind=ARTIFACT, type=artifact_class.schema_title)],
        )
    )
    return _run(spec, {}, "importer", {OUTPUT: ARTIFACT})


def _run(spec: PipelineSpec, arguments: Mapping[str, Any], kind: str, kinds: Mapping[str, str]) -> LocalTask:
    from airflow_kfp.spec.model import ARTIFACT

    config = LocalExecutionConfig.validate()
    what = f"{kind} '{spec.name}'"
    result, scheduler, plan = run_spec(spec, arguments, what)
    if result.state != "success":
        failed = result.failed_tasks()
        first = next(iter(result.errors.values()), None)
        detail = f": {first}" if first is not None else ""
        if kind == "pipeline":
            msg = f"Pipeline '{spec.name}' finished with status FAILURE. Inner task failed: {', '.join(failed)}{detail}"
        else:
            msg = f"Task '{spec.name}' finished with status FAILURE{detail}"
        if config.raise_on_error:
            raise RuntimeError(msg) from first
        log.error(msg)
        return LocalTask(spec.name, dict(arguments), {}, result)
    log.info("%s finished with status SUCCESS", what[0].upper() + what[1:])
    outputs = _outputs(plan, scheduler, kinds)
    result.outputs = outputs
    values = {
        name: (
            [artifact_object(r, name) for r in value]
            if kinds.get(name) == ARTIFACT and isinstance(value, list)
            else artifact_object(value, name)
            if kinds.get(name) == ARTIFACT
            else value
        )
        for name, value in outputs.items()
    }
    return LocalTask(spec.name, dict(arguments), values, result)


def _outputs(plan: Any, scheduler: Any, kinds: Mapping[str, str]) -> dict[str, Any]:
    """The pipeline's outputs, read from the finished run by the one resolver (as a consumer would)."""
    from airflow_kfp.local.orchestrator import LocalTaskInstance
    from airflow_kfp.services.resolver import ARTIFACTS, PARAMETERS, BindingResolver
    from airflow_kfp.spec.model import ARTIFACT

    ti = LocalTaskInstance(scheduler, "kfp-local-outputs", -1, 1)
    resolver = BindingResolver(
        {"ti": ti, "run_id": scheduler.result.run_id, "params": scheduler.params},
        external_arguments={},
        where=lambda argument: f"pipeline '{plan.pipeline_name}', output {argument}",
    )
    return {
        name: resolver.value(binding, section=ARTIFACTS if kinds.get(name) == ARTIFACT else PARAMETERS, argument=name)
        for name, binding in plan.outputs.items()
    }
