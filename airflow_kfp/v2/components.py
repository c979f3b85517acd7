"""``kfp.v2.components``: ``airflow_kfp.components`` under KFP 1.8's v2 namespace."""

from airflow_kfp.components import *  # noqa: F403
from airflow_kfp.components import __all__ as __all__
