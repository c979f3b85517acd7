"""``dsl.importer``: bring an existing artifact (an S3 object or folder, a local file) into a pipeline."""

from __future__ import annotations

from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.core.artifacts import Artifact
from airflow_kfp.dsl.channels import PipelineChannel
from airflow_kfp.dsl.control_flow import CollectedChannel, OneOfChannel
from airflow_kfp.dsl.formatting import TOKEN, has_token
from airflow_kfp.dsl.pipeline_context import PipelineBuilder, active_builder, current_builder, outside_pipeline_call
from airflow_kfp.dsl.pipeline_task import PipelineTask
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import (
    ARTIFACT,
    PARAMETER,
    Argument,
    ComponentSpec,
    ImporterImplementation,
    InputSpec,
    OutputSpec,
)

OUTPUT = "artifact"
METADATA = "metadata"
"""Name of the importer's first metadata input (KFP's ``metadata``, ``metadata-2``...)."""


def importer(
    artifact_uri: str | PipelineChannel,
    artifact_class: type[Artifact] = Artifact,
    reimport: bool = False,
    metadata: dict[str, Any] | None = None,
    download_to_workspace: bool = False,
) -> PipelineTask:
    """KFP's importer: the task's ``.output`` is the artifact at ``artifact_uri``.

    Nothing is copied: downstream tasks read the artifact where it is. Its ETag (or size and
    modification time) is recorded, so the cache sees when the data behind the URI changes.
    """
    if active_builder() is None and isinstance(artifact_uri, str):
        given = {"uri": artifact_uri, "artifact_class": artifact_class, "reimport": reimport, "metadata": metadata}
        ran = outside_pipeline_call(importer, given)  # kfp.local: import now (airflow_kfp.local)
        if ran is not None:
            return ran  # type: ignore[no-any-return]
    builder = current_builder("dsl.importer")
    if download_to_workspace:
        raise PipelineDefinitionError(
            f"pipeline '{builder.name}': dsl.importer(download_to_workspace=True) is not supported: the importer runs "
            "on the Airflow worker, which cannot write into the run's workspace claim. Import by URI (downstream "
            "tasks read the artifact where it is), or copy it into dsl.WORKSPACE_PATH_PLACEHOLDER in a component."
        )
    if not (isinstance(artifact_class, type) and issubclass(artifact_class, Artifact)):
        raise PipelineDefinitionError(
            f"pipeline '{builder.name}': dsl.importer(artifact_class={artifact_class!r}) needs an artifact "
            f"class such as dsl.Dataset or dsl.Model."
        )
    if isinstance(artifact_uri, PipelineChannel):
        if artifact_uri.kind != PARAMETER or artifact_uri.type != ptypes.STRING:
            raise PipelineDefinitionError(
                f"pipeline '{builder.name}': dsl.importer(artifact_uri=...) needs a string, got {artifact_uri!r}."
            )
    elif not isinstance(artifact_uri, str) or not artifact_uri:
        raise PipelineDefinitionError(
            f"pipeline '{builder.name}': dsl.importer(artifact_uri={artifact_uri!r}) needs a URI string."
        )
    metadata_inputs = _MetadataInputs(builder)
    fixed_metadata = metadata_inputs.walk(dict(metadata or {}))
    if isinstance(artifact_uri, str):
        from airflow_kfp.dsl.formatting import formatted_argument

        if formatted_argument(builder.formatted, artifact_uri) is not None:
            raise PipelineDefinitionError(
                f"pipeline '{builder.name}': dsl.importer(artifact_uri={artifact_uri!r}) formats run-time values "
                f"into the URI; pass the whole URI as a pipeline input or task output instead."
            )
    spec = ComponentSpec(
        name="importer",
        inputs=[InputSpec(name="uri", kind=PARAMETER, type=ptypes.STRING), *metadata_inputs.specs],
        outputs=[OutputSpec(name=OUTPUT, kind=ARTIFACT, type=artifact_class.schema_title)],
        implementation=ImporterImplementation(
            artifact_class=artifact_class.schema_title, reimport=reimport, metadata=fixed_metadata
        ),
    )
    key = builder.component_key(spec, id(spec))
    task = PipelineTask(builder, spec, key, {"uri": artifact_uri})
    task.spec.arguments.update(metadata_inputs.arguments)  # already model arguments
    return task


class _MetadataInputs:
    """Run-time values in ``dsl.importer(metadata=...)``, as KFP compiles them: each distinct pipeline
    input, task output or loop item (also inside an f-string, in a key or a value) becomes an importer
    input ``metadata``, ``metadata-2``... and its place a ``{{$.inputs.parameters['...']}}``
    placeholder, filled when the importer runs."""

    def __init__(self, builder: PipelineBuilder) -> None:
        self.builder = builder
        self.specs: list[InputSpec] = []
        self.arguments: dict[str, Argument] = {}

    def _input(self, argument: Argument, type_: str) -> str:
        name = next((n for n, a in self.arguments.items() if a == argument), None)
        if name is None:
            name = METADATA if not self.arguments else f"{METADATA}-{len(self.arguments) + 1}"
            self.arguments[name] = argument
            self.specs.append(InputSpec(name=name, kind=PARAMETER, type=type_))
        return "{{$.inputs.parameters['" + name + "']}}"

    def walk(self, value: Any) -> Any:
        if isinstance(value, PipelineChannel):
            if value.kind != PARAMETER or isinstance(value, CollectedChannel | OneOfChannel):
                raise PipelineDefinitionError(
                    f"pipeline '{self.builder.name}': dsl.importer(metadata=...) holds {value!r}; metadata takes "
                    f"parameters (pipeline inputs, task outputs, loop items); pass the value to a component first."
                )
            return self._input(value.to_argument(), value.type)
        if isinstance(value, str) and has_token(value):
            return TOKEN.sub(lambda m: self._token(m.group(0), value), value)
        if isinstance(value, dict):
            return {self.walk(k): self.walk(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.walk(v) for v in value]
        return value

    def _token(self, token: str, text: str) -> str:
        argument = self.builder.formatted.get(token)
        if argument is None:
            raise PipelineDefinitionError(
                f"pipeline '{self.builder.name}': dsl.importer(metadata=...) holds {text!r}, with a value of "
                f"another pipeline; pass values of this pipeline only."
            )
        type_ = token.rsplit(";type=", 1)[1].rstrip(";}")
        return self._input(argument, type_)
