"""The package registers as an Airflow provider with its [kfp] config section, and packages cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _airflow(*args: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_providers_list_shows_the_package(airflow_db):
    out = _airflow("providers", "list", "--output", "plain")
    assert "airflow-kfp" in out


def _value(*args: str, **env: str) -> str:
    return _airflow("config", "get-value", *args, **env).strip().splitlines()[-1]


def test_config_section_defaults_and_env_override(airflow_db):
    assert _value("kfp", "runner") == "local"
    assert _value("kfp", "enable_caching") == "True"
    assert _value("kfp", "runner", AIRFLOW__KFP__RUNNER="kubernetes") == "kubernetes"


def test_provider_info_validates_against_airflows_schema():
    import json

    import jsonschema
    from airflow import __file__ as airflow_init

    from airflow_kfp.get_provider_info import get_provider_info

    schema = json.loads((Path(airflow_init).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_to_dag_settings_override_the_deployment(monkeypatch):
    from airflow_kfp import to_dag
    from tests.pipelines.basic import basic

    monkeypatch.setenv("AIRFLOW__KFP__ENABLE_CACHING", "True")
    dag = to_dag(basic, dag_id="overrides", enable_caching=False, artifact_root="/data/kfp")
    task = dag.get_task("train")
    settings = task.kfp_settings()
    assert settings.enable_caching is False and settings.artifact_root == "/data/kfp"
    assert settings.runner == "local"


def test_wheel_builds_with_entry_point_and_runtime(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "uv", "build", "--wheel", "-o", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("airflow_kfp-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        entry_points = next(zf.read(n).decode() for n in names if n.endswith("entry_points.txt"))
    assert "airflow_kfp/runtime/launcher.py" in names and "airflow_kfp/py.typed" in names
    assert "[apache_airflow_provider]" in entry_points
    assert "provider_info = airflow_kfp.get_provider_info:get_provider_info" in entry_points
    # ui (issue 12): the plugin's entry point and its built pages ship in the wheel (no Node to install)
    assert "airflow_kfp_experiments = airflow_kfp.ui.plugin:KfpExperimentsPlugin" in entry_points
    assert "airflow_kfp/ui/static/index.html" in names
    assert any(n.startswith("airflow_kfp/ui/static/assets/app-") and n.endswith(".js") for n in names)

    # The wheel alone installs into a clean environment, dependencies resolved from the index.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "uv", "venv", "-q", "--python", sys.executable, str(venv)], check=True)
    installed = subprocess.run(
        [sys.executable, "-m", "uv", "pip", "install", "-q", "--python", str(venv / "bin" / "python"), str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stderr[-2000:]
    probe = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from airflow_kfp import dsl, to_dag; from airflow_kfp.get_provider_info import get_provider_info; "
            "print(get_provider_info()['package-name'])",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.strip().splitlines()[-1] == "airflow-kfp"
