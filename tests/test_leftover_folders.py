"""A real run sweeps the working folder a killed task left behind (issue 29), and only that one."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from airflow_kfp.runners.local import workdirs
from tests.unit.test_workdir_sweep import HOLD


def test_the_next_local_task_sweeps_a_killed_tasks_folder(
    dag_runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # this test's temp dir only
    monkeypatch.setattr(workdirs, "_swept", False)
    monkeypatch.setattr(workdirs, "GRACE_S", 0.0)  # the killed task's folder is seconds old here
    dead = subprocess.Popen([sys.executable, "-c", HOLD, str(scratch)], stdout=subprocess.PIPE, text=True)
    live = subprocess.Popen([sys.executable, "-c", HOLD, str(scratch)], stdout=subprocess.PIPE, text=True)
    try:
        assert dead.stdout is not None and live.stdout is not None
        dead_dir, live_dir = Path(dead.stdout.readline().strip()), Path(live.stdout.readline().strip())
        dead.send_signal(signal.SIGKILL)
        dead.wait()
        result = dag_runner.run_pipeline("tests.pipelines.outage:outage")
        assert result.state == "success", result.states
        assert not dead_dir.exists()
        assert (live_dir / "outputs" / "model.part").exists()
    finally:
        live.kill()
        live.wait()
