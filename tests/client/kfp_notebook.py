"""A KFP notebook's code, ported by changing its imports only (`import kfp` → `import airflow_kfp as kfp`,
`from kfp import dsl` → `from airflow_kfp import dsl`). The server and the user come from the
environment (AIRFLOW_KFP_HOST, AIRFLOW_KFP_USERNAME, AIRFLOW_KFP_PASSWORD), as a notebook's do."""

import os

import airflow_kfp as kfp
from airflow_kfp import dsl
from airflow_kfp.dsl import Dataset, Input, Metrics, Output


@dsl.component
def make_rows(n: int, rows: Output[Dataset]):
    with open(rows.path, "w") as f:
        f.write("\n".join(str(i) for i in range(n)))


@dsl.component
def score(rows: Input[Dataset], scale: float, metrics: Output[Metrics]) -> float:
    with open(rows.path) as f:
        total = sum(int(line) for line in f if line.strip())
    metrics.log_metric("total", total * scale)
    return total * scale


@dsl.pipeline(name="notebook-scoring", description="Scores rows; run from a notebook.")
def scoring(n: int = 4, scale: float = 1.0):
    made = make_rows(n=n)
    score(rows=made.outputs["rows"], scale=scale)


client = kfp.Client(host=os.environ["AIRFLOW_KFP_HOST"])
experiment = client.create_experiment("notebook-demo", description="runs started from a notebook")
result = client.create_run_from_pipeline_func(
    scoring, arguments={"n": 5, "scale": 2.0}, experiment_name="notebook-demo", run_name="first scoring"
)
run = result.wait_for_run_completion(timeout=600)
print(run.state, run.run_details.task_details if run.run_details else None)

kfp.compiler.Compiler().compile(scoring, "scoring.yaml")
pipeline = client.upload_pipeline("scoring.yaml", pipeline_name="scoring-from-notebook")
version_2 = client.upload_pipeline_version("scoring.yaml", "v2", pipeline_id=pipeline.pipeline_id)
versions = client.list_pipeline_versions(pipeline.pipeline_id)
first_version = versions.pipeline_versions[0]
old_run = client.run_pipeline(
    experiment_id=experiment.experiment_id,
    job_name="older version",
    version_id=first_version.pipeline_version_id,
    params={"n": 3},
)
old_run = client.wait_for_run_completion(old_run.run_id, timeout=600)
