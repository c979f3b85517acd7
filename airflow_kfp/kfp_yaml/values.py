"""Parameter types and values as compiled YAML holds them, turned into the model's.

The IR stores every number as a protobuf double, so ``int`` defaults and constants arrive as ``3.0``
and lists of ints as ``[1.0, 2.0]``. A whole float is turned back into an int, as the Python
source had it (KFP's own backend hands such values to components the same way).
"""

from __future__ import annotations

import json
import math
from typing import Any

from airflow_kfp.core import types as ptypes
from airflow_kfp.kfp_yaml.document import Where

_LEGACY_TYPES = {"INT": ptypes.INTEGER, "DOUBLE": ptypes.DOUBLE, "STRING": ptypes.STRING}
KNOWN_TYPES = (*ptypes.PARAMETER_TYPES, *ptypes.RUNTIME_FILLED)


def parameter_type(definition: dict[str, Any], where: Where) -> str:
    raw = definition.get("parameterType") or definition.get("type")
    raw = _LEGACY_TYPES.get(str(raw), raw)
    if raw == "PARAMETER_TYPE_ENUM_UNSPECIFIED" or raw is None:
        raise where.error(
            "the parameter has no type (PARAMETER_TYPE_ENUM_UNSPECIFIED); annotate the input in the component and "
            "compile again."
        )
    if raw not in KNOWN_TYPES:
        raise where.error(f"unknown parameter type {raw!r}; expected one of {', '.join(KNOWN_TYPES)}.")
    return str(raw)


def whole_numbers(value: Any) -> Any:
    """``3.0`` becomes ``3`` inside lists and dicts, where the IR lost the int type."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [whole_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: whole_numbers(v) for k, v in value.items()}
    return value


def typed_value(value: Any, type_: str, where: Where) -> Any:
    """A constant or default of the given parameter type, as the Python source would have it."""
    if value is None:
        return None
    if type_ == ptypes.INTEGER:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
    elif type_ == ptypes.DOUBLE and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    elif type_ in (ptypes.LIST, ptypes.STRUCT):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                raise where.error(f"{value!r} is not JSON for a {type_} parameter.") from None
        return whole_numbers(value)
    elif type_ == ptypes.BOOLEAN and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def constant_of(runtime_value: dict[str, Any], where: Where) -> Any:
    """``runtimeValue``: ``constant`` (schema 2.1) or the older ``constantValue`` forms."""
    if "constant" in runtime_value:
        return runtime_value["constant"]
    if "constantValue" in runtime_value:
        constant = runtime_value["constantValue"] or {}
        for key, cast in (("intValue", int), ("doubleValue", float), ("stringValue", str)):
            if key in constant:
                return cast(constant[key])
        raise where.error(f"unreadable constantValue {constant!r}.")
    if "runtimeParameter" in runtime_value:
        raise where.error(
            f"runtimeValue.runtimeParameter {runtime_value['runtimeParameter']!r} names a KFP v1 runtime parameter; "
            f"recompile the pipeline with kfp 2.x."
        )
    raise where.error(f"unreadable runtimeValue {runtime_value!r}.")
