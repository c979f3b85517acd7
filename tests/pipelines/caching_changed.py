"""``cache-chain`` with one component's code changed: ``train`` scales the total differently."""

from __future__ import annotations

from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Model, Output
from tests.pipelines.caching import evaluate, prep, side


@dsl.component
def train(data: Input[Dataset], model: Output[Model], lr: float = 0.1) -> float:
    import json
    import os

    if os.environ.get("KFP_CACHE_TEST_LOG"):  # absent in pods
        with open(os.environ["KFP_CACHE_TEST_LOG"], "a") as log:
            log.write("train\n")
    rows = [int(r) for r in open(data.path).read().split()[1:]]
    with open(model.path, "w") as f:
        json.dump({"lr": lr, "total": 2 * sum(rows)}, f)
    return round(lr * 2 * sum(rows), 6)


@dsl.pipeline(name="cache-chain")
def chain_new_code(n_rows: int = 5, lr: float = 0.1, tag: str = "a"):
    p = prep(n_rows=n_rows)
    t = train(data=p.outputs["data"], lr=lr)
    evaluate(model=t.outputs["model"], score=t.output)
    side(tag=tag)
