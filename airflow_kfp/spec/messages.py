"""How pipeline-definition errors name things: where (pipeline, task, argument) and what (types).

Shared by the graph checks (``validate``) and the control-flow checks (``control_flow``).
"""

from __future__ import annotations

from airflow_kfp.core import types as ptypes
from airflow_kfp.spec.model import ARTIFACT, InputSpec, OutputSpec


def where(pipeline: str, task: str | None = None, argument: str | None = None) -> str:
    parts = [f"pipeline '{pipeline}'"]
    if task is not None:
        parts.append(f"task '{task}'")
    if argument is not None:
        parts.append(f"argument '{argument}'")
    return ", ".join(parts)


def _a(word: str) -> str:
    return f"an {word}" if word[:1].lower() in "aeiou" else f"a {word}"


def describe(kind: str, type_: str, is_list: bool = False) -> str:
    if kind == ARTIFACT:
        title = type_.split(".", 1)[-1]
        return f"List[{title}] artifacts" if is_list else _a(f"{title} artifact")
    return _a(f"{ptypes.JSON_SCHEMA_TYPES.get(type_, type_)} parameter")


def types_compatible(source: OutputSpec | InputSpec, target: InputSpec) -> bool:
    if source.kind != target.kind:
        return False
    if source.kind == ARTIFACT:  # KFP's rule: lists match lists; system.Artifact matches every type
        if source.is_list != target.is_list:
            return False
        return "system.Artifact" in (source.type, target.type) or source.type == target.type
    if source.type == target.type:
        return True
    # KFP: an int feeds a float; a PipelineTaskFinalStatus (an exit pipeline's input) feeds a dict.
    return (source.type, target.type) in {
        (ptypes.INTEGER, ptypes.DOUBLE),
        (ptypes.TASK_FINAL_STATUS, ptypes.STRUCT),
    }
