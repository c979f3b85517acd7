"""``@dsl.component`` and ``@dsl.container_component``: functions become component specs."""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

from airflow_kfp.core.task_config import TaskConfigField
from airflow_kfp.dsl.pipeline_context import active_builder, current_builder, kfp_name, outside_pipeline_call
from airflow_kfp.dsl.pipeline_task import PipelineTask
from airflow_kfp.dsl.placeholders import ContainerPlaceholder, placeholder_for, to_ir_string
from airflow_kfp.dsl.signature import read_signature
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.runtime.notebook import NOTEBOOK_PACKAGES, notebook_prelude
from airflow_kfp.spec.model import (
    ComponentSpec,
    ContainerImplementation,
    PythonFunction,
    SourceLocation,
    TaskConfigPassthrough,
)

DEFAULT_BASE_IMAGE = "python:3.11"


class BaseComponent:
    """Something a pipeline can call: calling it inside ``@dsl.pipeline`` adds a task."""

    component_spec: ComponentSpec

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        if active_builder() is None and not args:
            ran = outside_pipeline_call(self, kwargs)  # kfp.local: run it now (airflow_kfp.local)
            if ran is not None:
                return ran  # type: ignore[no-any-return]
        builder = current_builder(f"component '{self.component_spec.name}'")
        if args:
            raise PipelineDefinitionError(
                f"pipeline '{builder.name}': component '{self.component_spec.name}' was called with "
                f"positional arguments; pass every input by name (name=value)."
            )
        key = builder.component_key(self.component_spec, id(self))
        return PipelineTask(builder, self.component_spec, key, kwargs)

    @property
    def name(self) -> str:
        return self.component_spec.name


def function_source(func: Callable[..., Any]) -> str:
    """The function's own source without its decorators, as KFP ships lightweight components."""
    return _located_source(func)[0]


_BLOCK_START = re.compile(r"\s*(@|def\s|async\s+def\s)")
_DEF = re.compile(r"\s*(def\s|async\s+def\s)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _file_block(func: Callable[..., Any]) -> tuple[list[str], int, str, ast.Module] | None:
    """What ``inspect.getsourcelines`` returns for a function written in a file, without tokenizing
    to the block's end (issue 15: that was most of ``@dsl.component``'s cost at every DAG parse): the
    lines from its first decorator to the end of its last statement, plus the comments after it
    indented as its body (inspect's rule). None where that rule has exceptions (a one-line ``def``,
    blank or comment lines among the decorators, a cut inside a string that does not parse): the
    caller asks inspect then."""
    func = inspect.unwrap(func)
    code = getattr(func, "__code__", None)
    if code is None or code.co_filename.startswith("<"):
        return None
    linecache.checkcache(code.co_filename)
    lines = linecache.getlines(code.co_filename, getattr(func, "__globals__", None))
    first = code.co_firstlineno - 1
    if not 0 <= first < len(lines) or not _BLOCK_START.match(lines[first]):
        return None
    indent = _indent(lines[first])
    def_line: int | None = None
    end = first
    while end < len(lines):  # to the next statement at the function's level
        line = lines[end]
        text = line.lstrip()
        if def_line is None:
            if _DEF.match(line) and _indent(line) == indent:
                def_line = end
            elif not text or (text[0] == "#" and end > first):
                return None
        elif text and text[0] not in "#)]}" and _indent(line) <= indent:
            break
        end += 1
    while end > first and not lines[end - 1].strip():
        end -= 1
    try:
        source = textwrap.dedent("".join(lines[first:end]))
        tree = ast.parse(source)
    except SyntaxError:
        return None  # the scan stopped inside a string or bracket
    node = next((n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)), None)
    if node is None or node.name != func.__name__ or node.end_lineno is None:
        return None
    body = lines[first + node.body[0].lineno - 1]
    if _indent(body) != node.body[0].col_offset + _indent(lines[first]) - _indent(source.splitlines()[0]):
        return None  # the body shares the def's line
    last = first + node.end_lineno
    for at in range(last, end):  # only comments and blank lines follow the last statement
        if lines[at].strip() and _indent(lines[at]) >= _indent(body):
            last = at + 1
    if last != end:
        source = textwrap.dedent("".join(lines[first:last]))
        tree = ast.parse(source)
    return lines[first:last], first + 1, source, tree


def _located_source(func: Callable[..., Any]) -> tuple[str, SourceLocation | None]:
    """The function's source from its ``def`` line, and where that line is in its file."""
    found = _file_block(func)
    if found is None:
        block, start = inspect.getsourcelines(func)
        source = textwrap.dedent("".join(block))
        tree = ast.parse(source)
    else:
        block, start, source, tree = found
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    lines = source.splitlines(keepends=True)
    file = inspect.getsourcefile(func) or func.__code__.co_filename
    location = None
    if file and not file.startswith("<"):
        location = SourceLocation(line=1, file=os.path.abspath(file), first_line=max(start, 1) + node.lineno - 1)
    return "".join(lines[node.lineno - 1 :]), location


class PythonComponent(BaseComponent):
    def __init__(self, func: Callable[..., Any], implementation: PythonFunction, spec: ComponentSpec) -> None:
        self.python_func = func
        self.component_spec = spec
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__
        self.__wrapped__ = func

    def execute(self, **kwargs: Any) -> Any:
        """Call the plain function (for unit tests of the component's logic)."""
        return self.python_func(**kwargs)


def _component_source(
    name: str,
    func: Callable[..., Any],
    additional_funcs: list[Callable[..., Any]] | None,
    embedded: str | None,
    notebook: str | None = None,
) -> tuple[str, list[SourceLocation]]:
    """KFP's layout: helper functions, then the embedded files' prelude, then the component function;
    with where each function was written (see ``PythonFunction.source_locations``)."""
    parts: list[str] = []
    locations: list[SourceLocation] = []

    def add(text: str, location: SourceLocation | None) -> None:
        line = sum(p.count("\n") for p in parts) + 1
        # a stretch without a file (the embedded prelude) still starts a new stretch
        locations.append(
            location.model_copy(update={"line": line}) if location else SourceLocation(line=line, file="", first_line=0)
        )
        parts.append(text)

    for helper in additional_funcs or []:
        if isinstance(helper, BaseComponent) or not callable(helper) or not hasattr(helper, "__code__"):
            raise PipelineDefinitionError(
                f"component '{name}': additional_funcs takes plain Python functions, got {helper!r}."
            )
        helper_source, helper_location = _located_source(helper)
        add(helper_source + "\n\n", helper_location)
    if embedded is not None:
        from airflow_kfp.dsl.embedded import EmbeddedArtifactError, embedded_prelude

        try:
            add(embedded_prelude(embedded, name_file=notebook is None), None)
        except EmbeddedArtifactError as exc:
            raise PipelineDefinitionError(f"component '{name}': {exc}.") from exc
    if notebook is not None:  # dsl.notebook_component: bind dsl.run_notebook to the embedded notebook
        add(notebook_prelude(notebook, name), None)
    add(*_located_source(func))
    return "".join(parts), locations


def _make_python_component(
    func: Callable[..., Any],
    base_image: str | None,
    packages_to_install: list[str] | None,
    pip_index_urls: list[str] | None,
    pip_trusted_hosts: list[str] | None,
    additional_funcs: list[Callable[..., Any]] | None = None,
    embedded_artifact_path: str | None = None,
    notebook: str | None = None,
) -> PythonComponent:
    name = kfp_name(func.__name__)
    if isinstance(func, BaseComponent):
        raise PipelineDefinitionError(f"component '{name}' is decorated twice.")
    inputs, outputs = read_signature(func, name, allow_embedded=embedded_artifact_path is not None)
    source, locations = _component_source(name, func, additional_funcs, embedded_artifact_path, notebook)
    implementation = PythonFunction(
        function_name=func.__name__,
        source=source,
        source_locations=locations,
        base_image=base_image or DEFAULT_BASE_IMAGE,
        packages_to_install=list(packages_to_install or []),
        pip_index_urls=list(pip_index_urls or []),
        pip_trusted_hosts=list(pip_trusted_hosts or []),
    )
    spec = ComponentSpec(
        name=name,
        description=inspect.cleandoc(func.__doc__ or ""),
        inputs=inputs,
        outputs=outputs,
        implementation=implementation,
    )
    return PythonComponent(func, implementation, spec)


@overload
def component(func: Callable[..., Any]) -> PythonComponent: ...
@overload
def component(
    func: None = None,
    *,
    base_image: str | None = None,
    target_image: str | None = None,
    packages_to_install: list[str] | None = None,
    pip_index_urls: list[str] | None = None,
    pip_trusted_hosts: list[str] | None = None,
    use_venv: bool = False,
    install_kfp_package: bool = True,
    kfp_package_path: str | None = None,
    additional_funcs: list[Callable[..., Any]] | None = None,
    embedded_artifact_path: str | None = None,
    output_component_file: str | None = None,
    task_config_passthroughs: list[Any] | None = None,
) -> Callable[[Callable[..., Any]], PythonComponent]: ...
def component(
    func: Callable[..., Any] | None = None,
    *,
    base_image: str | None = None,
    target_image: str | None = None,
    packages_to_install: list[str] | None = None,
    pip_index_urls: list[str] | None = None,
    pip_trusted_hosts: list[str] | None = None,
    use_venv: bool = False,
    install_kfp_package: bool = True,
    kfp_package_path: str | None = None,
    additional_funcs: list[Callable[..., Any]] | None = None,
    embedded_artifact_path: str | None = None,
    output_component_file: str | None = None,
    task_config_passthroughs: list[Any] | None = None,
) -> PythonComponent | Callable[[Callable[..., Any]], PythonComponent]:
    """KFP's lightweight Python component. ``target_image``, ``use_venv`` and the kfp-package
    arguments are accepted for source compatibility; the launcher needs no kfp in the image.
    ``additional_funcs`` ship helper functions with the source; ``embedded_artifact_path`` ships a
    file or folder, given to ``dsl.EmbeddedInput[...]`` arguments and put on ``sys.path``.
    ``output_component_file`` writes the component as ``compiler.Compiler().compile`` does.
    ``task_config_passthroughs`` lists the task settings a ``dsl.TaskConfig`` input receives."""

    def decorate(f: Callable[..., Any]) -> PythonComponent:
        passthroughs = _passthroughs(f.__name__, task_config_passthroughs or [])
        made = _make_python_component(
            f,
            target_image or base_image,
            packages_to_install,
            pip_index_urls,
            pip_trusted_hosts,
            additional_funcs,
            embedded_artifact_path,
        )
        return _finish(made, passthroughs, output_component_file)

    return decorate(func) if func is not None else decorate


def _finish(
    made: PythonComponent, passthroughs: list[TaskConfigPassthrough], output_component_file: str | None
) -> PythonComponent:
    """What both Python decorators do last: record the passthroughs, write the component file."""
    if passthroughs:
        made.component_spec = made.component_spec.model_copy(update={"task_config_passthroughs": passthroughs})
    if output_component_file:
        from airflow_kfp.dsl.pipeline import component_pipeline
        from airflow_kfp.planning.planner import check_pipeline
        from airflow_kfp.spec.model_file import write_model

        spec = component_pipeline(made)  # what compiler.Compiler().compile(made, ...) checks and writes
        check_pipeline(spec)
        write_model(spec, output_component_file)
    return made


def _passthroughs(component: str, given: list[Any]) -> list[TaskConfigPassthrough]:
    """``task_config_passthroughs`` as KFP normalises them: a bare ``dsl.TaskConfigField`` is
    forwarded only (``apply_to_task=False``)."""
    result: list[TaskConfigPassthrough] = []
    for item in given:
        field = getattr(item, "field", item)
        name = getattr(field, "name", None)
        if name not in TaskConfigField.__members__:
            raise PipelineDefinitionError(
                f"component '{kfp_name(component)}': task_config_passthroughs holds {item!r}; give "
                f"dsl.TaskConfigField members ({', '.join(TaskConfigField.__members__)}) or "
                "dsl.TaskConfigPassthrough(field=..., apply_to_task=...)."
            )
        result.append(TaskConfigPassthrough(field=name, apply_to_task=bool(getattr(item, "apply_to_task", False))))
    return result


@dataclass
class ContainerSpec:
    """What a container component runs; args may hold input values, input paths and output paths."""

    image: str
    command: list[Any] | None = None
    args: list[Any] | None = None


class ContainerComponent(BaseComponent):
    def __init__(self, func: Callable[..., Any], spec: ComponentSpec) -> None:
        self.pipeline_func = func
        self.component_spec = spec
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__


def _notebook_file(component: str, notebook_path: str) -> str:
    """The notebook's path inside the embedded files, checked as KFP checks it."""
    path = Path(notebook_path)
    where = f"component '{component}': notebook_path {notebook_path!r}"
    if not path.exists():
        raise PipelineDefinitionError(f"{where} does not exist; give the .ipynb file or a folder holding one.")
    if path.is_file():
        if path.suffix.lower() != ".ipynb":
            raise PipelineDefinitionError(f"{where} is not a .ipynb file.")
        return path.name
    found = [p for p in path.rglob("*.ipynb") if p.is_file() and ".ipynb_checkpoints" not in p.parts]
    if len(found) != 1:
        raise PipelineDefinitionError(
            f"{where} holds {len(found)} notebooks; a folder given as notebook_path must hold exactly one .ipynb."
        )
    return found[0].relative_to(path).as_posix()


def notebook_component(
    func: Callable[..., Any] | None = None,
    *,
    notebook_path: str,
    base_image: str | None = None,
    packages_to_install: list[str] | None = None,
    output_component_file: str | None = None,
    pip_index_urls: list[str] | None = None,
    pip_trusted_hosts: list[str] | None = None,
    use_venv: bool = False,
    kfp_package_path: str | None = None,
    install_kfp_package: bool = True,
    task_config_passthroughs: list[Any] | None = None,
) -> Any:
    """KFP 2.17's notebook component: a Python component that embeds the notebook (file or folder) and
    whose body calls ``dsl.run_notebook(**parameters)`` to run it with the parameters injected as
    papermill does (``runtime/notebook.py``). nbclient and ipykernel are needed in the component's
    environment only: ``packages_to_install`` defaults to them, as in KFP (``[]`` installs nothing)."""

    def decorate(f: Callable[..., Any]) -> PythonComponent:
        notebook = _notebook_file(kfp_name(f.__name__), notebook_path)
        packages = NOTEBOOK_PACKAGES if packages_to_install is None else packages_to_install
        passthroughs = _passthroughs(f.__name__, task_config_passthroughs or [])
        made = _make_python_component(
            f, base_image, packages, pip_index_urls, pip_trusted_hosts, None, notebook_path, notebook
        )
        return _finish(made, passthroughs, output_component_file)

    return decorate(func) if func is not None else decorate


def container_component(func: Callable[..., ContainerSpec]) -> ContainerComponent:
    name = kfp_name(func.__name__)
    inputs, outputs = read_signature(func, name, allow_return=False, allow_bare_artifacts=False)
    signature = inspect.signature(func, eval_str=True)
    placeholders = {
        param: placeholder_for(param, signature.parameters[param].annotation, inputs, outputs)
        for param in signature.parameters
    }
    spec_obj = func(**placeholders)
    if not isinstance(spec_obj, ContainerSpec):
        raise PipelineDefinitionError(
            f"component '{name}': a @dsl.container_component function must return dsl.ContainerSpec(...), "
            f"got {type(spec_obj).__name__}."
        )
    implementation = ContainerImplementation(
        image=spec_obj.image,
        command=[to_ir_string(a) for a in spec_obj.command or []],
        args=[to_ir_string(a) for a in spec_obj.args or []],
    )
    spec = ComponentSpec(
        name=name,
        description=inspect.cleandoc(func.__doc__ or ""),
        inputs=inputs,
        outputs=outputs,
        implementation=implementation,
    )
    return ContainerComponent(func, spec)


__all__ = [
    "BaseComponent",
    "ContainerComponent",
    "ContainerPlaceholder",
    "ContainerSpec",
    "PythonComponent",
    "component",
    "container_component",
]
