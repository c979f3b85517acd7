"""The compiled YAML and the ported Python source of each compat pipeline read into the same model:
the same tasks, components, arguments, control-flow groups and task settings. Fast (no DAG run), so
every fixture is checked field by field; the DAG runs then check behaviour."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_kfp.kfp_yaml import load_pipeline
from airflow_kfp.spec.model import PipelineSpec
from tests.compat.compare import FIXTURES, names
from tests.compat.source import ported


def _group_names(spec: PipelineSpec) -> dict[str, str]:
    """Group names differ between KFP's compiler and the DSL's counter; name them by kind and order."""
    counts: dict[str, int] = {}
    result: dict[str, str] = {}
    for group in spec.groups:
        counts[group.kind] = counts.get(group.kind, 0) + 1
        result[group.name] = f"{group.kind}#{counts[group.kind]}"
    return result


def _normal(value: Any, groups: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: _normal(v, groups) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v, groups) for v in value]
    if isinstance(value, str) and value in groups:
        return groups[value]
    return value


def _component(spec: PipelineSpec, key: str) -> dict[str, Any]:
    component = spec.components[key].model_dump(mode="json")
    component.pop("name")
    component.pop("description")
    impl = component["implementation"]
    if impl["kind"] == "python":
        # an embedded archive's bytes depend on the tar writer (kfp's or ours), not on the files
        impl["source"] = re.sub(r"__KFP_EMBEDDED_ARCHIVE_B64 = '[^']*'", "<archive>", impl["source"]).strip()
    if impl["kind"] == "graph":
        impl["pipeline"] = _comparable(spec.components[key].implementation.pipeline)  # type: ignore[union-attr]
    for spec_input in component["inputs"]:
        spec_input.pop("description")
    for field in ("inputs", "outputs"):  # KFP's YAML sorts them by name
        component[field] = sorted(component[field], key=lambda i: i["name"])
    return component


def _comparable(spec: PipelineSpec) -> dict[str, Any]:
    groups = _group_names(spec)
    tasks = {}
    for task in spec.tasks:
        record = task.model_dump(mode="json")
        record["component"] = _component(spec, task.component)
        record["display_name"] = task.display_name
        tasks[task.name] = _normal(record, groups)
    return {
        "name": spec.name,
        "inputs": sorted((i.model_dump(mode="json", exclude={"description"}) for i in spec.inputs), key=str),
        "outputs": _normal({k: v.model_dump(mode="json") for k, v in spec.outputs.items()}, groups),
        "output_specs": sorted(
            (o.model_dump(mode="json", exclude={"description"}) for o in spec.output_specs), key=str
        ),
        "groups": [_normal(g.model_dump(mode="json"), groups) for g in spec.groups],
        "tasks": tasks,
    }


@pytest.mark.parametrize("name", names())
def test_yaml_and_ported_source_build_the_same_model(name):
    from_yaml = _comparable(load_pipeline(FIXTURES / f"{name}.yaml"))
    from_source = _comparable(ported(name).pipeline.spec)
    assert from_yaml["groups"] == from_source["groups"]
    assert from_yaml.keys() == from_source.keys()
    for key in ("name", "inputs", "outputs", "output_specs"):
        assert from_yaml[key] == from_source[key], key
    assert sorted(from_yaml["tasks"]) == sorted(from_source["tasks"])
    for task, record in from_source["tasks"].items():
        assert from_yaml["tasks"][task] == record, task
