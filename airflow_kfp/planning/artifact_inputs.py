"""Artifact inputs of the pipeline a DAG runs: the run passes the artifact's URI.

KFP lets a run hand an existing artifact to a pipeline's artifact input (``input3: Input[Artifact]``
on the pipeline, or a bare component with artifact inputs run as a pipeline). An Airflow run passes
params only, so ``to_dag`` renders each such input as a string Param holding the artifact's URI and an
importer task (``dsl.importer``'s semantics: nothing copied, the URI's ETag or size and modification
time recorded for the cache) whose output feeds every task that read the input. Optional artifact
inputs (``= None``) stay absent: a task they fed keeps its own default. A list of artifacts
(``Input[List[Dataset]]``) takes a list of URIs: the importer runs once per URI, as the task of a
``dsl.ParallelFor`` over the list, and the tasks that read the input get ``dsl.Collected`` of its
output, in the order of the URIs (the model's existing loop and fan-in, nothing new to run).
"""

from __future__ import annotations

from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.spec.model import (
    ARTIFACT,
    PARAMETER,
    Argument,
    CollectedArgument,
    ComponentSpec,
    ConcatArgument,
    GroupSpec,
    ImporterImplementation,
    InputSpec,
    LoopItemArgument,
    OutputSpec,
    PipelineInputArgument,
    PipelineSpec,
    TaskOutputArgument,
    TaskSpec,
)

IMPORTED = "artifact"
"""The importer component's output name (the DSL's ``dsl.importer`` output)."""


def _importable(spec_input: InputSpec) -> bool:
    return spec_input.kind == ARTIFACT and not spec_input.has_default


def import_artifact_inputs(spec: PipelineSpec) -> PipelineSpec:
    """``spec`` with each required artifact input taken as a URI (a list of URIs for a list of
    artifacts) and brought in by an importer task."""
    wanted = [i for i in spec.inputs if _importable(i)]
    absent = {i.name for i in spec.inputs if i.kind == ARTIFACT and i.has_default}
    if not wanted and not absent:
        return spec
    names = {t.name for t in spec.tasks}
    loops = {g.name for g in spec.groups}
    components = dict(spec.components)
    importer_of: dict[str, Argument] = {}
    new_tasks: list[TaskSpec] = []
    new_groups: list[GroupSpec] = []
    for spec_input in wanted:
        task_name = _free(f"import-{spec_input.name.replace('_', '-')}", names)
        key = _free(f"comp-{task_name}", set(components))
        components[key] = ComponentSpec(
            name="importer",
            description=f"Brings in the artifact passed to pipeline input '{spec_input.name}' by its URI.",
            inputs=[InputSpec(name="uri", kind=PARAMETER, type=ptypes.STRING)],
            outputs=[OutputSpec(name=IMPORTED, kind=ARTIFACT, type=spec_input.type)],
            implementation=ImporterImplementation(artifact_class=spec_input.type),
        )
        uri: Argument = PipelineInputArgument(name=spec_input.name)
        group = None
        if spec_input.is_list:
            group = _free(f"for-loop-{task_name}", loops)
            new_groups.append(GroupSpec(name=group, kind="loop", items=uri))
            uri = LoopItemArgument(loop=group)
            importer_of[spec_input.name] = CollectedArgument(task=task_name, output=IMPORTED)
        else:
            importer_of[spec_input.name] = TaskOutputArgument(task=task_name, output=IMPORTED)
        new_tasks.append(TaskSpec(name=task_name, component=key, arguments={"uri": uri}, group=group))

    def rebind(arg: Argument) -> Argument:
        if isinstance(arg, PipelineInputArgument) and arg.name in importer_of:
            return importer_of[arg.name]
        if isinstance(arg, ConcatArgument):
            return arg.model_copy(update={"parts": [rebind(p) for p in arg.parts]})
        return arg

    def given(task: TaskSpec, name: str, arg: Argument) -> bool:
        """An optional artifact input the run leaves absent is not passed on: the task's own default holds."""
        target = spec.components[task.component].input(name)
        unset = isinstance(arg, PipelineInputArgument) and arg.name in absent
        return not (unset and target is not None and target.has_default)

    tasks = [
        t.model_copy(update={"arguments": {k: rebind(v) for k, v in t.arguments.items() if given(t, k, v)}})
        for t in spec.tasks
    ]
    groups = [g.model_copy(update={"items": rebind(g.items)}) if g.items is not None else g for g in spec.groups]
    inputs = [
        InputSpec(
            name=i.name,
            kind=PARAMETER,
            type=ptypes.LIST if i.is_list else ptypes.STRING,
            description=i.description
            or (
                f"URIs of the {i.type} artifacts for pipeline input '{i.name}': a list of one or more strings."
                if i.is_list
                else f"URI of the {i.type} artifact for pipeline input '{i.name}'."
            ),
        )
        if i.name in importer_of
        else i
        for i in spec.inputs
    ]
    return spec.model_copy(
        update={
            "inputs": inputs,
            "tasks": new_tasks + tasks,
            "components": components,
            "groups": new_groups + groups,
        }
    )


URI_LIST_SCHEMA: dict[str, Any] = {"items": {"type": "string", "minLength": 1}, "minItems": 1}
"""The Param schema of a list of artifact URIs: at least one (the importer is a mapped task, and an
Airflow mapping over nothing would skip the readers instead of handing them an empty list)."""


def uri_list_inputs(spec: PipelineSpec) -> set[str]:
    """Pipeline inputs that are lists of artifact URIs: the items of a loop whose task imports each."""
    components = spec.components
    importing = {
        t.group
        for t in spec.tasks
        if t.group is not None
        and components[t.component].implementation.kind == "importer"
        and t.arguments.get("uri") == LoopItemArgument(loop=t.group)
    }
    return {g.items.name for g in spec.groups if g.name in importing and isinstance(g.items, PipelineInputArgument)}


def _free(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate)
    return candidate
