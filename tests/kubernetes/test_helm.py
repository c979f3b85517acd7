"""The Helm pieces, checked as far as a machine without ``helm`` allows.

Checked: every file parses as YAML; ``templates/rbac.yaml`` rendered by a small renderer for the subset
of Go templates it uses (``{{ .Values.x }}``, ``if``/``with``/``end``, ``toYaml . | nindent N``; anything
else fails the test) with the chart's default values and with overrides, and each object validated
against the Kubernetes 1.30 schemas (kubernetes-validate); the RBAC is least privilege; the values for
the official Airflow chart wire every ``[kfp]`` key that exists and the store connection from a Secret.
Not checked: ``helm lint``/``helm template`` themselves, the official chart's own rendering of
``airflow-values.yaml``, and the Dockerfile build (no helm, docker or network here).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

CHART = Path(__file__).resolve().parents[2] / "helm" / "airflow-kfp"
_TAG = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)


def _lookup(values: dict[str, Any], path: str, dot: Any) -> Any:
    if path == ".":
        return dot
    node: Any = {"Values": values}
    for part in path.lstrip(".").split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def render(template: str, values: dict[str, Any]) -> str:
    """The Go-template subset the chart uses; an unknown action raises so the test cannot miss it."""
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
            template_rest = template[pos:]
            pos += len(template_rest) - len(template_rest.lstrip())
    tokens.append(("text", template[pos:]))

    def run(i: int, dot: Any, out: list[str], emit: bool) -> int:
        while i < len(tokens):
            kind, value = tokens[i]
            if kind == "text":
                if emit:
                    out.append(value)
                i += 1
                continue
            if value == "end":
                return i + 1
            block = re.fullmatch(r"(if|with) (\.[\w.]*)", value)
            if block:
                target = _lookup(values, block.group(2), dot)
                i = run(i + 1, target if block.group(1) == "with" else dot, out, emit and bool(target))
                continue
            pipe = re.fullmatch(r"toYaml \. \| nindent (\d+)", value)
            if pipe:
                if emit:
                    dumped = yaml.safe_dump(dot, default_flow_style=False).rstrip("\n")
                    pad = " " * int(pipe.group(1))
                    out.append("\n" + "\n".join(pad + line for line in dumped.splitlines()))
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


def objects(values: dict[str, Any]) -> list[dict[str, Any]]:
    text = render((CHART / "templates" / "rbac.yaml").read_text(), values)
    return [d for d in yaml.safe_load_all(text) if d]


def chart_values(**overrides: Any) -> dict[str, Any]:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for key, value in overrides.items():
        node = values
        *parents, leaf = key.split(".")
        for p in parents:
            node = node[p]
        node[leaf] = value
    return values


def test_every_file_is_yaml() -> None:
    for path in [CHART / "Chart.yaml", CHART / "values.yaml", CHART / "airflow-values.yaml"]:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path
    assert yaml.safe_load((CHART / "Chart.yaml").read_text())["apiVersion"] == "v2"


def test_rendered_rbac_is_valid_and_least_privilege() -> None:
    docs = objects(chart_values())
    for doc in docs:
        kubernetes_validate.validate(doc, "1.30", strict=True)
    kinds = {d["kind"]: d for d in docs}
    assert set(kinds) == {"Role", "RoleBinding", "ServiceAccount"}  # no ClusterRole: one namespace only
    role = kinds["Role"]
    assert role["metadata"]["namespace"] == "ml-pipelines"
    granted = {(r, v) for rule in role["rules"] for r in rule["resources"] for v in rule["verbs"]}
    assert {r for r, _ in granted} == {"pods", "pods/log", "pods/exec", "events"}
    assert all(rule["apiGroups"] == [""] for rule in role["rules"])
    assert ("pods", "create") in granted and ("pods/exec", "create") in granted and ("pods/log", "get") in granted
    assert not any(v in ("*", "escalate", "bind", "impersonate") for _, v in granted)
    binding = kinds["RoleBinding"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "airflow-worker", "namespace": "airflow"}]
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    sa = kinds["ServiceAccount"]
    assert sa["metadata"]["name"] == "kfp-component" and sa["automountServiceAccountToken"] is False
    assert all(s["name"] != "kfp-component" for s in binding["subjects"])  # component pods get no permission


def test_overrides_render() -> None:
    docs = objects(
        chart_values(
            podNamespace="gpu-jobs",
            **{"componentPods.annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}},
        )
    )
    sa = next(d for d in docs if d["kind"] == "ServiceAccount")
    assert sa["metadata"]["namespace"] == "gpu-jobs"
    assert sa["metadata"]["annotations"] == {"eks.amazonaws.com/role-arn": "arn:aws:iam::1:role/r"}
    assert [d["kind"] for d in objects(chart_values(**{"componentPods.create": False}))] == ["Role", "RoleBinding"]
    with pytest.raises(AssertionError, match="not supported"):
        render('{{ include "x" . }}', {})


def test_airflow_values_wire_kfp_settings_and_the_store_secret() -> None:
    from airflow_kfp.get_provider_info import get_provider_info

    values = yaml.safe_load((CHART / "airflow-values.yaml").read_text())
    known = set(get_provider_info()["config"]["kfp"]["options"])
    kfp = values["config"]["kfp"]
    assert set(kfp) <= known, set(kfp) - known
    assert kfp["runner"] == "kubernetes" and kfp["namespace"] == chart_values()["podNamespace"]
    assert kfp["service_account"] == chart_values()["componentPods"]["serviceAccountName"]
    conn = kfp["artifact_conn_id"]
    assert {
        "envName": f"AIRFLOW_CONN_{conn.upper()}",
        "secretName": "airflow-kfp-artifact-store",
        "secretKey": "connection",
    } in values["secret"]
    assert values["workers"]["serviceAccount"]["name"] == chart_values()["worker"]["serviceAccountName"]
    assert values["triggerer"]["serviceAccount"]["name"] == chart_values()["worker"]["serviceAccountName"]
    dockerfile = (CHART.parent / "Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:\$\{AIRFLOW_VERSION\}", dockerfile, re.M)
    assert re.search(r"^ARG AIRFLOW_VERSION=3\.3\.\d+$", dockerfile, re.M)
