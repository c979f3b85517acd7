"""``kfp.v2.compiler``: ``airflow_kfp.compiler`` under KFP 1.8's v2 namespace (``from kfp.v2.compiler import ...``)."""

from airflow_kfp.compiler import *  # noqa: F403
from airflow_kfp.compiler import __all__ as __all__
