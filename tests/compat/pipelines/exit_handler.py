"""dsl.ExitHandler with an exit task reading dsl.PipelineTaskFinalStatus, around a step that fails
(KFP docs: "Exit handling"; sdk test data: pipeline_with_exit_handler, pipeline_with_task_final_status).
The run fails, the exit task still runs and sees the failure."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def work(message: str) -> str:
    return message


@dsl.component(base_image="python:3.11")
def fail_if(flag: bool):
    if flag:
        raise RuntimeError("asked to fail")


@dsl.component(base_image="python:3.11")
def cleanup(status: dsl.PipelineTaskFinalStatus, label: str) -> str:
    return f"{label}: {status.state}"


@dsl.pipeline(name="exit-handler")
def pipeline(fail: bool = True):
    done = cleanup(label="cleanup")
    with dsl.ExitHandler(done, name="guarded"):
        first = work(message="first")
        fail_if(flag=fail).after(first)


ARGUMENTS = {"fail": True}
