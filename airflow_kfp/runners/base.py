"""What one try of a component task carries through the operator, its services and its runner.

Plain data shared by the operator (``base``), the cache service (``caching``), the runners and the
lineage service, so none of them reaches into another's attributes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from airflow_kfp.config import KfpSettings
    from airflow_kfp.manifest import ArtifactRecord, Manifest
    from airflow_kfp.stores.artifact_store import ArtifactStore


@dataclass
class ResolvedInputs:
    """A task's input values: parameters (coerced to their types) and artifact records from manifests."""

    parameters: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, list[ArtifactRecord]] = field(default_factory=dict)


@dataclass
class RunResult:
    """What the runner reports back: parameter values and, per output artifact, what was stored."""

    parameters: dict[str, Any]
    artifacts: dict[str, ArtifactRecord]


@dataclass(frozen=True)
class ExecutionInfo:
    """Where a step's code runs, as lineage reports it: a pod's image, or the worker host and Python."""

    runner: str
    image: str | None = None
    host: str | None = None
    python: str | None = None


@dataclass
class TaskRun:
    """One try of a task in this process, prepared once: the settings and store it uses, its inputs
    (resolved once: lineage reads these, it never resolves them again), where its outputs go, and,
    as it proceeds, the cache's decision and the manifest it published."""

    key: tuple[str, int, int]
    """(run id, map index, try number): a prepared run is reused only by the same try."""
    settings: KfpSettings
    store: ArtifactStore
    inputs: ResolvedInputs
    output_uris: dict[str, str]
    cache_on: bool
    """Whether the cache may answer (then the outputs are someone else's, known only on completion)."""
    manifest: Manifest | None = None


class ComponentRunner(Protocol):
    """What executes a component's code for one try, called by the operator only on a cache miss
    (the seam KFP's local task handlers have): the local runner (``operators/local_runner.LocalRunner``,
    a subprocess, called by ``operators/local.py``), the Kubernetes runner (``operators/kubernetes.py``,
    a pod through the KubernetesPodOperator) and the importer (``operators/importer.py``, records an
    existing artifact). It stores the output artifacts at ``output_uris`` and reports what it stored."""

    kfp_runner: ClassVar[str]
    """Its ``config.Runner`` name, as lineage reports it ("none" for the importer)."""

    def run_component(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> RunResult: ...
