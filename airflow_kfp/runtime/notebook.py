"""``dsl.run_notebook(**parameters)`` inside a ``@dsl.notebook_component`` (KFP 2.17): run the
embedded notebook with the parameters injected as papermill does, streaming its cells' output.

Standard library only at import: nbformat, nbclient and ipykernel are needed only in the component's
own environment (``packages_to_install``, KFP's default for notebook components, or the image), never
on the worker; without them the task fails naming the component and the fix.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from airflow_kfp.core.errors import AirflowKfpError

NOTEBOOK_PACKAGES = ["nbclient>=0.10,<1", "ipykernel>=6,<8", "jupyter_client>=7,<9"]
"""What a notebook component installs when ``packages_to_install`` is not given (KFP's default list,
with ipykernel 7 allowed)."""


def notebook_prelude(relpath: str, component: str) -> str:
    """Component source binding ``dsl.run_notebook`` (after the embedded files' prelude, which defines
    ``__KFP_EMBEDDED_ASSET_DIR``; ``dsl`` is the launcher's)."""
    return (
        "from airflow_kfp.runtime.notebook import notebook_runner as __kfp_notebook_runner\n"
        f"__KFP_NOTEBOOK_REL_PATH = {relpath!r}\n"
        "__KFP_EMBEDDED_ASSET_FILE = __KFP_EMBEDDED_ASSET_DIR + '/' + __KFP_NOTEBOOK_REL_PATH\n"
        "dsl.run_notebook = __kfp_notebook_runner(\n"
        f"    __KFP_EMBEDDED_ASSET_DIR, __KFP_NOTEBOOK_REL_PATH, {component!r}\n)\n\n"
    )


class NotebookError(AirflowKfpError):
    """The notebook could not run: missing packages, an unreadable notebook, or a failing cell."""


def parameters_cell(nb: Any, params: dict[str, Any], new_cell: Callable[..., Any]) -> None:
    """Papermill's rule, as KFP applies it: an ``injected-parameters`` cell right after the first
    code cell tagged ``parameters``, or at the top when there is none. Values travel as JSON."""
    if not params:
        return
    lines = ["import json"] + [f"{key} = json.loads({json.dumps(value)!r})" for key, value in params.items()]
    cell = new_cell(source="\n".join(lines) + "\n")
    cell.metadata["tags"] = ["injected-parameters"]
    at = 0
    for index, existing in enumerate(nb.cells):
        if existing.get("cell_type") == "code" and "parameters" in (existing.get("metadata", {}).get("tags") or []):
            at = index + 1
            break
    nb.cells.insert(at, cell)


def _print_output(output: dict[str, Any], index: int) -> None:
    kind = output.get("output_type")
    if kind == "stream":
        text = output.get("text", "")
        print(f"[nb cell {index}] {text}", end="" if text.endswith("\n") else "\n", flush=True)
    elif kind == "error":
        print("\n".join(output.get("traceback", [])), file=sys.stderr, flush=True)
    else:
        data = output.get("data", {})
        text = data.get("text/plain") or data.get("text/markdown")
        if text:
            print(f"[nb cell {index}] {text}", flush=True)


def notebook_runner(folder: str, relpath: str, component: str) -> Callable[..., None]:
    """``dsl.run_notebook`` for one component: ``folder`` holds the extracted embedded files."""

    def run_notebook(**params: Any) -> None:
        try:
            import nbformat
            from nbclient import NotebookClient
        except ImportError as exc:
            raise NotebookError(
                f"component '{component}': dsl.run_notebook needs nbclient, nbformat and ipykernel in the "
                f"component's environment ({exc.name} is missing); list them in packages_to_install (the "
                f"default of @dsl.notebook_component: {', '.join(NOTEBOOK_PACKAGES)}) or use an image that has them."
            ) from None

        class StreamingClient(NotebookClient):  # type: ignore[misc]
            def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
                output = super().process_message(msg, cell, cell_index)
                if output is not None:
                    _print_output(output, cell_index)
                return output

        path = os.path.join(folder, relpath)
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise NotebookError(f"component '{component}': cannot read notebook {relpath!r}: {exc}") from exc
        parameters_cell(nb, params, nbformat.v4.new_code_cell)
        # The kernel is a new process: it sees the packages the component installed (a pip target on
        # sys.path, not in the environment) and the embedded files only through PYTHONPATH.
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        print(f"[airflow-kfp] Running notebook {relpath} ({len(nb.cells)} cells)", flush=True)
        client = StreamingClient(nb, timeout=None, allow_errors=False, kernel_name="python3", resources={})
        try:
            client.execute(cwd=folder)
        except Exception as exc:
            plain = re.sub(r"\x1b\[[0-9;]*m", "", str(exc))  # the kernel's traceback is coloured
            raise NotebookError(f"component '{component}': notebook {relpath!r} failed: {plain}") from exc

    return run_notebook
