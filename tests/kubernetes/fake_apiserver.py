"""A small Kubernetes API server on 127.0.0.1 whose kubelet runs each pod's containers as local processes.

The real ``kubernetes`` client (urllib3 and websocket-client), ``kubernetes_asyncio`` (aiohttp) and the
real KubernetesPodOperator talk to it over HTTP exactly as they talk to a cluster: create, get, list by
label, patch and delete pods; read logs (``follow``, ``timestamps``, ``sinceSeconds``, ``tailLines``);
list and watch events; and ``exec`` over a ``v4.channel.k8s.io`` websocket, which is how KPO reads
``/airflow/xcom/return.json`` from its sidecar and then stops it.

The kubelet: a pod is scheduled onto one of the configured nodes (node selector, GPUs, CPU and memory
are checked, else it stays Pending as ``Unschedulable``), its images are "pulled" (an image listed in
``missing_images`` ends in ``ErrImagePull``/``ImagePullBackOff``), init containers run one after
another, then every container runs side by side; the pod ends ``Succeeded`` or ``Failed`` with each
container's exit code, reason and termination message, as Kubernetes reports them. A namespace quota
refuses a pod at creation with 403, as the quota admission plugin does.

No mount namespace: each volume is a folder under the pod's root (``emptyDir`` per pod, a
``persistentVolumeClaim`` per claim and shared by pods, Secrets and ConfigMaps written from
``secrets``/``config_maps``), and every mount path appearing in a container's command, arguments or
environment values is rewritten to that folder (longest mount first, on path boundaries), as is the
termination-message path. PersistentVolumeClaims are API objects too (create, get, list, delete; a
``quota`` key ``persistentvolumeclaims`` or ``requests.storage`` refuses a claim with 403, and
``forbidden`` names resources the caller's RBAC may not touch); a claim's folder goes with it when it is
deleted, and a pod may still mount a claim no one created (a claim made outside the test).
``pgrep`` in an exec session lists the container's own processes only, so the
sidecar's ``kill -2 $(pgrep ...)`` stops that sidecar and nothing else on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import json
import os
import re
import shutil
import signal
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web

XCOM_SIDECAR = "airflow-xcom-sidecar"
TERMINATION_DEFAULT = "/dev/termination-log"
_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {
    "": 1,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 1024,
    "Mi": 1024**2,
    "Gi": 1024**3,
    "Ti": 1024**4,
}


def quantity(value: Any) -> float:
    match = _QUANTITY.match(str(value).strip())
    if not match or match.group(2) not in _SUFFIX:
        raise ValueError(f"bad quantity {value!r}")
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def now_iso(fraction: bool = False) -> str:
    t = datetime.datetime.now(tz=datetime.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ")


def matches_selector(labels: dict[str, str], selector: str | None) -> bool:
    """Equality-based label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a`` (exists), ``!a``."""
    for term in filter(None, (selector or "").split(",")):
        term = term.strip()
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
        elif term not in labels:
            return False
    return True


def flag(value: str | None) -> bool:
    """Query booleans: the Python clients send ``True``, kubectl sends ``true``."""
    return (value or "").lower() in ("true", "1")


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def error(code: int, reason: str, message: str) -> web.Response:
    return web.json_response(status_body(code, reason, message), status=code)


@dataclass
class Node:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    allocatable: dict[str, str] = field(default_factory=lambda: {"cpu": "8", "memory": "32Gi", "pods": "110"})


@dataclass
class LogLine:
    at: datetime.datetime
    text: str


@dataclass
class Container:
    spec: dict[str, Any]
    init: bool
    state: dict[str, Any] = field(default_factory=lambda: {"waiting": {"reason": "ContainerCreating"}})
    logs: list[LogLine] = field(default_factory=list)
    proc: asyncio.subprocess.Process | None = None
    execs: set[asyncio.subprocess.Process] = field(default_factory=set)
    paths: dict[str, str] = field(default_factory=dict)
    root: Path = Path()
    started: bool = False

    @property
    def name(self) -> str:
        return str(self.spec["name"])

    @property
    def terminated(self) -> dict[str, Any] | None:
        return self.state.get("terminated")

    def status(self) -> dict[str, Any]:
        running = "running" in self.state
        return {
            "name": self.name,
            "image": self.spec.get("image", ""),
            "imageID": f"fake://{self.spec.get('image', '')}" if self.started else "",
            "containerID": f"fake://{self.name}" if self.started else None,
            "ready": running and not self.init,
            "started": running,
            "restartCount": 0,
            "state": self.state,
            "lastState": {},
        }


class FakePod:
    def __init__(self, cluster: FakeKubernetes, obj: dict[str, Any]) -> None:
        self.cluster = cluster
        self.obj = obj
        self.namespace = obj["metadata"]["namespace"]
        self.name = obj["metadata"]["name"]
        self.root = cluster.root / self.namespace / f"{self.name}-{obj['metadata']['uid'][:8]}"
        spec = obj["spec"]
        self.init = [Container(c, True) for c in spec.get("initContainers") or []]
        self.main = [Container(c, False) for c in spec.get("containers") or []]
        self.phase = "Pending"
        self.reason: str | None = None
        self.message: str | None = None
        self.conditions: dict[str, dict[str, Any]] = {}
        self.deleted = False
        self.changed = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    # -- the API object ------------------------------------------------------------------
    def containers(self) -> list[Container]:
        return [*self.init, *self.main]

    def container(self, name: str | None) -> Container | None:
        for c in self.containers():
            if c.name == name:
                return c
        return None

    def to_json(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "phase": self.phase,
            "conditions": list(self.conditions.values()),
            "qosClass": "Burstable",
        }
        if self.reason:
            status["reason"] = self.reason
        if self.message:
            status["message"] = self.message
        if "PodScheduled" in self.conditions and self.conditions["PodScheduled"]["status"] == "True":
            status.update(hostIP="127.0.0.1", podIP="127.0.0.1", startTime=self.obj["metadata"]["creationTimestamp"])
            status["initContainerStatuses"] = [c.status() for c in self.init] or None
            status["containerStatuses"] = [c.status() for c in self.main]
        return {**self.obj, "status": {k: v for k, v in status.items() if v is not None}}

    def touch(self) -> None:
        self.obj["metadata"]["resourceVersion"] = self.cluster.next_version()
        self.changed.set()
        self.changed = asyncio.Event()

    def condition(self, kind: str, ok: bool, reason: str | None = None, message: str | None = None) -> None:
        cond: dict[str, Any] = {"type": kind, "status": "True" if ok else "False", "lastTransitionTime": now_iso()}
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        self.conditions[kind] = cond

    # -- the kubelet -----------------------------------------------------------------------
    async def run(self) -> None:
        try:
            await self._run()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug in the fake must show, not hang the test
            self.phase, self.reason, self.message = "Failed", "FakeKubeletError", repr(exc)
            self.touch()
            raise

    async def _run(self) -> None:
        await asyncio.sleep(0)
        node, why = self.cluster.schedule(self.obj)
        if node is None:
            self.condition("PodScheduled", False, "Unschedulable", why)
            self.cluster.event(self, "Warning", "FailedScheduling", why)
            self.touch()
            return  # Pending until deleted, as with no autoscaler
        self.obj["spec"]["nodeName"] = node.name
        self.condition("PodScheduled", True)
        self.condition("Initialized", not self.init)
        self.condition("ContainersReady", False)
        self.condition("Ready", False)
        self.cluster.event(
            self, "Normal", "Scheduled", f"Successfully assigned {self.namespace}/{self.name} to {node.name}"
        )
        self.touch()
        self._volumes()
        deadline = self.obj["spec"].get("activeDeadlineSeconds")
        try:
            await asyncio.wait_for(self._containers(), timeout=deadline)
        except TimeoutError:
            await self.kill_all()
            self.phase, self.reason = "Failed", "DeadlineExceeded"
            self.message = f"Pod was active on the node longer than the specified deadline ({deadline}s)"
            self.cluster.event(self, "Normal", "DeadlineExceeded", self.message)
            self.touch()

    async def _containers(self) -> None:
        for c in [*self.init, *self.main]:
            image = c.spec.get("image", "")
            if image in self.cluster.missing_images:
                msg = f'Failed to pull image "{image}": rpc error: code = NotFound desc = {image}: not found'
                c.state = {"waiting": {"reason": "ErrImagePull", "message": msg}}
                self.cluster.event(self, "Warning", "Failed", msg, c)
                self.touch()
                await asyncio.sleep(0.2)
                c.state = {"waiting": {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}}
                self.cluster.event(self, "Normal", "BackOff", f'Back-off pulling image "{image}"', c)
                self.touch()
                return  # stays Pending, as kubelet keeps backing off
        for c in self.init:
            c.state = {"waiting": {"reason": "PodInitializing"}}
        for c in self.main:
            c.state = {"waiting": {"reason": "PodInitializing"}}
        self.touch()
        for c in self.init:
            code = await self._start_and_wait(c)
            if code != 0:
                for m in self.main:
                    m.state = {"waiting": {"reason": "PodInitializing"}}
                self.phase = "Failed"
                self.touch()
                return
        self.condition("Initialized", True)
        procs = [asyncio.ensure_future(self._start_and_wait(c)) for c in self.main]
        while not self.deleted and any("waiting" in c.state for c in self.main) and not all(p.done() for p in procs):
            await self.changed.wait()
        if not self.deleted:
            self.phase = "Running"
            self.condition("ContainersReady", True)
            self.condition("Ready", True)
            self.touch()
        codes = await asyncio.gather(*procs)
        self.condition("ContainersReady", False)
        self.condition("Ready", False)
        self.phase = "Succeeded" if all(code == 0 for code in codes) else "Failed"
        self.touch()

    def _volumes(self) -> None:
        """A folder per volume; every container's mounts map onto them."""
        dirs: dict[str, Path] = {}
        for vol in self.obj["spec"].get("volumes") or []:
            name = vol["name"]
            if "persistentVolumeClaim" in vol:
                path = self.cluster.root / "pvc" / self.namespace / vol["persistentVolumeClaim"]["claimName"]
            else:
                path = self.root / "volumes" / name
            path.mkdir(parents=True, exist_ok=True)
            source = vol.get("secret") or vol.get("configMap")
            if source is not None:
                store = self.cluster.secrets if "secret" in vol else self.cluster.config_maps
                key = source.get("secretName") or source.get("name")
                for item, value in (store.get(key) or {}).items():
                    (path / item).write_text(value)
            dirs[name] = path
        for c in self.containers():
            c.root = self.root / "containers" / c.name
            (c.root / "home").mkdir(parents=True, exist_ok=True)
            (c.root / "bin").mkdir(parents=True, exist_ok=True)
            for mount in c.spec.get("volumeMounts") or []:
                target = dirs[mount["name"]]
                if mount.get("subPath"):
                    target = target / mount["subPath"]
                    target.mkdir(parents=True, exist_ok=True)
                c.paths[mount["mountPath"].rstrip("/") or "/"] = str(target)
            term = c.spec.get("terminationMessagePath") or TERMINATION_DEFAULT
            c.paths[term] = str(c.root / "termination-log")
            pgrep = c.root / "bin" / "pgrep"
            pgrep.write_text(
                "#!/bin/sh\n# this container's processes only (a pod has its own process namespace)\n"
                f'for a; do last="$a"; done\nwhile read -r pid cmd; do case "$cmd" in *"$last"*) echo "$pid";; esac; '
                f'done < "{c.root}/pids"\n'
            )
            pgrep.chmod(0o755)

    def translate(self, c: Container, text: str) -> str:
        for mount in sorted(c.paths, key=len, reverse=True):
            text = re.sub(re.escape(mount) + r"(?=/|$|[\s'\";:])", lambda _m, t=c.paths[mount]: t, text)
        return text

    def environment(self, c: Container) -> dict[str, str] | str:
        """The container's environment, or the reason it cannot be built (CreateContainerConfigError)."""
        env = {
            "PATH": f"{c.root / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(c.root / "home"),
            "HOSTNAME": self.name,
            "LANG": "C.UTF-8",
            "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        }
        for var in c.spec.get("env") or []:
            source = var.get("valueFrom")
            if source is None:
                env[var["name"]] = self.translate(c, str(var.get("value") or ""))
                continue
            ref = source.get("secretKeyRef") or source.get("configMapKeyRef")
            if ref is not None:
                kind = "secret" if "secretKeyRef" in source else "configmap"
                store = self.cluster.secrets if kind == "secret" else self.cluster.config_maps
                values = store.get(ref["name"])
                if values is None or ref["key"] not in values:
                    if ref.get("optional"):
                        continue
                    what = f'{kind} "{ref["name"]}" not found' if values is None else f"couldn't find key {ref['key']}"
                    return what
                env[var["name"]] = values[ref["key"]]
            elif "fieldRef" in source:
                path = source["fieldRef"]["fieldPath"]
                value = {
                    "metadata.name": self.name,
                    "metadata.namespace": self.namespace,
                    "spec.nodeName": self.obj["spec"].get("nodeName", ""),
                    "status.podIP": "127.0.0.1",
                }.get(path, "")
                env[var["name"]] = value
        return env

    async def _start_and_wait(self, c: Container) -> int:
        if self.deleted:
            return 137
        env = self.environment(c)
        if isinstance(env, str):
            c.state = {"waiting": {"reason": "CreateContainerConfigError", "message": env}}
            self.cluster.event(self, "Warning", "Failed", f"Error: {env}", c)
            self.touch()
            while not self.deleted:
                await asyncio.sleep(3600)
            return 137
        argv = [self.translate(c, a) for a in [*(c.spec.get("command") or []), *(c.spec.get("args") or [])]]
        started = now_iso()
        c.started = True
        self.cluster.event(self, "Normal", "Pulled", f'Container image "{c.spec.get("image")}" already present', c)
        self.cluster.event(self, "Normal", "Created", f"Created container {c.name}", c)
        cwd = c.spec.get("workingDir")
        cwd = self.translate(c, cwd) if cwd else str(c.root / "home")
        Path(cwd).mkdir(parents=True, exist_ok=True)
        try:
            c.proc = await asyncio.create_subprocess_exec(
                *argv,
                env=env,
                cwd=cwd,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            msg = f"failed to create containerd task: exec: {argv[0]!r}: {exc.strerror}"
            c.state = {"terminated": {"exitCode": 128, "reason": "StartError", "message": msg, "finishedAt": now_iso()}}
            self.cluster.event(self, "Warning", "Failed", msg, c)
            self.touch()
            return 128
        (c.root / "pids").write_text(f"{c.proc.pid} {' '.join(argv)}\n")
        c.state = {"running": {"startedAt": started}}
        self.cluster.event(self, "Normal", "Started", f"Started container {c.name}", c)
        self.touch()
        assert c.proc.stdout is not None
        while line := await c.proc.stdout.readline():
            c.logs.append(LogLine(datetime.datetime.now(tz=datetime.UTC), line.decode("utf-8", "replace")))
            self.touch()
        code = await c.proc.wait()
        code = 128 - code if code < 0 else code  # killed by a signal: 128 + signal number
        for proc in list(c.execs):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        terminated: dict[str, Any] = {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "startedAt": started,
            "finishedAt": now_iso(),
            "containerID": f"fake://{c.name}",
        }
        message = self._termination_message(c, code)
        if message:
            terminated["message"] = message
        c.state = {"terminated": terminated}
        self.touch()
        return code

    def _termination_message(self, c: Container, code: int) -> str:
        path = c.root / "termination-log"
        text = path.read_text(errors="replace")[-4096:] if path.exists() else ""
        if not text and code != 0 and c.spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            text = "".join(line.text for line in c.logs[-80:])[-2048:]
        return text

    async def kill_all(self) -> None:
        for c in self.containers():
            if c.proc is not None and c.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(c.proc.pid, signal.SIGKILL)
            for proc in list(c.execs):
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()


class FakeKubernetes:
    """The API server, its scheduler and one kubelet, in a background thread with its own event loop."""

    def __init__(
        self,
        root: Path,
        *,
        nodes: list[Node] | None = None,
        missing_images: set[str] | None = None,
        quota: dict[str, str] | None = None,
        secrets: dict[str, dict[str, str]] | None = None,
        config_maps: dict[str, dict[str, str]] | None = None,
        forbidden: set[str] | None = None,
    ) -> None:
        self.root = root
        self.nodes = nodes if nodes is not None else [Node("fake-node-1")]
        self.missing_images = set(missing_images or ())
        self.quota = dict(quota or {})
        self.secrets = dict(secrets or {})
        self.config_maps = dict(config_maps or {})
        self.forbidden = set(forbidden or ())
        """Resources (``persistentvolumeclaims``) the caller's RBAC may not touch: 403 as Kubernetes says it."""
        self.claims: dict[tuple[str, str], dict[str, Any]] = {}
        self.created_claims: list[dict[str, Any]] = []
        self.pods: dict[tuple[str, str], FakePod] = {}
        self.created: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self._versions = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-apiserver", daemon=True)
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        return self.url

    async def _serve(self) -> str:
        app = web.Application(client_max_size=64 * 1024**2)
        base = "/api/v1/namespaces/{ns}"
        app.router.add_get("/api/v1/pods", self.list_pods)
        app.router.add_get(base + "/pods", self.list_pods)
        app.router.add_post(base + "/pods", self.create_pod)
        app.router.add_get(base + "/pods/{name}", self.read_pod)
        app.router.add_patch(base + "/pods/{name}", self.patch_pod)
        app.router.add_delete(base + "/pods/{name}", self.delete_pod)
        app.router.add_get(base + "/pods/{name}/log", self.read_log)
        app.router.add_route("*", base + "/pods/{name}/exec", self.exec_pod)
        app.router.add_get(base + "/events", self.list_events)
        app.router.add_get(base + "/persistentvolumeclaims", self.list_claims)
        app.router.add_post(base + "/persistentvolumeclaims", self.create_claim)
        app.router.add_get(base + "/persistentvolumeclaims/{name}", self.read_claim)
        app.router.add_delete(base + "/persistentvolumeclaims/{name}", self.delete_claim)
        app.router.add_get("/version", self.version)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        async def shutdown() -> None:
            for pod in list(self.pods.values()):
                pod.deleted = True
                await pod.kill_all()
                if pod.task is not None:
                    pod.task.cancel()
            if self._runner is not None:
                await self._runner.cleanup()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def kubeconfig(self, path: Path, namespace: str = "default") -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": "fake-token"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake", "namespace": namespace}}],
            "current-context": "fake",
        }
        path.write_text(json.dumps(config))  # JSON is YAML
        return path

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server's loop (for tests that change the cluster's state)."""

        async def run() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def pod_json(self, name: str, namespace: str = "default") -> dict[str, Any] | None:
        pod = self.pods.get((namespace, name))
        return self.call(pod.to_json) if pod is not None else None

    def wait_for(self, predicate: Any, timeout: float = 60) -> None:
        """Block until ``predicate(self)`` is true (checked on the server's loop)."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.call(predicate, self):
                return
            time.sleep(0.1)
        raise TimeoutError("the fake cluster never reached the expected state")

    # -- helpers -------------------------------------------------------------------------------
    def next_version(self) -> str:
        return str(next(self._versions))

    def event(self, pod: FakePod, kind: str, reason: str, message: str, c: Container | None = None) -> None:
        self.events.append(
            {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {
                    "name": f"{pod.name}.{uuid.uuid4().hex[:12]}",
                    "namespace": pod.namespace,
                    "uid": str(uuid.uuid4()),
                    "resourceVersion": self.next_version(),
                },
                "involvedObject": {
                    "kind": "Pod",
                    "name": pod.name,
                    "namespace": pod.namespace,
                    "uid": pod.obj["metadata"]["uid"],
                    **({"fieldPath": f"spec.containers{{{c.name}}}"} if c is not None else {}),
                },
                "reason": reason,
                "message": message,
                "type": kind,
                "count": 1,
                "firstTimestamp": now_iso(),
                "lastTimestamp": now_iso(),
                "source": {"component": "kubelet" if c is not None else "default-scheduler"},
            }
        )
        pod.touch()

    @staticmethod
    def requests_of(spec: dict[str, Any]) -> dict[str, float]:
        """What a pod asks for: the larger of the sum of its containers and its largest init container."""

        def of(c: dict[str, Any]) -> dict[str, float]:
            res = c.get("resources") or {}
            out: dict[str, float] = {}
            for key, value in {**(res.get("limits") or {}), **(res.get("requests") or {})}.items():
                out[key] = quantity(value)
            return out

        total: dict[str, float] = {}
        for c in spec.get("containers") or []:
            for key, value in of(c).items():
                total[key] = total.get(key, 0) + value
        for c in spec.get("initContainers") or []:
            for key, value in of(c).items():
                total[key] = max(total.get(key, 0), value)
        return total

    def schedule(self, obj: dict[str, Any]) -> tuple[Node | None, str]:
        spec = obj["spec"]
        wanted = self.requests_of(spec)
        selector = spec.get("nodeSelector") or {}
        reasons: dict[str, int] = {}
        used: dict[str, dict[str, float]] = {}
        for pod in self.pods.values():
            node = pod.obj["spec"].get("nodeName")
            if node and pod.phase in ("Pending", "Running") and pod.obj is not obj:
                for key, value in self.requests_of(pod.obj["spec"]).items():
                    used.setdefault(node, {})[key] = used.get(node, {}).get(key, 0) + value
        for node in self.nodes:
            if any(node.labels.get(k) != v for k, v in selector.items()):
                reasons["node(s) didn't match Pod's node affinity/selector"] = (
                    reasons.get("node(s) didn't match Pod's node affinity/selector", 0) + 1
                )
                continue
            short = [
                key
                for key, value in sorted(wanted.items())
                if value > quantity(node.allocatable.get(key, "0")) - used.get(node.name, {}).get(key, 0)
            ]
            if short:
                for key in short:
                    reasons[f"Insufficient {key}"] = reasons.get(f"Insufficient {key}", 0) + 1
                continue
            return node, ""
        detail = ", ".join(f"{n} {r}" for r, n in sorted(reasons.items()))
        return None, (
            f"0/{len(self.nodes)} nodes are available: {detail}. preemption: 0/{len(self.nodes)} nodes are "
            "available: No preemption victims found for incoming pod."
        )

    def _quota_error(self, namespace: str, obj: dict[str, Any]) -> str | None:
        if not self.quota:
            return None
        wanted = self.requests_of(obj["spec"])
        wanted_by_key = {f"requests.{k}": v for k, v in wanted.items()} | {f"limits.{k}": v for k, v in wanted.items()}
        wanted_by_key["pods"] = 1
        used_by_key: dict[str, float] = {}
        for pod in self.pods.values():
            if pod.namespace == namespace and pod.phase in ("Pending", "Running"):
                used_by_key["pods"] = used_by_key.get("pods", 0) + 1
                for k, v in self.requests_of(pod.obj["spec"]).items():
                    for prefix in ("requests.", "limits."):
                        used_by_key[prefix + k] = used_by_key.get(prefix + k, 0) + v
        over = [
            key
            for key, limit in self.quota.items()
            if key in wanted_by_key and used_by_key.get(key, 0) + wanted_by_key[key] > quantity(limit)
        ]
        if not over:
            return None

        def fmt(values: dict[str, Any]) -> str:
            return ",".join(f"{k}={values.get(k, 0):g}" for k in over)

        return (
            f'pods "{obj["metadata"]["name"]}" is forbidden: exceeded quota: compute-resources, requested: '
            f"{fmt(wanted_by_key)}, used: {fmt(used_by_key)}, limited: {','.join(f'{k}={self.quota[k]}' for k in over)}"
        )

    def _pod(self, request: web.Request) -> FakePod | None:
        return self.pods.get((request.match_info["ns"], request.match_info["name"]))

    def _not_found(self, request: web.Request) -> web.Response:
        return error(404, "NotFound", f'pods "{request.match_info["name"]}" not found')

    # -- handlers ------------------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"major": "1", "minor": "33", "gitVersion": "v1.33.0-fake"})

    async def list_pods(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(("LIST", request.path_qs))
        ns = request.match_info.get("ns")
        selector = request.query.get("labelSelector")
        items = [
            p.to_json()
            for p in self.pods.values()
            if (ns is None or p.namespace == ns) and matches_selector(p.obj["metadata"].get("labels") or {}, selector)
        ]
        return web.json_response(
            {
                "kind": "PodList",
                "apiVersion": "v1",
                "metadata": {"resourceVersion": self.next_version()},
                "items": items,
            }
        )

    async def create_pod(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        obj = await request.json()
        self.requests.append(("CREATE", request.path))
        meta = obj.setdefault("metadata", {})
        if not meta.get("name"):
            if not meta.get("generateName"):
                return error(422, "Invalid", "Pod is invalid: metadata.name: Required value")
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        if (ns, meta["name"]) in self.pods:
            return error(409, "AlreadyExists", f'pods "{meta["name"]}" already exists')
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", meta["name"]) or len(meta["name"]) > 253:
            return error(422, "Invalid", f'Pod "{meta["name"]}" is invalid: metadata.name: Invalid value')
        for key, value in (meta.get("labels") or {}).items():
            if len(str(value)) > 63 or not re.fullmatch(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?", str(value)):
                return error(422, "Invalid", f"Pod is invalid: metadata.labels: Invalid value: {value!r}")
        quota = self._quota_error(ns, obj)
        if quota:
            return error(403, "Forbidden", quota)
        meta.update(
            namespace=ns,
            uid=str(uuid.uuid4()),
            creationTimestamp=now_iso(),
            resourceVersion=self.next_version(),
        )
        obj["spec"].setdefault("restartPolicy", "Always")
        for c in [*(obj["spec"].get("initContainers") or []), *obj["spec"]["containers"]]:
            c.setdefault("terminationMessagePath", TERMINATION_DEFAULT)
            c.setdefault("terminationMessagePolicy", "File")
        self.created.append(json.loads(json.dumps(obj)))
        pod = FakePod(self, obj)
        self.pods[(ns, meta["name"])] = pod
        pod.task = asyncio.ensure_future(pod.run())
        return web.json_response(pod.to_json(), status=201)

    async def read_pod(self, request: web.Request) -> web.Response:
        pod = self._pod(request)
        if pod is None:
            return self._not_found(request)
        return web.json_response(pod.to_json())

    async def patch_pod(self, request: web.Request) -> web.Response:
        pod = self._pod(request)
        if pod is None:
            return self._not_found(request)
        body = await request.json()
        self.requests.append(("PATCH", request.path))
        meta = body.get("metadata") or {}
        for key in ("labels", "annotations"):
            if key in meta:
                current = pod.obj["metadata"].setdefault(key, {})
                for k, v in (meta[key] or {}).items():
                    if v is None:
                        current.pop(k, None)
                    else:
                        current[k] = v
        pod.touch()
        return web.json_response(pod.to_json())

    async def delete_pod(self, request: web.Request) -> web.Response:
        pod = self._pod(request)
        if pod is None:
            return self._not_found(request)
        self.requests.append(("DELETE", request.path))
        pod.deleted = True
        self.event(pod, "Normal", "Killing", "Stopping pod")
        await pod.kill_all()
        if pod.task is not None:
            pod.task.cancel()
        del self.pods[(pod.namespace, pod.name)]
        self.deleted.append(pod.name)
        pod.touch()
        return web.json_response(pod.to_json())

    # -- persistent volume claims ----------------------------------------------------------------
    def _claim_refusal(self, request: web.Request, verb: str) -> web.Response | None:
        if "persistentvolumeclaims" not in self.forbidden:
            return None
        ns = request.match_info["ns"]
        return error(
            403,
            "Forbidden",
            f'persistentvolumeclaims is forbidden: User "system:serviceaccount:{ns}:airflow-worker" cannot {verb} '
            f'resource "persistentvolumeclaims" in API group "" in the namespace "{ns}"',
        )

    def claim_folder(self, namespace: str, name: str) -> Path:
        """Where pods mounting the claim see its files (as ``_volumes`` maps it)."""
        return self.root / "pvc" / namespace / name

    async def list_claims(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        selector = request.query.get("labelSelector")
        items = [
            c
            for (n, _), c in self.claims.items()
            if n == ns and matches_selector(c["metadata"].get("labels") or {}, selector)
        ]
        return web.json_response({"kind": "PersistentVolumeClaimList", "apiVersion": "v1", "items": items})

    async def create_claim(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        refused = self._claim_refusal(request, "create")
        if refused is not None:
            return refused
        obj = await request.json()
        self.requests.append(("CREATE", request.path))
        meta = obj.setdefault("metadata", {})
        name = meta.get("name") or ""
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", name) or len(name) > 253:
            return error(422, "Invalid", f'PersistentVolumeClaim "{name}" is invalid: metadata.name: Invalid value')
        if (ns, name) in self.claims:
            return error(409, "AlreadyExists", f'persistentvolumeclaims "{name}" already exists')
        spec = obj.get("spec") or {}
        if not spec.get("accessModes"):
            return error(422, "Invalid", f'PersistentVolumeClaim "{name}" is invalid: spec.accessModes: Required value')
        size = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
        try:
            wanted = quantity(size)
        except ValueError:
            return error(
                422, "Invalid", f'PersistentVolumeClaim "{name}" is invalid: spec.resources[storage]: Required value'
            )
        used = sum(
            quantity(c["spec"]["resources"]["requests"]["storage"]) for (n, _), c in self.claims.items() if n == ns
        )
        count = sum(1 for n, _ in self.claims if n == ns)
        for key, requested, in_use in (("persistentvolumeclaims", 1, count), ("requests.storage", wanted, used)):
            if key in self.quota and in_use + requested > quantity(self.quota[key]):
                return error(
                    403,
                    "Forbidden",
                    f'persistentvolumeclaims "{name}" is forbidden: exceeded quota: storage-quota, requested: '
                    f"{key}={size if key != 'persistentvolumeclaims' else 1}, used: {key}={in_use:g}, "
                    f"limited: {key}={self.quota[key]}",
                )
        meta.update(
            namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now_iso(), resourceVersion=self.next_version()
        )
        meta.setdefault("finalizers", ["kubernetes.io/pvc-protection"])
        if "storageClassName" not in spec:
            spec["storageClassName"] = "standard"  # the DefaultStorageClass admission plugin's default
        obj["spec"] = spec
        obj["status"] = {"phase": "Bound", "accessModes": spec["accessModes"], "capacity": {"storage": size}}
        self.claims[(ns, name)] = obj
        self.created_claims.append(json.loads(json.dumps(obj)))
        self.claim_folder(ns, name).mkdir(parents=True, exist_ok=True)
        return web.json_response(obj, status=201)

    async def read_claim(self, request: web.Request) -> web.Response:
        claim = self.claims.get((request.match_info["ns"], request.match_info["name"]))
        if claim is None:
            return error(404, "NotFound", f'persistentvolumeclaims "{request.match_info["name"]}" not found')
        return web.json_response(claim)

    async def delete_claim(self, request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        refused = self._claim_refusal(request, "delete")
        if refused is not None:
            return refused
        claim = self.claims.pop((ns, name), None)
        if claim is None:
            return error(404, "NotFound", f'persistentvolumeclaims "{name}" not found')
        self.requests.append(("DELETE", request.path))
        shutil.rmtree(self.claim_folder(ns, name), ignore_errors=True)
        return web.json_response(claim)

    async def read_log(self, request: web.Request) -> web.StreamResponse:
        pod = self._pod(request)
        if pod is None:
            return self._not_found(request)
        q = request.query
        name = q.get("container")
        if name is None:
            if len(pod.main) != 1:
                names = " ".join(c.name for c in pod.main)
                return error(
                    400,
                    "BadRequest",
                    f"a container name must be specified for pod {pod.name}, choose one of: [{names}]",
                )
            name = pod.main[0].name
        c = pod.container(name)
        if c is None:
            return error(400, "BadRequest", f"container {name} is not valid for pod {pod.name}")
        if not c.started:
            reason = (c.state.get("waiting") or {}).get("reason", "ContainerCreating")
            return error(400, "BadRequest", f'container "{name}" in pod "{pod.name}" is waiting to start: {reason}')
        follow = flag(q.get("follow"))
        stamps = flag(q.get("timestamps"))
        since = (
            datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(seconds=int(q["sinceSeconds"]))
            if q.get("sinceSeconds")
            else None
        )
        self.requests.append(("LOG", request.path_qs))
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        lines = [line for line in c.logs if since is None or line.at >= since]
        if q.get("tailLines"):
            lines = lines[-int(q["tailLines"]) :]
        sent = len(c.logs)

        def render(line: LogLine) -> bytes:
            text = line.text if line.text.endswith("\n") else line.text + "\n"
            if stamps:
                text = line.at.strftime("%Y-%m-%dT%H:%M:%S.%f000Z") + " " + text
            return text.encode()

        for line in lines:
            await resp.write(render(line))
        while follow and c.terminated is None and not pod.deleted:
            changed = pod.changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), 1)
            for line in c.logs[sent:]:
                await resp.write(render(line))
            sent = len(c.logs)
        for line in c.logs[sent:]:
            await resp.write(render(line))
        await resp.write_eof()
        return resp

    async def list_events(self, request: web.Request) -> web.StreamResponse:
        ns = request.match_info["ns"]
        field_selector = request.query.get("fieldSelector") or ""
        wanted = dict(term.split("=", 1) for term in field_selector.split(",") if "=" in term)
        since = int(request.query.get("resourceVersion") or 0)

        def selected() -> list[dict[str, Any]]:
            return [
                e
                for e in self.events
                if e["metadata"]["namespace"] == ns
                and all(e["involvedObject"].get(k.split(".", 1)[1]) == v for k, v in wanted.items())
                and int(e["metadata"]["resourceVersion"]) > since
            ]

        if not flag(request.query.get("watch")):
            self.requests.append(("EVENTS", request.path_qs))
            return web.json_response(
                {
                    "kind": "EventList",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": self.next_version()},
                    "items": selected(),
                }
            )
        self.requests.append(("WATCH", request.path_qs))
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        timeout = float(request.query.get("timeoutSeconds") or 30)
        end = asyncio.get_running_loop().time() + timeout
        seen: set[str] = set()
        pod_name = wanted.get("involvedObject.name")
        while True:
            for event in selected():
                if event["metadata"]["uid"] not in seen:
                    seen.add(event["metadata"]["uid"])
                    await resp.write(json.dumps({"type": "ADDED", "object": event}).encode() + b"\n")
            left = end - asyncio.get_running_loop().time()
            if left <= 0:
                break
            await asyncio.sleep(min(0.2, left))
        await resp.write_eof()
        _ = pod_name
        return resp

    async def exec_pod(self, request: web.Request) -> web.StreamResponse:
        pod = self._pod(request)
        if pod is None:
            return self._not_found(request)
        query = parse_qs(request.query_string)
        command = query.get("command") or []
        name = (query.get("container") or [pod.main[0].name])[0]
        self.requests.append(("EXEC", f"{name}: {json.dumps(command)}"))
        c = pod.container(name)
        if c is None or "running" not in c.state or c.proc is None:
            return error(
                400,
                "BadRequest",
                f"unable to upgrade connection: container {name} not found or not running in pod {pod.name}",
            )
        ws = web.WebSocketResponse(protocols=("v4.channel.k8s.io",))
        await ws.prepare(request)
        env = pod.environment(c)
        assert isinstance(env, dict)
        argv = [pod.translate(c, a) for a in command]
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                env=env,
                cwd=str(c.root / "home"),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            await ws.send_bytes(b"\x03" + json.dumps(status_body(500, "InternalError", str(exc))).encode())
            await ws.close()
            return ws
        c.execs.add(proc)
        stdin_open = flag((query.get("stdin") or ["false"])[0])
        if not stdin_open and proc.stdin is not None:
            proc.stdin.close()

        async def pump(stream: asyncio.StreamReader | None, channel: int) -> None:
            assert stream is not None
            while chunk := await stream.read(65536):
                await ws.send_bytes(bytes([channel]) + chunk)

        async def feed() -> None:
            async for msg in ws:  # the client sends str data as TEXT frames, bytes as BINARY
                if msg.type in (WSMsgType.BINARY, WSMsgType.TEXT):
                    data = msg.data if isinstance(msg.data, bytes) else msg.data.encode()
                    if data[:1] == b"\x00" and stdin_open and proc.stdin is not None:
                        proc.stdin.write(data[1:])
                        await proc.stdin.drain()
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.ERROR):
                    break

        feeder = asyncio.ensure_future(feed())
        await asyncio.gather(pump(proc.stdout, 1), pump(proc.stderr, 2))
        code = await proc.wait()
        c.execs.discard(proc)
        feeder.cancel()
        if code == 0:
            status: dict[str, Any] = {"metadata": {}, "status": "Success"}
        else:
            status = status_body(
                500,
                "NonZeroExitCode",
                f"command terminated with non-zero exit code: exit status {code}",
                {"causes": [{"reason": "ExitCode", "message": str(code if code > 0 else 128 - code)}]},
            )
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_bytes(b"\x03" + json.dumps(status).encode())
            await ws.close()
        return ws


@contextlib.contextmanager
def fake_cluster(root: Path, **kwargs: Any) -> Iterator[FakeKubernetes]:
    cluster = FakeKubernetes(root, **kwargs)
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root / "pvc", ignore_errors=True)
