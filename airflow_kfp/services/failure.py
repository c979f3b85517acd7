"""A failed try's error, published for the experiments UI's run view (issue 24).

Airflow keeps a failed task's exception only in its log. The run view and the run graph show it
where the run is shown, so the operator also pushes it to XCom (key ``kfp_error``) before Airflow
records the failure: the component's own traceback first, the loop item for a mapped step, the
output tail after. A retry's new try starts with its XComs cleared, so the record is the last try's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_kfp.errors import ComponentFailedError

ERROR_KEY = "kfp_error"
MAX_TEXT = 16_000
"""Characters of the message kept in the record (XCom rows stay small)."""


def _bounded(text: str | None) -> str | None:
    if text is None or len(text) <= MAX_TEXT:
        return text
    return text[: MAX_TEXT // 4] + "\n...\n" + text[-(MAX_TEXT * 3 // 4) :]


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def failure_record(
    exc: BaseException, where: str, loop_item: Any = None, inputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the run view shows for a failed try: the user's exception first, then the rest."""
    report = getattr(exc, "user_report", None) if isinstance(exc, ComponentFailedError) else None
    tail = getattr(exc, "output_tail", None) if isinstance(exc, ComponentFailedError) else None
    message = str(exc)
    return {
        "where": where,
        "type": type(exc).__name__,
        "summary": message.splitlines()[0] if message else type(exc).__name__,
        "user_traceback": _bounded(report),
        "output_tail": _bounded(tail),
        "message": _bounded(message),
        "loop_item": _jsonable(loop_item),
        "inputs": _jsonable(inputs) if inputs is not None else None,
    }


def name_loop_item(exc: BaseException, loop_item: Any) -> None:
    """Put the loop item in a component failure's first line: the log names which iteration failed."""
    if loop_item is None or not isinstance(exc, ComponentFailedError) or not exc.args:
        return
    message = str(exc.args[0])
    first, sep, rest = message.partition("\n")
    label = f" [loop item {json.dumps(_jsonable(loop_item))[:200]}]"
    if label not in first:
        exc.args = (first + label + sep + rest, *exc.args[1:])


def publish_failure(
    context: Mapping[str, Any],
    exc: BaseException,
    where: str,
    loop_item: Any,
    log: Any,
    inputs: dict[str, Any] | None = None,
) -> None:
    """Push the failure record to XCom; never masks the task's own exception."""
    name_loop_item(exc, loop_item)
    ti = context.get("ti")
    if ti is None or not hasattr(ti, "xcom_push"):
        return
    try:
        ti.xcom_push(key=ERROR_KEY, value=failure_record(exc, where, loop_item, inputs))
    except Exception as push_error:  # the run view loses the error; the task's failure stands
        log.warning("Could not record the failure for the experiments UI: %s", push_error)
