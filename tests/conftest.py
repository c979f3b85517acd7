"""One Airflow home on SQLite per test process (per pytest-xdist worker); every test gets a clean
artifact root.

Two layers: ``tests/unit/`` holds fast tests of the pure parts (no Airflow objects, no DB); every other
test runs real Airflow parts and is marked ``integration`` here, so ``-m "not integration"`` runs the
unit layer alone. Both layers run in parallel with ``-n 2``: each xdist worker is its own process with
its own ``AIRFLOW_HOME``, SQLite database, dags folder and moto server.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
_HOME = Path(tempfile.mkdtemp(prefix=f"airflow-kfp-tests-{_WORKER}-"))
_UNIT = Path(__file__).parent / "unit"
os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(_HOME / "dags")
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "INFO")
# test components report to files named by these worker variables (see tests/pipelines/caching.py)
os.environ["AIRFLOW__KFP__LOCAL_ENV_PASSTHROUGH"] = "KFP_CACHE_TEST_*"
(_HOME / "dags").mkdir(parents=True, exist_ok=True)

pytest_plugins = ["tests.fixtures.moto_server", "tests.fixtures.api_usage"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _UNIT not in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """A migrated SQLite metadata DB, made once per session."""
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], capture_output=True, text=True, env=os.environ.copy()
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return _HOME


@pytest.fixture
def artifact_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "artifacts"
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", str(root))
    return root


@pytest.fixture
def dag_runner(airflow_db: Path, artifact_root: Path):
    from tests.harness import DagRunner

    return DagRunner(airflow_db / "dags")
