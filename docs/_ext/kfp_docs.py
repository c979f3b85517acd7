"""Directives that render the documentation's generated tables from their single sources.

- ``kfp-config-table``: the ``[kfp]`` options, from :class:`airflow_kfp.config.KfpSettings`.
- ``kfp-bench-table``: the benchmark figures, from ``bench/figures.json`` through ``bench.report``.
- ``kfp-feature-table``: KFP features and how each is covered, from ``docs/_data/features.json`` and
  the compatibility suite's fixtures (a row naming a fixture that does not exist fails the build).
- ``kfp-scan-table``: the compatibility scan's figures, from ``docs/_data/compat_scan.json``.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective

DOCS = Path(__file__).resolve().parent.parent
REPO = DOCS.parent
COMPAT = REPO / "tests" / "compat"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def config_rows() -> list[list[str]]:
    from airflow_kfp.config import KfpSettings

    rows = []
    for f in fields(KfpSettings):
        default = f.default
        shown = "(empty)" if default == "" else f"`{default}`"
        example = f.metadata.get("example")
        rows.append(
            [
                f"`{f.name}`",
                shown,
                f.metadata["description"] + (f" Example: `{example}`." if example else ""),
            ]
        )
    return rows


def feature_rows() -> list[list[str]]:
    data = json.loads((DOCS / "_data" / "features.json").read_text())
    pipelines = COMPAT / "pipelines"
    fixtures = COMPAT / "fixtures"
    rows = []
    for row in data["features"]:
        covered = row.get("compat", [])
        for name in covered:
            if not (pipelines / f"{name}.py").exists():
                raise ExtensionError(
                    f"features.json: {row['feature']!r} names compat pipeline {name!r}, which does not exist"
                )
        source = row.get("source") or ("✓" if covered else "")
        yaml_cell = row.get("yaml")
        if yaml_cell is None:
            with_yaml = [n for n in covered if (fixtures / f"{n}.yaml").exists()]
            yaml_cell = "✓" if with_yaml else ""
        for test in row.get("tests", []):
            if not (REPO / test).exists():
                raise ExtensionError(
                    f"features.json: {row['feature']!r} names test file {test!r}, which does not exist"
                )
        tests = ", ".join([f"compat `{n}`" for n in covered] + [f"`{t}`" for t in row.get("tests", [])])
        rows.append([row["feature"], source, yaml_cell, row.get("notes", ""), tests])
    return rows


def scan_rows() -> tuple[list[str], list[list[str]]]:
    data = json.loads((DOCS / "_data" / "compat_scan.json").read_text())
    header = ["", *data["columns"]]
    return header, [[r["what"], *r["values"]] for r in data["rows"]]


class MarkdownTable(SphinxDirective):
    """Base: build a Markdown table and let MyST parse it in place."""

    has_content = False

    def table(self) -> list[str]:
        raise NotImplementedError

    def run(self) -> list[nodes.Node]:
        # Inside a MyST page, nested parsing reads the text as Markdown.
        return self.parse_text_to_nodes("\n".join(self.table()))


class ConfigTable(MarkdownTable):
    def table(self) -> list[str]:
        self.env.note_dependency(str(REPO / "airflow_kfp" / "config.py"))
        return markdown_table(["option", "default", "meaning"], config_rows())


class FeatureTable(MarkdownTable):
    def table(self) -> list[str]:
        self.env.note_dependency(str(DOCS / "_data" / "features.json"))
        return markdown_table(["KFP v2", "Source", "YAML", "Notes", "Covered by"], feature_rows())


class ScanTable(MarkdownTable):
    def table(self) -> list[str]:
        self.env.note_dependency(str(DOCS / "_data" / "compat_scan.json"))
        header, rows = scan_rows()
        return markdown_table(header, rows)


class BenchTable(MarkdownTable):
    def table(self) -> list[str]:
        from bench import record, report

        self.env.note_dependency(str(record.FIGURES_JSON))
        return report.render(record.load(record.FIGURES_JSON)).splitlines()


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("kfp-config-table", ConfigTable)
    app.add_directive("kfp-feature-table", FeatureTable)
    app.add_directive("kfp-scan-table", ScanTable)
    app.add_directive("kfp-bench-table", BenchTable)
    return {"parallel_read_safe": True, "version": "1"}
