"""The pipeline docs/architecture.md follows, file by file: one parameter (epochs), one artifact (data)."""

from airflow_kfp import dsl, to_dag
from airflow_kfp.dsl import Dataset, Input, Model, Output


# retrain:begin
@dsl.component
def prepare(rows: int, data: Output[Dataset]):
    with open(data.path, "w") as f:
        f.writelines(f"{i}\n" for i in range(rows))


@dsl.component(base_image="python:3.11")
def train(data: Input[Dataset], epochs: int, model: Output[Model]) -> float:
    rows = len(open(data.path).read().splitlines())
    with open(model.path, "w") as f:
        f.write(f"{rows} rows, {epochs} epochs")
    return 1.0 / epochs


@dsl.pipeline(name="retrain")
def retrain(epochs: int = 5):
    prepared = prepare(rows=1000)
    train(data=prepared.outputs["data"], epochs=epochs)


dag = to_dag(retrain, schedule="@weekly")
# retrain:end
