"""Scan KFP's own pipelines through airflow-kfp (a dev tool, not part of CI).

    .venv/bin/python -m tools.compat.scan KFP [--verbose] [--json OUT]
    .venv/bin/python -m tools.compat.scan KFP --run [--kfp-python bench/.kfp-venv/bin/python]

``KFP`` is a checkout of github.com/kubeflow/pipelines, or its bare git directory (then the needed
folders are extracted from ``HEAD`` into a temporary folder). Every Python file of KFP's SDK test
data and samples is ported the way a user ports it, by changing its imports only (``kfp`` becomes
``airflow_kfp``), imported, and each pipeline it defines (or, with none, each component: KFP compiles a
bare component as a one-task pipeline) is built with ``to_dag``. Every compiled pipeline YAML of the
test data goes through ``load_pipeline`` + ``to_dag``, every component YAML through
``components.load_component_from_file`` + ``to_dag``. Failures are classified, so a gap of
airflow-kfp stands apart from what is not a pipeline (KFP client scripts, test harnesses) or belongs
to kfp-kubernetes.

``--run`` also RUNS them and compares: every pipeline that kfp.local's SubprocessRunner can run (no
Docker, no network, no run argument needed) is run by kfp.local in the kfp virtual environment
(``kfp_scan_worker.py``; results cached on disk by file hash) and by airflow-kfp in real
``dag.test()`` runs with the local runner, from the ported source and from the YAML kfp compiled
(and both again through ``airflow_kfp.local``, the pipeline called directly), and the run state and
every task's state and outputs are compared as the compatibility suite does
(``compare.compare_run``). At most two processes, each under ``nice``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import hashlib
import importlib.util
import io
import json
import os
import re
import shutil
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


def targets_of(namespace: dict[str, Any], pipeline_class: type, component_class: type) -> list[tuple[str, Any]]:
    """A module's own pipelines; with none, its components (each a one-task pipeline). Shared with
    ``kfp_scan_worker.py``, which passes kfp's classes, so both runtimes name the same targets."""
    seen: set[int] = set()
    pipelines, components = [], []
    for name, value in namespace.items():
        if id(value) in seen or name.startswith("_"):
            continue
        seen.add(id(value))
        if isinstance(value, pipeline_class):
            pipelines.append((name, value))
        elif isinstance(value, component_class):
            components.append((name, value))
    return pipelines or components


def _buildable(module: ModuleType) -> list[tuple[str, Any]]:
    from airflow_kfp.dsl import BaseComponent, Pipeline

    return targets_of(vars(module), Pipeline, BaseComponent)


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
    from airflow_kfp.kfp_yaml import load_pipeline

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


# ---- --run: run every runnable pipeline under kfp.local and airflow-kfp, and compare ----------------

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "airflow-kfp-scan-cache"
REPO = Path(__file__).resolve().parent.parent.parent
RUN_TIMEOUT = 300
"""Seconds one airflow-kfp run may take before it is recorded as timed out."""
_RANDOM = re.compile(r"^\s*(import random|from random import|import numpy)", re.M)
SEEDED = Path(__file__).resolve().parent / "seeded"
"""Holds the ``sitecustomize`` that seeds ``random`` in every process of both runtimes."""
_KFP_LOCAL_PATH = re.compile(r"/kfp-(compat|workspace)-\w+/")
"""A value holding a path under kfp.local's pipeline root (a task returning ``artifact.path``): the
same output under airflow-kfp names its own artifact root, so such values are not compared."""

KFP_LOCAL_DEPARTS: dict[tuple[str, str], str] = {
    ("samples/core/loop_parameter/loop_parameter.py", "my_pipeline"): (
        "kfp.local refuses the int fields of a loop item for str inputs; KFP's own sample test "
        "(loop_parameter_test.py) expects the run to succeed with '110', '220', ... as airflow-kfp does"
    ),
    (
        "test_data/sdk_compiled_pipelines/valid/critical/pipeline_with_artifact_custom_path.py",
        "pipeline_with_custom_path_artifact",
    ): (
        "kfp.local ignores Output.set_path, so the next task reads an empty file; KFP reads the file at the "
        "custom path, as airflow-kfp does"
    ),
    **{
        (f"test_data/sdk_compiled_pipelines/valid/{file}", pipeline): (
            "kfp.local hands dsl.Collected ints to a List[int] / List[List[int]] input as floats, so the "
            "consumer's int output fails its type check; KFP passes ints, and the task succeeds as here"
        )
        for file, pipeline in [
            ("parameters_complex.py", "math_pipeline"),
            ("pipeline_producer_consumer.py", "math_pipeline"),
            ("nested_with_parameters.py", "math_pipeline"),
        ]
    },
    ("test_data/sdk_compiled_pipelines/valid/critical/pipeline_with_workspace.py", "pipeline_with_workspace"): (
        "under kfp.local the reading task does not find the file the first task wrote to the workspace; "
        "KFP shares one workspace across the run (the pipeline asserts the content), as airflow-kfp does"
    ),
    ("test_data/sdk_compiled_pipelines/valid/artifacts_complex.py", "math_pipeline"): (
        "kfp.local stops after the first loop (nested ParallelFor whose Collected lists of artifacts feed a "
        "nested pipeline); KFP's compiled test pipeline runs to the end, as here"
    ),
    ("test_data/sdk_compiled_pipelines/valid/pipeline_with_parallelfor_list_artifacts.py", "my_pipeline"): (
        "the task returns its input artifact's .name: '' under kfp.local, the metadata store's id on KFP "
        "(backend/src/v2/metadata/converter.go), the input's name here; no runtime agrees, none is wrong"
    ),
}
"""Pipelines where kfp.local itself departs from KFP's documented semantics (or KFP's own tests of a
real backend), keyed by (file, pipeline): their difference is reported with the reason, not counted
as a mismatch."""


@dataclass
class RunOutcome:
    path: str
    pipeline: str
    mode: str  # "source", "yaml" or "" (not run)
    status: str  # "match", "mismatch", "kfp.local departs", "skipped" or "error"
    detail: str = ""
    random: bool = False


def _chunks(items: list[str], count: int) -> list[list[str]]:
    return [chunk for chunk in (items[i::count] for i in range(count)) if chunk]


def _runnable_files(root: Path) -> list[str]:
    files = []
    for path in _files(root, PYTHON_ROOTS, ".py"):
        text = path.read_text()
        if path.name.endswith("_test.py") or path.name == "__init__.py" or "kfp" not in text:
            continue
        if not NOT_PIPELINES.search(text):
            files.append(str(path.relative_to(root)))
    return files


def _parallel(commands: list[tuple[list[str], dict[str, str], Path]]) -> None:
    """Run the commands side by side (one per chunk), niced, output to their log files."""
    procs = []
    for command, env, log in commands:
        with log.open("w") as sink:
            procs.append(subprocess.Popen(["nice", "-n", "10", *command], env=env, cwd=REPO, stdout=sink, stderr=sink))
    for proc in procs:
        proc.wait()


def kfp_phase(
    root: Path, files: list[str], python: Path, cache: Path, jobs: int, cached_only: bool = False
) -> dict[str, Any]:
    """kfp.local's results per file (cached by file hash): compiled YAML and expectations. With
    ``cached_only``, files kfp.local has not run yet are left out rather than run now."""
    cache.mkdir(parents=True, exist_ok=True)
    keys_code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from kfp_scan_worker import cache_key; from pathlib import Path; "
        "print('\\n'.join(cache_key(Path(sys.argv[2]) / f) for f in sys.argv[3:]))"
    )
    keys = subprocess.run(
        [str(python), "-c", keys_code, str(Path(__file__).parent), str(root), *files],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    missing = [] if cached_only else [f for f, k in zip(files, keys, strict=True) if not (cache / f"{k}.json").exists()]
    worker = str(Path(__file__).parent / "kfp_scan_worker.py")
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONPATH": _seeded_path()}
    _parallel(
        [
            ([str(python), worker, str(cache), str(root), *chunk], env, cache / f"kfp-worker-{i}.log")
            for i, chunk in enumerate(_chunks(missing, jobs))
        ]
    )
    records = {}
    for file, key in zip(files, keys, strict=True):
        target = cache / f"{key}.json"
        if target.exists():
            records[file] = json.loads(target.read_text())
        elif not cached_only:
            records[file] = {"error": "the kfp worker died"}
    return records


def airflow_phase(root: Path, records: dict[str, Any], cache: Path, jobs: int) -> list[RunOutcome]:
    """Run what kfp.local ran, under airflow-kfp, in ``jobs`` workers with their own Airflow homes."""
    work = Path(tempfile.mkdtemp(prefix="airflow-kfp-scan-run-"))
    template = work / "template"
    env = {**os.environ, **_airflow_env(template)}
    subprocess.run(
        ["nice", "-n", "10", sys.executable, "-m", "airflow", "db", "migrate"], env=env, capture_output=True, check=True
    )
    runnable = [f for f, r in records.items() if any(p.get("status") == "run" for p in r.get("pipelines", {}).values())]
    (work / "records.json").write_text(json.dumps(records))
    commands = []
    for i, chunk in enumerate(_chunks(runnable, jobs)):
        home = work / f"home-{i}"
        shutil.copytree(template, home)
        command = [sys.executable, "-m", "tools.compat.scan", str(root), "--run-worker", str(work / f"out-{i}.jsonl")]
        commands.append(([*command, *chunk], {**os.environ, **_airflow_env(home)}, work / f"worker-{i}.log"))
    _parallel(commands)
    outcomes: list[RunOutcome] = []
    for i in range(len(commands)):
        out = work / f"out-{i}.jsonl"
        if out.exists():
            outcomes.extend(RunOutcome(**json.loads(line)) for line in out.read_text().splitlines())
    done = {(o.path, o.pipeline) for o in outcomes}
    for file, record in records.items():
        if "error" in record:
            outcomes.append(RunOutcome(file, "", "", "skipped", record["error"].splitlines()[-1][:300]))
        for name, entry in record.get("pipelines", {}).items():
            if entry.get("status") != "run":
                outcomes.append(RunOutcome(file, name, "", "skipped", entry.get("reason", "")))
            elif (file, name) not in done:
                outcomes.append(RunOutcome(file, name, "", "error", f"the airflow-kfp worker died (see {work})"))
    return outcomes


def _airflow_env(home: Path) -> dict[str, str]:
    (home / "dags").mkdir(parents=True, exist_ok=True)
    return {
        "PYTHONPATH": _seeded_path(),
        "AIRFLOW__KFP__LOCAL_LAUNCH": "spawn",  # a forked child reseeds random; a fresh Python runs sitecustomize
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
        "AIRFLOW__KFP__RUNNER": "local",
        "AIRFLOW__KFP__ARTIFACT_ROOT": str(home / "artifacts"),
        "PYTHONWARNINGS": "ignore",
    }


def _seeded_path() -> str:
    return os.pathsep.join(p for p in (str(SEEDED), os.environ.get("PYTHONPATH", "")) if p)


def comparable(want: dict[str, Any]) -> dict[str, Any]:
    """The expectation without outputs that name kfp.local's own files (see ``_KFP_LOCAL_PATH``)."""
    tasks = {}
    for task, record in want["tasks"].items():
        parameters = {
            k: v for k, v in record.get("parameters", {}).items() if not _KFP_LOCAL_PATH.search(json.dumps(v))
        }
        tasks[task] = {**record, "parameters": parameters}
    return {**want, "tasks": tasks}


def compare(result: Any, want: dict[str, Any]) -> list[str]:
    """``compare_run``, task by task, allowing for how kfp.local records tasks: one record per name (a
    name several Airflow tasks end with, the same component in a nested pipeline and at the top, matches
    when one of them does); a second task of that name in a nested DAG renamed ``NAME-2``; and a task
    in a loop recorded once, as one iteration left it (it matches when one map index does)."""
    from types import SimpleNamespace

    from tests.compat.compare import compare_run

    want = comparable(want)
    problems = [f"run state {result.state!r}, KFP: {want['state']!r}"] if result.state != want["state"] else []
    task_ids = sorted({k if isinstance(k, str) else k[0] for k in result.states})
    for task, record in want["tasks"].items():
        if task in want.get("task_ids", {}):
            candidates = [str(want["task_ids"][task])]
        else:
            base = re.sub(r"-\d+$", "", task)
            candidates = [t for t in task_ids if t.rsplit(".", 1)[-1] == task] or [
                t for t in task_ids if t.rsplit(".", 1)[-1] == base
            ]
        tries = []
        for candidate in candidates or [task]:
            indexes = sorted(k[1] for k in result.states if not isinstance(k, str) and k[0] == candidate) or [-1]
            for index in indexes:
                view = SimpleNamespace(
                    state=want["state"],
                    states={k: v for k, v in result.states.items() if _kept(k, candidate, index)},
                    manifests={k: v for k, v in result.manifests.items() if _kept(k, candidate, index)},
                )
                tries.append(compare_run(view, {**want, "tasks": {task: record}, "task_ids": {task: candidate}}))
                if not tries[-1]:
                    break
            if not tries[-1]:
                break
        if all(tries):
            problems.extend(tries[0])
    return problems


def _kept(key: Any, task_id: str, index: int) -> bool:
    """Whether a state or manifest key stays in the view of ``task_id`` at map index ``index`` (tasks
    whose ids differ from it only by group numbers leave, so it is the one task of its shape)."""
    from tests.compat.compare import _groups_numbered_alike

    name = key if isinstance(key, str) else key[0]
    if name != task_id:
        return _groups_numbered_alike(name) != _groups_numbered_alike(task_id)
    return isinstance(key, str) or key[1] == index


def load_ported(path: str) -> ModuleType:
    """The ported module of a KFP file, imported once per process (DAG files built by the run worker
    import it again when ``dag.test()`` re-parses them)."""
    name = "_airflow_kfp_scan_run_" + hashlib.sha256(path.encode()).hexdigest()[:12]
    if name not in sys.modules:
        module = _import(Path(path), 0)
        sys.modules[name] = module
    return sys.modules[name]


def _dag_source(kind: str, dag_id: str, path: str, name: str, compiled: str) -> str:
    target = f"load_pipeline({compiled!r})" if kind == "yaml" else f"getattr(load_ported({path!r}), {name!r})"
    return (
        "import datetime\n"
        "from airflow_kfp import to_dag\n"
        "from airflow_kfp.kfp_yaml import load_pipeline\n"
        "from tools.compat.scan import load_ported\n"
        f"dag = to_dag({target}, dag_id={dag_id!r}, start_date=datetime.datetime(2024, 1, 1))\n"
    )


RUN_MODES = ("source", "yaml", "local-source", "local-yaml")
"""How each pipeline runs: DAG runs (``dag.test()``) from the ported source and from the YAML kfp compiled,
and the same two through ``airflow_kfp.local`` (no DAG run: the pipeline called directly)."""


def run_local(kind: str, path: str, name: str, entry: dict[str, Any]) -> Any:
    """One pipeline through ``airflow_kfp.local`` (failures recorded in the result, never raised)."""
    from airflow_kfp import local
    from airflow_kfp.kfp_yaml import load_pipeline
    from airflow_kfp.local.execution import run as run_called
    from airflow_kfp.local.execution import run_spec

    root = Path(os.environ["AIRFLOW_HOME"]) / "local-artifacts"
    local.init(runner=local.SubprocessRunner(), pipeline_root=str(root), raise_on_error=False)
    arguments = entry["expected"]["arguments"]
    if kind == "local-yaml":
        return run_spec(load_pipeline(entry["yaml"]), arguments)[0]
    return run_called(getattr(load_ported(path), name), arguments).run


def _timeout(signum: int, frame: Any) -> None:
    raise TimeoutError(f"the run took longer than {RUN_TIMEOUT}s")


def run_worker(root: Path, out: Path, files: list[str]) -> None:
    """Inside one worker process: run each file's pipelines from source and from YAML, compare."""
    import signal

    from tests.harness import DagRunner

    records = json.loads((out.parent / "records.json").read_text())
    runner = DagRunner(Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"]))
    signal.signal(signal.SIGALRM, _timeout)
    with out.open("a") as sink:
        for index, file in enumerate(files):
            random = bool(_RANDOM.search((root / file).read_text()))
            for name, entry in records[file]["pipelines"].items():
                if entry.get("status") != "run":
                    continue
                for kind in RUN_MODES:
                    dag_id = f"scan-run-{index}-{kind}-{name}"
                    signal.alarm(RUN_TIMEOUT)
                    try:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            if kind.startswith("local-"):
                                result = run_local(kind, str(root / file), name, entry)
                            else:
                                source = _dag_source(kind, dag_id, str(root / file), name, entry["yaml"])
                                result = runner.run(runner.load(source), conf=entry["expected"]["arguments"])
                        problems = compare(result, entry["expected"])
                        departs = KFP_LOCAL_DEPARTS.get((file, name))
                        status = "match" if not problems else "kfp.local departs" if departs else "mismatch"
                        detail = "; ".join(problems) + (f" [{departs}]" if problems and departs else "")
                        outcome = RunOutcome(file, name, kind, status, detail, random)
                    except BaseException as error:  # noqa: BLE001 - recorded, never stops the scan
                        outcome = RunOutcome(file, name, kind, "error", _short(error), random)
                    finally:
                        signal.alarm(0)
                    sink.write(json.dumps(asdict(outcome)) + "\n")
                    sink.flush()


def run_summary(outcomes: list[RunOutcome]) -> str:
    lines = []
    for kind in RUN_MODES:
        mine = [o for o in outcomes if o.mode == kind]
        match = [o for o in mine if o.status == "match"]
        departs = [o for o in mine if o.status == "kfp.local departs"]
        lines.append(
            f"run-compare {kind}: {len(match)}/{len(mine)} pipelines end as under kfp.local"
            f" (+{len(departs)} where kfp.local departs from KFP and airflow-kfp follows KFP)"
        )
    skipped: dict[str, int] = {}
    for outcome in outcomes:
        if outcome.status == "skipped":
            reason = re.sub(r"\(image .*?\)|input \w+ has|package \S+|: .*", "", outcome.detail)
            skipped[reason] = skipped.get(reason, 0) + 1
    lines.append(f"not run ({sum(skipped.values())}):")
    lines.extend(f"  {count:3d} {reason}" for reason, count in sorted(skipped.items(), key=lambda c: -c[1]))
    return "\n".join(lines)


def run_main(args: argparse.Namespace, root: Path) -> int:
    python = (args.kfp_python or REPO / "bench" / ".kfp-venv" / "bin" / "python").absolute()
    files = _runnable_files(root)
    records = kfp_phase(root, files, python, args.cache, args.jobs, args.cached_only)
    outcomes = airflow_phase(root, records, args.cache, args.jobs)
    for outcome in sorted(outcomes, key=lambda o: (o.path, o.pipeline, o.mode)):
        if args.verbose or outcome.status in ("mismatch", "error", "kfp.local departs"):
            flag = " [uses random]" if outcome.random else ""
            print(f"{outcome.status:8s} {outcome.mode:6s} {outcome.path}:{outcome.pipeline}{flag}  {outcome.detail}")
    print(run_summary(outcomes))
    if args.json:
        args.json.write_text(json.dumps([asdict(o) for o in outcomes], indent=1))
    return 0


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
    parser.add_argument("--run", action="store_true", help="also run the pipelines and compare with kfp.local")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where kfp.local's results are kept")
    parser.add_argument("--cached-only", action="store_true", help="with --run: only what kfp.local ran already")
    parser.add_argument("--jobs", type=int, default=2, choices=(1, 2), help="processes at a time")
    parser.add_argument("--run-worker", nargs="+", help=argparse.SUPPRESS)  # OUT FILE...
    args = parser.parse_args(argv)
    root = checkout(args.kfp.resolve())
    if args.run_worker:
        run_worker(root, Path(args.run_worker[0]), args.run_worker[1:])
        return 0
    if args.run:
        return run_main(args, root)
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
