"""Issue 17: literal strings in ``to_task_group(arguments=...)`` are data, not Jinja templates."""

from __future__ import annotations

import textwrap

import pytest

SOURCE = textwrap.dedent(
    """
    import datetime
    from airflow.sdk import DAG, task, literal
    from airflow_kfp import Template, to_task_group
    from tests.pipelines.security import echo_text

    with DAG("literal-args", start_date=datetime.datetime(2024, 1, 1), schedule=None) as dag:
        @task
        def upstream():
            return "from-xcom"

        to_task_group(echo_text, group_id="literal", arguments={"text": "{{ var.value.kfp_secret }}"})
        to_task_group(echo_text, group_id="templated", arguments={"text": Template("v={{ var.value.kfp_secret }}")})
        to_task_group(echo_text, group_id="xcom", arguments={"text": upstream()})
        to_task_group(echo_text, group_id="airflow-literal", arguments={"text": literal("{{ ds }}")})
    """
)


@pytest.fixture
def secret_variable(monkeypatch):
    """A real Airflow Variable (from the environment-variable secrets backend)."""
    monkeypatch.setenv("AIRFLOW_VAR_KFP_SECRET", "s3cr3t-variable-value")


def test_literal_strings_reach_the_component_verbatim(dag_runner, secret_variable, capfd):
    result = dag_runner.run(dag_runner.load(SOURCE))
    out = capfd.readouterr().out
    assert result.state == "success", result.states
    assert result.manifest("literal.echo")["parameters"]["Output"] == "{{ var.value.kfp_secret }}"
    assert result.manifest("templated.echo")["parameters"]["Output"] == "v=s3cr3t-variable-value"  # opted in
    assert result.manifest("xcom.echo")["parameters"]["Output"] == "from-xcom"  # XComArgs still resolve
    assert result.manifest("airflow-literal.echo")["parameters"]["Output"] == "{{ ds }}"
    assert "component received: {{ var.value.kfp_secret }}" in out
    assert out.count("s3cr3t-variable-value") == out.count("v=s3cr3t-variable-value")  # only where asked for
    # tasks given external values keep them as a template field (Airflow renders and records them)
    assert result.dag.get_task("templated.echo").template_fields == ("external_arguments",)
