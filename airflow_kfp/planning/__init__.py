"""The planning stage: a pipeline model becomes a frozen plan of every Airflow task and group, as plain
data, without importing Airflow (``planner.plan_pipeline``); the model rewrites applied before it."""
