"""Pipelines the caching tests run twice or more.

Each component appends its name to the file named by the worker's ``KFP_CACHE_TEST_LOG`` whenever it
really runs, so a test can tell a cache hit (nothing ran) from a run. That variable is the worker's,
not the task's (``set_env_variable``), so it is not part of any cache key.
"""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Metrics, Model, Output


@dsl.component
def prep(n_rows: int, data: Output[Dataset]) -> None:
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("prep\n")
    with open(data.path, "w") as f:
        f.write("x\n" + "".join(f"{i}\n" for i in range(n_rows)))
    data.metadata["rows"] = n_rows


@dsl.component
def train(data: Input[Dataset], model: Output[Model], lr: float = 0.1) -> float:
    import json
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("train\n")
    rows = [int(r) for r in open(data.path).read().split()[1:]]
    with open(model.path, "w") as f:
        json.dump({"lr": lr, "total": sum(rows)}, f)
    return round(lr * sum(rows), 6)


@dsl.component
def evaluate(model: Input[Model], score: float, metrics: Output[Metrics]) -> str:
    import json
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("evaluate\n")
    params = json.load(open(model.path))
    metrics.log_metric("score", score)
    return f"lr={params['lr']} total={params['total']} score={score}"


@dsl.component
def side(tag: str) -> str:
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("side\n")
    return tag.upper()


@dsl.component
def snapshot(data: Output[Dataset]) -> None:
    """Reads data from outside the pipeline (a non-deterministic source, hence no caching)."""
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("snapshot\n")
    with open(os.environ["KFP_CACHE_TEST_SOURCE"]) as src, open(data.path, "w") as f:
        f.write(src.read())


@dsl.component
def count_lines(data: Input[Dataset]) -> int:
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("count_lines\n")
    return len(open(data.path).read().splitlines())


@dsl.component
def flaky(x: int) -> int:
    """Fails on its first try (no marker file yet), succeeds on the retry."""
    import os
    import sys

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("flaky\n")
    marker = os.environ["KFP_CACHE_TEST_LOG"] + ".flaky"
    if not os.path.exists(marker):
        open(marker, "w").close()
        print("first try: failing on purpose")
        sys.exit(4)
    return x * 2


@dsl.component
def always_fails(x: int) -> int:
    import os
    import sys

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("always_fails\n")
    sys.exit(5)


def _chain(n_rows: int, lr: float, tag: str):  # type: ignore[no-untyped-def]
    p = prep(n_rows=n_rows)
    t = train(data=p.outputs["data"], lr=lr)
    evaluate(model=t.outputs["model"], score=t.output)
    side(tag=tag)
    return t


@dsl.pipeline(name="cache-chain")
def chain(n_rows: int = 5, lr: float = 0.1, tag: str = "a"):
    _chain(n_rows, lr, tag)


@dsl.pipeline(name="cache-chain")
def chain_new_image(n_rows: int = 5, lr: float = 0.1, tag: str = "a"):
    _chain(n_rows, lr, tag).set_container_image("python:3.12-slim")


@dsl.pipeline(name="cache-chain")
def chain_new_env(n_rows: int = 5, lr: float = 0.1, tag: str = "a"):
    _chain(n_rows, lr, tag).set_env_variable("OMP_NUM_THREADS", "4")


@dsl.pipeline(name="cache-chain")
def chain_train_stale_after_1h(n_rows: int = 5, lr: float = 0.1, tag: str = "a"):
    _chain(n_rows, lr, tag).set_caching_options(True, max_staleness="1h")


@dsl.pipeline(name="cache-chain")
def chain_side_uncached(n_rows: int = 5, lr: float = 0.1, tag: str = "a"):
    p = prep(n_rows=n_rows)
    t = train(data=p.outputs["data"], lr=lr)
    evaluate(model=t.outputs["model"], score=t.output)
    side(tag=tag).set_caching_options(enable_caching=False)


@dsl.pipeline(name="cache-chain")
def chain_custom_key(n_rows: int = 5, lr: float = 0.1, tag: str = "a"):
    p = prep(n_rows=n_rows)
    t = train(data=p.outputs["data"], lr=lr).set_caching_options(True, cache_key="train-v1")
    evaluate(model=t.outputs["model"], score=t.output)
    side(tag=tag)


@dsl.pipeline(name="cache-upstream-off")
def upstream_off():
    s = snapshot().set_caching_options(enable_caching=False)
    count_lines(data=s.outputs["data"])


@dsl.pipeline(name="cache-retry")
def retried(x: int = 3):
    flaky(x=x).set_retry(num_retries=1, backoff_duration="0s")


@dsl.pipeline(name="cache-failing")
def failing(x: int = 3):
    always_fails(x=x)


@dsl.component
def seed(n_rows: int, data: Output[Dataset]) -> None:
    with open(data.path, "w") as f:
        f.write("".join(f"{i}\n" for i in range(n_rows)))


@dsl.component
def count_lines_and_copy(data: Input[Dataset], copy: Output[Dataset]) -> int:
    import shutil

    shutil.copyfile(data.path, copy.path)
    return len(open(data.path).read().splitlines())


WIDE_STEPS = 10


@dsl.pipeline(name="cache-wide")
def wide(n_rows: int = 100):
    """Ten dependent steps, for the benchmark."""
    data = seed(n_rows=n_rows).outputs["data"]
    for _ in range(WIDE_STEPS - 1):
        data = count_lines_and_copy(data=data).outputs["copy"]
