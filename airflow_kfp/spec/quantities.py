"""Kubernetes resource quantities, checked when a pipeline is defined rather than when a pod fails.

Parsing follows the Kubernetes client's (``kubernetes.utils.quantity.parse_quantity``), so every form the API server
accepts is accepted here (``500m``, ``0.5``, ``129e6``, ``1e3``, ``100n``, ``128974848000m``, ``2Gi``),
and negative values, which no resource may have, are refused. The Kubernetes client is never imported
here: its parser's rules are restated below (and checked against it by a test).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_CPU_HELP = "use cores like '2' or '0.5', or millicores like '500m'"
_MEMORY_HELP = "use a number with an optional suffix such as '512Mi', '2Gi' or '1G'"


_EXPONENTS = {"n": -3, "u": -2, "m": -1, "K": 1, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def parse_quantity(quantity: object) -> Decimal:
    """The Kubernetes client's ``kubernetes.utils.quantity.parse_quantity``, the same rules (base-1024
    ``Ki``..``Ei``, base-1000 ``n u m k M G T P E``), without importing the client: the settings check
    of every task process and DAG-file parse reads ``max_output_parameter_size`` with it, and
    importing ``kubernetes`` costs a task process more than its whole parse (issue 29 profile).
    ``tests/unit/test_quantities.py`` checks it against the client's."""
    if isinstance(quantity, int | float | Decimal):
        return Decimal(quantity)
    text = str(quantity)
    number, suffix = text, ""
    if len(text) >= 2 and text[-1] == "i":
        if text[-2] in _EXPONENTS:
            number, suffix = text[:-2], text[-2:]
    elif len(text) >= 1 and text[-1] in _EXPONENTS:
        number, suffix = text[:-1], text[-1:]
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"Invalid number format: {number}") from None
    if not suffix:
        return value
    if suffix.endswith("i"):
        base = 1024
    elif len(suffix) == 1:
        base = 1000
    else:
        raise ValueError(f"{text} has unknown suffix")
    if suffix == "ki":
        raise ValueError(f"{text} has unknown suffix")
    return value * (base ** Decimal(_EXPONENTS[suffix[0]]))


def _parse(value: object) -> Decimal | None:
    text = str(value).strip()
    if not text or any(c.isspace() for c in text):  # the API server takes none; the parser would
        return None
    try:
        parsed = parse_quantity(text)
    except (ValueError, TypeError, ArithmeticError):
        return None
    return parsed if parsed >= 0 else None


def parse(value: object) -> Decimal | None:
    """Any quantity the API server accepts (of any resource), or None."""
    return _parse(value)


def cpu_millis(value: object) -> Decimal:
    """CPU in millicores; raises ValueError with the accepted forms."""
    parsed = _parse(value)
    if parsed is None:
        raise ValueError(f"{value!r} is not a CPU quantity; {_CPU_HELP}")
    return parsed * 1000


def memory_bytes(value: object) -> Decimal:
    """Memory in bytes; raises ValueError with the accepted forms."""
    parsed = _parse(value)
    if parsed is None:
        raise ValueError(f"{value!r} is not a memory quantity; {_MEMORY_HELP}")
    return parsed
