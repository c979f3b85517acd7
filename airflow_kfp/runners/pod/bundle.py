"""The stdlib runtime as a small zip, shipped to pods in an environment variable.

Images need no airflow_kfp installed: the pod's bootstrap writes the zip to its work volume and
imports from it (zipimport). Built once per process, deterministic (fixed timestamps), so identical
code gives an identical pod spec.
"""

from __future__ import annotations

import base64
import functools
import io
import zipfile
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[2]


def runtime_files() -> list[Path]:
    return [
        PACKAGE_DIR / "__init__.py",
        PACKAGE_DIR / "version.py",
        *sorted((PACKAGE_DIR / "core").glob("*.py")),
        *sorted((PACKAGE_DIR / "runtime").glob("*.py")),
    ]


@functools.lru_cache(maxsize=1)
def runtime_zip_b64() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for path in runtime_files():
            info = zipfile.ZipInfo(f"airflow_kfp/{path.relative_to(PACKAGE_DIR).as_posix()}", (1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    return base64.b64encode(buffer.getvalue()).decode()
