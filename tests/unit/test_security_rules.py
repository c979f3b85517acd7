"""The pure rules behind issue 17 / 11 (items 7-9): environment allow-list, literal arguments, run
conf keys, artifact roots, and user tracebacks. The real DAG runs proving them are in the integration
tests (test_component_env, test_literal_arguments, test_run_conf, test_pipeline_root, test_error_source)."""

from __future__ import annotations

import re

import pytest

from airflow_kfp.run_conf import KFP_SWITCHES, closest, unknown_keys_message


def test_allow_list_refuses_secrets_whatever_the_list_says():
    from airflow_kfp.runners.local import environment as component_env

    for name in (
        "AIRFLOW_CONN_X",
        "AIRFLOW_VAR_X",
        "AIRFLOW__CORE__SQL_ALCHEMY_CONN",
        "AWS_SECRET_ACCESS_KEY",
        "KUBECONFIG",
    ):
        assert not component_env.is_passed_through(name)
    for name in ("PATH", "LC_CTYPE", "https_proxy", "TZ"):
        assert component_env.is_passed_through(name)


def test_deployment_passthrough_adds_names_but_never_credentials(tmp_path):
    from airflow_kfp.config import KfpSettings
    from airflow_kfp.runners.local.environment import component_environment

    worker = {"HF_HOME": "/models", "MLFLOW_TRACKING_URI": "http://mlflow", "MLFLOW_X": "1", "OTHER": "no"}
    env = component_environment(worker, {"A": "1"}, tmp_path, {}, "HF_HOME, MLFLOW_*")
    assert env["HF_HOME"] == "/models" and env["MLFLOW_X"] == "1" and "OTHER" not in env and env["A"] == "1"
    for bad in ("AWS_SECRET_ACCESS_KEY", "AIRFLOW_CONN_*", "AIRFLOW__CORE__FERNET_KEY", "*"):
        with pytest.raises(ValueError, match="never reach components"):
            KfpSettings(local_env_passthrough=f"HF_HOME,{bad}").check()


def test_containers_keep_literals_and_resolve_what_is_dynamic():
    from airflow.sdk.definitions._internal.templater import LiteralValue

    from airflow_kfp import Template
    from airflow_kfp.templating import as_argument

    frozen = as_argument({"a": "{{ x }}", "b": [1, "{{ y }}"]})
    assert isinstance(frozen, LiteralValue) and frozen.value == {"a": "{{ x }}", "b": [1, "{{ y }}"]}
    mixed = as_argument(["{{ x }}", Template("{{ ds }}")])
    assert isinstance(mixed[0], LiteralValue) and mixed[1] == "{{ ds }}"
    assert as_argument(3) == 3 and as_argument(None) is None
    with pytest.raises(TypeError):
        Template(3)  # type: ignore[arg-type]


def test_message_lists_other_params_and_every_switch_is_documented():
    message = unknown_keys_message("p", {"lr": 1, "team": "a"}, ["l_r"], ["l_r", "team"])
    assert message is not None and "'lr' (did you mean 'l_r'?)" in message and "other DAG params: 'team'" in message
    assert "'team'" not in message.split("Valid inputs")[0]  # a declared DAG param is valid
    assert unknown_keys_message("p", {"kfp_enable_caching": False, "l_r": 2}, ["l_r"], ["l_r"]) is None
    assert closest("N_ROWS", ["n_rows", "c"]) == "n_rows" and closest("zzz", ["n_rows"]) is None
    assert all(key.startswith("kfp_") and text for key, text in KFP_SWITCHES.items())


def test_user_code_loads_under_its_file_and_keeps_chained_frames(tmp_path):
    from airflow_kfp.runtime import user_code

    source = "def inner():\n    raise ValueError('x')\n\n\ndef outer():\n    inner()\n"
    locations = [
        {"line": 1, "file": "/src/helpers.py", "first_line": 10},
        {"line": 5, "file": "/src/main.py", "first_line": 40},
    ]
    module = user_code.load_module(source, "import os\n", locations, str(tmp_path))
    try:
        module.outer()
    except ValueError as exc:
        text = user_code.user_traceback(exc)
    assert re.search(r'File "/src/main.py", line 41, in outer\n    inner\(\)', text)
    assert re.search(r'File "/src/helpers.py", line 11, in inner\n    raise ValueError', text)
    assert "test_security_rules.py" in text  # frames above the component are not the launcher's: kept
    long = user_code.bounded("a" * 50_000)
    assert len(long) < 13_000 and "characters cut" in long


@pytest.mark.parametrize(
    ("root", "problem"),
    [
        ("gs://b/x", "'gs://' is not supported"),
        ("hdfs://nn/x", "'hdfs://' is not supported"),
        ("ftp://h/x", "'ftp://' is not supported"),
        ("s3://", "names no bucket"),
        ("file://rel/x", "absolute path"),
        ("s3:bucket/x", "malformed scheme 's3'"),
        ("relative/dir", "relative path"),
    ],
)
def test_unusable_artifact_roots_are_named(root: str, problem: str) -> None:
    from airflow_kfp.pipeline_root import root_problem

    found = root_problem(root)
    assert found is not None and problem in found


@pytest.mark.parametrize("root", ["/data/kfp", "file:///data/kfp", "s3://bucket", "s3://bucket/prefix/x"])
def test_usable_artifact_roots_pass(root: str) -> None:
    from airflow_kfp.pipeline_root import root_problem

    assert root_problem(root) is None


def test_variables_a_task_asks_secrets_for_come_from_the_worker_but_never_credentials(tmp_path) -> None:
    from airflow_kfp.runners.local.environment import component_environment

    worker = {"DB_PASSWORD": "pw", "AWS_SECRET_ACCESS_KEY": "key", "UNASKED": "x"}
    env = component_environment(worker, {}, tmp_path, {}, "", ["DB_PASSWORD", "AWS_SECRET_ACCESS_KEY"])
    assert env["DB_PASSWORD"] == "pw" and "AWS_SECRET_ACCESS_KEY" not in env and "UNASKED" not in env
