"""``python -m airflow_kfp.runs DAG_ID``: where a run's outputs and metrics are.

Reads the output manifests that the run's tasks published to XCom, so it shows exactly what
downstream tasks and the cache see.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def _latest_run_id(dag_id: str, session: Any) -> str | None:
    from airflow.models.dagrun import DagRun
    from sqlalchemy import select

    query = select(DagRun.run_id).where(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).limit(1)
    return session.scalar(query)


def run_outputs(dag_id: str, run_id: str | None = None) -> tuple[str, list[tuple[str, int, dict[str, Any]]]]:
    """The run id and, per task instance, its output manifest."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        run_id = run_id or _latest_run_id(dag_id, session)
        if run_id is None:
            raise SystemExit(f"DAG '{dag_id}' has no runs yet; run it first (airflow dags test {dag_id}).")
        rows: list[Any] = list(
            session.scalars(XComModel.get_many(run_id=run_id, dag_ids=dag_id, key="return_value")).all()
        )
        found = []
        for row in rows:
            value = XComModel.deserialize_value(row)
            if isinstance(value, str):
                value = json.loads(value)
            if isinstance(value, dict) and "artifacts" in value:
                found.append((row.task_id, row.map_index, value))
    return run_id, sorted(found, key=lambda r: (r[0], r[1]))


def format_outputs(dag_id: str, run_id: str, outputs: list[tuple[str, int, dict[str, Any]]]) -> str:
    lines = [f"Outputs of DAG '{dag_id}', run '{run_id}':"]
    for task_id, map_index, manifest in outputs:
        label = task_id if map_index < 0 else f"{task_id}[{map_index}]"
        cache = manifest.get("cache") or {}
        note = ""
        if cache.get("hit"):
            note = (
                f"  (cache hit from run {cache.get('source_run_id')})"
                if cache.get("source_run_id")
                else f"  (cache hit, copied from cache scope '{cache.get('scope')}')"
            )
        lines.append(f"\n{label}{note}")
        for name, value in (manifest.get("parameters") or {}).items():
            lines.append(f"  {name} = {json.dumps(value)}")
        for name, record in (manifest.get("artifacts") or {}).items():
            lines.append(f"  {name} [{record.get('type')}] {record.get('uri')} ({record.get('size')} bytes)")
            if record.get("type") in ("system.Metrics",) and record.get("metadata"):
                for metric, value in sorted(record["metadata"].items()):
                    lines.append(f"      {metric}: {value}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_kfp.runs", description=__doc__)
    parser.add_argument("dag_id")
    parser.add_argument("--run-id", default=None, help="defaults to the latest run")
    parser.add_argument("--json", action="store_true", help="print the manifests as JSON")
    args = parser.parse_args(argv)
    run_id, outputs = run_outputs(args.dag_id, args.run_id)
    if args.json:
        print(json.dumps({f"{t}" if m < 0 else f"{t}[{m}]": v for t, m, v in outputs}, indent=2))
    else:
        print(format_outputs(args.dag_id, run_id, outputs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
