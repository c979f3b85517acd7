"""Sources of the DAG files the benchmarks parse and run, written as a user would write them.

Every pair describes the same work: the same chain of steps, the same dependencies, the same data
passed from step to step. Files are generated so the sizes can change, but each generated file is a
literal, flat module (no loops over task factories), like a hand-written one.
"""

from __future__ import annotations

START_DATE = "datetime.datetime(2024, 1, 1)"
IMAGE = "python:3.11"
CPU_LIMIT = "1"
MEMORY_LIMIT = "1Gi"


def kfp_chain(dag_id: str, steps: int, *, caching: bool) -> str:
    """A chain of tiny Python components: each adds one to the previous output."""
    lines = [
        "import datetime",
        "",
        "from airflow_kfp import dsl, to_dag",
        "",
        "",
        "@dsl.component",
        "def step(x: int) -> int:",
        "    return x + 1",
        "",
        "",
        f"@dsl.pipeline(name={dag_id!r})",
        "def chain(start: int = 0) -> None:",
        "    t = step(x=start)",
    ]
    lines += ["    t = step(x=t.output)"] * (steps - 1)
    lines += [
        "",
        "",
        f"dag = to_dag(chain, start_date={START_DATE}, enable_caching={caching!r})",
        "",
    ]
    return "\n".join(lines)


def plain_chain(dag_id: str, steps: int) -> str:
    """The same chain as plain Airflow ``@task`` functions passing values through XCom."""
    lines = [
        "import datetime",
        "",
        "from airflow.sdk import dag as dag_decorator, task",
        "",
        "",
        "@task",
        "def step(x: int) -> int:",
        "    return x + 1",
        "",
        "",
        f"@dag_decorator(dag_id={dag_id!r}, schedule=None, start_date={START_DATE})",
        "def chain(start: int = 0) -> None:",
        "    t = step(start)",
    ]
    lines += ["    t = step(t)"] * (steps - 1)
    lines += ["", "", "dag = chain()", ""]
    return "\n".join(lines)


def kfp_wide(dag_id: str, components: int, *, runner: str) -> str:
    """``components`` distinct Python components, each used once, chained by data, with limits."""
    lines = ["import datetime", "", "from airflow_kfp import dsl, to_dag", ""]
    for i in range(components):
        lines += [
            "",
            f"@dsl.component(base_image={IMAGE!r})",
            f"def step_{i}(x: int) -> int:",
            f"    return x + {i}",
            "",
        ]
    lines += ["", f"@dsl.pipeline(name={dag_id!r})", "def wide(start: int = 0) -> None:"]
    for i in range(components):
        source = "start" if i == 0 else f"t{i - 1}.output"
        lines.append(f"    t{i} = step_{i}(x={source}).set_cpu_limit({CPU_LIMIT!r}).set_memory_limit({MEMORY_LIMIT!r})")
    lines += ["", "", f"dag = to_dag(wide, start_date={START_DATE}, runner={runner!r})", ""]
    return "\n".join(lines)


def _kpo_script(i: int) -> str:
    """What a hand-written pod runs: the step's function, its argument, the result to the XCom sidecar."""
    return (
        "import json, sys\n"
        f"def step_{i}(x: int) -> int:\n"
        f"    return x + {i}\n"
        f"result = step_{i}(int(sys.argv[1]))\n"
        "with open('/airflow/xcom/return.json', 'w') as f:\n"
        "    json.dump(result, f)\n"
    )


def kpo_wide(dag_id: str, components: int) -> str:
    """The same pipeline written by hand as KubernetesPodOperator tasks (same image, command, limits,
    dependencies; values passed through XCom templates)."""
    lines = [
        "import datetime",
        "",
        "from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator",
        "from airflow.sdk import DAG",
        "from kubernetes.client import models as k8s",
        "",
        f"with DAG(dag_id={dag_id!r}, schedule=None, start_date={START_DATE}, params={{'start': 0}}) as dag:",
    ]
    for i in range(components):
        arg = "{{ params.start }}" if i == 0 else "{{ ti.xcom_pull(task_ids='step-" + str(i - 1) + "') }}"
        lines += [
            f"    t{i} = KubernetesPodOperator(",
            f"        task_id='step-{i}',",
            f"        name='step-{i}',",
            f"        image={IMAGE!r},",
            "        cmds=['python3', '-c'],",
            f"        arguments=[{_kpo_script(i)!r}, {arg!r}],",
            "        container_resources=k8s.V1ResourceRequirements(",
            f"            limits={{'cpu': {CPU_LIMIT!r}, 'memory': {MEMORY_LIMIT!r}}}",
            "        ),",
            "        do_xcom_push=True,",
            "    )",
        ]
        if i:
            lines.append(f"    t{i - 1} >> t{i}")
    lines.append("")
    return "\n".join(lines)


def kfp_fanout(dag_id: str, items: int) -> str:
    """A ``dsl.ParallelFor`` over ``items`` literal items, one tiny component per item."""
    return "\n".join(
        [
            "import datetime",
            "",
            "from airflow_kfp import dsl, to_dag",
            "",
            "",
            "@dsl.component",
            "def step(x: int) -> int:",
            "    return x + 1",
            "",
            "",
            f"@dsl.pipeline(name={dag_id!r})",
            "def fanout() -> None:",
            f"    with dsl.ParallelFor(list(range({items}))) as item:",
            "        step(x=item)",
            "",
            "",
            f"dag = to_dag(fanout, start_date={START_DATE})",
            "",
        ]
    )


def plain_fanout(dag_id: str, items: int) -> str:
    """The same fan-out as a dynamically mapped plain ``@task``."""
    return "\n".join(
        [
            "import datetime",
            "",
            "from airflow.sdk import dag as dag_decorator, task",
            "",
            "",
            "@task",
            "def step(x: int) -> int:",
            "    return x + 1",
            "",
            "",
            f"@dag_decorator(dag_id={dag_id!r}, schedule=None, start_date={START_DATE})",
            "def fanout() -> None:",
            f"    step.expand(x=list(range({items})))",
            "",
            "",
            "dag = fanout()",
            "",
        ]
    )
