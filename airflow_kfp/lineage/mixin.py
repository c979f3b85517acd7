"""OpenLineage for component operators: what each step read and wrote, through the provider's transport.

The OpenLineage provider's listener calls ``get_openlineage_facets_on_start/complete/failure`` and
sends the result through whatever ``[openlineage] transport`` is configured (nothing at all when none
is). The START event is built before ``execute`` runs, in the listener's forked process or thread
where the task's supervisor channel must not be used, so the inputs and planned output URIs are
resolved earlier, in the task's own process, right after template rendering.

Put :class:`KfpLineageMixin` first in an operator's bases (before ``ComponentOperatorMixin`` and the
Airflow operator class) so its methods win in the MRO.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_kfp.lineage import assets
from airflow_kfp.lineage.datasets import dataset_identity

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_kfp.manifest import ArtifactRecord, Manifest
    from airflow_kfp.operators.base import ResolvedInputs

log = logging.getLogger(__name__)

METRICS_TYPES = ("system.Metrics", "system.ClassificationMetrics", "system.SlicedClassificationMetrics")


def lineage_enabled() -> bool:
    """True when the OpenLineage provider has somewhere to send events."""
    try:
        from airflow.providers.openlineage import conf
    except ImportError:  # pragma: no cover - the provider is a dependency
        return False
    return not conf.is_disabled()


@dataclass
class LineagePlan:
    """What is known before the component runs: resolved inputs, where outputs will go, and whether
    the cache may answer instead (then the outputs are someone else's, known only on completion)."""

    inputs: ResolvedInputs
    output_uris: dict[str, str]
    cache_on: bool


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


class KfpLineageMixin:
    """Reports a component step to OpenLineage and attaches artifact URIs to its asset events."""

    _kfp_lineage_plan: LineagePlan | None = None

    # -- before execute: resolve what START can report ----------------------------------
    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        super().render_template_fields(context, jinja_env)  # type: ignore[misc]
        self._kfp_lineage_plan = None
        if not lineage_enabled():
            return
        try:
            op: Any = self
            settings = op.kfp_settings()
            store = op.artifact_store(settings)
            inputs = op.resolve_inputs(context)
            uris = op.output_uris(context, store)
            cache_on = self._kfp_cache_on(context, settings)
            self._kfp_lineage_plan = LineagePlan(inputs=inputs, output_uris=uris, cache_on=cache_on)
        except Exception as exc:  # the task itself reports bad inputs; START just has less to say
            log.debug("lineage: could not resolve inputs before execute: %s", exc)

    def execute_component(self, context: Mapping[str, Any], **kwargs: Any) -> Manifest:
        manifest: Manifest = super().execute_component(context, **kwargs)  # type: ignore[misc]
        assets.record_asset_events(self, context, manifest)
        return manifest

    # -- facets -------------------------------------------------------------------------
    def _kfp_job_facets(self) -> dict[str, Any]:
        from airflow_kfp.lineage.facets import KfpComponentJobFacet, KfpPipelineJobFacet

        op: Any = self
        return {
            "kfpPipeline": KfpPipelineJobFacet(
                pipelineName=op.pipeline_name, pipelineVersion=op.pipeline_version, taskName=op.task_spec.name
            ),
            "kfpComponent": KfpComponentJobFacet(
                componentName=op.component_spec.name,
                implementation=op.component_spec.implementation.kind,
                **op.kfp_execution().facet_fields(),
            ),
        }

    def _kfp_inputs(self) -> ResolvedInputs | None:
        op: Any = self
        resolved = getattr(op, "kfp_resolved_inputs", None)
        if resolved is not None:
            return resolved  # type: ignore[no-any-return]
        return self._kfp_lineage_plan.inputs if self._kfp_lineage_plan else None

    def _kfp_cache_on(self, context: Mapping[str, Any], settings: Any) -> bool:
        op: Any = self
        switch = getattr(op, "caching_switch", None)
        if switch is not None:
            return bool(switch(context, settings)[0])
        return bool(op.task_spec.caching.enable_caching and settings.enable_caching)

    def _kfp_cache_facet(self, manifest: Manifest) -> Any:
        from airflow_kfp.lineage.facets import KfpCacheRunFacet

        op: Any = self
        cache = manifest.get("cache") or {}
        if self._kfp_lineage_plan is not None:
            enabled = self._kfp_lineage_plan.cache_on
        else:
            enabled = bool(op.task_spec.caching.enable_caching)
            with contextlib.suppress(Exception):  # settings unreadable here: report the task's own choice
                enabled = enabled and bool(op.kfp_settings().enable_caching)
        return KfpCacheRunFacet(
            enabled=enabled or bool(cache.get("hit")),
            hit=bool(cache.get("hit")),
            key=cache.get("key"),
            sourceRunId=cache.get("source_run_id"),
            sourceTaskId=cache.get("source_task_id"),
        )

    def get_openlineage_facets_on_start(self) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_kfp.lineage.facets import KfpParametersRunFacet

        plan = self._kfp_lineage_plan
        op: Any = self
        types = {o.name: o.type for o in op.component_spec.outputs}
        # Outputs only when they will be written where planned: a cache hit reuses other URIs.
        planned = {
            name: {"uri": uri, "type": types.get(name, "system.Artifact")}
            for name, uri in (plan.output_uris if plan and not plan.cache_on else {}).items()
        }
        return OperatorLineage(
            inputs=input_datasets(plan.inputs if plan else None),
            outputs=output_datasets(planned),  # type: ignore[arg-type]
            run_facets={"kfpParameters": KfpParametersRunFacet(inputs=dict(plan.inputs.parameters))} if plan else {},
            job_facets=self._kfp_job_facets(),
        )

    def get_openlineage_facets_on_complete(self, task_instance: Any = None) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_kfp.lineage.facets import KfpParametersRunFacet

        op: Any = self
        manifest: Manifest | None = getattr(op, "kfp_manifest", None)
        if manifest is None:  # nothing ran in this process: report what START knew
            return self.get_openlineage_facets_on_start()
        inputs = self._kfp_inputs()
        return OperatorLineage(
            inputs=input_datasets(inputs),
            outputs=output_datasets(manifest.get("artifacts") or {}),
            run_facets={
                "kfpParameters": KfpParametersRunFacet(
                    inputs=dict(inputs.parameters) if inputs else {}, outputs=dict(manifest.get("parameters") or {})
                ),
                "kfpCache": self._kfp_cache_facet(manifest),
            },
            job_facets=self._kfp_job_facets(),
        )

    def get_openlineage_facets_on_failure(self, task_instance: Any = None) -> OperatorLineage:
        """A failed step wrote nothing that counts: report what it read, no outputs."""
        from airflow.providers.openlineage.extractors import OperatorLineage

        from airflow_kfp.lineage.facets import KfpParametersRunFacet

        inputs = self._kfp_inputs()
        return OperatorLineage(
            inputs=input_datasets(inputs),
            outputs=[],
            run_facets={"kfpParameters": KfpParametersRunFacet(inputs=dict(inputs.parameters))} if inputs else {},
            job_facets=self._kfp_job_facets(),
        )
