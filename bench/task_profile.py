"""Where a task process's time goes under the real executor: py-spy samples, grouped (issue 29).

    python -m bench.task_profile STACKS.txt [STACKS.txt ...]

Each file is ``py-spy record --subprocesses --format raw`` (collapsed stacks, one ``stack count``
per line) of the LocalExecutor's process tree while a batch ran. Only the samples of task processes
(stacks under the task runner's ``main``) are counted; every sample is put in the first group whose
frame it contains, innermost wins, so the groups add up to the task processes' samples.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# (group, substrings of a frame) - checked from the innermost frame outwards
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("boto3/botocore client creation", ("session.py:client", "create_client", "botocore/loaders", "botocore/model")),
    ("S3 requests", ("botocore/endpoint", "urllib3", "s3transfer")),
    ("execution API calls", ("httpx", "sdk/api/client", "comms.py", "supervisor_comms", "send_request")),
    ("component run (fork server)", ("runners/local/launch", "forkserver")),
    ("cache lookup and record", ("airflow_kfp/cache", "operators/caching", "services/caching")),
    ("lineage", ("openlineage", "airflow_kfp/lineage")),
    ("airflow-kfp operator (other)", ("airflow_kfp/",)),
    ("DAG file parse (task process)", ("parse", "DagBag", "_load_modules_from_file", "dag_processing")),
    ("imports", ("_find_and_load", "<frozen importlib", "exec_module")),
]
TASK_ROOT = ("task_runner.py", "execution_time/task_runner")


def group(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, needles in GROUPS:
            if any(n in frame for n in needles):
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
    print(f"{'group':<36} {'samples':>8} {'share':>6}")
    for name, n in counts.most_common():
        print(f"{name:<36} {n:>8} {n / max(1, total):>6.1%}")
    print(f"{'task processes, all':<36} {total:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
