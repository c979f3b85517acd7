"""Read a component function's signature into the model's inputs and outputs."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.core.artifacts import (
    ARTIFACT_CLASSES,
    Artifact,
    InputPath,
    OutputPath,
    _Annotation,
)
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import ARTIFACT, PARAMETER, InputSpec, OutputSpec
from airflow_kfp.spec.validate import check_default

SINGLE_OUTPUT = "Output"
_ARTIFACT_NAMES = {cls.__name__.lower(): title for title, cls in ARTIFACT_CLASSES.items()}


def _artifact_title(tp: Any) -> str | None:
    if isinstance(tp, type) and issubclass(tp, Artifact):
        return tp.schema_title
    if isinstance(tp, str) and ptypes.parameter_type_of(tp) is None:
        return _ARTIFACT_NAMES.get(tp.lower(), "system.Artifact")
    if tp is None:
        return "system.Artifact"
    return None


def _list_item(tp: Any) -> Any | None:
    if typing.get_origin(tp) is list:
        args = typing.get_args(tp)
        return args[0] if args else Artifact
    return None


def _is_artifact_class(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, Artifact)


def bare_artifact(annotation: Any) -> tuple[str, bool] | None:
    """KFP's shorthand: ``ds: Dataset`` is ``Input[Dataset]``, ``ds: List[Dataset]`` is
    ``Input[List[Dataset]]``. Returns (schema title, is_list)."""
    if _is_artifact_class(annotation):
        return annotation.schema_title, False
    item = _list_item(annotation) if typing.get_args(annotation) else None  # a bare ``List`` is a parameter
    if item is not None and _is_artifact_class(item):
        return item.schema_title, True
    return None


def _artifact_default(component: str, name: str, has_default: bool, default: Any, owner_kind: str) -> None:
    if has_default and default is not None:
        raise _fail(
            component,
            name,
            f"an artifact input can only default to None (KFP's rule), got {default!r}.",
            owner_kind=owner_kind,
        )


def _fail(component: str, arg: str, message: str, owner_kind: str = "component") -> PipelineDefinitionError:
    return PipelineDefinitionError(f"{owner_kind} '{component}', argument '{arg}': {message}")


def read_signature(
    func: Callable[..., Any],
    component: str,
    *,
    allow_return: bool = True,
    owner_kind: str = "component",
    allow_embedded: bool = False,
    allow_bare_artifacts: bool = True,
) -> tuple[list[InputSpec], list[OutputSpec]]:
    """``owner_kind`` is "pipeline" when reading a pipeline function's inputs, for the messages."""
    try:
        signature = inspect.signature(func, eval_str=True)
    except NameError as exc:
        raise PipelineDefinitionError(
            f"component '{component}': an annotation names something undefined ({exc}); import it at module level."
        ) from exc
    inputs: list[InputSpec] = []
    outputs: list[OutputSpec] = []
    for name, param in signature.parameters.items():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise _fail(component, name, "*args and **kwargs are not supported; name every input.")
        annotation, _ = ptypes.strip_optional(param.annotation)
        if annotation is inspect.Parameter.empty:
            raise _fail(
                component,
                name,
                owner_kind=owner_kind,
                message="it has no type annotation; annotate it (for example `x: int`, `data: Input[Dataset]`, "
                "`model: Output[Model]`).",
            )
        has_default = param.default is not inspect.Parameter.empty
        default = param.default if has_default else None
        if name == SINGLE_OUTPUT:
            raise _fail(component, name, f"'{SINGLE_OUTPUT}' names the return value (KFP's rule); rename the argument.")
        if isinstance(annotation, _Annotation) and annotation.direction == "embedded":
            if not allow_embedded:
                raise _fail(
                    component,
                    name,
                    "dsl.EmbeddedInput[...] is given only to Python components with "
                    "@dsl.component(embedded_artifact_path=...).",
                    owner_kind=owner_kind,
                )
            continue  # given at run time from the embedded files; not an input of the component
        bare = bare_artifact(annotation)
        if bare is not None:
            if not allow_bare_artifacts:
                raise _fail(
                    component,
                    name,
                    f"a container component wraps artifacts in Input[...] or Output[...] (KFP's rule); "
                    f"write Input[{getattr(annotation, '__name__', annotation)}].",
                )
            _artifact_default(component, name, has_default, default, owner_kind)
            inputs.append(InputSpec(name=name, kind=ARTIFACT, type=bare[0], has_default=has_default, is_list=bare[1]))
            continue
        if isinstance(annotation, _Annotation):
            item = _list_item(annotation.artifact_type)
            title = _artifact_title(item if item is not None else annotation.artifact_type)
            if title is None:
                raise _fail(component, name, f"{annotation!r} does not name an artifact class.")
            if annotation.direction == "output":
                outputs.append(OutputSpec(name=name, kind=ARTIFACT, type=title, is_list=item is not None))
            else:
                _artifact_default(component, name, has_default, default, owner_kind)
                inputs.append(
                    InputSpec(name=name, kind=ARTIFACT, type=title, has_default=has_default, is_list=item is not None)
                )
            continue
        if isinstance(annotation, InputPath | OutputPath):
            param_type = ptypes.parameter_type_of(annotation.type) if annotation.type is not None else None
            kind, type_ = (PARAMETER, param_type) if param_type else (ARTIFACT, _artifact_title(annotation.type))
            if type_ is None:
                raise _fail(component, name, f"{annotation!r} names neither a parameter type nor an artifact class.")
            if isinstance(annotation, OutputPath):
                outputs.append(OutputSpec(name=name, kind=kind, type=type_))
            else:
                inputs.append(InputSpec(name=name, kind=kind, type=type_, has_default=has_default, default=default))
            continue
        param_type = ptypes.parameter_type_of(annotation)
        if param_type is None:
            raise _fail(
                component,
                name,
                f"the annotation {annotation!r} is not supported; use str, int, float, bool, list, dict, "
                f"Input[...], Output[...], InputPath(...) or OutputPath(...).",
            )
        if param_type == ptypes.TASK_CONFIG:  # KFP: optional, filled with the task's settings when it runs
            inputs.append(InputSpec(name=name, kind=PARAMETER, type=param_type, has_default=True))
            continue
        spec = InputSpec(name=name, kind=PARAMETER, type=param_type, has_default=has_default, default=default)
        check_default(component, None, spec, component=owner_kind == "component")
        inputs.append(spec)
    outputs.extend(_return_outputs(signature.return_annotation, component, allow_return))
    return inputs, outputs


def _return_outputs(annotation: Any, component: str, allow_return: bool) -> list[OutputSpec]:
    if annotation in (inspect.Signature.empty, None, type(None)):
        return []
    if not allow_return:
        raise PipelineDefinitionError(
            f"component '{component}': a container component returns a dsl.ContainerSpec; declare "
            f"outputs as Output[...] or OutputPath(...) arguments."
        )
    fields = getattr(annotation, "_fields", None)
    if fields is not None:
        hints = typing.get_type_hints(annotation)
        result = []
        for field in fields:
            spec = _return_spec(field, hints.get(field))
            if spec is None:
                raise PipelineDefinitionError(
                    f"component '{component}', output '{field}': {hints.get(field)!r} is neither a parameter "
                    f"type (str, int, float, bool, list, dict) nor an artifact class (dsl.Dataset...)."
                )
            result.append(spec)
        return result
    spec = _return_spec(SINGLE_OUTPUT, annotation)
    if spec is None:
        raise PipelineDefinitionError(
            f"component '{component}': the return annotation {annotation!r} is not supported; return a "
            f"parameter type, an artifact class (-> dsl.Dataset) or a NamedTuple of them."
        )
    return [spec]


def _return_spec(name: str, annotation: Any) -> OutputSpec | None:
    """A returned value: a parameter, or a pythonic artifact (``-> Dataset``, ``-> List[Dataset]``)."""
    bare = bare_artifact(annotation)
    if bare is not None:
        return OutputSpec(name=name, kind=ARTIFACT, type=bare[0], is_list=bare[1])
    param_type = ptypes.parameter_type_of(annotation)
    return OutputSpec(name=name, kind=PARAMETER, type=param_type) if param_type else None
