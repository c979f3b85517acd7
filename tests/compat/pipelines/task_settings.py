"""Task methods KFP users set: retries with backoff, caching options, env variables, resources and
accelerators, display names, .after() ordering and ignore_upstream_failure (sdk test data:
pipeline_with_retry, pipeline_with_env, pipeline_with_resource_spec,
pipeline_with_task_using_ignore_upstream_failure)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def read_env(name: str) -> str:
    import os

    return os.environ.get(name, "<unset>")


@dsl.component(base_image="python:3.11")
def flaky(path: str) -> str:
    # Fails on its first try, succeeds on the retry: the marker file survives between tries.
    import os

    marker = os.path.join(path, "tried")
    if not os.path.exists(marker):
        os.makedirs(path, exist_ok=True)
        open(marker, "w").close()
        raise RuntimeError("first try fails")
    return "recovered"


@dsl.component(base_image="python:3.11")
def always_fails():
    raise RuntimeError("boom")


@dsl.component(base_image="python:3.11")
def summary(text: str = "no upstream") -> str:
    return f"summary: {text}"


@dsl.pipeline(name="task-settings")
def pipeline(scratch: str):
    env = read_env(name="GREETING").set_env_variable("GREETING", "bonjour").set_display_name("read greeting")
    env.set_caching_options(False)
    env.set_cpu_request("100m").set_cpu_limit("500m").set_memory_request("64Mi").set_memory_limit("128Mi")
    retried = flaky(path=scratch).set_retry(num_retries=2, backoff_duration="0s", backoff_factor=1.0)
    retried.set_caching_options(False)
    broken = always_fails().after(env)
    summary(text="after the failure").after(broken, retried).ignore_upstream_failure()


ARGUMENTS = {"scratch": "${TMP}"}
NOTES = [
    "The run ends failed because always-fails fails, though summary (ignore_upstream_failure) still runs: "
    "KFP marks the run failed when any task fails.",
]
