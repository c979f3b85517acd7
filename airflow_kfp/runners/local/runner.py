"""The local runner: runs one component try as a subprocess on the worker, through the launcher.

Like KFP's local task handlers (``SubprocessTaskHandler``), it knows nothing of Airflow: the operator
(``operators/local.py``) resolves the inputs, asks the cache and publishes the manifest, and calls
:meth:`LocalRunner.run_component` only on a cache miss. The runner stages the input artifacts
(checking their recorded digests), writes the task document (``task_document``), starts the launcher
(``launch``: fork server or a fresh interpreter) in an allow-listed environment (``component_env``),
and stores the output artifacts.

The Kubernetes runner could take the same shape (a ``PodRunner`` whose ``run_component`` builds the pod
with ``pod_spec``, then collects the outputs ``pod_staging`` left in the store), but there the pod's
lifetime belongs to ``KubernetesPodOperator.execute`` (deferral, log streaming, cleanup), so it stays
inside that operator rather than duplicating that flow.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol

from airflow_kfp.config import KfpSettings, Runner
from airflow_kfp.core.artifacts import METRICS_TYPES, uri_to_local_path
from airflow_kfp.errors import ComponentFailedError
from airflow_kfp.manifest import ArtifactRecord, recorded_as_given
from airflow_kfp.runners import task_document
from airflow_kfp.runners.base import ResolvedInputs, RunResult
from airflow_kfp.runners.local import environment as component_env
from airflow_kfp.runners.local import launch, workdirs
from airflow_kfp.runners.local import mounts as local_mounts
from airflow_kfp.runtime import limits, regular, user_code, verify
from airflow_kfp.spec.images import effective_image
from airflow_kfp.spec.messages import where
from airflow_kfp.spec.model import ComponentSpec, TaskSpec
from airflow_kfp.spec.task_config import applied_task
from airflow_kfp.stores.artifact_store import ArtifactStore
from airflow_kfp.stores.identity import identity_fields
from airflow_kfp.stores.layout import encode_segment

PACKAGE_PARENT = str(Path(__file__).resolve().parents[3])
LOG_TAIL_LINES = 40


def _requirement_satisfied(requirement: str) -> bool:
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    try:
        req = Requirement(requirement)
        if req.url:
            return False
        version = metadata.version(req.name)
    except (InvalidRequirement, metadata.PackageNotFoundError):
        return False
    return req.specifier.contains(version, prereleases=True)


class TaskLog(Protocol):
    """The operator's task logger, as far as the runner uses it (lines land in the Airflow task log)."""

    def info(self, event: Any, *args: Any, **kw: Any) -> Any: ...
    def warning(self, event: Any, *args: Any, **kw: Any) -> Any: ...


@dataclass(frozen=True)
class LocalRunner:
    """A ``task_run.ComponentRunner`` for one task: the image is ignored, the worker's Python is used."""

    pipeline_name: str
    task_spec: TaskSpec
    component_spec: ComponentSpec
    launcher_context: Callable[[Mapping[str, Any], ArtifactStore], dict[str, str]]
    """The values of KFP's ``{{$.pipeline_*}}`` placeholders for a run (the operator's, shared with argument values)."""
    log: TaskLog
    kfp_runner: ClassVar[str] = Runner.LOCAL

    def where(self, argument: str | None = None) -> str:
        return where(self.pipeline_name, self.task_spec.name, argument)

    def _package_plan(self, settings: KfpSettings) -> tuple[bool, str | None]:
        impl = self.component_spec.implementation
        packages = list(getattr(impl, "packages_to_install", []) or [])
        if not packages:
            return False, None
        missing = [p for p in packages if not _requirement_satisfied(p)]
        if settings.local_install_packages == "auto" and not missing:
            return False, None
        if settings.local_install_packages == "never":
            if missing:
                raise ComponentFailedError(
                    f"{self.where()}: packages_to_install {missing} are not installed on this worker and "
                    f"[kfp] local_install_packages is 'never'; install them or set it to 'auto'."
                )
            return False, None
        key = json.dumps([packages, getattr(impl, "pip_index_urls", []), sys.version_info[:2]], sort_keys=True).encode()
        home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
        target = os.path.join(home, "kfp", "pip", hashlib.sha256(key).hexdigest()[:16])
        self.log.info("Installing %s into %s (reused by later runs)", missing or packages, target)
        return True, target

    def _stage_inputs(
        self, inputs: ResolvedInputs, store: ArtifactStore, workdir: Path
    ) -> dict[str, list[dict[str, Any]]]:
        staged: dict[str, list[dict[str, Any]]] = {}
        for name, records in inputs.artifacts.items():
            entries = []
            for i, record in enumerate(records):
                uri = record["uri"]
                if recorded_as_given(record):
                    entries.append(task_document.artifact_entry(name, record, uri_to_local_path(uri)))
                    continue
                local = store.local_path(uri)
                try:  # the digest the manifest records is checked before the component starts
                    if local is None:
                        local = workdir / "inputs" / name / str(i) / encode_segment(Path(uri.rstrip("/")).name)
                        local.parent.mkdir(parents=True, exist_ok=True)
                        got = store.get_path(uri, local)  # hashed while it streams
                        verify.check(name, uri, record, got.digest, got.size, got.etag)
                    else:
                        verify.verify_in_place(name, str(local), uri, record)
                except (verify.ArtifactIntegrityError, regular.IrregularEntryError) as exc:
                    raise ComponentFailedError(f"{self.where(name)}: {exc}") from None
                entries.append(task_document.artifact_entry(name, record, str(local)))
            staged[name] = entries
        return staged

    def _run_launcher(
        self,
        task_file: Path,
        workdir: Path,
        env: dict[str, str],
        settings: KfpSettings,
        mounts: local_mounts.LocalMounts | None = None,
    ) -> None:
        tail: collections.deque[str] = collections.deque(maxlen=LOG_TAIL_LINES)
        reporting = False  # after the launcher's error marker: the traceback, kept whole in its report

        def on_line(line: str) -> None:
            nonlocal reporting
            reporting = reporting or line.startswith(user_code.ERROR_MARKER)
            if not reporting:
                tail.append(line)
            self.log.info("[%s] %s", self.task_spec.name, line)

        argv = ["--task-file", str(task_file), "--workdir", str(workdir)]
        try:
            prefix = mounts.prefix() if mounts is not None else ()
            code = launch.run_launcher(settings.local_launch, argv, env, workdir, on_line, prefix)
        except launch.LaunchLostError as exc:
            raise ComponentFailedError(f"{self.where()}: {exc}; its output so far:\n" + "\n".join(tail)) from exc
        if code != 0:
            report = user_code.read_report(str(workdir))
            message = f"{self.where()}: component '{self.component_spec.name}' exited with code {code}."
            output = "\n".join(tail) if tail else None
            if output:
                before = " before the error" if report else ""
                message += f"\nLast {len(tail)} lines of its output{before}:\n{output}"
            if report:  # the user's traceback last: where Airflow's log view scrolls to
                message += f"\nThe component's error (its own frames first):\n{report}"
            raise ComponentFailedError(message, user_report=report, output_tail=output)

    def _env(self, workdir: Path, settings: KfpSettings) -> dict[str, str]:
        """An allow-listed environment (see ``component_env``): no worker secret reaches the component."""
        launcher: dict[str, str] = {
            "PYTHONPATH": os.pathsep.join(p for p in (PACKAGE_PARENT, os.environ.get("PYTHONPATH", "")) if p),
            "PYTHONUNBUFFERED": "1",
        }
        if os.environ.get("PYTHONDONTWRITEBYTECODE") and "PYTHONPYCACHEPREFIX" not in os.environ:
            # Images often forbid .pyc files beside the sources; without any, every component start
            # recompiles the launcher and the user's libraries. Keep them in a private cache instead.
            home = os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow")
            launcher["PYTHONPYCACHEPREFIX"] = os.path.join(home, "kfp", "pycache")
        task = applied_task(self.task_spec, self.component_spec)  # dsl.TaskConfig: ENV forwarded only
        requested = component_env.requested_variables(task)
        for name, optional in requested.items():
            if name not in os.environ or not component_env.is_passed_through(name, (name,)):
                self.log.warning(
                    "Task asks a Secret/ConfigMap for %s%s; on the local runner it comes from the worker's "
                    "environment, where it is %s.",
                    name,
                    " (optional)" if optional else "",
                    "not set" if name not in os.environ else "refused (credentials never reach components)",
                )
        return component_env.component_environment(
            os.environ, task.env, workdir, launcher, settings.local_env_passthrough, requested
        )

    def run_component(
        self,
        context: Mapping[str, Any],
        inputs: ResolvedInputs,
        output_uris: dict[str, str],
        store: ArtifactStore,
        settings: KfpSettings,
    ) -> RunResult:
        impl = self.component_spec.implementation
        if impl.kind == "container":
            self.log.info(
                "Local runner: running the command of container component '%s' on this host; its image %r is ignored.",
                self.component_spec.name,
                effective_image(self.component_spec, self.task_spec, settings.default_image),
            )
        install, pip_target = self._package_plan(settings)
        workdirs.sweep_once()  # folders of tasks killed before they could remove theirs (partial outputs)
        claimed = workdirs.claim(self.task_spec.name)
        workdir = claimed.path
        env: dict[str, str] | None = None
        try:
            staged = self._stage_inputs(inputs, store, workdir)
            types = task_document.output_types(self.component_spec)
            out_paths = {name: workdir / "outputs" / name for name in output_uris}
            outputs = {
                name: task_document.artifact_entry(name, {"uri": uri, "type": types[name]}, str(out_paths[name]))
                for name, uri in output_uris.items()
            }
            executor_output = workdir / "executor_output.json"
            task_doc = task_document.task_document(
                self.component_spec,
                self.task_spec,
                inputs.parameters,
                staged,
                outputs,
                str(workdir / "parameters"),
                str(executor_output),
                context=self.launcher_context(context, store),
                install_packages=install,
                pip_target=pip_target,
                max_parameter_bytes=settings.output_parameter_limit(),
            )
            task_file = workdir / "task.json"
            task_file.write_text(json.dumps(task_doc))
            env = self._env(workdir, settings)
            mounts = local_mounts.pvc_mounts(self.task_spec, local_mounts.local_volumes_root(), self.where())
            try:
                self._run_launcher(task_file, workdir, env, settings, mounts)
            finally:
                if mounts is not None:
                    mounts.release()
            written = self._executor_output(executor_output, settings)
            return RunResult(
                parameters=dict(written.get("parameterValues") or {}),
                artifacts=self._store_outputs(written, out_paths, output_uris, types, store),
            )
        finally:
            launch.discard(settings.local_launch, workdir, env)
            claimed.release()

    def _executor_output(self, path: Path, settings: KfpSettings) -> dict[str, Any]:
        """The launcher's executor output, read only up to what the parameter cap allows for every output."""
        if not os.path.lexists(path):
            return {}
        bound = settings.output_parameter_limit() * (len(self.component_spec.outputs) + 1)
        try:
            return dict(json.loads(limits.read_parameter_file(str(path), "(executor output)", bound)))
        except (limits.ParameterTooLargeError, regular.IrregularEntryError) as exc:
            raise ComponentFailedError(f"{self.where()}: component '{self.component_spec.name}': {exc}.") from None

    def _regularise(self, out_paths: dict[str, Path]) -> None:
        """Outputs are regular files and folders only (``runtime.regular``), checked for every output
        before any is read or moved: links inside the output folder become copies, the rest is refused."""
        if not out_paths:
            return
        boundary = str(next(iter(out_paths.values())).parent)
        try:
            notes = regular.regularise_outputs({n: str(p) for n, p in out_paths.items()}, boundary)
        except (regular.IrregularEntryError, OSError) as exc:
            raise ComponentFailedError(
                f"{self.where()}: component '{self.component_spec.name}' wrote an output that is not a regular "
                f"file or folder: {exc}. Nothing was stored."
            ) from None
        for note in notes:
            self.log.info("%s", note)

    def _store_outputs(
        self,
        written: dict[str, Any],
        out_paths: dict[str, Path],
        output_uris: dict[str, str],
        types: dict[str, str],
        store: ArtifactStore,
    ) -> dict[str, ArtifactRecord]:
        records: dict[str, ArtifactRecord] = {}
        self._regularise(out_paths)
        for name, uri in output_uris.items():
            produced = (written.get("artifacts") or {}).get(name, {}).get("artifacts") or [{}]
            metadata = dict(produced[0].get("metadata") or {})
            path = out_paths[name]
            elsewhere = str(produced[0].get("uri") or uri)
            if not path.exists() and elsewhere != uri:  # KFP: the component keeps it at its own URI (oci://...)
                records[name] = ArtifactRecord(uri=elsewhere, type=types[name], metadata=metadata, external=True)
                self.log.info("Output '%s' is kept where the component put it: %s", name, elsewhere)
                continue
            if not path.exists():
                if types[name] in METRICS_TYPES:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(json.dumps(metadata, indent=2, sort_keys=True))
                else:
                    raise ComponentFailedError(
                        f"{self.where()}: component '{self.component_spec.name}' did not write its output "
                        f"artifact '{name}' (nothing at its .path); write a file or directory there."
                    )
            info = store.put_path(path, uri, move=True)
            records[name] = ArtifactRecord(
                uri=info.uri,
                type=types[name],
                metadata=metadata,
                size=info.size,
                digest=info.digest,
                **identity_fields(info),  # type: ignore[typeddict-item]
            )
            self.log.info("Stored output '%s' at %s (%d bytes, %s)", name, info.uri, info.size, info.digest)
        return records
