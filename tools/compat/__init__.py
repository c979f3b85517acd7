"""Development tools of the compatibility suite (not tests): ``refresh`` recompiles its fixtures with the
real kfp SDK (``make compat-refresh``), ``scan`` runs KFP's own pipelines through airflow-kfp."""
