"""Compiled-YAML half of the compatibility suite: each fixture (compiled by the real kfp SDK) runs
through ``to_dag(load_pipeline(...))`` in a real Airflow DAG run and must produce, task by task, the
outputs and states KFP produced for it."""

from __future__ import annotations

import pytest

from tests.compat.compare import FIXTURES, KNOWN_GAPS, compare_run, expected, names, run_arguments


def yaml_dag_source(name: str) -> str:
    return (
        "import datetime\n"
        "from airflow_kfp import to_dag\n"
        "from airflow_kfp.kfp_yaml import load_pipeline\n"
        f"dag = to_dag(load_pipeline({str(FIXTURES / (name + '.yaml'))!r}), dag_id='compat-yaml-{name}',\n"
        "             start_date=datetime.datetime(2024, 1, 1))\n"
    )


@pytest.mark.parametrize("name", names())
def test_compiled_pipeline_runs_as_under_kfp(name, dag_runner, tmp_path):
    want = expected(name)
    dag = dag_runner.load(yaml_dag_source(name))
    result = dag_runner.run(dag, conf=run_arguments(want, tmp_path))
    problems = compare_run(result, want)
    known = KNOWN_GAPS.get(name)
    if known and problems and all(p.startswith(known[0]) for p in problems):
        pytest.xfail(known[1])
    assert not problems, f"{name} ({want['source']}):\n" + "\n".join(problems)
