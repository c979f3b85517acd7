"""Scan KFP's own pipelines through airflow-kfp (a dev tool, not part of CI).

    .venv/bin/python -m tests.compat.scan KFP [--verbose] [--json OUT]

``KFP`` is a checkout of github.com/kubeflow/pipelines, or its bare git directory (then the needed
folders are extracted from ``HEAD`` into a temporary folder). Every Python file of KFP's SDK test
data and samples is ported the way a user ports it, by changing its imports only (``kfp`` becomes
``airflow_kfp``), imported, and each pipeline it defines (or, with none, each component: KFP compiles a
bare component as a one-task pipeline) is built with ``to_dag``. Every compiled pipeline YAML of the
test data goes through ``load_pipeline`` + ``to_dag``, every component YAML through
``components.load_component_from_file`` + ``to_dag``. Failures are classified, so a gap of
airflow-kfp stands apart from what is not a pipeline (KFP client scripts, test harnesses) or belongs
to kfp-kubernetes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

PYTHON_ROOTS = [
    "test_data/sdk_compiled_pipelines",
    "test_data/sdk_uncompiled_pipelines",
    "samples",
    "sdk/python/test_data/pipelines",  # the SDK's layout before KFP 2.15
    "sdk/python/test_data/components",
]
YAML_ROOTS = [
    "test_data/sdk_compiled_pipelines",
    "test_data/sdk_uncompiled_pipelines",
    "sdk/python/test_data/pipelines",
    "sdk/python/test_data/components",
]
NOT_PIPELINES = re.compile(r"^\s*(from kfp\.samples|import kfp_server_api)", re.M)
"""Imports of KFP's own sample harness: those files test a KFP server rather than define a pipeline."""
_CLIENT_IMPORT = re.compile(r"^(\s*)from kfp import ([\w, ]+)$", re.M)
_CLIENT_NAMES = {"Client", "client"}

_PORTS = [
    (re.compile(r"^(\s*)from kfp((?:\.\w+)*) import\b", re.M), r"\1from airflow_kfp\2 import"),
    (re.compile(r"^(\s*)import kfp((?:\.\w+)+) as\b", re.M), r"\1import airflow_kfp\2 as"),
    (re.compile(r"^(\s*)import kfp(\s+as\s+kfp)?\s*$", re.M), r"\1import airflow_kfp as kfp"),
]
START = datetime.datetime(2024, 1, 1)


@dataclass
class Outcome:
    path: str
    kind: str  # "python" or "yaml"
    status: str  # "ok", "skipped" or "failed"
    category: str = ""
    detail: str = ""
    built: int = 0


def _without_client(match: re.Match[str]) -> str:
    names = [n.strip() for n in match.group(2).split(",") if n.strip() and n.strip() not in _CLIENT_NAMES]
    return f"{match.group(1)}from kfp import {', '.join(names)}" if names else f"{match.group(1)}pass"


def port(text: str) -> str:
    """The source with its kfp imports switched to airflow_kfp; nothing else changes. ``kfp.Client``
    (submitting runs to a KFP server: Airflow triggers runs instead) is dropped from the imports, as
    a user porting the script drops it; a script calling it at import then fails, classified."""
    text = _CLIENT_IMPORT.sub(_without_client, text)
    for pattern, replacement in _PORTS:
        text = pattern.sub(replacement, text)
    return text


def checkout(kfp: Path) -> Path:
    """A folder holding the scanned trees: ``kfp`` itself, or the trees extracted from a bare git dir."""
    if (kfp / "objects").is_dir() and (kfp / "HEAD").is_file():
        out = Path(tempfile.mkdtemp(prefix="kfp-scan-"))
        roots = sorted(set(PYTHON_ROOTS + YAML_ROOTS))
        git = ["git", "--git-dir", str(kfp)]
        listed = subprocess.run(
            [*git, "ls-tree", "--name-only", "HEAD", "--", *roots], capture_output=True, text=True, check=True
        ).stdout.split()
        archive = subprocess.run(
            ["git", "--git-dir", str(kfp), "archive", "HEAD", *listed], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
        return out
    return kfp


def _files(root: Path, roots: list[str], suffix: str) -> list[Path]:
    found: set[Path] = set()
    for name in roots:
        base = root / name
        if base.is_dir():
            found.update(p for p in base.rglob(f"*{suffix}") if not p.name.startswith("_airflow_kfp_ported_"))
    return sorted(found)


def _category(error: BaseException, text: str, path: Path) -> str:
    message = f"{type(error).__name__}: {error}"
    if "invalid" in path.parts:
        return "invalid on purpose (KFP's negative test data)"
    if "Client" in message:
        return "submits runs to a KFP server (kfp.Client) at import"
    if re.search(r"urlopen error|Name or service not known|Temporary failure in name resolution", message):
        return "needs the network (loads a component by URL)"
    if "kubernetes" in text and re.search(r"kubernetes", message):
        return "kfp-kubernetes"
    if re.search(
        r"[Aa]rtifact iterator|ParallelFor over (a list of )?artifacts|List\[(Artifact|Dataset|Model)", message
    ):
        return "artifact iterator"
    if re.search(r"artifact input, which a run cannot pass|pipeline inputs must be parameters", message):
        return "airflow-kfp gap: artifact input of the top-level pipeline"
    if isinstance(error, ModuleNotFoundError) and not str(error.name or "").startswith("airflow_kfp"):
        return f"needs package {error.name}"
    if isinstance(error, FileNotFoundError | OSError) and "No such file" in str(error):
        return "missing file (reads a path outside the scanned trees)"
    return "airflow-kfp gap"


def _short(error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}"[:300]


def _import(path: Path, index: int) -> ModuleType:
    ported = path.with_name(f"_airflow_kfp_ported_{path.stem}.py")
    ported.write_text(port(path.read_text()))
    name = f"_airflow_kfp_scan_{index}_{re.sub(r'[^0-9a-zA-Z_]', '_', path.stem)}"
    spec = importlib.util.spec_from_file_location(name, ported)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))
    here = os.getcwd()
    os.chdir(path.parent)  # KFP's tests load component files by paths relative to the script
    try:
        spec.loader.exec_module(module)
    finally:
        os.chdir(here)
        sys.path.remove(str(path.parent))
    return module


def _buildable(module: ModuleType) -> list[tuple[str, Any]]:
    """The module's own pipelines; with none, its components (each a one-task pipeline)."""
    from airflow_kfp.dsl import BaseComponent, Pipeline

    seen: set[int] = set()
    pipelines, components = [], []
    for name, value in vars(module).items():
        if id(value) in seen or name.startswith("_"):
            continue
        seen.add(id(value))
        if isinstance(value, Pipeline):
            pipelines.append((name, value))
        elif isinstance(value, BaseComponent):
            components.append((name, value))
    return pipelines or components


def scan_python(path: Path, root: Path, index: int) -> Outcome:
    from airflow_kfp import to_dag

    rel = str(path.relative_to(root))
    text = path.read_text()
    if path.name.endswith("_test.py") or path.name == "__init__.py":
        return Outcome(rel, "python", "skipped", "test or package file")
    if "kfp" not in text:
        return Outcome(rel, "python", "skipped", "no kfp import (a helper module)")
    if NOT_PIPELINES.search(text):
        return Outcome(rel, "python", "skipped", "KFP client script or KFP sample harness")
    try:
        module = _import(path, index)
    except BaseException as error:  # noqa: BLE001 - every failure is recorded, none stops the scan
        return Outcome(rel, "python", "failed", _category(error, text, path), "import: " + _short(error))
    targets = _buildable(module)
    if not targets:
        return Outcome(rel, "python", "skipped", "defines no pipeline or component")
    for name, target in targets:
        try:
            to_dag(target, dag_id=f"scan-{index}-{name}", start_date=START)
        except BaseException as error:  # noqa: BLE001
            return Outcome(rel, "python", "failed", _category(error, text, path), f"{name}: " + _short(error))
    return Outcome(rel, "python", "ok", built=len(targets))


def scan_yaml(path: Path, root: Path, index: int) -> Outcome:
    import yaml

    from airflow_kfp import components, to_dag
    from airflow_kfp.yaml import load_pipeline

    rel = str(path.relative_to(root))
    text = path.read_text()
    try:
        first = next(iter(yaml.safe_load_all(text)), None)
    except yaml.YAMLError as error:
        return Outcome(rel, "yaml", "skipped", "not YAML KFP reads either", _short(error))
    if not isinstance(first, dict):
        return Outcome(rel, "yaml", "skipped", "not a KFP document")
    try:
        if "pipelineInfo" in first or "deploymentSpec" in first:
            to_dag(load_pipeline(path), dag_id=f"scan-yaml-{index}", start_date=START)
        elif "implementation" in first or "inputs" in first or "outputs" in first:
            to_dag(components.load_component_from_file(path), dag_id=f"scan-yaml-{index}", start_date=START)
        else:
            return Outcome(rel, "yaml", "skipped", "not a KFP pipeline or component (e.g. an Argo workflow)")
    except BaseException as error:  # noqa: BLE001
        return Outcome(rel, "yaml", "failed", _category(error, text, path), _short(error))
    return Outcome(rel, "yaml", "ok", built=1)


def _quietly(call: Any, *args: Any) -> Outcome:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sink = io.StringIO()
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            try:
                return call(*args)  # type: ignore[no-any-return]
            except SystemExit as error:  # a script calling sys.exit or argparse at import
                path = args[0]
                return Outcome(str(path.relative_to(args[1])), "python", "failed", "exits at import", repr(error))


def _fails_under_kfp(python: Path, path: Path) -> bool:
    """Whether the unported file fails to import with the real kfp SDK (run in its own interpreter)."""
    code = "import runpy, sys; sys.path.insert(0, '.'); runpy.run_path(sys.argv[1], run_name='kfp_scan_check')"
    try:
        result = subprocess.run([str(python), "-c", code, str(path)], cwd=path.parent, capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode != 0


def summary(outcomes: list[Outcome]) -> str:
    lines = []
    for kind in ("python", "yaml"):
        mine = [o for o in outcomes if o.kind == kind]
        done = [o for o in mine if o.status != "skipped"]
        ok = [o for o in done if o.status == "ok"]
        lines.append(f"{kind}: {len(ok)}/{len(done)} build ({len(mine) - len(done)} files skipped)")
        counts: dict[str, int] = {}
        for outcome in done:
            if outcome.status == "failed":
                counts[outcome.category] = counts.get(outcome.category, 0) + 1
        for category, count in sorted(counts.items(), key=lambda c: -c[1]):
            lines.append(f"  {count:3d} {category}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kfp", type=Path, help="a kubeflow/pipelines checkout or bare git directory")
    parser.add_argument("--verbose", action="store_true", help="list every file, not only failures")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument(
        "--kfp-python",
        type=Path,
        help="a python with kfp (bench/.kfp-venv/bin/python): a failing file is imported there too, and "
        "classified 'fails under kfp too' when kfp itself cannot import it",
    )
    args = parser.parse_args(argv)
    root = checkout(args.kfp.resolve())
    outcomes: list[Outcome] = []
    for index, path in enumerate(_files(root, PYTHON_ROOTS, ".py")):
        outcomes.append(_quietly(scan_python, path, root, index))
    for index, path in enumerate(_files(root, YAML_ROOTS, ".yaml")):
        outcomes.append(_quietly(scan_yaml, path, root, index))
    if args.kfp_python:
        for outcome in outcomes:
            if (
                outcome.status == "failed"
                and outcome.kind == "python"
                and _fails_under_kfp(args.kfp_python.absolute(), root / outcome.path)
            ):
                outcome.category = f"fails under kfp too ({outcome.category})"
    for outcome in outcomes:
        if args.verbose or outcome.status == "failed":
            print(f"{outcome.status:7s} {outcome.kind:6s} {outcome.path}  [{outcome.category}] {outcome.detail}")
    print(summary(outcomes))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception:
        traceback.print_exc()
        sys.exit(2)
