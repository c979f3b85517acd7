"""The local runner behind the ``ComponentRunner`` seam, without Airflow: a resolved try in, a stored
result out (no operator, no DAG run, no database)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from airflow_kfp import dsl
from airflow_kfp.config import KfpSettings
from airflow_kfp.dsl import Dataset, Input, Output
from airflow_kfp.errors import ComponentFailedError
from airflow_kfp.runners.base import ComponentRunner, ResolvedInputs
from airflow_kfp.runners.local.runner import LocalRunner
from airflow_kfp.spec.model import TaskSpec
from airflow_kfp.stores.local import LocalArtifactStore, file_uri


@dsl.component
def write_rows(rows: int, data: Output[Dataset]) -> int:
    with open(data.path, "w") as f:
        f.writelines(f"{i}\n" for i in range(rows))
    return rows * 2


@dsl.component
def count_rows(data: Input[Dataset]) -> int:
    return len(open(data.path).read().splitlines())


@dsl.component
def fails() -> int:
    raise ValueError("no rows today")


def _runner(component: dsl.BaseComponent, name: str) -> ComponentRunner:
    task = TaskSpec(name=name, component=f"comp-{name}")
    return LocalRunner(
        "runner-unit", task, component.component_spec, lambda context, store: {}, logging.getLogger(name)
    )


def _settings(root: Path) -> KfpSettings:
    return KfpSettings(artifact_root=str(root), local_launch="spawn")


def test_a_try_writes_its_artifact_and_the_next_reads_it(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    data_uri = file_uri(tmp_path / "root" / "run" / "write-rows" / "data")
    written = _runner(write_rows, "write-rows").run_component(
        {}, ResolvedInputs(parameters={"rows": 3}), {"data": data_uri}, store, _settings(tmp_path / "root")
    )
    assert written.parameters == {"Output": 6}
    record = written.artifacts["data"]
    assert record["uri"] == data_uri and record["size"] == len("0\n1\n2\n") and record["digest"].startswith("sha256:")

    counted = _runner(count_rows, "count-rows").run_component(
        {}, ResolvedInputs(artifacts={"data": [record]}), {}, store, _settings(tmp_path / "root")
    )
    assert counted.parameters == {"Output": 3}


def test_a_failing_component_fails_the_try_with_its_error(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path / "root")
    with pytest.raises(ComponentFailedError, match="no rows today"):
        _runner(fails, "fails").run_component({}, ResolvedInputs(), {}, store, _settings(tmp_path / "root"))


def test_a_temp_folder_too_deep_for_a_socket_path_moves_the_fork_servers_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from airflow_kfp.runners.local import launch

    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    monkeypatch.delenv(launch.SERVER_ENV, raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    base = launch.private_dir()
    assert base == Path("/tmp") / f"airflow-kfp-{os.getuid()}"
    assert len(os.fsencode(base / ("k" * 20 + ".sock"))) <= launch.SUN_PATH_MAX
