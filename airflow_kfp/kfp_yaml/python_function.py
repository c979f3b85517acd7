"""Recognise a lightweight Python component compiled by the kfp SDK and recover its function.

The kfp SDK compiles ``@dsl.component`` into a container whose ``sh -c`` preamble pip-installs the
user's packages and then ``kfp`` itself, writes the embedded source to ``ephemeral_component.py`` and
runs ``python3 -m kfp.dsl.executor_main ... --function_to_execute NAME``. Installing kfp into the
worker would break the Kubernetes provider (its pins), and the package's own launcher already speaks
KFP's executor protocol, so the pattern becomes a ``PythonFunction``: source, function name, the
user's packages (without kfp) and pip options, base image. Anything else stays a container.
"""

from __future__ import annotations

import ast
import re
import shlex
from typing import Any

from airflow_kfp.kfp_yaml.document import Where
from airflow_kfp.spec.model import PythonFunction

_EXECUTOR_MAIN = re.compile(r"python3?\s+-m\s+kfp\.(?:dsl|components|v2\.components)\.executor_main")
_PIP_INSTALL = re.compile(r"python3?\s+-m\s+pip\s+install\s+(?P<rest>[^\n]*?)(?=\s*&&|\s*\n|\s*$)")
_KFP_REQUIREMENT = re.compile(r"^kfp(?:\[[^\]]*\])?(?:\s*[=<>!~]=?.*)?$|kubeflow/pipelines|/kfp[-_][^/]*\.whl$")
_PRELUDE = {"import kfp", "from kfp import dsl", "from kfp.dsl import *", "from typing import *"}
_VALUE_OPTIONS = {"--index-url": "index", "-i": "index", "--extra-index-url": "index", "--trusted-host": "host"}


def _args_function(args: list[Any]) -> str | None:
    """NAME from ``--executor_input {{$}} --function_to_execute NAME`` and nothing else."""
    if len(args) != 4 or not all(isinstance(a, str) for a in args):
        return None
    pairs = {args[0]: args[1], args[2]: args[3]}
    if pairs.get("--executor_input") != "{{$}}" or "--function_to_execute" not in pairs:
        return None
    return pairs["--function_to_execute"]


def _strip_prelude(source: str) -> str:
    lines = source.splitlines(keepends=True)
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].strip() in _PRELUDE):
        start += 1
    return "".join(lines[start:])


def _pip_settings(preamble: str) -> tuple[list[str], list[str], list[str]]:
    """Packages (kfp left out), index URLs and trusted hosts of the preamble's pip installs."""
    packages: list[str] = []
    indexes: list[str] = []
    hosts: list[str] = []
    for match in _PIP_INSTALL.finditer(preamble):
        try:
            words = shlex.split(match["rest"])
        except ValueError:
            continue
        requirements: list[str] = []
        pending: str | None = None
        for word in words:
            if pending is not None:
                (indexes if pending == "index" else hosts).append(word)
                pending = None
            elif word in _VALUE_OPTIONS:
                pending = _VALUE_OPTIONS[word]
            elif not word.startswith("-"):
                requirements.append(word)
        if any(_KFP_REQUIREMENT.search(r.strip()) for r in requirements):
            continue  # kfp's own install (with typing-extensions for old Pythons): the launcher replaces it
        packages.extend(requirements)
    return packages, list(dict.fromkeys(indexes)), list(dict.fromkeys(hosts))


_KFP_NOTEBOOK = re.compile(
    r"^__KFP_EMBEDDED_ARCHIVE_B64 = '(?P<archive>[A-Za-z0-9+/=]*)'\n"
    r"__KFP_NOTEBOOK_REL_PATH = (?P<rel>'[^'\n]*')\n.*?^dsl\.run_notebook = kfp_run_notebook\n",
    re.S | re.M,
)
"""The helper kfp 2.17 puts before a ``dsl.notebook_component`` function (its archive, the notebook's
path in it, nbclient imported at load, ``dsl.run_notebook`` bound)."""


def _notebook_helper(source: str, function: str) -> str:
    """KFP's notebook helper replaced by the package's (``runtime/notebook.py``): same archive and
    notebook, but nbclient is imported only when ``dsl.run_notebook`` runs, and its absence fails the
    task naming the component and the fix instead of an ImportError at load."""
    match = _KFP_NOTEBOOK.search(source)
    if match is None:
        return source
    from airflow_kfp.dsl.embedded import archive_prelude
    from airflow_kfp.dsl.pipeline_context import kfp_name
    from airflow_kfp.runtime.notebook import notebook_prelude

    notebook = notebook_prelude(ast.literal_eval(match["rel"]), kfp_name(function))
    helper = archive_prelude(match["archive"]) + "\n\n" + notebook
    return source[: match.start()] + helper + source[match.end() :].lstrip("\n")


def python_function(container: dict[str, Any], where: Where) -> PythonFunction | None:
    """The function of a compiled lightweight component, or None if ``container`` is not one."""
    command = container.get("command") or []
    args = container.get("args") or []
    if not command or not all(isinstance(c, str) for c in command):
        return None
    runner = next((i for i, c in enumerate(command) if _EXECUTOR_MAIN.search(c)), None)
    if runner is None or runner + 2 != len(command) or "ephemeral_component.py" not in command[runner]:
        return None  # e.g. a containerized component (target_image): its module lives in the image
    name = _args_function(list(args))
    if name is None:
        return None
    source = _notebook_helper(_strip_prelude(command[-1]), name)
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise where.error(f"the embedded Python source does not parse ({exc.msg}, line {exc.lineno}).") from None
    if not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name for n in tree.body):
        raise where.error(f"the embedded Python source defines no function '{name}' (named by --function_to_execute).")
    preamble = "\n".join(command[:runner])
    packages, indexes, hosts = _pip_settings(preamble)
    return PythonFunction(
        function_name=name,
        source=source,
        base_image=str(container.get("image") or "python:3.11"),
        packages_to_install=packages,
        pip_index_urls=indexes,
        pip_trusted_hosts=hosts,
    )
