"""cProfile a call and keep the few functions that explain where its time went (standard library only)."""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def top_functions(stats: pstats.Stats, key: str, limit: int) -> list[dict[str, Any]]:
    """The heaviest functions by ``key`` ('tottime' or 'cumtime') with their share of the total."""
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = float(stats.total_tt) or 1.0  # type: ignore[attr-defined]
    index = 2 if key == "tottime" else 3
    rows = sorted(raw.items(), key=lambda item: item[1][index], reverse=True)[:limit]
    out = []
    for (filename, line, name), values in rows:
        out.append(
            {
                "function": f"{_short(filename)}:{line}({name})",
                "seconds": round(values[index], 4),
                "share": round(values[index] / total, 4),
                "calls": values[1],
            }
        )
    return out


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/work/main/", "lib/python3"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


def profiled(fn: Callable[[], T], dump: Path, limit: int = 15) -> tuple[T, dict[str, Any]]:
    """Run ``fn`` under cProfile; write the raw stats to ``dump`` (open with pstats or snakeviz)."""
    profile = cProfile.Profile()
    result = profile.runcall(fn)
    dump.parent.mkdir(parents=True, exist_ok=True)
    profile.dump_stats(str(dump))
    stats = pstats.Stats(str(dump))
    summary = {
        "total_s": round(float(stats.total_tt), 3),  # type: ignore[attr-defined]
        "dump": str(dump),
        "by_cumulative": top_functions(stats, "cumtime", limit),
        "by_own_time": top_functions(stats, "tottime", limit),
    }
    return result, summary
