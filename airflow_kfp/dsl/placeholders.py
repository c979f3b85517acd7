"""Container-argument placeholders, rendered to KFP's own IR strings."""

from __future__ import annotations

import json
from typing import Any

from airflow_kfp.core.artifacts import InputPath, OutputPath, _Annotation
from airflow_kfp.runtime import placeholders as rp
from airflow_kfp.spec.model import ARTIFACT, InputSpec, OutputSpec

# KFP's exported placeholders (kfp.dsl), with KFP's own strings: usable as argument values and in
# container commands/args, resolved when the task runs (runtime/placeholders.py lists them once).
PIPELINE_JOB_NAME_PLACEHOLDER = rp.pipeline_placeholder(rp.PIPELINE_JOB_NAME)
PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER = rp.pipeline_placeholder(rp.PIPELINE_JOB_RESOURCE_NAME)
PIPELINE_JOB_ID_PLACEHOLDER = rp.pipeline_placeholder(rp.PIPELINE_JOB_UUID)
PIPELINE_TASK_NAME_PLACEHOLDER = rp.pipeline_placeholder(rp.PIPELINE_TASK_NAME)
PIPELINE_TASK_ID_PLACEHOLDER = rp.pipeline_placeholder(rp.PIPELINE_TASK_UUID)
PIPELINE_ROOT_PLACEHOLDER = rp.pipeline_placeholder(rp.PIPELINE_ROOT)
PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER = rp.pipeline_placeholder(rp.PIPELINE_JOB_CREATE_TIME_UTC)
PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER = rp.pipeline_placeholder(rp.PIPELINE_JOB_SCHEDULE_TIME_UTC)
PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER = "{{$.outputs.output_file}}"
PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER = "{{$}}"
EXECUTOR_INPUT_PLACEHOLDER = PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER


class ContainerPlaceholder:
    """Base of everything that renders to a placeholder string."""

    def ir(self) -> Any:
        raise NotImplementedError

    def __str__(self) -> str:
        rendered = self.ir()
        return rendered if isinstance(rendered, str) else json.dumps(rendered)


class _Simple(ContainerPlaceholder):
    def __init__(self, text: str) -> None:
        self.text = text

    def ir(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text


class _ArtifactPlaceholder:
    """``data.path`` / ``data.uri`` / ``data.metadata`` on an Input[...] or Output[...] argument."""

    def __init__(self, io: str, name: str) -> None:
        self._prefix = f"{{{{$.{io}.artifacts['{name}']"

    @property
    def path(self) -> _Simple:
        return _Simple(self._prefix + ".path}}")

    @property
    def uri(self) -> _Simple:
        return _Simple(self._prefix + ".uri}}")

    @property
    def metadata(self) -> _Simple:
        return _Simple(self._prefix + ".metadata}}")


class ConcatPlaceholder(ContainerPlaceholder):
    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def ir(self) -> dict[str, Any]:
        return {"Concat": [_ir(i) for i in self.items]}


class IfPresentPlaceholder(ContainerPlaceholder):
    def __init__(self, input_name: str, then: Any, else_: Any = None) -> None:
        self.input_name = input_name
        self.then = then
        self.else_ = else_

    def ir(self) -> dict[str, Any]:
        def branch(value: Any) -> Any:
            return [_ir(v) for v in value] if isinstance(value, list) else _ir(value)

        spec: dict[str, Any] = {"InputName": self.input_name, "Then": branch(self.then)}
        if self.else_ is not None:
            spec["Else"] = branch(self.else_)
        return {"IfPresent": spec}


def _ir(item: Any) -> Any:
    if isinstance(item, ContainerPlaceholder):
        return item.ir()
    return item if isinstance(item, str) else str(item)


def to_ir_string(item: Any) -> str:
    rendered = _ir(item)
    return rendered if isinstance(rendered, str) else json.dumps(rendered)


def placeholder_for(name: str, annotation: Any, inputs: list[InputSpec], outputs: list[OutputSpec]) -> Any:
    """What a container component function receives for each of its arguments."""
    from airflow_kfp.core.types import strip_optional

    annotation, _ = strip_optional(annotation)
    is_output = any(o.name == name for o in outputs)
    spec: InputSpec | OutputSpec = (
        next(o for o in outputs if o.name == name) if is_output else next(i for i in inputs if i.name == name)
    )
    if isinstance(annotation, _Annotation):
        return _ArtifactPlaceholder("outputs" if is_output else "inputs", name)
    if isinstance(annotation, InputPath | OutputPath):
        io = "outputs" if is_output else "inputs"
        if spec.kind == ARTIFACT:
            return _Simple(f"{{{{$.{io}.artifacts['{name}'].path}}}}")
        if is_output:
            return _Simple(f"{{{{$.outputs.parameters['{name}'].output_file}}}}")
    return _Simple(f"{{{{$.inputs.parameters['{name}']}}}}")
