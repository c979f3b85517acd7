"""RBAC derived from what the code does.

The fake API server authorizes every request of the worker's identity against the chart's Role (a
permission the chart lacks is a 403 in the test that needs it) and records each (verb, resource);
``tests/fixtures/api_usage.py`` checks the whole session's recordings against ``api_usage.json``. Here:
the chart grants exactly that list, no more; the docs table is generated from it; and the fake's
authorizer words a refusal as kube-apiserver does.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.api_usage import listed
from tests.kubernetes.fake.chart import chart_values, launcher_role, objects
from tests.kubernetes.fake.common import ApiError
from tests.kubernetes.fake.rbac import Attributes, Authorizer
from tests.kubernetes.fake.usage import documented, table


def _granted(role: dict[str, Any]) -> set[tuple[str, str]]:
    return {(verb, resource) for rule in role["rules"] for resource in rule["resources"] for verb in rule["verbs"]}


def test_the_chart_role_grants_exactly_what_the_package_uses() -> None:
    role = next(d for d in objects(chart_values()) if d["kind"] == "Role")
    assert _granted(role) == listed()
    assert all(rule["apiGroups"] == [""] and "resourceNames" not in rule for rule in role["rules"])


def test_the_docs_table_is_generated_from_the_recorded_list() -> None:
    assert documented() == table(), "regenerate it: python -m tests.kubernetes.fake.usage --write"
    assert "`persistentvolumeclaims` | `create`" in table()


def test_a_refusal_is_worded_as_kube_apiserver_words_it() -> None:
    chart = launcher_role("ml-pipelines")
    authorizer = Authorizer()
    authorizer.bind(chart["role"], chart["binding"])
    worker = "system:serviceaccount:airflow:airflow-worker"
    authorizer.check(Attributes(worker, "create", "pods", "", "ml-pipelines", ""))
    with pytest.raises(ApiError) as refused:
        authorizer.check(Attributes(worker, "create", "pods", "", "default", ""))  # bound in ml-pipelines only
    assert refused.value.code == 403 and refused.value.reason == "Forbidden"
    assert refused.value.message == (
        'pods is forbidden: User "system:serviceaccount:airflow:airflow-worker" cannot create resource "pods" '
        'in API group "" in the namespace "default"'
    )
    with pytest.raises(ApiError) as refused:
        authorizer.check(Attributes(worker, "get", "secrets", "", "ml-pipelines", "db"))
    assert refused.value.message == (
        'secrets "db" is forbidden: User "system:serviceaccount:airflow:airflow-worker" cannot get resource "secrets" '
        'in API group "" in the namespace "ml-pipelines"'
    )
    with pytest.raises(ApiError):  # the component pods' account has no permission at all
        authorizer.check(
            Attributes("system:serviceaccount:ml-pipelines:kfp-component", "list", "pods", "", "ml-pipelines", "")
        )
    assert ("get", "secrets", "") in authorizer.recorded
