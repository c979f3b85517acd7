"""A list of artifacts as the input of the pipeline a run starts (``Input[List[Dataset]]`` on the
pipeline, or a bare component with such an input): the run passes a list of URIs, one importer per URI
(a mapped task) brings them in, and the readers get them in order, as KFP hands a run's artifact list.
Real ``dag.test()`` runs, from Python source and from the kfp-compiled YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import ParamValidationError

P = "tests.pipelines.artifact_list_input"
YAML = Path(__file__).parent / "yaml" / "fixtures" / "artifact_list_input.yaml"


def _files(tmp_path: Path, *texts: str) -> list[str]:
    uris = []
    for i, text in enumerate(texts):
        path = tmp_path / f"part-{i}.txt"
        path.write_text(text)
        uris.append(f"file://{path}")
    return uris


def _check_run(result: Any, uris: list[str]) -> None:
    assert result.state == "success", result.states
    assert result.manifest("sizes")["parameters"]["Output"] == [3, 5, 1]  # in the order of the URIs
    importer = "for-loop-import-datasets.import-datasets"  # a mapped task: one import per URI
    imported = [result.manifest(importer, i)["artifacts"]["artifact"] for i in range(3)]
    assert [a["uri"] for a in imported] == uris and {a["type"] for a in imported} == {"system.Dataset"}
    shouted = [result.manifest("for-loop-1.shout", i)["parameters"]["Output"] for i in range(3)]
    assert shouted == ["ONE?", "THREE?", "A?"]


def test_a_run_passes_a_list_of_uris_to_a_list_of_artifacts(dag_runner: Any, tmp_path: Path) -> None:
    uris = _files(tmp_path, "one", "three", "a")
    result = dag_runner.run_pipeline(f"{P}:read_all", conf={"datasets": uris, "suffix": "?"})
    _check_run(result, uris)
    schema = result.dag.params.get_param("datasets").schema
    assert schema["type"] == "array" and "URIs" in result.dag.params.get_param("datasets").description


def test_the_compiled_yaml_runs_the_same(dag_runner: Any, tmp_path: Path) -> None:
    uris = _files(tmp_path, "one", "three", "a")
    dag = dag_runner.load(
        "import datetime\nfrom airflow_kfp import load_pipeline, to_dag\n"
        f"dag = to_dag(load_pipeline({str(YAML)!r}), dag_id='artifact-list-input-yaml', "
        "start_date=datetime.datetime(2024, 1, 1))\n"
    )
    _check_run(dag_runner.run(dag, conf={"datasets": uris, "suffix": "?"}), uris)


def test_a_bare_component_with_a_list_of_artifacts_runs_as_a_pipeline(dag_runner: Any, tmp_path: Path) -> None:
    uris = _files(tmp_path, "ab", "c")
    result = dag_runner.run_pipeline(f"{P}:sizes", conf={"datasets": uris})
    assert result.state == "success", result.states
    assert result.manifest("sizes")["parameters"]["Output"] == [2, 1]


def test_a_missing_uri_fails_the_importer_naming_it(dag_runner: Any, tmp_path: Path) -> None:
    uris = [*_files(tmp_path, "ab"), f"file://{tmp_path}/missing.txt"]
    result = dag_runner.run_pipeline(f"{P}:sizes", conf={"datasets": uris})
    assert result.state == "failed"
    assert result.states["sizes"] == "upstream_failed"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("file:///tmp/one.txt", "is not of type 'array'"), ([], "should be non-empty"), ([""], "should be non-empty")],
)
def test_a_run_without_a_list_of_uris_is_refused_naming_the_input(dag_runner: Any, value: Any, reason: str) -> None:
    """An empty list is refused too: Airflow would skip the readers of a mapping over nothing."""
    dag = dag_runner.load(dag_runner.dag_source(f"{P}:sizes"))
    with pytest.raises(ParamValidationError) as err:
        dag_runner.run(dag, conf={"datasets": value})
    assert "datasets" in str(err.value) and reason in str(err.value)
