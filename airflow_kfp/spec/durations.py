"""Durations as KFP and Kubernetes write them ("3600s", "1.5h", "300ms", "1h30m", "7d"), as timedeltas.

Go-style durations are parsed by ``durationpy`` (what the kubernetes client uses); on top of it plain
seconds (``90``, ``"90"``) and ISO 8601 (``"P30D"``, ``"PT12H"``, KFP's ``max_cache_staleness`` form)
are accepted. Negative durations are refused.
"""

from __future__ import annotations

import re
from datetime import timedelta

_ISO = re.compile(
    r"^P(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_SECONDS = re.compile(r"^\d+(?:\.\d+)?$")


def _invalid(value: object) -> ValueError:
    return ValueError(f"{value!r} is not a duration; write it like '30s', '5m', '1h30m' or '7d'")


def parse_duration(value: str | int | float) -> timedelta:
    """Accepts "90s", "1h30m", "1.5h", "300ms", "7d", "P30D" and plain seconds; raises ValueError naming the forms."""
    if isinstance(value, bool):
        raise _invalid(value)
    if isinstance(value, int | float):
        if value < 0:
            raise _invalid(value)
        return timedelta(seconds=float(value))
    text = str(value).strip()
    if _SECONDS.match(text):
        return timedelta(seconds=float(text))
    iso = _ISO.match(text.upper()) if text[:1] in "Pp" else None
    if iso is not None and text.upper() not in ("P", "PT"):
        parts = {k: float(v) for k, v in iso.groupdict().items() if v}
        return timedelta(**parts)
    if not text or text.startswith(("-", "+")):
        raise _invalid(value)
    import durationpy

    try:
        return durationpy.from_str(text)
    except (durationpy.DurationError, ValueError, OverflowError):
        raise _invalid(value) from None
