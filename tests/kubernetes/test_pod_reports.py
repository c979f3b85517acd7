"""A pod's report is checked by the worker (issue 22, items 7 and 10): an output URI the component
declares may not point the worker at worker files, and output parameters are capped in the pod (the
launcher refuses the file unread) as on the worker. Through the real KubernetesPodOperator against the
fake API server, outputs on moto's S3."""

from __future__ import annotations

from typing import Any

from tests.kubernetes.fake import FakeKubernetes


def test_a_pod_cannot_point_the_worker_at_worker_files(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, capfd: Any
) -> None:
    run = dag_runner.run_pipeline(
        "tests.pipelines.hostile_outputs:declared_uri",
        conf={"where": "worker-file"},
        runner="kubernetes",
        artifact_root=s3_root,
    )
    out = capfd.readouterr().out
    assert run.states == {"declare-uri": "failed", "read-data": "upstream_failed"}, run.states
    assert "'file:///etc/passwd', a path on the machine that would read it" in out, out[-3000:]
    assert "declare-uri" not in run.manifests


def test_an_output_parameter_over_the_cap_fails_in_the_pod(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, capfd: Any
) -> None:
    run = dag_runner.run_pipeline(
        "tests.pipelines.hostile_outputs:big_parameter_files",
        conf={"mib": 2},
        runner="kubernetes",
        artifact_root=s3_root,
    )
    out = capfd.readouterr().out
    assert run.states == {"big-parameter-file": "failed", "echo": "upstream_failed"}, run.states
    assert "output parameter 'text' is 2.0 MiB (2097152 bytes), over the 1.0 MiB" in out, out[-3000:]
