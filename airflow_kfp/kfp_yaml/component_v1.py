"""KFP v1 ``component.yaml`` (name, inputs, outputs, implementation.container with ``{inputValue: x}``
placeholders) as a model component, as the kfp v2 SDK itself converts it.

An input read through ``inputPath``/``inputUri`` is an artifact; one read through ``inputValue`` is a
parameter whose type comes from its v1 type name (``Integer``, ``Float``, ``JsonObject``...; unknown
names are strings). An ``outputPath`` output of a parameter type is an output parameter written to a
file, any other output is an artifact. Placeholders become KFP v2 IR strings, which the launcher
resolves for compiled components too.
"""

from __future__ import annotations

import json
import re
from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.kfp_yaml.values import typed_value
from airflow_kfp.spec.model import ARTIFACT, PARAMETER, ComponentSpec, ContainerImplementation, InputSpec, OutputSpec

_ARTIFACT_TITLES = {
    "artifact": "system.Artifact",
    "dataset": "system.Dataset",
    "model": "system.Model",
    "metrics": "system.Metrics",
    "html": "system.HTML",
    "markdown": "system.Markdown",
    "classificationmetrics": "system.ClassificationMetrics",
    "slicedclassificationmetrics": "system.SlicedClassificationMetrics",
}
_PARAMETER_TYPES = {
    "integer": ptypes.INTEGER,
    "int": ptypes.INTEGER,
    "float": ptypes.DOUBLE,
    "double": ptypes.DOUBLE,
    "string": ptypes.STRING,
    "str": ptypes.STRING,
    "text": ptypes.STRING,
    "bool": ptypes.BOOLEAN,
    "boolean": ptypes.BOOLEAN,
    "dict": ptypes.STRUCT,
    "list": ptypes.LIST,
    "jsonobject": ptypes.STRUCT,
    "jsonarray": ptypes.LIST,
    "pipelinetaskfinalstatus": ptypes.TASK_FINAL_STATUS,
}
_GOOGLE_TITLE = re.compile(r"^google\.[A-Za-z]+$")
"""A type named like ``google.BQMLModel`` is an artifact of that schema title, as KFP reads it."""
_ARTIFACT_PLACEHOLDERS = {"inputPath", "inputUri", "inputMetadata"}


def _type_key(type_name: Any) -> str:
    """The lower-case name KFP looks a v1 type up by: ``typing.List[str]`` is ``list``."""
    if not isinstance(type_name, str):
        return ""
    key = type_name.removeprefix("typing.").lower()
    for generic in ("list", "dict"):
        if key.startswith(generic + "["):
            return generic
    return key


def _is_artifact_type(type_name: Any) -> bool:
    """KFP's v1 rule: a type that is not a parameter type (a structured type such as
    ``{GcsPath: ...}``, an artifact class, or any other name) makes an artifact."""
    return type_name is not None and _type_key(type_name) not in _PARAMETER_TYPES


def _artifact_title(type_name: Any) -> str:
    """The schema title KFP gives a v1 artifact type: a known class, a ``namespace.Name`` title as
    written, else ``system.Artifact``."""
    if not isinstance(type_name, str):
        return "system.Artifact"
    if type_name.lower() in _ARTIFACT_TITLES:
        return _ARTIFACT_TITLES[type_name.lower()]
    return type_name if _GOOGLE_TITLE.match(type_name) else "system.Artifact"


def sanitize(name: str) -> str:
    """KFP's input and output names: lower case, runs of other characters become ``_``."""
    return re.sub(r"[^_0-9a-z]+", "_", name.lower()).strip("_")


class _Converter:
    def __init__(self, component: dict[str, Any], where: str) -> None:
        self.component = component
        self.where = where
        self.name = str(component.get("name") or "component")
        self.inputs = {str(i["name"]): i for i in self._list("inputs")}
        self.outputs = {str(o["name"]): o for o in self._list("outputs")}
        self.artifact_inputs: set[str] = set()
        self.value_inputs: set[str] = set()
        self.input_kinds: dict[str, str] = {}
        self.output_kinds: dict[str, str] = {}

    def fail(self, message: str) -> PipelineDefinitionError:
        return PipelineDefinitionError(f"component '{self.name}' ({self.where}): {message}")

    def _list(self, key: str) -> list[dict[str, Any]]:
        value = self.component.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, dict) and "name" in v for v in value):
            raise PipelineDefinitionError(
                f"component '{self.component.get('name')}' ({self.where}): '{key}' must be a list of "
                f"{{name: ..., type: ...}} entries."
            )
        return value

    def _scan(self, node: Any) -> None:
        """Which inputs are read as files (artifacts) rather than values."""
        if isinstance(node, list):
            for item in node:
                self._scan(item)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key in _ARTIFACT_PLACEHOLDERS and isinstance(value, str):
                    self.artifact_inputs.add(value)
                elif key == "inputValue" and isinstance(value, str):
                    self.value_inputs.add(value)
                else:
                    self._scan(value)

    def _input_spec(self, name: str, entry: dict[str, Any]) -> InputSpec:
        type_name = entry.get("type")
        key = _type_key(type_name)
        optional = bool(entry.get("optional")) or "default" in entry
        untyped_file = type_name is None and name not in self.value_inputs  # KFP: untyped is an artifact
        if name in self.artifact_inputs or _is_artifact_type(type_name) or untyped_file:
            self.input_kinds[name] = ARTIFACT
            return InputSpec(
                name=sanitize(name),
                kind=ARTIFACT,
                type=_artifact_title(type_name),
                has_default=optional,
                description=str(entry.get("description") or ""),
            )
        param_type = _PARAMETER_TYPES.get(key, ptypes.STRING)
        optional = optional and param_type != ptypes.TASK_FINAL_STATUS  # filled by the ExitHandler
        self.input_kinds[name] = PARAMETER
        default = entry.get("default")
        if default is not None:
            default = typed_value(default, param_type, _Where(self, f"input '{name}'"))  # type: ignore[arg-type]
        return InputSpec(
            name=sanitize(name),
            kind=PARAMETER,
            type=param_type,
            has_default=optional,
            default=default,
            description=str(entry.get("description") or ""),
        )

    def _output_spec(self, name: str, entry: dict[str, Any]) -> OutputSpec:
        type_name = entry.get("type")
        key = _type_key(type_name)
        if key in _PARAMETER_TYPES:
            self.output_kinds[name] = PARAMETER
            return OutputSpec(name=sanitize(name), kind=PARAMETER, type=_PARAMETER_TYPES[key])
        self.output_kinds[name] = ARTIFACT
        return OutputSpec(name=sanitize(name), kind=ARTIFACT, type=_artifact_title(type_name))

    def _known(self, table: dict[str, Any], name: Any, what: str) -> str:
        if not isinstance(name, str) or name not in table:
            known = ", ".join(table) or "none"
            raise self.fail(f"a placeholder names {what} {name!r}, which the component does not declare ({known}).")
        return sanitize(name)

    def placeholder(self, node: Any) -> Any:
        """One command/args item as IR: a string, or a Concat/IfPresent structure."""
        if isinstance(node, str):
            return node
        if isinstance(node, bool):
            return str(node).lower()
        if isinstance(node, int | float):
            return str(node)
        if not isinstance(node, dict) or len(node) != 1:
            raise self.fail(f"unreadable command item {node!r}.")
        ((key, value),) = node.items()
        if key == "inputValue":
            name = self._known(self.inputs, value, "input")
            if self.input_kinds.get(value) == ARTIFACT:
                raise self.fail(f"input '{value}' is read both as a value and as a file; read it one way.")
            return f"{{{{$.inputs.parameters['{name}']}}}}"
        if key in ("inputPath", "inputUri", "inputMetadata"):
            attr = {"inputPath": "path", "inputUri": "uri", "inputMetadata": "metadata"}[key]
            return f"{{{{$.inputs.artifacts['{self._known(self.inputs, value, 'input')}'].{attr}}}}}"
        if key in ("outputPath", "outputUri", "outputMetadata"):
            name = self._known(self.outputs, value, "output")
            if self.output_kinds[value] == PARAMETER:
                if key != "outputPath":
                    raise self.fail(f"{key} of output '{value}', a parameter; use outputPath.")
                return f"{{{{$.outputs.parameters['{name}'].output_file}}}}"
            attr = {"outputPath": "path", "outputUri": "uri", "outputMetadata": "metadata"}[key]
            return f"{{{{$.outputs.artifacts['{name}'].{attr}}}}}"
        if key == "executorInput":
            return "{{$}}"
        if key == "concat":
            return {"Concat": [self.placeholder(v) for v in value or []]}
        if key == "if":
            return self._if(value)
        raise self.fail(f"the placeholder {{{key}: ...}} is not supported.")

    def _if(self, spec: Any) -> Any:
        if not isinstance(spec, dict) or "cond" not in spec:
            raise self.fail(f"an 'if' placeholder needs cond/then: {spec!r}.")
        cond = spec["cond"]
        then = [self.placeholder(v) for v in _as_list(spec.get("then"))]
        otherwise = [self.placeholder(v) for v in _as_list(spec.get("else"))]
        if isinstance(cond, dict) and "isPresent" in cond:
            name = self._known(self.inputs, cond["isPresent"], "input")
            result: dict[str, Any] = {"InputName": name, "Then": then}
            if otherwise:
                result["Else"] = otherwise
            return {"IfPresent": result}
        if isinstance(cond, bool) or (isinstance(cond, str) and cond.lower() in ("true", "false")):
            return _Splice(then if str(cond).lower() == "true" else otherwise)
        raise self.fail(
            f"an 'if' placeholder whose condition is {cond!r} is not supported (KFP v2 supports only "
            f"isPresent); use {{if: {{cond: {{isPresent: <input>}}, then: [...]}}}}."
        )

    def convert(self) -> ComponentSpec:
        implementation = self.component.get("implementation") or {}
        container = implementation.get("container") if isinstance(implementation, dict) else None
        if not isinstance(container, dict):
            kind = ", ".join(implementation) if isinstance(implementation, dict) else repr(implementation)
            raise self.fail(
                f"implementation {kind!r} is not supported; only implementation.container components (a graph "
                f"implementation is a KFP v1 pipeline: recompile it with kfp 2.x)."
            )
        if container.get("fileOutputs"):
            raise self.fail("implementation.container.fileOutputs (KFP v1 beta) is not supported; use outputPath.")
        image = container.get("image")
        if not image:
            raise self.fail("implementation.container has no image.")
        self._scan(container.get("command"))
        self._scan(container.get("args"))
        self._scan(container.get("env"))
        unknown = sorted(self.artifact_inputs - set(self.inputs))
        if unknown:
            raise self.fail(f"a placeholder names input {unknown[0]!r}, which the component does not declare.")
        inputs = [self._input_spec(n, e) for n, e in self.inputs.items()]
        outputs = [self._output_spec(n, e) for n, e in self.outputs.items()]
        implementation_spec = ContainerImplementation(
            image=str(image),
            command=_render(self, container.get("command")),
            args=_render(self, container.get("args")),
        )
        return ComponentSpec(
            name=sanitize(self.name).replace("_", "-") or "component",
            description=str(self.component.get("description") or ""),
            inputs=inputs,
            outputs=outputs,
            implementation=implementation_spec,
        )


class _Splice(list):  # type: ignore[type-arg]
    """The chosen branch of a constant ``if``: its items take the place of the ``if``."""


class _Where:
    def __init__(self, converter: _Converter, what: str) -> None:
        self.converter = converter
        self.what = what

    def error(self, message: str) -> PipelineDefinitionError:
        return self.converter.fail(f"{self.what}: {message}")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _render(converter: _Converter, items: Any) -> list[str]:
    result: list[str] = []
    for item in _as_list(items):
        rendered = converter.placeholder(item)
        for piece in rendered if isinstance(rendered, _Splice) else [rendered]:
            result.append(piece if isinstance(piece, str) else json.dumps(piece))
    return result


def env_of(component: dict[str, Any]) -> dict[str, str]:
    container = (component.get("implementation") or {}).get("container") or {}
    env = container.get("env") or {}
    if isinstance(env, list):
        return {str(e["name"]): str(e.get("value", "")) for e in env}
    return {str(k): str(v) for k, v in env.items()}


def is_v1_component(document: dict[str, Any]) -> bool:
    return "implementation" in document and "root" not in document


def component_from_v1(document: dict[str, Any], where: str) -> ComponentSpec:
    return _Converter(document, where).convert()
