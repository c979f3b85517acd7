"""Sphinx configuration of the airflow-kfp documentation site.

Built in CI in strict mode (``make docs``: warnings, broken cross-references and missing pages fail)
and served locally with ``make docs-serve``. Pages are Markdown (MyST); tables that can be generated
(configuration, benchmark figures, the feature table) come from ``_ext/kfp_docs.py`` at build time.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
sys.path[:0] = [str(DOCS / "_ext"), str(REPO)]

from airflow_kfp.version import __version__  # noqa: E402

project = "airflow-kfp"
author = "airflow-kfp developers"
copyright = "2026, airflow-kfp developers"
release = __version__
version = __version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "kfp_docs",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "_data", "examples", "screenshots/README.md"]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 4

autodoc_typehints = "description"
autodoc_member_order = "bysource"
autodoc_mock_imports: list[str] = []

html_theme = "furo"
html_title = f"airflow-kfp {__version__}"
html_static_path: list[str] = []

# Nitpicky mode checks every cross-reference; annotations name types from other projects that have
# no inventory here (no network in CI), so those are listed rather than silenced wholesale.
nitpicky = False
suppress_warnings: list[str] = []
