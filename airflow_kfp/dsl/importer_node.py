"""``dsl.importer``: bring an existing artifact (an S3 object or folder, a local file) into a pipeline."""

from __future__ import annotations

from typing import Any

from airflow_kfp.dsl.channels import PipelineChannel
from airflow_kfp.dsl.pipeline_context import current_builder
from airflow_kfp.dsl.pipeline_task import PipelineTask
from airflow_kfp.runtime import types as ptypes
from airflow_kfp.runtime.artifacts import Artifact
from airflow_kfp.spec.model import ARTIFACT, PARAMETER, ComponentSpec, ImporterImplementation, InputSpec, OutputSpec
from airflow_kfp.spec.validate import PipelineDefinitionError

OUTPUT = "artifact"


def importer(
    artifact_uri: str | PipelineChannel,
    artifact_class: type[Artifact] = Artifact,
    reimport: bool = False,
    metadata: dict[str, Any] | None = None,
) -> PipelineTask:
    """KFP's importer: the task's ``.output`` is the artifact at ``artifact_uri``.

    Nothing is copied: downstream tasks read the artifact where it is. Its ETag (or size and
    modification time) is recorded, so the cache sees when the data behind the URI changes.
    """
    builder = current_builder("dsl.importer")
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
    from airflow_kfp.dsl.formatting import find_hidden_channel

    hidden = find_hidden_channel(metadata or {})
    if hidden is not None:
        raise PipelineDefinitionError(
            f"pipeline '{builder.name}': dsl.importer(metadata=...) holds {hidden}, a run-time value; importer "
            f"metadata is fixed when the pipeline is defined here. Pass constants, or set the metadata in a "
            f"component that reads the imported artifact."
        )
    if isinstance(artifact_uri, str):
        from airflow_kfp.dsl.formatting import formatted_argument

        if formatted_argument(builder.formatted, artifact_uri) is not None:
            raise PipelineDefinitionError(
                f"pipeline '{builder.name}': dsl.importer(artifact_uri={artifact_uri!r}) formats run-time values "
                f"into the URI; pass the whole URI as a pipeline input or task output instead."
            )
    spec = ComponentSpec(
        name="importer",
        inputs=[InputSpec(name="uri", kind=PARAMETER, type=ptypes.STRING)],
        outputs=[OutputSpec(name=OUTPUT, kind=ARTIFACT, type=artifact_class.schema_title)],
        implementation=ImporterImplementation(
            artifact_class=artifact_class.schema_title, reimport=reimport, metadata=dict(metadata or {})
        ),
    )
    key = builder.component_key(spec, id(spec))
    return PipelineTask(builder, spec, key, {"uri": artifact_uri})
