"""A pipeline as the exit task of dsl.ExitHandler: it reads dsl.PipelineTaskFinalStatus and branches on
it (sdk test data: pipeline_as_exit_task). The step inside the handler fails, the exit pipeline runs
and sees the failure; the run fails."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def print_op(message: str) -> str:
    print(message)
    return message


@dsl.component(base_image="python:3.11")
def fail_op(message: str):
    raise RuntimeError(message)


@dsl.component(base_image="python:3.11")
def get_run_state(status: dict) -> str:
    return status["state"]


@dsl.pipeline(name="conditional-notification")
def exit_op(status: dsl.PipelineTaskFinalStatus):
    with dsl.If(get_run_state(status=status).output == "FAILED"):
        print_op(message="notify task failure.")


@dsl.pipeline(name="pipeline-with-task-final-status-conditional")
def pipeline(message: str = "Hello World!"):
    exit_task = exit_op()
    with dsl.ExitHandler(exit_task, name="my-pipeline"):
        print_op(message=message)
        fail_op(message="Task failed.")


ARGUMENTS = {"message": "hi"}
TASK_IDS = {
    "print-op": "exit-handler-1.print-op",
    "fail-op": "exit-handler-1.fail-op",
    "get-run-state": "conditional-notification.get-run-state",
    "print-op-2": "conditional-notification.condition-1.print-op",
}
NOTES = ["kfp.local names the exit pipeline's print-op 'print-op-2'; TASK_IDS maps it to its Airflow task."]
