"""Placeholders for values that exist only at run time: pipeline inputs and task outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_kfp.spec.model import Argument, PipelineInputArgument, TaskOutputArgument

if TYPE_CHECKING:
    from airflow_kfp.dsl.pipeline_task import PipelineTask


class PipelineChannel:
    """A value passed between tasks; compiles to an argument source in the model."""

    def __init__(self, kind: str, type_: str, is_list: bool = False) -> None:
        self.kind = kind
        self.type = type_
        self.is_list = is_list

    def to_argument(self) -> Argument:
        raise NotImplementedError

    def __str__(self) -> str:
        """Inside a pipeline, a token the DSL turns back into this channel (f-strings, ``%``, ``.format``)."""
        from airflow_kfp.dsl.formatting import channel_token

        return channel_token(self)

    def __format__(self, format_spec: str) -> str:
        if format_spec:
            raise TypeError(
                f"{self!r} is only known when the pipeline runs, so it cannot be formatted with "
                f"{format_spec!r}; format it inside a component."
            )
        return str(self)

    def __bool__(self) -> bool:
        raise TypeError(f"{self!r} has no truth value while the pipeline is defined; use dsl.If(...) instead.")

    # Comparisons build conditions for dsl.If / dsl.Elif, as in KFP.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> ConditionExpression:  # type: ignore[override]
        return ConditionExpression(self, "==", other)

    def __ne__(self, other: object) -> ConditionExpression:  # type: ignore[override]
        return ConditionExpression(self, "!=", other)

    def __lt__(self, other: object) -> ConditionExpression:
        return ConditionExpression(self, "<", other)

    def __le__(self, other: object) -> ConditionExpression:
        return ConditionExpression(self, "<=", other)

    def __gt__(self, other: object) -> ConditionExpression:
        return ConditionExpression(self, ">", other)

    def __ge__(self, other: object) -> ConditionExpression:
        return ConditionExpression(self, ">=", other)


class ConditionExpression:
    """``channel <op> value``: evaluated at run time by the branch's condition task."""

    def __init__(self, left: PipelineChannel, operator: str, right: object) -> None:
        self.left = left
        self.operator = operator
        self.right = right

    def __bool__(self) -> bool:
        raise TypeError(
            f"the condition {self!r} is only known when the pipeline runs; use it in dsl.If(...) / dsl.Elif(...)."
        )

    def __repr__(self) -> str:
        return f"{self.left!r} {self.operator} {self.right!r}"


class PipelineInputChannel(PipelineChannel):
    def __init__(self, name: str, kind: str, type_: str, is_list: bool = False) -> None:
        super().__init__(kind, type_, is_list)
        self.name = name

    def to_argument(self) -> Argument:
        return PipelineInputArgument(name=self.name)

    def __repr__(self) -> str:
        return f"<pipeline input '{self.name}'>"


class TaskOutputChannel(PipelineChannel):
    def __init__(self, task: PipelineTask, output: str, kind: str, type_: str, is_list: bool = False) -> None:
        super().__init__(kind, type_, is_list=is_list)
        self.task = task
        self.output = output

    def to_argument(self) -> Argument:
        return TaskOutputArgument(task=self.task.name, output=self.output)

    def __repr__(self) -> str:
        return f"<output '{self.output}' of task '{self.task.name}'>"
