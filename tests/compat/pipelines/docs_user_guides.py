"""The code of KFP's user guides (kubeflow/website, content/en/docs/components/pipelines/user-guides:
data-handling/parameters, data-handling/artifacts, core-functions/control-flow, core-functions/caching),
assembled into one pipeline as written there; only the random coin is replaced by a chosen side so
the outputs can be compared: parameters of every type with defaults, NamedTuple outputs, pythonic
artifacts (``-> Model`` with ``dsl.get_uri``, a NamedTuple of Models), a component returning a value
it does not declare, If/Elif/Else with ``dsl.OneOf`` returned by the pipeline, ``ParallelFor`` with
``parallelism`` fanned in as ``Input[List[Model]]``, and ``set_caching_options(False)``."""

from typing import Dict, List, NamedTuple

from kfp import dsl
from kfp.dsl import Dataset, Input, Model, Output


@dsl.component
def python_comp(
    string: str = "hello",
    integer: int = 1,
    floating_pt: float = 0.1,
    boolean: bool = True,
    dictionary: Dict = {"key": "value"},
    array: List = [1, 2, 3],
) -> str:
    return f"{string} {integer} {floating_pt} {boolean} {sorted(dictionary.items())} {array}"


@dsl.component
def join_words(word: str, count: int = 10) -> str:
    return " ".join(word for _ in range(count))


@dsl.component
def my_comp() -> NamedTuple("outputs", a=int, b=str):
    outputs = NamedTuple("outputs", a=int, b=str)
    return outputs(1, "hello")


@dsl.component
def say_hello(name: str) -> str:
    hello_text = f"Hello, {name}!"
    print(hello_text)
    return hello_text


@dsl.component
def make_dataset(lines: int, dataset: Output[Dataset]):
    with open(dataset.path, "w") as f:
        f.write("".join(f"row {i}\n" for i in range(lines)))
    dataset.metadata["lines"] = lines


@dsl.component
def print_artifact_properties(dataset: Input[Dataset]):
    with open(dataset.path) as f:
        lines = f.readlines()

    print("Information about the artifact")
    print("Name:", dataset.name)
    print("URI:", dataset.uri)
    print("Path:", dataset.path)
    print("Metadata:", dataset.metadata)

    return len(lines)


@dsl.component
def train_multiple_models(
    dataset: Dataset,
) -> NamedTuple("outputs", model1=Model, model2=Model):
    with open(dataset.path) as f:
        dataset_lines = f.readlines()

    model_artifact1 = Model(uri=dsl.get_uri(suffix="model1"), metadata={"samples": len(dataset_lines)})
    with open(model_artifact1.path, "w") as f:
        f.write("model 1")

    model_artifact2 = Model(uri=dsl.get_uri(suffix="model2"), metadata={"samples": len(dataset_lines) * 2})
    with open(model_artifact2.path, "w") as f:
        f.write("model 2")

    outputs = NamedTuple("outputs", model1=Model, model2=Model)
    return outputs(model1=model_artifact1, model2=model_artifact2)


@dsl.component
def train_model(epochs: int) -> Model:
    model_artifact = Model(uri=dsl.get_uri(), metadata={"epochs": epochs})
    with open(model_artifact.path, "w") as f:
        f.write(str(epochs / 100))
    return model_artifact


@dsl.component
def max_accuracy(models: Input[List[Model]]) -> float:
    def score_model(model: Model) -> float:
        with open(model.path) as f:
            return float(f.read())

    return max(score_model(model) for model in models)


@dsl.component
def flip_three_sided_coin(side: str) -> str:
    return side


@dsl.component
def print_and_return(text: str) -> str:
    print(text)
    return text


@dsl.component
def announce_result(result: str) -> str:
    return f"The result is: {result}"


@dsl.pipeline(name="docs-user-guides")
def pipeline(
    string: str = "Hey!",
    integer: int = 100,
    floating_pt: float = 0.1,
    boolean: bool = False,
    dictionary: Dict = {"key": "value"},
    array: List = [1, 2, 3],
    side: str = "tails",
    recipient: str = "World!",
) -> str:
    python_comp(string="howdy", integer=integer, array=[4, 5, 6])
    python_comp(string=string, boolean=boolean, dictionary=dictionary, floating_pt=floating_pt)
    join_words(word=string, count=3)
    my_comp()
    hello_task = say_hello(name=recipient)
    hello_task.set_caching_options(False)

    dataset = make_dataset(lines=4)
    print_artifact_properties(dataset=dataset.outputs["dataset"])
    train_multiple_models(dataset=dataset.outputs["dataset"])

    with dsl.ParallelFor(items=[1, 5, 10, 25], parallelism=2) as epochs:
        train_model_task = train_model(epochs=epochs)
    max_accuracy(models=dsl.Collected(train_model_task.output))

    coin_flip_task = flip_three_sided_coin(side=side)
    with dsl.If(coin_flip_task.output == "heads"):
        t1 = print_and_return(text="Got heads!")
    with dsl.Elif(coin_flip_task.output == "tails"):
        t2 = print_and_return(text="Got tails!")
    with dsl.Else():
        t3 = print_and_return(text="Draw!")
    oneof = dsl.OneOf(t1.output, t2.output, t3.output)
    announce_result(result=oneof)
    return oneof
