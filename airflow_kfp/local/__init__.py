"""``airflow_kfp.local``: kfp.local's names and behaviour, on the package's own launcher.

    from airflow_kfp import dsl, local

    local.init(runner=local.SubprocessRunner())
    task = add(a=1, b=2)          # a component called outside @dsl.pipeline runs now
    assert task.output == 3

Components and pipelines called outside ``@dsl.pipeline`` after :func:`init` run at once in this
process's machine (no Airflow database, scheduler or DAG run; no kfp installed) through the same
plan, operators, cache and local runner a DAG run uses, and return a task whose ``output`` /
``outputs`` are values (artifacts as ``dsl`` artifact objects). See docs/guides/local.md.
"""

from airflow_kfp.local.config import DockerRunner, LocalExecutionConfig, SubprocessRunner, init

__all__ = ["DockerRunner", "LocalExecutionConfig", "SubprocessRunner", "init"]
