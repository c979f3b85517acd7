"""``python -m bench``: every benchmark of issue 15, one table, the record in bench/figures.json.

    python -m bench [--quick] [--reps N] [--only e2e,realistic,...] [--profile] [--out PATH]

Each figure is a ratio of two things measured interleaved in this run (A, B, A, B...), ``--reps``
times; the table gives the spread of the per-repetition ratios (min, median, max) and whether the
target holds at the median and at the worst repetition. Each side runs in its own child process;
"peak MiB" is that process's peak RSS. A full run writes bench/figures.json (``--only`` replaces
just its figures there); ``--quick`` (smaller sizes, ~3 min) writes bench/results/quick.json.
``python -m bench.report`` then regenerates the README's table from bench/figures.json.
"""

from __future__ import annotations

import argparse
import datetime
import shlex
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import record
from bench._common import Figure, machine, not_available, python_env, uptime

SECTIONS = ("e2e", "realistic", "fanout", "parse", "compile", "artifacts", "deployment")
DEFAULT_SECTIONS = SECTIONS[:-1]  # the real deployment (minutes, PostgreSQL, Redis) runs only when asked


@dataclass(frozen=True)
class Sizes:
    """What each section measures; ``--quick`` shrinks everything, every row still appears."""

    reps: int
    steps: int
    fanout_items: int
    parse_components: int
    compile_small: int
    compile_large: int
    artifact_mib: int
    artifact_reps: int
    fanout_reps: int  # a 1,000-item run takes minutes: fewer repetitions than the rest
    realistic_rows: int = 200_000
    realistic_reps: int | None = None  # None: ``reps``; --quick runs fewer of its multi-second cold runs
    deploy_reps: int = 3  # batches per side on the real deployment
    deploy_runs: int = 10  # concurrent runs per batch
    deploy_steps: int = 10
    deploy_items: int = 1000

    @classmethod
    def pick(cls, quick: bool, reps: int | None) -> Sizes:
        if quick:
            return cls(
                reps or 3, 5, 20, 50, 100, 1000, 64, reps or 3, reps or 3, 20_000, reps or 2, reps or 2, 3, 3, 20
            )
        return cls(
            reps or 5, 10, 1000, 200, 200, 2000, 1024, min(reps or 5, 3), min(reps or 5, 3), deploy_reps=reps or 3
        )


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 repetitions (~3 min)")
    parser.add_argument("--reps", type=int, help="repetitions per side (default 5, --quick 3)")
    parser.add_argument("--profile", action="store_true", help="also cProfile the slower sides")
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_SECTIONS),
        help=f"comma list of {', '.join(SECTIONS)} (default: all but deployment)",
    )
    parser.add_argument(
        "--executors",
        default="LocalExecutor,CeleryExecutor",
        help="deployment: which executors to deploy (comma list)",
    )
    parser.add_argument("--fanout-items", type=int, help="override the ParallelFor size")
    parser.add_argument("--artifact-mib", type=int, help="override the artifact size")
    parser.add_argument("--out", type=Path, help="where to write the record (default: see above)")
    parser.add_argument("--keep-tmp", action="store_true", help="keep the temporary Airflow homes")
    args = parser.parse_args(argv)
    unknown = {s.strip() for s in args.only.split(",") if s.strip()} - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; pick from {', '.join(SECTIONS)}")
    return args


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(figures: list[Figure]) -> str:
    head = (
        f"{'figure':<26} {'min':>7} {'median':>7} {'max':>7} {'target':>7} {'verdict':>7} {'reps':>4}  "
        f"{'A med':>8} {'B med':>8}  {'peak MiB A / B':<14} A vs B"
    )
    lines = [head, "-" * len(head)]
    for f in figures:
        spread = f.spread() or {}
        target = f"<={f.target:g}" if f.target is not None else ""
        peaks = " / ".join(f"{f.peak_mib[k]:.0f}" for k in (f.numerator, f.denominator) if k in f.peak_mib) or "-"
        a = sorted(f.num_runs)[len(f.num_runs) // 2] / f.per if f.num_runs else None
        b = sorted(f.den_runs)[len(f.den_runs) // 2] / f.per if f.den_runs else None
        lines.append(
            f"{f.key:<26} {_fmt(spread.get('min'))} {_fmt(spread.get('median')):>7} {_fmt(spread.get('max')):>7} "
            f"{target:>7} {f.verdict:>7} {f.reps:>4}  {_fmt(a):>8} {_fmt(b):>8}  {peaks:<14} "
            f"{f.numerator} vs {f.denominator} ({f.size})"
        )
        if f.error:
            lines.append(f"{'':<26}   not measured: {f.error}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    sizes = Sizes.pick(args.quick, args.reps)
    if args.fanout_items:
        sizes = Sizes(**{**sizes.__dict__, "fanout_items": args.fanout_items})
    if args.artifact_mib:
        sizes = Sizes(**{**sizes.__dict__, "artifact_mib": args.artifact_mib})
    only = [s for s in SECTIONS if s in {x.strip() for x in args.only.split(",")}]
    import os

    os.environ.update(python_env())  # children (moto, transfer children) share the bytecode cache
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    root = Path(tempfile.mkdtemp(prefix="airflow-kfp-bench-"))
    began = time.perf_counter()
    run: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "python -m bench " + shlex.join(sys.argv[1:] if argv is None else argv),
        "sizes": sizes.__dict__,
        "sections": only,
        "machine": machine(),
        "uptime_start": uptime(),
    }
    run["command"] = run["command"].strip()
    print(f"airflow-kfp benchmarks: {sizes}\n  {run['uptime_start']}\n  scratch {root}", flush=True)
    figures: list[Figure] = []
    timings: dict[str, float] = {}

    def section(name: str, fn: Callable[[], Figure | list[Figure]]) -> None:
        print(f"[{name}]", flush=True)
        start = time.perf_counter()
        try:
            result = fn()
            figures.extend(result if isinstance(result, list) else [result])
        except Exception as exc:  # one broken bench must not hide the others' figures
            print(f"  failed: {type(exc).__name__}: {exc}", flush=True)
            figures.append(not_available(name, name, None, f"{type(exc).__name__}: {exc}"))
        timings[name] = round(time.perf_counter() - start, 1)
        print(f"  ({timings[name]:.0f} s; {uptime()})", flush=True)

    from bench import artifacts, compile_scaling, deployment, e2e, fanout, parse, realistic

    sections: dict[str, Callable[[], Figure | list[Figure]]] = {
        "e2e": lambda: e2e.run(root, reps=sizes.reps, steps=sizes.steps, profile=args.profile),
        "realistic": lambda: realistic.run(root, reps=sizes.realistic_reps or sizes.reps, rows=sizes.realistic_rows),
        "fanout": lambda: fanout.run(root, reps=sizes.fanout_reps, items=sizes.fanout_items),
        "parse": lambda: parse.run(root, reps=sizes.reps, components=sizes.parse_components, profile=args.profile),
        "compile": lambda: compile_scaling.run(
            root, reps=sizes.reps, small=sizes.compile_small, large=sizes.compile_large, profile=args.profile
        ),
        "artifacts": lambda: artifacts.run(size_mib=sizes.artifact_mib, reps=sizes.artifact_reps),
        "deployment": lambda: deployment.run(
            root,
            reps=sizes.deploy_reps,
            runs=sizes.deploy_runs,
            steps=sizes.deploy_steps,
            items=sizes.deploy_items,
            executors=tuple(e.strip() for e in args.executors.split(",") if e.strip()),
        ),
    }
    try:
        for name in only:
            section(name, sections[name])
    finally:
        if not args.keep_tmp:
            shutil.rmtree(root, ignore_errors=True)

    total = time.perf_counter() - began
    run.update(uptime_end=uptime(), section_seconds=timings, total_seconds=round(total, 1))
    order = {key: i for i, key in enumerate(record.ORDER)}
    figures.sort(key=lambda f: order.get(f.key, len(order)))
    print()
    print(table(figures))
    print(
        "\nratio = A/B per repetition (A and B interleaved); verdict: pass = target met at the worst repetition, "
        f"median = only at the median; total {total:.0f} s"
    )
    out = args.out or (record.QUICK_JSON if args.quick else record.FIGURES_JSON)
    previous = record.load(out) if out.exists() and set(only) != set(SECTIONS) else None
    record.save(record.merge(previous, run, figures, replace_all=previous is None), out)
    print(f"wrote {out}" + ("; now run python -m bench.report" if out == record.FIGURES_JSON else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
