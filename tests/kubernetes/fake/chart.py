"""The chart's templates rendered without ``helm``, for the fake API server's RBAC and for quick checks.

A small renderer for the subset of Go templates the chart uses (``{{ .Values.x }}``, ``if``/``with``/
``end``, ``toYaml . | nindent N``, ``quote``); any other action raises, so a template the renderer does not
understand cannot pass silently. ``tests/kubernetes/test_helm.py`` checks that a real ``helm template``
renders the same objects (CI installs helm).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

CHART = Path(__file__).resolve().parents[3] / "helm" / "airflow-kfp"
_TAG = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


def _lookup(values: dict[str, Any], path: str, dot: Any) -> Any:
    if path == ".":
        return dot
    node: Any = {"Values": values, "Release": {"Namespace": values.get("_releaseNamespace", "default")}}
    for part in path.lstrip(".").split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def render(template: str, values: dict[str, Any]) -> str:
    """The Go-template subset the chart uses; an unknown action raises so a test cannot miss it."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    for m in _TAG.finditer(template):
        text = template[pos : m.start()]
        if m.group(1):
            text = text.rstrip()
        tokens.append(("text", text))
        tokens.append(("tag", m.group(2)))
        pos = m.end()
        if m.group(3):
            rest = template[pos:]
            pos += len(rest) - len(rest.lstrip())
    tokens.append(("text", template[pos:]))

    def run(i: int, dot: Any, out: list[str], emit: bool) -> int:
        while i < len(tokens):
            kind, value = tokens[i]
            if kind == "text":
                if emit:
                    out.append(value)
                i += 1
                continue
            if value.startswith("/*") and value.endswith("*/"):
                i += 1
                continue
            if value == "end":
                return i + 1
            block = re.fullmatch(r"(if|with) (\.[\w.]*)", value)
            if block:
                target = _lookup(values, block.group(2), dot)
                i = run(i + 1, target if block.group(1) == "with" else dot, out, emit and bool(target))
                continue
            pipe = re.fullmatch(r"toYaml (\.[\w.]*) \| nindent (\d+)", value)
            if pipe:
                if emit:
                    dumped = yaml.safe_dump(_lookup(values, pipe.group(1), dot), default_flow_style=False).rstrip("\n")
                    pad = " " * int(pipe.group(2))
                    out.append("\n" + "\n".join(pad + line for line in dumped.splitlines()))
                i += 1
                continue
            quoted = re.fullmatch(r"(\.[\w.]+) \| quote", value)
            if quoted:
                if emit:
                    out.append('"' + str(_lookup(values, quoted.group(1), dot)) + '"')
                i += 1
                continue
            if re.fullmatch(r"\.[\w.]+", value):
                if emit:
                    out.append(str(_lookup(values, value, dot)))
                i += 1
                continue
            raise AssertionError(f"template action {value!r} is not supported by this renderer")
        return i

    out: list[str] = []
    run(0, None, out, True)
    return "".join(out)


def chart_values(**overrides: Any) -> dict[str, Any]:
    """The chart's values.yaml with dotted-key overrides (``componentPods.create=False``)."""
    values: dict[str, Any] = yaml.safe_load((CHART / "values.yaml").read_text())
    for key, value in overrides.items():
        node = values
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return values


def objects(values: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Every object the chart's templates render, in file order."""
    values = chart_values() if values is None else values
    docs: list[dict[str, Any]] = []
    for path in sorted((CHART / "templates").glob("*.yaml")):
        docs += [d for d in yaml.safe_load_all(render(path.read_text(), values)) if d]
    return docs


def launcher_role(
    namespace: str, worker_namespace: str = "airflow", worker_account: str = "airflow-worker"
) -> dict[str, Any]:
    """The Role and RoleBinding the chart grants the worker in the pods' namespace."""
    values = chart_values(
        podNamespace=namespace, **{"worker.namespace": worker_namespace, "worker.serviceAccountName": worker_account}
    )
    docs = objects(values)
    role = next(d for d in docs if d["kind"] == "Role")
    binding = next(d for d in docs if d["kind"] == "RoleBinding")
    return {"role": role, "binding": binding}
