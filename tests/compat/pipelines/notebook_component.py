"""``dsl.notebook_component`` (kfp 2.17): the notebook is embedded in the component and run by
``dsl.run_notebook`` with the parameters injected after its ``parameters`` cell, as papermill does.
nbclient and ipykernel come from the environment here (``packages_to_install=[]``)."""

from kfp import dsl
from kfp.dsl import Dataset, Output

NOTEBOOK = "tests/compat/pipelines/notebooks/greet.ipynb"


@dsl.notebook_component(notebook_path=NOTEBOOK, base_image="python:3.11", packages_to_install=[])
def greet(name: str, greeting: Output[Dataset]) -> str:
    dsl.run_notebook(name=name, out_path=greeting.path)
    with open(greeting.path) as fh:
        return fh.read()


@dsl.pipeline(name="notebook-component")
def pipeline(name: str = "airflow"):
    greet(name=name)


ARGUMENTS = {"name": "kfp"}
