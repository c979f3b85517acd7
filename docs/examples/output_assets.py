"""Output artifacts as Airflow Assets: a pipeline that publishes its model, and a DAG that waits for it."""

from airflow.sdk import DAG, Asset, task

from airflow_kfp import dsl, to_dag
from airflow_kfp.dsl import Dataset, Input, Model, Output


@dsl.component
def prepare(data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.write("1,0\n")


@dsl.component
def train(data: Input[Dataset], model: Output[Model]):
    with open(model.path, "w") as f:
        f.write(open(data.path).read())


# pipeline:begin
@dsl.pipeline(name="churn")
def churn():
    data = prepare()
    train(data=data.outputs["data"]).set_output_asset("model")  # one output
    # .set_output_asset("model", uri="s3://models/churn")        # or an asset URI of your own


dag = to_dag(churn)  # only the outputs chosen with set_output_asset
every_output = to_dag(churn, dag_id="churn-all-outputs", emit_assets=True)  # or every artifact output of every step
# pipeline:end

# consumer:begin
from airflow_kfp.lineage import output_asset_uri  # noqa: E402

with DAG("publish-model", schedule=[Asset(output_asset_uri("churn", "train", "model"))]) as publish_dag:

    @task
    def publish(**context):
        for event in context["triggering_asset_events"][Asset("kfp://churn/train/model")]:
            print("new model at", event.extra["uri"], event.extra["digest"])

    publish()
# consumer:end
