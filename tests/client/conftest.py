"""A real Airflow deployment for the client's tests: api-server, scheduler and dag-processor with the
LocalExecutor on a PostgreSQL database of their own (Debian's, started as the unprivileged ``nobody`` on
127.0.0.1: SQLite's single writer stalls the api-server behind the scheduler on a busy machine), the
pipeline registry's DAG file in the DAGs folder, and a user with a password (Airflow's simple auth
manager). Started once per test session, stopped after. Skipped where PostgreSQL is not installed
outside CI (``.ci/run`` installs it)."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
PASSWORDS = {"admin": "admin-pw", "viewer": "viewer-pw"}


@dataclass
class Deployment:
    host: str
    home: Path
    registry: Path
    artifacts: Path
    logs: dict[str, Path]

    def log_tail(self, n: int = 3000) -> str:
        return "\n".join(f"--- {name}\n{path.read_text()[-n:]}" for name, path in self.logs.items() if path.exists())


PG_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@contextlib.contextmanager
def _postgres(folder: Path) -> Iterator[str]:
    """A throwaway PostgreSQL server as ``nobody``; yields the SQLAlchemy URL of its ``airflow`` database."""
    if not PG_BINS or shutil.which("runuser") is None or os.geteuid() != 0:
        if os.environ.get("CI"):
            raise RuntimeError("CI needs Debian's postgresql package and root (.ci/run installs it)")
        pytest.skip("needs Debian's postgresql package (apt-get install postgresql) and root to start it as nobody")
    bin_dir = Path(PG_BINS[-1])
    folder.mkdir(parents=True)
    shutil.chown(folder, "nobody", "nogroup")
    as_nobody = ["runuser", "-u", "nobody", "--"]
    port = _free_port()
    data = folder / "db"
    subprocess.run(
        [*as_nobody, bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "kfp"], check=True, capture_output=True
    )
    subprocess.run(
        [
            *as_nobody,
            bin_dir / "pg_ctl",
            "-D",
            data,
            "-o",
            f"-k {folder} -h 127.0.0.1 -p {port} -c max_connections=200",
            "-l",
            folder / "log",
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        subprocess.run(
            [*as_nobody, bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "kfp", "airflow"],
            check=True,
            capture_output=True,
        )
        yield f"postgresql+psycopg2://kfp@127.0.0.1:{port}/airflow"
    finally:
        subprocess.run([*as_nobody, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def deployment() -> Iterator[Deployment]:
    home = Path(tempfile.mkdtemp(prefix="airflow-kfp-client-"))
    os.chmod(home, 0o755)
    with _postgres(home / "pg") as database:
        yield from _deployment(home, database)


def _deployment(home: Path, database: str) -> Iterator[Deployment]:
    port = _free_port()
    (home / "passwords.json").write_text(json.dumps(PASSWORDS))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API_AUTH__JWT_SECRET": "client-tests-secret",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW__KFP__REGISTRY_ROOT": str(home / "registry"),
            "AIRFLOW__KFP__ARTIFACT_ROOT": str(home / "artifacts"),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            # a loaded CI machine (2 cores, the rest of the suite beside) answers slowly, never wrongly
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "120",
            "AIRFLOW__WORKERS__EXECUTION_API_RETRIES": "10",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "1200",
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "300",
            "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "300",
        }
    )
    python = sys.executable
    migrate = subprocess.run([python, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    install = subprocess.run(
        [python, "-m", "airflow_kfp.registry", "install", str(home / "dags")], env=env, capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr
    commands = {
        "api-server": [python, "-m", "airflow", "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"],
        "scheduler": [python, "-m", "airflow", "scheduler"],
        "dag-processor": [python, "-m", "airflow", "dag-processor"],
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs = {name: home / f"{name}.log" for name in commands}
    deployment = Deployment(f"http://127.0.0.1:{port}", home, home / "registry", home / "artifacts", logs)
    try:
        for name, command in commands.items():
            procs[name] = subprocess.Popen(command, env=env, stdout=logs[name].open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 400
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} exited:\n{deployment.log_tail()}")
            try:
                if httpx.get(f"{deployment.host}/api/v2/monitor/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the api-server did not start in 400 s:\n{deployment.log_tail()}")
            time.sleep(0.5)
        yield deployment
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        if os.environ.get("KFP_KEEP_TEST_DEPLOYMENT") != "1":
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def client_env(deployment: Deployment, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    """What a KFP notebook's environment holds: where the server is and who the user is."""
    monkeypatch.setenv("AIRFLOW_KFP_USERNAME", "admin")
    monkeypatch.setenv("AIRFLOW_KFP_PASSWORD", PASSWORDS["admin"])
    monkeypatch.setenv("AIRFLOW_KFP_HOST", deployment.host)
    return deployment
