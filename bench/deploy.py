"""A real Airflow deployment on 127.0.0.1, started and stopped by the bench (issue 29).

PostgreSQL (Debian's, run as the unprivileged ``postgres`` user in a scratch data dir), Redis for
Celery, a moto S3 server for artifacts, and Airflow's own processes: ``api-server`` (the execution
API every task process talks to), ``scheduler``, ``dag-processor`` and, for the CeleryExecutor, two
``celery worker`` processes. Everything is started with its own process group and stopped (TERM,
then KILL) when the ``with`` block ends, also on failure or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench._common import PYTHON, REPO, RESULTS, python_env

APT_PACKAGES = {"redis-server": "redis-server"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _which(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    for base in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        for name in names:
            if (base / name).exists():
                return str(base / name)
    return None


def ensure_system_packages() -> None:
    """PostgreSQL and Redis from Debian, installed with apt-get if missing (as CI installs chromium)."""
    missing = []
    if _which("postgres") is None or _which("initdb") is None:
        missing.append("postgresql")
    if shutil.which("redis-server") is None:
        missing.append("redis-server")
    if not missing:
        return
    if os.geteuid() != 0:
        raise RuntimeError(f"install {' '.join(missing)} (apt-get install {' '.join(missing)}) and run again")
    subprocess.run(["apt-get", "update", "-q"], check=False, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-q", *missing], check=True, capture_output=True)


def ensure_python_packages() -> None:
    """The ``bench`` extra (Celery provider, psycopg2): pip-installed if missing."""
    try:
        import airflow.providers.celery  # noqa: F401
        import asyncpg  # noqa: F401
        import psycopg2  # noqa: F401
    except ImportError:
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "-e", f"{REPO}[bench]"], check=True)


class Deployment:
    """One deployment: ``executor`` is ``LocalExecutor`` or ``CeleryExecutor``."""

    def __init__(self, root: Path, executor: str, *, dags: Path, parallelism: int = 4, log: Any = print) -> None:
        self.root = root
        self.executor = executor
        self.dags = dags
        self.parallelism = parallelism
        self.log = log
        self.home = root / f"home-{executor}"
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.logs = RESULTS / "logs" / "deployment"
        self.rusage_dir = root / f"rusage-{executor}"
        self.pg_port = free_port()
        self.api_port = free_port()
        self.redis_port = free_port()
        self.s3_url = ""
        self.env: dict[str, str] = {}

    # -- processes ----------------------------------------------------------------------------
    def _start(self, name: str, argv: list[str], env: dict[str, str] | None = None, user: str | None = None) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        out = open(self.logs / f"{self.executor}-{name}.log", "wb")  # noqa: SIM115 - kept for the process's life
        as_user: dict[str, Any] = (
            {"user": user, "group": user, "extra_groups": []} if user and os.geteuid() == 0 else {}
        )
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **as_user)
        self.procs.append((name, proc))

    def stop(self) -> None:
        """TERM every process group started, newest first; KILL what is left after 20 s."""
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                # PostgreSQL: SIGINT is its "fast" shutdown (SIGTERM waits for every client to leave)
                sig = signal.SIGINT if name == "postgres" else signal.SIGTERM
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, sig)
        deadline = time.monotonic() + 20
        for _, proc in reversed(self.procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.1, deadline - time.monotonic()))
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.procs.clear()

    def __enter__(self) -> Deployment:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def pids(self) -> list[int]:
        return [p.pid for _, p in self.procs if p.poll() is None]

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                tail = (self.logs / f"{self.executor}-{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    # -- start --------------------------------------------------------------------------------
    def _postgres(self) -> str:
        pgdata = self.root / f"pg-{self.executor}"
        sockets = self.root / f"pgsock-{self.executor}"
        for d in (pgdata, sockets):
            d.mkdir(parents=True, exist_ok=True)
        user = "postgres" if os.geteuid() == 0 else None  # postgres refuses to run as root
        if user:
            os.chmod(self.root, 0o755)
            shutil.chown(pgdata, user)
            shutil.chown(sockets, user)
        initdb = _which("initdb")
        assert initdb is not None
        cmd = [initdb, "-D", str(pgdata), "-A", "trust", "-U", "airflow", "--no-sync"]
        if user:
            cmd = ["runuser", "-u", user, "--", *cmd]
        subprocess.run(cmd, check=True, capture_output=True)
        postgres = _which("postgres")
        assert postgres is not None
        self._start(
            "postgres",
            [
                postgres,
                "-D",
                str(pgdata),
                "-p",
                str(self.pg_port),
                "-h",
                "127.0.0.1",
                "-k",
                str(sockets),
                "-c",
                "max_connections=200",
            ],
            user=user,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            self.check_alive()
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.pg_port), 1):
                break
            time.sleep(0.3)
        time.sleep(1)
        created = subprocess.run(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg_port),
                "-U",
                "airflow",
                "-d",
                "postgres",
                "-c",
                "CREATE DATABASE airflow",
            ],
            capture_output=True,
            text=True,
        )
        if created.returncode:
            raise RuntimeError(f"createdb failed: {created.stderr}")
        return f"postgresql+psycopg2://airflow@127.0.0.1:{self.pg_port}/airflow"

    def _moto(self) -> str:
        port = free_port()
        self._start("moto", [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], env=python_env())
        url = f"http://127.0.0.1:{port}"
        self._wait_http(url + "/moto-api/", 60)
        return url

    def _wait_http(self, url: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                urllib.request.urlopen(url, timeout=5).close()
                return
            except OSError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} did not answer in {timeout:.0f} s: {exc}") from None
                time.sleep(1)

    def start(self) -> None:
        self.log(f"  starting {self.executor} deployment (postgres, api-server, scheduler, dag-processor...)")
        db = self._postgres()
        self.s3_url = self._moto()
        self.rusage_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in python_env().items() if not k.startswith("AIRFLOW__") and k != "AIRFLOW_HOME"}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": self.executor,
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__MAX_ACTIVE_RUNS_PER_DAG": "32",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db,
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{self.api_port}/execution/",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API_AUTH__JWT_SECRET": "bench-secret-not-for-production",
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                # a loaded machine answers the execution API slowly; the default 5 s fails tasks there
                "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "60",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__KFP__ARTIFACT_ROOT": "s3://bench-artifacts/runs",
                "AIRFLOW__KFP__ARTIFACT_CONN_ID": "bench_s3",
                "AIRFLOW_CONN_BENCH_S3": json.dumps(
                    {
                        "conn_type": "aws",
                        "login": "testing",
                        "password": "testing",
                        "extra": {"endpoint_url": self.s3_url, "region_name": "us-east-1"},
                    }
                ),
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1",
                "BENCH_RUSAGE_DIR": str(self.rusage_dir),
                "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
            }
        )
        if self.executor == "CeleryExecutor":
            self._start(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(self.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
            )
            env.update(
                {
                    "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                    "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{db}",  # +psycopg2: SQLAlchemy's default is psycopg 3
                    "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(max(1, self.parallelism // 2)),
                }
            )
        self.env = env
        import boto3

        boto3.client(
            "s3",
            endpoint_url=self.s3_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket="bench-artifacts")
        migrate = subprocess.run([PYTHON, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, text=True)
        if migrate.returncode:
            raise RuntimeError(f"airflow db migrate failed:\n{migrate.stderr[-3000:]}")
        self._start(
            "api-server",
            [
                PYTHON,
                "-m",
                "airflow",
                "api-server",
                "--port",
                str(self.api_port),
                "--host",
                "127.0.0.1",
                "--workers",
                "1",
            ],
            env=env,
        )
        self._start("scheduler", [PYTHON, "-m", "airflow", "scheduler"], env=env)
        self._start("dag-processor", [PYTHON, "-m", "airflow", "dag-processor"], env=env)
        if self.executor == "CeleryExecutor":
            for n in (1, 2):
                self._start(
                    f"celery-worker-{n}",
                    [PYTHON, "-m", "airflow", "celery", "worker", "--celery-hostname", f"bench-worker-{n}@%h"],
                    env=env,
                )
        self._wait_http(f"http://127.0.0.1:{self.api_port}/api/v2/monitor/health", 180)

    # -- API and DB ---------------------------------------------------------------------------
    def _token(self) -> str:
        req = urllib.request.Request(f"http://127.0.0.1:{self.api_port}/auth/token", method="GET")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return str(json.loads(resp.read())["access_token"])

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.api_port}/api/v2{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self._token()}"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def sql(self, query: str, *args: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        with (
            contextlib.closing(
                psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="airflow", dbname="airflow")
            ) as conn,
            conn.cursor() as cur,
        ):
            cur.execute(query, args)
            return list(cur.fetchall())

    def wait_parsed(self, dag_ids: list[str], timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            rows = self.sql("SELECT dag_id FROM dag WHERE dag_id = ANY(%s) AND NOT is_stale", dag_ids)
            if {r[0] for r in rows} >= set(dag_ids):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"DAGs not parsed after {timeout:.0f} s: {sorted(set(dag_ids) - {r[0] for r in rows})}"
                )
            time.sleep(2)

    def trigger(self, dag_id: str, count: int, tag: str) -> list[str]:
        ids = []
        for i in range(count):
            run_id = f"bench-{tag}-{i}"
            self.api("POST", f"/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": None})
            ids.append(run_id)
        return ids

    def wait_runs(self, dag_id: str, run_ids: list[str], timeout: float = 1800) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            rows = self.sql(
                "SELECT run_id, state, start_date, end_date, queued_at FROM dag_run "
                "WHERE dag_id=%s AND run_id = ANY(%s)",
                dag_id,
                run_ids,
            )
            states = {r[0]: r[1] for r in rows}
            if len(rows) == len(run_ids) and all(s in ("success", "failed") for s in states.values()):
                failed = [r for r, s in states.items() if s != "success"]
                if failed:
                    raise RuntimeError(f"{dag_id}: runs failed: {failed} (logs under {self.home / 'logs'})")
                tis = self.sql(
                    "SELECT EXTRACT(EPOCH FROM end_date - start_date), task_id, run_id FROM task_instance "
                    "WHERE dag_id=%s AND run_id = ANY(%s)",
                    dag_id,
                    run_ids,
                )
                first = min(r[4] or r[2] for r in rows)
                last = max(r[3] for r in rows)
                return {
                    "wall_s": (last - first).total_seconds(),
                    "ti_durations": sorted(float(t[0]) for t in tis),
                    "tis": len(tis),
                }
            if time.monotonic() > deadline:
                raise RuntimeError(f"{dag_id}: runs not finished after {timeout:.0f} s: {states}")
            time.sleep(1)


def tree_cpu_seconds(pids: list[int], home: Path | None = None) -> float:
    """CPU seconds of these processes, their live descendants and every reaped child (cutime/cstime);
    with ``home``, also of every process running with that ``AIRFLOW_HOME`` (the local runner's fork
    server leaves the task's process tree, and its components are its children)."""
    ticks = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        stats[pid] = fields
        children.setdefault(int(fields[1]), []).append(pid)
    total = 0.0
    seen: set[int] = set()
    todo = list(pids)
    if home is not None:
        marker = f"AIRFLOW_HOME={home}".encode()
        for pid in stats:
            with contextlib.suppress(OSError):
                if marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    todo.append(pid)
    while todo:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        f = stats[pid]
        total += sum(int(x) for x in f[11:15]) / ticks  # utime stime cutime cstime
        todo.extend(children.get(pid, []))
    return total


@contextlib.contextmanager
def measured(deployment: Deployment) -> Iterator[dict[str, float]]:
    """CPU seconds the deployment's process tree spent inside the block."""
    out: dict[str, float] = {}
    before = tree_cpu_seconds(deployment.pids(), deployment.home)
    yield out
    out["cpu_s"] = tree_cpu_seconds(deployment.pids(), deployment.home) - before


def read_rusage(deployment: Deployment, dag_id: str, run_ids: list[str]) -> list[dict[str, Any]]:
    """The task processes' own rusage records (written by the DAG files' success callback)."""
    rows = []
    for path in deployment.rusage_dir.glob(f"{dag_id}--*.json"):
        row = json.loads(path.read_text())
        if row["run_id"] in run_ids:
            rows.append(row)
    return rows
