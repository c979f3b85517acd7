"""Where each input of a task comes from at run time: the typed seam between compiler and operators.

The compiler's plan (``airflow_kfp.planning.planner``) gives every task one :data:`Binding` per input it
receives; the operators hand them to the one resolver (``airflow_kfp.services.resolver``) when the
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
    index_from: tuple[str, str] | None = None
    """Nested loops: read the producer's instance whose map index the consumer's loop entry
    (``external_arguments[key]``) records for the producer's loop group: (key, loop group id)."""


@dataclass(frozen=True)
class LoopItem:
    """The current ``dsl.ParallelFor`` item (or one field of it), Airflow's mapped argument rendered
    into the operator's ``external_arguments[key]``."""

    key: str
    field: str | None = None
    path: tuple[str, ...] = ()
    """Nested loops: keys into the mapped argument (a flattened loop's entry holds every enclosing
    loop's item under ``("items", <loop key>)``)."""


@dataclass(frozen=True)
class Coordinate:
    """One index fixing which instances of a nested loop a Collected reader gathers: the reader's own
    map index (``entry_key`` None) or the one its loop entry records for ``group``."""

    group: str
    entry_key: str | None = None


@dataclass(frozen=True)
class Collected:
    """``dsl.Collected``: one output of every instance of a task mapped by a loop, in item order."""

    task_id: str
    output: str
    items_task: str | None = None
    """Nested loops: the task publishing the producer's flattened loop entries (each records the map
    index of every enclosing loop), so instances can be grouped per outer item."""
    fixed: tuple[Coordinate, ...] = ()
    """Loops holding both reader and producer: only the reader's own instances are gathered."""
    nest: tuple[str, ...] = ()
    """Loops gathered over outside the producer's own, outermost first: one list level each."""
    flat: bool = False
    """Artifacts: one flat list whatever the nesting (KFP's ``List[Artifact]``)."""


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
    if isinstance(binding, UpstreamOutput):  # nested loops: the entry recording the producer's index
        return (binding.index_from[0],) if binding.index_from is not None else ()
    if isinstance(binding, Collected):
        return tuple(dict.fromkeys(c.entry_key for c in binding.fixed if c.entry_key is not None))
    if isinstance(binding, OneOf):
        return tuple(dict.fromkeys(k for option in binding.options for k in external_keys(option)))
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
