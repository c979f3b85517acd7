"""``python -m airflow_kfp.registry install DAGS_FOLDER``: write the registry's DAG file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DAG_FILE_NAME = "kfp_registry.py"
DAG_FILE = '''"""Pipelines uploaded to the airflow-kfp pipeline registry, as DAGs (written by
`python -m airflow_kfp.registry install`). Reads [kfp] registry_root at each parse."""

from airflow_kfp.registry import registry_dags  # the "airflow" and "dag" words let Airflow parse this file

globals().update(registry_dags())
'''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m airflow_kfp.registry")
    sub = parser.add_subparsers(dest="command", required=True)
    install = sub.add_parser("install", help="write the registry's DAG file into a DAGs folder")
    install.add_argument("dags_folder", type=Path)
    args = parser.parse_args(argv)
    target = args.dags_folder / DAG_FILE_NAME
    args.dags_folder.mkdir(parents=True, exist_ok=True)
    target.write_text(DAG_FILE)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
