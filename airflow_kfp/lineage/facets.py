"""The package's own OpenLineage facets.

Each facet names its JSON schema by URL in ``_schemaURL``; the schemas ship inside the package
(``airflow_kfp/lineage/schemas``), and :func:`schema_path` maps a URL back to its file, so consumers
and tests can validate facets without fetching anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attr
from openlineage.client.facet_v2 import DatasetFacet, JobFacet, RunFacet

from airflow_kfp.version import __version__

SCHEMA_VERSION = "1-0-0"
SCHEMA_BASE_URL = f"https://airflow-kfp.dev/spec/facets/{SCHEMA_VERSION}/"
PRODUCER = f"https://airflow-kfp.dev/releases/{__version__}"
SCHEMAS_DIR = Path(__file__).resolve().parent / "schemas"


def schema_url(facet_class: str) -> str:
    return f"{SCHEMA_BASE_URL}{facet_class}.json#/$defs/{facet_class}"


def schema_path(url: str) -> Path:
    """The shipped schema file for one of this package's ``_schemaURL`` values."""
    document = url.split("#", 1)[0]
    if not document.startswith(SCHEMA_BASE_URL):
        raise ValueError(f"{url!r} is not an airflow-kfp facet schema URL (they start with {SCHEMA_BASE_URL})")
    path = SCHEMAS_DIR / document[len(SCHEMA_BASE_URL) :]
    if not path.is_file():
        raise FileNotFoundError(f"no schema shipped for {url!r} (looked for {path})")
    return path


def _producer() -> str:
    return PRODUCER


class _OwnSchema:
    """A facet's ``_schemaURL`` names the schema this package ships for it, after its class."""

    @classmethod
    def _get_schema(cls) -> str:
        return schema_url(cls.__name__)


@attr.define
class KfpArtifactDatasetFacet(_OwnSchema, DatasetFacet):
    """An artifact as the pipeline knows it: its KFP type, size, digest and metadata."""

    uri: str
    type: str
    size: int | None = None
    digest: str | None = None
    metadata: dict[str, Any] = attr.field(factory=dict)
    external: bool | None = None
    _producer: str = attr.field(factory=_producer, kw_only=True)


@attr.define
class KfpMetricsDatasetFacet(_OwnSchema, DatasetFacet):
    """The values of a Metrics / ClassificationMetrics artifact, so a catalog can show them."""

    type: str
    metrics: dict[str, int | float] | None = None
    confusionMatrix: dict[str, Any] | None = None
    confidenceMetrics: list[dict[str, float]] | None = None
    slices: dict[str, Any] | None = None
    _producer: str = attr.field(factory=_producer, kw_only=True)


@attr.define
class KfpParametersRunFacet(_OwnSchema, RunFacet):
    """Parameter values the task ran with (inputs) and produced (outputs, known on completion)."""

    inputs: dict[str, Any] = attr.field(factory=dict)
    outputs: dict[str, Any] | None = None
    _producer: str = attr.field(factory=_producer, kw_only=True)


@attr.define
class KfpCacheRunFacet(_OwnSchema, RunFacet):
    """Whether the outputs were reused from an earlier run, and from which."""

    enabled: bool
    hit: bool
    key: str | None = None
    sourceRunId: str | None = None
    sourceTaskId: str | None = None
    _producer: str = attr.field(factory=_producer, kw_only=True)


@attr.define
class KfpPipelineJobFacet(_OwnSchema, JobFacet):
    """The pipeline this step belongs to; ``pipelineVersion`` is the digest of its definition."""

    pipelineName: str
    pipelineVersion: str
    taskName: str
    _producer: str = attr.field(factory=_producer, kw_only=True)


@attr.define
class KfpComponentJobFacet(_OwnSchema, JobFacet):
    """The component the step runs and where: the pod's image, or the worker host and its Python."""

    componentName: str
    implementation: str
    image: str | None = None
    runner: str | None = None
    host: str | None = None
    pythonVersion: str | None = None
    _producer: str = attr.field(factory=_producer, kw_only=True)


FACET_CLASSES = (
    KfpArtifactDatasetFacet,
    KfpMetricsDatasetFacet,
    KfpParametersRunFacet,
    KfpCacheRunFacet,
    KfpPipelineJobFacet,
    KfpComponentJobFacet,
)
