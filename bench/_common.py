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
    """One row of the table: a ratio A/B of two things measured interleaved (A, B, A, B...) in one run.

    ``num_runs[i]`` and ``den_runs[i]`` are the i-th repetition of each side, taken one after the
    other, so ``num_runs[i] / den_runs[i]`` is one repetition's ratio: its spread (min, median, max)
    is what the table reports, and a target holds "at worst" only if the largest one meets it.
    """

    key: str
    title: str
    target: float | None = None  # the ratio must be at most this
    numerator: str = ""
    denominator: str = ""
    num_runs: list[float] = field(default_factory=list)  # seconds (or ``unit``) per repetition
    den_runs: list[float] = field(default_factory=list)
    unit: str = "s"
    per: int = 1  # the seconds shown are divided by this (per task, per item)
    size: str = ""  # what was measured, e.g. "10 steps", "1024 MiB"
    peak_mib: dict[str, float] = field(default_factory=dict)  # peak RSS per side
    memory_limit_mib: float | None = None  # the numerator's peak RSS must be at most this
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    error: str = ""  # set when the figure could not be measured
    difference: bool = False  # the figure is A - B (seconds beyond), not A / B

    @property
    def reps(self) -> int:
        return min(len(self.num_runs), len(self.den_runs))

    @property
    def ratios(self) -> list[float]:
        """Per repetition: A/B, or A-B for a ``difference`` figure."""
        if self.difference:
            return [a - b for a, b in zip(self.num_runs, self.den_runs, strict=False)]
        return [a / b for a, b in zip(self.num_runs, self.den_runs, strict=False) if b]

    @property
    def ratio(self) -> float | None:
        """The median repetition's ratio (the headline figure)."""
        return median(self.ratios) if self.ratios else None

    def spread(self) -> dict[str, float] | None:
        r = self.ratios
        return {"min": min(r), "median": median(r), "max": max(r)} if r else None

    def memory_ok(self) -> bool | None:
        """The numerator side's peak RSS against ``memory_limit_mib`` (None: no limit or not measured)."""
        peak = self.peak_mib.get(self.numerator)
        if self.memory_limit_mib is None or peak is None:
            return None
        return peak <= self.memory_limit_mib

    def holds(self) -> dict[str, bool | None]:
        """Whether the target (and the memory limit, if any) holds at the median and at the worst repetition."""
        spread = self.spread()
        if spread is None or self.target is None:
            return {"median": None, "worst": None}
        memory = self.memory_ok()
        mem = True if memory is None else memory
        return {"median": spread["median"] <= self.target and mem, "worst": spread["max"] <= self.target and mem}

    @property
    def verdict(self) -> str:
        if self.ratio is None:
            return "n/a"
        held = self.holds()
        if held["median"] is None:
            return "-"
        if held["worst"]:
            return "pass"
        return "median" if held["median"] else "MISS"

    def to_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "reps": self.reps,
            "ratios": [round(r, 4) for r in self.ratios],
            "spread": self.spread(),
            "holds": self.holds(),
            "verdict": self.verdict,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Figure:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in names})


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def not_available(key: str, title: str, target: float | None, reason: str) -> Figure:
    return Figure(key=key, title=title, target=target, error=reason)


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


def uptime() -> str:
    """``uptime``'s line (load averages over 1, 5 and 15 minutes): how busy the machine was."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        load = os.getloadavg()
        return f"load average: {load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f}"


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "-"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _git_commit() -> str:
    res = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    if res.returncode:
        return "-"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO, capture_output=True)
    return res.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def machine() -> dict[str, Any]:
    """Facts kept beside the figures, so a reader knows what they were measured on."""
    return {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": {
            dist: _version(dist)
            for dist in (
                "airflow-kfp",
                "apache-airflow",
                "apache-airflow-providers-cncf-kubernetes",
                "boto3",
                "moto",
            )
        },
        "commit": _git_commit(),
    }
