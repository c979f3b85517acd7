"""``local.init`` and the runners, with kfp.local's names and arguments (kfp 2.17 ``kfp/local/config.py``).

One session-wide configuration, set by :func:`init` and read when a component or pipeline is called
outside ``@dsl.pipeline``. Plain data: importing it imports neither Airflow nor the runner.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, ClassVar

from airflow_kfp.dsl.pipeline_context import run_outside_pipeline

DEFAULT_PIPELINE_ROOT = "./local_outputs"


@dataclass
class SubprocessRunner:
    """Run each task as a subprocess of this Python, through the package's launcher.

    ``use_venv``: kfp.local installs a component's ``packages_to_install`` into a fresh virtual
    environment per task; here they go into a cached folder put on the task's ``sys.path`` (the local
    runner's ``[kfp] local_install_packages`` behaviour), and only when this interpreter lacks them, so
    both values run the same code. The fields after it are accepted for source compatibility: pip
    installs into the cached folder are already serialised per folder."""

    use_venv: bool = True
    serialize_pip_installs: bool = True
    max_concurrent_pip_installs: int = 1


class DockerRunner:
    """Run each task in a container of its image, as kfp.local's ``DockerRunner`` does.

    Takes the keyword arguments of docker-py's ``containers.run`` that kfp.local accepts (all but
    ``image``, ``command`` and ``volumes``, which the runner sets). A task refuses to start when no
    Docker daemon answers (``docker_runner.daemon_problem``), naming what was tried."""

    DOCKER_CONTAINER_RUN_ARGS: ClassVar[frozenset[str]] = frozenset(
        [
            "image",
            "command",
            "auto_remove",
            "blkio_weight_device",
            "blkio_weight",
            "cap_add",
            "cap_drop",
            "cgroup_parent",
            "cgroupns",
            "cpu_count",
            "cpu_percent",
            "cpu_period",
            "cpu_quota",
            "cpu_rt_period",
            "cpu_rt_runtime",
            "cpu_shares",
            "cpuset_cpus",
            "cpuset_mems",
            "detach",
            "device_cgroup_rules",
            "device_read_bps",
            "device_read_iops",
            "device_write_bps",
            "device_write_iops",
            "devices",
            "device_requests",
            "dns",
            "dns_opt",
            "dns_search",
            "domainname",
            "entrypoint",
            "environment",
            "extra_hosts",
            "group_add",
            "healthcheck",
            "hostname",
            "init",
            "init_path",
            "ipc_mode",
            "isolation",
            "kernel_memory",
            "labels",
            "links",
            "log_config",
            "lxc_conf",
            "mac_address",
            "mem_limit",
            "mem_reservation",
            "mem_swappiness",
            "memswap_limit",
            "mounts",
            "name",
            "nano_cpus",
            "network",
            "network_disabled",
            "network_mode",
            "networking_config",
            "oom_kill_disable",
            "oom_score_adj",
            "pid_mode",
            "pids_limit",
            "platform",
            "ports",
            "privileged",
            "publish_all_ports",
            "read_only",
            "remove",
            "restart_policy",
            "runtime",
            "security_opt",
            "shm_size",
            "stdin_open",
            "stdout",
            "stderr",
            "stop_signal",
            "storage_opt",
            "stream",
            "sysctls",
            "tmpfs",
            "tty",
            "ulimits",
            "use_config_proxy",
            "user",
            "userns_mode",
            "uts_mode",
            "version",
            "volume_driver",
            "volumes",
            "working_dir",
        ]
    )

    def __init__(self, max_concurrent_pip_installs: int = 1, **container_run_args: Any) -> None:
        unsupported = sorted(set(container_run_args) - self.DOCKER_CONTAINER_RUN_ARGS)
        if unsupported:
            raise ValueError(
                f"Unsupported `docker run` arguments, see Package `docker` for details: {', '.join(unsupported)}"
            )
        excess = sorted({"image", "command", "volumes"} & set(container_run_args))
        if excess:
            raise ValueError(f"The following docker run arguments should not be specififed: {', '.join(excess)}")
        self.container_run_args = container_run_args
        self.max_concurrent_pip_installs = max_concurrent_pip_installs

    def __repr__(self) -> str:
        return f"DockerRunner({', '.join(f'{k}={v!r}' for k, v in self.container_run_args.items())})"


LocalRunnerType = SubprocessRunner | DockerRunner


@dataclass
class LocalExecutionConfig:
    """The session's configuration (kfp.local keeps one instance; so does :func:`init`)."""

    runner: LocalRunnerType
    pipeline_root: str
    workspace_root: str
    raise_on_error: bool
    enable_caching: bool = False
    cache_root: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    """``[kfp]`` settings for the local runs (``init(**settings)``: ``local_launch``, ``cache_version``...)."""

    instance: ClassVar[LocalExecutionConfig | None] = None

    @classmethod
    def validate(cls) -> LocalExecutionConfig:
        if cls.instance is None:
            raise RuntimeError(
                "Local environment not initialized. Please run 'airflow_kfp.local.init()' before executing "
                "tasks locally (e.g. local.init(runner=local.SubprocessRunner()))."
            )
        return cls.instance


def init(
    runner: LocalRunnerType,
    pipeline_root: str = DEFAULT_PIPELINE_ROOT,
    workspace_root: str | None = None,
    raise_on_error: bool = True,
    enable_caching: bool = False,
    cache_root: str | None = None,
    **settings: Any,
) -> None:
    """Start a local session: afterwards components and pipelines called outside ``@dsl.pipeline`` run
    at once, here, and return their outputs.

    ``pipeline_root``: where task outputs go (a folder, ``file://`` or ``s3://`` URI). ``raise_on_error``:
    a failed task raises ``RuntimeError`` (True) or is logged and leaves its outputs empty (False).
    ``enable_caching``: reuse an identical earlier task's outputs (off by default, as in kfp.local;
    ``set_caching_options(False)`` still opts a task out); the index lives with the outputs, under the
    root's ``.cache``, so ``cache_root`` and ``workspace_root`` are refused rather than ignored.
    ``settings``: other ``[kfp]`` options for these runs (e.g. ``local_launch="spawn"``,
    ``cache_version="2"``)."""
    if not isinstance(runner, SubprocessRunner | DockerRunner):
        raise ValueError(
            f"Got unknown runner {runner} of type {type(runner).__name__}. Runner should be one of the following "
            "types: SubprocessRunner. DockerRunner."
        )
    from airflow_kfp.config import KfpSettings

    known = set(KfpSettings.__dataclass_fields__) - {"runner", "artifact_root", "enable_caching"}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise TypeError(f"init() got unknown argument(s) {unknown}; [kfp] settings it accepts: {sorted(known)}")
    if "://" not in pipeline_root:
        pipeline_root = os.path.abspath(pipeline_root)
    if cache_root is not None:
        # The index lives beside the artifacts it names, in the same store (cache/index.py): a hit is
        # checked against those very objects, so it cannot move elsewhere.
        raise ValueError(
            f"init(cache_root={cache_root!r}): airflow_kfp.local keeps the cache index with the outputs, under "
            f"{pipeline_root.rstrip('/')}/.cache; leave cache_root out (pipeline_root decides where both go)."
        )
    if workspace_root is not None:
        raise ValueError(
            f"init(workspace_root={workspace_root!r}): a run's dsl.PipelineConfig workspace is a folder under "
            "<AIRFLOW_HOME>/kfp/volumes, as for DAG runs on the local runner; leave workspace_root out."
        )
    workspace_root = tempfile.mkdtemp(prefix="kfp-workspace-")
    run_outside_pipeline(_run_now)
    LocalExecutionConfig.instance = LocalExecutionConfig(
        runner=runner,
        pipeline_root=pipeline_root,
        workspace_root=workspace_root,
        raise_on_error=raise_on_error,
        enable_caching=enable_caching,
        cache_root=cache_root,
        settings=dict(settings),
    )


def _run_now(component: Any, arguments: dict[str, Any]) -> Any:
    """A component or pipeline called outside ``@dsl.pipeline``: run it now, while :func:`init` holds."""
    if LocalExecutionConfig.instance is None:
        return None
    from airflow_kfp.dsl.importer_node import importer
    from airflow_kfp.local.execution import run, run_importer

    if component is importer:  # dsl.importer(...) outside a pipeline
        return run_importer(**arguments)
    return run(component, arguments)
