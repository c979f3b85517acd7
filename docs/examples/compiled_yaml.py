"""A pipeline compiled by the kfp SDK, run unchanged."""

from datetime import datetime
from pathlib import Path

from airflow_kfp import load_pipeline, to_dag

HERE = Path(__file__).parent

# compiled-yaml:begin
dag = to_dag(load_pipeline(HERE / "hello_world.yaml"), schedule="@weekly", start_date=datetime(2024, 1, 1))
# compiled-yaml:end
