"""A kfp.local notebook or unit test, ported by changing its import (docs/guides/local.md)."""

import tempfile

# [start port]
from airflow_kfp import dsl, local  # was: from kfp import dsl, local
from airflow_kfp.dsl import Dataset, Input, Output

local.init(runner=local.SubprocessRunner(), pipeline_root=tempfile.mkdtemp(prefix="local-outputs-"))


@dsl.component
def make_rows(n: int, rows: Output[Dataset]):
    with open(rows.path, "w") as f:
        f.write("\n".join(str(i) for i in range(n)))
    rows.metadata["n"] = n


@dsl.component
def total(rows: Input[Dataset]) -> int:
    with open(rows.path) as f:
        return sum(int(line) for line in f)


@dsl.pipeline
def rows_total(n: int = 4) -> int:
    made = make_rows(n=n)
    return total(rows=made.outputs["rows"]).output


made = make_rows(n=3)  # a component called outside a pipeline runs now
assert made.outputs["rows"].metadata == {"n": 3}
assert open(made.outputs["rows"].path).read() == "0\n1\n2"
assert total(rows=made.outputs["rows"]).output == 3  # an artifact passed on, as in kfp.local
task = rows_total(n=5)  # a whole pipeline, called like a function
assert task.output == 10
# [end port]


# [start test]
def test_total_adds_the_rows():  # a pytest unit test of one component: no Airflow run needed
    assert total(rows=make_rows(n=4).outputs["rows"]).output == 6


# [end test]
