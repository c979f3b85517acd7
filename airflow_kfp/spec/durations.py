"""Durations as KFP writes them ("30s", "1.5h", "7d"), turned into timedeltas."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | int | float) -> timedelta:
    """Accepts "90s", "1h30m", "7d" and plain seconds; raises ValueError naming the forms."""
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return timedelta(seconds=float(text))
    if not text or _PART.sub("", text) != "":
        raise ValueError(f"{value!r} is not a duration; write it like '30s', '5m', '1h30m' or '7d'")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in _PART.findall(text)))
