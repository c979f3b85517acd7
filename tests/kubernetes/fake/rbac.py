"""Authentication and RBAC authorization as the API server does them, from the chart's own Role.

A request's bearer token names its user; a request's attributes (verb, resource, subresource,
namespace) follow ``staging/src/k8s.io/apiserver/pkg/endpoints/request/requestinfo.go`` (GET on an object
is ``get``, on a collection ``list``, with ``watch=true`` ``watch``; POST ``create``; PATCH ``patch``;
DELETE ``delete``). A websocket ``exec`` is a GET: ``get`` on ``pods/exec``, and since Kubernetes 1.35
(``AuthorizePodWebsocketUpgradeCreatePermission``, kubernetes/kubernetes#134577) ``create`` as well.
The RBAC authorizer (``plugin/pkg/auth/authorizer/rbac``) allows what a bound Role's rules grant; a
refusal is worded as ``endpoints/handlers/responsewriters/errors.go`` words it. Every request checked is
recorded, so a test can tell which permissions the package and KubernetesPodOperator really use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.kubernetes.fake.common import ApiError, forbidden


@dataclass(frozen=True)
class Attributes:
    user: str
    verb: str
    resource: str
    subresource: str
    namespace: str
    name: str
    api_group: str = ""

    @property
    def full_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


@dataclass
class Authorizer:
    """Roles bound to users in namespaces; ``None`` users (``admin``) are allowed everything."""

    bindings: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    """(namespace, user) -> the rules of the Roles bound to that user there."""
    superusers: set[str] = field(default_factory=lambda: {"kubernetes-admin"})
    recorded: set[tuple[str, str, str]] = field(default_factory=set)
    """(verb, resource[/subresource], api group) of every request made by a non-superuser."""

    def bind(self, role: dict[str, Any], binding: dict[str, Any]) -> None:
        namespace = role["metadata"]["namespace"]
        assert binding["roleRef"]["name"] == role["metadata"]["name"], "the RoleBinding names another Role"
        for subject in binding.get("subjects") or []:
            if subject["kind"] == "ServiceAccount":
                user = f"system:serviceaccount:{subject['namespace']}:{subject['name']}"
            else:
                user = subject["name"]
            self.bindings.setdefault((namespace, user), []).extend(role.get("rules") or [])

    def allows(self, a: Attributes) -> bool:
        if a.user in self.superusers:
            return True
        for rule in self.bindings.get((a.namespace, a.user), []):
            if not ({"*", a.api_group} & set(rule.get("apiGroups") or [])):
                continue
            if not ({"*", a.full_resource} & set(rule.get("resources") or [])):
                continue
            if not ({"*", a.verb} & set(rule.get("verbs") or [])):
                continue
            names = rule.get("resourceNames")
            if names and a.name not in names:
                continue
            return True
        return False

    def check(self, a: Attributes) -> None:
        if a.user not in self.superusers:
            self.recorded.add((a.verb, a.full_resource, a.api_group))
        if self.allows(a):
            return
        why = (
            f'User "{a.user}" cannot {a.verb} resource "{a.full_resource}" in API group "{a.api_group}" '
            f'in the namespace "{a.namespace}"'
        )
        raise forbidden(a.resource, a.name, why)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")
