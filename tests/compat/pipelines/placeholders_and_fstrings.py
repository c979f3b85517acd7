"""Values formatted into component arguments (f-strings of pipeline inputs and task outputs, compiled by
KFP into placeholders resolved at run time) and KFP's pipeline placeholders (sdk test data:
pipeline_with_params_containing_format, pipeline_with_placeholders)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def make_suffix(n: int) -> str:
    return "x" * n


@dsl.component(base_image="python:3.11")
def echo(text: str) -> str:
    return text


@dsl.component(base_image="python:3.11")
def has_value(value: str) -> bool:
    return bool(value) and "{{" not in value


@dsl.pipeline(name="placeholders-and-fstrings")
def pipeline(name: str = "kfp", count: int = 3):
    suffix = make_suffix(n=count)
    echo(text=f"hello {name}, {count} times: {suffix.output}!")
    echo(text=f"task={dsl.PIPELINE_TASK_NAME_PLACEHOLDER}")
    has_value(value=dsl.PIPELINE_JOB_NAME_PLACEHOLDER)
    has_value(value=dsl.PIPELINE_JOB_ID_PLACEHOLDER)


ARGUMENTS = {"name": "airflow"}
EXPECTED = {"tasks": {"echo": {"parameters": {"Output": "hello airflow, 3 times: xxx!"}}}}
NOTES = [
    "kfp.local formats the int pipeline input `count` into the f-string as '3.0' (every IR number is a double); "
    "KFP's semantics are Python's f-string, '3', which airflow-kfp follows.",
]
