"""``to_dag`` registers nothing by side effect (issue 11.2): a DAG exists where the user assigns it.

Two DAG files in one folder, parsed by Airflow's own DagBag: ``producer.py`` defines a pipeline and
assigns ``to_dag(...)``; ``consumer.py`` imports that module (as the README's ``to_task_group``
pattern does) and builds its own DAG. Each DAG must belong to its own file only.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

PRODUCER = """
import datetime
from airflow_kfp import dsl, to_dag

@dsl.component
def add(a: float, b: float) -> float:
    return a + b

@dsl.pipeline(name="shared-pipeline")
def shared(x: float = 1.0):
    add(a=x, b=2.0)

dag = to_dag(shared, dag_id="producer-dag", start_date=datetime.datetime(2024, 1, 1))
"""

CONSUMER = """
import datetime
from airflow.sdk import DAG
from airflow_kfp import to_dag, to_task_group
import kfp_reg_producer

region_dag = to_dag(kfp_reg_producer.shared, dag_id="consumer-dag", start_date=datetime.datetime(2024, 1, 1))
to_dag(kfp_reg_producer.shared, dag_id="never-assigned", start_date=datetime.datetime(2024, 1, 1))

with DAG("team-dag", start_date=datetime.datetime(2024, 1, 1), schedule=None) as team:
    to_task_group(kfp_reg_producer.shared, group_id="scoring")
"""


def test_each_dag_belongs_to_the_file_that_assigns_it(airflow_db: Path, tmp_path: Path, monkeypatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    folder = tmp_path / "dags"
    folder.mkdir()
    (folder / "kfp_reg_producer.py").write_text(textwrap.dedent(PRODUCER))
    (folder / "kfp_reg_consumer.py").write_text(textwrap.dedent(CONSUMER))
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delitem(sys.modules, "kfp_reg_producer", raising=False)
    bag = DagBag(dag_folder=str(folder))
    assert not bag.import_errors, bag.import_errors
    files = {dag_id: Path(dag.fileloc).name for dag_id, dag in bag.dags.items()}
    assert files == {
        "producer-dag": "kfp_reg_producer.py",
        "consumer-dag": "kfp_reg_consumer.py",
        "team-dag": "kfp_reg_consumer.py",
    }
    assert "scoring.add" in bag.dags["team-dag"].task_ids
