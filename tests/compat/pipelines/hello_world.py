"""KFP's getting-started pipeline: one lightweight component, one pipeline input."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def say_hello(name: str) -> str:
    hello_text = f"Hello, {name}!"
    print(hello_text)
    return hello_text


@dsl.pipeline(name="hello-pipeline", description="Say hello.")
def pipeline(recipient: str = "World") -> str:
    hello_task = say_hello(name=recipient)
    return hello_task.output


ARGUMENTS = {"recipient": "Airflow"}
