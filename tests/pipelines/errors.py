"""Components that fail after printing a lot: their errors must name this file and its lines."""

from __future__ import annotations

from airflow_kfp import dsl


def validate_rows(rows: int) -> None:
    if rows > 100:
        raise RuntimeError(f"helper refused {rows} rows")  # HELPER-RAISE


@dsl.component
def noisy_failure(n: int = 5000) -> None:
    def check(rows: int) -> None:
        raise ValueError(f"bad rows: {rows} is too many")  # NESTED-RAISE

    for i in range(n):
        print(f"progress line {i}")
    check(n)  # CALL-CHECK


@dsl.component(additional_funcs=[validate_rows])
def helper_failure(n: int = 500) -> None:
    try:
        validate_rows(n)  # CALL-HELPER
    except RuntimeError as exc:
        raise KeyError("wrapped") from exc


@dsl.pipeline(name="noisy-errors")
def noisy_errors(n: int = 5000):
    noisy_failure(n=n)
    helper_failure()
