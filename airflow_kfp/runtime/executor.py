"""Call a Python component function under KFP's executor protocol.

Reads the executor input (parameter values, artifact URIs and paths), builds the typed arguments,
calls the function and returns the executor output. Standard library only.
"""

from __future__ import annotations

import inspect
import json
import os
import shutil
import tempfile
import typing
from collections.abc import Callable
from typing import Any

from airflow_kfp.core import artifacts
from airflow_kfp.core import types as ptypes
from airflow_kfp.core.artifacts import (
    Artifact,
    InputPath,
    OutputPath,
    _Annotation,
    artifact_class,
)
from airflow_kfp.core.errors import AirflowKfpError
from airflow_kfp.core.final_status import PipelineTaskFinalStatus
from airflow_kfp.core.task_config import TaskConfig
from airflow_kfp.runtime import limits

SINGLE_OUTPUT = "Output"


class ExecutorError(AirflowKfpError):
    """Raised for a mismatch between the executor input and the function's signature."""


def _artifact_from_json(entry: dict[str, Any], default_cls: type[Artifact]) -> Artifact:
    schema = (entry.get("type") or {}).get("schemaTitle")
    cls = artifact_class(schema) if schema else default_cls
    if cls is Artifact and default_cls is not Artifact:
        cls = default_cls
    return cls(
        name=entry.get("name", ""),
        uri=entry.get("uri", ""),
        metadata=entry.get("metadata") or {},
        path=entry.get("path"),
    )


def _list_item_type(tp: Any) -> Any | None:
    origin = typing.get_origin(tp)
    if origin in (list, typing.List):  # noqa: UP006
        args = typing.get_args(tp)
        return args[0] if args else Artifact
    return None


def _is_artifact_class(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Artifact)


def _bare_artifact(annotation: Any) -> tuple[Any, bool] | None:
    """KFP's shorthand ``ds: Dataset`` / ``ds: List[Dataset]`` for ``Input[...]``: (class, is_list)."""
    if _is_artifact_class(annotation):
        return annotation, False
    item = _list_item_type(annotation)
    if item is not None and _is_artifact_class(item):
        return item, True
    return None


def _copy_into(source: str, target: str, what: str) -> None:
    """Put what the function wrote at ``source`` where the runner stores the output from."""
    if os.path.abspath(source) == os.path.abspath(target):
        return
    if not os.path.exists(source):
        raise ExecutorError(f"{what}: nothing was written at {source}")
    parent = os.path.dirname(target)
    if parent:
        os.makedirs(parent, exist_ok=True)
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    elif os.path.lexists(target):
        os.unlink(target)
    if os.path.isdir(source):
        shutil.copytree(source, target)
    else:
        shutil.copy2(source, target)


def _task_root(outputs: dict[str, Any]) -> tuple[str, str]:
    """This task's output URI prefix and the local folder its outputs are staged in (KFP's task root)."""
    for name, entry in (outputs.get("artifacts") or {}).items():
        for artifact in entry.get("artifacts") or []:
            uri, path = str(artifact.get("uri") or ""), str(artifact.get("path") or "")
            suffix = "/" + name
            if uri.endswith(suffix) and path.endswith(suffix):
                return uri[: -len(suffix)], path[: -len(suffix)]
    local = os.path.dirname(str(outputs.get("outputFile") or "")) or tempfile.gettempdir()
    return local, local


class _Call:
    def __init__(
        self, func: Callable[..., Any], executor_input: dict[str, Any], max_parameter_bytes: int | None = None
    ) -> None:
        self.func = func
        self.max_parameter_bytes = max_parameter_bytes
        self.inputs = executor_input.get("inputs", {})
        self.outputs = executor_input.get("outputs", {})
        self.output_artifacts: dict[str, Artifact] = {}
        self.output_param_files: dict[str, tuple[str, str]] = {}
        self._tmp: list[str] = []

    def _input_artifacts(self, name: str) -> list[dict[str, Any]] | None:
        found = self.inputs.get("artifacts", {}).get(name)
        return None if found is None else list(found.get("artifacts", []))

    def _output_artifact(self, name: str, cls: type[Artifact]) -> Artifact:
        entries = self.outputs.get("artifacts", {}).get(name, {}).get("artifacts", [])
        if not entries:
            raise ExecutorError(f"the executor input has no output artifact '{name}'")
        artifact = _artifact_from_json(entries[0], cls)
        parent = os.path.dirname(artifact.path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        self.output_artifacts[name] = artifact
        return artifact

    def _output_param_file(self, name: str) -> str:
        entry = self.outputs.get("parameters", {}).get(name)
        if entry is None:
            raise ExecutorError(f"the executor input has no output parameter '{name}'")
        path = str(entry["outputFile"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        return path

    def _parameter(self, param: inspect.Parameter, annotation: Any) -> Any:
        values = self.inputs.get("parameterValues", {})
        if param.name not in values:
            if param.default is not inspect.Parameter.empty:
                return param.default
            raise ExecutorError(f"no value for the required input '{param.name}'")
        value = values[param.name]
        param_type = ptypes.parameter_type_of(annotation)
        if param_type is None or value is None:
            return value
        if param_type == ptypes.TASK_FINAL_STATUS and isinstance(value, dict):
            return PipelineTaskFinalStatus.from_dict(value)
        if param_type == ptypes.TASK_CONFIG and isinstance(value, dict):
            return TaskConfig.from_dict(value)
        try:
            return ptypes.coerce(value, param_type)
        except (TypeError, ValueError) as exc:
            raise ExecutorError(f"input '{param.name}': {exc}") from exc

    def _embedded(self, annotation: _Annotation) -> Artifact:
        """KFP's rule: the extracted file when one file was embedded, else the extraction folder."""
        found = self.func.__globals__.get("__KFP_EMBEDDED_ASSET_FILE") or self.func.__globals__.get(
            "__KFP_EMBEDDED_ASSET_DIR"
        )
        if not found:
            raise ExecutorError(
                "an argument is annotated dsl.EmbeddedInput[...], but the component embeds nothing; "
                "give @dsl.component(embedded_artifact_path=...)."
            )
        cls = annotation.artifact_type if _is_artifact_class(annotation.artifact_type) else Artifact
        artifact = cls(name="embedded", uri=str(found))
        artifact.path = str(found)
        return artifact

    def argument(self, param: inspect.Parameter) -> Any:
        annotation, _ = ptypes.strip_optional(param.annotation)
        bare = _bare_artifact(annotation)
        if bare is not None:  # ``ds: Dataset`` means Input[Dataset]
            item_cls, is_list = bare
            annotation = _Annotation("input", typing.List[item_cls] if is_list else item_cls)  # type: ignore[valid-type]  # noqa: UP006
        if isinstance(annotation, _Annotation):
            if annotation.direction == "embedded":
                return self._embedded(annotation)
            item_type = _list_item_type(annotation.artifact_type)
            if annotation.direction == "output":
                return self._output_artifact(param.name, annotation.artifact_type)
            entries = self._input_artifacts(param.name)
            if entries is None:
                if param.default is not inspect.Parameter.empty:
                    return param.default
                raise ExecutorError(f"no artifact for the required input '{param.name}'")
            if item_type is not None:
                return [_artifact_from_json(e, item_type) for e in entries]
            return _artifact_from_json(entries[0], annotation.artifact_type)
        if isinstance(annotation, InputPath):
            entries = self._input_artifacts(param.name)
            if entries is not None:
                return _artifact_from_json(entries[0], Artifact).path
            if param.name in self.inputs.get("parameterValues", {}):
                handle, path = tempfile.mkstemp(prefix=f"kfp-{param.name}-")
                with os.fdopen(handle, "w") as fh:
                    fh.write(ptypes.to_text(self.inputs["parameterValues"][param.name]))
                self._tmp.append(path)
                return path
            if param.default is not inspect.Parameter.empty:
                return param.default
            raise ExecutorError(f"no value for the required input '{param.name}'")
        if isinstance(annotation, OutputPath):
            param_type = ptypes.parameter_type_of(annotation.type) if annotation.type else None
            if param_type is not None:
                path = self._output_param_file(param.name)
                self.output_param_files[param.name] = (path, param_type)
                return path
            cls = annotation.type if isinstance(annotation.type, type) else Artifact
            return self._output_artifact(param.name, cls).path
        return self._parameter(param, annotation)

    def run(self) -> dict[str, Any]:
        signature = inspect.signature(self.func, eval_str=True)
        root_uri, root_dir = _task_root(self.outputs)
        os.makedirs(root_dir, exist_ok=True)  # pythonic artifacts are written under it
        artifacts.set_task_root(root_uri, root_dir)
        try:
            kwargs = {name: self.argument(p) for name, p in signature.parameters.items()}
            try:
                result = self.func(**kwargs)
            finally:
                for path in self._tmp:
                    os.unlink(path)
            return self._executor_output(signature.return_annotation, result)
        finally:
            artifacts.set_task_root(None, None)

    def _staged_path(self, name: str) -> str:
        entries = self.outputs.get("artifacts", {}).get(name, {}).get("artifacts", [])
        if not entries:
            raise ExecutorError(f"the executor input has no output artifact '{name}'")
        return str(entries[0].get("path") or artifacts.uri_to_local_path(str(entries[0].get("uri", ""))))

    def _returned_artifacts(self, return_annotation: Any, result: Any) -> None:
        """Pythonic artifacts: ``-> Dataset`` (or NamedTuple fields of artifact classes) become outputs.

        A returned Artifact is stored from wherever the function wrote it (``dsl.get_uri(suffix)``,
        ``set_path``); any other returned value is written as text into the artifact, as KFP does.
        """
        fields = getattr(return_annotation, "_fields", None)
        if fields is not None:
            hints = typing.get_type_hints(return_annotation)
            pairs = [(f, hints.get(f), getattr(result, f, None)) for f in fields]
        else:
            pairs = [(SINGLE_OUTPUT, return_annotation, result)]
        for name, annotation, value in pairs:
            if not isinstance(annotation, type) or not issubclass(annotation, Artifact):
                continue
            target = self._staged_path(name)
            stored = _artifact_from_json(self.outputs["artifacts"][name]["artifacts"][0], annotation)
            if isinstance(value, Artifact):
                _copy_into(value.path, target, f"returned artifact '{name}'")
                stored.metadata = dict(value.metadata)
            elif value is not None:
                os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
                with open(target, "w", encoding="utf-8") as fh:
                    fh.write(str(value))
            self.output_artifacts[name] = stored

    def _executor_output(self, return_annotation: Any, result: Any) -> dict[str, Any]:
        if result is not None and return_annotation not in (inspect.Signature.empty, None, type(None)):
            self._returned_artifacts(return_annotation, result)
        for name, artifact in self.output_artifacts.items():
            if artifact.custom_path:  # Output[...].set_path(...): store it from where it was written
                _copy_into(artifact.custom_path, self._staged_path(name), f"output artifact '{name}' (set_path)")
        values: dict[str, Any] = {}
        for name, (path, param_type) in self.output_param_files.items():
            if not os.path.lexists(path):
                raise ExecutorError(f"the function did not write its output parameter '{name}' to {path}")
            text = limits.read_parameter_file(path, name, self.max_parameter_bytes)
            values[name] = ptypes.from_text(text, param_type)
        values.update(_return_values(return_annotation, result))
        for name, value in values.items():  # before anything is written: the cap holds for returned values too
            limits.check_text(name, json.dumps(value, default=str, ensure_ascii=False), self.max_parameter_bytes)
        for name, value in values.items():
            entry = self.outputs.get("parameters", {}).get(name)
            if entry and name not in self.output_param_files:
                path = str(entry["outputFile"])
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as fh:
                    fh.write(ptypes.to_text(value))
        produced = {
            name: {"artifacts": [{"name": a.name, "uri": a.uri, "metadata": a.metadata}]}
            for name, a in self.output_artifacts.items()
        }
        return {"parameterValues": values, "artifacts": produced}


def _return_values(annotation: Any, result: Any) -> dict[str, Any]:
    if annotation in (inspect.Signature.empty, None, type(None)):
        if result is not None:  # KFP's executor fails the task the same way ("Unknown return type")
            raise ExecutorError(
                f"the function returned a {type(result).__name__} but declares no return type, so the value "
                "has no output to go to; annotate the return (e.g. '-> int') or return nothing"
            )
        return {}
    fields = getattr(annotation, "_fields", None)
    hints = typing.get_type_hints(annotation) if fields is not None else {}
    if fields is not None:
        if not isinstance(result, tuple) or len(result) != len(fields):
            raise ExecutorError(f"the function must return a tuple of {len(fields)} values {list(fields)}")
        return {
            f: _checked(f, hints.get(f), v)
            for f, v in zip(fields, result, strict=True)
            if not _is_artifact_class(hints.get(f))
        }
    if _is_artifact_class(annotation):
        return {}
    return {SINGLE_OUTPUT: _checked(SINGLE_OUTPUT, annotation, result)}


def _checked(name: str, annotation: Any, value: Any) -> Any:
    param_type = ptypes.parameter_type_of(annotation)
    if param_type is None or value is None:
        return value
    try:
        return ptypes.coerce(value, param_type)
    except (TypeError, ValueError) as exc:
        raise ExecutorError(f"return value '{name}': {exc}") from exc


def execute(
    func: Callable[..., Any], executor_input: dict[str, Any], max_parameter_bytes: int | None = None
) -> dict[str, Any]:
    """Call ``func`` and write the executor output file KFP's protocol names, if any; output parameters
    larger than ``max_parameter_bytes`` fail it (``runtime.limits``)."""
    output = _Call(func, executor_input, max_parameter_bytes).run()
    output_file = executor_input.get("outputs", {}).get("outputFile")
    if output_file:
        os.makedirs(os.path.dirname(output_file), exist_ok=True)
        with open(output_file, "w", encoding="utf-8") as fh:
            json.dump(output, fh)
    return output
