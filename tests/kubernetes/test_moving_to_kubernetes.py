"""The promise of "moving to Kubernetes" (nothing in the pipeline changes), run: the same pipeline
writes to ``~/.cache``, a temporary file and a freshly created claim, on the local runner and in pods
against the fake API server (which runs each container as a process with the pod's environment and
volumes; the stricter fake of issue 27 gives it no HOME and root-owned new volumes)."""

from __future__ import annotations

from typing import Any

from tests.kubernetes.fake import FakeKubernetes

PIPELINE = "tests.pipelines.moving:pipeline"
EXPECTED = {"fill-cache-and-volume": "1024|same code, both runners", "read-volume": "same code, both runners"}


def _outputs(run: Any) -> dict[str, str]:
    return {task: run.manifest(task)["parameters"]["Output"] for task in EXPECTED}


def test_on_the_local_runner(dag_runner: Any) -> None:
    run = dag_runner.run_pipeline(PIPELINE)
    assert run.state == "success", run.states
    assert _outputs(run) == EXPECTED


def test_in_pods_nothing_changes(dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str) -> None:
    run = dag_runner.run_pipeline(PIPELINE, runner="kubernetes", artifact_root=s3_root)
    assert run.state == "success", run.states
    assert _outputs(run) == EXPECTED
    for pod in fake_k8s.created:
        spec = pod["spec"]
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        assert env["HOME"] == "/kfp/home" and env["TMPDIR"] == "/kfp/tmp"
        assert spec["securityContext"]["fsGroup"] == 1000 and spec["securityContext"]["runAsUser"] == 1000
