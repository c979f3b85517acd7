"""How long a store waits out an unreachable, refusing or failing endpoint (``[kfp] store_outage_window``).

botocore retries each request a few times (seconds in all); an endpoint being restarted, a load
balancer failing over or a MinIO upgrade takes longer. The store therefore starts a failed operation
over with capped exponential backoff until the window, counted from the operation's first failure,
is spent; then the task fails with the store's usual clear error. One policy, read by every store
operation (issue 29).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
log = logging.getLogger(__name__)

DEFAULT_WINDOW_S = 60.0


@dataclass(frozen=True)
class OutagePolicy:
    """Backoff ``base_s * 2**n`` (capped at ``cap_s``, jittered 0.5-1.5x) until ``window_s`` has
    passed since the first failure; the last attempt is made at the window's end, never after it."""

    window_s: float = DEFAULT_WINDOW_S
    base_s: float = 1.0
    cap_s: float = 15.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False, repr=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)
    jitter: Callable[[], float] = field(default=random.random, compare=False, repr=False)

    def delay(self, attempt: int, elapsed: float) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None once the window is spent."""
        left = self.window_s - elapsed
        if left <= 0:
            return None
        wanted = min(self.cap_s, self.base_s * (2**attempt)) * (0.5 + self.jitter())
        return max(0.0, min(wanted, left))

    def run(
        self,
        fn: Callable[[], T],
        *,
        transient: Callable[[BaseException], bool],
        what: str,
        endpoint: str,
    ) -> T:
        """``fn()``, started over while its failures are ``transient`` and the window lasts.

        Raises the last failure once the window is spent (or at once for a non-transient one);
        the caller turns it into its clear error. Every wait is logged, with how much of the
        window is left, so a task log shows an outage being waited out.
        """
        first: float | None = None
        attempt = 0
        while True:
            try:
                result = fn()
            except Exception as exc:
                if not transient(exc):
                    raise
                now = self.clock()
                first = now if first is None else first
                elapsed = now - first
                wait = self.delay(attempt, elapsed)
                if wait is None:
                    if attempt:
                        log.error(
                            "giving up on %s: %s still failing after %.0fs ([kfp] store_outage_window is %gs)",
                            what,
                            endpoint,
                            elapsed,
                            self.window_s,
                        )
                    raise
                attempt += 1
                log.warning(
                    "%s failed (%s: %s); %s may be down or restarting: retry %d in %.1fs, waiting out up to %.0fs "
                    "more ([kfp] store_outage_window %gs)",
                    what,
                    type(exc).__name__,
                    _short(exc),
                    endpoint,
                    attempt,
                    wait,
                    self.window_s - elapsed,
                    self.window_s,
                )
                self.sleep(wait)
                continue
            if attempt:
                log.info("%s succeeded after %d retr%s", what, attempt, "y" if attempt == 1 else "ies")
            return result


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text[:200]
