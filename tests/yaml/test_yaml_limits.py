"""Hostile YAML and nesting never hang or crash a DAG-file import (issue 22, item 6): aliases are
bounded before any walk, size and depth are capped with a clear message, and every recursion limit
becomes a message naming the pipeline and what to change. The DAG-file cases go through Airflow's own
DagBag, the way the DAG processor imports them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from airflow_kfp import load_pipeline
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.kfp_yaml import document

FIXTURES = Path(__file__).parent / "fixtures"

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
pipelineInfo: {name: laughs}
schemaVersion: 2.1.0
root: {dag: {tasks: {}}, extra: *i}
"""


def _error(source) -> str:
    with pytest.raises(PipelineDefinitionError) as info:
        load_pipeline(source)
    return str(info.value)


def test_a_billion_laughs_is_refused_before_any_walk() -> None:
    assert "expands to more than 5,000,000 nodes once its aliases (*name) are followed" in _error(BILLION_LAUGHS)


def test_a_recursive_alias_is_refused() -> None:
    assert "an alias that contains itself" in _error("a: &x [1, *x]\nschemaVersion: 2.1.0\n")


def test_deep_nesting_is_refused_with_the_limit(tmp_path: Path) -> None:
    for depth in (150, 100_000):
        text = "pipelineInfo: {name: deep}\nroot: " + "[" * depth + "]" * depth + "\n"
        assert "nests mappings and sequences more than 100 levels deep" in _error(text), depth
    block = "".join(" " * i + "k:\n" for i in range(300)) + " " * 300 + "v: 1\n"
    assert "more than 100 levels deep" in _error(block)


def test_an_oversized_document_is_refused_before_it_is_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    with big.open("w") as f:
        f.write("# " + "x" * (document.MAX_YAML_BYTES + 10) + "\n")
    message = _error(big)
    assert f"{big}: the YAML is 16.0 MiB, more than the 16 MiB airflow-kfp reads" in message


def test_the_c_loader_is_used_where_pyyaml_has_it() -> None:
    import yaml

    assert issubclass(document.BoundedLoader, getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def test_5000_nested_parentheses_in_a_condition_name_the_pipeline() -> None:
    text = (FIXTURES / "features.yaml").read_text()
    ref = "int(inputs.parameter_values['pipelinechannel--loop-item-param-1'])"
    old = f"condition: {ref}\n              > 1\n"
    assert old in text
    hostile = text.replace(old, 'condition: "' + "(" * 5000 + ref + " > 1" + ")" * 5000 + '"\n')
    message = _error(hostile)
    assert message.startswith("pipeline 'features', task 'condition-3'"), message[:400]
    assert "nests parentheses and negations 5001 levels deep, more than the 50 allowed" in message, message[:400]


NESTED = """
import datetime
from airflow_kfp import dsl, to_dag

@dsl.component
def leaf() -> int:
    return 1

def nest(level):
    @dsl.pipeline(name=f"level-{level:02d}-pipeline")
    def inner():
        if level == 0:
            leaf()
        else:
            nest(level - 1)()
    return inner

dag = to_dag(nest(59), dag_id="deeply_nested", start_date=datetime.datetime(2024, 1, 1))
"""


def test_sixty_nested_pipelines_are_an_import_error_naming_the_fix(airflow_db: Path, tmp_path: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "kfp_deeply_nested.py").write_text(textwrap.dedent(NESTED))
    bag = DagBag(dag_folder=str(folder))
    (error,) = bag.import_errors.values()
    assert "pipeline 'level-59-pipeline', task 'leaf'" in error, error[-1500:]
    assert "more than the 250 Airflow allows" in error and "nest fewer levels" in error, error[-1500:]
    assert "RecursionError" not in error
