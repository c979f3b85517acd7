"""Optional inputs and defaults of every parameter type (sdk test data: component_with_optional_inputs,
pipeline_with_various_io_types): None defaults, lists and dicts as defaults and as pipeline inputs."""

from typing import Dict, List, Optional

from kfp import dsl


@dsl.component(base_image="python:3.11")
def describe(
    text: Optional[str] = None,
    number: int = 7,
    ratio: float = 0.25,
    flag: bool = False,
    items: List[int] = [1, 2],
    options: Dict[str, int] = {"a": 1},
) -> str:
    return f"{text!r} {number} {ratio} {flag} {items} {sorted(options.items())}"


@dsl.pipeline(name="optional-inputs")
def pipeline(values: List[int] = [3, 4], settings: Dict[str, int] = {"b": 2}, label: str = "given"):
    describe()
    describe(text=label, number=1, ratio=1.5, flag=True, items=values, options=settings)


ARGUMENTS = {"values": [5, 6, 7]}
EXPECTED = {
    "tasks": {
        "describe": {"parameters": {"Output": "None 7 0.25 False [1, 2] [('a', 1)]"}},
        "describe-2": {"parameters": {"Output": "'given' 1 1.5 True [5, 6, 7] [('b', 2)]"}},
    }
}
NOTES = [
    "kfp.local hands whole numbers inside list and dict parameters to components as floats ([1.0, 2.0]): the IR "
    "stores every number as a double. The KFP backend serialises them as JSON numbers (1, 2), which Python reads "
    "back as ints, as the pipeline's Python source has them; airflow-kfp follows that.",
]
