"""What the compiler hands Airflow where Airflow versions differ (3.1 to 3.3)."""

from __future__ import annotations

import pytest


def test_the_backoff_factor_is_what_this_airflow_takes() -> None:
    """Airflow 3.3 takes the factor; 3.1 and 3.2 a flag (always doubling), with a warning when KFP's
    factor is not 2, so a pipeline keeps running on the older Airflow."""
    import warnings

    from airflow_kfp.compiler import airflow_compat

    if airflow_compat.BACKOFF_IS_FACTOR:
        assert airflow_compat.exponential_backoff(3.0, "t") == 3.0
        assert airflow_compat.exponential_backoff(0, "t") == 0
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert airflow_compat.exponential_backoff(2.0, "t") is True
        assert airflow_compat.exponential_backoff(0, "t") is False
    with pytest.warns(UserWarning, match="task 't': set_retry\\(backoff_factor=3\\)"):
        assert airflow_compat.exponential_backoff(3.0, "t") is True
