"""Python-source half of the compatibility suite: the same pipelines, ported by switching their
imports to ``airflow_kfp.dsl`` only, run in real DAG runs against the same KFP expectations.

``test_model_parity.py`` already proves, for every pipeline, that the ported source and the compiled
YAML read into the same model, from which the compiler builds the same DAG; so real runs here cover
one pipeline per kind of control flow rather than repeating every YAML run (CI time is shared).
"""

from __future__ import annotations

import pytest

from tests.compat.compare import KNOWN_GAPS, compare_run, expected, run_arguments

SOURCE_RUNS = [
    "conditions_one_of",
    "loops_collected",
    "nested_pipelines",
    "exit_handler",
    "training_metrics",
    "nested_loop_condition",
    "nested_loops_collected",
    "exit_pipeline_task",
    "importer_runtime_metadata",
    "artifact_iterator",
    "artifact_iterator_nested",
    "task_config",
    "workspace",
    "notebook_component",
    "external_artifacts",
    "docs_user_guides",
]


def source_dag_source(name: str) -> str:
    return (
        "import datetime\n"
        "from airflow_kfp import to_dag\n"
        "from tests.compat.source import ported\n"
        f"dag = to_dag(ported({name!r}).pipeline, dag_id='compat-source-{name}',\n"
        "             start_date=datetime.datetime(2024, 1, 1))\n"
    )


@pytest.mark.parametrize("name", SOURCE_RUNS)
def test_ported_source_runs_as_under_kfp(name, dag_runner, tmp_path):
    want = expected(name)
    dag = dag_runner.load(source_dag_source(name))
    result = dag_runner.run(dag, conf=run_arguments(want, tmp_path))
    problems = compare_run(result, want)
    known = KNOWN_GAPS.get(name)
    if known and problems and all(p.startswith(known[0]) for p in problems):
        pytest.xfail(known[1])
    assert not problems, f"{name} ({want['source']}):\n" + "\n".join(problems)
