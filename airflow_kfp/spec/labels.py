"""Kubernetes' syntax for label keys and values, annotation keys and extended resource names.

The API server refuses a pod that breaks these rules with 422 (``ValidatePodSpec`` /
``ValidateObjectMeta``), after the run has started; checking them when the DAG is parsed names the
pipeline, the task and the call to fix instead. Rules as in apimachinery's ``validation.IsQualifiedName``,
``IsValidLabelValue`` and ``IsDNS1123Subdomain``, and core's ``IsExtendedResourceName``.
"""

from __future__ import annotations

import re

_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
NAME_MAX = 63
PREFIX_MAX = 253


def qualified_name_problem(key: str) -> str | None:
    """Why ``key`` is not a qualified name (``[prefix/]name``: a label or annotation key), or None."""
    if not isinstance(key, str) or not key:
        return f"{key!r} is empty; a key is '[prefix/]name', e.g. 'team' or 'example.com/team'"
    prefix, slash, name = key.rpartition("/")
    if slash and not prefix:
        return f"{key!r} has an empty prefix before '/'"
    if prefix and (len(prefix) > PREFIX_MAX or not _DNS_SUBDOMAIN.match(prefix)):
        return (
            f"{key!r} has the prefix {prefix!r}, which is not a lower-case DNS subdomain (at most {PREFIX_MAX} "
            "characters of a-z, 0-9, '-' and '.')"
        )
    if len(name) > NAME_MAX or not _NAME.match(name):
        return (
            f"{key!r} has the name part {name!r}, which is not at most {NAME_MAX} characters of A-Z, a-z, 0-9, "
            "'-', '_' and '.' starting and ending with a letter or digit"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """Why ``value`` is not a label value (empty, or <= 63 of ``[A-Za-z0-9._-]``, alphanumeric ends), or None."""
    if not isinstance(value, str):
        return f"{value!r} is not a string"
    if value == "":
        return None
    if len(value) > NAME_MAX or not _NAME.match(value):
        hint = " ('/' is not allowed in a value)" if "/" in value else ""
        return (
            f"{value!r} is not a valid label value{hint}: at most {NAME_MAX} characters of A-Z, a-z, 0-9, '-', "
            "'_' and '.', starting and ending with a letter or digit"
        )
    return None


def check_labels(labels: dict[str, str], what: str) -> None:
    """Raise ValueError naming ``what`` (e.g. 'node selector') and the offending key or value."""
    for key, value in labels.items():
        problem = qualified_name_problem(key) or label_value_problem(value)
        if problem:
            raise ValueError(f"{what} {key}={value!r}: {problem}")


def check_annotation_keys(annotations: dict[str, str], what: str) -> None:
    for key in annotations:
        problem = qualified_name_problem(key)
        if problem:
            raise ValueError(f"{what} {key!r}: {problem}")


def extended_resource_problem(name: str) -> str | None:
    """Why ``name`` cannot be an extended resource name (``domain/name``, not ``kubernetes.io``), or None."""
    if "/" not in name:
        return f"{name!r} has no domain; an extended resource is named 'domain/name', e.g. 'nvidia.com/gpu'"
    prefix = name.rpartition("/")[0]
    if prefix == "kubernetes.io" or prefix.endswith(".kubernetes.io") or name.startswith("requests."):
        return f"{name!r} is in a domain Kubernetes reserves for its own resources"
    return qualified_name_problem(name)
