"""The store's outage policy (issue 29): capped exponential backoff within a window counted from an
operation's first failure; the last attempt at the window's end; non-transient failures at once."""

from __future__ import annotations

import pytest

from airflow_kfp.config import KfpSettings
from airflow_kfp.stores.outage import DEFAULT_WINDOW_S, OutagePolicy


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Down(Exception):
    pass


def policy(clock: Clock, window: float = 60.0) -> OutagePolicy:
    return OutagePolicy(window_s=window, base_s=1.0, cap_s=15.0, clock=clock, sleep=clock.sleep, jitter=lambda: 0.5)


def flaky(clock: Clock, down_for: float, cost: float = 0.0):
    """An operation failing until ``down_for`` seconds after its first call; each try takes ``cost``."""
    start: list[float] = []
    calls: list[float] = []

    def op() -> str:
        start.append(clock.now) if not start else None
        calls.append(clock.now)
        clock.now += cost
        if clock.now - start[0] < down_for:
            raise Down("connection refused")
        return "ok"

    return op, calls


def test_an_outage_shorter_than_the_window_is_waited_out_with_capped_backoff() -> None:
    clock = Clock()
    op, calls = flaky(clock, down_for=50.0)
    assert policy(clock).run(op, transient=lambda e: isinstance(e, Down), what="stat s3://b/k", endpoint="e") == "ok"
    assert clock.slept[:5] == [1.0, 2.0, 4.0, 8.0, 15.0]  # doubling, then the cap
    assert max(clock.slept) == 15.0 and clock.now - 1000.0 >= 50.0


def test_beyond_the_window_the_last_failure_is_raised_and_no_attempt_comes_after_it() -> None:
    clock = Clock()
    op, calls = flaky(clock, down_for=1e9, cost=0.5)
    with pytest.raises(Down):
        policy(clock, window=20.0).run(op, transient=lambda e: True, what="stat", endpoint="e")
    first_failure = calls[0] + 0.5  # each try costs 0.5 s; the window counts from the first failure
    assert calls[-1] - first_failure == 20.0  # the last attempt at the window's end, never after it
    assert len(calls) == 6 and clock.slept == [1.0, 2.0, 4.0, 8.0, 3.0]


def test_a_failure_that_is_not_transient_is_raised_at_once() -> None:
    clock = Clock()
    op, calls = flaky(clock, down_for=1e9)
    with pytest.raises(Down):
        policy(clock).run(op, transient=lambda e: False, what="stat", endpoint="e")
    assert calls == [1000.0] and clock.slept == []


def test_a_zero_window_leaves_one_attempt() -> None:
    clock = Clock()
    op, calls = flaky(clock, down_for=1e9)
    with pytest.raises(Down):
        policy(clock, window=0).run(op, transient=lambda e: True, what="stat", endpoint="e")
    assert len(calls) == 1


def test_jitter_spreads_the_waits_within_half_and_one_and_a_half_times() -> None:
    assert OutagePolicy(jitter=lambda: 0.0).delay(3, 0.0) == 4.0
    assert OutagePolicy(jitter=lambda: 0.999).delay(3, 0.0) == pytest.approx(8.0 * 1.499)
    assert OutagePolicy(window_s=10, jitter=lambda: 0.5).delay(5, 9.5) == 0.5  # never past the window
    assert OutagePolicy(window_s=10).delay(0, 10.0) is None


def test_the_window_is_one_kfp_setting_with_a_restart_long_default() -> None:
    assert KfpSettings().store_outage_window_s() == DEFAULT_WINDOW_S == 60.0
    assert KfpSettings(store_outage_window="5m").store_outage_window_s() == 300.0
    assert KfpSettings(store_outage_window="0").store_outage_window_s() == 0.0
    with pytest.raises(ValueError, match=r"\[kfp\] store_outage_window: 'soon' is not a duration"):
        KfpSettings().with_overrides(store_outage_window="soon")
