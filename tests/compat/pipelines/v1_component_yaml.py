"""Components in the v1 ``component.yaml`` format of KFP's component registry, loaded with
``components.load_component_from_text``: typed inputs with defaults, ``inputValue``/``inputPath``/
``outputPath`` placeholders, an ``if: {cond: {isPresent: ...}}`` argument, an output parameter read from
a file, chained into each other (KFP's test data: v1/add_component.yaml, if_placeholder_component.yaml)."""

from kfp import components, dsl

write_numbers = components.load_component_from_text(
    """
name: Write numbers
description: Writes the numbers 1..count, one per line.
inputs:
- {name: Count, type: Integer, default: '3', description: How many numbers}
- {name: Label, type: String, optional: true}
outputs:
- {name: Numbers, type: Dataset}
- {name: Total, type: Integer}
implementation:
  container:
    image: alpine
    command:
    - sh
    - -c
    - |
      mkdir -p "$(dirname "$1")" "$(dirname "$2")"
      seq "$0" > "$1"
      seq "$0" | awk '{s+=$1} END {printf "%d", s}' > "$2"
      echo "$3"
    - {inputValue: Count}
    - {outputPath: Numbers}
    - {outputPath: Total}
    - if:
        cond: {isPresent: Label}
        then: [{concat: ['label=', {inputValue: Label}]}]
        else: [no-label]
"""
)

count_lines = components.load_component_from_text(
    """
name: Count lines
inputs:
- {name: Data, type: Dataset}
- {name: Offset, type: Integer, default: '0'}
outputs:
- {name: Lines, type: Integer}
implementation:
  container:
    image: alpine
    command:
    - sh
    - -c
    - mkdir -p "$(dirname "$2")" && echo -n $(( $(wc -l < "$0") + $1 )) > "$2"
    - {inputPath: Data}
    - {inputValue: Offset}
    - {outputPath: Lines}
"""
)


@dsl.pipeline(name="v1-component-yaml")
def pipeline(count: int = 4):
    numbers = write_numbers(count=count, label="x")
    count_lines(data=numbers.outputs["numbers"], offset=numbers.outputs["total"])
    write_numbers()


ARGUMENTS = {"count": 5}
KFP_LOCAL = (
    "kfp.local's SubprocessRunner refuses container components (they need Docker); these are KFP's documented results"
)
EXPECTED = {
    "tasks": {
        "write-numbers": {
            "status": "success",
            "parameters": {"total": 15},
            "artifacts": {"numbers": {"metadata": {}, "text": "1\n2\n3\n4\n5\n"}},
        },
        "count-lines": {"status": "success", "parameters": {"lines": 20}},
        "write-numbers-2": {
            "status": "success",
            "parameters": {"total": 6},
            "artifacts": {"numbers": {"metadata": {}, "text": "1\n2\n3\n"}},
        },
    }
}
