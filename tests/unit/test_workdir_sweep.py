"""A killed task's working folder (staged inputs, partial outputs) is swept by the next local task;
a live task's folder never is (issue 29). Real processes hold and lose the claims here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from airflow_kfp.runners.local import workdirs

HOLD = """
import sys, time
from airflow_kfp.runners.local import workdirs
w = workdirs.claim("train", sys.argv[1])
(w.path / "outputs").mkdir()
(w.path / "outputs" / "model.part").write_bytes(b"half a model")
print(w.path, flush=True)
time.sleep(600)
"""


def holder(base: Path) -> tuple[subprocess.Popen[str], Path]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(base)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_a_killed_tasks_folder_is_swept_and_a_live_ones_is_not(tmp_path: Path) -> None:
    dead, dead_dir = holder(tmp_path)
    live, live_dir = holder(tmp_path)
    try:
        assert (dead_dir / "outputs" / "model.part").exists()
        dead.send_signal(signal.SIGKILL)  # no finally, no cleanup: what the OOM killer does
        dead.wait()
        assert workdirs.sweep(str(tmp_path), grace_s=0) == [dead_dir]
        assert not dead_dir.exists()
        assert (live_dir / "outputs" / "model.part").read_bytes() == b"half a model"  # never a live task's
    finally:
        live.kill()
        live.wait()
    assert workdirs.sweep(str(tmp_path), grace_s=0) == [live_dir]


def test_this_processs_own_claim_is_kept_until_released(tmp_path: Path) -> None:
    mine = workdirs.claim("step", str(tmp_path))
    assert workdirs.sweep(str(tmp_path), grace_s=0) == [] and mine.path.is_dir()
    mine.release()
    assert workdirs.sweep(str(tmp_path), grace_s=0) == [mine.path]


def test_folders_without_an_owner_are_left_a_day_and_others_never_touched(tmp_path: Path) -> None:
    fresh = tmp_path / "kfp-fresh-abc"
    fresh.mkdir()  # what a claim looks like between mkdtemp and its owner file
    old = tmp_path / "kfp-old-abc"
    old.mkdir()
    day_ago = time.time() - workdirs.UNCLAIMED_AGE_S - 60
    os.utime(old, (day_ago, day_ago))
    other = tmp_path / "not-ours"
    other.mkdir()
    target = tmp_path / "elsewhere"
    target.mkdir()
    (tmp_path / "kfp-link").symlink_to(target)
    assert workdirs.sweep(str(tmp_path), grace_s=0) == [old]
    assert fresh.is_dir() and other.is_dir() and target.is_dir() and (tmp_path / "kfp-link").is_symlink()


def test_a_folder_changed_within_the_grace_is_left_to_the_fork_server(tmp_path: Path) -> None:
    mine = workdirs.claim("step", str(tmp_path))
    mine.release()  # handed to the fork server, which removes it while idle
    assert workdirs.sweep(str(tmp_path)) == [] and mine.path.is_dir()
    assert workdirs.sweep(str(tmp_path), now=lambda: time.time() + workdirs.GRACE_S + 1) == [mine.path]


def test_one_sweep_per_interval_on_the_host(tmp_path: Path, monkeypatch) -> None:
    old = tmp_path / "kfp-old-abc"
    old.mkdir()
    day_ago = time.time() - workdirs.UNCLAIMED_AGE_S - 60
    os.utime(old, (day_ago, day_ago))
    (tmp_path / f".airflow-kfp-sweep-{os.getuid()}").touch()  # another task swept a moment ago
    monkeypatch.setattr(workdirs, "_swept", False)
    workdirs.sweep_once(str(tmp_path))
    assert old.is_dir()
    os.utime(tmp_path / f".airflow-kfp-sweep-{os.getuid()}", (day_ago, day_ago))
    monkeypatch.setattr(workdirs, "_swept", False)
    workdirs.sweep_once(str(tmp_path))
    assert not old.exists()
