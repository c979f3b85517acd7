"""kfp-kubernetes CreatePVC / DeletePVC on the Kubernetes runner (issue 14): the task creates the claim
through the Kubernetes API (the fake API server), with the same connection and namespace as the pod
tasks; pods mount it by the name it outputs; DeletePVC removes it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kubernetes.fake import FakeKubernetes


def _claims(cluster: FakeKubernetes) -> dict[str, dict[str, Any]]:
    return {name: obj for (_, name), obj in cluster.call(lambda: dict(cluster.claims)).items()}


def test_create_mount_delete_a_generated_claim(dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str) -> None:
    made = fake_k8s.created_claims
    run = dag_runner.run_pipeline("tests.pipelines.pvc:pvc_lifecycle", runner="kubernetes", artifact_root=s3_root)
    assert run.state == "success", run.states
    name = run.manifest("createpvc")["parameters"]["name"]
    assert name.startswith("pvc-lifecycle-") and name.endswith("-my-pvc")
    assert run.manifest("read-file")["parameters"]["Output"] == "hello through the claim"
    (claim,) = made
    assert claim["metadata"]["name"] == name and claim["metadata"]["annotations"] == {"team": "ml"}
    labels = claim["metadata"]["labels"]
    assert labels["airflow-kfp/dag"] == "pvc-lifecycle" and labels["airflow-kfp/task"] == "createpvc"
    assert labels["airflow-kfp/run"] and labels["airflow-kfp/pipeline"] == "pvc-lifecycle"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"] and claim["spec"]["storageClassName"] == "standard"
    assert claim["spec"]["resources"] == {"requests": {"storage": "5Mi"}}
    pods = {p["metadata"]["labels"]["task_id"]: p for p in fake_k8s.created}
    assert set(pods) == {"write-file", "read-file"}  # CreatePVC / DeletePVC start no pod
    for task in ("write-file", "read-file"):
        claims = [v.get("persistentVolumeClaim") for v in pods[task]["spec"]["volumes"]]
        assert {"claimName": name} in claims
    assert _claims(fake_k8s) == {}  # DeletePVC removed it, and its files with it
    assert not fake_k8s.claim_folder("default", name).exists()


def test_an_exact_name_with_the_default_class_and_retries_are_idempotent(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str
) -> None:
    made = fake_k8s.created_claims
    dag = dag_runner.load(dag_runner.dag_source("tests.pipelines.pvc:pvc_named", runner="kubernetes"))
    run = dag_runner.run(dag, {"claim": "team-scratch"})
    assert run.state == "success", run.states
    assert run.manifest("echo")["parameters"]["Output"] == "team-scratch"
    (claim,) = made
    assert claim["spec"]["storageClassName"] == "standard"  # None: left out, the cluster's default class
    assert _claims(fake_k8s) == {}
    # A second try of CreatePVC after the first made the claim finds its own (same labels) and goes on;
    # a second try of DeletePVC after the first deleted it is done.
    fake_k8s.call(lambda: fake_k8s.claims.update({("default", "team-scratch"): claim}))
    again = dag_runner.clear_and_resume(dag, run.dag_run, ["createpvc"])
    assert again.state == "success", again.states
    assert len(made) == 1 and "team-scratch" in _claims(fake_k8s)
    again = dag_runner.clear_and_resume(dag, run.dag_run, ["deletepvc"])
    assert again.state == "success", again.states
    again = dag_runner.clear_and_resume(dag, run.dag_run, ["deletepvc"])
    assert again.state == "success", again.states
    assert _claims(fake_k8s) == {}


def test_a_claim_of_that_name_made_by_someone_else_fails_the_task(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, capfd: Any
) -> None:
    fake_k8s.call(
        lambda: fake_k8s.claims.update(
            {
                ("default", "taken"): {
                    "metadata": {"name": "taken", "namespace": "default", "labels": {"owner": "someone"}},
                    "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
                }
            }
        )
    )
    run = dag_runner.run_pipeline(
        "tests.pipelines.pvc:pvc_named", conf={"claim": "taken"}, runner="kubernetes", artifact_root=s3_root
    )
    assert run.states["createpvc"] == "failed"
    assert "taken" in _claims(fake_k8s)  # not ours: left alone, DeletePVC never ran
    log = capfd.readouterr().out
    assert "task 'createpvc'" in log and "'taken' already exists in namespace 'default', not made by this task" in log


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ({"forbidden": {"persistentvolumeclaims"}}, "is forbidden"),
        ({"quota": {"requests.storage": "1Mi"}}, "refused by the namespace's ResourceQuota"),
    ],
)
def test_refusals_name_the_task_and_the_fix(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str, capfd: Any, setting: dict[str, Any], expected: str
) -> None:
    for key, value in setting.items():
        setattr(fake_k8s, key, value)
    run = dag_runner.run_pipeline("tests.pipelines.pvc:pvc_lifecycle", runner="kubernetes", artifact_root=s3_root)
    assert run.states["createpvc"] == "failed"
    assert not fake_k8s.created  # no pod started
    log = capfd.readouterr().out
    assert "task 'createpvc'" in log and expected in log
    assert ("persistentvolumeclaims in that namespace" in log) or ("raise the quota" in log)


def test_a_run_workspace_is_created_mounted_by_every_pod_and_deleted(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str
) -> None:
    run = dag_runner.run_pipeline(
        "tests.pipelines.workspace:workspace_pods", runner="kubernetes", artifact_root=s3_root
    )
    assert run.state == "success", run.states
    assert run.manifest("put")["parameters"]["Output"] == "/kfp-workspace"  # KFP's mount path
    assert run.manifest("get")["parameters"]["Output"] == "shared through the workspace"
    (claim,) = fake_k8s.created_claims
    name = claim["metadata"]["name"]
    assert name == run.manifest("kfp-workspace")["parameters"]["name"] and name.endswith("-kfp-workspace")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"] and claim["spec"]["resources"]["requests"] == {
        "storage": "10Mi"
    }
    for pod in fake_k8s.created:
        mounts = {m["mountPath"]: m["name"] for m in pod["spec"]["containers"][0]["volumeMounts"]}
        volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
        assert volumes[mounts["/kfp-workspace"]]["persistentVolumeClaim"] == {"claimName": name}
    assert _claims(fake_k8s) == {}
