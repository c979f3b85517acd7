"""A run's conf holds pipeline inputs and the documented ``kfp_*`` switches, nothing else.

Airflow accepts any key in a run's conf and keeps the Param defaults for the rest, so a misspelt
input (``{"C": 0.3}`` for ``c``) would run the pipeline on its defaults without a word. In a DAG made
by ``to_dag`` (whose conf belongs to the pipeline) every task checks the conf before it does
anything, so the run fails at its first task, naming the unknown key, its closest valid spelling and
the valid inputs. A pipeline placed with ``to_task_group`` shares its DAG's conf with other tasks and
is not checked.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_kfp.experiment import CONF_KEY as EXPERIMENT

ENABLE_CACHING = "kfp_enable_caching"
RUN_NAME = "kfp_run_name"

KFP_SWITCHES: dict[str, str] = {
    ENABLE_CACHING: "false runs every step of this run afresh: no cache lookups, no new entries",
    EXPERIMENT: "files this run under another experiment in the experiments UI (issue 12)",
    RUN_NAME: "the run's display name (KFP's run name), set by airflow_kfp.Client; changes nothing else",
}
"""Every run-conf key the package itself reads, with what it does; the one place they are listed."""


class RunConfError(ValueError):
    """The run's conf names a key that is neither a pipeline input nor a ``kfp_*`` switch."""


def closest(key: str, valid: Iterable[str]) -> str | None:
    """The valid key the user most likely meant: same letters in another case, else a near spelling."""
    options = list(valid)
    by_case = {v.lower(): v for v in options}
    if key.lower() in by_case:
        return by_case[key.lower()]
    found = difflib.get_close_matches(key.lower(), list(by_case), n=1, cutoff=0.6)
    return by_case[found[0]] if found else None


def unknown_keys_message(
    pipeline: str, conf: Mapping[str, Any], inputs: list[str], params: Iterable[str]
) -> str | None:
    """The error for ``conf``'s unknown keys, or None when every key is known."""
    valid = {*inputs, *params, *KFP_SWITCHES}
    unknown = sorted(k for k in conf if k not in valid)
    if not unknown:
        return None
    hints = []
    for key in unknown:
        match = closest(key, valid)
        hints.append(f"{key!r} (did you mean {match!r}?)" if match else repr(key))
    others = sorted(set(params) - set(inputs))
    listed = ", ".join(repr(i) for i in inputs) or "none"
    extra = f"; other DAG params: {', '.join(repr(p) for p in others)}" if others else ""
    return (
        f"pipeline '{pipeline}': the run conf names unknown key(s) {', '.join(hints)}. Valid inputs: {listed}"
        f"{extra}; run switches: {', '.join(sorted(KFP_SWITCHES))}. Trigger the run again with the right "
        "key(s): unknown keys are refused rather than silently running on the defaults."
    )


def check_run_conf(context: Mapping[str, Any]) -> None:
    """Fail the task when its run's conf has a key the pipeline does not know (``to_dag`` DAGs only)."""
    dag = context.get("dag")
    spec = getattr(dag, "kfp_pipeline", None)
    dag_run = context.get("dag_run")
    conf = getattr(dag_run, "conf", None)
    if spec is None or not conf:
        return
    params = getattr(dag, "params", None) or {}
    message = unknown_keys_message(spec.name, conf, [i.name for i in spec.inputs], list(params.keys()))
    if message is not None:
        raise RunConfError(message)
