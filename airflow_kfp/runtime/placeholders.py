"""Resolve KFP placeholders in a container component's command and args.

The strings are KFP's own (``{{$.inputs.parameters['x']}}``, ``{"Concat": [...]}``,
``{"IfPresent": {...}}``) so a component compiled by the kfp SDK resolves the same way here.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.core.artifacts import uri_to_local_path
from airflow_kfp.core.errors import AirflowKfpError

PIPELINE_JOB_NAME = "pipeline_job_name"
PIPELINE_JOB_RESOURCE_NAME = "pipeline_job_resource_name"
PIPELINE_JOB_UUID = "pipeline_job_uuid"
PIPELINE_TASK_NAME = "pipeline_task_name"
PIPELINE_TASK_UUID = "pipeline_task_uuid"
PIPELINE_ROOT = "pipeline_root"
PIPELINE_JOB_CREATE_TIME_UTC = "pipeline_job_create_time_utc"
PIPELINE_JOB_SCHEDULE_TIME_UTC = "pipeline_job_schedule_time_utc"
PIPELINE_CONTEXT_KEYS = (
    PIPELINE_JOB_NAME,
    PIPELINE_JOB_RESOURCE_NAME,
    PIPELINE_JOB_UUID,
    PIPELINE_TASK_NAME,
    PIPELINE_TASK_UUID,
    PIPELINE_ROOT,
    PIPELINE_JOB_CREATE_TIME_UTC,
    PIPELINE_JOB_SCHEDULE_TIME_UTC,
)
"""Every ``{{$.pipeline_*}}`` placeholder the DSL exports; the operator gives each a value per run
(``pipeline_context``), the same in commands, args and argument values."""
WORKSPACE_PATH = "workspace_path"
"""``dsl.WORKSPACE_PATH_PLACEHOLDER``: in the context only of a task that mounts the run's workspace."""


KUBERNETES_NAME_MAX = 63
"""A DNS-1123 label's length limit: KFP's run resource name is an Argo Workflow's name."""
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""The characters Kubernetes' ``generateName`` appends (``k8s.io/apimachinery`` ``rand.String``)."""
_SUFFIX_LENGTH = 8
_RUN_NAMESPACE = uuid.UUID("6f2c3c5e-5a43-4c1e-9d43-0f3b3f6b7a91")
"""Namespace of the run UUIDs this package derives (:func:`job_uuid`)."""


def kubernetes_name_prefix(name: str, room: int) -> str:
    """``name`` as the start of a DNS-1123 label: lower case ``[a-z0-9-]``, starting with a letter or
    digit, at most ``room`` characters, never ending in ``-`` (a suffix follows after one)."""
    cleaned = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")
    return cleaned[:room].rstrip("-") or "pipeline"


def job_resource_name(pipeline_name: str, run_key: str) -> str:
    """KFP's ``{{$.pipeline_job_resource_name}}``: the run's Kubernetes object name, which KFP's backend
    makes from ``generateName: <pipeline name>-`` (``argocompiler``: the name after its last ``/``), so
    ``<pipeline-name>-<suffix>``. The suffix is derived from ``run_key`` (one run: the same name in every
    task and every retry; another run: another name), in Kubernetes' generateName alphabet; the whole
    is a DNS-1123 label of at most 63 characters, usable as a Kubernetes name or a path segment."""
    digest = int.from_bytes(hashlib.sha256(run_key.encode("utf-8", "surrogatepass")).digest(), "big")
    suffix = ""
    for _ in range(_SUFFIX_LENGTH):
        digest, at = divmod(digest, len(_SUFFIX_ALPHABET))
        suffix += _SUFFIX_ALPHABET[at]
    base = pipeline_name.rsplit("/", 1)[-1]
    return f"{kubernetes_name_prefix(base, KUBERNETES_NAME_MAX - _SUFFIX_LENGTH - 1)}-{suffix}"


def job_uuid(run_key: str) -> str:
    """KFP's ``{{$.pipeline_job_uuid}}``: the run's UUID (stable for one run, distinct across runs)."""
    return str(uuid.uuid5(_RUN_NAMESPACE, run_key))


def pipeline_placeholder(key: str) -> str:
    """The placeholder string for one context key, e.g. ``{{$.pipeline_root}}``."""
    return "{{$." + key + "}}"


_PIPELINE_PLACEHOLDER = re.compile(r"\{\{\$\.(pipeline_[A-Za-z_]+|workspace_path)\}\}")


def substitute_pipeline_placeholders(value: str, context: dict[str, str] | Any) -> str:
    """``value`` with every ``{{$.pipeline_*}}`` placeholder the context knows replaced (argument
    values; in commands and args an unknown one is an error, see :class:`Resolver`)."""
    return _PIPELINE_PLACEHOLDER.sub(lambda m: str(context[m[1]]) if m[1] in context else m[0], value)


_PLACEHOLDER = re.compile(r"\{\{\$(?P<body>[^{}]*)\}\}")
_INPUT_PARAM = re.compile(r"^\.inputs\.parameters\['(?P<name>[^']+)'\]$")
_IO_ARTIFACT = re.compile(r"^\.(?P<io>inputs|outputs)\.artifacts\['(?P<name>[^']+)'\]\.(?P<attr>path|uri|metadata)$")
_OUTPUT_PARAM = re.compile(r"^\.outputs\.parameters\['(?P<name>[^']+)'\]\.output_file$")


class PlaceholderError(AirflowKfpError):
    pass


class Resolver:
    def __init__(self, executor_input: dict[str, Any], context: dict[str, str]) -> None:
        self.executor_input = executor_input
        self.context = context

    def _artifact(self, io: str, name: str) -> dict[str, Any]:
        entries = self.executor_input.get(io, {}).get("artifacts", {}).get(name, {}).get("artifacts", [])
        if not entries:
            raise PlaceholderError(f"the component's args use {io} artifact '{name}', which it does not have")
        return dict(entries[0])

    def _one(self, body: str) -> str:
        if body == "":
            return json.dumps(self.executor_input)
        if body == ".outputs.output_file":
            return str(self.executor_input["outputs"]["outputFile"])
        if body.startswith(".pipeline_") or body == "." + WORKSPACE_PATH:
            key = body[1:]
            if key not in self.context:
                raise PlaceholderError(f"unknown placeholder {{{{${body}}}}}")
            return self.context[key]
        if m := _INPUT_PARAM.match(body):
            values = self.executor_input.get("inputs", {}).get("parameterValues", {})
            if m["name"] not in values:
                raise PlaceholderError(f"no value for input parameter '{m['name']}'")
            return ptypes.to_text(values[m["name"]])
        if m := _IO_ARTIFACT.match(body):
            artifact = self._artifact(m["io"], m["name"])
            if m["attr"] == "uri":
                return str(artifact.get("uri", ""))
            if m["attr"] == "metadata":
                return json.dumps(artifact.get("metadata") or {})
            return str(artifact.get("path") or uri_to_local_path(str(artifact.get("uri", ""))))
        if m := _OUTPUT_PARAM.match(body):
            entry = self.executor_input.get("outputs", {}).get("parameters", {}).get(m["name"])
            if entry is None:
                raise PlaceholderError(
                    f"the component's args use output parameter '{m['name']}', which it does not have"
                )
            return str(entry["outputFile"])
        raise PlaceholderError(f"unknown placeholder {{{{${body}}}}}")

    def _present(self, name: str) -> bool:
        inputs = self.executor_input.get("inputs", {})
        return name in inputs.get("parameterValues", {}) or name in inputs.get("artifacts", {})

    def _structured(self, node: Any) -> list[str]:
        if isinstance(node, str):
            return self.resolve_arg(node)
        if isinstance(node, dict) and "Concat" in node:
            return ["".join("".join(self._structured(part)) for part in node["Concat"])]
        if isinstance(node, dict) and "IfPresent" in node:
            spec = node["IfPresent"]
            branch = spec.get("Then") if self._present(spec["InputName"]) else spec.get("Else")
            if branch is None:
                return []
            items = branch if isinstance(branch, list) else [branch]
            return [out for item in items for out in self._structured(item)]
        raise PlaceholderError(f"cannot resolve {node!r}")

    def resolve_arg(self, arg: str) -> list[str]:
        """One arg resolves to one string, or to zero or more for an IfPresent."""
        stripped = arg.strip()
        if stripped.startswith("{") and ('"Concat"' in stripped or '"IfPresent"' in stripped):
            try:
                node = json.loads(stripped)
            except json.JSONDecodeError:
                node = None
            if isinstance(node, dict):
                return self._structured(node)
        return [_PLACEHOLDER.sub(lambda m: self._one(m["body"]), arg)]

    def resolve(self, args: list[str]) -> list[str]:
        return [out for arg in args for out in self.resolve_arg(arg)]


def substitute_input_parameters(value: Any, parameters: Mapping[str, Any]) -> Any:
    """``{{$.inputs.parameters['x']}}`` in the keys and values of a structure (KFP's importer metadata
    computed at run time): a value that is exactly one placeholder takes the input's value as it is,
    any other string gets the values as text."""
    resolver = Resolver({"inputs": {"parameterValues": dict(parameters)}}, {})

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            whole = _PLACEHOLDER.fullmatch(node)
            single = _INPUT_PARAM.match(whole["body"]) if whole else None
            if single is not None and single["name"] in parameters:
                return parameters[single["name"]]
            return _PLACEHOLDER.sub(lambda m: resolver._one(m["body"]), node) if "{{$" in node else node
        if isinstance(node, dict):
            return {str(walk(k)): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(value)
