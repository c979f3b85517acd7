"""Run a built pod's containers as local processes, the way a kubelet would run them.

Only the pod's volume paths move: the ``/kfp`` work volume and the ``/airflow/xcom`` volume become
temporary folders (through the variables the runtime reads), and the termination-message file
becomes a local file. Command, arguments and every literal environment value come from the pod
object unchanged. No AWS credentials are passed: the pod must manage with its presigned URLs.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes.client import models as k8s

XCOM_SIDECAR = "airflow-xcom-sidecar"


@dataclass
class PodOutcome:
    exit_codes: dict[str, int] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    termination: dict[str, str] = field(default_factory=dict)
    xcom: dict[str, Any] | None = None


def container_env(container: k8s.V1Container, root: Path) -> dict[str, str]:
    env = {"PATH": os.environ["PATH"], "HOME": str(root / "home"), "LANG": "C.UTF-8"}
    for var in container.env or []:
        if var.value_from is None:  # Secret / ConfigMap references need a cluster
            value = var.value or ""
            if value == "/kfp" or value.startswith("/kfp/"):  # the work volume, mounted at root/kfp here
                value = str(root / "kfp") + value[len("/kfp") :]
            env[var.name] = value
    env["AIRFLOW_KFP_WORKDIR"] = str(root / "kfp")
    env["AIRFLOW_KFP_XCOM_DIR"] = str(root / "xcom")
    env["AIRFLOW_KFP_TERMINATION_LOG"] = str(root / f"termination-{container.name}")
    return env


def _start(container: k8s.V1Container, root: Path) -> subprocess.Popen[str]:
    argv = [*(container.command or []), *(container.args or [])]
    return subprocess.Popen(
        argv, env=container_env(container, root), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def run_pod(pod: k8s.V1Pod, root: Path, timeout: float = 180) -> PodOutcome:
    """Init containers one after another, then the other containers side by side (no XCom sidecar)."""
    (root / "home").mkdir(parents=True, exist_ok=True)
    outcome = PodOutcome()

    def finish(name: str, proc: subprocess.Popen[str]) -> None:
        out, _ = proc.communicate(timeout=timeout)
        outcome.exit_codes[name] = proc.returncode
        outcome.logs[name] = out
        term = root / f"termination-{name}"
        if term.exists():
            outcome.termination[name] = term.read_text()

    for container in pod.spec.init_containers or []:
        finish(container.name, _start(container, root))
        if outcome.exit_codes[container.name] != 0:
            return outcome
    running = [(c.name, _start(c, root)) for c in pod.spec.containers if c.name != XCOM_SIDECAR]
    for name, proc in running:
        finish(name, proc)
    result = root / "xcom" / "return.json"
    if result.exists():
        outcome.xcom = json.loads(result.read_text())
    return outcome
