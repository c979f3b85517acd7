"""Resources set from a pipeline input and from a task output (KFP resolves them when the task runs;
sdk test data: pipeline_with_string_machine_fields_pipeline_input, ..._task_output)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def pick_memory(size: int) -> str:
    return f"{size}Mi"


@dsl.component(base_image="python:3.11")
def work(text: str) -> str:
    return text[::-1]


@dsl.pipeline(name="runtime-resources")
def pipeline(cpu: str = "500m", size: int = 256):
    memory = pick_memory(size=size)
    work(text="sized").set_cpu_limit(cpu).set_memory_limit(memory.output)


ARGUMENTS = {"cpu": "250m"}
