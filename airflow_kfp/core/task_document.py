"""The task document: what a runner hands the runtime for one try (a subprocess's task file, a pod's
environment or a stored blob). One typed shape, standard library only, read by the runtime
(``runtime/launcher.py``, ``runtime/pod.py``) and built in one place (``runners/task_document.py``)."""

from __future__ import annotations

from typing import Any, TypedDict


class RuntimeComponent(TypedDict, total=False):
    """The component as the launcher runs it: a Python function or a container command."""

    name: str
    kind: str
    """``python`` or ``container``."""
    output_parameters: dict[str, str]
    function_name: str
    source: str
    source_locations: list[dict[str, Any]]
    packages_to_install: list[str]
    pip_index_urls: list[str]
    pip_trusted_hosts: list[str]
    command: list[str]
    args: list[str]


class TaskDocument(TypedDict, total=False):
    component: RuntimeComponent
    executor_input: dict[str, Any]
    """KFP's executor input (``inputs.parameterValues``, ``inputs.artifacts``, ``outputs``)."""
    context: dict[str, str]
    """Values of the ``{{$.pipeline_*}}`` placeholders."""
    install_packages: bool
    """Install ``packages_to_install`` before running (the runner's policy decides)."""
    pip_target: str | None
    max_parameter_bytes: int | None
    """The largest output parameter accepted (``runtime/limits.py``)."""
    pod: dict[str, Any]
    """A pod's transfer plan: presigned URLs in and out (``runners/pod/staging.py``)."""
