"""The importer task: records an existing artifact (URI, size, ETag/mtime) without running code."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator

from airflow_kfp.access import check_import
from airflow_kfp.config import KfpSettings
from airflow_kfp.errors import ComponentFailedError
from airflow_kfp.lineage.mixin import KfpLineageMixin
from airflow_kfp.manifest import ArtifactRecord
from airflow_kfp.operators.base import ComponentOperatorMixin
from airflow_kfp.runners.base import ResolvedInputs, RunResult
from airflow_kfp.runtime.placeholders import substitute_input_parameters
from airflow_kfp.stores.artifact_store import ArtifactStore, ArtifactStoreError, UnsupportedURIError
from airflow_kfp.stores.factory import get_artifact_store


def store_root_of(uri: str) -> str:
    """The store that holds ``uri``: its bucket for S3, its folder for a local path."""
    if uri.startswith("s3://"):
        return "s3://" + uri[len("s3://") :].split("/", 1)[0]
    path = uri[len("file://") :] if uri.startswith("file://") else uri
    return posixpath.dirname(path.rstrip("/")) or "/"


class ImporterOperator(KfpLineageMixin, ComponentOperatorMixin, BaseOperator):
    template_fields: Sequence[str] = ("external_arguments",)
    ui_color = "#fdf6e3"

    def execute(self, context: Any) -> Any:
        return self.execute_component(context)

    def output_uris(self, context: Mapping[str, Any], store: ArtifactStore) -> dict[str, str]:
        return {}

    def run_component(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> RunResult:
        uri = str(inputs.parameters.get("uri") or "")
        if not uri:
            raise ComponentFailedError(f"{self.where('uri')}: the importer was given an empty URI.")
        impl = self.component_spec.implementation
        artifact_type = getattr(impl, "artifact_class", "system.Artifact")
        metadata = substitute_input_parameters(dict(getattr(impl, "metadata", {}) or {}), inputs.parameters)
        try:
            source = get_artifact_store(
                store_root_of(uri), settings.artifact_conn_id or None, outage_window_s=settings.store_outage_window_s()
            )
        except UnsupportedURIError:
            # KFP's importer records the URI and never reads it: a location no artifact store here
            # reaches (gs://, oci://, hf://...) is recorded as given; the components reading it need access.
            self.log.warning("Recorded %s as given: no artifact store reaches it, so it was not checked.", uri)
            record = ArtifactRecord(uri=uri, type=artifact_type, metadata=metadata, external=True)
            return RunResult(parameters={}, artifacts={"artifact": record})
        normalised = uri if "://" in uri else source.uri_for(posixpath.basename(uri.rstrip("/")))
        check_import(
            normalised,
            roots=self.known_roots(store),
            dag_id=self.dag_id_of(context),
            import_from=settings.import_from_dags,
            where=self.where("uri"),
        )
        try:
            info = source.stat(normalised)
        except ArtifactStoreError as exc:
            raise ArtifactStoreError(f"{self.where('uri')}: cannot read imported artifact {uri}: {exc}") from exc
        if info is None:
            raise ComponentFailedError(
                f"{self.where('uri')}: the imported artifact {uri} does not exist; check the URI or create it first."
            )
        record = ArtifactRecord(
            uri=info.uri,
            type=artifact_type,
            metadata=metadata,
            size=info.size,
            digest=info.digest,
            etag=info.etag,
            mtime=info.mtime,
            external=True,
        )
        self.log.info("Imported %s (%d bytes, etag %s, mtime %s)", info.uri, info.size, info.etag, info.mtime)
        return RunResult(parameters={}, artifacts={"artifact": record})
