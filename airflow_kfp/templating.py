"""Arguments are data, not templates, unless the author asks for templating.

``to_task_group(arguments=...)`` values land in an operator's templated field (so that upstream
XComArgs resolve). Airflow would then also render every literal string as Jinja: a value such as
``"{{ var.value.secret }}"`` would become the Variable's value, in the manifest, the cache key and the
lineage. So literals are wrapped as Airflow literals and reach the component verbatim; templating is
an explicit choice: ``airflow_kfp.Template("{{ ds }}")``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_PLAIN = (int, float, bool, type(None))


@dataclass(frozen=True)
class Template:
    """A Jinja template Airflow renders when the task runs, e.g. ``Template("{{ ds }}")``."""

    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(f"Template takes a string, got {type(self.text).__name__}")


def _resolved_at_run_time(value: Any) -> bool:
    """XComArgs, Airflow literals and mapped arguments: Airflow resolves them, we pass them on."""
    return callable(getattr(value, "resolve", None)) and callable(getattr(value, "iter_references", None))


def _has_dynamic_part(value: Any) -> bool:
    if isinstance(value, Template) or _resolved_at_run_time(value):
        return True
    if isinstance(value, dict):
        return any(_has_dynamic_part(v) for v in value.values())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has_dynamic_part(v) for v in value)
    return False


def as_argument(value: Any) -> Any:
    """``value`` as it may sit in a templated field: literals frozen, templates and XComArgs live."""
    from airflow.sdk import literal

    if isinstance(value, Template):
        return value.text
    if _resolved_at_run_time(value) or isinstance(value, _PLAIN):
        return value
    if not _has_dynamic_part(value):
        return literal(value)
    if isinstance(value, dict):
        return {k: as_argument(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(as_argument(v) for v in value)
    return [as_argument(v) for v in value]  # a list or set holding an XComArg or a Template


def as_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    return {name: as_argument(value) for name, value in arguments.items()}
