"""KFP's control flow: dsl.If / Elif / Else (and the older Condition), ParallelFor, Collected, OneOf,
ExitHandler.

Each context manager opens a group in the pipeline being defined; tasks created inside record it, and
the compiler maps groups onto Airflow's own machinery (skips, mapped task groups, teardown tasks).
"""

from __future__ import annotations

import warnings
from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.core.final_status import PipelineTaskFinalStatus
from airflow_kfp.dsl.channels import ConditionExpression, PipelineChannel, TaskOutputChannel
from airflow_kfp.dsl.pipeline_context import PipelineBuilder, current_builder
from airflow_kfp.dsl.pipeline_task import PipelineTask
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.messages import where
from airflow_kfp.spec.model import (
    ARTIFACT,
    PARAMETER,
    Argument,
    CollectedArgument,
    ConditionSpec,
    ConstantArgument,
    GroupSpec,
    LoopItemArgument,
    OneOfArgument,
    TaskOutputArgument,
)

__all__ = [
    "Collected",
    "Condition",
    "Elif",
    "Else",
    "ExitHandler",
    "If",
    "OneOf",
    "ParallelFor",
    "PipelineTaskFinalStatus",
]


def _operand(builder: PipelineBuilder, value: Any, what: str) -> Argument:
    if isinstance(value, PipelineTask):
        value = value.output
    if isinstance(value, LoopArgument):
        return value.to_argument()
    if isinstance(value, PipelineChannel):
        if value.kind == ARTIFACT:
            raise PipelineDefinitionError(
                f"{where(builder.name)}: {what} compares {value!r}, an artifact; conditions compare parameters. "
                f"Return the value to branch on (for example a metric as a float) from the component and "
                f"compare that output."
            )
        if isinstance(value, CollectedChannel | OneOfChannel):
            raise PipelineDefinitionError(
                f"{where(builder.name)}: {what}: compare a task output, a pipeline input or a loop item; "
                f"pass the Collected / OneOf value to a component first."
            )
        return value.to_argument()
    if isinstance(value, ConditionExpression):
        raise PipelineDefinitionError(
            f"{where(builder.name)}: {what}: conditions cannot be combined; nest dsl.If blocks instead."
        )
    return ConstantArgument(value=value)


def _condition(builder: PipelineBuilder, condition: Any, what: str) -> ConditionSpec:
    if not isinstance(condition, ConditionExpression):
        raise PipelineDefinitionError(
            f"{where(builder.name)}: {what} needs a comparison of a task output or pipeline input, such as "
            f"dsl.If(task.output == 'heads') or dsl.If(train.outputs['accuracy'] > 0.9); got {condition!r}."
        )
    return ConditionSpec(
        left=_operand(builder, condition.left, what),
        operator=condition.operator,  # type: ignore[arg-type]
        right=_operand(builder, condition.right, what),
    )


class _Group:
    """A control-flow context manager: opens a group on enter and closes it on exit."""

    kind = ""
    _builder: PipelineBuilder
    group: GroupSpec

    def _open(self, builder: PipelineBuilder, group: GroupSpec) -> None:
        self._builder = builder
        self.group = group
        builder.open_group(group)

    def __exit__(self, *exc: object) -> None:
        self._builder.close_group()


class If(_Group):
    """``with dsl.If(task.output == 'x'):`` — the tasks inside run only when the comparison holds."""

    def __init__(self, condition: Any, name: str | None = None) -> None:
        self.condition = condition
        self.name = name

    def __enter__(self) -> If:
        builder = current_builder("dsl.If")
        spec = _condition(builder, self.condition, "dsl.If")
        name = builder.group_name("condition")
        self._open(
            builder,
            GroupSpec(name=name, kind="condition", parent=builder.current_group, conditions=[spec], branches=name),
        )
        return self


class Condition(If):
    """KFP's deprecated name for ``dsl.If``."""

    def __init__(self, condition: Any, name: str | None = None) -> None:
        warnings.warn("dsl.Condition is deprecated; use dsl.If.", DeprecationWarning, stacklevel=2)
        super().__init__(condition, name)


def _previous_branch(builder: PipelineBuilder, what: str) -> GroupSpec:
    previous = builder.last_closed
    if previous is None or previous.parent != builder.current_group or previous.branches is None:
        raise PipelineDefinitionError(
            f"{where(builder.name)}: {what} must come right after a dsl.If or dsl.Elif block at the same "
            f"level, with no task in between."
        )
    return previous


def _negated_chain(builder: PipelineBuilder, chain: str) -> list[ConditionSpec]:
    """The branches before this one did not run: each of their own comparisons is false."""
    own = [g.conditions[-1] for g in builder.groups if g.branches == chain and g.kind == "condition"]
    return [c.model_copy(update={"negate": True}) for c in own]


class Elif(_Group):
    """``with dsl.Elif(cond):`` after a dsl.If / dsl.Elif: runs when the earlier branches did not."""

    def __init__(self, condition: Any, name: str | None = None) -> None:
        self.condition = condition
        self.name = name

    def __enter__(self) -> Elif:
        builder = current_builder("dsl.Elif")
        previous = _previous_branch(builder, "dsl.Elif")
        chain = previous.branches or previous.name
        spec = _condition(builder, self.condition, "dsl.Elif")
        conditions = [*_negated_chain(builder, chain), spec]
        self._open(
            builder,
            GroupSpec(
                name=builder.group_name("condition"),
                kind="condition",
                parent=builder.current_group,
                conditions=conditions,
                branches=chain,
            ),
        )
        return self


class Else(_Group):
    """``with dsl.Else():`` after a dsl.If / dsl.Elif: runs when no earlier branch did."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name

    def __enter__(self) -> Else:
        builder = current_builder("dsl.Else")
        previous = _previous_branch(builder, "dsl.Else")
        chain = previous.branches or previous.name
        self._open(
            builder,
            GroupSpec(
                name=builder.group_name("condition"),
                kind="condition",
                parent=builder.current_group,
                conditions=_negated_chain(builder, chain),
                branches=chain,
                is_else=True,
            ),
        )
        return self


class LoopArgument(PipelineChannel):
    """The current item of a ParallelFor; ``item.field`` (or ``item['field']``) reads a field of a dict item."""

    def __init__(self, loop: str, item_type: str | None, field: str | None = None, item_kind: str = PARAMETER) -> None:
        # Attributes are underscored so that item.<anything> reads a field of the item.
        self._loop = loop
        self._item_type = item_type
        self._field = field
        self._item_kind = item_kind
        """ARTIFACT in a loop over a list of artifacts (KFP's artifactIterator)."""

    @property
    def kind(self) -> str:  # type: ignore[override]
        return self._item_kind

    @property
    def type(self) -> str:  # type: ignore[override]
        return self._item_type or ptypes.STRING

    @property
    def is_list(self) -> bool:  # type: ignore[override]
        return False

    def to_argument(self) -> Argument:
        return LoopItemArgument(loop=self._loop, field=self._field)

    def __getattr__(self, name: str) -> LoopArgument:
        if name.startswith("_"):
            raise AttributeError(name)
        return self[name]

    def __getitem__(self, name: str) -> LoopArgument:
        if self._item_kind == ARTIFACT:
            raise PipelineDefinitionError(
                f"loop '{self._loop}': item.{name}: the loop iterates artifacts, which have no fields; pass the "
                f"item to an Input[...] argument and read its metadata there."
            )
        if self._field is not None:
            raise PipelineDefinitionError(
                f"loop '{self._loop}': item.{self._field}.{name}: only one level of field access is supported; "
                f"pass item.{self._field} to a component and read '{name}' there."
            )
        return LoopArgument(self._loop, None, name)

    def __repr__(self) -> str:
        suffix = f".{self._field}" if self._field else ""
        return f"<item{suffix} of loop '{self._loop}'>"


def _static_item_type(items: list[Any]) -> str | None:
    types = {ptypes.parameter_type_of(type(v)) for v in items}
    return types.pop() if len(types) == 1 else None


class ParallelFor(_Group):
    """``with dsl.ParallelFor(items, parallelism=n) as item:`` — one Airflow mapped task instance per item."""

    def __init__(self, items: Any, parallelism: int | None = None, name: str | None = None) -> None:
        self.items = items
        self.parallelism = parallelism
        self.name = name

    def _items_argument(self, builder: PipelineBuilder) -> tuple[Argument, str | None, str]:
        items = self.items
        at = where(builder.name)
        if isinstance(items, PipelineTask):
            items = items.output
        if isinstance(items, LoopArgument):  # a nested loop over (a field of) the outer loop's item
            if items.kind == ARTIFACT:
                raise PipelineDefinitionError(f"{at}: dsl.ParallelFor over {items!r}, one artifact, needs a list.")
            return items.to_argument(), None, PARAMETER
        if isinstance(items, list | tuple):
            if not items:
                raise PipelineDefinitionError(f"{at}: dsl.ParallelFor over an empty list has nothing to run.")
            return ConstantArgument(value=list(items)), _static_item_type(list(items)), PARAMETER
        if isinstance(items, CollectedChannel | OneOfChannel):
            raise PipelineDefinitionError(
                f"{at}: dsl.ParallelFor over a Collected/OneOf value is not supported (nor by KFP); return the "
                f"dsl.Collected(...) from a nested pipeline and loop over that pipeline task's output."
            )
        if isinstance(items, PipelineChannel):
            if items.kind == ARTIFACT:  # KFP's artifactIterator: one artifact of the list per iteration
                if not items.is_list:
                    raise PipelineDefinitionError(
                        f"{at}: dsl.ParallelFor over {items!r}, one artifact, needs a list of artifacts "
                        f"(Input[List[...]], or a nested pipeline returning dsl.Collected(...))."
                    )
                return items.to_argument(), items.type, ARTIFACT
            if items.type != ptypes.LIST:
                raise PipelineDefinitionError(
                    f"{at}: dsl.ParallelFor needs a list, but {items!r} is "
                    f"{ptypes.JSON_SCHEMA_TYPES.get(items.type, items.type)}; annotate it as a list."
                )
            return items.to_argument(), None, PARAMETER
        raise PipelineDefinitionError(
            f"{at}: dsl.ParallelFor needs a list, a list pipeline input or a list task output; got {items!r}."
        )

    def __enter__(self) -> LoopArgument:
        builder = current_builder("dsl.ParallelFor")
        parallelism = self.parallelism
        if parallelism is not None and (not isinstance(parallelism, int) or parallelism < 0):
            raise PipelineDefinitionError(
                f"{where(builder.name)}: dsl.ParallelFor parallelism must be a whole number >= 0 (0 = no limit); "
                f"got {parallelism!r}."
            )
        items, item_type, item_kind = self._items_argument(builder)
        name = builder.group_name("for-loop")
        self._open(
            builder,
            GroupSpec(
                name=name, kind="loop", parent=builder.current_group, items=items, parallelism=parallelism or None
            ),
        )
        return LoopArgument(name, item_type, item_kind=item_kind)


class CollectedChannel(PipelineChannel):
    """``dsl.Collected(task.output)``: all iterations' values as a list, for a task after the loop."""

    def __init__(self, source: TaskOutputChannel) -> None:
        super().__init__(source.kind, source.type if source.kind == ARTIFACT else ptypes.LIST, is_list=True)
        self.source = source

    def to_argument(self) -> Argument:
        return CollectedArgument(task=self.source.task.name, output=self.source.output)

    def __repr__(self) -> str:
        return f"<Collected({self.source!r})>"


def Collected(output: Any) -> CollectedChannel:
    if isinstance(output, PipelineTask):
        output = output.output
    if not isinstance(output, TaskOutputChannel):
        raise PipelineDefinitionError(
            f"dsl.Collected needs the output of a task inside a dsl.ParallelFor; got {output!r}."
        )
    return CollectedChannel(output)


class OneOfChannel(PipelineChannel):
    """``dsl.OneOf(a, b, ...)``: the output of whichever If/Elif/Else branch ran."""

    def __init__(self, options: list[TaskOutputChannel]) -> None:
        super().__init__(options[0].kind, options[0].type)
        self.options = options

    def to_argument(self) -> Argument:
        return OneOfArgument(options=[TaskOutputArgument(task=o.task.name, output=o.output) for o in self.options])

    def __repr__(self) -> str:
        return f"<OneOf({', '.join(repr(o) for o in self.options)})>"


def OneOf(*outputs: Any) -> OneOfChannel:
    channels = [o.output if isinstance(o, PipelineTask) else o for o in outputs]
    if len(channels) < 2 or not all(isinstance(c, TaskOutputChannel) for c in channels):
        raise PipelineDefinitionError(
            f"dsl.OneOf needs two or more task outputs, one from each branch of a dsl.If/Elif/Else; got {outputs!r}."
        )
    return OneOfChannel(channels)


class ExitHandler(_Group):
    """``with dsl.ExitHandler(exit_task):`` — exit_task runs after the tasks inside, whatever their outcome."""

    def __init__(self, exit_task: PipelineTask, name: str | None = None) -> None:
        self.exit_task = exit_task
        self.name = name

    def __enter__(self) -> ExitHandler:
        builder = current_builder("dsl.ExitHandler")
        task = self.exit_task
        if not isinstance(task, PipelineTask):
            raise PipelineDefinitionError(
                f"{where(builder.name)}: dsl.ExitHandler needs a task (call the exit component before the "
                f"`with`); got {task!r}."
            )
        at = where(builder.name, task.name)
        if task.spec.after or any(
            not isinstance(a, ConstantArgument) and a.kind != "pipeline_input" for a in task.spec.arguments.values()
        ):
            raise PipelineDefinitionError(
                f"{at}: an exit task may depend on no other task (KFP's rule); pass it constants or pipeline "
                f"inputs only."
            )
        if task.spec.group != builder.current_group:
            raise PipelineDefinitionError(f"{at}: create the exit task right before its dsl.ExitHandler.")
        loop = next((g for g in builder.group_stack if g.kind == "loop"), None)
        if loop is not None:
            raise PipelineDefinitionError(
                f"{at}: dsl.ExitHandler inside dsl.ParallelFor '{loop.name}' is not supported; put the "
                f"ExitHandler around the loop instead."
            )
        self._open(
            builder,
            GroupSpec(
                name=builder.group_name("exit-handler"),
                kind="exit_handler",
                parent=builder.current_group,
                exit_task=task.name,
            ),
        )
        return self
