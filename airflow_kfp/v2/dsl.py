"""``kfp.v2.dsl``: ``airflow_kfp.dsl`` under KFP 1.8's v2 namespace (``from kfp.v2.dsl import ...``)."""

from airflow_kfp.dsl import *  # noqa: F403
from airflow_kfp.dsl import __all__ as __all__
