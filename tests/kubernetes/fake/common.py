"""What every part of the fake API server shares: quantities, times, selectors and ``Status`` bodies.

``Status`` bodies and field errors are worded as apimachinery words them
(``staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go``: ``NewInvalid``, ``NewForbidden``,
``NewConflict``, ``NewTooManyRequests``; ``pkg/util/validation/field/errors.go``: ``ErrorBody``).
"""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from aiohttp import web

# resource.ParseQuantity (staging/src/k8s.io/apimachinery/pkg/api/resource/quantity.go): the same
# grammar and the message the decoder returns for a malformed quantity.
_QUANTITY = re.compile(r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$")
QUANTITY_FORMAT_ERROR = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1), "k": Decimal(10**3)}
_DECIMAL |= {"M": Decimal(10**6), "G": Decimal(10**9), "T": Decimal(10**12), "P": Decimal(10**15), "E": Decimal(10**18)}


def parse_quantity(value: Any) -> Decimal:
    """A Kubernetes quantity (``500m``, ``1Gi``, ``1e3``, ``2``); ValueError worded as the decoder words it."""
    if isinstance(value, bool):
        raise ValueError(QUANTITY_FORMAT_ERROR)
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError(QUANTITY_FORMAT_ERROR)
    number, suffix = match.groups()
    try:
        base = Decimal(number)
    except InvalidOperation as exc:
        raise ValueError(QUANTITY_FORMAT_ERROR) from exc
    if suffix in _BINARY:
        return base * _BINARY[suffix]
    if suffix in _DECIMAL:
        return base * _DECIMAL[suffix]
    exponent = re.fullmatch(r"[eE]([-+]?[0-9]+)", suffix)
    if exponent:
        return base * Decimal(10) ** int(exponent.group(1))
    raise ValueError(QUANTITY_FORMAT_ERROR)


def quantity(value: Any) -> float:
    return float(parse_quantity(value))


def now_iso(fraction: bool = False) -> str:
    t = datetime.datetime.now(tz=datetime.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if fraction else "%Y-%m-%dT%H:%M:%SZ")


def matches_selector(labels: dict[str, str], selector: str | None) -> bool:
    """Equality-based label selectors: ``a=b``, ``a==b``, ``a!=b``, ``a`` (exists), ``!a``."""
    for term in filter(None, (selector or "").split(",")):
        term = term.strip()
        if term.startswith("!"):
            if term[1:] in labels:
                return False
        elif "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key) != value:
                return False
        elif term not in labels:
            return False
    return True


def flag(value: str | None) -> bool:
    """Query booleans: the Python clients send ``True``, kubectl sends ``true``."""
    return (value or "").lower() in ("true", "1")


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


class ApiError(Exception):
    """An answer other than success: raised anywhere in a handler, turned into a ``Status`` response."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details, self.headers = code, reason, message, details, headers

    def response(self) -> web.Response:
        return web.json_response(
            status_body(self.code, self.reason, self.message, self.details), status=self.code, headers=self.headers
        )


def error(code: int, reason: str, message: str) -> web.Response:
    return ApiError(code, reason, message).response()


def not_found(resource: str, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{resource} "{name}" not found', {"name": name, "kind": resource})


def already_exists(resource: str, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{resource} "{name}" already exists', {"name": name, "kind": resource})


def forbidden(resource: str, name: str, why: str) -> ApiError:
    """``NewForbidden``: ``pods "x" is forbidden: why`` (``pods is forbidden: why`` without a name)."""
    subject = f'{resource} "{name}"' if name else resource
    return ApiError(
        403,
        "Forbidden",
        f"{subject} is forbidden: {why}",
        {"name": name, "kind": resource} if name else {"kind": resource},
    )


def conflict(resource: str, name: str) -> ApiError:
    """``NewConflict`` with the optimistic-concurrency error the registry returns for a stale resourceVersion."""
    why = "the object has been modified; please apply your changes to the latest version and try again"
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {resource} "{name}": {why}',
        {"name": name, "kind": resource},
    )


def too_many_requests(retry_after: int) -> ApiError:
    """What the API priority and fairness filter answers when a request is rejected (429 + Retry-After)."""
    return ApiError(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


# -- field errors (staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go) ---------------
_TYPES = {
    "FieldValueRequired": "Required value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueNotFound": "Not found",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueTooLong": "Too long",
}
_OMIT = object()


def _go_value(value: Any) -> str:
    """How ``ErrorBody`` prints a bad value: strings quoted (%q), numbers and booleans plain."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, sort_keys=True)


@dataclass
class FieldError:
    type: str
    field: str
    value: Any = _OMIT
    detail: str = ""

    def body(self) -> str:
        text = _TYPES[self.type]
        if (
            self.type not in ("FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong")
            and self.value is not _OMIT
        ):
            text += ": " + _go_value(self.value)
        if self.detail:
            text += ": " + self.detail
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


def required(path: str, detail: str = "") -> FieldError:
    return FieldError("FieldValueRequired", path, "", detail)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError("FieldValueInvalid", path, value, detail)


def duplicate(path: str, value: Any) -> FieldError:
    return FieldError("FieldValueDuplicate", path, value)


def field_not_found(path: str, value: Any) -> FieldError:
    return FieldError("FieldValueNotFound", path, value)


def not_supported(path: str, value: Any, valid: list[str]) -> FieldError:
    detail = "supported values: " + ", ".join(json.dumps(v) for v in valid) if valid else ""
    return FieldError("FieldValueNotSupported", path, value, detail)


def field_forbidden(path: str, detail: str) -> FieldError:
    return FieldError("FieldValueForbidden", path, "", detail)


def too_long(path: str, limit: int) -> FieldError:
    return FieldError("FieldValueTooLong", path, "", f"must have at most {limit} bytes")


def unprocessable(kind: str, name: str, errors: list[FieldError]) -> ApiError:
    """``NewInvalid``: 422, reason Invalid, one cause per field error, the aggregate in the message."""
    unique: list[FieldError] = []
    seen: set[str] = set()
    for e in errors:  # ErrorList.ToAggregate drops repeated messages
        if str(e) not in seen:
            seen.add(str(e))
            unique.append(e)
    listed = str(unique[0]) if len(unique) == 1 else "[" + ", ".join(str(e) for e in unique) + "]"
    causes = [{"reason": e.type, "message": e.body(), "field": e.field} for e in errors]
    return ApiError(
        422, "Invalid", f'{kind} "{name}" is invalid: {listed}', {"name": name, "kind": kind, "causes": causes}
    )
