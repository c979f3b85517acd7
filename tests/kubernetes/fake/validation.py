"""Object validation as the API server runs it before admission: a 422 ``Invalid`` for what it refuses.

Each rule follows ``pkg/apis/core/validation/validation.go`` (``ValidatePodCreate``, ``ValidateObjectMeta``,
``ValidatePodSpec``, ``validateContainers``, ``ValidateVolumes``, ``validateVolumeMounts``,
``ValidateResourceRequirements``, ``ValidateTolerations``, ``ValidateNodeSelectorRequirement``,
``ValidatePersistentVolumeClaim``) and the syntax checks of
``staging/src/k8s.io/apimachinery/pkg/api/validate/content/kube.go`` (label keys and values) and
``pkg/util/validation/validation.go`` (DNS-1123 names, environment variable names); the messages are
theirs, word for word.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tests.kubernetes.fake.common import (
    FieldError,
    duplicate,
    field_forbidden,
    field_not_found,
    invalid,
    not_supported,
    parse_quantity,
    required,
    too_long,
)


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``RegexError``: the message, examples, then the regex."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    return (
        msg
        + " (e.g. "
        + "".join(("" if i == 0 else " or ") + f"'{e}', " for i, e in enumerate(examples))
        + (f"regex used for validation is '{fmt}')")
    )


_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_LABEL_KEY_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _LABEL_KEY_FMT + ")?"
_LABEL_KEY_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
)


def is_dns1123_label(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not re.fullmatch(_DNS1123_LABEL_FMT, value):
        if re.fullmatch(_DNS1123_SUBDOMAIN_FMT, value):
            errs.append("must not contain dots")
        else:
            errs.append(
                _regex_error(
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
                    "start and end with an alphanumeric character",
                    _DNS1123_LABEL_FMT,
                    "my-name",
                    "123-abc",
                )
            )
    return errs


def is_dns1123_subdomain(value: str) -> list[str]:
    errs = []
    if len(value) > 253:
        errs.append("must be no more than 253 characters")
    if not re.fullmatch(_DNS1123_SUBDOMAIN_FMT, value):
        errs.append(
            _regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and "
                "must start and end with an alphanumeric character",
                _DNS1123_SUBDOMAIN_FMT,
                "example.com",
            )
        )
    return errs


def is_label_key(value: str) -> list[str]:
    """``content.IsLabelKey`` (a "qualified name"): an optional DNS subdomain prefix and a 63-char name."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + m for m in is_dns1123_subdomain(prefix)]
    else:
        return [
            "a valid label key "
            + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if not re.fullmatch(_LABEL_KEY_FMT, name):
        errs.append("name part " + _regex_error(_LABEL_KEY_MSG, _LABEL_KEY_FMT, "MyName", "my.name", "123-abc"))
    return errs


def is_label_value(value: str) -> list[str]:
    errs = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not re.fullmatch(_LABEL_VALUE_FMT, value):
        errs.append(
            _regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and "
                "must start and end with an alphanumeric character",
                _LABEL_VALUE_FMT,
                "MyValue",
                "my_value",
                "12345",
            )
        )
    return errs


def is_env_var_name(value: str) -> list[str]:
    """``IsRelaxedEnvVarName``: RelaxedEnvironmentVariableValidation is on by default since 1.32 (GA 1.34)."""
    errs = []
    if not value:
        errs.append("environment variable name must be non-empty")
    if any(ord(ch) > 126 or ord(ch) < 32 or ch == "=" for ch in value):
        errs.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
    return errs


def validate_labels(labels: Any, path: str) -> list[FieldError]:
    out: list[FieldError] = []
    for key, value in (labels or {}).items():
        out += [invalid(path, key, m) for m in is_label_key(key)]
        out += [invalid(path, value, m) for m in is_label_value(str(value))]
    return out


def validate_annotations(annotations: Any, path: str) -> list[FieldError]:
    out: list[FieldError] = []
    total = 0
    for key, value in (annotations or {}).items():
        out += [invalid(path, key, m) for m in is_label_key(key.lower())]
        total += len(key) + len(str(value))
    if total > 256 * 1024:  # TotalAnnotationSizeLimitB
        out.append(too_long(path, 256 * 1024))
    return out


def validate_object_meta(meta: dict[str, Any], name_check: Any = is_dns1123_subdomain) -> list[FieldError]:
    out: list[FieldError] = []
    name = meta.get("name") or ""
    if not name:
        out.append(required("metadata.name", "name or generateName is required"))
    else:
        out += [invalid("metadata.name", name, m) for m in name_check(name)]
    out += validate_labels(meta.get("labels"), "metadata.labels")
    out += validate_annotations(meta.get("annotations"), "metadata.annotations")
    return out


# -- resources ---------------------------------------------------------------------------------------
_STANDARD_CONTAINER = {"cpu", "memory", "ephemeral-storage"}


def _is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def _overcommit_allowed(name: str) -> bool:
    """``helper.IsOvercommitAllowed``: native and not hugepages; every extended resource must not overcommit."""
    return _is_native(name) and not name.startswith("hugepages-")


def _fmt_quantity(value: Any) -> str:
    return str(value)


def validate_resource_name(name: str, path: str) -> list[FieldError]:
    out = [invalid(path, name, m) for m in is_label_key(name)]
    if "/" not in name:
        if name not in _STANDARD_CONTAINER and not name.startswith("hugepages-"):
            out.append(invalid(path, name, "must be a standard resource for containers"))
    elif not _is_native(name) and name.startswith("requests."):
        out.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return out


def validate_quantity_value(name: str, value: Decimal, raw: Any, path: str) -> list[FieldError]:
    out = []
    if value < 0:
        out.append(invalid(path, _fmt_quantity(raw), "must be greater than or equal to 0"))
    if not _is_native(name) and value != value.to_integral_value():  # IsIntegerResourceName
        out.append(invalid(path, _fmt_quantity(raw), "must be an integer"))
    return out


def validate_resources(resources: Any, path: str) -> list[FieldError]:
    """``ValidateContainerResourceRequirements``: names, quantities, request <= limit, extended ones equal."""
    out: list[FieldError] = []
    resources = resources or {}
    limits = resources.get("limits") or {}
    requests = resources.get("requests") or {}
    parsed_limits: dict[str, Decimal] = {}
    for name, raw in limits.items():
        p = f"{path}.limits[{name}]"
        out += validate_resource_name(name, p)
        parsed_limits[name] = parse_quantity(raw)
        out += validate_quantity_value(name, parsed_limits[name], raw, p)
    for name, raw in requests.items():
        p = f"{path}.requests[{name}]"
        out += validate_resource_name(name, p)
        value = parse_quantity(raw)
        out += validate_quantity_value(name, value, raw, p)
        if name in parsed_limits:
            limit = parsed_limits[name]
            if value != limit and not _overcommit_allowed(name):
                out.append(
                    invalid(f"{path}.requests", _fmt_quantity(raw), f"must be equal to {name} limit of {limits[name]}")
                )
            elif value > limit:
                out.append(
                    invalid(
                        f"{path}.requests",
                        _fmt_quantity(raw),
                        f"must be less than or equal to {name} limit of {limits[name]}",
                    )
                )
        elif not _overcommit_allowed(name):
            out.append(required(f"{path}.limits", "Limit must be set for non overcommitable resources"))
    return out


# -- containers ----------------------------------------------------------------------------------------
def validate_env(env: Any, path: str) -> list[FieldError]:
    out: list[FieldError] = []
    for i, var in enumerate(env or []):
        p = f"{path}[{i}]"
        name = var.get("name") or ""
        if not name:
            out.append(required(f"{p}.name"))
        else:
            out += [invalid(f"{p}.name", name, m) for m in is_env_var_name(name)]
        source = var.get("valueFrom")
        if source is not None:
            kinds = [
                k
                for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef", "fileKeyRef")
                if source.get(k)
            ]
            if not kinds:
                out.append(
                    invalid(
                        f"{p}.valueFrom",
                        "",
                        "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
                    )
                )
            elif var.get("value"):
                out.append(invalid(f"{p}.valueFrom", "", "may not be specified when `value` is not empty"))
            elif len(kinds) > 1:
                out.append(invalid(f"{p}.valueFrom", "", "may not have more than one field specified at a time"))
            for kind in ("secretKeyRef", "configMapKeyRef"):
                ref = source.get(kind)
                if ref is not None:
                    if not ref.get("name"):
                        out.append(required(f"{p}.valueFrom.{kind}.name"))
                    if not ref.get("key"):
                        out.append(required(f"{p}.valueFrom.{kind}.key"))
    return out


def validate_mounts(mounts: Any, volumes: set[str], path: str) -> list[FieldError]:
    out: list[FieldError] = []
    seen: set[str] = set()
    for i, mount in enumerate(mounts or []):
        p = f"{path}[{i}]"
        name = mount.get("name") or ""
        if not name:
            out.append(required(f"{p}.name"))
        elif name not in volumes:
            out.append(field_not_found(f"{p}.name", name))
        mount_path = mount.get("mountPath") or ""
        if not mount_path:
            out.append(required(f"{p}.mountPath"))
        if mount_path in seen:
            out.append(invalid(f"{p}.mountPath", mount_path, "must be unique"))
        seen.add(mount_path)
        sub = mount.get("subPath") or ""
        if sub.startswith("/"):
            out.append(invalid(f"{path}.subPath", sub, "must be a relative path"))
        if ".." in sub.split("/"):
            out.append(invalid(f"{path}.subPath", sub, "must not contain '..'"))
    return out


def validate_containers(spec: dict[str, Any], volumes: set[str]) -> list[FieldError]:
    out: list[FieldError] = []
    names: set[str] = set()
    groups = [
        ("spec.initContainers", spec.get("initContainers") or []),
        ("spec.containers", spec.get("containers") or []),
    ]
    if not groups[1][1]:
        out.append(required("spec.containers"))
    for base, containers in groups:
        for i, c in enumerate(containers):
            p = f"{base}[{i}]"
            name = c.get("name") or ""
            if not name:
                out.append(required(f"{p}.name"))
            else:
                out += [invalid(f"{p}.name", name, m) for m in is_dns1123_label(name)]
                if name in names:
                    out.append(duplicate(f"{p}.name", name))
                names.add(name)
            if not (c.get("image") or "").strip():
                out.append(required(f"{p}.image"))
            out += validate_env(c.get("env"), f"{p}.env")
            out += validate_mounts(c.get("volumeMounts"), volumes, f"{p}.volumeMounts")
            out += validate_resources(c.get("resources"), f"{p}.resources")
            policy = c.get("terminationMessagePolicy")
            if policy not in (None, "File", "FallbackToLogsOnError"):
                out.append(not_supported(f"{p}.terminationMessagePolicy", policy, ["File", "FallbackToLogsOnError"]))
            pull = c.get("imagePullPolicy")
            if pull not in (None, "Always", "IfNotPresent", "Never"):
                out.append(not_supported(f"{p}.imagePullPolicy", pull, ["Always", "IfNotPresent", "Never"]))
    return out


# -- volumes -------------------------------------------------------------------------------------------
_VOLUME_SOURCES = set(
    "emptyDir persistentVolumeClaim secret configMap projected downwardAPI ephemeral csi hostPath nfs image iscsi "
    "glusterfs rbd cephfs fc azureFile azureDisk gcePersistentDisk awsElasticBlockStore gitRepo flexVolume cinder "
    "flocker vsphereVolume quobyte photonPersistentDisk portworxVolume scaleIO storageos".split()
)


def validate_volumes(volumes: Any) -> tuple[set[str], list[FieldError]]:
    out: list[FieldError] = []
    names: set[str] = set()
    for i, vol in enumerate(volumes or []):
        p = f"spec.volumes[{i}]"
        name = vol.get("name") or ""
        if not name:
            out.append(required(f"{p}.name"))
        else:
            out += [invalid(f"{p}.name", name, m) for m in is_dns1123_label(name)]
            if name in names:
                out.append(duplicate(f"{p}.name", name))
        names.add(name)
        sources = [k for k in vol if k in _VOLUME_SOURCES]
        if not sources:
            out.append(required(p, "must specify a volume type"))
        elif len(sources) > 1:
            out.append(field_forbidden(f"{p}.{sources[1]}", "may not specify more than 1 volume type"))
        claim = vol.get("persistentVolumeClaim")
        if claim is not None and not claim.get("claimName"):
            out.append(required(f"{p}.persistentVolumeClaim.claimName"))
        for kind, key in (("secret", "secretName"), ("configMap", "name")):
            source = vol.get(kind)
            if source is not None and not source.get(key):
                out.append(required(f"{p}.{kind}.{key}"))
        empty = vol.get("emptyDir")
        if empty and empty.get("medium") not in (None, "", "Memory"):
            out.append(not_supported(f"{p}.emptyDir.medium", empty.get("medium"), ["", "Memory"]))
    return names, out


# -- scheduling ----------------------------------------------------------------------------------------
_TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]


def validate_tolerations(tolerations: Any, path: str = "spec.tolerations") -> list[FieldError]:
    out: list[FieldError] = []
    for i, t in enumerate(tolerations or []):
        p = f"{path}[{i}]"
        key, op, value, effect = (
            t.get("key") or "",
            t.get("operator") or "",
            t.get("value") or "",
            t.get("effect") or "",
        )
        if key:
            out += [invalid(f"{p}.key", key, m) for m in is_label_key(key)]
        if not key and op != "Exists":
            out.append(
                invalid(
                    f"{p}.operator",
                    op,
                    'operator must be Exists when `key` is empty, which means "match all values and all keys"',
                )
            )
        if t.get("tolerationSeconds") is not None and effect != "NoExecute":
            out.append(invalid(f"{p}.effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if op in ("", "Equal"):
            errs = is_label_value(value)
            if errs:
                out.append(invalid(f"{p}.operator", value, ";".join(errs)))
        elif op == "Exists":
            if value:
                out.append(invalid(f"{p}.operator", t, "value must be empty when `operator` is 'Exists'"))
        else:
            out.append(not_supported(f"{p}.operator", op, ["Equal", "Exists"]))
        if effect and effect not in _TAINT_EFFECTS:
            out.append(not_supported(f"{p}.effect", effect, _TAINT_EFFECTS))
    return out


def _node_requirement(rq: dict[str, Any], path: str) -> list[FieldError]:
    op, values = rq.get("operator"), rq.get("values") or []
    out: list[FieldError] = []
    if op in ("In", "NotIn"):
        if not values:
            out.append(required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
    elif op in ("Exists", "DoesNotExist"):
        if values:
            out.append(
                field_forbidden(f"{path}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
            )
    elif op in ("Gt", "Lt"):
        if len(values) != 1:
            out.append(required(f"{path}.values", "must be specified single value when `operator` is 'Lt' or 'Gt'"))
    else:
        out.append(invalid(f"{path}.operator", op, "not a valid selector operator"))
    out += [invalid(f"{path}.key", rq.get("key") or "", m) for m in is_label_key(rq.get("key") or "")]
    return out


def _node_selector_term(term: dict[str, Any], path: str) -> list[FieldError]:
    out: list[FieldError] = []
    for j, rq in enumerate(term.get("matchExpressions") or []):
        out += _node_requirement(rq, f"{path}.matchExpressions[{j}]")
    return out


def _label_selector(selector: dict[str, Any] | None, path: str) -> list[FieldError]:
    """``metav1validation.ValidateLabelSelector``."""
    out: list[FieldError] = []
    if selector is None:
        return out
    for j, rq in enumerate(selector.get("matchExpressions") or []):
        p = f"{path}.matchExpressions[{j}]"
        op, values = rq.get("operator"), rq.get("values") or []
        if op in ("In", "NotIn"):
            if not values:
                out.append(required(f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"))
        elif op in ("Exists", "DoesNotExist"):
            if values:
                out.append(
                    field_forbidden(f"{p}.values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
                )
        else:
            out.append(invalid(f"{p}.operator", op, "not a valid selector operator"))
        out += [invalid(f"{p}.key", rq.get("key") or "", m) for m in is_label_key(rq.get("key") or "")]
    out += validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    return out


def _pod_affinity_term(term: dict[str, Any], path: str) -> list[FieldError]:
    out = _label_selector(term.get("labelSelector"), f"{path}.labelSelector")
    topology = term.get("topologyKey") or ""
    if not topology:
        out.append(required(f"{path}.topologyKey", "can not be empty"))
    else:
        out += [invalid(f"{path}.topologyKey", topology, m) for m in is_label_key(topology)]
    return out


def validate_affinity(affinity: Any) -> list[FieldError]:
    out: list[FieldError] = []
    if not affinity:
        return out
    node = affinity.get("nodeAffinity") or {}
    p = "spec.affinity.nodeAffinity"
    req = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if req is not None:
        terms = req.get("nodeSelectorTerms") or []
        if not terms:
            out.append(
                required(
                    f"{p}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms",
                    "must have at least one node selector term",
                )
            )
        for i, term in enumerate(terms):
            out += _node_selector_term(
                term, f"{p}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[{i}]"
            )
    for i, pref in enumerate(node.get("preferredDuringSchedulingIgnoredDuringExecution") or []):
        pp = f"{p}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
        weight = pref.get("weight")
        if not isinstance(weight, int) or not 1 <= weight <= 100:
            out.append(invalid(f"{pp}.weight", weight, "must be in the range 1-100"))
        out += _node_selector_term(pref.get("preference") or {}, f"{pp}.preference")
    for kind in ("podAffinity", "podAntiAffinity"):
        block = affinity.get(kind) or {}
        p = f"spec.affinity.{kind}"
        for i, term in enumerate(block.get("requiredDuringSchedulingIgnoredDuringExecution") or []):
            out += _pod_affinity_term(term, f"{p}.requiredDuringSchedulingIgnoredDuringExecution[{i}]")
        for i, pref in enumerate(block.get("preferredDuringSchedulingIgnoredDuringExecution") or []):
            pp = f"{p}.preferredDuringSchedulingIgnoredDuringExecution[{i}]"
            weight = pref.get("weight")
            if not isinstance(weight, int) or not 1 <= weight <= 100:
                out.append(invalid(f"{pp}.weight", weight, "must be in the range 1-100"))
            out += _pod_affinity_term(pref.get("podAffinityTerm") or {}, f"{pp}.podAffinityTerm")
    return out


def validate_pod(obj: dict[str, Any]) -> list[FieldError]:
    """``ValidatePodCreate``: metadata, then ``ValidatePodSpec``."""
    spec = obj.get("spec") or {}
    out = validate_object_meta(obj.get("metadata") or {})
    volume_names, volume_errors = validate_volumes(spec.get("volumes"))
    out += volume_errors
    out += validate_containers(spec, volume_names)
    policy = spec.get("restartPolicy")
    if policy not in (None, "Always", "OnFailure", "Never"):
        out.append(not_supported("spec.restartPolicy", policy, ["Always", "OnFailure", "Never"]))
    out += validate_labels(spec.get("nodeSelector"), "spec.nodeSelector")
    out += validate_tolerations(spec.get("tolerations"))
    out += validate_affinity(spec.get("affinity"))
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and not (isinstance(deadline, int) and 1 <= deadline <= 2147483647):
        out.append(invalid("spec.activeDeadlineSeconds", deadline, "must be between 1 and 2147483647, inclusive"))
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is not None and (not isinstance(grace, int) or grace < 0):
        out.append(invalid("spec.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0"))
    account = spec.get("serviceAccountName")
    if account:
        out += [invalid("spec.serviceAccountName", account, m) for m in is_dns1123_subdomain(account)]
    context = spec.get("securityContext") or {}
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        value = context.get(key)
        if value is not None and not (isinstance(value, int) and 0 <= value <= 0xFFFFFFFF):
            out.append(invalid(f"spec.securityContext.{key}", value, "must be between 0 and 4294967295, inclusive"))
    change = context.get("fsGroupChangePolicy")
    if change not in (None, "OnRootMismatch", "Always"):
        out.append(not_supported("spec.securityContext.fsGroupChangePolicy", change, ["OnRootMismatch", "Always"]))
    return out


def validate_claim(obj: dict[str, Any]) -> list[FieldError]:
    """``ValidatePersistentVolumeClaim``: name, access modes, a storage request."""
    out = validate_object_meta(obj.get("metadata") or {})
    spec = obj.get("spec") or {}
    modes = spec.get("accessModes") or []
    if not modes:
        out.append(required("spec.accessModes", "at least 1 access mode is required"))
    supported = ["ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"]
    for mode in modes:
        if mode not in supported:
            out.append(not_supported("spec.accessModes", mode, supported))
    requests = (spec.get("resources") or {}).get("requests") or {}
    if "storage" not in requests:
        out.append(required("spec.resources[storage]"))
    else:
        value = parse_quantity(requests["storage"])
        if value <= 0:
            out.append(invalid("spec.resources[storage]", str(requests["storage"]), "must be greater than zero"))
    return out
