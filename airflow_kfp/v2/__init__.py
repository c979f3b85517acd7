"""``kfp.v2``: KFP 1.8's namespace for the v2 SDK, which KFP 2 keeps (deprecated) so older scripts
(``from kfp.v2 import dsl, compiler``) still import; here it is the same modules under that name."""

from airflow_kfp import compiler, components, dsl

__all__ = ["compiler", "components", "dsl"]
