"""The pipeline registry in an artifact store (an S3 prefix or a folder).

Layout under the registry root::

    pipelines/<pipeline_id>.json                   PipelineRecord
    versions/<pipeline_id>/<version_id>.json       VersionRecord (the package's text inside)
    recurring/<recurring_run_id>.json              RecurringRunRecord
    experiments/<experiment_id>.json               ExperimentRecord

Who may write here may run code on the workers (an upload is a pipeline the workers execute), so the
location must be writable only by those allowed to deploy pipelines; readers need only read access.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow_kfp.registry import records as rec

_FOLDERS: dict[type, str] = {
    rec.PipelineRecord: "pipelines",
    rec.VersionRecord: "versions",
    rec.RecurringRunRecord: "recurring",
    rec.ExperimentRecord: "experiments",
}


class RegistryError(RuntimeError):
    """A registry operation that cannot be done; the message says what to change."""


@dataclass
class Snapshot:
    """Everything the registry holds at one listing."""

    pipelines: dict[str, rec.PipelineRecord] = field(default_factory=dict)
    versions: dict[str, rec.VersionRecord] = field(default_factory=dict)
    recurring: dict[str, rec.RecurringRunRecord] = field(default_factory=dict)
    experiments: dict[str, rec.ExperimentRecord] = field(default_factory=dict)

    def versions_of(self, pipeline_id: str) -> list[rec.VersionRecord]:
        return sorted((v for v in self.versions.values() if v.pipeline_id == pipeline_id), key=lambda v: v.created_at)

    def pipeline_named(self, name: str) -> rec.PipelineRecord | None:
        return self.pipelines.get(rec.pipeline_id_for(name))


def default_root() -> str:
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return os.path.join(home, "kfp", "registry")


class PipelineRegistry:
    """Reads and writes registry records; reads are cached on local disk by key (records never change)."""

    def __init__(self, root: str, conn_id: str | None = None, *, cache_dir: str | os.PathLike[str] | None = None):
        from airflow_kfp.stores.factory import get_artifact_store

        self.root = root.rstrip("/")
        self.store = get_artifact_store(self.root, conn_id or None)
        self.cache_dir = Path(cache_dir) if cache_dir else None

    def _uri(self, *parts: str) -> str:
        return "/".join([self.store.root, *parts])

    def _put(self, key: str, record: Any, what: str) -> None:
        if not self.store.write_bytes(self._uri(key), rec.dump(record), if_absent=True):
            raise RegistryError(f"{what} already exists in the pipeline registry at {self.root}.")

    def add_pipeline(self, name: str, description: str = "") -> rec.PipelineRecord:
        record = rec.PipelineRecord(rec.pipeline_id_for(name), name, description)
        self._put(f"pipelines/{record.pipeline_id}.json", record, f"a pipeline named {name!r}")
        return record

    def add_version(
        self, pipeline: rec.PipelineRecord, name: str, package: str, description: str = ""
    ) -> rec.VersionRecord:
        record = rec.VersionRecord(
            pipeline_version_id=rec.version_id_for(pipeline.pipeline_id, name),
            pipeline_id=pipeline.pipeline_id,
            display_name=name,
            pipeline_name=pipeline.display_name,
            package=package,
            digest=hashlib.sha256(package.encode()).hexdigest(),
            description=description,
        )
        key = f"versions/{pipeline.pipeline_id}/{record.pipeline_version_id}.json"
        self._put(key, record, f"version {name!r} of pipeline {pipeline.display_name!r}")
        return record

    def add_recurring(self, record: rec.RecurringRunRecord) -> rec.RecurringRunRecord:
        self._put(f"recurring/{record.recurring_run_id}.json", record, f"a recurring run named {record.display_name!r}")
        return record

    def add_experiment(self, name: str, description: str = "") -> rec.ExperimentRecord:
        record = rec.ExperimentRecord(rec.experiment_id_for(name), name, description)
        key = f"experiments/{record.experiment_id}.json"
        if not self.store.write_bytes(self._uri(key), rec.dump(record), if_absent=True):
            return rec.load(rec.ExperimentRecord, self.store.read_bytes(self._uri(key)))
        return record

    def delete_recurring(self, recurring_run_id: str) -> None:
        uri = self._uri(f"recurring/{recurring_run_id}.json")
        if self.store.stat(uri) is None:
            raise RegistryError(
                f"no recurring run with id {recurring_run_id!r} in the pipeline registry at {self.root}."
            )
        self.store.delete(uri)

    def snapshot(self) -> Snapshot:
        """One listing of the root; a record already in the local cache is not read again."""
        snap = Snapshot()
        prefix = self.store.root + "/"
        targets: dict[str, tuple[type, Callable[[Any], None]]] = {
            "pipelines": (rec.PipelineRecord, lambda r: snap.pipelines.__setitem__(r.pipeline_id, r)),
            "versions": (rec.VersionRecord, lambda r: snap.versions.__setitem__(r.pipeline_version_id, r)),
            "recurring": (rec.RecurringRunRecord, lambda r: snap.recurring.__setitem__(r.recurring_run_id, r)),
            "experiments": (rec.ExperimentRecord, lambda r: snap.experiments.__setitem__(r.experiment_id, r)),
        }
        try:
            uris = self.store.list_uris(prefix)
        except FileNotFoundError:
            return snap
        for uri in uris:
            key = uri[len(prefix) :]
            folder = key.split("/", 1)[0]
            if folder not in targets or not key.endswith(".json"):
                continue
            kind, add = targets[folder]
            add(rec.load(kind, self._read_cached(uri)))
        return snap

    def _read_cached(self, uri: str) -> bytes:
        if self.cache_dir is None:
            return self.store.read_bytes(uri)
        path = self.cache_dir / "records" / (hashlib.sha256(uri.encode()).hexdigest() + ".json")
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        data = self.store.read_bytes(uri)
        write_atomically(path, data)
        return data


def write_atomically(path: Path, data: bytes) -> None:
    """Write a cache file whole or not at all: parses in other processes read it at any moment."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
