"""Pipeline inputs, task outputs and loop items formatted into strings (f-strings, ``%``, ``.format``).

As in KFP, ``str(channel)`` inside a pipeline gives a token (``{{channel:task=...;name=...;type=...;}}``);
a string argument holding tokens becomes a ``ConcatArgument`` whose parts are resolved and joined when
the task runs. Tokens anywhere the value cannot be resolved at run time are refused with a message.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.spec.model import ARTIFACT, Argument, ConcatArgument, ConstantArgument

if TYPE_CHECKING:
    from airflow_kfp.dsl.channels import PipelineChannel

TOKEN = re.compile(r"\{\{channel:task=[^;{}]*;name=[^;{}]*;type=[^;{}]*;\}\}")


def channel_token(channel: PipelineChannel) -> str:
    from airflow_kfp.dsl.pipeline_context import active_builder

    builder = active_builder()
    if builder is None:
        raise TypeError(
            f"{channel!r} is only known when the pipeline runs; use it inside the @dsl.pipeline function, "
            f"as a component argument."
        )
    if channel.kind == ARTIFACT:
        raise TypeError(
            f"{channel!r} is an artifact and cannot be formatted into a string; pass it to an Input[...] "
            f"argument and read its .path or .uri inside the component."
        )
    from airflow_kfp.dsl.control_flow import CollectedChannel, OneOfChannel

    if isinstance(channel, CollectedChannel | OneOfChannel):
        raise TypeError(f"{channel!r} cannot be formatted into a string; pass it to a component first.")
    argument = channel.to_argument()
    task = getattr(argument, "task", "")
    name = getattr(argument, "output", None) or getattr(argument, "name", None) or getattr(argument, "loop", "")
    field = getattr(argument, "field", None)
    token = f"{{{{channel:task={task};name={name}{'.' + field if field else ''};type={channel.type};}}}}"
    builder.formatted[token] = argument
    return token


def has_token(value: Any) -> bool:
    return isinstance(value, str) and TOKEN.search(value) is not None


def formatted_argument(tokens: dict[str, Argument], text: str) -> Argument | None:
    """The concatenation a string with tokens stands for, or None when it holds no token."""
    parts: list[Argument] = []
    position = 0
    for match in TOKEN.finditer(text):
        argument = tokens.get(match.group(0))
        if argument is None:
            raise PipelineDefinitionError(
                f"the string {text!r} holds {match.group(0)}, a value of another pipeline; pass values of "
                f"this pipeline only."
            )
        if match.start() > position:
            parts.append(ConstantArgument(value=text[position : match.start()]))
        parts.append(argument)
        position = match.end()
    if not parts:
        return None
    if position < len(text):
        parts.append(ConstantArgument(value=text[position:]))
    return ConcatArgument(parts=parts)


def find_hidden_channel(value: Any) -> str | None:
    """A channel or token inside a list/dict constant (which cannot be resolved there), described."""
    from airflow_kfp.dsl.channels import PipelineChannel

    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, PipelineChannel):
            return repr(item)
        if has_token(item):
            return repr(item)
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set):
            stack.extend(item)
    return None
