"""Pausing the cyclic garbage collector while building large object graphs."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Defining and rendering a pipeline allocates thousands of long-lived objects and no garbage
    cycles; the full collections they trigger cost a third of a large compile and free nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
