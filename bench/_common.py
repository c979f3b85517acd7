"""What every benchmark shares: figures, medians, private Airflow homes, machine facts."""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
PYTHON = sys.executable
# Byte-compiled modules for every process the benches start, kept out of the shared venv. Without
# them (PYTHONDONTWRITEBYTECODE=1, or a venv installed by uv without --compile-bytecode) every fresh
# process compiles each module it imports from source, and a cold import of the Kubernetes client
# alone takes seconds: that would measure the environment, not the code.
PYCACHE = RESULTS / ".pycache"


@dataclass
class Figure:
    """One row of the table: a ratio of two things measured interleaved in the same script."""

    key: str
    title: str
    ratio: float | None
    target: float | None = None  # the ratio must be at most this
    reps: int = 0
    numerator: str = ""
    denominator: str = ""
    num_s: float | None = None  # median seconds (or another unit, named in details)
    den_s: float | None = None
    peak_mib: dict[str, float] = field(default_factory=dict)  # worker peak RSS per side
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "n/a"
        if self.target is None:
            return "-"
        return "pass" if self.ratio <= self.target else "MISS"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def not_available(key: str, title: str, target: float | None, reason: str) -> Figure:
    return Figure(key=key, title=title, ratio=None, target=target, note=f"not available: {reason}")


def python_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for a child Python: bytecode written to and read from the private PYCACHE."""
    env = dict(os.environ if base is None else base)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return env


def airflow_env(home: Path, dags: Path, **extra: str) -> dict[str, str]:
    """A private Airflow: its own home, SQLite DB and dags folder, no examples, default logging."""
    env = {k: v for k, v in python_env().items() if not k.startswith("AIRFLOW__") and k != "AIRFLOW_HOME"}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p),
            **extra,
        }
    )
    return env


_MIGRATED: dict[Path, Path] = {}


def migrated_home(root: Path, name: str) -> Path:
    """An Airflow home with a migrated SQLite DB; ``airflow db migrate`` runs once per root and the
    DB file is copied for every further home (migrating takes ~15 s, copying a few ms)."""
    home = root / name
    (home / "dags").mkdir(parents=True, exist_ok=True)
    template = _MIGRATED.get(root)
    if template is None:
        template = root / "_migrated"
        (template / "dags").mkdir(parents=True, exist_ok=True)
        res = subprocess.run(
            [PYTHON, "-m", "airflow", "db", "migrate"],
            env=airflow_env(template, template / "dags"),
            capture_output=True,
            text=True,
        )
        if res.returncode:
            raise RuntimeError(f"airflow db migrate failed:\n{res.stderr[-3000:]}")
        _MIGRATED[root] = template
    shutil.copy2(template / "airflow.db", home / "airflow.db")
    return home


def machine() -> dict[str, Any]:
    """Facts printed beside the figures, so a reader knows what they were measured on."""
    try:
        mem = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.strip()
    except OSError:
        mem = ""
    try:
        from importlib.metadata import version

        airflow_version = version("apache-airflow")
    except Exception:
        airflow_version = "?"
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "nproc": os.cpu_count(),
        "free_h": mem,
        "python": platform.python_version(),
        "airflow": airflow_version,
        "platform": platform.platform(),
        "loadavg_at_start": [round(x, 2) for x in load],
    }
