"""Pausing Python's cyclic garbage collector while a pipeline is defined or compiled (issue 15).

Defining and compiling a pipeline allocate thousands of long-lived objects and next to no garbage
cycles. The full collections those allocations trigger scan the whole heap (Airflow's included) and
free nothing; as the graph grows they grow with it, which made a 2,000-task pipeline cost far more
than ten 200-task ones (its definition 38x, the digest's ``model_dump`` 300x). Reference counting
still frees everything acyclic meanwhile, and the collector runs again, as usual, once the
definition or the compile returns.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside (nested uses keep it paused until the outermost one ends)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
