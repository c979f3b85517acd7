"""Port a compat pipeline from KFP to airflow-kfp the way a user does: change the imports only.

``from kfp import dsl`` becomes ``from airflow_kfp import dsl`` (and ``kfp.dsl`` / ``kfp.kubernetes``
likewise); nothing else in the source changes. The ported module is written next to the temporary
folder so ``inspect.getsource`` (used for lightweight components) reads it like any module.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from tests.compat.compare import PIPELINES

_IMPORTS = [
    (re.compile(r"^from kfp import dsl\b", re.M), "from airflow_kfp import dsl"),
    (re.compile(r"^from kfp import kubernetes\b", re.M), "from airflow_kfp import kubernetes"),
    (re.compile(r"^from kfp\.dsl import\b", re.M), "from airflow_kfp.dsl import"),
    (re.compile(r"^from kfp import dsl, kubernetes\b", re.M), "from airflow_kfp import dsl, kubernetes"),
    (re.compile(r"^from kfp import components, dsl\b", re.M), "from airflow_kfp import components, dsl"),
]
PORTED = Path(tempfile.gettempdir()) / "airflow-kfp-compat-ported"


def ported_source(name: str) -> str:
    text = (PIPELINES / f"{name}.py").read_text()
    for pattern, replacement in _IMPORTS:
        text = pattern.sub(replacement, text)
    return text


def ported(name: str) -> ModuleType:
    """The pipeline module with its imports switched to airflow_kfp (imported once per process)."""
    module_name = f"airflow_kfp_compat_ported_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    PORTED.mkdir(parents=True, exist_ok=True)
    path = PORTED / f"{module_name}.py"
    text = ported_source(name)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
