"""The local runner's PVC mounts: a claim's folder bind-mounted at the task's mount path, in a private
mount namespace, so a component writing to ``/data`` writes into the claim and never into the
worker's own ``/data``.

On the local runner a claim is the folder ``<AIRFLOW_HOME>/kfp/volumes/<name>`` (made by CreatePVC, or
on first use for a claim made outside the pipeline). The launcher of a task with ``mount_pvc`` runs
under ``unshare --user --map-root-user --mount``: a user namespace in which the worker's user may
bind-mount, visible to that process tree only. A mount point missing on the worker is created empty
for the run and removed after it, unless another task still mounts there: every try holds a shared
lock on each of its mount points while it runs, and only a try that can take it exclusively removes
one (without that, one task's clean-up removed the mount point another task was about to mount on).
Where the OS refuses user namespaces (a container without the
privilege, a kernel with them disabled) the task fails, naming the mount and the fix, rather than run
with writes landing on the host path. The run workspace is not mounted here: its placeholder is the
folder itself. Other volumes (Secrets, ConfigMaps, empty dirs) stay unmounted on the local runner.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from airflow_kfp.errors import ComponentFailedError
from airflow_kfp.spec.kubernetes import sub_path_problem
from airflow_kfp.spec.model import TaskSpec
from airflow_kfp.spec.pvc import workspace_mount


def local_volumes_root() -> Path:
    """Where the local runner keeps claims (and run workspaces): ``<AIRFLOW_HOME>/kfp/volumes``."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
    return Path(home) / "kfp" / "volumes"


UNSHARE = ("unshare", "--user", "--map-root-user", "--mount")
_BIND = (
    'while [ "$1" != "--" ]; do mount --bind "$1" "$2" || { echo "[airflow-kfp] cannot bind $1 at $2" >&2; '
    'exit 97; }; shift 2; done; shift; exec "$@"'
)


@dataclass
class LocalMounts:
    """The bind mounts of one try: (claim folder, mount path) pairs, and the mount points made for it."""

    binds: list[tuple[Path, str]]
    made: list[Path] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    """Descriptors of the shared locks this try holds on its mount points (see ``_hold``)."""

    def prefix(self) -> list[str]:
        """The command the launcher's own command follows: the namespace, then the binds."""
        pairs = [part for source, target in self.binds for part in (str(source), target)]
        return [*UNSHARE, "sh", "-c", _BIND, "sh", *pairs, "--"]

    def release(self) -> None:
        """Remove the mount points made for this try (empty: the claim's files were in the claim) when no
        other try holds them, then drop this try's locks."""
        try:
            alone = True
            for fd in self.held:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    alone = False
            if alone:
                for path in reversed(self.made):
                    with contextlib.suppress(OSError):
                        path.rmdir()
        finally:
            for fd in self.held:
                os.close(fd)
            self.held.clear()


def _hold(volumes: Path, target: Path) -> int:
    """A shared lock on ``target`` as a mount point, held until the try's release."""
    locks = volumes / ".mount-points"
    locks.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha256(os.fsencode(target)).hexdigest()[:24]
    fd = os.open(locks / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_SH)
    return fd


@functools.cache
def _namespaces_refusal() -> str | None:
    """Why this worker cannot make a private mount namespace, or None when it can."""
    if shutil.which(UNSHARE[0]) is None:
        return "the 'unshare' command (util-linux) is not installed on this worker"
    try:
        probe = subprocess.run([*UNSHARE, "true"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"'unshare' could not run ({exc})"
    if probe.returncode != 0:
        return f"the OS refuses user and mount namespaces ({probe.stderr.strip() or probe.returncode})"
    return None


def pvc_mounts(task: TaskSpec, volumes: Path, where: str) -> LocalMounts | None:
    """The bind mounts ``task``'s PVC mounts need (its run-time names already resolved), or None."""
    skip = workspace_mount(task)
    wanted = [
        (m, i) for i, m in enumerate(task.kubernetes.pvc_mount) if f"pvc_mount.{i}.pvc_name" != skip and m.pvc_name
    ]
    if not wanted:
        return None
    refusal = _namespaces_refusal()
    if refusal is not None:
        paths = ", ".join(f"'{m.pvc_name}' at {m.mount_path}" for m, _ in wanted)
        raise ComponentFailedError(
            f"{where}: the local runner cannot mount the PVC(s) {paths}: {refusal}. It will not run the component "
            "with writes landing on the worker's own paths. Run this pipeline with the Kubernetes runner "
            "(to_dag(..., runner='kubernetes') or [kfp] runner = kubernetes), or on a worker that allows "
            "'unshare --user --mount'."
        )
    mounts = LocalMounts(binds=[])
    try:
        for mount, _ in wanted:
            problem = sub_path_problem(mount.sub_path)
            if problem:  # checked at parse too; a model edited by hand must not bind outside the claim
                raise ComponentFailedError(f"{where}: PVC '{mount.pvc_name}': {problem}.")
            source = volumes / mount.pvc_name
            if mount.sub_path:
                source = source / mount.sub_path
            source.mkdir(parents=True, exist_ok=True)
            target = Path(mount.mount_path)
            mounts.held.append(_hold(volumes, target))  # before looking: a removal in flight finishes first
            missing = [p for p in [target, *target.parents] if not p.exists()]
            try:
                target.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ComponentFailedError(
                    f"{where}: the mount path {mount.mount_path} of PVC '{mount.pvc_name}' does not exist on this "
                    f"worker and cannot be created ({exc.strerror}); create it, or run the pipeline with the "
                    "Kubernetes runner."
                ) from None
            mounts.made.extend(reversed(missing))
            mounts.binds.append((source, mount.mount_path))
    except BaseException:
        mounts.release()
        raise
    return mounts
