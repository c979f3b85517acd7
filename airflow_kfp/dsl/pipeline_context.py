"""The pipeline being defined: tasks register themselves here as components are called."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import Argument, ComponentSpec, GroupSpec, PipelineSpec

if TYPE_CHECKING:
    from airflow_kfp.dsl.pipeline_task import PipelineTask

_current: ContextVar[PipelineBuilder | None] = ContextVar("airflow_kfp_pipeline_builder", default=None)
"""The pipeline being defined in this thread or task; a nested ``@dsl.pipeline`` shadows it until it ends."""


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
        self._names: set[str] = set()
        self._suffixes: dict[str, int] = {}
        self.groups: list[GroupSpec] = []
        self.group_stack: list[GroupSpec] = []
        """Open control-flow groups (dsl.If, dsl.ParallelFor, dsl.ExitHandler), innermost last."""
        self.last_closed: GroupSpec | None = None
        """The If/Elif branch that just closed, for a following dsl.Elif / dsl.Else."""
        self._group_count = 0
        self._tokens: list[Token[PipelineBuilder | None]] = []
        self.formatted: dict[str, Argument] = {}
        """Tokens that ``str(channel)`` gave out (f-strings), and the values they stand for."""

    def add_task(self, task: PipelineTask, base_name: str) -> str:
        name, n = base_name, self._suffixes.get(base_name, 1)
        while name in self._names:
            n += 1
            name = f"{base_name}-{n}"
        self._suffixes[base_name] = n  # the next call for this base name starts here: linear, not quadratic
        self._names.add(name)
        self.tasks.append(task)
        self.last_closed = None
        return name

    @property
    def current_group(self) -> str | None:
        return self.group_stack[-1].name if self.group_stack else None

    def open_group(self, group: GroupSpec) -> None:
        self.groups.append(group)
        self.group_stack.append(group)
        self.last_closed = None

    def close_group(self) -> GroupSpec:
        group = self.group_stack.pop()
        self.last_closed = group if group.kind == "condition" and not group.is_else else None
        return group

    def group_name(self, kind: str) -> str:
        """KFP's naming: one counter over all groups, so names are unique and ordered."""
        while True:
            self._group_count += 1
            name = f"{kind}-{self._group_count}"
            if name not in self._names:
                self._names.add(name)
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
        self._tokens.append(_current.set(self))
        return self

    def __exit__(self, *exc: object) -> None:
        _current.reset(self._tokens.pop())

    def spec(self, **fields: object) -> PipelineSpec:
        return PipelineSpec(
            name=self.name,
            tasks=[t.spec for t in self.tasks],
            components=dict(self.components),
            groups=list(self.groups),
            **fields,  # type: ignore[arg-type]
        )


def active_builder() -> PipelineBuilder | None:
    return _current.get()


def current_builder(what: str) -> PipelineBuilder:
    builder = _current.get()
    if builder is None:
        raise PipelineDefinitionError(
            f"{what} was called outside a pipeline; call components inside a function decorated with "
            "@dsl.pipeline, or run it locally after airflow_kfp.local.init(runner=local.SubprocessRunner())."
        )
    return builder


OutsidePipelineCall = Callable[[Any, dict[str, Any]], Any]
"""Runs a component or pipeline called outside ``@dsl.pipeline`` with these keyword arguments; returns
None when it does not take the call (local execution not initialised)."""
_outside_pipeline: OutsidePipelineCall | None = None


def run_outside_pipeline(handler: OutsidePipelineCall | None) -> None:
    """Registered by ``airflow_kfp.local.init`` (kfp.local's behaviour), so the DSL runs such calls
    without importing the local executor: the dependency points from ``local`` to ``dsl`` only."""
    global _outside_pipeline
    _outside_pipeline = handler


def outside_pipeline_call(component: Any, arguments: dict[str, Any]) -> Any:
    """The registered handler's result for a call outside any pipeline, or None."""
    return _outside_pipeline(component, arguments) if _outside_pipeline is not None else None
