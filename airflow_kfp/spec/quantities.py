"""Kubernetes resource quantities, checked when a pipeline is defined rather than when a pod fails."""

from __future__ import annotations

import re
from decimal import Decimal

_CPU = re.compile(r"^(?P<num>\d+(\.\d+)?)(?P<unit>m?)$")
_MEMORY = re.compile(r"^(?P<num>\d+(\.\d+)?)(?P<unit>(Ki|Mi|Gi|Ti|Pi|Ei|k|K|M|G|T|P|E)?)$")
_MEMORY_FACTORS = {
    "": 1,
    "k": 10**3,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}


def cpu_millis(value: str) -> Decimal:
    """CPU in millicores; raises ValueError with the accepted forms."""
    match = _CPU.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a CPU quantity; use cores like '2' or '0.5', or millicores like '500m'")
    num = Decimal(match["num"])
    return num if match["unit"] == "m" else num * 1000


def memory_bytes(value: str) -> Decimal:
    match = _MEMORY.match(str(value).strip())
    if not match:
        raise ValueError(
            f"{value!r} is not a memory quantity; use a number with an optional suffix such as '512Mi', '2Gi' or '1G'"
        )
    return Decimal(match["num"]) * _MEMORY_FACTORS[match["unit"]]
