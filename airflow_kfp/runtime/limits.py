"""The output-parameter size cap, applied where parameter files are read (launcher, pod runtime).

Standard library only. The worker passes ``[kfp] max_output_parameter_size`` in the task document
(``max_parameter_bytes``); a parameter file is checked with ``fstat`` before it is read, so a 30 MiB
value is never loaded, and it is opened as a regular file only (a FIFO never blocks the launcher). The
worker checks the reported values again (``services.reported_outputs``), since a pod's report is
untrusted.
"""

from __future__ import annotations

import os

from airflow_kfp.core.errors import AirflowKfpError
from airflow_kfp.runtime.regular import open_regular

TASK_KEY = "max_parameter_bytes"


class ParameterTooLargeError(AirflowKfpError):
    """An output parameter beyond ``[kfp] max_output_parameter_size``."""


def describe_size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit} ({n} bytes)"
    return f"{n} bytes"


def too_large(name: str, size: int, limit: int) -> ParameterTooLargeError:
    return ParameterTooLargeError(
        f"output parameter '{name}' is {describe_size(size)}, over the {describe_size(limit)} allowed by [kfp] "
        "max_output_parameter_size; parameters travel in XCom (the Airflow database). Write large values to "
        "an output artifact (Output[Dataset]) instead, or raise the setting"
    )


def read_parameter_file(path: str, name: str, limit: int | None) -> str:
    """The text of an output parameter file, refused unread when larger than ``limit`` bytes."""
    with open_regular(path) as fh:
        size = os.fstat(fh.fileno()).st_size
        if limit is not None and size > limit:
            raise too_large(name, size, limit)
        data = fh.read(limit + 1 if limit is not None else -1)
    if limit is not None and len(data) > limit:  # grew while read
        raise too_large(name, len(data), limit)
    return data.decode("utf-8")


def check_text(name: str, text: str, limit: int | None) -> None:
    if limit is not None and len(text.encode("utf-8")) > limit:
        raise too_large(name, len(text.encode("utf-8")), limit)
