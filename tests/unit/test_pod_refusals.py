"""The advice for each way an API server refuses a pod, from the messages kube-apiserver produces
(wording of its admission plugins and validation: ResourceQuota, LimitRanger, PodSecurity,
ServiceAccount, webhook dispatch, RBAC authorizer, ValidatePod), so each gets its real cause."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.client.exceptions import ApiException

from airflow_kfp.config import KfpSettings
from airflow_kfp.runners.pod.errors import api_refusal
from airflow_kfp.spec.model import Resources, TaskSpec

POD = 'pods "train-abc123"'
REFUSALS: dict[str, tuple[int, str, dict[str, Any]]] = {
    "rbac": (
        403,
        'pods is forbidden: User "system:serviceaccount:airflow:airflow-worker" cannot create resource "pods" in '
        'API group "" in the namespace "ml"',
        {},
    ),
    "pod_security": (
        403,
        f'{POD} is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true (pod or container '
        '"main" must set securityContext.runAsNonRoot=true)',
        {},
    ),
    "quota_exceeded": (
        403,
        f"{POD} is forbidden: exceeded quota: compute, requested: limits.memory=2Gi, used: limits.memory=0, "
        "limited: limits.memory=1Gi",
        {},
    ),
    "quota_must_specify": (
        403,
        f"{POD} is forbidden: failed quota: compute: must specify limits.cpu for: main; limits.memory for: main",
        {},
    ),
    "limit_range": (
        403,
        f"{POD} is forbidden: [maximum cpu usage per Container is 2, but limit is 4, maximum memory usage per "
        "Container is 4Gi, but limit is 8Gi]",
        {},
    ),
    "limit_range_ratio": (
        403,
        f"{POD} is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 8.000000",
        {},
    ),
    "webhook": (
        403,
        'admission webhook "validation.gatekeeper.sh" denied the request: [k8sallowedrepos] container <main> has '
        "an invalid image repo <python:3.12-slim>",
        {},
    ),
    "service_account": (
        403,
        f'{POD} is forbidden: error looking up service account ml/trainer: serviceaccount "trainer" not found',
        {},
    ),
    "invalid": (
        422,
        'Pod "train-abc123" is invalid: spec.nodeSelector: Invalid value: "nvidia.com/gpu": a valid label must be '
        "an empty string or consist of alphanumeric characters, '-', '_' or '.'",
        {
            "reason": "Invalid",
            "details": {
                "name": "train-abc123",
                "kind": "Pod",
                "causes": [{"reason": "FieldValueInvalid", "field": "spec.nodeSelector"}],
            },
        },
    ),
}


def _refusal(kind: str) -> str:
    status, message, extra = REFUSALS[kind]
    exc = ApiException(status=status, reason="Forbidden" if status == 403 else "Unprocessable Entity")
    exc.body = json.dumps({"kind": "Status", "status": "Failure", "message": message, "code": status, **extra})
    task = TaskSpec(name="train", component="train", resources=Resources(memory_limit="2Gi"))
    return api_refusal(exc, "ml", task, KfpSettings())


@pytest.mark.parametrize(
    ("kind", "says", "not_says"),
    [
        ("rbac", ["system:serviceaccount:airflow:airflow-worker", "may not create pods", "Role"], ["quota"]),
        ("pod_security", ["Pod Security", "set_security_context", "restricted:latest"], ["Role"]),
        ("quota_exceeded", ["ResourceQuota", "limits.memory=1Gi", "memory 2Gi"], ["Role"]),
        ("quota_must_specify", ["every container must", "set_cpu_request/set_cpu_limit", "LimitRange"], ["Role"]),
        ("limit_range", ["LimitRange", "maximum cpu usage per Container is 2, but limit is 4"], ["Role", "Quota"]),
        ("limit_range_ratio", ["LimitRange", "ratio"], ["Role"]),
        ("webhook", ["admission webhook 'validation.gatekeeper.sh'", "policy"], ["Role", "Quota"]),
        (
            "service_account",
            ["service account 'trainer' does not exist in namespace 'ml'", "set_service_account"],
            ["Role"],
        ),
        ("invalid", ["HTTP 422", "spec.nodeSelector", "add_node_selector"], ["Role", "Quota"]),
    ],
)
def test_each_refusal_names_its_cause(kind: str, says: list[str], not_says: list[str]) -> None:
    advice = _refusal(kind)
    for text in says:
        assert text in advice, (kind, text, advice)
    for text in not_says:
        assert text not in advice, (kind, text, advice)


def test_an_unknown_403_is_not_blamed_on_rbac() -> None:
    exc = ApiException(status=403, reason="Forbidden")
    exc.body = json.dumps({"message": f"{POD} is forbidden: some admission plugin said no"})
    advice = api_refusal(exc, "ml", TaskSpec(name="train", component="train"), KfpSettings())
    assert "some admission plugin said no" in advice and "Role" not in advice
