"""The local runner's fork server: each component still gets its own process, exactly the environment
it was given, its own working directory, and dies with the task that started it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_kfp.runners.local import launch

pytestmark = pytest.mark.skipif(not launch.fork_available(), reason="the fork server needs Linux (pidfd)")

REPO = Path(__file__).resolve().parent.parent

PROBE = """
def probe(tag: str) -> str:
    import json, os, sys
    return json.dumps({"tag": tag, "env": dict(os.environ), "cwd": os.getcwd(), "pid": os.getpid(),
                       "ppid": os.getppid(), "path0": sys.path[0], "hash": hash("airflow-kfp"),
                       "modules": sorted(m for m in sys.modules if m.startswith("ephemeral"))})
"""


@pytest.fixture
def server_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private socket directory for this test's servers, stopped afterwards."""
    base = tmp_path / "fs"
    monkeypatch.setenv(launch.SERVER_ENV, str(base))
    yield base
    if base.exists():
        launch.stop_servers(base)


def _task(workdir: Path, source: str, function: str, params: dict[str, Any]) -> list[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    doc = {
        "component": {"kind": "python", "name": function, "function_name": function, "source": source},
        "executor_input": {
            "inputs": {"parameterValues": params},
            "outputs": {
                "parameters": {"Output": {"outputFile": str(workdir / "parameters" / "Output")}},
                "outputFile": str(workdir / "executor_output.json"),
            },
        },
        "context": {},
    }
    (workdir / "task.json").write_text(json.dumps(doc))
    return ["--task-file", str(workdir / "task.json"), "--workdir", str(workdir)]


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **extra}


def _probe(tmp_path: Path, name: str, env: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    workdir = tmp_path / name
    lines: list[str] = []
    code = launch.run_forked(_task(workdir, PROBE, "probe", {"tag": name}), env, workdir, lines.append)
    assert code == 0, lines
    output = json.loads((workdir / "executor_output.json").read_text())
    return json.loads(output["parameterValues"]["Output"]), lines


def test_each_component_sees_only_the_environment_it_was_sent(tmp_path: Path, server_dir: Path) -> None:
    first, _ = _probe(tmp_path, "first", _env(KFP_SECRET_OF_FIRST_TASK="s3cr3t", SHARED="1"))
    second, _ = _probe(tmp_path, "second", _env(SHARED="2"))
    assert first["env"]["KFP_SECRET_OF_FIRST_TASK"] == "s3cr3t"
    # the server was started with the first task's environment: nothing of it reaches the second
    assert "KFP_SECRET_OF_FIRST_TASK" not in second["env"]
    assert second["env"] == _env(SHARED="2")
    assert second["cwd"] == str(tmp_path / "second") and second["path0"] == str(tmp_path / "second")
    # separate processes, forked from the same server (one socket), none of them this test's process
    assert first["pid"] != second["pid"] and os.getpid() not in (first["pid"], second["pid"])
    assert first["ppid"] == second["ppid"] != os.getpid()
    assert len(list(server_dir.glob("*.sock"))) == 1
    # and the long-lived server never held the first task's values: it started with start-up variables only
    server_environ = Path(f"/proc/{first['ppid']}/environ").read_bytes().split(b"\0")
    assert not any(b"s3cr3t" in item for item in server_environ)
    # nothing an earlier component imported is left in the next one
    assert second["modules"] == ["ephemeral_component"]


def test_start_up_variables_get_a_server_of_their_own(tmp_path: Path, server_dir: Path) -> None:
    one, _ = _probe(tmp_path, "seed1", _env(PYTHONHASHSEED="1"))
    two, _ = _probe(tmp_path, "seed2", _env(PYTHONHASHSEED="2"))
    assert len(list(server_dir.glob("*.sock"))) == 2
    for result, seed in ((one, "1"), (two, "2")):
        fresh = subprocess.run(
            [sys.executable, "-c", "print(hash('airflow-kfp'))"],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        assert result["hash"] == int(fresh.stdout)  # the seed took effect, as in a fresh interpreter


def test_the_server_removes_the_folders_handed_back_to_it(tmp_path: Path, server_dir: Path) -> None:
    """A finished component's folder goes back to the fork server, which removes it when idle (off the
    task's path); it removes only the runner's own ``kfp-*`` folders, in the order they came."""
    env = _env()
    _probe(tmp_path, "kfp-first", env)  # the server now runs
    kept = tmp_path / "not-a-component-folder"
    kept.mkdir()
    launch.discard("fork", kept, env)  # refused: not a runner's folder
    workdir = tmp_path / "kfp-first"
    assert workdir.is_dir() and (workdir / "task.json").exists()
    launch.discard("fork", workdir, env)
    deadline = time.monotonic() + 30
    while workdir.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not workdir.exists()
    assert kept.is_dir()  # its request came first and was turned down
    spawned = tmp_path / "kfp-spawned"
    spawned.mkdir()
    launch.discard("spawn", spawned, env)  # no server in spawn mode: removed at once
    assert not spawned.exists()


def test_a_failing_component_reports_its_exit_code_and_output(tmp_path: Path, server_dir: Path) -> None:
    source = "def boom(x: int) -> int:\n    print('about to fail', flush=True)\n    raise ValueError(f'bad x {x}')\n"
    workdir = tmp_path / "boom"
    lines: list[str] = []
    code = launch.run_forked(_task(workdir, source, "boom", {"x": 3}), _env(), workdir, lines.append)
    assert code != 0
    assert "about to fail" in lines
    assert any("ValueError: bad x 3" in line for line in lines), lines


def test_the_component_dies_with_the_task_that_started_it(tmp_path: Path, server_dir: Path) -> None:
    pid_file = tmp_path / "component.pid"
    source = textwrap.dedent(
        f"""
        def sleeper(x: int) -> int:
            import os, time
            with open({str(pid_file)!r}, "w") as f:
                f.write(str(os.getpid()))
            time.sleep(120)
            return x
        """
    )
    argv = _task(tmp_path / "sleep", source, "sleeper", {"x": 1})
    client = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from airflow_kfp.runners.local import launch; "
            f"launch.run_forked({argv!r}, {_env()!r}, Path({str(tmp_path / 'sleep')!r}), print)",
        ],
        env={**os.environ, launch.SERVER_ENV: str(server_dir), "PYTHONPATH": str(REPO)},
    )
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and client.poll() is None, "the component never started"
        time.sleep(0.05)
    component = int(pid_file.read_text())
    os.kill(client.pid, signal.SIGKILL)  # the task process is killed (timeout, user, OOM)
    client.wait()
    deadline = time.monotonic() + 20
    while _alive(component):
        assert time.monotonic() < deadline, "the component outlived its task"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_a_directory_others_can_enter_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_dir: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv(launch.SERVER_ENV, str(shared))
    assert launch.private_dir() is None
    workdir = tmp_path / "fallback"
    lines: list[str] = []
    code = launch.run_launcher("fork", _task(workdir, PROBE, "probe", {"tag": "x"}), _env(), workdir, lines.append)
    assert code == 0
    assert any("fork server unavailable" in line for line in lines)
    assert not list(shared.glob("*.sock"))


def test_an_idle_server_exits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_dir: Path) -> None:
    monkeypatch.setenv(launch.IDLE_ENV, "1")
    _probe(tmp_path, "idle", _env())
    (sock,) = server_dir.glob("*.sock")
    deadline = time.monotonic() + 30
    while sock.exists():
        assert time.monotonic() < deadline, "the idle server is still there"
        time.sleep(0.1)
    # nothing is left behind: one server per upgrade or start-up environment would pile up files
    deadline = time.monotonic() + 10
    while list(server_dir.iterdir()):
        assert time.monotonic() < deadline, sorted(p.name for p in server_dir.iterdir())
        time.sleep(0.05)


def test_a_server_ending_while_a_starter_holds_the_lock_leaves_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_dir: Path
) -> None:
    """The lock stays with the starter that holds it; the next start takes it again and gets a server."""
    monkeypatch.setenv(launch.IDLE_ENV, "1")
    _probe(tmp_path, "first", _env())
    (sock,) = server_dir.glob("*.sock")
    lock_path = sock.with_suffix(".lock")
    with launch._starter_lock(lock_path):
        deadline = time.monotonic() + 30
        while sock.exists():
            assert time.monotonic() < deadline, "the idle server is still there"
            time.sleep(0.1)
        time.sleep(0.2)
        assert lock_path.exists()
    result, _ = _probe(tmp_path, "second", _env())
    assert result["tag"] == "second"


def test_spawn_mode_runs_the_same_component(tmp_path: Path, server_dir: Path) -> None:
    workdir = tmp_path / "spawned"
    lines: list[str] = []
    env = _env(ONLY_THIS="yes")
    code = launch.run_launcher("spawn", _task(workdir, PROBE, "probe", {"tag": "s"}), env, workdir, lines.append)
    assert code == 0, lines
    result = json.loads(json.loads((workdir / "executor_output.json").read_text())["parameterValues"]["Output"])
    assert result["env"]["ONLY_THIS"] == "yes" and result["cwd"] == str(workdir)
    assert not server_dir.exists() or not list(server_dir.glob("*.sock"))
