"""helm/Dockerfile and .dockerignore, checked without a Docker engine (none runs here or in CI).

Checked: the Dockerfile parses into two stages (a wheel build, then an install of that wheel only); every
``COPY`` source exists and survives ``.dockerignore``; the final stage copies nothing from the build
context, so no source tree reaches the image; ``.dockerignore`` keeps ``.git``, virtualenvs, the local
Airflow home, node_modules, tests and caches out of the context; the Airflow version matches the
official chart's ``airflowVersion``; and the wheel the first stage builds is built here, from exactly the
files that stage copies, and holds the package (runtime, UI assets) and nothing else.
Not checked: ``docker build`` itself (pulling the base image, pip resolving the constraints).
"""

from __future__ import annotations

import fnmatch
import importlib.metadata
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "helm" / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's matching, enough for these patterns: ``**/`` prefixes, globs, a folder covers its files."""
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        candidates = [pattern, pattern.removeprefix("**/")]
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        hit = any(
            fnmatch.fnmatchcase(prefix, c) or ("**/" in pattern and fnmatch.fnmatchcase(part, c))
            for c in candidates
            for prefix, part in zip(prefixes, parts)
        )
        if hit:
            ignored = not negate
    return ignored


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _copies(stage: list[tuple[str, str]]) -> list[list[str]]:
    out = []
    for word, rest in stage:
        if word == "COPY" and "--from=" not in rest:
            args = [a for a in rest.split() if not a.startswith("--")]
            out.append(args[:-1])
    return out


def test_two_stages_and_the_final_one_takes_nothing_from_the_context() -> None:
    stages = _stages()
    assert len(stages) == 2, "a wheel-building stage, then the runtime stage"
    assert re.fullmatch(r"apache/airflow:\$\{AIRFLOW_VERSION\}-python\$\{PYTHON_VERSION\} AS wheel", stages[0][0][1])
    assert re.fullmatch(r"apache/airflow:\$\{AIRFLOW_VERSION\}-python\$\{PYTHON_VERSION\}", stages[1][0][1])
    assert any(word == "RUN" and "pip wheel" in rest for word, rest in stages[0])
    final = stages[1]
    assert not any(word in ("COPY", "ADD") for word, _ in final), "the final stage must not copy a source tree"
    install = " ".join(rest for word, rest in final if word == "RUN")
    assert "--mount=type=bind,from=wheel" in install and "airflow_kfp-*.whl" in install
    assert '"apache-airflow==${AIRFLOW_VERSION}"' in install and "--constraint" in install


def test_every_copy_source_exists_and_survives_dockerignore() -> None:
    patterns = _dockerignore()
    sources = [s for copy in _copies(_stages()[0]) for s in copy]
    assert sources, "the wheel stage copies the package's sources"
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not _ignored(source, patterns), f"{source} is excluded by .dockerignore: the build would fail"


@pytest.mark.parametrize(
    "path",
    [".git", ".git/config", ".venv", ".venv-airflow-3.1.8/bin/python", ".airflow_home/airflow.db", "ui/node_modules/x",
     "tests/kubernetes/test_image.py", "airflow_kfp/__pycache__/x.pyc", ".pytest_cache/v", ".mypy_cache/3.12",
     ".ruff_cache/x", "airflow_kfp.egg-info/PKG-INFO", ".tools/helm-v4/helm/helm"],
)  # fmt: skip
def test_dockerignore_keeps_local_state_out(path: str) -> None:
    assert _ignored(path, _dockerignore())


def test_airflow_version_matches_the_official_chart_values() -> None:
    version = re.search(r"^ARG AIRFLOW_VERSION=(\S+)$", DOCKERFILE.read_text(), re.M)
    assert version
    values = yaml.safe_load((ROOT / "helm" / "airflow-kfp" / "airflow-values.yaml").read_text())
    assert values["airflowVersion"] == version.group(1) == values["defaultAirflowTag"]
    assert version.group(1) == importlib.metadata.version("apache-airflow"), (
        "the image's Airflow is the one the suite tests"
    )


def test_the_wheel_stage_builds_the_package_alone(tmp_path: Path) -> None:
    """Build the wheel from exactly what the first stage copies (as its COPY lines lay it out)."""
    context = tmp_path / "context"
    context.mkdir()
    for copy in _copies(_stages()[0]):
        for source in copy:
            src = ROOT / source
            if src.is_dir():
                shutil.copytree(src, context / source, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(src, context / source)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(tmp_path / "dist"),
            ".",
        ],
        cwd=context,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 and "No module named 'wheel'" in proc.stderr + proc.stdout:
        pytest.fail("the venv lacks 'wheel' (pyproject's test extra installs it)")
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("airflow_kfp-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "airflow_kfp/runtime/pod.py" in names and "airflow_kfp/py.typed" in names
    assert any(n.startswith("airflow_kfp/ui/static/assets/") for n in names), "the UI's built assets"
    assert not [n for n in names if n.split("/")[0] not in ("airflow_kfp",) and ".dist-info/" not in n]
