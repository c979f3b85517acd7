"""Artifact classes and the Input/Output markers, with KFP v2 names and schema titles.

Standard library only: this module runs inside user images next to the user's code, and the
authoring DSL re-exports it so that ``Input[Dataset]`` means the same thing at compile time and at
run time.
"""

from __future__ import annotations

from typing import Any, ClassVar

_URI_PREFIXES = {"s3://": "/s3/", "gs://": "/gcs/", "minio://": "/minio/"}

_task_root: tuple[str, str] | None = None
"""While a component runs: (the task's output URI prefix, the local folder its outputs are staged in)."""


def set_task_root(uri_prefix: str | None, local_dir: str | None) -> None:
    """Set by the executor before the function runs, so ``dsl.get_uri()`` and the paths of artifacts
    made from it point at this task's staged output folder (KFP's CONTAINER_TASK_ROOT)."""
    global _task_root
    _task_root = (uri_prefix.rstrip("/"), local_dir.rstrip("/")) if uri_prefix and local_dir else None


def get_uri(suffix: str = "Output") -> str:
    """KFP's ``dsl.get_uri``: a URI unique to the running task, for a pythonic artifact output
    (``Dataset(uri=dsl.get_uri())``); ``suffix`` keeps several outputs apart."""
    if _task_root is None:
        raise RuntimeError(
            "dsl.get_uri can only be called while a component runs; the task's output location is unknown here."
        )
    return f"{_task_root[0]}/{suffix}"


def uri_to_local_path(uri: str) -> str:
    """Follow KFP's rule for where an artifact's bytes sit in the container."""
    if _task_root is not None:
        remote, local = _task_root
        if uri == remote or uri.startswith(remote + "/"):
            return local + uri[len(remote) :]
    if uri.startswith("file://"):  # RFC 8089 (stores.local.file_uri_path, kept stdlib-only here)
        rest = uri[len("file://") :]
        rest = rest[len("localhost") :] if rest.startswith("localhost/") else rest
        if "%" in rest:
            import os
            from urllib.parse import unquote

            decoded = unquote(rest)
            if os.path.lexists(decoded) or not os.path.lexists(rest):
                return decoded
        return rest
    for prefix, mount in _URI_PREFIXES.items():
        if uri.startswith(prefix):
            return mount + uri[len(prefix) :]
    if uri.startswith("oci://"):  # a model car: KFP mounts the image's /models folder here
        return "/oci/" + uri[len("oci://") :].replace("/", "_") + "/models"
    return uri


class Artifact:
    """A file or directory produced or consumed by a component, plus its metadata."""

    schema_title: ClassVar[str] = "system.Artifact"
    schema_version: ClassVar[str] = "0.0.1"

    def __init__(
        self,
        name: str | None = None,
        uri: str | None = None,
        metadata: dict[str, Any] | None = None,
        path: str | None = None,
    ) -> None:
        self.name = name or ""
        self.uri = uri or ""
        self.metadata: dict[str, Any] = dict(metadata or {})
        self._path = path
        self._custom_path = ""

    @property
    def path(self) -> str:
        if self._custom_path:
            return self._custom_path
        return self._path if self._path is not None else uri_to_local_path(self.uri)

    @path.setter
    def path(self, value: str) -> None:
        self._path = value

    @property
    def custom_path(self) -> str:
        """Where the function chose to write this output (``set_path``); the launcher stores it from there."""
        return self._custom_path

    @custom_path.setter
    def custom_path(self, value: str) -> None:
        self._custom_path = value

    def set_path(self, path: str) -> None:
        """KFP's ``Output[...].set_path``: write the output at ``path`` instead of the default location."""
        self._custom_path = path

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, uri={self.uri!r}, metadata={self.metadata!r})"


class Dataset(Artifact):
    schema_title = "system.Dataset"


class Model(Artifact):
    schema_title = "system.Model"

    @property
    def framework(self) -> str:
        return str(self.metadata.get("framework", ""))

    @framework.setter
    def framework(self, framework: str) -> None:
        self.metadata["framework"] = framework


class Metrics(Artifact):
    """Scalar metrics live in ``metadata``; that is what the UI and lineage read."""

    schema_title = "system.Metrics"

    def log_metric(self, metric: str, value: float) -> None:
        self.metadata[metric] = value


class ClassificationMetrics(Artifact):
    schema_title = "system.ClassificationMetrics"

    def log_roc_data_point(self, fpr: float, tpr: float, threshold: float) -> None:
        roc = self.metadata.setdefault("confidenceMetrics", [])
        roc.append({"confidenceThreshold": threshold, "recall": tpr, "falsePositiveRate": fpr})

    def log_roc_curve(self, fpr: list[float], tpr: list[float], threshold: list[float]) -> None:
        if not len(fpr) == len(tpr) == len(threshold):
            raise ValueError("log_roc_curve: fpr, tpr and threshold must have the same length")
        for f, t, th in zip(fpr, tpr, threshold, strict=True):
            self.log_roc_data_point(f, t, th)

    def set_confusion_matrix_categories(self, categories: list[str]) -> None:
        self.metadata["confusionMatrix"] = {
            "annotationSpecs": [{"displayName": c} for c in categories],
            "rows": [{"row": [0] * len(categories)} for _ in categories],
        }
        self._categories = list(categories)

    def log_confusion_matrix_row(self, row_category: str, row: list[float]) -> None:
        categories = getattr(self, "_categories", None)
        if categories is None:
            raise ValueError("call set_confusion_matrix_categories before logging rows")
        if len(row) != len(categories):
            raise ValueError(f"row has {len(row)} values, expected {len(categories)}")
        self.metadata["confusionMatrix"]["rows"][categories.index(row_category)] = {"row": list(row)}

    def log_confusion_matrix_cell(self, row_category: str, col_category: str, value: int) -> None:
        categories = getattr(self, "_categories", None)
        if categories is None:
            raise ValueError("call set_confusion_matrix_categories before logging cells")
        rows = self.metadata["confusionMatrix"]["rows"]
        rows[categories.index(row_category)]["row"][categories.index(col_category)] = value

    def log_confusion_matrix(self, categories: list[str], matrix: list[list[float]]) -> None:
        self.set_confusion_matrix_categories(categories)
        if len(matrix) != len(categories):
            raise ValueError("the confusion matrix needs one row per category")
        for category, row in zip(categories, matrix, strict=True):
            self.log_confusion_matrix_row(category, row)


class SlicedClassificationMetrics(Artifact):
    schema_title = "system.SlicedClassificationMetrics"

    def log_roc_reading(self, slice: str, threshold: float, tpr: float, fpr: float) -> None:
        readings = self.metadata.setdefault(slice, {}).setdefault("confidenceMetrics", [])
        readings.append({"confidenceThreshold": threshold, "recall": tpr, "falsePositiveRate": fpr})


METRICS_TYPES = (Metrics.schema_title, ClassificationMetrics.schema_title, SlicedClassificationMetrics.schema_title)
"""Artifact types whose metadata is their content (KFP's metrics): written from metadata when absent."""


class HTML(Artifact):
    schema_title = "system.HTML"


class Markdown(Artifact):
    schema_title = "system.Markdown"


ARTIFACT_CLASSES: dict[str, type[Artifact]] = {
    cls.schema_title: cls
    for cls in (
        Artifact,
        Dataset,
        Model,
        Metrics,
        ClassificationMetrics,
        SlicedClassificationMetrics,
        HTML,
        Markdown,
    )
}


def artifact_class(schema_title: str) -> type[Artifact]:
    """Unknown schema titles (from compiled KFP components) still load as plain artifacts."""
    return ARTIFACT_CLASSES.get(schema_title, Artifact)


class _Marker:
    """``Input[Dataset]`` / ``Output[Model]``: a subscriptable marker the signature parser reads."""

    direction: ClassVar[str] = ""

    def __class_getitem__(cls, item: Any) -> Any:
        return _Annotation(cls.direction, item)


class _Annotation:
    def __init__(self, direction: str, artifact_type: Any) -> None:
        self.direction = direction
        self.artifact_type = artifact_type

    def __repr__(self) -> str:
        name = getattr(self.artifact_type, "__name__", repr(self.artifact_type))
        return f"{self.direction.capitalize()}[{name}]"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, _Annotation)
            and other.direction == self.direction
            and other.artifact_type is self.artifact_type
        )

    def __hash__(self) -> int:
        return hash((self.direction, id(self.artifact_type)))


class Input(_Marker):
    direction = "input"


class EmbeddedInput(_Marker):
    """``dsl.EmbeddedInput[Dataset]``: the files embedded with ``@dsl.component(embedded_artifact_path=...)``,
    given to the function at run time; not an input of the component."""

    direction = "embedded"


class Output(_Marker):
    direction = "output"


class InputPath:
    """A parameter that receives the local path of an input artifact (or a parameter's file)."""

    direction = "input"

    def __init__(self, type: Any = None) -> None:
        self.type = type

    def __repr__(self) -> str:
        return f"InputPath({self.type!r})"


class OutputPath:
    """A parameter that receives the path the function must write an output to."""

    direction = "output"

    def __init__(self, type: Any = None) -> None:
        self.type = type

    def __repr__(self) -> str:
        return f"OutputPath({self.type!r})"


def is_artifact_annotation(annotation: Any) -> bool:
    return isinstance(annotation, _Annotation)


def annotation_direction(annotation: Any) -> str | None:
    if isinstance(annotation, _Annotation | InputPath | OutputPath):
        return annotation.direction
    return None
