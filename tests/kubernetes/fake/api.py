"""A Kubernetes API server on 127.0.0.1, strict as a real one, whose kubelet runs pods as local processes.

The real ``kubernetes`` client (urllib3 and websocket-client), ``kubernetes_asyncio`` (aiohttp) and the
real KubernetesPodOperator talk to it over HTTP exactly as they talk to a cluster: create, get, list by
label, patch and delete pods; read logs (``follow``, ``timestamps``, ``sinceSeconds``, ``tailLines``);
list and watch events; ``exec`` over a ``v4.channel.k8s.io`` websocket (how KPO reads
``/airflow/xcom/return.json`` from its sidecar and then stops it); create, get, list and delete claims.

Each request goes the way it goes in kube-apiserver: authentication (the kubeconfig's bearer token names
the user: by default the Airflow worker's service account), RBAC authorization against the chart's
Role (``rbac.py``), decoding (a malformed quantity is a 400), defaulting, validation (``validation.py``:
422 ``Invalid`` with its causes), admission (``admission.py``: LimitRange, ServiceAccount, PodSecurity,
ResourceQuota: 403), then storage (409 ``AlreadyExists``, 409 ``Conflict`` on a stale
``resourceVersion``). Deletion is graceful (``deletionTimestamp``, the kubelet's SIGTERM, then the object
goes); a claim in use stays ``Terminating`` (the ``kubernetes.io/pvc-protection`` finalizer) until its
last pod is gone. Tests can inject what a loaded or flaky cluster answers (429 with ``Retry-After``, 409,
500; a log stream that drops) and what a node does (``evict``, ``lose_node``): ``kubelet.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import itertools
import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from aiohttp import WSMsgType, web

from tests.kubernetes.fake import admission
from tests.kubernetes.fake.chart import launcher_role
from tests.kubernetes.fake.common import (
    ApiError,
    already_exists,
    conflict,
    flag,
    forbidden,
    matches_selector,
    not_found,
    now_iso,
    parse_quantity,
    quantity,
    status_body,
    too_many_requests,
    unprocessable,
)
from tests.kubernetes.fake.kubelet import TERMINATION_DEFAULT, FakePod, LogLine, Node
from tests.kubernetes.fake.rbac import Attributes, Authorizer, unauthorized
from tests.kubernetes.fake.validation import validate_annotations, validate_claim, validate_labels, validate_pod

WORKER = "system:serviceaccount:airflow:airflow-worker"
"""Who the package calls the API as by default: the worker's service account the chart binds."""
ADMIN = "kubernetes-admin"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
}


@dataclass
class Fault:
    """An answer to inject: the next ``times`` requests matching ``verb`` and ``resource`` get ``code``."""

    verb: str
    resource: str
    code: int
    times: int = 1
    retry_after: int = 1
    seen: int = 0

    def error(self, name: str) -> ApiError:
        if self.code == 429:
            return too_many_requests(self.retry_after)
        if self.code == 409:
            return conflict(self.resource.split("/")[0], name)
        if self.code == 503:
            return ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")
        return ApiError(self.code, "InternalError", "Internal error occurred: etcdserver: request timed out")


@dataclass
class Namespace:
    labels: dict[str, str] = field(default_factory=dict)
    quotas: list[dict[str, Any]] = field(default_factory=list)
    limit_ranges: list[dict[str, Any]] = field(default_factory=list)


class FakeKubernetes:
    """The API server, its scheduler and kubelets, in a background thread with its own event loop."""

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
        namespace: str = "default",
        pod_security: dict[str, str] | None = None,
        image_user: int = 1000,
        report_usage: bool = True,
    ) -> None:
        self.root = root
        self.node_root = Path(tempfile.mkdtemp(prefix="kfp-fake-node-"))
        self.node_root.chmod(0o755)  # containers may run as the pod's user: they must reach their folders
        self.nodes = nodes if nodes is not None else [Node("fake-node-1")]
        self.missing_images = set(missing_images or ())
        self.secrets = dict(secrets or {})
        self.config_maps = dict(config_maps or {})
        self.image_user = image_user
        self.report_usage = report_usage
        """Whether the permissions used count towards the chart's Role (not for tests that probe refusals)."""
        self.namespace = namespace
        self.namespaces: dict[str, Namespace] = {
            namespace: Namespace(labels=dict(RESTRICTED if pod_security is None else pod_security))
        }
        self.service_accounts: dict[tuple[str, str], dict[str, Any]] = {(namespace, "default"): {}}
        self.authorizer = Authorizer()
        chart = launcher_role(namespace)
        self.authorizer.bind(chart["role"], chart["binding"])
        self.forbidden = set(forbidden or ())
        """Resources the caller's Role is made not to grant (a narrower Role than the chart's)."""
        self.faults: list[Fault] = []
        self.log_drops = 0
        """How many of the next followed log streams the connection drops mid-way (a restarted API server)."""
        self.claims: dict[tuple[str, str], dict[str, Any]] = {}
        self.created_claims: list[dict[str, Any]] = []
        self.pods: dict[tuple[str, str], FakePod] = {}
        self.created: list[dict[str, Any]] = []
        self.deleted: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []
        self.refusals: list[dict[str, Any]] = []
        """Every non-2xx ``Status`` the server answered (tests read what a client was told)."""
        self._versions = itertools.count(1)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-apiserver", daemon=True)
        self._runner: web.AppRunner | None = None
        self._change = asyncio.Event()
        self.url = ""
        if quota:
            self.quota = quota

    # -- configuration a test sets ---------------------------------------------------------------
    @property
    def quota(self) -> dict[str, str]:
        quotas = self.namespaces[self.namespace].quotas
        return dict(quotas[0]["spec"]["hard"]) if quotas else {}

    @quota.setter
    def quota(self, hard: dict[str, str]) -> None:
        """One ResourceQuota, ``compute-resources``, in the namespace (an empty dict removes it)."""
        self.namespaces[self.namespace].quotas = (
            [{"metadata": {"name": "compute-resources", "namespace": self.namespace}, "spec": {"hard": dict(hard)}}]
            if hard
            else []
        )

    def add_limit_range(self, limits: list[dict[str, Any]], name: str = "limits") -> None:
        self.namespaces[self.namespace].limit_ranges.append({"metadata": {"name": name}, "spec": {"limits": limits}})

    def add_service_account(self, name: str, namespace: str | None = None, automount: bool = True) -> None:
        self.service_accounts[(namespace or self.namespace, name)] = {"automountServiceAccountToken": automount}

    def add_claim(self, name: str, storage: str = "1Gi", access_modes: tuple[str, ...] = ("ReadWriteOnce",)) -> None:
        """A Bound claim made outside the test (by an admin, or another pipeline), in the namespace."""

        def add() -> None:
            uid = str(uuid.uuid4())
            self.claims[(self.namespace, name)] = {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {
                    "name": name,
                    "namespace": self.namespace,
                    "uid": uid,
                    "resourceVersion": self.next_version(),
                    "finalizers": ["kubernetes.io/pvc-protection"],
                },
                "spec": {
                    "accessModes": list(access_modes),
                    "resources": {"requests": {"storage": storage}},
                    "storageClassName": "standard",
                    "volumeName": f"pvc-{uid}",
                },
                "status": {"phase": "Bound", "accessModes": list(access_modes), "capacity": {"storage": storage}},
            }

        self.call(add)

    def inject(self, verb: str, resource: str, code: int, times: int = 1, retry_after: int = 1) -> Fault:
        fault = Fault(verb, resource, code, times, retry_after)
        self.faults.append(fault)
        return fault

    @property
    def recorded(self) -> set[tuple[str, str, str]]:
        """(verb, resource[/subresource], API group) of every request the package's identity made."""
        return set(self.authorizer.recorded)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        self.url = asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        return self.url

    async def _serve(self) -> str:
        self._change = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024**2, middlewares=[self._middleware])
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
        shutil.rmtree(self.node_root, ignore_errors=True)
        usage = os.environ.get("KFP_API_USAGE_DIR")
        if (
            usage and self.report_usage and self.authorizer.recorded
        ):  # tests/fixtures/api_usage.py checks them against the chart
            (Path(usage) / f"{uuid.uuid4().hex}.json").write_text(json.dumps(sorted(self.authorizer.recorded)))

    def kubeconfig(self, path: Path, namespace: str | None = None, user: str = WORKER) -> Path:
        """A kubeconfig whose token authenticates as ``user`` (the worker's service account by default)."""
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": self.url}}],
            "users": [{"name": "fake", "user": {"token": f"fake-token:{user}"}}],
            "contexts": [
                {
                    "name": "fake",
                    "context": {"cluster": "fake", "user": "fake", "namespace": namespace or self.namespace},
                }
            ],
            "current-context": "fake",
        }
        path.write_text(json.dumps(config))  # JSON is YAML
        return path

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server's loop (for tests that change the cluster's state)."""

        async def run() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            self.changed()
            return result

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(60)

    def pod_json(self, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        pod = self.pods.get((namespace or self.namespace, name))
        return self.call(pod.to_json) if pod is not None else None

    def wait_for(self, predicate: Any, timeout: float = 60) -> None:
        """Block until ``predicate(self)`` is true (checked on the server's loop)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.call(predicate, self):
                return
            time.sleep(0.1)
        raise TimeoutError("the fake cluster never reached the expected state")

    # -- what a node does on its own ----------------------------------------------------------------
    def evict(
        self, name: str, resource: str = "memory", grace: float | None = None, namespace: str | None = None
    ) -> None:
        """The kubelet's eviction manager under node pressure: SIGTERM, grace period, SIGKILL; ``Evicted``."""

        async def run() -> None:
            pod = self.pods[(namespace or self.namespace, name)]
            message = f"The node was low on resource: {resource}. Threshold quantity: 100Mi, available: 51200Ki. "
            pod.condition("DisruptionTarget", True, "TerminationByKubelet", message)
            pod.reason, pod.message = "Evicted", message
            self.event(pod, "Warning", "Evicted", message)
            wait = grace if grace is not None else pod.obj["spec"].get("terminationGracePeriodSeconds", 30)
            await pod.stop(float(wait))
            while any(c.proc is not None and c.proc.returncode is None for c in pod.containers()):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.05)  # let each container's status land
            pod.phase = "Failed"
            pod.condition("Ready", False)
            pod.touch()

        self.call(run)

    def lose_node(self, node_name: str, evict_after: float | None = None) -> None:
        """A node stops answering: its pods' phase becomes ``Unknown``; their logs and exec are unreachable.

        With ``evict_after``, the node lifecycle controller's taint eviction (``node.kubernetes.io/unreachable``,
        tolerated for 300 s by default) deletes those pods that many seconds later; no kubelet confirms, so
        they are removed without a graceful stop.
        """

        async def run() -> None:
            for node in self.nodes:
                if node.name == node_name:
                    node.lost = True
            lost = []
            for pod in list(self.pods.values()):
                if pod.node == node_name and pod.active:
                    pod.phase, pod.reason = "Unknown", "NodeLost"
                    pod.message = f"Node {node_name} which was running pod {pod.name} is unresponsive"
                    pod.condition("Ready", False, "NodeLost", pod.message)
                    pod.touch()
                    await pod.kill_all()
                    lost.append(pod)
            if evict_after is not None:

                async def evict() -> None:
                    await asyncio.sleep(evict_after)
                    for pod in lost:
                        self.deleted.append(pod.name)
                        await self._remove(pod)

                asyncio.ensure_future(evict())

        self.call(run)

    # -- helpers -------------------------------------------------------------------------------
    def next_version(self) -> str:
        return str(next(self._versions))

    def changed(self) -> None:
        self._change.set()
        self._change = asyncio.Event()

    async def wait_change(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._change.wait(), timeout)

    def event(self, pod: FakePod, kind: str, reason: str, message: str, c: Any = None) -> None:
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
        """What a pod asks the scheduler for: the larger of its containers' sum and its largest init container."""

        def of(c: dict[str, Any]) -> dict[str, float]:
            res = c.get("resources") or {}
            return {k: quantity(v) for k, v in {**(res.get("limits") or {}), **(res.get("requests") or {})}.items()}

        total: dict[str, float] = {}
        for c in spec.get("containers") or []:
            for key, value in of(c).items():
                total[key] = total.get(key, 0) + value
        for c in spec.get("initContainers") or []:
            for key, value in of(c).items():
                total[key] = max(total.get(key, 0), value)
        return total

    def _claims_of(self, obj: dict[str, Any]) -> list[str]:
        return [
            v["persistentVolumeClaim"]["claimName"]
            for v in obj["spec"].get("volumes") or []
            if "persistentVolumeClaim" in v
        ]

    def schedule(self, obj: dict[str, Any]) -> tuple[Node | None, str]:
        spec = obj["spec"]
        ns = obj["metadata"]["namespace"]
        n = len(self.nodes)
        unhelpful = f". preemption: 0/{n} nodes are available: {n} Preemption is not helpful for scheduling."
        for claim_name in self._claims_of(obj):  # the VolumeBinding plugin
            claim = self.claims.get((ns, claim_name))
            if claim is None:
                return None, f'0/{n} nodes are available: persistentvolumeclaim "{claim_name}" not found' + unhelpful
            if claim["metadata"].get("deletionTimestamp"):
                return (
                    None,
                    f'0/{n} nodes are available: persistentvolumeclaim "{claim_name}" is being deleted' + unhelpful,
                )
        wanted = self.requests_of(spec)
        selector = spec.get("nodeSelector") or {}
        reasons: dict[str, int] = {}
        used: dict[str, dict[str, float]] = {}
        for pod in self.pods.values():
            node = pod.node
            if node and pod.active and pod.obj is not obj:
                for key, value in self.requests_of(pod.obj["spec"]).items():
                    used.setdefault(node, {})[key] = used.get(node, {}).get(key, 0) + value
        for node in self.nodes:
            if node.lost:
                reasons["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"] = (
                    reasons.get("node(s) had untolerated taint {node.kubernetes.io/unreachable: }", 0) + 1
                )
                continue
            if any(node.labels.get(k) != v for k, v in selector.items()):
                key = "node(s) didn't match Pod's node affinity/selector"
                reasons[key] = reasons.get(key, 0) + 1
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

    def rwo_holders(self, pod: FakePod) -> tuple[str, list[str]] | None:
        """A ReadWriteOnce claim of ``pod`` attached on another node: (volume name, pods there)."""
        for claim_name in self._claims_of(pod.obj):
            claim = self.claims.get((pod.namespace, claim_name))
            if claim is None or "ReadWriteOnce" not in claim["spec"]["accessModes"]:
                continue
            others = [
                p.name
                for p in self.pods.values()
                if p is not pod and p.active and p.node and p.node != pod.node and claim_name in self._claims_of(p.obj)
            ]
            if others:
                return claim["spec"].get("volumeName") or f"pvc-{claim['metadata']['uid']}", others
        return None

    def _pod(self, request: web.Request) -> FakePod:
        pod = self.pods.get((request.match_info["ns"], request.match_info["name"]))
        if pod is None:
            raise not_found("pods", request.match_info["name"])
        return pod

    # -- the request path: authentication, authorization, faults --------------------------------------
    @staticmethod
    def attributes(request: web.Request, user: str) -> Attributes:
        """``RequestInfoFactory.NewRequestInfo``: the verb, resource and subresource of a request."""
        parts = [p for p in request.path.split("/") if p]
        ns, resource, name, sub = "", "", "", ""
        if parts[:2] == ["api", "v1"]:
            rest = parts[2:]
            if rest[:1] == ["namespaces"] and len(rest) >= 3:
                ns, rest = rest[1], rest[2:]
            resource = rest[0] if rest else ""
            name = rest[1] if len(rest) > 1 else ""
            sub = rest[2] if len(rest) > 2 else ""
        method = request.method
        if method == "GET":
            verb = "get" if name else ("watch" if flag(request.query.get("watch")) else "list")
        else:
            verb = {
                "POST": "create",
                "PUT": "update",
                "PATCH": "patch",
                "DELETE": "delete" if name else "deletecollection",
            }.get(method, method.lower())
        return Attributes(user=user, verb=verb, resource=resource, subresource=sub, namespace=ns, name=name)

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            if request.path == "/version":
                return await handler(request)
            auth = request.headers.get("Authorization", "")
            if not auth.startswith("Bearer fake-token:"):
                raise unauthorized()
            user = auth.split(":", 1)[1]
            attrs = self.attributes(request, user)
            checks = [attrs]
            if attrs.subresource == "exec" and attrs.verb == "get":  # 1.35: a websocket exec needs create too
                checks.append(Attributes(user, "create", attrs.resource, "exec", attrs.namespace, attrs.name))
            for a in checks:
                if a.resource in self.forbidden and user != ADMIN:
                    self.authorizer.recorded.add((a.verb, a.full_resource, ""))
                    raise ApiError(
                        403,
                        "Forbidden",
                        f'{a.resource}{f" {json.dumps(a.name)}" if a.name else ""} is forbidden: User "{user}" cannot '
                        f'{a.verb} resource "{a.full_resource}" in API group "" in the namespace "{a.namespace}"',
                        {"name": a.name, "kind": a.resource},
                    )
                self.authorizer.check(a)
            for fault in self.faults:
                if fault.seen < fault.times and fault.verb == attrs.verb and fault.resource == attrs.full_resource:
                    fault.seen += 1
                    raise fault.error(attrs.name)
            return await handler(request)
        except ApiError as exc:
            self.refusals.append(status_body(exc.code, exc.reason, exc.message, exc.details))
            return exc.response()

    async def _body(self, request: web.Request, kind: str) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError as exc:
            raise ApiError(
                400, "BadRequest", f"the object provided is unrecognized (must be of type {kind}): {exc}"
            ) from exc
        return body if isinstance(body, dict) else {}

    # -- handlers ------------------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"major": "1", "minor": "35", "gitVersion": "v1.35.0-fake"})

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
        obj = await self._body(request, "Pod")
        self.requests.append(("CREATE", request.path))
        meta = obj.setdefault("metadata", {})
        obj.setdefault("spec", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + uuid.uuid4().hex[:5]
        name = meta.get("name") or ""
        if meta.get("namespace") not in (None, ns):
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on the request",
            )
        if ns not in self.namespaces:
            raise not_found("namespaces", ns)
        for c in admission._containers(obj["spec"]):  # decoding: a malformed quantity never reaches validation
            for kind in ("limits", "requests"):
                for value in ((c.get("resources") or {}).get(kind) or {}).values():
                    try:
                        parse_quantity(value)
                    except ValueError as exc:
                        raise ApiError(
                            400, "BadRequest", f'Pod in version "v1" cannot be handled as a Pod: {exc}'
                        ) from exc
        admission.default_requests_from_limits(obj["spec"])
        obj["spec"].setdefault("restartPolicy", "Always")
        obj["spec"].setdefault("terminationGracePeriodSeconds", 30)
        for c in admission._containers(obj["spec"]):
            c.setdefault("terminationMessagePath", TERMINATION_DEFAULT)
            c.setdefault("terminationMessagePolicy", "File")
        errors = validate_pod(obj)
        if errors:
            raise unprocessable("Pod", name, errors)
        space = self.namespaces[ns]
        admission.apply_limit_ranges(space.limit_ranges, obj["spec"])
        admission.service_account(obj, ns, self.service_accounts)
        problems = admission.limit_range_errors(space.limit_ranges, obj["spec"])
        if problems:
            raise forbidden("pods", name, problems[0] if len(problems) == 1 else "[" + ", ".join(problems) + "]")
        admission.pod_security(obj, space.labels)
        admission.quota_check(space.quotas, obj, [p.obj for p in self.pods.values() if p.namespace == ns and p.active])
        if (ns, name) in self.pods:
            raise already_exists("pods", name)
        meta.update(
            namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now_iso(), resourceVersion=self.next_version()
        )
        self.created.append(json.loads(json.dumps(obj)))
        pod = FakePod(self, obj)
        self.pods[(ns, name)] = pod
        pod.task = asyncio.ensure_future(pod.run())
        self.changed()
        return web.json_response(pod.to_json(), status=201)

    async def read_pod(self, request: web.Request) -> web.Response:
        return web.json_response(self._pod(request).to_json())

    async def patch_pod(self, request: web.Request) -> web.Response:
        pod = self._pod(request)
        body = await self._body(request, "Pod")
        self.requests.append(("PATCH", request.path))
        meta = body.get("metadata") or {}
        version = meta.get("resourceVersion")
        if version is not None and version != pod.obj["metadata"]["resourceVersion"]:
            raise conflict("pods", pod.name)
        errors = validate_labels(
            meta.get("labels") and {k: v for k, v in meta["labels"].items() if v is not None}, "metadata.labels"
        )
        errors += validate_annotations(
            meta.get("annotations") and {k: v for k, v in meta["annotations"].items() if v is not None},
            "metadata.annotations",
        )
        if errors:
            raise unprocessable("Pod", pod.name, errors)
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
        """Graceful deletion: ``deletionTimestamp`` now, the kubelet's SIGTERM, SIGKILL after the grace period."""
        pod = self._pod(request)
        self.requests.append(("DELETE", request.path))
        options: dict[str, Any] = {}
        if request.can_read_body:
            with contextlib.suppress(ValueError):
                options = await request.json() or {}
        grace = options.get("gracePeriodSeconds", request.query.get("gracePeriodSeconds"))
        grace = int(grace) if grace is not None else int(pod.obj["spec"].get("terminationGracePeriodSeconds", 30))
        if pod.obj["metadata"].get("deletionTimestamp"):
            return web.json_response(pod.to_json())  # already terminating
        self.deleted.append(pod.name)
        if not pod.node or not pod.active or grace == 0:  # nothing runs on a node: the object goes at once
            await self._remove(pod)
            return web.json_response(pod.to_json())
        at = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=grace)
        pod.obj["metadata"]["deletionTimestamp"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        pod.obj["metadata"]["deletionGracePeriodSeconds"] = grace
        self.event(pod, "Normal", "Killing", f"Stopping container {pod.main[0].name}" if pod.main else "Stopping pod")
        body = pod.to_json()

        async def terminate() -> None:
            await pod.stop(grace)
            await self._remove(pod)

        asyncio.ensure_future(terminate())
        return web.json_response(body)

    async def _remove(self, pod: FakePod) -> None:
        pod.deleted = True
        await pod.kill_all()
        if pod.task is not None:
            pod.task.cancel()
        self.pods.pop((pod.namespace, pod.name), None)
        pod.touch()
        self.release_claims(pod.namespace)

    # -- persistent volume claims ----------------------------------------------------------------
    def claim_folder(self, namespace: str, name: str) -> Path:
        """Where pods mounting the claim see its files."""
        return self.node_root / "pvc" / namespace / name

    def _claim_in_use(self, ns: str, name: str) -> bool:
        """``pvc_protection_controller.podUsesPVC``: a scheduled pod that has not terminated mounts it."""
        return any(
            p.namespace == ns and p.node and p.active and name in self._claims_of(p.obj) for p in self.pods.values()
        )

    def release_claims(self, ns: str) -> None:
        """The pvc-protection controller: a Terminating claim goes once no pod uses it."""
        for (n, name), claim in list(self.claims.items()):
            if n == ns and claim["metadata"].get("deletionTimestamp") and not self._claim_in_use(ns, name):
                del self.claims[(n, name)]
                shutil.rmtree(self.claim_folder(ns, name), ignore_errors=True)

    async def list_claims(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        self.release_claims(ns)
        selector = request.query.get("labelSelector")
        items = [
            c
            for (n, _), c in self.claims.items()
            if n == ns and matches_selector(c["metadata"].get("labels") or {}, selector)
        ]
        return web.json_response({"kind": "PersistentVolumeClaimList", "apiVersion": "v1", "items": items})

    async def create_claim(self, request: web.Request) -> web.Response:
        ns = request.match_info["ns"]
        obj = await self._body(request, "PersistentVolumeClaim")
        self.requests.append(("CREATE", request.path))
        meta = obj.setdefault("metadata", {})
        name = meta.get("name") or ""
        try:
            errors = validate_claim(obj)
        except ValueError as exc:
            raise ApiError(
                400,
                "BadRequest",
                f'PersistentVolumeClaim in version "v1" cannot be handled as a PersistentVolumeClaim: {exc}',
            ) from exc
        if errors:
            raise unprocessable("PersistentVolumeClaim", name, errors)
        if (ns, name) in self.claims:
            raise already_exists("persistentvolumeclaims", name)
        spec = obj["spec"]
        admission.claim_quota_check(
            self.namespaces[ns].quotas if ns in self.namespaces else [],
            obj,
            [c for (n, _), c in self.claims.items() if n == ns],
        )
        meta.update(
            namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now_iso(), resourceVersion=self.next_version()
        )
        meta.setdefault("finalizers", ["kubernetes.io/pvc-protection"])
        spec.setdefault("storageClassName", "standard")  # the DefaultStorageClass admission plugin's default
        spec.setdefault("volumeMode", "Filesystem")
        size = spec["resources"]["requests"]["storage"]
        obj["status"] = {"phase": "Bound", "accessModes": spec["accessModes"], "capacity": {"storage": size}}
        spec["volumeName"] = f"pvc-{meta['uid']}"
        self.claims[(ns, name)] = obj
        self.created_claims.append(json.loads(json.dumps(obj)))
        self.changed()
        return web.json_response(obj, status=201)

    async def read_claim(self, request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        self.release_claims(ns)
        claim = self.claims.get((ns, name))
        if claim is None:
            raise not_found("persistentvolumeclaims", name)
        return web.json_response(claim)

    async def delete_claim(self, request: web.Request) -> web.Response:
        ns, name = request.match_info["ns"], request.match_info["name"]
        claim = self.claims.get((ns, name))
        if claim is None:
            raise not_found("persistentvolumeclaims", name)
        self.requests.append(("DELETE", request.path))
        if self._claim_in_use(ns, name):  # kubernetes.io/pvc-protection keeps it Terminating
            claim["metadata"].setdefault("deletionTimestamp", now_iso())
            claim["metadata"]["deletionGracePeriodSeconds"] = 0
            claim["metadata"]["resourceVersion"] = self.next_version()
            return web.json_response(claim)
        del self.claims[(ns, name)]
        shutil.rmtree(self.claim_folder(ns, name), ignore_errors=True)
        self.changed()
        return web.json_response(claim)

    # -- logs, events, exec ------------------------------------------------------------------------
    def _unreachable(self, pod: FakePod, what: str) -> None:
        if pod.phase == "Unknown":
            raise ApiError(
                500,
                "InternalError",
                f'Get "https://{pod.node}:10250/{what}/{pod.namespace}/{pod.name}": '
                "dial tcp 10.0.0.1:10250: connect: no route to host",
            )

    async def read_log(self, request: web.Request) -> web.StreamResponse:
        pod = self._pod(request)
        q = request.query
        name = q.get("container")
        if name is None:
            if len(pod.main) != 1:
                names = " ".join(c.name for c in pod.main)
                raise ApiError(
                    400,
                    "BadRequest",
                    f"a container name must be specified for pod {pod.name}, choose one of: [{names}]",
                )
            name = pod.main[0].name
        c = pod.container(name)
        if c is None:
            raise ApiError(400, "BadRequest", f"container {name} is not valid for pod {pod.name}")
        self._unreachable(pod, "containerLogs")
        if not c.started:
            reason = (c.state.get("waiting") or {}).get("reason", "ContainerCreating")
            raise ApiError(400, "BadRequest", f'container "{name}" in pod "{pod.name}" is waiting to start: {reason}')
        follow = flag(q.get("follow"))
        stamps = flag(q.get("timestamps"))
        since = None
        if q.get("sinceSeconds"):
            since = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(seconds=int(q["sinceSeconds"]))
        elif q.get("sinceTime"):
            since = datetime.datetime.fromisoformat(q["sinceTime"].replace("Z", "+00:00"))
        self.requests.append(("LOG", request.path_qs))
        drop = follow and self.log_drops > 0
        if drop:
            self.log_drops -= 1
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
        if drop:  # the connection breaks mid-stream: no terminating chunk
            while c.terminated is None and len(c.logs) == sent and not pod.deleted:
                await pod.changed.wait()
            for line in c.logs[sent : sent + 1]:
                await resp.write(render(line))
            assert request.transport is not None
            request.transport.abort()
            return resp
        while follow and c.terminated is None and not pod.deleted and pod.phase != "Unknown":
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
        while True:
            for event in selected():
                if event["metadata"]["uid"] not in seen:
                    seen.add(event["metadata"]["uid"])
                    await resp.write(json.dumps({"type": "ADDED", "object": event}).encode() + b"\n")
            left = end - asyncio.get_running_loop().time()
            if left <= 0:
                break
            await self.wait_change(min(0.2, left))
        await resp.write_eof()
        return resp

    async def exec_pod(self, request: web.Request) -> web.StreamResponse:
        pod = self._pod(request)
        query = parse_qs(request.query_string)
        command = query.get("command") or []
        name = (query.get("container") or [pod.main[0].name])[0]
        self.requests.append(("EXEC", f"{name}: {json.dumps(command)}"))
        self._unreachable(pod, "exec")
        c = pod.container(name)
        if c is None or "running" not in c.state or c.proc is None:
            raise ApiError(
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
                cwd=str(c.root / "rootfs"),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                **pod._credentials(c),
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
