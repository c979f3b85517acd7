"""Issue 24: metrics keep the order logged when XCom lives in PostgreSQL (JSONB reorders object keys).

A real PostgreSQL from Debian's packages, started for this module as the unprivileged ``nobody``
(PostgreSQL refuses to run as root), listening on a socket in a private folder only; a manifest goes
through a ``jsonb`` cast as XCom's column stores it, and the views read it back in the logged order.
Skipped where Debian's postgresql package is not installed.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from airflow_kfp.manifest import keep_metadata_order, ordered_metadata
from airflow_kfp.ui import views
from airflow_kfp.ui.metrics import step_metrics

BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


@pytest.fixture(scope="module")
def jsonb() -> Iterator[Any]:
    if not BINS or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs Debian's postgresql package (apt-get install postgresql) and root to start it as nobody")
    bin_dir = Path(BINS[-1])
    folder = Path(tempfile.mkdtemp(prefix="kfp-pg-"))
    shutil.chown(folder, "nobody", "nogroup")
    as_nobody = ["runuser", "-u", "nobody", "--"]
    data = folder / "db"
    subprocess.run(
        [*as_nobody, bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "kfp"], check=True, capture_output=True
    )
    subprocess.run(
        [
            *as_nobody,
            bin_dir / "pg_ctl",
            "-D",
            data,
            "-o",
            f"-k {folder} -h '' -p 5499",
            "-l",
            folder / "log",
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )

    def through_jsonb(value: Any) -> Any:
        text = json.dumps(value).replace("'", "''")
        out = subprocess.run(
            [
                *as_nobody,
                bin_dir / "psql",
                "-h",
                folder,
                "-p",
                "5499",
                "-U",
                "kfp",
                "-d",
                "postgres",
                "-At",
                "-c",
                f"select '{text}'::jsonb",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout)

    try:
        yield through_jsonb
    finally:
        subprocess.run([*as_nobody, bin_dir / "pg_ctl", "-D", data, "-m", "fast", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def test_metrics_come_back_in_the_order_logged(jsonb: Any) -> None:
    logged = {"loss": 0.31, "f1": 0.8, "accuracy": 0.9, "val_loss": 0.4}
    artifacts = {"metrics": {"uri": "file:///m", "type": "system.Metrics", "metadata": dict(logged)}}
    keep_metadata_order(artifacts)  # what the operator does before publishing the manifest
    manifest = {"pipeline": "p", "task": "train", "artifacts": artifacts, "cache": {"hit": False}}
    stored = jsonb(manifest)
    assert list(stored["artifacts"]["metrics"]["metadata"]) != list(logged)  # PostgreSQL reordered them
    assert list(ordered_metadata(stored["artifacts"]["metrics"])) == list(logged)
    assert [k.split("/")[1] for k in step_metrics("train", -1, stored)] == list(logged)
    assert list(views.artifact_view("metrics", stored["artifacts"]["metrics"])["metadata"]) == list(logged)
