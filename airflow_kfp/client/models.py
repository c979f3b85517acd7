"""What ``airflow_kfp.Client`` returns: KFP's ``kfp_server_api`` V2beta1 objects, by attribute name.

A KFP notebook reads ``run.state``, ``run.run_id``, ``experiment.experiment_id``,
``pipeline.pipeline_id``, ``response.runs`` and ``response.next_page_token``; the same names work
here. ``to_dict()`` gives the plain data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_kfp.client.http import AirflowApi


class _Model:
    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}  # type: ignore[call-overload]


@dataclass
class V2beta1Experiment(_Model):
    experiment_id: str
    display_name: str
    description: str = ""
    created_at: str | None = None
    namespace: str | None = None
    storage_state: str = "AVAILABLE"


@dataclass
class V2beta1ListExperimentsResponse(_Model):
    experiments: list[V2beta1Experiment] | None
    total_size: int
    next_page_token: str = ""


@dataclass
class V2beta1Pipeline(_Model):
    pipeline_id: str
    display_name: str
    description: str = ""
    created_at: str | None = None
    namespace: str | None = None


@dataclass
class V2beta1ListPipelinesResponse(_Model):
    pipelines: list[V2beta1Pipeline] | None
    total_size: int
    next_page_token: str = ""


@dataclass
class V2beta1PipelineVersion(_Model):
    pipeline_version_id: str
    pipeline_id: str
    display_name: str
    description: str = ""
    created_at: str | None = None
    digest: str = ""
    """SHA-256 of the uploaded package."""
    dag_id: str = ""
    """The Airflow DAG that runs this version."""


@dataclass
class V2beta1ListPipelineVersionsResponse(_Model):
    pipeline_versions: list[V2beta1PipelineVersion] | None
    total_size: int
    next_page_token: str = ""


@dataclass
class V2beta1PipelineVersionReference(_Model):
    pipeline_id: str | None = None
    pipeline_version_id: str | None = None


@dataclass
class V2beta1RuntimeConfig(_Model):
    parameters: dict[str, Any] = field(default_factory=dict)
    pipeline_root: str | None = None


@dataclass
class ArtifactInfo(_Model):
    """One output artifact of a task, as its manifest records it; ``download`` fetches its bytes."""

    name: str
    uri: str
    type: str
    metadata: dict[str, Any]
    digest: str | None
    size: int | None
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    _api: AirflowApi | None = field(default=None, repr=False, compare=False)

    def download(self, path: str | Path) -> Path:
        """Write the artifact (a file; a folder's file list as JSON) to ``path``, digest-checked by the server."""
        if self._api is None:
            raise RuntimeError("this artifact was not read through a Client")
        return self._api.download_artifact(self, Path(path))


@dataclass
class V2beta1PipelineTaskDetail(_Model):
    task_id: str
    display_name: str
    state: str
    map_index: int = -1
    create_time: str | None = None
    end_time: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    """Output parameters."""
    inputs: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, ArtifactInfo] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    cache_hit: bool = False
    error: str | None = None


@dataclass
class V2beta1RunDetails(_Model):
    task_details: list[V2beta1PipelineTaskDetail] = field(default_factory=list)


@dataclass
class V2beta1Run(_Model):
    """A DAG run, with KFP's names. ``run_id`` is ``<dag_id>/<Airflow run id>``."""

    run_id: str
    display_name: str
    state: str
    """KFP's run state: PENDING, RUNNING, SUCCEEDED, FAILED, CANCELED, SKIPPED."""
    experiment_id: str | None = None
    pipeline_version_reference: V2beta1PipelineVersionReference | None = None
    runtime_config: V2beta1RuntimeConfig = field(default_factory=V2beta1RuntimeConfig)
    created_at: str | None = None
    scheduled_at: str | None = None
    finished_at: str | None = None
    run_details: V2beta1RunDetails | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    """Every scalar metric any step logged, keyed ``step/metric``."""
    pipeline_version: str | None = None
    """The pipeline's digest the run used."""
    recurring_run_id: str | None = None
    error: str | None = None
    dag_id: str = ""
    airflow_run_id: str = ""


@dataclass
class V2beta1ListRunsResponse(_Model):
    runs: list[V2beta1Run] | None
    total_size: int
    next_page_token: str = ""


@dataclass
class V2beta1CronSchedule(_Model):
    cron: str
    start_time: str | None = None
    end_time: str | None = None


@dataclass
class V2beta1PeriodicSchedule(_Model):
    interval_second: int
    start_time: str | None = None
    end_time: str | None = None


@dataclass
class V2beta1Trigger(_Model):
    cron_schedule: V2beta1CronSchedule | None = None
    periodic_schedule: V2beta1PeriodicSchedule | None = None


@dataclass
class V2beta1RecurringRun(_Model):
    recurring_run_id: str
    display_name: str
    status: str
    """ENABLED or DISABLED (Airflow's pause flag of the recurring run's DAG)."""
    trigger: V2beta1Trigger
    max_concurrency: int
    no_catchup: bool
    pipeline_version_reference: V2beta1PipelineVersionReference
    runtime_config: V2beta1RuntimeConfig
    experiment_id: str | None = None
    description: str = ""
    created_at: str | None = None
    dag_id: str = ""


@dataclass
class V2beta1ListRecurringRunsResponse(_Model):
    recurring_runs: list[V2beta1RecurringRun] | None
    total_size: int
    next_page_token: str = ""
