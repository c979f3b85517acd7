"""Read a compiled KFP pipeline document: the YAML text, its schema version, its platform document.

The kfp SDK writes one YAML document holding the PipelineSpec (schema 2.1.x) and, when kfp-kubernetes
settings are used, a second document holding ``platforms.kubernetes``. Everything downstream reads
the plain dicts returned here; errors name the source and the YAML path of what is wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model_file import MODEL_KEY

SUPPORTED_SCHEMA = (2, 1)
"""The PipelineSpec schema version this loader reads (kfp 2.x writes 2.1.0)."""

MAX_YAML_BYTES = 16 * 1024 * 1024
"""Largest YAML document read (a compiled pipeline is typically well under 1 MiB). PyYAML builds Python
objects at roughly 1-2 MB/s even with the C parser, and a DAG file must import within Airflow's
``dagbag_import_timeout`` (30 s by default): a larger document is refused before it is parsed."""
MAX_YAML_DEPTH = 100
"""Deepest nesting of mappings and sequences (a compiled pipeline nests about 15 levels; libyaml's own
limit is 1000). Every later walk of the document stays far from Python's recursion limit."""
MAX_YAML_NODES = 5_000_000
"""Most nodes the document may hold with its aliases expanded: a "billion laughs" document, whose few
aliases stand for 10^9 nodes, is refused before anything walks it."""

_Loader: Any = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
"""libyaml's parser where PyYAML was built with it (about 10x faster than the pure-Python one)."""


class BoundedLoader(_Loader):  # type: ignore[misc,valid-type]
    """The safe loader, with each document's node graph checked before any Python object is built."""

    source = "<text>"

    def construct_document(self, node: Any) -> Any:
        check_nodes(node, self.source)
        return super().construct_document(node)


def _children(node: Any) -> list[Any]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_nodes(root: Any, source: str) -> None:
    """Refuse a node graph that is too deep, holds a cycle (``&a [*a]``) or expands (aliases followed)
    to more than ``MAX_YAML_NODES`` nodes; iterative, so no recursion limit is reached here."""
    sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (nodes with aliases expanded, height)
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            parts = [sizes[id(c)] for c in _children(node)]
            count = 1 + sum(p[0] for p in parts)
            height = 1 + max((p[1] for p in parts), default=0)
            if count > MAX_YAML_NODES:
                raise PipelineDefinitionError(
                    f"{source}: the YAML expands to more than {MAX_YAML_NODES:,} nodes once its aliases (*name) "
                    "are followed (a 'billion laughs' document?); it is refused. Write the values out, or use "
                    "fewer nested aliases."
                )
            if height > MAX_YAML_DEPTH:
                mark = node.start_mark
                raise PipelineDefinitionError(
                    f"{source}: the YAML nests mappings and sequences more than {MAX_YAML_DEPTH} levels deep "
                    f"(near line {mark.line + 1}); it is refused. A compiled pipeline nests about 15 levels: "
                    "flatten the structure (for example pass a deep value as a JSON string)."
                )
            sizes[key] = (count, height)
            continue
        if key in sizes:
            continue
        if key in on_path:
            raise PipelineDefinitionError(
                f"{source}: the YAML holds an alias that contains itself (near line {node.start_mark.line + 1}); "
                "a recursive document cannot be a pipeline."
            )
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


def _too_large(source: str, size: int) -> PipelineDefinitionError:
    return PipelineDefinitionError(
        f"{source}: the YAML is {size / 1024 / 1024:.1f} MiB, more than the {MAX_YAML_BYTES // (1024 * 1024)} MiB "
        "airflow-kfp reads: a document that large cannot be parsed within Airflow's DAG-file import timeout. "
        "Keep data out of the pipeline (pass it as an artifact or a pipeline input), or split the pipeline."
    )


@dataclass
class Documents:
    """The two documents of a compiled pipeline, and where they came from (for messages)."""

    spec: dict[str, Any]
    platforms: dict[str, Any] = field(default_factory=dict)
    source: str = "<text>"


@dataclass(frozen=True)
class Where:
    """Names the place of a construct in a message: pipeline, component, task and YAML path."""

    pipeline: str
    yaml_path: str
    task: str | None = None
    component: str | None = None

    def at(self, *parts: str, task: str | None = None, component: str | None = None) -> Where:
        path = ".".join([self.yaml_path, *parts]) if self.yaml_path else ".".join(parts)
        return Where(
            self.pipeline,
            path,
            task if task is not None else self.task,
            component if component is not None else self.component,
        )

    def error(self, message: str) -> PipelineDefinitionError:
        names = [f"pipeline '{self.pipeline}'"]
        if self.component is not None:
            names.append(f"component '{self.component}'")
        if self.task is not None:
            names.append(f"task '{self.task}'")
        return PipelineDefinitionError(f"{', '.join(names)} (at {self.yaml_path}): {message}")


def mapping(value: Any, where: Where) -> dict[str, Any]:
    """A YAML mapping (absent means empty); anything else is an error at ``where``."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise where.error(f"expected a mapping, got {type(value).__name__}.")
    return value


def _looks_like_path(value: str) -> bool:
    return "\n" not in value and (
        value.endswith((".yaml", ".yml", ".json")) or os.sep in value or os.path.exists(value)
    )


def read_text(path_or_text: str | os.PathLike[str]) -> tuple[str, str]:
    """The YAML text and a name for it: a path is read, anything else is taken as the text itself."""
    if isinstance(path_or_text, os.PathLike) or (isinstance(path_or_text, str) and _looks_like_path(path_or_text)):
        path = Path(path_or_text)
        try:
            size = path.stat().st_size
            if size > MAX_YAML_BYTES:
                raise _too_large(str(path), size)
            return path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise PipelineDefinitionError(f"cannot read the pipeline file {str(path)!r}: {exc}") from exc
    if not isinstance(path_or_text, str):
        raise TypeError(f"expected a path or YAML text, got {type(path_or_text).__name__}")
    return path_or_text, "<text>"


def parse_yaml(text: str, source: str) -> list[dict[str, Any]]:
    """Every YAML document of ``text`` (empty documents skipped); each must be a mapping."""
    if len(text) > MAX_YAML_BYTES:
        raise _too_large(source, len(text.encode("utf-8")))
    loader = BoundedLoader(text)
    loader.source = source
    try:
        documents = []
        while loader.check_data():
            data = loader.get_data()
            if data is not None:
                documents.append(data)
    except yaml.YAMLError as exc:
        if "exceeded maximum nesting depth" in str(exc):
            raise PipelineDefinitionError(
                f"{source}: the YAML nests mappings and sequences more than {MAX_YAML_DEPTH} levels deep; it is "
                "refused. Flatten the structure (for example pass a deep value as a JSON string)."
            ) from None
        raise PipelineDefinitionError(f"{source}: not valid YAML: {exc}") from exc
    except RecursionError:  # the pure-Python composer recurses once per nesting level
        raise PipelineDefinitionError(
            f"{source}: the YAML nests mappings and sequences too deeply to be read (more than {MAX_YAML_DEPTH} "
            "levels allowed); flatten the structure."
        ) from None
    finally:
        loader.dispose()
    for document in documents:
        if not isinstance(document, dict):
            raise PipelineDefinitionError(
                f"{source}: expected a YAML mapping (a compiled KFP pipeline), got {type(document).__name__}."
            )
    if not documents:
        raise PipelineDefinitionError(f"{source}: the YAML is empty.")
    return documents


def schema_version(spec: dict[str, Any], source: str) -> tuple[int, ...]:
    raw = spec.get("schemaVersion")
    if raw is None:
        raise PipelineDefinitionError(
            f"{source}: no schemaVersion; this is not a pipeline compiled by the kfp SDK v2 "
            f"(compile it with kfp.compiler.Compiler().compile(...))."
        )
    try:
        return tuple(int(p) for p in str(raw).split("."))
    except ValueError:
        raise PipelineDefinitionError(f"{source}: schemaVersion {raw!r} is not a version number.") from None


def check_schema(spec: dict[str, Any], source: str) -> None:
    version = schema_version(spec, source)
    info = spec.get("pipelineInfo")
    name = info.get("name", "?") if isinstance(info, dict) else "?"
    sdk = spec.get("sdkVersion", "an unknown SDK")
    if version[:2] > SUPPORTED_SCHEMA:
        raise PipelineDefinitionError(
            f"pipeline '{name}' ({source}): written with PipelineSpec schema {spec['schemaVersion']} by {sdk}, "
            f"newer than the schema {SUPPORTED_SCHEMA[0]}.{SUPPORTED_SCHEMA[1]} this airflow-kfp reads; upgrade "
            f"airflow-kfp, or compile the pipeline with a kfp SDK that writes schema 2.1 (kfp 2.x)."
        )
    if version[:2] < SUPPORTED_SCHEMA:
        raise PipelineDefinitionError(
            f"pipeline '{name}' ({source}): PipelineSpec schema {spec['schemaVersion']} (written by {sdk}) is the "
            f"KFP v1 / v2-compatible format; recompile the pipeline with kfp 2.x (schema 2.1)."
        )


def load_documents(path_or_text: str | os.PathLike[str] | dict[str, Any]) -> Documents:
    """The pipeline document and the ``platforms`` settings of a compiled KFP pipeline."""
    if isinstance(path_or_text, dict):
        documents, source = [path_or_text], "<dict>"
    else:
        text, source = read_text(path_or_text)
        documents = parse_yaml(text, source)
    spec = next((d for d in documents if "root" in d or "pipelineInfo" in d or "schemaVersion" in d), None)
    if spec is None and len(documents) == 1 and MODEL_KEY in documents[0]:
        return Documents(spec=documents[0], platforms={}, source=source)  # compiler.Compiler's own model file
    if spec is None:
        raise PipelineDefinitionError(
            f"{source}: no pipeline document (one with pipelineInfo, root and schemaVersion) was found."
        )
    check_schema(spec, source)
    platforms: dict[str, Any] = {}
    for document in documents:
        if document is spec:
            continue
        if "platforms" in document and isinstance(document["platforms"], dict):
            platforms.update(document["platforms"])
        else:
            raise PipelineDefinitionError(
                f"{source}: unexpected extra YAML document with keys {sorted(document)}; a compiled pipeline has "
                f"the pipeline document and optionally one 'platforms' document."
            )
    return Documents(spec=spec, platforms=platforms, source=source)
