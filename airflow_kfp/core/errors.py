"""The root of every airflow-kfp error, in the stdlib-only runtime so the launcher's own errors share it.

``airflow_kfp.errors`` re-exports it with the rest of the family; catch ``AirflowKfpError`` to handle
anything this package raises on purpose (bad pipelines, bad inputs, failed components, store faults).
"""

from __future__ import annotations


class AirflowKfpError(Exception):
    """Base of every error airflow-kfp raises on purpose; the message says where and what to change."""
