"""Where a task process's time goes under the real executor: py-spy samples, grouped (issue 29).

    python -m bench.task_profile STACKS.txt [STACKS.txt ...]

Each file is ``py-spy record --subprocesses --format raw`` (collapsed stacks, one ``stack count``
per line) of the LocalExecutor's process tree while a batch ran. Only the samples of task processes
(stacks under the task runner) are counted; every sample is put in the first group (in ``GROUPS``
order: specific causes, then phases) one of whose frames it contains, so the groups add up to the
task processes' samples.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (group, substrings of any frame), first match wins: the specific causes first, then the phases.
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("import of the Kubernetes client", ("<module> (kubernetes/",)),
    ("import of boto3/botocore/s3transfer", ("<module> (boto3/", "<module> (botocore/", "<module> (s3transfer/")),
    ("S3 client creation", ("Session.create_client", "Session.client (boto3")),
    ("S3 requests", ("botocore/endpoint.py", "urllib3/")),
    ("execution API calls", ("httpx/", "comms.py", "supervisor_comms")),
    ("component run (fork server)", ("runners/local/launch.py", "run_launcher")),
    ("cache lookup and record", ("airflow_kfp/cache/", "services/caching")),
    ("lineage", ("openlineage/", "airflow_kfp/lineage/service", "airflow_kfp/lineage/facets", "lineage/assets")),
    ("DAG file parse: airflow-kfp (imports, dsl, to_dag)", ("airflow_kfp/", "<module> (dep_")),
    ("DAG file parse: Airflow", ("parse (airflow/sdk/execution_time/task_runner.py",)),
    ("execute: airflow-kfp (other)", ("airflow_kfp/",)),
]
TASK_ROOT = ("task_runner.py",)


def group(stack: list[str]) -> str:
    parsing = any("parse (airflow/sdk/execution_time/task_runner.py" in f for f in stack)
    for name, needles in GROUPS:
        if name.startswith("DAG file parse") and not parsing:
            continue
        if any(n in frame for frame in stack for n in needles):
            return name
    return "Airflow task runner (other)"


def summarise(paths: list[Path]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            stack_text, _, n = line.rpartition(" ")
            if not n.isdigit():
                continue
            stack = stack_text.split(";")
            if not any(any(r in f for r in TASK_ROOT) for f in stack):
                continue
            counts[group(stack)] += int(n)
            total += int(n)
    return counts, total


def main(argv: list[str] | None = None) -> int:
    paths = [Path(p) for p in (argv if argv is not None else sys.argv[1:])]
    counts, total = summarise(paths)
    print(f"{'group':<52} {'samples':>8} {'share':>6}")
    for name, n in counts.most_common():
        print(f"{name:<52} {n:>8} {n / max(1, total):>6.1%}")
    print(f"{'task processes, all':<52} {total:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
