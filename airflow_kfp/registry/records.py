"""What the pipeline registry holds: pipelines, their versions, recurring runs and experiments.

Every record is written once (``if_absent``) and never rewritten, so a reader that has seen a key
never needs to read it again: that is what keeps the registry DAG file's parse cheap as uploads grow.
Ids are derived from names (``uuid5``), so two clients uploading the same name race to one key and
exactly one wins. Changing state (a recurring run's pause) lives in Airflow (the DAG's pause flag).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, TypeVar

_NAMESPACE = uuid.UUID("6f0a2c1e-8d43-5b7a-9c1e-2b7f3d4a5e60")
_DAG_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
REGISTRY_TAG = "kfp-registry"
"""Tag of every DAG the registry makes: the client's way to tell that the registry is installed."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def pipeline_id_for(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"pipeline\0{name}"))


def version_id_for(pipeline_id: str, version_name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"version\0{pipeline_id}\0{version_name}"))


def recurring_run_id_for(job_name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"recurring\0{job_name}"))


def experiment_id_for(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"experiment\0{name}"))


def dag_id_part(name: str) -> str:
    """A name as Airflow accepts it in a DAG id (letters, digits, ``_.-``), never empty."""
    return _DAG_ID_UNSAFE.sub("-", name).strip("-.") or "x"


def version_dag_id(pipeline_name: str, version_name: str) -> str:
    return f"{dag_id_part(pipeline_name)}__{dag_id_part(version_name)}"[:250]


def recurring_dag_id(job_name: str) -> str:
    return f"recurring__{dag_id_part(job_name)}"[:250]


@dataclass(frozen=True)
class PipelineRecord:
    pipeline_id: str
    display_name: str
    description: str = ""
    created_at: str = field(default_factory=now_iso)


@dataclass(frozen=True)
class VersionRecord:
    pipeline_version_id: str
    pipeline_id: str
    display_name: str
    pipeline_name: str
    package: str
    """The uploaded package's text: compiled KFP YAML or a file written by ``compiler.Compiler``."""
    digest: str
    """SHA-256 of ``package``: what the parse cache keys the loaded pipeline model on."""
    description: str = ""
    created_at: str = field(default_factory=now_iso)

    @property
    def dag_id(self) -> str:
        return version_dag_id(self.pipeline_name, self.display_name)


@dataclass(frozen=True)
class RecurringRunRecord:
    recurring_run_id: str
    display_name: str
    pipeline_id: str
    pipeline_version_id: str
    experiment: str
    description: str = ""
    cron_expression: str | None = None
    """Airflow's five-field cron (KFP's six-field form is converted on the way in)."""
    interval_second: int | None = None
    start_time: str | None = None
    end_time: str | None = None
    max_concurrency: int = 1
    catchup: bool = True
    params: dict[str, Any] = field(default_factory=dict)
    enabled: bool = True
    """Whether the DAG starts unpaused; afterwards Airflow's pause flag is the truth."""
    enable_caching: bool | None = None
    created_at: str = field(default_factory=now_iso)

    @property
    def dag_id(self) -> str:
        return recurring_dag_id(self.display_name)


@dataclass(frozen=True)
class ExperimentRecord:
    experiment_id: str
    display_name: str
    description: str = ""
    created_at: str = field(default_factory=now_iso)


Record = TypeVar("Record", PipelineRecord, VersionRecord, RecurringRunRecord, ExperimentRecord)


def dump(record: Any) -> bytes:
    return json.dumps(asdict(record), sort_keys=True).encode()


def load(kind: type[Record], data: bytes | str) -> Record:
    raw = json.loads(data)
    known = {f.name for f in fields(kind)}
    return kind(**{k: v for k, v in raw.items() if k in known})
