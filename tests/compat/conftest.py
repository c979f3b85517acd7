"""The compatibility suite: pipelines written the KFP way, compiled by the real kfp SDK and run by
kfp.local (fixtures committed, see ``refresh.py``), run again here through real Airflow DAG runs."""
