"""The deprecated ``dsl.Condition`` spelling, ``set_display_name``, and an exit task reading the fields of
``dsl.PipelineTaskFinalStatus`` after a successful run. (An ``Artifact`` subclass of the user's own does
not run under KFP: its compiler accepts only the ``system`` and ``google`` schema namespaces, and its
executor cannot load the class in a lightweight component, so KFP users do not write one.)"""

from kfp import dsl
from kfp.dsl import Input, Model, Output


@dsl.component(base_image="python:3.11")
def build_tokenizer(vocabulary: str, tokenizer: Output[Model]) -> int:
    words = vocabulary.split()
    with open(tokenizer.path, "w") as fh:
        fh.write("\n".join(words))
    tokenizer.metadata["size"] = len(words)
    return len(words)


@dsl.component(base_image="python:3.11")
def tokenize(tokenizer: Input[Model], text: str) -> str:
    with open(tokenizer.path) as fh:
        known = fh.read().split()
    return " ".join(str(known.index(w)) if w in known else "?" for w in text.split())


@dsl.component(base_image="python:3.11")
def report(status: dsl.PipelineTaskFinalStatus) -> str:
    return f"{status.state}|{status.error_code}|{status.error_message or ''}"


@dsl.pipeline(name="condition-alias-and-status")
def pipeline(vocabulary: str = "a b c", text: str = "c a d"):
    done = report()
    with dsl.ExitHandler(done):
        built = build_tokenizer(vocabulary=vocabulary).set_display_name("Build the tokenizer")
        with dsl.Condition(built.outputs["Output"] > 2):
            tokenize(tokenizer=built.outputs["tokenizer"], text=text)


ARGUMENTS = {"text": "b c x"}
