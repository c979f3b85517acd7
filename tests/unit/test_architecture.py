"""The architecture's rules that a test can hold (the import layering is import-linter's, in ``make lint``).

- The runtime runs from its zip alone, standard library only: started as ``python -I -S`` (no site
  packages, no environment, no current folder) with nothing but the zip the pod receives on its path,
  it imports every module it ships and runs a Python component and a container component.
- Every file ``docs/architecture.md`` names exists.
- Names are imported from the module that defines them (``tools/check_imports.py``).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

from airflow_kfp.runners import task_document
from airflow_kfp.runners.pod.bundle import runtime_files, runtime_zip_b64
from airflow_kfp.spec.model import ComponentSpec, ContainerImplementation, OutputSpec, PythonFunction, TaskSpec

REPO = Path(__file__).resolve().parents[2]


def _isolated(zip_path: Path, code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", f"import sys; sys.path.insert(0, {str(zip_path)!r}); {code}"],
        cwd=cwd,
        env={},
        capture_output=True,
        text=True,
        check=False,
    )


def _task_file(tmp_path: Path, component: ComponentSpec, parameters: dict[str, object]) -> Path:
    workdir = tmp_path / component.name
    (workdir / "parameters").mkdir(parents=True)
    document = {
        "component": task_document.runtime_component(component, TaskSpec(name=component.name, component="c")),
        "executor_input": task_document.executor_input(
            parameters,
            {},
            {},
            task_document.output_parameter_files(component, str(workdir / "parameters")),
            str(workdir / "executor_output.json"),
        ),
    }
    path = workdir / "task.json"
    path.write_text(json.dumps(document))
    return path


def test_the_runtime_runs_from_its_zip_alone_with_the_standard_library(tmp_path: Path) -> None:
    bundle = tmp_path / "runtime.zip"
    bundle.write_bytes(base64.b64decode(runtime_zip_b64()))
    package = REPO / "airflow_kfp"
    shipped = [".".join(p.relative_to(REPO).with_suffix("").parts) for p in runtime_files()]
    modules = [m.removesuffix(".__init__") for m in shipped]
    imported = _isolated(
        bundle,
        f"import importlib; [importlib.import_module(m) for m in {modules!r}]; "
        "import airflow_kfp; assert airflow_kfp.__file__.startswith(sys.path[0]), airflow_kfp.__file__; "
        "assert 'pydantic' not in sys.modules and 'airflow' not in sys.modules, sorted(sys.modules)",
        tmp_path,
    )
    assert imported.returncode == 0, imported.stderr
    assert {p.parent.name for p in runtime_files() if p.parent != package} == {"core", "runtime"}

    add = ComponentSpec(
        name="add",
        outputs=[OutputSpec(name="Output", kind="parameter", type="NUMBER_INTEGER")],
        implementation=PythonFunction(
            function_name="add", source="def add(a: int, b: int) -> int:\n    return a + b\n"
        ),
    )
    task = _task_file(tmp_path, add, {"a": 2, "b": 3})
    ran = _isolated(
        bundle,
        f"from airflow_kfp.runtime import launcher; sys.exit(launcher.main(['--task-file', {str(task)!r}]))",
        tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert json.loads((task.parent / "executor_output.json").read_text())["parameterValues"] == {"Output": 5}

    echo = ComponentSpec(
        name="echo",
        outputs=[OutputSpec(name="said", kind="parameter", type="STRING")],
        implementation=ContainerImplementation(
            image="alpine",
            command=["sh", "-c", 'printf %s "$0" > "$1"'],
            args=["{{$.inputs.parameters['word']}}", "{{$.outputs.parameters['said'].output_file}}"],
        ),
    )
    task = _task_file(tmp_path, echo, {"word": "hi"})
    ran = _isolated(
        bundle,
        f"from airflow_kfp.runtime import launcher; sys.exit(launcher.main(['--task-file', {str(task)!r}]))",
        tmp_path,
    )
    assert ran.returncode == 0, ran.stderr
    assert (task.parent / "parameters" / "said").read_text() == "hi"


def test_every_path_docs_architecture_names_exists() -> None:
    text = (REPO / "docs" / "architecture.md").read_text()
    named = set(re.findall(r"`((?:airflow_kfp|tests|tools|bench|docs)/[\w./-]+|[\w]+/[\w/]+\.py)`", text))
    assert len(named) > 20
    missing = []
    for path in sorted(named):
        candidates = [REPO / path, REPO / "airflow_kfp" / path]
        if not any(c.exists() for c in candidates):
            missing.append(path)
    assert not missing, f"docs/architecture.md names files that do not exist: {missing}"


def test_names_are_imported_from_the_module_that_defines_them() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tools.check_imports"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
