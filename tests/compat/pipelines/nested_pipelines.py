"""A pipeline used as a component of another pipeline, with inputs, an output, and a loop around it
(KFP docs: "Pipelines as components"; sdk test data: pipeline_in_pipeline_complex)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def greet(name: str) -> str:
    return f"hello {name}"


@dsl.component(base_image="python:3.11")
def count_chars(text: str) -> int:
    return len(text)


@dsl.pipeline(name="inner-greeting")
def inner(name: str) -> int:
    greeting = greet(name=name)
    return count_chars(text=greeting.output).output


@dsl.component(base_image="python:3.11")
def double(x: int) -> int:
    return 2 * x


@dsl.pipeline(name="nested-pipelines")
def pipeline(who: str = "world") -> int:
    inner_run = inner(name=who)
    with dsl.ParallelFor(["ann", "bob"]) as person:
        inner(name=person)
    return double(x=inner_run.output).output


ARGUMENTS = {"who": "airflow"}
# kfp.local names the tasks of the second nested-pipeline instance greet-2 / count-chars-2 (its last
# loop iteration); Airflow nests them under the loop's and the nested pipeline's task groups.
TASK_IDS = {
    "greet": "inner-greeting.greet",
    "count-chars": "inner-greeting.count-chars",
    "greet-2": "for-loop-2.inner-greeting-2.greet",
    "count-chars-2": "for-loop-2.inner-greeting-2.count-chars",
}
