"""The pipeline being defined: tasks register themselves here as components are called."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from airflow_kfp.spec.model import ComponentSpec, PipelineSpec
from airflow_kfp.spec.validate import PipelineDefinitionError

if TYPE_CHECKING:
    from airflow_kfp.dsl.pipeline_task import PipelineTask

_stack: list[PipelineBuilder] = []


def kfp_name(name: str) -> str:
    """KFP's naming: lower case, words joined by dashes."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return cleaned or "component"


class PipelineBuilder:
    def __init__(self, name: str) -> None:
        self.name = name
        self.tasks: list[PipelineTask] = []
        self.components: dict[str, ComponentSpec] = {}
        self._component_keys: dict[int, str] = {}

    def add_task(self, task: PipelineTask, base_name: str) -> str:
        taken = {t.name for t in self.tasks}
        name, n = base_name, 1
        while name in taken:
            n += 1
            name = f"{base_name}-{n}"
        self.tasks.append(task)
        return name

    def component_key(self, component: ComponentSpec, identity: int) -> str:
        """One entry per component object; a name clash between different components gets a suffix."""
        if identity in self._component_keys:
            return self._component_keys[identity]
        key, n = f"comp-{component.name}", 1
        while key in self.components and self.components[key] != component:
            n += 1
            key = f"comp-{component.name}-{n}"
        self.components[key] = component
        self._component_keys[identity] = key
        return key

    def __enter__(self) -> PipelineBuilder:
        _stack.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _stack.pop()

    def spec(self, **fields: object) -> PipelineSpec:
        return PipelineSpec(
            name=self.name,
            tasks=[t.spec for t in self.tasks],
            components=dict(self.components),
            **fields,  # type: ignore[arg-type]
        )


def current_builder(what: str) -> PipelineBuilder:
    if not _stack:
        raise PipelineDefinitionError(
            f"{what} was called outside a pipeline; call components inside a function decorated "
            f"with @dsl.pipeline."
        )
    return _stack[-1]
