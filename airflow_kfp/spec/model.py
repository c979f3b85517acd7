"""The pipeline model: plain, validated, serialisable data that every other part reads.

Front ends (the DSL, loaders) build it; the compiler, operators, cache and lineage only read it.
Its canonical JSON digest is the pipeline version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

ARTIFACT = "artifact"
PARAMETER = "parameter"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class InputSpec(_Model):
    name: str
    kind: Literal["parameter", "artifact"]
    type: str
    """A parameter type (``NUMBER_INTEGER``...) or an artifact schema title (``system.Dataset``)."""
    has_default: bool = False
    default: Any = None
    is_list: bool = False
    """A list of artifacts, as gathered by ``dsl.Collected``."""
    description: str = ""


class OutputSpec(_Model):
    name: str
    kind: Literal["parameter", "artifact"]
    type: str
    description: str = ""
    is_list: bool = False
    """A list of artifacts: a pipeline output returning ``dsl.Collected`` of an artifact output."""


class SourceLocation(_Model):
    """Where a stretch of a Python component's ``source`` was written (for tracebacks only)."""

    line: int
    """The stretch's first line in ``source`` (1-based); it runs to the next location's line."""
    file: str
    first_line: int
    """That line's number in ``file``."""


class PythonFunction(_Model):
    kind: Literal["python"] = "python"
    function_name: str
    source: str
    source_locations: list[SourceLocation] = Field(default_factory=list, exclude=True)
    """Where the source's functions were defined, so errors name the user's file and line. Not part
    of the pipeline's identity (digest) or the cache key: moving code changes no result."""
    base_image: str = "python:3.11"
    packages_to_install: list[str] = Field(default_factory=list)
    pip_index_urls: list[str] = Field(default_factory=list)
    pip_trusted_hosts: list[str] = Field(default_factory=list)

    @property
    def image(self) -> str:
        return self.base_image

    def __eq__(self, other: object) -> bool:
        """Where the code was written is not what the component is: a spec reloaded from its JSON
        (which leaves ``source_locations`` out) equals the one the DSL built."""
        if not isinstance(other, PythonFunction):
            return NotImplemented
        return self.model_dump() == other.model_dump()


class ContainerImplementation(_Model):
    kind: Literal["container"] = "container"
    image: str
    command: list[str] = Field(default_factory=list)
    args: list[str] = Field(default_factory=list)


class GraphImplementation(_Model):
    """A pipeline used as a component inside another pipeline."""

    kind: Literal["graph"] = "graph"
    pipeline: PipelineSpec


class ImporterImplementation(_Model):
    """``dsl.importer``: an artifact from outside the pipeline (its URI is the ``uri`` input)."""

    kind: Literal["importer"] = "importer"
    artifact_class: str = "system.Artifact"
    reimport: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)


Implementation = Annotated[
    PythonFunction | ContainerImplementation | GraphImplementation | ImporterImplementation,
    Field(discriminator="kind"),
]


TaskConfigFieldName = Literal[
    "RESOURCES",
    "ENV",
    "KUBERNETES_AFFINITY",
    "KUBERNETES_TOLERATIONS",
    "KUBERNETES_NODE_SELECTOR",
    "KUBERNETES_VOLUMES",
]
TASK_CONFIG_FIELDS: tuple[str, ...] = get_args(TaskConfigFieldName)


class TaskConfigPassthrough(_Model):
    """A ``dsl.TaskConfig`` field the component receives (KFP's ``taskConfigPassthroughs``);
    ``apply_to_task``: the setting also applies to the task itself (see ``spec/task_config.py``)."""

    field: TaskConfigFieldName
    apply_to_task: bool = False


class ComponentSpec(_Model):
    name: str
    description: str = ""
    inputs: list[InputSpec] = Field(default_factory=list)
    outputs: list[OutputSpec] = Field(default_factory=list)
    implementation: Implementation
    task_config_passthroughs: list[TaskConfigPassthrough] = Field(default_factory=list)

    @classmethod
    def of_pipeline(cls, pipeline: PipelineSpec) -> ComponentSpec:
        """A pipeline used as a component of another one: its inputs and outputs, run as a nested graph."""
        return cls(
            name=pipeline.name,
            description=pipeline.description,
            inputs=pipeline.inputs,
            outputs=pipeline.output_specs,
            implementation=GraphImplementation(pipeline=pipeline),
        )

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)

    def output(self, name: str) -> OutputSpec | None:
        return next((o for o in self.outputs if o.name == name), None)


class ConstantArgument(_Model):
    kind: Literal["constant"] = "constant"
    value: Any


class PipelineInputArgument(_Model):
    kind: Literal["pipeline_input"] = "pipeline_input"
    name: str


class TaskOutputArgument(_Model):
    kind: Literal["task_output"] = "task_output"
    task: str
    output: str


class LoopItemArgument(_Model):
    """The current item of a ``dsl.ParallelFor`` (or one field of it, for a list of dicts)."""

    kind: Literal["loop_item"] = "loop_item"
    loop: str
    field: str | None = None


class CollectedArgument(_Model):
    """``dsl.Collected``: an output of a task inside a loop, gathered over all iterations as a list."""

    kind: Literal["collected"] = "collected"
    task: str
    output: str


class OneOfArgument(_Model):
    """``dsl.OneOf``: the output of whichever branch of an If/Elif/Else ran."""

    kind: Literal["one_of"] = "one_of"
    options: list[TaskOutputArgument]


class ConcatArgument(_Model):
    """An f-string (or ``%`` / ``str.format``) of pipeline inputs, task outputs and loop items passed as a
    component argument: KFP turns it into a concatenation resolved when the task runs. Each part
    renders as text (KFP's rendering: strings as they are, other values as JSON) and the parts are joined."""

    kind: Literal["concat"] = "concat"
    parts: list[Argument]


Argument = Annotated[
    ConstantArgument
    | PipelineInputArgument
    | TaskOutputArgument
    | LoopItemArgument
    | CollectedArgument
    | OneOfArgument
    | ConcatArgument,
    Field(discriminator="kind"),
]


def argument_leaves(arg: Argument) -> list[Argument]:
    """The values an argument is made of: itself, or each part of a concatenation."""
    return [leaf for part in arg.parts for leaf in argument_leaves(part)] if isinstance(arg, ConcatArgument) else [arg]


# Imported here, once ``Argument`` exists: KubernetesSettings names it in a field, so its models (and
# TaskSpec, PipelineSpec) are built once, at class creation, instead of failing and being rebuilt
# (issue 15: those failed builds were ~3% of what airflow-kfp adds to a 200-component DAG file's parse).
from airflow_kfp.spec.kubernetes import KubernetesSettings  # noqa: E402


class ConditionSpec(_Model):
    """One comparison of a branch condition; ``negate`` holds for the branches after it (Elif/Else)."""

    left: Argument
    operator: Literal["==", "!=", "<", "<=", ">", ">="]
    right: Argument
    negate: bool = False


class GroupSpec(_Model):
    """A control-flow group (dsl.If/Elif/Else, dsl.ParallelFor, dsl.ExitHandler) holding tasks."""

    name: str
    kind: Literal["condition", "loop", "exit_handler"]
    parent: str | None = None
    """The enclosing control-flow group, if any."""
    conditions: list[ConditionSpec] = Field(default_factory=list)
    """Condition groups: the branch runs when every comparison holds."""
    branches: str | None = None
    """Condition groups: the If/Elif/Else chain this branch belongs to (named after its If)."""
    is_else: bool = False
    items: Argument | None = None
    """Loop groups: a constant list, a pipeline input or a task output holding a list."""
    parallelism: int | None = None
    exit_task: str | None = None
    """Exit handler groups: the task that runs after the group, whatever its outcome."""


class Resources(_Model):
    cpu_request: str | None = None
    cpu_limit: str | None = None
    memory_request: str | None = None
    memory_limit: str | None = None
    accelerator_type: str | None = None
    accelerator_limit: int | None = None
    runtime_values: dict[str, Argument] = Field(default_factory=dict)
    """Fields given as pipeline inputs or task outputs (``set_cpu_limit(task.output)``), as in KFP:
    field name (``cpu_limit``, ``memory_request``, ``accelerator_type``, ``accelerator_limit``...) ->
    the value, resolved when the task runs and checked then as the static field would be. A field
    is either static or here, never both. The Kubernetes runner puts the resolved values in the pod."""


class CachingOptions(_Model):
    enable_caching: bool = True
    cache_key: str | None = None
    max_staleness: str | None = None
    """A duration such as ``"7d"`` or ``"12h"``; older cache entries are misses."""


class RetryPolicy(_Model):
    num_retries: int = 0
    backoff_duration: str = "0s"
    backoff_factor: float = 2.0
    backoff_max_duration: str = "3600s"


KUBERNETES_PREFIX = "kubernetes."
"""``TaskSpec.runtime_settings`` keys of kfp-kubernetes names (the others are ``Resources`` fields)."""


class TaskSpec(_Model):
    name: str
    component: str
    """Key into ``PipelineSpec.components``."""
    arguments: dict[str, Argument] = Field(default_factory=dict)
    after: list[str] = Field(default_factory=list)
    display_name: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    resources: Resources = Field(default_factory=Resources)
    caching: CachingOptions = Field(default_factory=CachingOptions)
    retry: RetryPolicy | None = None
    container_image: str | None = None
    ignore_upstream_failure: bool = False
    kubernetes: KubernetesSettings = Field(default_factory=KubernetesSettings)
    """Platform settings (node selectors, tolerations, volumes...) read by the Kubernetes runner."""
    group: str | None = None
    """The innermost control-flow group (``PipelineSpec.groups``) the task was defined in."""
    output_assets: dict[str, str | None] = Field(default_factory=dict)
    """Artifact outputs published as Airflow Assets (``set_output_asset``): output name -> asset URI,
    None for the default ``kfp://<pipeline>/<task_id>/<output>``."""

    def runtime_settings(self) -> dict[str, Argument]:
        """Task settings given as pipeline inputs or task outputs, resolved when the task runs: resource
        fields by name, kfp-kubernetes object names as ``kubernetes.<place>``."""
        return {
            **self.resources.runtime_values,
            **{f"{KUBERNETES_PREFIX}{k}": v for k, v in self.kubernetes.runtime_values.items()},
        }


class WorkspaceSpec(_Model):
    """KFP's pipeline workspace (``PipelineConfig(workspace=...)``): one claim per run, mounted by every
    task at ``/kfp-workspace`` (``planning/workspace.py``)."""

    size: str
    pvc_spec_patch: dict[str, Any] = Field(default_factory=dict)
    """KFP's ``pvcSpecPatch``: fields of the claim's spec (``accessModes``, ``storageClassName``...)."""


class PipelineSpec(_Model):
    name: str
    description: str = ""
    inputs: list[InputSpec] = Field(default_factory=list)
    outputs: dict[str, TaskOutputArgument | OneOfArgument | CollectedArgument] = Field(default_factory=dict)
    """What a pipeline returns: a task output, ``dsl.OneOf(...)`` of its branches or ``dsl.Collected(...)``
    of a loop (read by the tasks of an enclosing pipeline)."""
    output_specs: list[OutputSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    components: dict[str, ComponentSpec] = Field(default_factory=dict)
    groups: list[GroupSpec] = Field(default_factory=list)
    """Control-flow groups, parents before children."""
    pipeline_root: str | None = None
    """KFP's ``pipeline_root``: where this pipeline's artifacts go unless the DAG says otherwise."""
    workspace: WorkspaceSpec | None = None

    def task(self, name: str) -> TaskSpec:
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(name)

    def component_of(self, task: TaskSpec) -> ComponentSpec:
        return self.components[task.component]

    def input(self, name: str) -> InputSpec | None:
        return next((i for i in self.inputs if i.name == name), None)

    def canonical_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))

    def digest(self) -> str:
        """The pipeline version: identical pipelines have identical digests."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


ConcatArgument.model_rebuild()  # the forward references of a cycle: built once the cycle is defined
GraphImplementation.model_rebuild()
ComponentSpec.model_rebuild()
