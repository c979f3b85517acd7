"""KFP's control-flow docs: dsl.If / dsl.Elif / dsl.Else on a task output and a pipeline input, a nested
dsl.If, and dsl.OneOf gathering whichever branch ran (sdk test data: if_elif_else_with_oneof_parameters)."""

from kfp import dsl


@dsl.component(base_image="python:3.11")
def roll(seed: int) -> int:
    return (seed * 7) % 10


@dsl.component(base_image="python:3.11")
def describe(text: str) -> str:
    return f"rolled {text}"


@dsl.component(base_image="python:3.11")
def announce(message: str) -> str:
    return message.upper()


@dsl.pipeline(name="conditions-one-of")
def pipeline(seed: int = 3, verbose: bool = True) -> str:
    rolled = roll(seed=seed)
    with dsl.If(rolled.output < 3, name="low"):
        low = describe(text="low")
    with dsl.Elif(rolled.output < 7, name="middle"):
        middle = describe(text="middle")
    with dsl.Else(name="high"):
        high = describe(text="high")
        with dsl.If(verbose == True):  # noqa: E712 - a KFP condition, not a Python comparison
            describe(text="verbose and high")
    picked = dsl.OneOf(low.output, middle.output, high.output)
    return announce(message=picked).output


ARGUMENTS = {"seed": 4}
