"""``components.load_component_from_text/file/url``: KFP component YAML as components a DSL pipeline
can call, like ``kfp.components``.

Reads both formats KFP users have: a component compiled by the kfp v2 SDK (a PipelineSpec holding one
task; a compiled multi-task pipeline loads as a nested-pipeline component) and the older v1
``component.yaml`` (``implementation.container`` with ``{inputValue: x}`` placeholders). The result
is called inside ``@dsl.pipeline`` with keyword arguments, exactly like a ``@dsl.container_component``.
"""

from __future__ import annotations

import os
import urllib.request
from pathlib import Path
from typing import Any

from airflow_kfp.dsl.components import BaseComponent
from airflow_kfp.dsl.pipeline_task import PipelineTask
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.kfp_yaml.component_v1 import component_from_v1, env_of, is_v1_component
from airflow_kfp.kfp_yaml.document import Where, check_schema, parse_yaml
from airflow_kfp.spec.model import ComponentSpec, PipelineSpec, Resources, TaskSpec
from airflow_kfp.spec.model_file import is_model_document, read_model

__all__ = ["YamlComponent", "load_component_from_file", "load_component_from_text", "load_component_from_url"]

_URL_TIMEOUT_SECONDS = 30


class YamlComponent(BaseComponent):
    """A component read from YAML; calling it in a pipeline adds a task, with the env and resources
    the YAML gives its container as the task's starting settings."""

    def __init__(
        self,
        spec: ComponentSpec,
        *,
        env: dict[str, str] | None = None,
        resources: Resources | None = None,
        source: str = "<text>",
    ) -> None:
        self.component_spec = spec
        self.env = dict(env or {})
        self.resources = resources
        self.source = source
        self.__name__ = spec.name
        self.__doc__ = spec.description or None

    def __call__(self, *args: Any, **kwargs: Any) -> PipelineTask:
        task = super().__call__(*args, **kwargs)
        for name, value in self.env.items():
            task.spec.env.setdefault(name, value)
        if self.resources is not None and task.spec.resources == Resources():
            task.spec.resources = self.resources.model_copy()
        return task

    def __repr__(self) -> str:
        return f"<YamlComponent '{self.component_spec.name}' from {self.source}>"


def _from_v2(document: list[dict[str, Any]], source: str) -> YamlComponent:
    from airflow_kfp.kfp_yaml import load_pipeline
    from airflow_kfp.kfp_yaml.platform import kubernetes_settings
    from airflow_kfp.kfp_yaml.tasks import Document

    spec_doc = document[0]
    check_schema(spec_doc, source)
    name = str((spec_doc.get("pipelineInfo") or {}).get("name") or "component")
    tasks = ((spec_doc.get("root") or {}).get("dag") or {}).get("tasks") or {}
    if len(tasks) == 1:
        ((task_key, task),) = tasks.items()
        ref = str((task.get("componentRef") or {}).get("name") or "")
        component = (spec_doc.get("components") or {}).get(ref) or {}
        if "executorLabel" in component and not task.get("triggerPolicy") and not task.get("parameterIterator"):
            platforms = document[1].get("platforms", {}) if len(document) > 1 else {}
            reader = Document(spec_doc, kubernetes_settings(platforms, name), name)
            spec, settings = reader.executor_component(ref, Where(name, f"root.dag.tasks.{task_key}"))
            spec = spec.model_copy(update={"name": name})
            return YamlComponent(
                spec,
                env=settings.env if settings else None,
                resources=settings.resources if settings and settings.resources != Resources() else None,
                source=source,
            )
    pipeline = load_pipeline(spec_doc)
    return YamlComponent(ComponentSpec.of_pipeline(pipeline), source=source)


def _from_model(pipeline: PipelineSpec, source: str) -> YamlComponent:
    """A file ``compiler.Compiler`` wrote: a compiled bare component (one task, no groups, every input
    passed through) loads as that component, as KFP loads its own compiled component; else the pipeline."""
    if len(pipeline.tasks) == 1 and not pipeline.groups:
        task = pipeline.tasks[0]
        component = pipeline.components[task.component]
        plain = TaskSpec(name=task.name, component=task.component, arguments=task.arguments)
        if component.implementation.kind != "graph" and task.model_copy(update={"display_name": None}) == plain:
            return YamlComponent(component.model_copy(update={"name": pipeline.name}), source=source)
    return YamlComponent(ComponentSpec.of_pipeline(pipeline), source=source)


def _load(text: str, source: str) -> YamlComponent:
    documents = parse_yaml(text, source)
    try:
        return _component(documents, source)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        # A malformed document (hand-edited, truncated): say so rather than fail with a bare traceback.
        raise PipelineDefinitionError(
            f"{source}: the component YAML is malformed ({type(exc).__name__}: {exc}); check it against KFP's "
            f"component format or compile it again with the kfp SDK."
        ) from exc


def _component(documents: list[dict[str, Any]], source: str) -> YamlComponent:
    first = documents[0]
    if is_model_document(first):
        return _from_model(read_model(first, source), source)
    if is_v1_component(first):
        return YamlComponent(component_from_v1(first, source), env=env_of(first), source=source)
    if "schemaVersion" in first or "root" in first:
        return _from_v2(documents, source)
    raise PipelineDefinitionError(
        f"{source}: not a KFP component: expected a compiled component (schemaVersion, root, components) or a "
        f"v1 component.yaml (name, inputs, outputs, implementation.container)."
    )


def load_component_from_text(text: str) -> YamlComponent:
    """A component from YAML text (a compiled KFP v2 component or a v1 ``component.yaml``)."""
    if not isinstance(text, str):
        raise TypeError(f"expected YAML text, got {type(text).__name__}")
    return _load(text, "<text>")


def load_component_from_file(file_path: str | os.PathLike[str]) -> YamlComponent:
    """A component from a YAML file."""
    path = Path(file_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineDefinitionError(f"cannot read the component file {str(path)!r}: {exc}") from exc
    return _load(text, str(path))


def load_component_from_url(url: str, auth: Any = None) -> YamlComponent:
    """A component from a URL (http, https or file). ``auth`` is sent as the Authorization header
    when it is a string, or called with the request when it is callable (requests-style auth)."""
    request = urllib.request.Request(url, headers={"User-Agent": "airflow-kfp"})
    if isinstance(auth, str):
        request.add_header("Authorization", auth)
    elif callable(auth):
        request = auth(request) or request
    try:
        with urllib.request.urlopen(request, timeout=_URL_TIMEOUT_SECONDS) as response:
            text = response.read().decode("utf-8")
    except (OSError, ValueError) as exc:
        raise PipelineDefinitionError(f"cannot fetch the component from {url}: {exc}") from exc
    return _load(text, url)
