"""Admission as kube-apiserver runs it for a pod or a claim, in its plugin order.

Mutating, then validating (``pkg/kubeapiserver/options/plugins.go``: LimitRanger, ServiceAccount,
PodSecurity, ResourceQuota):

- **LimitRanger** (``plugin/pkg/admission/limitranger/admission.go``): a ``Container`` LimitRange's
  ``default``/``defaultRequest`` fill what a container leaves out; ``max``/``min`` refuse the rest.
- **ServiceAccount** (``plugin/pkg/admission/serviceaccount/admission.go``): ``default`` when none is
  named; a missing account is refused; the account's token is mounted unless automount is off.
- **PodSecurity** (``staging/src/k8s.io/pod-security-admission/policy``): the namespace's
  ``pod-security.kubernetes.io/enforce`` level, each check's reason and detail as the library words them.
- **ResourceQuota** (``plugin/pkg/admission/resourcequota/controller.go`` and
  ``pkg/quota/v1/evaluator/core/pods.go``): a quota on cpu or memory requires every container to state
  it; a request over what is left is refused with the quota's figures.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from tests.kubernetes.fake.common import ApiError, forbidden, parse_quantity

# -- quantities as Quantity.String() prints them ------------------------------------------------------------


def canonical(value: Decimal) -> str:
    """A short canonical form: ``2``, ``500m``, ``1Gi``, ``1500Mi``."""
    if value == value.to_integral_value():
        n = int(value)
        if n == 0:
            return "0"
        for suffix, size in (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
            if n % size == 0 and n >= size:
                return f"{n // size}{suffix}"
        return str(n)
    milli = value * 1000
    if milli == milli.to_integral_value():
        return f"{int(milli)}m"
    return str(value)


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]


# -- defaulting (pkg/apis/core/v1/defaults.go: SetDefaults_Pod) -------------------------------------------------


def default_requests_from_limits(spec: dict[str, Any]) -> None:
    """A container with a limit and no request for a resource gets the limit as its request."""
    for c in _containers(spec):
        resources = c.get("resources") or {}
        limits = resources.get("limits") or {}
        if limits:
            requests = resources.setdefault("requests", {})
            for name, value in limits.items():
                requests.setdefault(name, value)
            c["resources"] = resources


# -- LimitRanger -------------------------------------------------------------------------------------------------


def apply_limit_ranges(ranges: list[dict[str, Any]], spec: dict[str, Any]) -> None:
    for item in _container_limits(ranges):
        for c in _containers(spec):
            resources = c.setdefault("resources", {})
            limits = resources.setdefault("limits", {})
            requests = resources.setdefault("requests", {})
            for name, value in (item.get("default") or {}).items():
                limits.setdefault(name, value)
            for name, value in (item.get("defaultRequest") or {}).items():
                requests.setdefault(name, value)
            for name, value in limits.items():  # defaulting runs again after admission's defaults
                requests.setdefault(name, value)
            if not limits:
                resources.pop("limits")
            if not requests:
                resources.pop("requests")


def _container_limits(ranges: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        item for r in ranges for item in (r.get("spec") or {}).get("limits") or [] if item.get("type") == "Container"
    ]


def limit_range_errors(ranges: list[dict[str, Any]], spec: dict[str, Any]) -> list[str]:
    """``PodValidateLimitFunc``: ``minConstraint``/``maxConstraint`` per container."""
    errors: list[str] = []
    for item in _container_limits(ranges):
        for c in _containers(spec):
            resources = c.get("resources") or {}
            limits = resources.get("limits") or {}
            requests = resources.get("requests") or {}
            for name, enforced in sorted((item.get("min") or {}).items()):
                if name not in requests:
                    errors.append(f"minimum {name} usage per Container is {enforced}.  No request is specified")
                elif parse_quantity(requests[name]) < parse_quantity(enforced):
                    errors.append(f"minimum {name} usage per Container is {enforced}, but request is {requests[name]}")
            for name, enforced in sorted((item.get("max") or {}).items()):
                if name not in limits:
                    errors.append(f"maximum {name} usage per Container is {enforced}.  No limit is specified")
                elif parse_quantity(limits[name]) > parse_quantity(enforced):
                    errors.append(f"maximum {name} usage per Container is {enforced}, but limit is {limits[name]}")
    return errors


# -- ServiceAccount --------------------------------------------------------------------------------------------

TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


def service_account(pod: dict[str, Any], namespace: str, accounts: dict[tuple[str, str], dict[str, Any]]) -> None:
    spec = pod["spec"]
    name = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
    spec["serviceAccountName"] = name
    account = accounts.get((namespace, name))
    if account is None:
        raise forbidden(
            "pods",
            pod["metadata"]["name"],
            f'error looking up service account {namespace}/{name}: serviceaccount "{name}" not found',
        )
    automount = spec.get("automountServiceAccountToken")
    if automount is None:
        automount = account.get("automountServiceAccountToken", True)
    if not automount:
        return
    volume = f"kube-api-access-{uuid.uuid4().hex[:5]}"
    spec.setdefault("volumes", []).append(
        {
            "name": volume,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "path": "namespace",
                                    "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"},
                                }
                            ]
                        }
                    },
                ],
            },
        }
    )
    for c in _containers(spec):
        mounts = c.setdefault("volumeMounts", [])
        if not any(m.get("mountPath") == TOKEN_MOUNT for m in mounts):
            mounts.append({"name": volume, "mountPath": TOKEN_MOUNT, "readOnly": True})


# -- PodSecurity -----------------------------------------------------------------------------------------------------


def _join_quote(items: list[str]) -> str:
    return ", ".join(json.dumps(i) for i in items)


def _plural(n: int) -> str:
    return "container" if n == 1 else "containers"


def _volume_word(n: int) -> str:
    return "volume" if n == 1 else "volumes"


_RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
_BASELINE_CAPS = set(
    "AUDIT_WRITE CHOWN DAC_OVERRIDE FOWNER FSETID KILL MKNOD NET_BIND_SERVICE SETFCAP SETGID SETPCAP SETUID "
    "SYS_CHROOT".split()
)
_VOLUME_KINDS = _RESTRICTED_VOLUMES | set(
    "hostPath gcePersistentDisk awsElasticBlockStore gitRepo nfs iscsi glusterfs rbd flexVolume cinder cephfs "
    "flocker fc azureFile vsphereVolume quobyte azureDisk portworxVolume photonPersistentDisk"
    " scaleIO storageos image".split()
)


def pod_security_violations(spec: dict[str, Any], level: str) -> list[tuple[str, str]]:
    """(forbidden reason, detail) of each failed check: baseline's, then (restricted) restricted's, by check id."""
    out: list[tuple[str, str]] = []
    if level not in ("baseline", "restricted"):
        return out
    containers = _containers(spec)
    pod_ctx = spec.get("securityContext") or {}

    def ctx(c: dict[str, Any]) -> dict[str, Any]:
        return c.get("securityContext") or {}

    # baseline: capabilities_baseline (replaced by capabilities_restricted at restricted)
    if level == "baseline":
        adding = [
            c["name"] for c in containers if set((ctx(c).get("capabilities") or {}).get("add") or []) - _BASELINE_CAPS
        ]
        if adding:
            caps = sorted(
                {cap for c in containers for cap in (ctx(c).get("capabilities") or {}).get("add") or []}
                - _BASELINE_CAPS
            )
            out.append(
                (
                    "non-default capabilities",
                    f"{_plural(len(adding))} {_join_quote(adding)} must not include {_join_quote(caps)} in "
                    "securityContext.capabilities.add",
                )
            )
    host = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    if host:
        out.append(("host namespaces", ", ".join(host)))
    host_paths = [v["name"] for v in spec.get("volumes") or [] if "hostPath" in v]
    if host_paths:
        out.append(("hostPath volumes", f"{_volume_word(len(host_paths))} {_join_quote(host_paths)}"))
    privileged = [c["name"] for c in containers if ctx(c).get("privileged")]
    if privileged:
        out.append(
            (
                "privileged",
                f"{_plural(len(privileged))} {_join_quote(privileged)} must not set securityContext.privileged=true",
            )
        )
    if level == "baseline":
        unconfined = (pod_ctx.get("seccompProfile") or {}).get("type") == "Unconfined"
        if unconfined:
            out.append(("seccompProfile", 'pod must not set securityContext.seccompProfile.type to "Unconfined"'))
        return out
    # restricted
    escalating = [c["name"] for c in containers if ctx(c).get("allowPrivilegeEscalation") is not False]
    if escalating:
        out.append(
            (
                "allowPrivilegeEscalation != false",
                f"{_plural(len(escalating))} {_join_quote(escalating)} must set "
                "securityContext.allowPrivilegeEscalation=false",
            )
        )
    missing_drop = [
        c["name"] for c in containers if "ALL" not in ((ctx(c).get("capabilities") or {}).get("drop") or [])
    ]
    adding = [
        c["name"] for c in containers if set((ctx(c).get("capabilities") or {}).get("add") or []) - {"NET_BIND_SERVICE"}
    ]
    details = []
    if missing_drop:
        details.append(
            f"{_plural(len(missing_drop))} {_join_quote(missing_drop)} must set "
            'securityContext.capabilities.drop=["ALL"]'
        )
    if adding:
        caps = sorted(
            {cap for c in containers for cap in (ctx(c).get("capabilities") or {}).get("add") or []}
            - {"NET_BIND_SERVICE"}
        )
        details.append(
            f"{_plural(len(adding))} {_join_quote(adding)} must not include {_join_quote(caps)} in "
            "securityContext.capabilities.add"
        )
    if details:
        out.append(("unrestricted capabilities", "; ".join(details)))
    restricted_volumes = [
        (v["name"], next((k for k in v if k in _VOLUME_KINDS), "unknown"))
        for v in spec.get("volumes") or []
        if not any(k in _RESTRICTED_VOLUMES for k in v)
    ]
    if restricted_volumes:
        names = [n for n, _ in restricted_volumes]
        kinds = sorted({k for _, k in restricted_volumes})
        detail = (
            f"volume {json.dumps(names[0])} uses restricted volume type {json.dumps(kinds[0])}"
            if len(names) == 1
            else f"volumes {_join_quote(names)} use restricted volume types {_join_quote(kinds)}"
        )
        out.append(("restricted volume types", detail))
    pod_non_root = pod_ctx.get("runAsNonRoot")
    bad_setters = ["pod"] if pod_non_root is False else []
    explicit = [c["name"] for c in containers if ctx(c).get("runAsNonRoot") is False]
    implicit = [c["name"] for c in containers if ctx(c).get("runAsNonRoot") is None and pod_non_root is not True]
    if explicit:
        bad_setters.append(f"{_plural(len(explicit))} {_join_quote(explicit)}")
    if bad_setters:
        out.append(
            ("runAsNonRoot != true", f"{' and '.join(bad_setters)} must not set securityContext.runAsNonRoot=false")
        )
    elif implicit:
        out.append(
            (
                "runAsNonRoot != true",
                f"pod or {_plural(len(implicit))} {_join_quote(implicit)} must set securityContext.runAsNonRoot=true",
            )
        )
    root_setters = ["pod"] if pod_ctx.get("runAsUser") == 0 else []
    root_containers = [c["name"] for c in containers if ctx(c).get("runAsUser") == 0]
    if root_containers:
        root_setters.append(f"{_plural(len(root_containers))} {_join_quote(root_containers)}")
    if root_setters:
        out.append(("runAsUser=0", f"{' and '.join(root_setters)} must not set runAsUser=0"))
    good = {"RuntimeDefault", "Localhost"}
    pod_type = (pod_ctx.get("seccompProfile") or {}).get("type")
    bad = ["pod"] if pod_type is not None and pod_type not in good else []
    bad_values = {pod_type} if bad else set()
    explicit = []
    implicit = []
    for c in containers:
        t = (ctx(c).get("seccompProfile") or {}).get("type")
        if t is not None:
            if t not in good:
                explicit.append(c["name"])
                bad_values.add(t)
        elif pod_type not in good:
            implicit.append(c["name"])
    if explicit:
        bad.append(f"{_plural(len(explicit))} {_join_quote(explicit)}")
    if bad:
        out.append(
            (
                "seccompProfile",
                f"{' and '.join(bad)} must not set securityContext.seccompProfile.type to "
                f"{_join_quote(sorted(bad_values))}",
            )
        )
    elif implicit:
        out.append(
            (
                "seccompProfile",
                f"pod or {_plural(len(implicit))} {_join_quote(implicit)} must set "
                'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
            )
        )
    return out


def pod_security(pod: dict[str, Any], namespace_labels: dict[str, str]) -> None:
    level = namespace_labels.get("pod-security.kubernetes.io/enforce", "privileged")
    version = namespace_labels.get("pod-security.kubernetes.io/enforce-version", "latest")
    violations = pod_security_violations(pod["spec"], level)
    if violations:
        listed = ", ".join(f"{reason} ({detail})" for reason, detail in violations)
        raise forbidden("pods", pod["metadata"]["name"], f'violates PodSecurity "{level}:{version}": {listed}')


# -- ResourceQuota ----------------------------------------------------------------------------------------------

_COMPUTE = {"cpu", "memory", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory"}


def pod_usage(spec: dict[str, Any]) -> dict[str, Decimal]:
    """``PodUsageFunc``: requests.* and limits.* (the larger of the containers' sum and any init container)."""

    def per(c: dict[str, Any]) -> dict[str, Decimal]:
        res = c.get("resources") or {}
        out: dict[str, Decimal] = {}
        for name, value in (res.get("requests") or {}).items():
            out[f"requests.{name}"] = parse_quantity(value)
            if name in ("cpu", "memory", "ephemeral-storage"):
                out[name] = parse_quantity(value)
        for name, value in (res.get("limits") or {}).items():
            out[f"limits.{name}"] = parse_quantity(value)
        return out

    total: dict[str, Decimal] = {}
    for c in spec.get("containers") or []:
        for k, v in per(c).items():
            total[k] = total.get(k, Decimal(0)) + v
    for c in spec.get("initContainers") or []:
        for k, v in per(c).items():
            total[k] = max(total.get(k, Decimal(0)), v)
    total["pods"] = Decimal(1)
    total["count/pods"] = Decimal(1)
    return total


def quota_check(quotas: list[dict[str, Any]], pod: dict[str, Any], used_by: list[dict[str, Any]]) -> None:
    """Refuse a pod a quota would not admit: missing required resources first, then exceeded figures."""
    name = pod["metadata"]["name"]
    spec = pod["spec"]
    for quota in quotas:
        hard = (quota.get("spec") or {}).get("hard") or {}
        required = sorted(set(hard) & _COMPUTE)
        missing: dict[str, list[str]] = {}
        for c in _containers(spec):
            res = c.get("resources") or {}
            have = {f"requests.{k}" for k in res.get("requests") or {}} | {
                f"limits.{k}" for k in res.get("limits") or {}
            }
            have |= {k for k in res.get("requests") or {} if k in ("cpu", "memory")}
            for key in required:
                if key not in have:
                    missing.setdefault(key, []).append(c["name"])
        if missing:
            listed = "; ".join(f"{key} for: {','.join(sorted(names))}" for key, names in sorted(missing.items()))
            raise forbidden("pods", name, f"failed quota: {quota['metadata']['name']}: must specify {listed}")
    wanted = pod_usage(spec)
    for quota in quotas:
        hard = (quota.get("spec") or {}).get("hard") or {}
        used: dict[str, Decimal] = {}
        for other in used_by:
            for k, v in pod_usage(other["spec"]).items():
                used[k] = used.get(k, Decimal(0)) + v
        over = sorted(
            key
            for key, limit in hard.items()
            if key in wanted and used.get(key, Decimal(0)) + wanted[key] > parse_quantity(limit)
        )
        if over:
            requested = ",".join(f"{k}={canonical(wanted[k])}" for k in over)
            in_use = ",".join(f"{k}={canonical(used.get(k, Decimal(0)))}" for k in over)
            limited = ",".join(f"{k}={hard[k]}" for k in over)
            raise forbidden(
                "pods",
                name,
                f"exceeded quota: {quota['metadata']['name']}, requested: {requested}, used: {in_use}, "
                f"limited: {limited}",
            )


def claim_quota_check(quotas: list[dict[str, Any]], claim: dict[str, Any], claims: list[dict[str, Any]]) -> None:
    name = claim["metadata"]["name"]
    size = parse_quantity(claim["spec"]["resources"]["requests"]["storage"])
    wanted = {"persistentvolumeclaims": Decimal(1), "requests.storage": size}
    used = {
        "persistentvolumeclaims": Decimal(len(claims)),
        "requests.storage": sum(
            (parse_quantity(c["spec"]["resources"]["requests"]["storage"]) for c in claims), Decimal(0)
        ),
    }
    for quota in quotas:
        hard = (quota.get("spec") or {}).get("hard") or {}
        over = sorted(k for k, limit in hard.items() if k in wanted and used[k] + wanted[k] > parse_quantity(limit))
        if over:
            raise forbidden(
                "persistentvolumeclaims",
                name,
                f"exceeded quota: {quota['metadata']['name']}, requested: "
                + ",".join(f"{k}={canonical(wanted[k])}" for k in over)
                + ", used: "
                + ",".join(f"{k}={canonical(used[k])}" for k in over)
                + ", limited: "
                + ",".join(f"{k}={hard[k]}" for k in over),
            )


def quota_error_from(exc: ApiError) -> str:
    return exc.message
