"""OpenLineage for component steps: what each step read and wrote, and where it ran.

:class:`LineageService` builds the provider's ``OperatorLineage`` from plain data: the job (pipeline,
task, component, where it runs), the try's prepared run (its inputs as already resolved, planned output
URIs) and the manifest it published. It never resolves inputs itself. The operator's OpenLineage methods
(``KfpLineageMixin``, ``lineage/mixin.py``) delegate here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_kfp.core.artifacts import METRICS_TYPES
from airflow_kfp.lineage.datasets import dataset_identity

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_kfp.manifest import ArtifactRecord, Manifest
    from airflow_kfp.runners.base import ExecutionInfo, ResolvedInputs, TaskRun


def lineage_enabled() -> bool:
    """True when the OpenLineage provider has somewhere to send events."""
    try:
        from airflow.providers.openlineage import conf
    except ImportError:  # pragma: no cover - the provider is a dependency
        return False
    return not conf.is_disabled()


def artifact_facets(record: ArtifactRecord, *, output: bool) -> dict[str, Any]:
    """Dataset facets for one artifact: ours (type, size, digest, metadata, metric values) and the
    standard version / output statistics facets lineage backends already understand."""
    from openlineage.client.facet_v2 import dataset_version_dataset

    from airflow_kfp.lineage.facets import PRODUCER, KfpArtifactDatasetFacet

    kind = str(record.get("type") or "system.Artifact")
    metadata = dict(record.get("metadata") or {})
    facets: dict[str, Any] = {
        "kfpArtifact": KfpArtifactDatasetFacet(
            uri=str(record.get("uri")),
            type=kind,
            size=record.get("size"),
            digest=record.get("digest"),
            metadata=metadata,
            external=True if record.get("external") else None,
        )
    }
    if kind in METRICS_TYPES and metadata:
        facets["kfpMetrics"] = metrics_facet(kind, metadata)
    if record.get("digest") and output:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(
            datasetVersion=str(record["digest"]), producer=PRODUCER
        )
    return facets


def metrics_facet(kind: str, metadata: dict[str, Any]) -> Any:
    from airflow_kfp.lineage.facets import KfpMetricsDatasetFacet

    if kind == "system.Metrics":
        scalars = {k: v for k, v in metadata.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        return KfpMetricsDatasetFacet(type=kind, metrics=scalars)
    if kind == "system.ClassificationMetrics":
        return KfpMetricsDatasetFacet(
            type=kind,
            confusionMatrix=metadata.get("confusionMatrix"),
            confidenceMetrics=metadata.get("confidenceMetrics"),
        )
    return KfpMetricsDatasetFacet(type=kind, slices=metadata)


def input_datasets(inputs: ResolvedInputs | None) -> list[Any]:
    from openlineage.client.event_v2 import InputDataset

    datasets: list[Any] = []
    seen: set[tuple[str, str]] = set()
    for records in (inputs.artifacts if inputs else {}).values():
        for record in records:
            identity = dataset_identity(str(record.get("uri")))
            if identity in seen:
                continue
            seen.add(identity)
            datasets.append(InputDataset(*identity, facets=artifact_facets(record, output=False)))
    return datasets


def output_datasets(records: Mapping[str, ArtifactRecord]) -> list[Any]:
    from openlineage.client.event_v2 import OutputDataset
    from openlineage.client.facet_v2 import output_statistics_output_dataset

    from airflow_kfp.lineage.facets import PRODUCER

    datasets: list[Any] = []
    for record in records.values():
        output_facets: dict[str, Any] = {}
        if record.get("size") is not None:
            output_facets["outputStatistics"] = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                size=int(record["size"]), producer=PRODUCER
            )
        namespace, name = dataset_identity(str(record.get("uri")))
        datasets.append(
            OutputDataset(namespace, name, facets=artifact_facets(record, output=True), outputFacets=output_facets)
        )
    return datasets


@dataclass(frozen=True)
class JobFacts:
    """What lineage says about the job: the pipeline task, its component and where its code runs."""

    pipeline_name: str
    pipeline_version: str
    task_name: str
    component_name: str
    implementation: str
    output_types: Mapping[str, str]
    task_caching: bool
    """The task's own caching choice (``set_caching_options``)."""
    execution: Callable[[], ExecutionInfo]
    """Where the code runs (computed when an event is built: it reads the settings)."""


@dataclass(frozen=True)
class LineageService:
    """The three OpenLineage events of one try, from what the try already knows."""

    job: JobFacts
    run: TaskRun | None
    """The prepared run (None when preparing failed: START then reports less)."""
    manifest: Manifest | None
    settings_caching: Callable[[], bool] | None = None
    """The deployment's caching switch, read only when no prepared run says whether the cache was on."""

    def _job_facets(self) -> dict[str, Any]:
        from airflow_kfp.lineage.facets import KfpComponentJobFacet, KfpPipelineJobFacet

        execution = self.job.execution()
        return {
            "kfpPipeline": KfpPipelineJobFacet(
                pipelineName=self.job.pipeline_name,
                pipelineVersion=self.job.pipeline_version,
                taskName=self.job.task_name,
            ),
            "kfpComponent": KfpComponentJobFacet(
                componentName=self.job.component_name,
                implementation=self.job.implementation,
                image=execution.image,
                runner=execution.runner,
                host=execution.host,
                pythonVersion=execution.python,
            ),
        }

    def _inputs(self) -> ResolvedInputs | None:
        return self.run.inputs if self.run is not None else None

    def _cache_facet(self, manifest: Manifest) -> Any:
        from airflow_kfp.lineage.facets import KfpCacheRunFacet

        cache = manifest.get("cache") or {}
        if self.run is not None:
            enabled = self.run.cache_on
        else:
            enabled = self.job.task_caching
            if self.settings_caching is not None:
                with contextlib.suppress(Exception):  # settings unreadable here: report the task's own choice
                    enabled = enabled and self.settings_caching()
        return KfpCacheRunFacet(
            enabled=enabled or bool(cache.get("hit")),
            hit=bool(cache.get("hit")),
            key=cache.get("key"),
            sourceRunId=cache.get("source_run_id"),
            sourceTaskId=cache.get("source_task_id"),
        )

    def on_start(self) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_kfp.lineage.facets import KfpParametersRunFacet

        run = self.run
        # Outputs only when they will be written where planned: a cache hit reuses other URIs.
        planned = {
            name: {"uri": uri, "type": self.job.output_types.get(name, "system.Artifact")}
            for name, uri in (run.output_uris if run is not None and not run.cache_on else {}).items()
        }
        return OperatorLineage(
            inputs=input_datasets(self._inputs()),
            outputs=output_datasets(planned),  # type: ignore[arg-type]
            run_facets={"kfpParameters": KfpParametersRunFacet(inputs=dict(run.inputs.parameters))} if run else {},
            job_facets=self._job_facets(),
        )

    def on_complete(self) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_kfp.lineage.facets import KfpParametersRunFacet

        manifest = self.manifest
        if manifest is None:  # nothing ran in this process: report what START knew
            return self.on_start()
        inputs = self._inputs()
        return OperatorLineage(
            inputs=input_datasets(inputs),
            outputs=output_datasets(manifest.get("artifacts") or {}),
            run_facets={
                "kfpParameters": KfpParametersRunFacet(
                    inputs=dict(inputs.parameters) if inputs else {}, outputs=dict(manifest.get("parameters") or {})
                ),
                "kfpCache": self._cache_facet(manifest),
            },
            job_facets=self._job_facets(),
        )

    def on_failure(self) -> OperatorLineage:
        """A failed step wrote nothing that counts: report what it read, no outputs."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_kfp.lineage.facets import KfpParametersRunFacet

        inputs = self._inputs()
        return OperatorLineage(
            inputs=input_datasets(inputs),
            outputs=[],
            run_facets={"kfpParameters": KfpParametersRunFacet(inputs=dict(inputs.parameters))} if inputs else {},
            job_facets=self._job_facets(),
        )
