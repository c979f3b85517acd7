"""The user's function, loaded so its errors point at the user's own file and line.

A Python component ships its function's source; the launcher runs it in a module of its own. The
source is compiled under the file name and line numbers where the function was defined (recorded by
``@dsl.component``), and registered with ``linecache``, so a traceback reads
``File "/repo/pipelines/train.py", line 42, in train`` and shows the line, even in a pod where that
file does not exist. When the function raises, the launcher's own frames are dropped and the rest of
the traceback, chained exceptions included, is written to ``ERROR_FILE`` in the task's folder: the
runner puts it in the task's failure whatever the component printed before. Standard library only.
"""

from __future__ import annotations

import linecache
import os
import sys
import traceback
import types
from typing import Any

ERROR_FILE = "component_error.txt"
"""In the task's working folder: the user's traceback, written when the function raised."""
ERROR_MARKER = "[airflow-kfp] the component raised"
"""The line the launcher prints before the traceback (the runner cuts the output tail there)."""
MAX_REPORT = 12_000
"""Characters of the report kept: its head (where it started) and its tail (the exception)."""
RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
CORE_DIR = os.path.join(os.path.dirname(RUNTIME_DIR), "core")
MODULE_NAME = "ephemeral_component"


def _stretches(source: str, locations: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    """(text, file, first line in file) per stretch of ``source``; file "" when it has none."""
    lines = source.splitlines(keepends=True)
    marks = sorted((int(loc["line"]), str(loc.get("file") or ""), int(loc.get("first_line") or 0)) for loc in locations)
    if not marks or marks[0][0] > 1:
        marks.insert(0, (1, "", 0))
    out = []
    for i, (line, file, first) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else len(lines) + 1
        out.append(("".join(lines[line - 1 : end - 1]), file if first > 0 else "", first if first > 0 else line))
    return out


def load_module(source: str, prelude: str, locations: list[dict[str, Any]], workdir: str) -> Any:
    """Run ``prelude`` then the component's source in a fresh module; return the module.

    The source is also written to ``<workdir>/ephemeral_component.py`` (as KFP does); each stretch
    with a recorded location is compiled under its original file name and line numbers, and its lines
    are registered with ``linecache`` so a traceback shows them, even where the file is absent or has
    changed since the DAG was parsed.
    """
    path = os.path.join(workdir, f"{MODULE_NAME}.py")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(prelude + source)
    base = prelude.count("\n")
    code = []
    shown: dict[str, list[str]] = {}
    for text, file, first in _stretches(source, locations):
        filename, offset = (file, first - 1) if file else (path, base + first - 1)
        code.append((filename, "\n" * offset + text))  # padded: every line number, errors included, is the file's
        if file:
            lines = shown.setdefault(file, [])
            lines.extend(["\n"] * (offset - len(lines)))
            seg = text.splitlines(keepends=True)
            lines[offset : offset + len(seg)] = seg
    for file, lines in shown.items():
        linecache.cache[file] = (sum(map(len, lines)), None, lines, file)
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = path
    sys.modules[MODULE_NAME] = module
    exec(compile(prelude, path, "exec"), module.__dict__)
    for filename, text in code:
        exec(compile(text, filename, "exec"), module.__dict__)
    return module


def _is_runtime(frame: traceback.FrameSummary) -> bool:
    return os.path.dirname(os.path.abspath(frame.filename)) in (RUNTIME_DIR, CORE_DIR)


def _trim(te: traceback.TracebackException, seen: set[int]) -> None:
    """Drop the launcher's frames that lead into the user's code (its callers), in every chained exception."""
    if id(te) in seen:
        return
    seen.add(id(te))
    frames = list(te.stack)
    first_user = next((i for i, f in enumerate(frames) if not _is_runtime(f)), None)
    if first_user is not None:
        te.stack = traceback.StackSummary.from_list(frames[first_user:])
    for nested in (te.__cause__, te.__context__, *(getattr(te, "exceptions", None) or [])):
        if nested is not None:
            _trim(nested, seen)


def user_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` as the user would want it: their frames and everything below them."""
    te = traceback.TracebackException.from_exception(exc)
    _trim(te, set())
    return "".join(te.format())


def bounded(text: str, limit: int = MAX_REPORT) -> str:
    if len(text) <= limit:
        return text
    head = limit // 5
    cut = len(text) - limit
    return f"{text[:head]}\n... ({cut} characters cut) ...\n{text[-(limit - head) :]}"


def report_failure(exc: BaseException, component: str, workdir: str) -> None:
    """Print the user's traceback after a marker line and keep it in ``ERROR_FILE``."""
    text = bounded(f"component '{component}' raised {type(exc).__name__}\n" + user_traceback(exc))
    with open(os.path.join(workdir, ERROR_FILE), "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"{ERROR_MARKER}:", file=sys.stderr, flush=True)
    print(text, file=sys.stderr, end="" if text.endswith("\n") else "\n", flush=True)


def read_report(workdir: str) -> str | None:
    """The report a failed run left in its folder, if any."""
    try:
        with open(os.path.join(workdir, ERROR_FILE), encoding="utf-8") as fh:
            return fh.read().rstrip("\n") or None
    except OSError:
        return None
