"""Issue 24, fast layer: what the run view, the run graph and lineage make of stored manifests.

No Airflow run: serialized DAGs come from the real serializer, manifests as the operators write them.
The browser and API tests (tests/ui) cover the same through a real api-server.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Metrics, Model, Output
from airflow_kfp.manifest import keep_metadata_order, ordered_metadata
from airflow_kfp.ui import data, lineage, views
from airflow_kfp.ui.data import RunRow, StepRow, VersionInfo
from airflow_kfp.ui.graph import run_graph
from airflow_kfp.ui.metrics import step_metrics


def jsonb(value: Any) -> Any:
    """What PostgreSQL's JSONB gives back: object keys sorted by length, then bytes (its storage order)."""
    if isinstance(value, dict):
        return {k: jsonb(value[k]) for k in sorted(value, key=lambda k: (len(k.encode()), k.encode()))}
    if isinstance(value, list):
        return [jsonb(v) for v in value]
    return value


@dsl.component
def uses(config: dict, names: list) -> str:
    return str(config)


@dsl.pipeline(name="dict-defaults")
def dict_defaults(config: dict = {"depth": 3, "opts": {"a": [1, 2]}}, names: list = ["x"]):  # noqa: B006
    uses(config=config, names=names)


def serialized(dag: Any) -> dict[str, Any]:
    from airflow.serialization import serialized_objects

    # Airflow 3.3 names the serialiser DagSerialization; 3.1 and 3.2 SerializedDAG
    DagSerialization = getattr(serialized_objects, "DagSerialization", None) or serialized_objects.SerializedDAG

    return json.loads(json.dumps(DagSerialization.to_dict(dag)))


def test_dict_defaults_are_shown_as_written_not_as_airflows_envelope() -> None:
    from airflow_kfp import to_dag

    defaults = data._param_defaults(serialized(to_dag(dict_defaults)))
    assert defaults["config"] == {"depth": 3, "opts": {"a": [1, 2]}}
    assert defaults["names"] == ["x"]
    assert "__var" not in json.dumps(defaults)


def test_dict_defaults_from_a_yaml_pipeline(tmp_path) -> None:
    from airflow_kfp import compiler, to_dag
    from airflow_kfp.kfp_yaml import load_pipeline

    path = tmp_path / "p.yaml"
    compiler.Compiler().compile(pipeline_func=dict_defaults, package_path=str(path))
    spec = load_pipeline(str(path))
    defaults = data._param_defaults(serialized(to_dag(spec)))
    assert defaults["config"] == {"depth": 3, "opts": {"a": [1, 2]}}


def test_envelopes_are_removed_at_any_depth() -> None:
    wrapped = {
        "__var": {"a": {"__var": [1, {"__var": {"b": 2}, "__type": "dict"}], "__type": "tuple"}},
        "__type": "dict",
    }
    assert data.plain(wrapped) == {"a": [1, {"b": 2}]}
    assert data.plain({"__var": 1700000000.0, "__type": "datetime"}) == 1700000000.0


def run_row(conf: dict[str, Any]) -> RunRow:
    return RunRow(1, "d", "r", "success", "manual", None, None, None, conf, None)


def test_the_caching_switch_is_not_a_parameter_column() -> None:
    version = VersionInfo("v", 1, None, params={"lr": 0.1, "kfp_enable_caching": None, "kfp_experiment": None})
    params = views.run_params(run_row({"lr": 0.2, "kfp_enable_caching": False}), version)
    assert params == {"lr": 0.2}


def metrics_manifest() -> dict[str, Any]:
    record = {"uri": "file:///m", "type": "system.Metrics", "metadata": {"loss": 0.3, "f1": 0.8, "accuracy": 0.9}}
    artifacts = {"metrics": record}
    keep_metadata_order(artifacts)  # as the operator does before publishing
    return {"pipeline": "p", "task": "train", "artifacts": artifacts, "cache": {"hit": False}}


def test_metrics_keep_the_logged_order_through_jsonb() -> None:
    stored = jsonb(json.loads(json.dumps(metrics_manifest())))
    assert list(stored["artifacts"]["metrics"]["metadata"]) == ["f1", "loss", "accuracy"]  # what JSONB returns
    assert list(ordered_metadata(stored["artifacts"]["metrics"])) == ["loss", "f1", "accuracy"]
    assert list(step_metrics("train", -1, stored)) == ["train/loss", "train/f1", "train/accuracy"]
    view = views.artifact_view("metrics", stored["artifacts"]["metrics"])
    assert list(view["metadata"]) == ["loss", "f1", "accuracy"] and list(view["scalars"]) == ["loss", "f1", "accuracy"]
    runs = [{"params": {}, "metrics": step_metrics("train", -1, stored)}]
    assert views.columns(runs)["metrics"] == ["train/loss", "train/f1", "train/accuracy"]


def step(task_id: str, map_index: int = -1, state: str = "success", **manifest: Any) -> StepRow:
    row = StepRow(task_id, map_index, state, None, None, 1, "LocalComponentOperator")
    if manifest:
        row.manifest = {"pipeline": "p", "task": task_id, "artifacts": {}, "cache": {"hit": False}, **manifest}
    return row


def test_caching_off_is_said_not_called_a_miss() -> None:
    off = views.step_view(
        step(
            "a",
            cache={
                "hit": False,
                "key": "k",
                "enabled": False,
                "off_reason": "set_caching_options(enable_caching=False) on this task",
            },
        )
    )
    assert off["cache"]["enabled"] is False and "set_caching_options" in off["cache"]["off_reason"]
    miss = views.step_view(step("b", cache={"hit": False, "key": "k", "enabled": True}))
    assert miss["cache"]["enabled"] is True
    old = views.step_view(step("c", cache={"hit": False, "key": "k"}))  # recorded before issue 24
    assert old["cache"]["enabled"] is True


# -- the run graph ----------------------------------------------------------------------------------


@dsl.component
def make(data: Output[Dataset]) -> None:
    open(data.path, "w").write("x")


@dsl.component
def fit(data: Input[Dataset], model: Output[Model], metrics: Output[Metrics], x: int) -> None:
    open(model.path, "w").write("m")


@dsl.pipeline(name="inner-fit")
def inner_fit(x: int):
    d = make()
    fit(data=d.outputs["data"], x=x)


@dsl.pipeline(name="graph-shapes")
def graph_shapes(go: bool = True):
    with dsl.If(go == True):  # noqa: E712
        with dsl.ParallelFor([1, 2]) as x:
            inner_fit(x=x)
    make()


def version_of(pipeline: Any) -> VersionInfo:
    from airflow_kfp import to_dag

    body = serialized(to_dag(pipeline))
    info = VersionInfo("v", 1, None)
    info.task_order, info.task_types, info.downstream, info.mapped = data._task_order(body)
    info.groups, info.task_group = data._groups(body)
    return info


def test_run_graph_draws_groups_artifacts_and_edges_without_flow_tasks() -> None:
    version = version_of(graph_shapes)
    groups = {g.id: g for g in version.groups}
    tasks = version.task_order
    make_id = next(t for t in tasks if t.endswith("make") and version.task_group.get(t))
    fit_id = next(t for t in tasks if t.endswith("fit"))
    top_make = next(t for t in tasks if t == "make")
    data_record = {
        "uri": "file:///a/data",
        "type": "system.Dataset",
        "digest": "sha256:1",
        "producer": {"task_id": make_id},
    }
    steps = [step(top_make, artifacts={"data": {"uri": "file:///top/data", "type": "system.Dataset"}})]
    for i in (0, 1):
        rec = {**data_record, "uri": f"file:///a/data{i}"}
        steps.append(step(make_id, i, artifacts={"data": rec}, cache={"hit": i == 0, "key": "k"}))
        steps.append(
            step(
                fit_id,
                i,
                state="failed" if i else "success",
                artifacts={
                    "model": {"uri": f"file:///m{i}", "type": "system.Model"},
                    "metrics": {"uri": f"file:///x{i}", "type": "system.Metrics"},
                },
                input_artifacts={
                    "data": [{"uri": f"file:///a/data{i}", "digest": "sha256:1", "type": "system.Dataset"}]
                },
            )
        )
    graph = run_graph("d", "r", version, steps, {"d"})
    kinds = {g["id"]: g["kind"] for g in graph["groups"]}
    assert sorted(kinds.values()) == ["condition", "loop", "pipeline"]
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert not [
        n for n in nodes.values() if n["kind"] == "task" and n["operator"] in ("ConditionOperator", "LoopItemsOperator")
    ]
    fit_node = nodes[f"task:{fit_id}"]
    assert fit_node["mapped"] and fit_node["state"] == "failed" and fit_node["states"] == {"success": 1, "failed": 1}
    assert nodes[f"task:{make_id}"]["cache"] == "partial"
    assert kinds[fit_node["group"]] == "pipeline" and groups[fit_node["group"]].parent in kinds
    icons = {n["name"]: n["icon"] for n in nodes.values() if n["kind"] == "artifact"}
    assert icons == {"data": "dataset", "model": "model", "metrics": "metrics"}
    edges = {(e["from"], e["to"], e["kind"]) for e in graph["edges"]}
    assert (f"task:{make_id}", f"artifact:{make_id}:data", "output") in edges
    assert (f"artifact:{make_id}:data", f"task:{fit_id}", "input") in edges
    assert (f"task:{make_id}", f"task:{fit_id}", "dependency") not in edges  # the artifact edge says it


# -- lineage ----------------------------------------------------------------------------------------


def manifest(
    outputs: dict[str, str], inputs: dict[str, str] | None = None, hit: bool = False, external: bool = False
) -> dict[str, Any]:
    return {
        "pipeline": "p",
        "task": "t",
        "artifacts": {
            n: {"uri": u, "type": "system.Model", "digest": f"sha256:{u}", "external": external}
            for n, u in outputs.items()
        },
        "input_artifacts": {n: [{"uri": u, "digest": f"sha256:{u}"}] for n, u in (inputs or {}).items()},
        "cache": {"hit": hit},
    }


@pytest.fixture
def index() -> lineage.LineageIndex:
    idx = lineage.LineageIndex()
    rows = [
        (("a", "r1", "import", -1), manifest({"artifact": "s3://raw"}, external=True)),
        (("a", "r1", "prep", -1), manifest({"data": "s3://r1/data"}, {"raw": "s3://raw"})),
        (("a", "r1", "train", -1), manifest({"model": "s3://r1/model"}, {"data": "s3://r1/data"})),
        (("a", "r2", "train", -1), manifest({"model": "s3://r1/model"}, {"data": "s3://r1/data"}, hit=True)),
        (("b", "r9", "serve", -1), manifest({}, {"model": "s3://r1/model"})),
        (("hidden", "r5", "steal", -1), manifest({"copy": "s3://h/copy"}, {"model": "s3://r1/model"})),
        (("b", "r9", "after", -1), manifest({}, {"copy": "s3://h/copy"})),
    ]
    for i, (key, m) in enumerate(rows):
        idx.add(lineage.entry_of(key, i, None, m))
    return idx


def test_lineage_walks_back_to_imported_data_and_forward_to_later_uses(index: lineage.LineageIndex) -> None:
    steps, artifacts, truncated = lineage._walk(index, {"s3://r1/model"}, {"a", "b", "hidden"}, up=True, down=True)
    assert not truncated
    assert ("a", "r1", "import", -1) in steps and ("a", "r1", "prep", -1) in steps  # upstream to the import
    assert ("a", "r2", "train", -1) in steps  # a cache hit reused it
    assert ("b", "r9", "serve", -1) in steps  # another DAG read it
    assert "s3://raw" in artifacts


def test_lineage_never_passes_through_dags_the_viewer_may_not_read(index: lineage.LineageIndex) -> None:
    steps, artifacts, _ = lineage._walk(index, {"s3://r1/model"}, {"a", "b"}, up=True, down=True)
    assert not [s for s in steps if s[0] == "hidden"]
    assert "s3://h/copy" not in artifacts  # only reachable through the hidden DAG's step
    assert ("b", "r9", "after", -1) not in steps
    answer = lineage._answer(index, steps, artifacts, False)
    assert "hidden" not in json.dumps(answer) and "s3://h/copy" not in json.dumps(answer)


def test_every_api_route_is_documented() -> None:
    """docs/guides/experiments-ui.md lists every JSON endpoint the app serves (and no other)."""
    from pathlib import Path

    from airflow_kfp.ui.app import create_app

    doc = (Path(__file__).resolve().parents[2] / "docs" / "guides" / "experiments-ui.md").read_text()
    served = {
        r.path for r in create_app().routes if getattr(r, "path", "").startswith("/api/") and "openapi" not in r.path
    }
    documented = {
        re.split(r"[?`]", line.split("`GET /kfp", 1)[1])[0]
        for line in doc.splitlines()
        if line.startswith("| `GET /kfp/api/")
    }
    assert served == documented
