"""DSL pipelines built from components loaded from YAML (KFP v1 component.yaml and a compiled v2
component), for real DAG runs in test_components.py."""

from __future__ import annotations

from pathlib import Path

from airflow_kfp import dsl
from airflow_kfp.components import load_component_from_text

V1_WORDS = """
name: Join Words
description: Joins words into a file, counts them into an output parameter.
inputs:
- {name: First word, type: String}
- {name: repeat, type: Integer, default: '2'}
- {name: suffix, type: String, optional: true}
outputs:
- {name: joined, type: Dataset}
- {name: word count, type: Integer}
implementation:
  container:
    image: python:3.11
    command:
    - sh
    - -c
    - |
      set -e
      word="$0"; repeat="$1"; out="$2"; count_file="$3"; shift 3
      line=""
      for i in $(seq "$repeat"); do line="$line$word "; done
      echo "$line$*" > "$out"
      echo -n "$repeat" > "$count_file"
    - {inputValue: First word}
    - {inputValue: repeat}
    - {outputPath: joined}
    - {outputPath: word count}
    - if:
        cond: {isPresent: suffix}
        then: [{concat: ['suffix=', {inputValue: suffix}]}]
        else: [no-suffix]
    env:
      GREETING: hi
"""

# A lightweight Python component compiled by the kfp SDK 2.17 (kfp.compiler.Compiler().compile(shout, ...));
# airflow-kfp runs the embedded function with its own launcher.
V2_SHOUT = (Path(__file__).parent / "fixtures" / "shout_component.yaml").read_text()

join_words = load_component_from_text(V1_WORDS)
shout = load_component_from_text(V2_SHOUT)


@dsl.component
def read_joined(joined: dsl.Input[dsl.Dataset], count: int, shouted: str) -> str:
    with open(joined.path) as fh:
        return f"{fh.read().strip()}|{count}|{shouted}"


@dsl.pipeline(name="yaml-components")
def yaml_components(word: str = "hey"):
    with_suffix = join_words(first_word=word, repeat=3, suffix="end")
    plain = join_words(first_word="yo")
    loud = shout(text=word)
    read_joined(joined=with_suffix.outputs["joined"], count=plain.outputs["word_count"], shouted=loud.output)
