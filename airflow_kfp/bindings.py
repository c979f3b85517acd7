"""Where each input of a task comes from at run time: the typed seam between compiler and operators.

The compiler's plan (``airflow_kfp.compiler.plan``) gives every task one :data:`Binding` per input it
receives; the operators hand them to the one resolver (``airflow_kfp.operators.resolver``) when the
task runs. Frozen, plain data: no Airflow object, so a plan can be built and tested without Airflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias


@dataclass(frozen=True)
class Constant:
    """A value fixed when the pipeline was defined (KFP placeholders in strings resolve at run time)."""

    value: Any


@dataclass(frozen=True)
class PipelineParameter:
    """A pipeline input: the DAG run's param of that name (run conf overrides the default)."""

    name: str


@dataclass(frozen=True)
class ExternalArgument:
    """An argument given from outside the pipeline (``to_task_group(arguments=...)``): a constant, an
    XComArg or a template, rendered by Airflow into the operator's ``external_arguments[key]``."""

    key: str


@dataclass(frozen=True)
class UpstreamOutput:
    """An output of an upstream task, read from its manifest; ``same_map_index`` when producer and
    consumer are mapped by the same loop, so each item reads its own producer instance."""

    task_id: str
    output: str
    same_map_index: bool = False


@dataclass(frozen=True)
class LoopItem:
    """The current ``dsl.ParallelFor`` item (or one field of it), Airflow's mapped argument rendered
    into the operator's ``external_arguments[key]``."""

    key: str
    field: str | None = None


@dataclass(frozen=True)
class Collected:
    """``dsl.Collected``: one output of every instance of a task mapped by a loop, in item order."""

    task_id: str
    output: str


@dataclass(frozen=True)
class OneOf:
    """``dsl.OneOf``: the output of the first branch (in order) that published a manifest."""

    options: tuple[UpstreamOutput, ...]


@dataclass(frozen=True)
class Concat:
    """An f-string of run-time values (KFP's concatenated placeholders): each part's value as text
    (strings as they are, other values as JSON), joined when the task runs."""

    parts: tuple[Binding, ...]


@dataclass(frozen=True)
class FinalStatus:
    """An exit task's ``dsl.PipelineTaskFinalStatus``: the states of the tasks its ExitHandler wraps."""

    handler: str
    """The exit handler's Airflow group id (KFP's ``pipeline_task_name``)."""
    task_ids: tuple[str, ...] = ()


Binding: TypeAlias = (
    Constant
    | PipelineParameter
    | ExternalArgument
    | UpstreamOutput
    | LoopItem
    | Collected
    | OneOf
    | Concat
    | FinalStatus
)
"""Every way a task input can be bound."""


@dataclass(frozen=True)
class Gate:
    """A branch check (``ConditionOperator``) a task with a relaxed trigger rule must have passed."""

    task_id: str
    same_map_index: bool = False


@dataclass(frozen=True)
class Comparison:
    """One comparison of a dsl.If/Elif/Else condition; ``negate`` for the branches after it."""

    left: Binding
    operator: str
    right: Binding
    negate: bool = False


def external_keys(binding: Binding) -> tuple[str, ...]:
    """Keys of the operator's ``external_arguments`` a binding reads (Airflow renders those values)."""
    if isinstance(binding, ExternalArgument | LoopItem):
        return (binding.key,)
    if isinstance(binding, Concat):
        return tuple(dict.fromkeys(k for part in binding.parts for k in external_keys(part)))
    return ()


def upstream_task_ids(binding: Binding) -> tuple[str, ...]:
    """The Airflow tasks a binding reads from (each must run before the consumer)."""
    if isinstance(binding, UpstreamOutput | Collected):
        return (binding.task_id,)
    if isinstance(binding, OneOf):
        return tuple(o.task_id for o in binding.options)
    if isinstance(binding, Concat):
        return tuple(dict.fromkeys(t for part in binding.parts for t in upstream_task_ids(part)))
    return ()
