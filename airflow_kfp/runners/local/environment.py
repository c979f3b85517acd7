"""The environment a component runs in on the local runner: an allow-list, never the worker's own.

The worker's environment holds the Airflow deployment's secrets: connections (``AIRFLOW_CONN_*``,
the artifact store's included), variables (``AIRFLOW_VAR_*``), configuration (``AIRFLOW__*``: the
database URL, the API's JWT secret, the Fernet key), cloud credentials (``AWS_*``...) and the task
runner's own tokens. A component is user code, and so is every package it installs, so it gets only:

- what the launcher needs (``PYTHONPATH`` to this package, unbuffered output, its bytecode cache);
- the task's own ``set_env_variable`` values (the pipeline's choice, given verbatim), and the
  variables it asks a Kubernetes Secret or ConfigMap for (``kubernetes.use_secret_as_env``): on the
  local runner they are taken from the worker's environment when set there (never a denied name);
- ``PATH``, locale (``LANG``, ``LANGUAGE``, ``LC_*``), ``TZ``, proxies (``HTTP(S)_PROXY``,
  ``NO_PROXY``, ``ALL_PROXY``, either case), CA bundles and a few non-secret runtime settings
  (:data:`PASSED_THROUGH`), and what the deployment adds in ``[kfp] local_env_passthrough``;
- ``HOME`` set to the task's own folder and ``TMPDIR`` inside it, so nothing the component writes
  "at home" lands in, or is read from, the worker's home (``~/.aws``, ``~/.kube``, ``~/.netrc``).

What a component needs from the artifact store reaches it as data (staged files) or scoped URLs,
as on Kubernetes, where the pod gets only what its spec gives it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from airflow_kfp.config import NEVER_PASSED, parse_passthrough

PASSED_THROUGH = frozenset(
    {
        "PATH",
        "TZ",
        "LANG",
        "LANGUAGE",
        "TERM",
        # proxies, both spellings (curl and requests read the lower-case ones)
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        # CA bundles: paths, needed to reach anything behind a TLS-intercepting proxy
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "PIP_CERT",
        # where the worker's Python and native libraries live
        "VIRTUAL_ENV",
        "LD_LIBRARY_PATH",
        "PYTHONPATH",
        "PYTHONHASHSEED",
        "PYTHONIOENCODING",
        "PYTHONUTF8",
        "PYTHONWARNINGS",
        "PYTHONPYCACHEPREFIX",
        # devices a GPU worker assigns to the task
        "CUDA_VISIBLE_DEVICES",
        "NVIDIA_VISIBLE_DEVICES",
    }
)
"""Worker variables a component receives unchanged (when set)."""

PASSED_THROUGH_PREFIXES = ("LC_",)


def is_passed_through(name: str, extra: tuple[str, ...] = ()) -> bool:
    """True for a worker variable a component may see (``extra``: the deployment's own additions)."""
    if NEVER_PASSED.match(name):
        return False
    if name in PASSED_THROUGH or name.startswith(PASSED_THROUGH_PREFIXES):
        return True
    return any(name == e or (e.endswith("*") and name.startswith(e[:-1])) for e in extra)


def component_environment(
    worker_env: Mapping[str, str],
    task_env: Mapping[str, str],
    task_dir: Path,
    launcher_env: Mapping[str, str],
    passthrough: str = "",
    requested: Iterable[str] = (),
) -> dict[str, str]:
    """The whole environment of a component's process.

    ``task_env`` is the task's ``set_env_variable`` values; ``launcher_env`` what the launcher itself
    needs; ``passthrough`` the ``[kfp] local_env_passthrough`` setting; ``requested`` the variables
    the task asks a Secret or ConfigMap for (on the worker they come from its environment). Later sources win: worker,
    then the task folder's ``HOME``/``TMPDIR``, then the launcher, then the task's own values (an
    explicit choice of the pipeline's author).
    """
    extra = parse_passthrough(passthrough) + tuple(requested)
    env = {name: value for name, value in worker_env.items() if is_passed_through(name, extra)}
    tmp = task_dir / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    env["HOME"] = str(task_dir)
    env["TMPDIR"] = str(tmp)
    env.update(launcher_env)
    env.update(task_env)
    return env


def requested_variables(task: Any) -> dict[str, bool]:
    """The variables ``task`` (a TaskSpec) asks Secrets and ConfigMaps for, each with whether it is optional."""
    k8s = task.kubernetes
    found: dict[str, bool] = {}
    for source in [*k8s.secret_as_env, *k8s.config_map_as_env]:
        mapping = getattr(source, "secret_key_to_env", None) or getattr(source, "config_map_key_to_env", {})
        for name in mapping.values():
            found[name] = found.get(name, True) and bool(source.optional)
    return found
