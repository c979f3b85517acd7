"""What runs inside a component pod: stage inputs, run the launcher, store outputs, report via XCom.

``python3 -c BOOTSTRAP <step>`` unpacks this package from an environment variable (the image needs
only ``python3``) and calls :func:`main`. Steps:

- ``run`` (Python components, one container): all of the below in one process.
- ``stage-in`` (container components, an init container with python3): fetch inputs into the shared
  work volume and write ``run.sh``, the component's command with its placeholders resolved.
- ``stage-out`` (container components, a second container): wait until the main container's
  wrapper records its exit code, then collect outputs, store them and write the XCom result.

Paths: the work volume is ``$AIRFLOW_KFP_WORKDIR`` (``/kfp``) and the XCom file goes to
``$AIRFLOW_KFP_XCOM_DIR/return.json`` (``/airflow/xcom``); both can be moved, so the exact pod
command also runs as a local process. Standard library only.
"""

from __future__ import annotations

import base64
import collections
import json
import os
import shlex
import subprocess
import sys
import time
import zlib
from collections.abc import Mapping
from typing import Any

from airflow_kfp.runtime import limits, staging, transport, user_code

POD_WORKDIR = "/kfp"
XCOM_DIR = "/airflow/xcom"
TERMINATION_LOG = "/dev/termination-log"
TASK_CHUNK_ENV = "AIRFLOW_KFP_TASK_Z"
TASK_URL_ENV = "AIRFLOW_KFP_TASK_URL"
"""A large task document is fetched from here (a presigned GET URL, or ``file://`` on a shared volume)."""
TASK_SHA_ENV = "AIRFLOW_KFP_TASK_SHA256"
RUNTIME_ENV = "AIRFLOW_KFP_RUNTIME_B64"
TAIL_LINES = 40
TERMINATION_MESSAGE_MAX = 4000

BOOTSTRAP = (
    "import base64,os,sys\n"
    "w=os.environ.get('AIRFLOW_KFP_WORKDIR','/kfp')\n"
    "os.makedirs(w,exist_ok=True)\n"
    "z=os.path.join(w,'airflow_kfp_runtime.zip')\n"
    "open(z,'wb').write(base64.b64decode(os.environ['AIRFLOW_KFP_RUNTIME_B64']))\n"
    "sys.path.insert(0,z)\n"
    "from airflow_kfp.runtime.pod import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)

# The main container of a container component: only ``sh`` (plus sleep/tee/tail) is needed.
CONTAINER_WRAPPER = r"""W="${AIRFLOW_KFP_WORKDIR:-/kfp}"
T="${AIRFLOW_KFP_TERMINATION_LOG:-/dev/termination-log}"
{ sh "$W/run.sh"; echo $? > "$W/.main-exit"; } 2>&1 | tee "$W/main.log"
read code < "$W/.main-exit"
while [ ! -e "$W/.uploaded" ]; do sleep 1; done
read status < "$W/.uploaded"
if [ "$code" -ne 0 ]; then
  { echo "exit code $code; last lines of its output:"; tail -n 40 "$W/main.log"; } > "$T" 2>/dev/null
  echo "[airflow-kfp] the command exited with code $code" >&2
  exit "$code"
fi
if [ "$status" != ok ]; then
  echo "storing the outputs failed: $status" > "$T" 2>/dev/null
  echo "[airflow-kfp] storing the outputs failed: $status" >&2
  exit 1
fi
"""


def encode_task(doc: Mapping[str, Any], chunk_size: int) -> dict[str, str]:
    """The task document as compressed base64 environment variables of at most ``chunk_size`` bytes."""
    blob = base64.b64encode(pack_task(doc)).decode()
    chunks = [blob[i : i + chunk_size] for i in range(0, len(blob), chunk_size)] or [""]
    env = {f"{TASK_CHUNK_ENV}_{i}": chunk for i, chunk in enumerate(chunks)}
    env[f"{TASK_CHUNK_ENV}_N"] = str(len(chunks))
    return env


def pack_task(doc: Mapping[str, Any]) -> bytes:
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 9)


def _fetch_task(url: str, sha256: str) -> dict[str, Any]:
    import hashlib
    import urllib.request

    def once() -> bytes:
        with urllib.request.urlopen(url, timeout=60) as resp:
            return bytes(resp.read())

    blob = transport._retrying("fetching the task document", once)
    if sha256 and hashlib.sha256(blob).hexdigest() != sha256:
        raise staging.StagingError("the task document changed after the worker wrote it (sha256 mismatch)")
    return dict(json.loads(zlib.decompress(blob)))


def decode_task(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    if environ.get(TASK_URL_ENV):
        return _fetch_task(environ[TASK_URL_ENV], environ.get(TASK_SHA_ENV, ""))
    count = int(environ.get(f"{TASK_CHUNK_ENV}_N", "0"))
    if count <= 0:
        raise staging.StagingError(f"the pod has no task document ({TASK_CHUNK_ENV}_N is not set)")
    blob = "".join(environ[f"{TASK_CHUNK_ENV}_{i}"] for i in range(count))
    return dict(json.loads(zlib.decompress(base64.b64decode(blob))))


def _moved(path: str, workdir: str) -> str:
    if workdir != POD_WORKDIR and (path == POD_WORKDIR or path.startswith(POD_WORKDIR + "/")):
        return workdir + path[len(POD_WORKDIR) :]
    return path


def relocate(task: dict[str, Any], workdir: str) -> dict[str, Any]:
    """Move every runner path from ``/kfp`` to ``workdir`` (parameter values are left alone)."""
    if workdir == POD_WORKDIR:
        return task
    ex = task["executor_input"]
    for section in ("inputs", "outputs"):
        for group in (ex.get(section, {}).get("artifacts") or {}).values():
            for entry in group.get("artifacts", []):
                if entry.get("path"):
                    entry["path"] = _moved(entry["path"], workdir)
    outputs = ex.get("outputs", {})
    for entry in (outputs.get("parameters") or {}).values():
        entry["outputFile"] = _moved(entry["outputFile"], workdir)
    if outputs.get("outputFile"):
        outputs["outputFile"] = _moved(outputs["outputFile"], workdir)
    if task.get("pip_target"):
        task["pip_target"] = _moved(task["pip_target"], workdir)
    for item in [*task["pod"]["inputs"], *task["pod"]["outputs"]]:
        item["path"] = _moved(item["path"], workdir)
    return task


def _paths() -> tuple[str, str, str]:
    workdir = os.environ.get("AIRFLOW_KFP_WORKDIR", POD_WORKDIR)
    xcom_dir = os.environ.get("AIRFLOW_KFP_XCOM_DIR", XCOM_DIR)
    termination = os.environ.get("AIRFLOW_KFP_TERMINATION_LOG", TERMINATION_LOG)
    return workdir, xcom_dir, termination


def _terminate_message(path: str, message: str) -> None:
    """Kubernetes shows this file as the container's termination message; the operator reads it."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(message[-TERMINATION_MESSAGE_MAX:])
    except OSError:
        pass


def write_xcom(xcom_dir: str, parameters: dict[str, Any], artifacts: dict[str, Any]) -> None:
    os.makedirs(xcom_dir, exist_ok=True)
    tmp = os.path.join(xcom_dir, ".return.json.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"airflow_kfp": 1, "parameters": parameters, "artifacts": artifacts}, fh)
    os.replace(tmp, os.path.join(xcom_dir, "return.json"))


def _run_launcher(task_file: str, workdir: str, termination: str) -> int:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (sys.path[0], env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    for name in [k for k in env if k.startswith((TASK_CHUNK_ENV, TASK_URL_ENV, TASK_SHA_ENV, RUNTIME_ENV))]:
        del env[name]  # the user's code has no use for them
    cmd = [sys.executable, "-m", "airflow_kfp.runtime.launcher", "--task-file", task_file, "--workdir", workdir]
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    reporting = False  # after the launcher's error marker: the user's traceback, kept whole in its report
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True, bufsize=1) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            reporting = reporting or line.startswith(user_code.ERROR_MARKER)
            if not reporting:
                tail.append(line.rstrip("\n"))
        code = proc.wait()
    if code != 0:
        report = user_code.read_report(workdir)
        before = " before the error" if report else ""
        message = f"exit code {code}; last lines of its output{before}:\n" + "\n".join(tail)
        # the message keeps its end when too long: the exception, last, survives
        _terminate_message(termination, f"{message}\n{report}" if report else message)
    return code


def _prepare(task: dict[str, Any], workdir: str) -> str:
    os.makedirs(workdir, exist_ok=True)
    staging.stage_inputs(task["pod"]["inputs"])
    task_file = os.path.join(workdir, "task.json")
    with open(task_file, "w", encoding="utf-8") as fh:
        json.dump({k: v for k, v in task.items() if k != "pod"}, fh)
    return task_file


def _executor_output(task: dict[str, Any]) -> dict[str, Any]:
    path = task["executor_input"].get("outputs", {}).get("outputFile")
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return dict(json.load(fh))
    return {}


def step_run(task: dict[str, Any]) -> int:
    workdir, xcom_dir, termination = _paths()
    task_file = _prepare(task, workdir)
    code = _run_launcher(task_file, workdir, termination)
    if code != 0:
        return code
    output = _executor_output(task)
    artifacts = staging.stage_outputs(task["pod"]["outputs"], output)
    write_xcom(xcom_dir, dict(output.get("parameterValues") or {}), artifacts)
    return 0


def step_stage_in(task: dict[str, Any]) -> int:
    from airflow_kfp.runtime.launcher import container_argv

    workdir, _, _ = _paths()
    os.umask(0)  # the main container may run as another user: let it write the output folders
    _prepare(task, workdir)
    argv = container_argv(task)
    with open(os.path.join(workdir, "run.sh"), "w", encoding="utf-8") as fh:
        fh.write("exec " + " ".join(shlex.quote(a) for a in argv) + "\n")
    transport._log(f"prepared {argv[0]!r} with {len(argv) - 1} argument(s)")
    return 0


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read().strip()
    except FileNotFoundError:
        return ""


def step_stage_out(task: dict[str, Any], poll_s: float = 1.0) -> int:
    from airflow_kfp.runtime.launcher import collect_container_outputs

    workdir, xcom_dir, _ = _paths()
    marker, done = os.path.join(workdir, ".main-exit"), os.path.join(workdir, ".uploaded")
    while not _read(marker):
        time.sleep(poll_s)
    code = int(_read(marker))
    status = "skipped"
    try:
        if code == 0:
            outputs = task["executor_input"].get("outputs", {})
            output = collect_container_outputs(task["component"], outputs, task.get(limits.TASK_KEY))
            artifacts = staging.stage_outputs(task["pod"]["outputs"], output)
            write_xcom(xcom_dir, dict(output.get("parameterValues") or {}), artifacts)
            status = "ok"
    except Exception as exc:
        status = f"error: {exc}".replace("\n", " ")
        transport._log(status)
        return 1
    finally:
        with open(done + ".tmp", "w", encoding="utf-8") as fh:
            fh.write(status + "\n")
        os.replace(done + ".tmp", done)
    return 0


def make_home(workdir: str) -> None:
    """Create ``$HOME/.cache`` and ``$TMPDIR`` when the pod puts them on the work volume (an image whose
    user has no home, or a home it cannot write, still gets a writable one, as on the local runner)."""
    for name, sub in (("HOME", ".cache"), ("TMPDIR", "")):
        path = os.environ.get(name, "")
        if path == workdir or path.startswith(workdir.rstrip("/") + "/"):
            os.makedirs(os.path.join(path, sub) if sub else path, exist_ok=True)


def main(argv: list[str]) -> int:
    step = argv[0] if argv else "run"
    workdir, _, termination = _paths()
    try:
        make_home(workdir)
        task = relocate(decode_task(os.environ), workdir)
        if step == "run":
            return step_run(task)
        if step == "stage-in":
            return step_stage_in(task)
        if step == "stage-out":
            return step_stage_out(task)
        raise staging.StagingError(f"unknown step {step!r}; use run, stage-in or stage-out")
    except Exception as exc:  # the message reaches the task log through the termination message
        message = f"{type(exc).__name__}: {exc}" if not isinstance(exc, staging.StagingError) else str(exc)
        transport._log(f"error: {message}")
        _terminate_message(termination, f"airflow-kfp {step} failed: {message}")
        return 2
