"""``@dsl.pipeline``: run the function once, recording tasks, and keep the validated model."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any, overload

from airflow_kfp.collector import gc_paused
from airflow_kfp.core import types as ptypes
from airflow_kfp.dsl.channels import PipelineChannel, PipelineInputChannel, TaskOutputChannel
from airflow_kfp.dsl.components import BaseComponent
from airflow_kfp.dsl.pipeline_config import check_pipeline_config
from airflow_kfp.dsl.pipeline_context import PipelineBuilder, kfp_name
from airflow_kfp.dsl.pipeline_task import PipelineTask
from airflow_kfp.dsl.signature import SINGLE_OUTPUT, read_signature
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.pipeline_root import check_root
from airflow_kfp.spec.model import (
    ARTIFACT,
    CollectedArgument,
    ComponentSpec,
    OneOfArgument,
    OutputSpec,
    PipelineSpec,
    TaskOutputArgument,
)
from airflow_kfp.spec.validate import validate_pipeline


class Pipeline(BaseComponent):
    """A compiled pipeline; also usable as a component inside another pipeline."""

    def __init__(
        self,
        func: Callable[..., Any],
        name: str | None,
        description: str | None,
        pipeline_root: str | None,
        display_name: str | None,
    ) -> None:
        self.pipeline_func = func
        self.pipeline_root = pipeline_root
        self.display_name = display_name
        self.__name__ = func.__name__
        self.__doc__ = func.__doc__
        pipeline_name = name or kfp_name(func.__name__)
        if pipeline_root:  # checked here too, so the error points at the decorator
            check_root(pipeline_root, f"pipeline '{pipeline_name}': @dsl.pipeline(pipeline_root=...)")
        self.spec = self._build(func, pipeline_name, description or inspect.cleandoc(func.__doc__ or ""))
        self.spec.pipeline_root = pipeline_root or None
        self.component_spec = ComponentSpec.of_pipeline(self.spec)

    @staticmethod
    def _build(func: Callable[..., Any], name: str, description: str) -> PipelineSpec:
        # Artifact inputs are allowed: a pipeline used inside another one receives them from its caller.
        inputs, _ = read_signature(func, name, allow_return=True, owner_kind="pipeline")
        builder = PipelineBuilder(name)
        with builder, gc_paused():  # the function only declares tasks (see airflow_kfp.collector)
            channels = {i.name: PipelineInputChannel(i.name, i.kind, i.type, i.is_list) for i in inputs}
            returned = func(**channels)
        outputs, output_specs = _pipeline_outputs(name, returned)
        with gc_paused():
            built = builder.spec(description=description, inputs=inputs, outputs=outputs, output_specs=output_specs)
            return validate_pipeline(built)

    @property
    def name(self) -> str:
        return self.spec.name

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        return super().__call__(*args, **kwargs)


PipelineOutput = TaskOutputArgument | OneOfArgument | CollectedArgument


def _pipeline_outputs(name: str, returned: Any) -> tuple[dict[str, PipelineOutput], list[OutputSpec]]:
    """KFP's pipeline returns: a task output, ``task.outputs``, a NamedTuple or dict of outputs, or
    ``dsl.OneOf(...)`` / ``dsl.Collected(...)`` (read by an enclosing pipeline's tasks)."""
    from airflow_kfp.dsl.control_flow import CollectedChannel, OneOfChannel

    if returned is None:
        return {}, []
    if isinstance(returned, PipelineTask):
        returned = returned.output
    if isinstance(returned, PipelineChannel):
        named: dict[str, Any] = {SINGLE_OUTPUT: returned}
    elif hasattr(returned, "_asdict"):
        named = dict(returned._asdict())
    elif isinstance(returned, Mapping):
        named = dict(returned)
    else:
        raise PipelineDefinitionError(
            f"pipeline '{name}': it returned {returned!r}; a pipeline returns a task output, task.outputs, "
            f"a NamedTuple of outputs, dsl.OneOf(...), dsl.Collected(...) or nothing."
        )
    outputs: dict[str, PipelineOutput] = {}
    specs: list[OutputSpec] = []
    for out_name, channel in named.items():
        if isinstance(channel, PipelineTask):
            channel = channel.output
        if not isinstance(channel, TaskOutputChannel | OneOfChannel | CollectedChannel):
            raise PipelineDefinitionError(
                f"pipeline '{name}', output '{out_name}': it must be a task output, dsl.OneOf(...) or "
                f"dsl.Collected(...); got {channel!r}."
            )
        argument = channel.to_argument()
        assert isinstance(argument, TaskOutputArgument | OneOfArgument | CollectedArgument)
        outputs[out_name] = argument
        specs.append(
            OutputSpec(
                name=out_name,
                kind=channel.kind,  # type: ignore[arg-type]
                type=channel.type,
                is_list=channel.kind == ARTIFACT and channel.is_list,
            )
        )
    return outputs, specs


def component_pipeline(component: BaseComponent) -> PipelineSpec:
    """KFP compiles a bare component as a one-task pipeline: the component's inputs become the
    pipeline's inputs (with their defaults) and its outputs the pipeline's outputs."""
    spec = component.component_spec
    builder = PipelineBuilder(spec.name)
    with builder:
        arguments = {
            i.name: PipelineInputChannel(i.name, i.kind, i.type, i.is_list)
            for i in spec.inputs
            if not (i.kind == ARTIFACT and i.has_default)  # an optional artifact nobody can pass stays absent
            and i.type not in ptypes.RUNTIME_FILLED
        }
        task = component(**arguments)
    inputs = [i for i in spec.inputs if i.name in arguments]
    outputs = {o.name: TaskOutputArgument(task=task.name, output=o.name) for o in spec.outputs}
    built = builder.spec(description=spec.description, inputs=inputs, outputs=outputs, output_specs=list(spec.outputs))
    return validate_pipeline(built)


@overload
def pipeline(func: Callable[..., Any]) -> Pipeline: ...
@overload
def pipeline(
    func: None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    pipeline_root: str | None = None,
    display_name: str | None = None,
    pipeline_config: Any = None,
) -> Callable[[Callable[..., Any]], Pipeline]: ...
def pipeline(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    description: str | None = None,
    pipeline_root: str | None = None,
    display_name: str | None = None,
    pipeline_config: Any = None,
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    def decorate(f: Callable[..., Any]) -> Pipeline:
        made = Pipeline(f, name, description, pipeline_root, display_name)
        check_pipeline_config(pipeline_config, made.spec)
        return made

    return decorate(func) if func is not None else decorate


def spec_of(pipeline: Pipeline | BaseComponent | PipelineSpec) -> PipelineSpec:
    if isinstance(pipeline, Pipeline):
        return pipeline.spec
    if isinstance(pipeline, BaseComponent):  # KFP runs a bare component as a one-task pipeline
        return component_pipeline(pipeline)
    if isinstance(pipeline, PipelineSpec):
        return validate_pipeline(pipeline)
    raise TypeError(f"expected a @dsl.pipeline function, a component or a PipelineSpec, got {type(pipeline).__name__}")
