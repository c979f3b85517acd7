"""Kubernetes resource quantities, checked when a pipeline is defined rather than when a pod fails.

Parsing is Kubernetes' own (``kubernetes.utils.quantity.parse_quantity``), so every form the API server
accepts is accepted here (``500m``, ``0.5``, ``129e6``, ``1e3``, ``100n``, ``128974848000m``, ``2Gi``),
and negative values, which no resource may have, are refused. The kubernetes package is imported on
first use: a pipeline that sets no resources does not pay for it at DAG parse.
"""

from __future__ import annotations

from decimal import Decimal

_CPU_HELP = "use cores like '2' or '0.5', or millicores like '500m'"
_MEMORY_HELP = "use a number with an optional suffix such as '512Mi', '2Gi' or '1G'"


def _parse(value: object) -> Decimal | None:
    from kubernetes.utils.quantity import parse_quantity

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
