"""``dsl.TaskConfig`` on the Kubernetes runner: the component receives its task's settings, and the
settings it only forwards (``apply_to_task=False``) stay off its own pod, as KFP's backend does.
Real ``dag.test()`` runs against the fake API server; pods from the real KubernetesPodOperator."""

from __future__ import annotations

import json
from typing import Any

from airflow_kfp import load_pipeline, to_dag
from airflow_kfp.operators.kubernetes import KubernetesComponentOperator
from tests.compat.compare import FIXTURES
from tests.kubernetes.fake import FakeKubernetes

SOURCE = (
    "import datetime\n"
    "from airflow_kfp import to_dag\n"
    "from tests.compat.source import ported\n"
    "dag = to_dag(ported('task_config').pipeline, dag_id='task-config-k8s', runner='kubernetes',\n"
    "             artifact_root={root!r}, start_date=datetime.datetime(2024, 1, 1))\n"
)


def _launcher_pod_settings(pod: dict[str, Any]) -> dict[str, Any]:
    spec = pod["spec"]
    base = next(c for c in spec["containers"] if c["name"] == "main")
    return {
        "env": sorted(e["name"] for e in base.get("env") or []),
        "resources": base.get("resources") or {},
        "nodeSelector": spec.get("nodeSelector") or {},
        "tolerations": spec.get("tolerations") or [],
        "claims": [
            v["persistentVolumeClaim"]["claimName"] for v in spec.get("volumes") or [] if "persistentVolumeClaim" in v
        ],
        "mounts": [m["mountPath"] for m in base.get("volumeMounts") or []],
    }


def test_task_config_reaches_the_component_and_forwarded_settings_stay_off_its_pod(
    dag_runner: Any, fake_k8s: FakeKubernetes, s3_root: str
) -> None:
    fake_k8s.add_claim("shared")  # made beforehand: a pod naming a missing claim stays Pending
    dag = dag_runner.load(SOURCE.format(root=s3_root))
    run = dag_runner.run(dag)
    assert run.state == "success", run.states
    launched = json.loads(run.manifest("launch")["parameters"]["Output"])
    assert launched["resources"] == {"limits": {"cpu": "2", "memory": "4Gi"}, "requests": {"cpu": "1"}}
    assert launched["env"] == [{"name": "MODE", "value": "train"}] and launched["mode_in_launcher"] is None
    assert launched["nodeSelector"] == {"pool": "training"}
    assert launched["tolerations"] == [{"effect": "NoSchedule", "key": "gpu", "operator": "Exists"}]
    assert launched["claims"] == ["shared"] and launched["mountPaths"] == ["/shared"]
    assert run.manifest("plain")["parameters"] == {"Output": "empty"}
    pod = next(p for p in fake_k8s.created if p["metadata"]["labels"]["task_id"] == "launch")
    settings = _launcher_pod_settings(pod)
    assert "MODE" not in settings["env"]  # ENV forwarded only
    assert settings["resources"] == {} and settings["nodeSelector"] == {} and settings["tolerations"] == []
    assert settings["claims"] == ["shared"] and "/shared" in settings["mounts"]  # KUBERNETES_VOLUMES applied too


def test_compiled_yaml_builds_the_same_launcher_pod(monkeypatch: Any) -> None:
    monkeypatch.setenv("AIRFLOW__KFP__ARTIFACT_ROOT", "s3://bucket/root")
    dag = to_dag(load_pipeline(FIXTURES / "task_config.yaml"), runner="kubernetes")
    op = dag.get_task("launch")
    assert isinstance(op, KubernetesComponentOperator)
    from kubernetes.client import ApiClient

    pod = ApiClient().sanitize_for_serialization(op.build_pod_request_obj(None, dry_run=True))
    settings = _launcher_pod_settings(pod)
    assert "MODE" not in settings["env"]
    assert settings["resources"] == {} and settings["nodeSelector"] == {} and settings["tolerations"] == []
    assert settings["claims"] == ["shared"] and "/shared" in settings["mounts"]
