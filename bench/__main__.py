"""``python -m bench``: every benchmark of issue 8, one table, bench/results/summary.json.

    python -m bench [--quick] [--reps N] [--full-artifacts] [--profile] [--only e2e,parse,compile,artifacts]

Each figure is a ratio of two things measured interleaved in this run (A, B, A, B...), median of
``--reps`` repetitions, so background load on a shared machine hits both sides alike. Each side runs
in its own child process; "peak MiB" is that process's peak RSS (ru_maxrss). ``--profile`` adds a
cProfile of the slow side of each timed comparison (bench/results/profiles/*.pstats, summaries in
the JSON). See "Benchmarks" in the README.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench._common import RESULTS, Figure, machine, not_available, python_env

SECTIONS = ("e2e", "parse", "compile", "artifacts")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repetitions, 64 MiB artifacts (~4 min)")
    parser.add_argument("--reps", type=int, help="repetitions per side (default 5, --quick 3)")
    parser.add_argument("--full-artifacts", action="store_true", help="transfer 1 GiB instead of 256 MiB")
    parser.add_argument("--profile", action="store_true", help="also cProfile the slower sides")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temporary Airflow homes")
    return parser.parse_args()


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(figures: list[Figure]) -> str:
    head = (
        f"{'figure':<22} {'ratio':>7} {'target':>7} {'':>5} {'reps':>4}  {'A s':>7} {'B s':>7}  "
        f"{'peak MiB (A / B)':<18} A vs B"
    )
    lines = [head, "-" * len(head)]
    for f in figures:
        target = f"<={f.target:g}" if f.target is not None else ""
        peaks = " / ".join(f"{v:.0f}" for v in f.peak_mib.values()) or "-"
        versus = f"{f.numerator} vs {f.denominator}" if f.numerator else f.title
        lines.append(
            f"{f.key:<22} {_fmt(f.ratio, 3):>7} {target:>7} {f.verdict:>5} {f.reps:>4}  "
            f"{_fmt(f.num_s, 3):>7} {_fmt(f.den_s, 3):>7}  {peaks:<18} {versus}"
        )
        if f.note:
            lines.append(f"{'':<22}   {f.note}")
    return "\n".join(lines)


def main() -> None:
    args = _args()
    reps = args.reps or (3 if args.quick else 5)
    size_mib = 1024 if args.full_artifacts else (64 if args.quick else 256)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    os.environ.update(python_env())  # children (moto, transfer children) share the bytecode cache
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    root = Path(tempfile.mkdtemp(prefix="airflow-kfp-bench-"))
    began = time.perf_counter()
    facts = machine()
    print(
        f"airflow-kfp benchmarks: {reps} repetitions per side, median; {facts['nproc']} cores, "
        f"Python {facts['python']}, Airflow {facts['airflow']}; scratch {root}"
    )
    figures: list[Figure] = []
    timings: dict[str, float] = {}

    def section(name: str, fn: Any) -> None:
        if name not in only:
            return
        print(f"[{name}]", flush=True)
        start = time.perf_counter()
        try:
            result = fn()
            figures.extend(result if isinstance(result, list) else [result])
        except Exception as exc:  # one broken bench must not hide the others' figures
            print(f"  failed: {type(exc).__name__}: {exc}")
            figures.append(not_available(name, name, None, f"{type(exc).__name__}: {exc}"))
        timings[name] = round(time.perf_counter() - start, 1)
        print(f"  ({timings[name]:.0f} s)", flush=True)

    from bench import artifacts, compile_scaling, e2e, parse

    try:
        section("e2e", lambda: e2e.run(root, reps=reps, profile=args.profile))
        section("parse", lambda: parse.run(root, reps=reps, profile=args.profile))
        section("compile", lambda: compile_scaling.run(root, reps=reps, profile=args.profile))
        section("artifacts", lambda: artifacts.run(size_mib=size_mib, reps=min(reps, 3)))
    finally:
        if not args.keep_tmp:
            shutil.rmtree(root, ignore_errors=True)

    total = time.perf_counter() - began
    print()
    print(table(figures))
    print(f"\nA = numerator, B = denominator; ratio = A/B (times); total {total:.0f} s")
    summary: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench"
        + (" --quick" if args.quick else "")
        + (f" --reps {args.reps}" if args.reps else ""),
        "reps": reps,
        "artifact_size_mib": size_mib,
        "machine": facts,
        "section_seconds": timings,
        "total_seconds": round(total, 1),
        "figures": [f.to_json() for f in figures],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "summary.json"
    out.write_text(json.dumps(summary, indent=2, default=str))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
