"""KFP's client on Airflow: ``kfp.Client`` → ``airflow_kfp.Client``."""

from airflow_kfp.client.client import Client, RunPipelineResult, UnsupportedArgument
from airflow_kfp.client.http import ApiException

__all__ = ["ApiException", "Client", "RunPipelineResult", "UnsupportedArgument"]
