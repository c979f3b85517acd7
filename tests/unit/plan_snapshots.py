"""Plan every test and compat pipeline in a process where importing Airflow fails.

``python -m tests.unit.plan_snapshots`` prints ``{name: plan text}`` as JSON; ``test_plan_snapshots``
compares it with the files in ``tests/unit/plans/`` (``UPDATE_PLAN_SNAPSHOTS=1`` rewrites them). The
pipelines come from the DSL (tests/pipelines, the UI and YAML test pipelines, the compat suite's KFP
sources with their imports switched) and from compiled YAML (the compat and YAML fixtures); each goes
through the model rewrites ``to_dag`` applies, then ``plan_pipeline``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Sequence
from types import ModuleType


class _NoAirflow(importlib.abc.MetaPathFinder):
    """Refuses ``airflow`` and everything under it, as a machine without Airflow would."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "airflow" or fullname.startswith("airflow."):
            raise ModuleNotFoundError(f"No module named {fullname!r} (blocked: planning must not import Airflow)")
        return None


sys.meta_path.insert(0, _NoAirflow())

import importlib  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402

from airflow_kfp.dsl.pipeline import Pipeline  # noqa: E402
from airflow_kfp.errors import PipelineDefinitionError  # noqa: E402
from airflow_kfp.kfp_yaml import load_pipeline  # noqa: E402
from airflow_kfp.planning.artifact_inputs import import_artifact_inputs  # noqa: E402
from airflow_kfp.planning.planner import plan_pipeline  # noqa: E402
from airflow_kfp.planning.workspace import add_workspace  # noqa: E402
from airflow_kfp.spec.model import PipelineSpec  # noqa: E402

TESTS = Path(__file__).resolve().parent.parent
DSL_MODULES = [
    *(f"tests.pipelines.{p.stem}" for p in sorted((TESTS / "pipelines").glob("*.py")) if p.stem != "__init__"),
    "tests.ui.pipelines",
    "tests.yaml.component_pipelines",
]
YAML_FOLDERS = [TESTS / "compat" / "fixtures", TESTS / "yaml" / "fixtures"]


def _plan_text(spec: PipelineSpec) -> str:
    try:
        return plan_pipeline(add_workspace(import_artifact_inputs(spec))).describe()
    except PipelineDefinitionError as exc:
        return f"refused: {exc}\n"


def _pipelines(module: ModuleType) -> dict[str, Pipeline]:
    return {name: value for name, value in vars(module).items() if isinstance(value, Pipeline)}


def snapshots() -> dict[str, str]:
    from tests.compat.compare import PIPELINES
    from tests.compat.source import ported

    found: dict[str, str] = {}
    for module_name in DSL_MODULES:
        for name, pipeline in _pipelines(importlib.import_module(module_name)).items():
            found[f"{module_name.removeprefix('tests.').replace('.', '-')}-{name}"] = _plan_text(pipeline.spec)
    for source in sorted(PIPELINES.glob("*.py")):
        if source.stem == "__init__":
            continue
        for name, pipeline in _pipelines(ported(source.stem)).items():
            found[f"compat-{source.stem}-{name}"] = _plan_text(pipeline.spec)
    for folder in YAML_FOLDERS:
        for path in sorted(folder.glob("*.yaml")):
            try:
                spec = load_pipeline(str(path))
            except PipelineDefinitionError as exc:  # a component file, or a refused pipeline
                text = f"not loaded as a pipeline: {exc}\n"
            else:
                text = _plan_text(spec)
            found[f"{folder.parent.name}-yaml-{path.stem}"] = text
    return found


def main() -> None:
    result = snapshots()
    assert not any(m == "airflow" or m.startswith("airflow.") for m in sys.modules), "Airflow was imported"
    json.dump(result, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
