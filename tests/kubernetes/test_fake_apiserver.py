# ruff: noqa: E501  (the expected messages are Kubernetes' own, one per line)
"""The test API server refuses what a real one refuses, worded as the real one words it, and its
kubelet does what a node does (driven through the real ``kubernetes`` client; no Airflow).

Each expected message below is the one kube-apiserver answers (the sources are cited in
``tests/kubernetes/fake/``); a pod is built restricted-compliant and then broken one way per test.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from tests.kubernetes.fake import ADMIN, FakeKubernetes, Node, fake_cluster
from tests.kubernetes.fake.kubelet import ENFORCES_PERMISSIONS

SAFE = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "runAsUser": 1000,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def pod(name: str = "p", command: str = "echo ok", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "x"}},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    "image": "python:3.12",
                    "command": ["sh", "-c", command],
                    "securityContext": dict(SAFE),
                }
            ],
            **spec,
        },
    }
    return body


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[FakeKubernetes]:
    nodes = [Node("node-a"), Node("node-b", labels={"pool": "b"})]
    with fake_cluster(tmp_path / "cluster", nodes=nodes, report_usage=False) as c:  # refusals probed on purpose
        yield c


def api(cluster: FakeKubernetes, tmp_path: Path, user: str | None = None) -> client.CoreV1Api:
    path = cluster.kubeconfig(tmp_path / f"kubeconfig-{abs(hash(user))}", **({"user": user} if user else {}))
    return client.CoreV1Api(config.new_client_from_config(str(path)))


def refused(exc: pytest.ExceptionInfo[ApiException]) -> dict[str, Any]:
    return json.loads(exc.value.body)


def wait(predicate: Any, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError


def phase(core: client.CoreV1Api, name: str) -> str:
    return str(core.read_namespaced_pod(name, "default").status.phase)


# -- validation: 422 Invalid -------------------------------------------------------------------------------


def test_a_node_selector_value_with_a_slash_is_invalid(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod("default", pod(nodeSelector={"accelerator": "nvidia.com/gpu"}))
    body = refused(exc)
    assert exc.value.status == 422 and body["reason"] == "Invalid" and body["details"]["kind"] == "Pod"
    assert body["message"] == (
        'Pod "p" is invalid: spec.nodeSelector: Invalid value: "nvidia.com/gpu": a valid label must be an empty '
        "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
        "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": body["message"].split("spec.nodeSelector: ", 1)[1],
            "field": "spec.nodeSelector",
        }
    ]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda p: p["metadata"].update(name="Bad_Name"), 'metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain'),
        (lambda p: p["metadata"]["labels"].update({"x" * 64: "v"}), "metadata.labels: Invalid value: \"" + "x" * 64 + '": name part must be no more than 63 characters'),
        (lambda p: p["metadata"]["labels"].update(app="v" * 64), "metadata.labels: Invalid value: \"" + "v" * 64 + '": must be no more than 63 characters'),
        (lambda p: p["metadata"].update(annotations={"a/b/c": "x"}), 'metadata.annotations: Invalid value: "a/b/c": a valid label key must consist of'),
        (lambda p: p["spec"]["containers"][0]["resources"].update(limits={"nvidia.com/gpu": "1"}, requests={"nvidia.com/gpu": "2"}) if p["spec"]["containers"][0].setdefault("resources", {}) is not None else None,
         'spec.containers[0].resources.requests: Invalid value: "2": must be equal to nvidia.com/gpu limit of 1'),
        (lambda p: p["spec"]["containers"][0].update(resources={"requests": {"amd.com/gpu": "1"}}),
         "spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"),
        (lambda p: p["spec"]["containers"][0].update(resources={"limits": {"nvidia.com/gpu": "500m"}}),
         'spec.containers[0].resources.limits[nvidia.com/gpu]: Invalid value: "500m": must be an integer'),
        (lambda p: p["spec"]["containers"][0].update(resources={"limits": {"gpu": "1"}}),
         'spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers'),
        (lambda p: p["spec"]["containers"][0].update(env=[{"name": "A=B", "value": "1"}]),
         "spec.containers[0].env[0].name: Invalid value: \"A=B\": a valid environment variable name must consist only of printable ASCII characters other than '='"),
        (lambda p: p["spec"].update(volumes=[{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]),
         'spec.volumes[1].name: Duplicate value: "v"'),
        (lambda p: p["spec"].update(volumes=[{"name": "Data", "emptyDir": {}}]), 'spec.volumes[0].name: Invalid value: "Data": a lowercase RFC 1123 label'),
        (lambda p: p["spec"]["containers"][0].update(volumeMounts=[{"name": "nope", "mountPath": "/x"}]),
         'spec.containers[0].volumeMounts[0].name: Not found: "nope"'),
        (lambda p: (p["spec"].update(volumes=[{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}]),
                    p["spec"]["containers"][0].update(volumeMounts=[{"name": "a", "mountPath": "/x"}, {"name": "b", "mountPath": "/x"}])),
         'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/x": must be unique'),
        (lambda p: p["spec"].update(tolerations=[{"key": "k", "operator": "Exists", "value": "v"}]),
         "value must be empty when `operator` is 'Exists'"),
        (lambda p: p["spec"].update(tolerations=[{"operator": "Equal", "value": "v"}]),
         'spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty'),
        (lambda p: p["spec"].update(tolerations=[{"key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule", "tolerationSeconds": 5}]),
         "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when `tolerationSeconds` is set"),
        (lambda p: p["spec"].update(affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "Equals", "values": ["a"]}]}]}}}),
         'matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator'),
        (lambda p: p["spec"]["containers"].append(copy.deepcopy(p["spec"]["containers"][0])), 'spec.containers[1].name: Duplicate value: "main"'),
        (lambda p: p["spec"]["containers"][0].update(name="Main"), 'spec.containers[0].name: Invalid value: "Main": a lowercase RFC 1123 label'),
    ],
)  # fmt: skip
def test_validation_refuses_as_kubernetes_does(
    cluster: FakeKubernetes, tmp_path: Path, change: Any, expected: str
) -> None:
    body = pod()
    change(body)
    with pytest.raises(ApiException) as exc:
        api(cluster, tmp_path).create_namespaced_pod("default", body)
    assert exc.value.status == 422, exc.value.body
    assert expected in refused(exc)["message"]
    assert not cluster.created


def test_a_malformed_quantity_is_a_bad_request(cluster: FakeKubernetes, tmp_path: Path) -> None:
    body = pod()
    body["spec"]["containers"][0]["resources"] = {"limits": {"memory": "1 GB"}}
    with pytest.raises(ApiException) as exc:
        api(cluster, tmp_path).create_namespaced_pod("default", body)
    assert exc.value.status == 400 and "quantities must match the regular expression" in refused(exc)["message"]


# -- authorization and admission: 403 Forbidden ---------------------------------------------------------------


def test_rbac_from_the_chart_role(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_secret("db", "default")
    assert exc.value.status == 403 and refused(exc)["message"] == (
        'secrets "db" is forbidden: User "system:serviceaccount:airflow:airflow-worker" cannot get resource '
        '"secrets" in API group "" in the namespace "default"'
    )
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod("other", pod())
    assert refused(exc)["message"] == (
        'pods is forbidden: User "system:serviceaccount:airflow:airflow-worker" cannot create resource "pods" '
        'in API group "" in the namespace "other"'
    )
    stranger = api(cluster, tmp_path, user="system:serviceaccount:default:kfp-component")
    with pytest.raises(ApiException) as exc:
        stranger.list_namespaced_pod("default")
    assert exc.value.status == 403
    assert ("get", "secrets", "") in cluster.recorded


def test_a_missing_service_account_is_refused(cluster: FakeKubernetes, tmp_path: Path) -> None:
    with pytest.raises(ApiException) as exc:
        api(cluster, tmp_path).create_namespaced_pod("default", pod(serviceAccountName="kfp-component"))
    assert exc.value.status == 403 and refused(exc)["message"] == (
        'pods "p" is forbidden: error looking up service account default/kfp-component: '
        'serviceaccount "kfp-component" not found'
    )
    cluster.add_service_account("kfp-component", automount=False)
    made = api(cluster, tmp_path).create_namespaced_pod("default", pod(serviceAccountName="kfp-component"))
    assert not made.spec.volumes  # automountServiceAccountToken: false: no token volume


def test_pod_security_restricted(cluster: FakeKubernetes, tmp_path: Path) -> None:
    body = pod()
    body["spec"]["containers"][0].pop("securityContext")
    with pytest.raises(ApiException) as exc:
        api(cluster, tmp_path).create_namespaced_pod("default", body)
    assert exc.value.status == 403 and refused(exc)["message"] == (
        'pods "p" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false '
        '(container "main" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities '
        '(container "main" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or '
        'container "main" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "main" '
        'must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
    )
    body = pod(volumes=[{"name": "host", "hostPath": {"path": "/etc"}}])
    body["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0
    with pytest.raises(ApiException) as exc:
        api(cluster, tmp_path).create_namespaced_pod("default", body)
    message = refused(exc)["message"]
    assert 'hostPath volumes (volume "host")' in message
    assert 'restricted volume types (volume "host" uses restricted volume type "hostPath")' in message
    assert 'runAsUser=0 (container "main" must not set runAsUser=0)' in message


def test_a_quota_on_limits_needs_limits_and_refuses_what_exceeds_it(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    cluster.quota = {"limits.cpu": "2", "limits.memory": "1Gi"}
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod("default", pod())
    assert refused(exc)["message"] == (
        'pods "p" is forbidden: failed quota: compute-resources: must specify limits.cpu for: main; '
        "limits.memory for: main"
    )
    body = pod()
    body["spec"]["containers"][0]["resources"] = {"limits": {"cpu": "3", "memory": "512Mi"}}
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod("default", body)
    assert refused(exc)["message"] == (
        'pods "p" is forbidden: exceeded quota: compute-resources, requested: limits.cpu=3, used: limits.cpu=0, '
        "limited: limits.cpu=2"
    )


def test_a_limit_range_fills_defaults_and_refuses_over_its_maximum(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    cluster.add_limit_range(
        [{"type": "Container", "default": {"cpu": "500m", "memory": "256Mi"}, "max": {"memory": "1Gi"}}]
    )
    made = core.create_namespaced_pod("default", pod(name="defaulted"))
    resources = made.spec.containers[0].resources
    assert resources.limits == {"cpu": "500m", "memory": "256Mi"} and resources.requests == resources.limits
    body = pod()
    body["spec"]["containers"][0]["resources"] = {"limits": {"memory": "2Gi"}}
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod("default", body)
    assert (
        refused(exc)["message"] == 'pods "p" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi'
    )


# -- storage answers: 409, 429 ------------------------------------------------------------------------------------


def test_conflicts_and_too_many_requests(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    made = core.create_namespaced_pod("default", pod(command="sleep 30"))
    with pytest.raises(ApiException) as exc:
        core.create_namespaced_pod("default", pod())
    assert exc.value.status == 409 and refused(exc)["reason"] == "AlreadyExists"
    stale = {"metadata": {"resourceVersion": "0", "labels": {"a": "b"}}}
    assert made.metadata.resource_version != "0"
    with pytest.raises(ApiException) as exc:
        core.patch_namespaced_pod("p", "default", stale)
    assert exc.value.status == 409 and refused(exc)["message"] == (
        'Operation cannot be fulfilled on pods "p": the object has been modified; please apply your changes to the '
        "latest version and try again"
    )
    once = cluster.inject("list", "pods", 429, retry_after=1)
    assert core.list_namespaced_pod("default").items  # urllib3 honours Retry-After and asks again
    assert once.seen == 1
    cluster.inject("list", "pods", 429, times=10, retry_after=1)
    with pytest.raises(ApiException) as exc:  # until its retries run out
        core.list_namespaced_pod("default")
    assert exc.value.status == 429 and exc.value.headers["Retry-After"] == "1"
    assert refused(exc)["reason"] == "TooManyRequests" and refused(exc)["details"] == {"retryAfterSeconds": 1}
    core.delete_namespaced_pod("p", "default", grace_period_seconds=0)


# -- the kubelet ------------------------------------------------------------------------------------------------


def test_graceful_deletion_terminates_then_removes(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    script = "trap 'echo got TERM; sleep 0.3; exit 0' TERM; echo started; while true; do sleep 0.1; done"
    core.create_namespaced_pod("default", pod(command=script, terminationGracePeriodSeconds=5))
    wait(lambda: phase(core, "p") == "Running" and "started" in core.read_namespaced_pod_log("p", "default"))
    kubelet_pod = cluster.pods[("default", "p")]
    deleted = core.delete_namespaced_pod("p", "default")
    assert deleted.metadata.deletion_timestamp is not None and deleted.metadata.deletion_grace_period_seconds == 5
    assert core.read_namespaced_pod("p", "default").metadata.deletion_timestamp is not None  # Terminating
    wait(lambda: ("default", "p") not in cluster.pods)
    assert "got TERM" in "".join(line.text for line in kubelet_pod.main[0].logs)  # SIGTERM first, and it was heeded
    assert kubelet_pod.main[0].terminated["exitCode"] == 0
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod("p", "default")
    assert exc.value.status == 404


def test_a_container_over_its_memory_limit_is_oom_killed(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    body = pod(command="python3 -c 'import time; b = bytearray(300 * 2**20); time.sleep(30)'")
    body["spec"]["containers"][0]["resources"] = {"limits": {"memory": "64Mi"}}
    core.create_namespaced_pod("default", body)
    wait(lambda: phase(core, "p") == "Failed")
    state = core.read_namespaced_pod("p", "default").status.container_statuses[0].state.terminated
    assert (state.reason, state.exit_code) == ("OOMKilled", 137)


def test_eviction_sends_sigterm_then_sigkill(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    core.create_namespaced_pod("default", pod(command="trap 'echo term' TERM; while true; do sleep 0.1; done"))
    wait(lambda: phase(core, "p") == "Running")
    cluster.evict("p", grace=1)
    status = core.read_namespaced_pod("p", "default").status
    assert status.phase == "Failed" and status.reason == "Evicted"
    assert status.message.startswith("The node was low on resource: memory.")
    assert any(c.type == "DisruptionTarget" and c.reason == "TerminationByKubelet" for c in status.conditions)
    assert status.container_statuses[0].state.terminated.exit_code == 137  # ignored SIGTERM: killed
    assert "term" in core.read_namespaced_pod_log("p", "default")


def test_a_lost_node_leaves_its_pods_unknown(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    core.create_namespaced_pod("default", pod(command="sleep 30"))
    wait(lambda: phase(core, "p") == "Running")
    node = core.read_namespaced_pod("p", "default").spec.node_name
    cluster.lose_node(node)
    status = core.read_namespaced_pod("p", "default").status
    assert status.phase == "Unknown" and status.reason == "NodeLost"
    with pytest.raises(ApiException) as exc:
        core.read_namespaced_pod_log("p", "default")
    assert exc.value.status == 500 and "10250" in refused(exc)["message"]


def test_a_followed_log_stream_can_drop(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    core.create_namespaced_pod("default", pod(command="for i in 1 2 3 4 5; do echo line $i; sleep 0.2; done"))
    wait(lambda: phase(core, "p") in ("Running", "Succeeded"))
    cluster.log_drops = 1
    with pytest.raises(Exception):  # noqa: B017 - urllib3's ProtocolError, as a broken connection surfaces
        stream = core.read_namespaced_pod_log("p", "default", follow=True, _preload_content=False)
        for _ in stream.stream():
            pass
    wait(lambda: phase(core, "p") == "Succeeded")
    assert core.read_namespaced_pod_log("p", "default").count("line") == 5  # reading again gets everything


def test_a_claim_in_use_stays_terminating(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    claim = {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim("default", claim)
    body = pod(command="sleep 1", volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])
    core.create_namespaced_pod("default", body)
    wait(lambda: phase(core, "p") == "Running")
    core.delete_namespaced_persistent_volume_claim("data", "default")
    kept = core.read_namespaced_persistent_volume_claim("data", "default")
    assert kept.metadata.deletion_timestamp is not None and kept.metadata.finalizers == ["kubernetes.io/pvc-protection"]
    core.create_namespaced_pod(
        "default", pod(name="late", volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}])
    )
    wait(lambda: phase(core, "p") == "Succeeded")
    wait(lambda: not cluster.claims)
    assert phase(core, "late") == "Pending"  # the scheduler never places a pod on a claim being deleted
    scheduling = [e.message for e in core.list_namespaced_event("default").items if e.reason == "FailedScheduling"]
    assert any('persistentvolumeclaim "data" is being deleted' in m for m in scheduling)
    assert 'persistentvolumeclaim "data" not found' in scheduling[-1]  # and then it is gone


def test_a_read_write_once_claim_does_not_attach_on_a_second_node(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    claim = {
        "metadata": {"name": "rwo"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim("default", claim)
    volumes = [{"name": "d", "persistentVolumeClaim": {"claimName": "rwo"}}]
    core.create_namespaced_pod("default", pod(name="first", command="sleep 2", volumes=volumes, nodeSelector={}))
    wait(lambda: phase(core, "first") == "Running")
    assert core.read_namespaced_pod("first", "default").spec.node_name == "node-a"
    core.create_namespaced_pod("default", pod(name="second", volumes=volumes, nodeSelector={"pool": "b"}))
    wait(lambda: any(e.reason == "FailedAttachVolume" for e in core.list_namespaced_event("default").items))
    event = next(e for e in core.list_namespaced_event("default").items if e.reason == "FailedAttachVolume")
    assert (
        event.message.startswith('Multi-Attach error for volume "pvc-')
        and "Volume is already used by pod(s) first" in event.message
    )
    assert phase(core, "second") == "Pending"
    wait(lambda: phase(core, "second") == "Succeeded")  # attaches once the first pod is done


@pytest.mark.skipif(not ENFORCES_PERMISSIONS, reason="root that cannot run containers as another user ignores modes")
def test_fresh_volumes_are_root_owned_and_home_is_not_writable(cluster: FakeKubernetes, tmp_path: Path) -> None:
    core = api(cluster, tmp_path)
    claim = {
        "metadata": {"name": "fresh"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }
    core.create_namespaced_persistent_volume_claim("default", claim)
    volumes = [{"name": "d", "persistentVolumeClaim": {"claimName": "fresh"}}, {"name": "e", "emptyDir": {}}]
    script = "touch /data/x && echo data-ok; touch /scratch/x && echo scratch-ok; mkdir -p $HOME/.cache && echo home-ok; true"
    body = pod(name="nogroup", command=script, volumes=volumes)
    body["spec"]["containers"][0]["volumeMounts"] = [
        {"name": "d", "mountPath": "/data"},
        {"name": "e", "mountPath": "/scratch"},
    ]
    core.create_namespaced_pod("default", body)
    wait(lambda: phase(core, "nogroup") == "Succeeded")
    log = core.read_namespaced_pod_log("nogroup", "default")
    assert "scratch-ok" in log and "data-ok" not in log and "home-ok" not in log
    body = copy.deepcopy(body)
    body["metadata"]["name"] = "withgroup"
    body["spec"]["securityContext"] = {"fsGroup": 1000}
    core.create_namespaced_pod("default", body)
    wait(lambda: phase(core, "withgroup") == "Succeeded")
    assert "data-ok" in core.read_namespaced_pod_log("withgroup", "default")


def test_the_admin_identity_is_not_recorded(cluster: FakeKubernetes, tmp_path: Path) -> None:
    admin = api(cluster, tmp_path, user=ADMIN)
    admin.list_namespaced_pod("default")
    assert cluster.recorded == set()
