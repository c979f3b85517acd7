"""The scheduler and one kubelet per node: a pod's containers run as local processes.

A pod is scheduled onto one of the configured nodes (node selector, resources, claims), its images are
"pulled", init containers run one after another, then every container side by side; the pod ends
``Succeeded`` or ``Failed`` with each container's exit code, reason and termination message, as
Kubernetes reports them (``pkg/kubelet/kuberuntime``, ``pkg/kubelet/status``). Also what a node does to a
pod on its own: ``OOMKilled`` when a container passes its memory limit (the resident set of its process
group, sampled), eviction (SIGTERM, the grace period, SIGKILL; ``Evicted``, ``DisruptionTarget``), graceful
deletion (SIGTERM, ``deletionTimestamp``, SIGKILL after the grace period), node loss (phase ``Unknown``),
and a ReadWriteOnce claim that cannot attach on a second node (``Multi-Attach error``).

No mount namespace: each volume is a folder (``emptyDir`` per pod, a ``persistentVolumeClaim`` per
claim), and every mount path appearing in a container's command, arguments or environment values is
rewritten to that folder (longest mount first, on path boundaries), as is the termination-message path.
Like a real node: a claim's fresh volume is owned by root (0755) and only group-writable with the pod's
``fsGroup``; an image whose user has no home gets ``HOME=/``, which is not writable. When the tests run as
root, each container runs as the pod's ``runAsUser`` (``[kfp]``'s image user when unset) with the pod's
``fsGroup`` as a supplementary group, so the kernel enforces both; otherwise the fake withholds write
permission from those folders.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import os
import re
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.kubernetes.fake.common import now_iso, parse_quantity

if TYPE_CHECKING:
    from tests.kubernetes.fake.api import FakeKubernetes

XCOM_SIDECAR = "airflow-xcom-sidecar"
TERMINATION_DEFAULT = "/dev/termination-log"
IMAGE_USER = 1000
"""The uid of the (fake) images' user: a non-root user without a home directory, as in many ML images."""


def _world_readable(path: Path) -> bool:
    for part in [path, *path.parents]:
        with contextlib.suppress(OSError):
            if not part.stat().st_mode & 0o001:
                return False
    return True


RUN_AS_POD_USER = os.geteuid() == 0 and _world_readable(Path(sys.prefix)) and _world_readable(Path(__file__).parents[3])
"""Containers run as the pod's user: only as root, and only where that user can reach Python and the code."""
ENFORCES_PERMISSIONS = RUN_AS_POD_USER or os.geteuid() != 0
"""Whether a folder the pod's user may not write is unwritable here (root ignores permission bits)."""


@dataclass
class Node:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    allocatable: dict[str, str] = field(default_factory=lambda: {"cpu": "8", "memory": "32Gi", "pods": "110"})
    lost: bool = False


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
    oom: bool = False

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


def _rss_bytes(pid: int) -> int:
    """The resident set of a process and its descendants (what the memory cgroup charges)."""
    total = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            for task in Path(f"/proc/{p}/task").iterdir():
                with contextlib.suppress(OSError):
                    stack += [int(x) for x in (task / "children").read_text().split()]
    return total


class FakePod:
    def __init__(self, cluster: FakeKubernetes, obj: dict[str, Any]) -> None:
        self.cluster = cluster
        self.obj = obj
        self.namespace = obj["metadata"]["namespace"]
        self.name = obj["metadata"]["name"]
        self.root = cluster.node_root / self.namespace / f"{self.name}-{obj['metadata']['uid'][:8]}"
        spec = obj["spec"]
        self.init = [Container(c, True) for c in spec.get("initContainers") or []]
        self.main = [Container(c, False) for c in spec.get("containers") or []]
        self.phase = "Pending"
        self.reason: str | None = None
        self.message: str | None = None
        self.conditions: dict[str, dict[str, Any]] = {}
        self.deleted = False
        self.terminating = False
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

    @property
    def node(self) -> str | None:
        return self.obj["spec"].get("nodeName")

    @property
    def active(self) -> bool:
        """Counts against quota and holds its claims: not yet Succeeded or Failed."""
        return self.phase in ("Pending", "Running", "Unknown")

    def to_json(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "phase": self.phase,
            "conditions": list(self.conditions.values()),
            "qosClass": self.qos_class(),
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

    def qos_class(self) -> str:
        """``pkg/apis/core/v1/helper/qos``: Guaranteed when every container's cpu and memory limits equal requests."""
        resources = [(c.spec.get("resources") or {}) for c in self.containers()]
        if not any(r.get("requests") or r.get("limits") for r in resources):
            return "BestEffort"
        for r in resources:
            limits, requests = r.get("limits") or {}, r.get("requests") or {}
            for key in ("cpu", "memory"):
                if key not in limits or parse_quantity(requests.get(key, limits[key])) != parse_quantity(limits[key]):
                    return "Burstable"
        return "Guaranteed"

    def touch(self) -> None:
        self.obj["metadata"]["resourceVersion"] = self.cluster.next_version()
        self.changed.set()
        self.changed = asyncio.Event()
        self.cluster.changed()

    def condition(self, kind: str, ok: bool | None, reason: str | None = None, message: str | None = None) -> None:
        status = "Unknown" if ok is None else "True" if ok else "False"
        cond: dict[str, Any] = {"type": kind, "status": status, "lastTransitionTime": now_iso()}
        if reason:
            cond["reason"] = reason
        if message:
            cond["message"] = message
        self.conditions[kind] = cond

    # -- the scheduler and the kubelet ------------------------------------------------------
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
        reported = ""
        while True:  # the scheduler retries an unschedulable pod whenever the cluster changes
            node, why = self.cluster.schedule(self.obj)
            if node is not None or self.deleted:
                break
            if why != reported:
                self.condition("PodScheduled", False, "Unschedulable", why)
                self.cluster.event(self, "Warning", "FailedScheduling", why)
                self.touch()
                reported = why
            await self.cluster.wait_change(1.0)
        if node is None:
            return
        self.obj["spec"]["nodeName"] = node.name
        self.condition("PodScheduled", True)
        self.condition("Initialized", not self.init)
        self.condition("ContainersReady", False)
        self.condition("Ready", False)
        self.cluster.event(
            self, "Normal", "Scheduled", f"Successfully assigned {self.namespace}/{self.name} to {node.name}"
        )
        self.touch()
        if not await self._attach():
            return
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

    async def _attach(self) -> bool:
        """A ReadWriteOnce claim attaches to one node at a time (the attach/detach controller's Multi-Attach error)."""
        reported = False
        while not self.deleted:
            holders = self.cluster.rwo_holders(self)
            if not holders:
                return True
            if not reported:
                claim, pods = holders
                self.cluster.event(
                    self,
                    "Warning",
                    "FailedAttachVolume",
                    f'Multi-Attach error for volume "{claim}" Volume is already used by pod(s) {", ".join(pods)}',
                )
                reported = True
            await self.cluster.wait_change(1.0)
        return False

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
                self._finish("Failed")
                return
        self.condition("Initialized", True)
        procs = [asyncio.ensure_future(self._start_and_wait(c)) for c in self.main]
        while not self.deleted and any("waiting" in c.state for c in self.main) and not all(p.done() for p in procs):
            await self.changed.wait()
        if not self.deleted and not self.terminating and self.phase == "Pending":
            self.phase = "Running"
            self.condition("ContainersReady", True)
            self.condition("Ready", True)
            self.touch()
        codes = await asyncio.gather(*procs)
        self._finish("Succeeded" if all(code == 0 for code in codes) else "Failed")

    def _finish(self, phase: str) -> None:
        if self.phase in ("Unknown",) or self.reason == "Evicted":
            return  # the node is gone, or the eviction already set the outcome
        self.condition("ContainersReady", False)
        self.condition("Ready", False)
        self.phase = phase
        self.touch()
        self.cluster.release_claims(self.namespace)

    # -- volumes and the container's view of the node ---------------------------------------------
    def _context(self, c: Container, key: str) -> Any:
        """A security setting: the container's, else the pod's."""
        for ctx in (c.spec.get("securityContext") or {}, self.obj["spec"].get("securityContext") or {}):
            if ctx.get(key) is not None:
                return ctx[key]
        return None

    def _uid(self, c: Container) -> int:
        uid = self._context(c, "runAsUser")
        return int(uid) if uid is not None else self.cluster.image_user

    def _gid(self, c: Container) -> int:
        return int(self._context(c, "runAsGroup") or 0)

    def _fs_group(self) -> int | None:
        group = (self.obj["spec"].get("securityContext") or {}).get("fsGroup")
        return int(group) if group is not None else None

    def _own(self, path: Path, writable_by_pod: bool) -> None:
        """A folder as the node leaves it: the pod's ``fsGroup`` makes it group-writable (setgid), else root 0755."""
        group = self._fs_group()
        if RUN_AS_POD_USER:
            os.chown(path, 0, group if group is not None else 0)
            path.chmod(0o2775 if group is not None else (0o777 if writable_by_pod else 0o755))
        else:  # not root: the tests' user stands for the pod's user; withhold what root ownership would
            path.chmod(0o777 if (group is not None or writable_by_pod) else 0o555)

    def _volumes(self) -> None:
        """A folder per volume; every container's mounts map onto them."""
        dirs: dict[str, Path] = {}
        for vol in self.obj["spec"].get("volumes") or []:
            name = vol["name"]
            if "persistentVolumeClaim" in vol:
                path = self.cluster.claim_folder(self.namespace, vol["persistentVolumeClaim"]["claimName"])
                fresh = not path.exists()
                path.mkdir(parents=True, exist_ok=True)
                if fresh or self._fs_group() is not None:  # the kubelet applies fsGroup to the volume's root
                    self._own(path, writable_by_pod=False)
            else:
                path = self.root / "volumes" / name
                path.mkdir(parents=True, exist_ok=True)
                self._own(path, writable_by_pod="emptyDir" in vol)  # an emptyDir is 0777
            sources: list[tuple[str, dict[str, Any]]] = []
            if "secret" in vol or "configMap" in vol:
                sources.append(
                    ("secret" if "secret" in vol else "configMap", vol.get("secret") or vol.get("configMap") or {})
                )
            for projected in (vol.get("projected") or {}).get("sources") or []:
                sources += [(kind, value) for kind, value in projected.items()]
            for kind, source in sources:
                self._project(path, kind, source)
            dirs[name] = path
        for c in self.containers():
            c.root = self.root / "containers" / c.name
            rootfs = c.root / "rootfs"  # the image's "/": the user's HOME when the image gives none
            (c.root / "bin").mkdir(parents=True, exist_ok=True)
            rootfs.mkdir(parents=True, exist_ok=True)
            for folder in (self.root, self.root / "containers", c.root, c.root / "bin"):
                folder.chmod(0o755)
            for mount in c.spec.get("volumeMounts") or []:
                target = dirs[mount["name"]]
                if mount.get("subPath"):
                    target = target / mount["subPath"]
                    target.mkdir(parents=True, exist_ok=True)
                c.paths[mount["mountPath"].rstrip("/") or "/"] = str(target)
            term = c.spec.get("terminationMessagePath") or TERMINATION_DEFAULT
            (c.root / "termination-log").touch()
            (c.root / "termination-log").chmod(0o666)  # the kubelet creates it writable by the container
            c.paths[term] = str(c.root / "termination-log")
            pgrep = c.root / "bin" / "pgrep"
            pgrep.write_text(
                "#!/bin/sh\n# this container's processes only (a pod has its own process namespace)\n"
                f'for a; do last="$a"; done\nwhile read -r pid cmd; do case "$cmd" in *"$last"*) echo "$pid";; esac; '
                f'done < "{c.root}/pids"\n'
            )
            pgrep.chmod(0o755)
            self._own(rootfs, writable_by_pod=False)

    def _project(self, path: Path, kind: str, source: dict[str, Any]) -> None:
        if kind == "serviceAccountToken":
            (path / source.get("path", "token")).write_text(f"fake-token-{self.obj['spec'].get('serviceAccountName')}")
        elif kind == "downwardAPI":
            for item in source.get("items") or []:
                if (item.get("fieldRef") or {}).get("fieldPath") == "metadata.namespace":
                    (path / item["path"]).write_text(self.namespace)
        elif kind in ("secret", "configMap"):
            store = self.cluster.secrets if kind == "secret" else self.cluster.config_maps
            key = source.get("secretName") or source.get("name")
            values = store.get(key) or ({"ca.crt": "fake-ca"} if key == "kube-root-ca.crt" else {})
            items = source.get("items")
            for k, value in values.items():
                target = next((i["path"] for i in items if i["key"] == k), None) if items else k
                if target:
                    (path / target).write_text(value)

    def translate(self, c: Container, text: str) -> str:
        for mount in sorted(c.paths, key=len, reverse=True):
            text = re.sub(re.escape(mount) + r"(?=/|$|[\s'\";:])", lambda _m, t=c.paths[mount]: t, text)
        return text

    def environment(self, c: Container) -> dict[str, str] | str:
        """The container's environment, or the reason it cannot be built (CreateContainerConfigError)."""
        env = {
            "PATH": f"{c.root / 'bin'}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(c.root / "rootfs"),  # the image's user has no home: the kubelet sets HOME=/
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
                    "metadata.uid": self.obj["metadata"]["uid"],
                    "spec.nodeName": self.obj["spec"].get("nodeName", ""),
                    "spec.serviceAccountName": self.obj["spec"].get("serviceAccountName", ""),
                    "status.podIP": "127.0.0.1",
                    "status.hostIP": "127.0.0.1",
                }.get(path, "")
                env[var["name"]] = value
        if self._uid(c) == 0 and self._non_root(c):
            return (
                f'container has runAsNonRoot and image will run as root (pod: "{self.name}_{self.namespace}'
                f'({self.obj["metadata"]["uid"]})", container: {c.name})'
            )
        return env

    def _non_root(self, c: Container) -> bool:
        return bool(self._context(c, "runAsNonRoot"))

    def _credentials(self, c: Container) -> dict[str, Any]:
        """Run as the pod's user (only possible as root): uid, gid, and fsGroup plus supplementalGroups."""
        if not RUN_AS_POD_USER:
            return {}
        groups = list((self.obj["spec"].get("securityContext") or {}).get("supplementalGroups") or [])
        if self._fs_group() is not None:
            groups.append(self._fs_group())
        return {"user": self._uid(c), "group": self._gid(c), "extra_groups": groups}

    async def _start_and_wait(self, c: Container) -> int:
        if self.deleted or self.terminating:
            return 137
        env = self.environment(c)
        if isinstance(env, str):
            c.state = {"waiting": {"reason": "CreateContainerConfigError", "message": env}}
            self.cluster.event(self, "Warning", "Failed", f"Error: {env}", c)
            self.touch()
            while not self.deleted and not self.terminating:
                await self.cluster.wait_change(3600)
            return 137
        argv = [self.translate(c, a) for a in [*(c.spec.get("command") or []), *(c.spec.get("args") or [])]]
        started = now_iso()
        c.started = True
        self.cluster.event(self, "Normal", "Pulled", f'Container image "{c.spec.get("image")}" already present', c)
        self.cluster.event(self, "Normal", "Created", f"Created container {c.name}", c)
        cwd = c.spec.get("workingDir")
        cwd = self.translate(c, cwd) if cwd else str(c.root / "rootfs")
        with contextlib.suppress(OSError):
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
                **self._credentials(c),
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
        watcher = asyncio.ensure_future(self._watch_memory(c))
        assert c.proc.stdout is not None
        while line := await c.proc.stdout.readline():
            c.logs.append(LogLine(datetime.datetime.now(tz=datetime.UTC), line.decode("utf-8", "replace")))
            self.touch()
        code = await c.proc.wait()
        watcher.cancel()
        code = 128 - code if code < 0 else code  # killed by a signal: 128 + signal number
        for proc in list(c.execs):
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        if self.phase == "Unknown":
            return code  # the node is gone: no one reports how the container ended
        terminated: dict[str, Any] = {
            "exitCode": code,
            "reason": "OOMKilled" if c.oom else "Completed" if code == 0 else "Error",
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

    async def _watch_memory(self, c: Container) -> None:
        """The memory cgroup: past its limit the container's processes are killed (SIGKILL, ``OOMKilled``)."""
        limit = ((c.spec.get("resources") or {}).get("limits") or {}).get("memory")
        if limit is None or c.proc is None:
            return
        allowed = int(parse_quantity(limit))
        while c.proc.returncode is None:
            if _rss_bytes(c.proc.pid) > allowed:
                c.oom = True
                self.cluster.event(
                    self, "Warning", "OOMKilling", f"Memory cgroup out of memory: Killed process {c.proc.pid}", c
                )
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(c.proc.pid, signal.SIGKILL)
                return
            await asyncio.sleep(0.1)

    def _termination_message(self, c: Container, code: int) -> str:
        path = c.root / "termination-log"
        text = path.read_text(errors="replace")[-4096:] if path.exists() else ""
        if not text and code != 0 and c.spec.get("terminationMessagePolicy") == "FallbackToLogsOnError":
            text = "".join(line.text for line in c.logs[-80:])[-2048:]
        return text

    # -- stopping ----------------------------------------------------------------------------------
    def _signal(self, sig: int) -> bool:
        """Send ``sig`` to every running container's process group; whether any was running."""
        running = False
        for c in self.containers():
            if c.proc is not None and c.proc.returncode is None:
                running = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(c.proc.pid, sig)
        return running

    async def stop(self, grace: float) -> None:
        """``killContainersWithSyncResult``: SIGTERM, up to ``grace`` seconds, then SIGKILL."""
        self.terminating = True
        self.touch()
        if self._signal(signal.SIGTERM):
            end = asyncio.get_running_loop().time() + grace
            while asyncio.get_running_loop().time() < end and any(
                c.proc is not None and c.proc.returncode is None for c in self.containers()
            ):
                await asyncio.sleep(0.05)
        await self.kill_all()

    async def kill_all(self) -> None:
        self._signal(signal.SIGKILL)
        for c in self.containers():
            for proc in list(c.execs):
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
