"""Parameter types in KFP's IR vocabulary, and how values cross process boundaries.

Standard library only; shared by the compile-time signature parser and the in-pod executor so that a
value is checked and coerced by exactly one set of rules.
"""

from __future__ import annotations

import json
import typing
from typing import Any

from airflow_kfp.core.final_status import TYPE_NAME as FINAL_STATUS_TYPE
from airflow_kfp.core.final_status import is_final_status_annotation
from airflow_kfp.core.task_config import TYPE_NAME as TASK_CONFIG_TYPE
from airflow_kfp.core.task_config import is_task_config_annotation

STRING = "STRING"
INTEGER = "NUMBER_INTEGER"
DOUBLE = "NUMBER_DOUBLE"
BOOLEAN = "BOOLEAN"
LIST = "LIST"
STRUCT = "STRUCT"
TASK_FINAL_STATUS = FINAL_STATUS_TYPE
"""An exit task's ``dsl.PipelineTaskFinalStatus`` input, filled by the compiler, never by the caller."""
TASK_CONFIG = TASK_CONFIG_TYPE
"""A ``dsl.TaskConfig`` input: the task's own settings, filled when the task runs, never by the caller."""
RUNTIME_FILLED = (TASK_FINAL_STATUS, TASK_CONFIG)
PARAMETER_TYPES = (STRING, INTEGER, DOUBLE, BOOLEAN, LIST, STRUCT)

_PY_TO_PARAM: dict[Any, str] = {
    str: STRING,
    int: INTEGER,
    float: DOUBLE,
    bool: BOOLEAN,
    list: LIST,
    dict: STRUCT,
}
_NAME_TO_PARAM = {
    "str": STRING,
    "string": STRING,
    "int": INTEGER,
    "integer": INTEGER,
    "float": DOUBLE,
    "double": DOUBLE,
    "number": DOUBLE,
    "bool": BOOLEAN,
    "boolean": BOOLEAN,
    "list": LIST,
    "jsonarray": LIST,
    "dict": STRUCT,
    "jsonobject": STRUCT,
}

JSON_SCHEMA_TYPES = {
    STRING: "string",
    INTEGER: "integer",
    DOUBLE: "number",
    BOOLEAN: "boolean",
    LIST: "array",
    STRUCT: "object",
    TASK_FINAL_STATUS: "object",
    TASK_CONFIG: "object",
}


def strip_optional(annotation: Any) -> tuple[Any, bool]:
    """``Optional[int]`` is an ``int`` that may be absent."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def parameter_type_of(annotation: Any) -> str | None:
    """The IR type of a Python annotation, or None if it is not a parameter type."""
    annotation, _ = strip_optional(annotation)
    if is_final_status_annotation(annotation):
        return TASK_FINAL_STATUS
    if is_task_config_annotation(annotation):
        return TASK_CONFIG
    if isinstance(annotation, str):
        return _NAME_TO_PARAM.get(annotation.lower())
    origin = typing.get_origin(annotation) or annotation
    return _PY_TO_PARAM.get(origin)


def value_matches(value: Any, param_type: str) -> bool:
    if param_type == STRING:
        return isinstance(value, str)
    if param_type == INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if param_type == DOUBLE:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if param_type == BOOLEAN:
        return isinstance(value, bool)
    if param_type == LIST:
        return isinstance(value, list | tuple)
    if param_type == STRUCT:
        return isinstance(value, dict)
    return False


def coerce(value: Any, param_type: str) -> Any:
    """Turn a JSON-decoded value into the Python value a function's annotation asks for.

    JSON and Airflow Params lose the int/float distinction (5.0 for 5) and sometimes hand strings;
    accept what is unambiguous and refuse the rest.
    """
    if value is None:
        return None
    if param_type in RUNTIME_FILLED and isinstance(value, dict):
        return value
    if param_type == INTEGER:
        if isinstance(value, bool):
            raise TypeError(f"expected an integer, got the boolean {value!r}")
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            return int(value.strip())
        if isinstance(value, int):
            return value
    elif param_type == DOUBLE:
        if isinstance(value, bool):
            raise TypeError(f"expected a number, got the boolean {value!r}")
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            return float(value.strip())
    elif param_type == BOOLEAN:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
    elif param_type == STRING:
        if isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, dict | list) else str(value)
    elif param_type in (LIST, STRUCT):
        if isinstance(value, str):
            value = json.loads(value)
        if param_type == LIST and isinstance(value, list | tuple):
            return list(value)
        if param_type == STRUCT and isinstance(value, dict):
            return value
    raise TypeError(f"expected {JSON_SCHEMA_TYPES.get(param_type, param_type)}, got {value!r}")


def to_text(value: Any) -> str:
    """How a parameter appears on a command line or in an output file (KFP's rendering)."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def from_text(text: str, param_type: str) -> Any:
    """Read back a parameter a program wrote to its output file."""
    if param_type == STRING:
        return text
    stripped = text.strip()
    if param_type in (LIST, STRUCT):
        return coerce(json.loads(stripped), param_type)
    return coerce(stripped, param_type)


MISSING_FIELD: Any = object()
"""What ``item_field`` returns for an item without the field."""


def item_field(item: Any, field: str) -> Any:
    """``item.field`` of a loop item as KFP reads it: a dict's key, or a key of a JSON object held in a
    string (KFP's compiler selects ``parseJson(string_value)[field]``). ``MISSING_FIELD`` when absent."""
    if isinstance(item, str):
        try:
            item = json.loads(item)
        except ValueError:
            return MISSING_FIELD
    if isinstance(item, dict) and field in item:
        return item[field]
    return MISSING_FIELD
