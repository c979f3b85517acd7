"""The task file the launcher reads: the component's runtime view and KFP's executor input.

Built identically for a subprocess and for a pod; only the paths differ.
"""

from __future__ import annotations

from typing import Any

from airflow_kfp.core.task_document import RuntimeComponent, TaskDocument
from airflow_kfp.manifest import ArtifactRecord
from airflow_kfp.spec.model import ARTIFACT, ComponentSpec, TaskSpec


def runtime_component(component: ComponentSpec, task: TaskSpec) -> RuntimeComponent:
    impl = component.implementation
    view: RuntimeComponent = {
        "name": component.name,
        "output_parameters": {o.name: o.type for o in component.outputs if o.kind != ARTIFACT},
    }
    if impl.kind == "python":
        view.update(
            {
                "kind": "python",
                "function_name": impl.function_name,
                "source": impl.source,
                "source_locations": [loc.model_dump() for loc in impl.source_locations],
                "packages_to_install": impl.packages_to_install,
                "pip_index_urls": impl.pip_index_urls,
                "pip_trusted_hosts": impl.pip_trusted_hosts,
            }
        )
    elif impl.kind == "container":
        view.update({"kind": "container", "command": impl.command, "args": impl.args})
    else:
        raise ValueError(f"component '{component.name}' is a nested pipeline and has no code to run")
    return view


def artifact_entry(name: str, record: ArtifactRecord, path: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "uri": record.get("uri", ""),
        "metadata": record.get("metadata") or {},
        "type": {"schemaTitle": record.get("type", "system.Artifact")},
    }
    if path is not None:
        entry["path"] = path
    return entry


def executor_input(
    parameters: dict[str, Any],
    input_artifacts: dict[str, list[dict[str, Any]]],
    output_artifacts: dict[str, dict[str, Any]],
    output_parameter_files: dict[str, str],
    output_file: str,
) -> dict[str, Any]:
    """KFP's executor input document, with an optional local ``path`` on each artifact."""
    return {
        "inputs": {
            "parameterValues": dict(parameters),
            "artifacts": {name: {"artifacts": entries} for name, entries in input_artifacts.items()},
        },
        "outputs": {
            "parameters": {name: {"outputFile": path} for name, path in output_parameter_files.items()},
            "artifacts": {name: {"artifacts": [entry]} for name, entry in output_artifacts.items()},
            "outputFile": output_file,
        },
    }


def output_parameter_files(component: ComponentSpec, directory: str) -> dict[str, str]:
    """Where the launcher writes each output parameter, one file per output under ``directory``."""
    return {o.name: f"{directory}/{o.name}" for o in component.outputs if o.kind != ARTIFACT}


def output_types(component: ComponentSpec) -> dict[str, str]:
    return {o.name: o.type for o in component.outputs if o.kind == ARTIFACT}


def task_document(
    component: ComponentSpec,
    task: TaskSpec,
    parameters: dict[str, Any],
    input_artifacts: dict[str, list[dict[str, Any]]],
    output_artifacts: dict[str, dict[str, Any]],
    parameter_dir: str,
    output_file: str,
    *,
    context: dict[str, str],
    install_packages: bool,
    pip_target: str | None,
    max_parameter_bytes: int | None,
) -> TaskDocument:
    """The one place a try's task document is built, for the local runner and for a pod alike."""
    return {
        "component": runtime_component(component, task),
        "executor_input": executor_input(
            parameters, input_artifacts, output_artifacts, output_parameter_files(component, parameter_dir), output_file
        ),
        "context": context,
        "install_packages": install_packages,
        "pip_target": pip_target,
        "max_parameter_bytes": max_parameter_bytes,
    }
