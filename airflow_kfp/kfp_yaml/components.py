"""Component definitions and executors of a compiled pipeline, as the model's inputs, outputs and
implementations; executor-level task settings (resources, accelerators, env) come out separately
because the model keeps them on the task."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.kfp_yaml.document import Where, mapping
from airflow_kfp.kfp_yaml.python_function import python_function
from airflow_kfp.kfp_yaml.values import constant_of, parameter_type, typed_value
from airflow_kfp.spec.model import (
    ARTIFACT,
    PARAMETER,
    TASK_CONFIG_FIELDS,
    ContainerImplementation,
    ImporterImplementation,
    InputSpec,
    OutputSpec,
    PythonFunction,
    Resources,
    TaskConfigPassthrough,
)

IMPORTER_URI_INPUT = "uri"
IMPORTER_OUTPUT = "artifact"


def _check_keys(value: dict[str, Any], allowed: set[str], where: Where, hint: str = "") -> None:
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise where.error(
            f"unsupported field(s) {', '.join(unknown)}"
            + (f"; {hint}" if hint else "; remove them or compile the pipeline with kfp 2.x.")
        )


def artifact_title(definition: dict[str, Any], where: Where) -> str:
    artifact_type = mapping(definition.get("artifactType"), where.at("artifactType"))
    title = artifact_type.get("schemaTitle")
    if not title:
        raise where.error("the artifact has no artifactType.schemaTitle.")
    return str(title)


def input_specs(component: dict[str, Any], where: Where) -> list[InputSpec]:
    definitions = mapping(component.get("inputDefinitions"), where.at("inputDefinitions"))
    specs: list[InputSpec] = []
    for name, definition in mapping(definitions.get("parameters"), where.at("inputDefinitions", "parameters")).items():
        at = where.at("inputDefinitions", "parameters", name)
        definition = mapping(definition, at)
        type_ = parameter_type(definition, at)
        # An exit task's PipelineTaskFinalStatus is "optional" in the IR only because the caller never
        # passes it; the model marks it filled by the exit handler instead.
        has_default = type_ != ptypes.TASK_FINAL_STATUS and (
            "defaultValue" in definition or bool(definition.get("isOptional"))
        )
        specs.append(
            InputSpec(
                name=name,
                kind=PARAMETER,
                type=type_,
                has_default=has_default,
                default=typed_value(definition.get("defaultValue"), type_, at),
                description=str(definition.get("description") or ""),
            )
        )
    for name, definition in mapping(definitions.get("artifacts"), where.at("inputDefinitions", "artifacts")).items():
        at = where.at("inputDefinitions", "artifacts", name)
        definition = mapping(definition, at)
        specs.append(
            InputSpec(
                name=name,
                kind=ARTIFACT,
                type=artifact_title(definition, at),
                has_default=bool(definition.get("isOptional")),
                is_list=bool(definition.get("isArtifactList")),
                description=str(definition.get("description") or ""),
            )
        )
    return specs


def task_config_passthroughs(component: dict[str, Any], where: Where) -> list[TaskConfigPassthrough]:
    """``taskConfigPassthroughs``: the ``dsl.TaskConfig`` fields the component receives."""
    at = where.at("taskConfigPassthroughs")
    items = component.get("taskConfigPassthroughs") or []
    if not isinstance(items, list):
        raise at.error("expected a list of {field, applyToTask}.")
    result: list[TaskConfigPassthrough] = []
    for i, item in enumerate(items):
        item = mapping(item, at.at(str(i)))
        _check_keys(item, {"field", "applyToTask"}, at.at(str(i)))
        if item.get("field") not in TASK_CONFIG_FIELDS:
            raise at.at(str(i), "field").error(
                f"unknown TaskConfig field {item.get('field')!r}; expected one of {', '.join(TASK_CONFIG_FIELDS)}."
            )
        result.append(TaskConfigPassthrough(field=item["field"], apply_to_task=bool(item.get("applyToTask"))))
    return result


def output_specs(component: dict[str, Any], where: Where) -> list[OutputSpec]:
    definitions = mapping(component.get("outputDefinitions"), where.at("outputDefinitions"))
    specs: list[OutputSpec] = []
    for name, definition in mapping(definitions.get("parameters"), where.at("outputDefinitions", "parameters")).items():
        at = where.at("outputDefinitions", "parameters", name)
        specs.append(
            OutputSpec(
                name=name,
                kind=PARAMETER,
                type=parameter_type(mapping(definition, at), at),
                description=str((definition or {}).get("description") or ""),
            )
        )
    for name, definition in mapping(definitions.get("artifacts"), where.at("outputDefinitions", "artifacts")).items():
        at = where.at("outputDefinitions", "artifacts", name)
        definition = mapping(definition, at)
        extra: dict[str, Any] = {"is_list": True} if definition.get("isArtifactList") and _lists_supported() else {}
        if definition.get("isArtifactList") and not extra:
            raise at.error("a list-of-artifacts output is not supported by this version of airflow-kfp.")
        specs.append(
            OutputSpec(
                name=name,
                kind=ARTIFACT,
                type=artifact_title(definition, at),
                description=str(definition.get("description") or ""),
                **extra,
            )
        )
    return specs


def _lists_supported() -> bool:
    return "is_list" in OutputSpec.model_fields


@dataclass
class ExecutorSettings:
    """What an executor says about the task running it, beyond the implementation itself."""

    resources: Resources = field(default_factory=Resources)
    env: dict[str, str] = field(default_factory=dict)
    runtime_resources: dict[str, str] = field(default_factory=dict)
    """Resource fields set from pipeline inputs or task outputs: field -> placeholder of the task input."""


_CONTAINER_KEYS = {"image", "command", "args", "env", "resources", "lifecycle"}
_RESOURCE_KEYS = {
    "cpuLimit",
    "memoryLimit",
    "cpuRequest",
    "memoryRequest",
    "resourceCpuLimit",
    "resourceMemoryLimit",
    "resourceCpuRequest",
    "resourceMemoryRequest",
    "accelerator",
}


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _memory_from_gb(value: float) -> str:
    """The older numeric form is in (decimal) gigabytes."""
    if float(value).is_integer():
        return f"{int(value)}G"
    return str(math.ceil(float(value) * 10**9))


def _resource(resources: dict[str, Any], text_key: str, number_key: str, memory: bool) -> str | None:
    text = resources.get(text_key)
    if text not in (None, ""):
        return str(text)
    number = resources.get(number_key)
    if number in (None, 0, 0.0):
        return None
    return _memory_from_gb(number) if memory else _number_text(number)


def _resources(resources: dict[str, Any], where: Where) -> tuple[Resources, dict[str, str]]:
    """The static resources, and the fields given at run time: field -> the placeholder naming the task
    input that holds the value (``set_cpu_limit(task.output)`` compiles to one)."""
    _check_keys(resources, _RESOURCE_KEYS, where)
    accelerator = mapping(resources.get("accelerator"), where.at("accelerator"))
    values: dict[str, Any] = {
        "cpu_request": _resource(resources, "resourceCpuRequest", "cpuRequest", False),
        "cpu_limit": _resource(resources, "resourceCpuLimit", "cpuLimit", False),
        "memory_request": _resource(resources, "resourceMemoryRequest", "memoryRequest", True),
        "memory_limit": _resource(resources, "resourceMemoryLimit", "memoryLimit", True),
        "accelerator_type": accelerator.get("resourceType") or accelerator.get("type") or None,
        "accelerator_limit": accelerator.get("resourceCount", accelerator.get("count")),
    }
    runtime = {k: str(v) for k, v in values.items() if isinstance(v, str) and "{{$" in v}
    for key in runtime:
        values[key] = None
    count = values["accelerator_limit"]
    if count in (None, ""):
        values["accelerator_limit"] = None
    else:
        try:
            values["accelerator_limit"] = int(float(count))
        except ValueError:
            raise where.at("accelerator").error(f"the accelerator count {count!r} is not a whole number.") from None
    if values["accelerator_type"] is not None:
        values["accelerator_type"] = str(values["accelerator_type"])
    return Resources(**values), runtime


def _strings(values: Any, where: Where) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise where.error("expected a list of strings.")
    return list(values)


def container_executor(
    container: dict[str, Any], where: Where
) -> tuple[PythonFunction | ContainerImplementation, ExecutorSettings]:
    container = mapping(container, where)
    _check_keys(container, _CONTAINER_KEYS, where)
    if container.get("lifecycle"):
        raise where.at("lifecycle").error(
            "container lifecycle hooks (preCacheCheck) are a Vertex AI feature airflow-kfp does not run; remove them."
        )
    image = container.get("image")
    if not image:
        raise where.error("the container has no image.")
    env: dict[str, str] = {}
    for i, entry in enumerate(container.get("env") or []):
        entry = mapping(entry, where.at("env", str(i)))
        if "name" not in entry:
            raise where.at("env", str(i)).error("an environment variable has no name.")
        env[str(entry["name"])] = str(entry.get("value", ""))
    resources, runtime = _resources(mapping(container.get("resources"), where.at("resources")), where.at("resources"))
    settings = ExecutorSettings(resources=resources, env=env, runtime_resources=runtime)
    function = python_function(container, where)
    if function is not None:
        return function, settings
    return (
        ContainerImplementation(
            image=str(image),
            command=_strings(container.get("command"), where.at("command")),
            args=_strings(container.get("args"), where.at("args")),
        ),
        settings,
    )


def importer_executor(importer: dict[str, Any], where: Where) -> ImporterImplementation:
    importer = mapping(importer, where)
    _check_keys(
        importer,
        {"artifactUri", "typeSchema", "reimport", "metadata", "properties", "customProperties", "downloadToWorkspace"},
        where,
    )
    if importer.get("downloadToWorkspace"):
        raise where.at("downloadToWorkspace").error(
            "importing into a pipeline workspace is not supported; import the artifact by its URI."
        )
    metadata = mapping(importer.get("metadata"), where.at("metadata"))
    title = str(mapping(importer.get("typeSchema"), where.at("typeSchema")).get("schemaTitle") or "system.Artifact")
    return ImporterImplementation(
        artifact_class=title, reimport=bool(importer.get("reimport")), metadata=dict(metadata)
    )


def importer_uri(importer: dict[str, Any], where: Where) -> tuple[str | None, str | None]:
    """The importer's URI: a constant, or the name of the task input holding it."""
    uri = mapping(importer.get("artifactUri"), where.at("artifactUri"))
    if "runtimeParameter" in uri:
        return None, str(uri["runtimeParameter"])
    if uri:
        value = constant_of(uri, where.at("artifactUri"))
        return str(value), None
    return None, IMPORTER_URI_INPUT


def parameter_output_types(outputs: list[OutputSpec]) -> dict[str, str]:
    return {o.name: o.type for o in outputs if o.kind == PARAMETER}


__all__ = [
    "IMPORTER_OUTPUT",
    "IMPORTER_URI_INPUT",
    "ExecutorSettings",
    "container_executor",
    "importer_executor",
    "importer_uri",
    "input_specs",
    "output_specs",
    "ptypes",
]
