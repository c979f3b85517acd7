"""The example DAG that the README's first command runs."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "dags_examples" / "weekly_retrain.py"


def test_weekly_retrain_example_runs_end_to_end(dag_runner):
    dag = dag_runner.load(EXAMPLE.read_text())
    assert dag.dag_id == "weekly-retrain" and dag.params["c"] == 1.0
    result = dag_runner.run(dag, conf={"c": 0.5})
    assert result.state == "success", result.states
    assert result.manifest("load-data")["parameters"]["Output"] == 569
    split = result.manifest("split")["artifacts"]
    assert split["train"]["metadata"]["rows"] + split["test"]["metadata"]["rows"] == 569
    model_record = result.manifest("train-model")["artifacts"]["model"]
    assert model_record["metadata"] == {"framework": "scikit-learn", "c": 0.5}
    with open(result.artifact_path("train-model", "model"), "rb") as f:
        assert hasattr(pickle.load(f), "predict_proba")
    scores = result.manifest("evaluate")
    assert 0.85 < scores["parameters"]["accuracy"] <= 1.0
    assert scores["artifacts"]["metrics"]["metadata"]["accuracy"] == scores["parameters"]["accuracy"]
    rows = scores["artifacts"]["confusion"]["metadata"]["confusionMatrix"]["rows"]
    assert sum(sum(r["row"]) for r in rows) == split["test"]["metadata"]["rows"]
    report = result.artifact_path("write-report", "report").read_text()
    assert f"accuracy: {scores['parameters']['accuracy']}" in report
    job_id = r"^run: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"  # KFP's job id: a UUID
    assert re.search(job_id, report, re.M), report
    retrain = dag.get_task("train-model")
    assert retrain.retries == 2 and retrain.retry_delay.total_seconds() == 30


def test_run_inspector_prints_outputs_and_metrics(dag_runner, capsys):
    from airflow_kfp.runs import main

    dag = dag_runner.load(EXAMPLE.read_text())
    dag_runner.run(dag)
    capsys.readouterr()
    assert main(["weekly-retrain"]) == 0
    out = capsys.readouterr().out
    assert "evaluate" in out and "accuracy:" in out and "[system.Model] file://" in out
