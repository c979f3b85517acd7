"""KFP pipelines written the KFP way (as in the kfp SDK's own test data), ported by changing imports.

Each one exercises a construct of issue 14's "Python-source gaps": bare components run as pipelines,
pythonic artifacts, bare artifact annotations, f-strings of run-time values, embedded files, helper
functions and custom output paths.
"""

from __future__ import annotations

import os
import tempfile
from typing import List, NamedTuple, Optional  # noqa: UP035 - KFP spells them this way

from airflow_kfp import dsl
from airflow_kfp.dsl import Artifact, Dataset, Input, Model, Output


# -- 1. a bare component compiled as a pipeline -------------------------------------------------------
@dsl.component
def add_numbers(a: int, b: int = 2) -> int:
    return a + b


@dsl.container_component
def say_hello(name: str, greeting: dsl.OutputPath(str)):  # type: ignore[valid-type]
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'mkdir -p "$(dirname "$1")"; printf "hello %s" "$0" > "$1"'],
        args=[name, greeting],
    )


# -- 2/3. pythonic artifacts and bare artifact annotations ---------------------------------------------
@dsl.component
def gen_data() -> Dataset:
    dataset = Dataset(uri=dsl.get_uri())
    with open(dataset.path, "w") as f:
        f.write("some data")
    dataset.metadata["length"] = len("some data")
    return dataset


@dsl.component
def train_model(dataset: Dataset) -> Model:
    with open(dataset.path) as f:
        lines = f.read()
    assert lines == "some data"
    assert dataset.metadata["length"] == len("some data")
    model_artifact = Model(uri=dsl.get_uri("model"))
    with open(model_artifact.path, "w") as f:
        f.write("model trained")
    return model_artifact


@dsl.component
def read_text(artifact: Artifact, optional: Optional[Input[Artifact]] = None) -> str:  # noqa: UP045
    with open(artifact.path) as f:
        text = f.read()
    return f"{text}|{'none' if optional is None else 'given'}"


@dsl.pipeline(name="pythonic-artifacts")
def pythonic_artifacts() -> Model:
    t1 = gen_data()
    t2 = train_model(dataset=t1.output)
    read_text(artifact=t2.output)
    return t2.output


@dsl.component
def make_dataset(text: str) -> Dataset:
    dataset = Dataset(uri=dsl.get_uri(), metadata={"length": len(text)})
    with open(dataset.path, "w") as f:
        f.write(text)
    return dataset


@dsl.component
def join_datasets(datasets: List[Dataset]) -> Dataset:  # noqa: UP006
    texts = []
    for dataset in datasets:
        with open(dataset.path) as f:
            texts.append(f.read())
    return "".join(texts)  # a non-artifact value is written into the artifact, as KFP does


@dsl.component
def lengths(datasets: Input[List[Dataset]]) -> list:  # noqa: UP006
    return [d.metadata["length"] for d in datasets]


@dsl.pipeline
def make_and_join_datasets(texts: List[str] = ["Hello", ",", " ", "world!"]) -> Dataset:  # noqa: B006, UP006
    with dsl.ParallelFor(texts) as text:
        t1 = make_dataset(text=text)
    lengths(datasets=dsl.Collected(t1.output))
    return join_datasets(datasets=dsl.Collected(t1.output)).output


outputs = NamedTuple("outputs", dataset1=Dataset, dataset2=Dataset)  # noqa: UP014 - as KFP writes it


@dsl.component
def dataset_splitter(in_dataset: Dataset) -> NamedTuple("outputs", dataset1=Dataset, dataset2=Dataset, size=int):  # type: ignore[valid-type]  # noqa: UP014
    with open(in_dataset.path) as f:
        in_data = f.read()
    half = len(in_data) // 2
    dataset1 = Dataset(uri=dsl.get_uri(suffix="dataset1"), metadata={"original_data": in_dataset.name})
    with open(dataset1.path, "w") as f:
        f.write(in_data[:half])
    dataset2 = Dataset(uri=dsl.get_uri(suffix="dataset2"), metadata={"original_data": in_dataset.name})
    with open(dataset2.path, "w") as f:
        f.write(in_data[half:])
    result = NamedTuple("outputs", dataset1=Dataset, dataset2=Dataset, size=int)  # noqa: UP014
    return result(dataset1=dataset1, dataset2=dataset2, size=len(in_data))


@dsl.pipeline
def splitter_pipeline(in_dataset: Dataset) -> outputs:
    task = dataset_splitter(in_dataset=in_dataset)
    return outputs(task.outputs["dataset1"], task.outputs["dataset2"])


@dsl.component
def make_artifact() -> Artifact:
    artifact = Artifact(uri=dsl.get_uri("dataset"))
    with open(artifact.path, "w") as f:
        f.write("Hello, world")
    return artifact


@dsl.pipeline
def split_datasets_and_return_first() -> Dataset:
    t1 = make_artifact()
    split = splitter_pipeline(in_dataset=t1.output)
    read_text(artifact=split.outputs["dataset2"])
    return split.outputs["dataset1"]


# -- 5. f-strings, % and .format of run-time values ------------------------------------------------------
@dsl.component
def echo(text: str) -> str:
    return text


@dsl.component
def count(n: int) -> int:
    return n * 10


@dsl.pipeline
def formatted(name: str = "world", n: int = 4):
    c = count(n=n)
    echo(text=f"Hello {name}, n*10={c.output}!")
    echo(text="%s/%s" % (name, c.output))  # noqa: UP031 - KFP users write it this way
    echo(text="{}-{}".format(name, n))  # noqa: UP032
    with dsl.ParallelFor([{"k": "a", "v": 1}, {"k": "b", "v": 2}]) as item:
        echo(text=f"{name}:{item.k}={item.v}")
    with dsl.ParallelFor(["x", "y"]) as letter:
        echo(text=f"[{letter}]")


# -- 8. embedded files and helper functions ----------------------------------------------------------------
_EMBEDDED = tempfile.mkdtemp(prefix="kfp-embedded-test-")
os.makedirs(os.path.join(_EMBEDDED, "artifact", "pkg"), exist_ok=True)
with open(os.path.join(_EMBEDDED, "artifact", "log.txt"), "w", encoding="utf-8") as _fh:
    _fh.write("Hello, world!")
with open(os.path.join(_EMBEDDED, "artifact", "pkg", "__init__.py"), "w", encoding="utf-8") as _fh:
    _fh.write("GREETING = 'from an embedded module'\n")


@dsl.component(embedded_artifact_path=os.path.join(_EMBEDDED, "artifact"))
def read_embedded_dir(artifact: dsl.EmbeddedInput[dsl.Dataset]) -> str:  # type: ignore[name-defined]
    import os

    import pkg  # the extraction folder is on sys.path

    with open(os.path.join(artifact.path, "log.txt"), encoding="utf-8") as f:
        return f.read() + "|" + pkg.GREETING


@dsl.component(embedded_artifact_path=os.path.join(_EMBEDDED, "artifact", "log.txt"))
def read_embedded_file(artifact: dsl.EmbeddedInput[dsl.Dataset], suffix: str = "!") -> str:  # type: ignore[name-defined]
    with open(artifact.path, encoding="utf-8") as f:
        return f.read() + suffix


def util_func(msg: str) -> str:
    return f"{msg} from util_func"


def util_func2(msg: str) -> str:
    return f"{msg} from util_func2"


@dsl.component(additional_funcs=[util_func, util_func2])
def use_utils(msg: str) -> str:
    return util_func(msg) + " & " + util_func2(msg)


@dsl.pipeline(name="embedded-and-utils")
def embedded_and_utils(msg: str = "Hello"):
    read_embedded_dir()
    read_embedded_file()
    use_utils(msg=msg)


# -- 9. custom output paths --------------------------------------------------------------------------------
@dsl.component
def custom_path_output(out_dataset: Output[Dataset], where: str):
    out_dataset.set_path(where)
    with open(out_dataset.path, "w") as f:
        f.write("Hello, World!")
    if out_dataset.path != where or out_dataset.custom_path != where:
        raise ValueError(f"path is {out_dataset.path}, want {where}")


@dsl.component
def validate_input_artifact(in_dataset: Input[Dataset]) -> bool:
    with open(in_dataset.path) as f:
        return f.read() == "Hello, World!"


@dsl.pipeline(description="pipeline with artifact with custom path")
def custom_path(where: str):
    t = custom_path_output(where=where).set_caching_options(False)
    validate_input_artifact(in_dataset=t.outputs["out_dataset"])


# -- 4. pipelines returning dsl.OneOf, dsl.Collected, task.outputs ----------------------------------------
@dsl.component
def flip(force: str) -> str:
    return force


@dsl.component
def heads_artifact(out: Output[Artifact]):
    with open(out.path, "w") as f:
        f.write("heads")


@dsl.component
def tails_artifact(out: Output[Artifact]):
    with open(out.path, "w") as f:
        f.write("tails")


@dsl.pipeline
def flip_coin(force: str) -> str:
    coin = flip(force=force)
    with dsl.If(coin.output == "heads"):
        t1 = echo(text="Got heads!")
    with dsl.Else():
        t2 = echo(text="Got tails!")
    return dsl.OneOf(t1.output, t2.output)


@dsl.pipeline
def flip_coin_artifact(force: str) -> Artifact:
    coin = flip(force=force)
    with dsl.If(coin.output == "heads"):
        t1 = heads_artifact()
    with dsl.Else():
        t2 = tails_artifact()
    return dsl.OneOf(t1.outputs["out"], t2.outputs["out"])


@dsl.component
def split_ids(ids: str) -> list:
    return ids.split(",")


@dsl.component
def prepend_id(content: str) -> str:
    return f"model_id_{content}"


@dsl.component
def consume_ids(ids: List[str]) -> str:  # noqa: UP006
    return ",".join(ids)


@dsl.pipeline
def collecting_parameters(model_ids: str = "") -> List[str]:  # noqa: UP006
    ids = split_ids(ids=model_ids)
    with dsl.ParallelFor(ids.output) as model_id:
        prepended = prepend_id(content=model_id)
    return dsl.Collected(prepended.output)


@dsl.pipeline
def collecting_artifacts(texts: List[str] = ["a", "bb"]) -> List[Dataset]:  # noqa: B006, UP006
    with dsl.ParallelFor(texts) as text:
        made = make_dataset(text=text)
    return dsl.Collected(made.output)


@dsl.component
def core_comp() -> NamedTuple("outputs", val1=str, val2=str):  # type: ignore[valid-type]  # noqa: UP014
    result = NamedTuple("outputs", val1=str, val2=str)  # noqa: UP014
    return result("foo", "bar")


@dsl.pipeline
def core() -> NamedTuple("outputs", val1=str, val2=str):  # type: ignore[valid-type]  # noqa: UP014
    return core_comp().outputs


@dsl.pipeline
def mantle() -> NamedTuple("outputs", val1=str, val2=str):  # type: ignore[valid-type]  # noqa: UP014
    return core().outputs


@dsl.pipeline
def returns(force: str = "heads", model_ids: str = "s1,s2,s3"):
    coin = flip_coin(force=force)
    echo(text=coin.output)
    art = flip_coin_artifact(force=force)
    read_text(artifact=art.output)
    collected = collecting_parameters(model_ids=model_ids)
    consume_ids(ids=collected.output)
    datasets = collecting_artifacts()
    join_datasets(datasets=datasets.output)
    both = mantle()
    echo(text=f"{both.outputs['val1']}+{both.outputs['val2']}")


# -- 6. .after(task_in_a_ParallelFor) from outside the loop --------------------------------------------------
@dsl.component
def print_op(message: str) -> str:
    return message


@dsl.pipeline
def after_loop():
    with dsl.ParallelFor([1, 2, 3]) as i:
        one = print_op(message=f"foo-{i}")
        with dsl.If(i != 2):
            print_op(message=f"odd-{i}")
    print_op(message="bar").after(one)
    with dsl.ParallelFor(["a", "b"]) as j:
        print_op(message=f"two-{j}").after(one)


# -- 11. run state as KFP decides it ----------------------------------------------------------------------------
@dsl.component
def fail_always(fail: bool = True) -> str:
    if fail:
        raise RuntimeError("upstream failed intentionally")
    return "ok"


@dsl.component
def write_marker(marker: str = "cleanup_ran") -> str:
    return marker


@dsl.component
def exit_op(status: dsl.PipelineTaskFinalStatus, fail: bool = False) -> str:
    if fail:
        raise RuntimeError("the exit task failed")
    return status.state


@dsl.pipeline
def ignore_upstream_failure(fail: bool = True):
    upstream = fail_always(fail=fail)
    write_marker().after(upstream).ignore_upstream_failure()


@dsl.pipeline
def exit_handler_state(fail: bool = True, exit_fails: bool = False):
    cleanup = exit_op(fail=exit_fails)
    with dsl.ExitHandler(cleanup):
        fail_always(fail=fail)


# -- 5b. resources from pipeline inputs and task outputs -------------------------------------------------------
@dsl.component
def cpu_limit() -> str:
    return "4000m"


@dsl.component
def accelerator_limit() -> str:
    return "1"


@dsl.component
def sum_numbers(a: int, b: int) -> int:
    return a + b


@dsl.pipeline
def machine_fields(memory_limit: str = "15G", accelerator_type: str = "NVIDIA_TESLA_P4", suffix: str = "Gi"):
    task = sum_numbers(a=1, b=2)
    task.set_cpu_limit(cpu_limit().output)
    task.set_memory_limit(memory_limit)
    task.set_accelerator_type(accelerator_type)
    task.set_accelerator_limit(accelerator_limit().output)
    task.set_memory_request(f"2{suffix}")


# -- 10. every placeholder KFP exports --------------------------------------------------------------------------
PLACEHOLDERS = "|".join(
    [
        dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER,
        dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
        dsl.PIPELINE_TASK_ID_PLACEHOLDER,
        dsl.PIPELINE_ROOT_PLACEHOLDER,
        dsl.PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER,
        dsl.PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER,
    ]
)


@dsl.container_component
def show_placeholders(values: str, shown: dsl.OutputPath(str)):  # type: ignore[valid-type]
    return dsl.ContainerSpec(
        image="alpine",
        command=["sh", "-c", 'mkdir -p "$(dirname "$3")"; printf "%s\\n%s\\n%s" "$0" "$1" "$2" > "$3"', PLACEHOLDERS],
        args=[PLACEHOLDERS, values, shown],
    )


@dsl.component
def print_all_placeholders(job_name: str, job_resource_name: str, job_id: str, task_name: str, task_id: str) -> str:
    for value in [job_name, job_resource_name, job_id, task_name, task_id]:
        if "{{" in value or value == "":
            raise RuntimeError("Expected the placeholder to be replaced with a value: " + value)
    assert task_name == "print-all-placeholders"
    return ", ".join([job_name, job_resource_name, job_id, task_name, task_id])


@dsl.pipeline(name="pipeline-with-placeholders")
def pipeline_with_placeholders():
    show_placeholders(values=PLACEHOLDERS)
    print_all_placeholders(
        job_name=dsl.PIPELINE_JOB_NAME_PLACEHOLDER,
        job_resource_name=dsl.PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER,
        job_id=dsl.PIPELINE_JOB_ID_PLACEHOLDER,
        task_name=dsl.PIPELINE_TASK_NAME_PLACEHOLDER,
        task_id=dsl.PIPELINE_TASK_ID_PLACEHOLDER,
    ).set_caching_options(False)


# -- 7. nested ParallelFor -------------------------------------------------------------------------------------
@dsl.component
def make_list(prefix: str, n: int) -> list:
    return [f"{prefix}{i}" for i in range(n)]


@dsl.component
def join_words(words: List[str]) -> str:  # noqa: UP006
    return "+".join(words)


@dsl.component
def nested_total(lists: list) -> str:
    return "/".join(",".join(str(x) for x in inner) for inner in lists)


@dsl.component
def write_text(text: str, out: Output[Dataset]):
    with open(out.path, "w") as f:
        f.write(text)


@dsl.component
def read_all(parts: Input[List[Dataset]]) -> str:  # noqa: UP006
    return ",".join(sorted(open(p.path).read() for p in parts))


@dsl.pipeline
def nested_loops(letters: List[str] = ["a", "b"]):  # noqa: B006, UP006
    with dsl.ParallelFor([{"name": "x", "n": 2}, {"name": "y", "n": 3}]) as outer:
        made = make_list(prefix=outer.name, n=outer.n)
        with dsl.ParallelFor(made.output) as word:  # over a task output of the same outer instance
            inner = echo(text=f"{outer.name}:{word}")
            with dsl.ParallelFor(letters) as letter:  # three levels
                deepest = echo(text=f"{word}{letter}")
            join_words(words=dsl.Collected(deepest.output))
        per_outer = join_words(words=dsl.Collected(inner.output))  # inner Collected: this outer item's
        echo(text=f"{outer.name}={per_outer.output}")
    nested_total(lists=dsl.Collected(inner.output))  # outer Collected: a list per outer item
    with dsl.ParallelFor(["p", "q"]) as a:
        with dsl.ParallelFor([1, 2]) as b:
            artifact = write_text(text=f"{a}{b}")
    read_all(parts=dsl.Collected(artifact.outputs["out"]))  # artifacts: one flat list


@dsl.pipeline
def echo_twice(text: str) -> str:
    first = echo(text=text)
    return echo(text=f"{first.output}!").output


@dsl.pipeline
def nested_loops_with_branches(threshold: int = 2):
    with dsl.ParallelFor([{"k": 1, "subs": ["a", "b"]}, {"k": 3, "subs": ["c"]}, {"k": 5, "subs": []}]) as outer:
        with dsl.If(outer.k > threshold):  # a branch between the loops, decided per outer item
            with dsl.ParallelFor(outer.subs) as sub:  # over a field of the outer item
                inner = echo_twice(text=f"{outer.k}{sub}")  # a nested pipeline inside the inner loop
    nested_total(lists=dsl.Collected(inner.output))
