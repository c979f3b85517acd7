"""The benchmark record: docs/benchmarks.md's figures table is the one bench/figures.json generates, and the
verdicts in it follow from each figure's repetitions (no timing is asserted here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import record, report
from bench._common import Figure

REPO = Path(__file__).resolve().parent.parent


def test_docs_page_table_is_generated_from_figures_json() -> None:
    data = record.load(record.FIGURES_JSON)
    page = report.DOCS.read_text()
    wanted = report.splice(page, report.render(data))
    assert wanted == page, "run `python -m bench.report` and commit docs/benchmarks.md"


def test_a_difference_figure_is_seconds_beyond_its_baseline() -> None:
    fig = Figure(key="overhead", title="t", target=0.2, numerator="a", denominator="b", difference=True)
    fig.num_runs, fig.den_runs = [1.1, 0.6, 0.5], [0.4, 0.45, 0.4]
    assert fig.ratios == pytest.approx([0.7, 0.15, 0.1])
    assert fig.verdict == "median"
    assert "≤ +0.2 s" in report.render({"figures": [fig.to_json()], "runs": []})


def test_figures_json_keeps_every_repetition_and_the_machine() -> None:
    data = record.load(record.FIGURES_JSON)
    assert data["runs"], "no run recorded"
    for run in data["runs"]:
        assert {"date", "command", "machine", "uptime_start", "uptime_end"} <= set(run)
        assert {"nproc", "python", "versions", "commit"} <= set(run["machine"])
    keys = {row["key"] for row in data["figures"]}
    required = {
        "e2e_vs_airflow",
        "cache_hit_vs_noop_task",
        "realistic_cached_vs_cold",
        "artifact_upload",
        "artifact_download",
        "compile_2000_vs_200",
        "parallel_for_vs_mapped",
        "parse_vs_kpo",
    }
    assert required <= keys, f"figures missing from the record: {sorted(required - keys)}"
    for row in data["figures"]:
        figure = Figure.from_json(row)
        if figure.error:
            continue
        # a 1,000-item fan-out run takes minutes per side: fewer repetitions are recorded for it
        least = 1 if row["key"] in ("parallel_for_vs_mapped", "localexecutor_fanout_vs_mapped") else 3
        assert figure.reps >= least and len(figure.num_runs) == len(figure.den_runs), row["key"]
        assert row["spread"] == figure.spread() and row["holds"] == figure.holds(), row["key"]


def test_verdict_needs_the_target_at_the_worst_repetition() -> None:
    fig = Figure(key="k", title="t", target=1.0, numerator="a", denominator="b")
    fig.num_runs, fig.den_runs = [0.9, 0.8, 1.2], [1.0, 1.0, 1.0]
    assert fig.spread() == {"min": 0.8, "median": 0.9, "max": pytest.approx(1.2)}
    assert fig.holds() == {"median": True, "worst": False}
    assert fig.verdict == "median"
    fig.num_runs = [0.9, 0.8, 0.95]
    assert fig.verdict == "pass"
    fig.num_runs = [1.1, 1.2, 0.5]
    assert fig.verdict == "MISS"


def test_memory_limit_is_part_of_the_verdict() -> None:
    fig = Figure(
        key="artifact_upload",
        title="t",
        target=1.05,
        numerator="store",
        denominator="boto3",
        num_runs=[1.0, 1.0, 1.0],
        den_runs=[1.0, 1.0, 1.0],
        peak_mib={"store": 300.0, "boto3": 90.0},
        memory_limit_mib=256,
    )
    assert fig.holds() == {"median": False, "worst": False}
    fig.peak_mib["store"] = 200.0
    assert fig.verdict == "pass"


def test_merge_replaces_only_the_figures_measured(tmp_path: Path) -> None:
    run1 = {"date": "d1", "command": "python -m bench", "uptime_start": "u1"}
    run2 = {"date": "d2", "command": "python -m bench --only compile", "uptime_start": "u2"}
    a = Figure(key="parse_vs_kpo", title="p", target=1.0, num_runs=[1.0] * 3, den_runs=[1.0] * 3)
    b = Figure(key="compile_2000_vs_200", title="c", target=10.5, num_runs=[10.0] * 3, den_runs=[1.0] * 3)
    first = record.merge(None, run1, [a, b], replace_all=True)
    b2 = Figure(key="compile_2000_vs_200", title="c", target=10.5, num_runs=[9.0] * 3, den_runs=[1.0] * 3)
    second = record.merge(first, run2, [b2], replace_all=False)
    rows = {row["key"]: row for row in second["figures"]}
    assert rows["parse_vs_kpo"]["measured"]["date"] == "d1"
    assert rows["compile_2000_vs_200"]["measured"]["date"] == "d2"
    assert rows["compile_2000_vs_200"]["spread"]["median"] == 9.0
    assert [r["date"] for r in second["runs"]] == ["d1", "d2"]
    path = tmp_path / "figures.json"
    record.save(second, path)
    assert json.loads(path.read_text())["figures"] == second["figures"]


def test_splice_refuses_a_readme_without_markers() -> None:
    with pytest.raises(ValueError, match="bench:figures:begin"):
        report.splice("# no markers\n", "table")
    text = f"intro\n{report.BEGIN}\nold\n{report.END}\noutro\n"
    assert report.splice(text, "new") == f"intro\n{report.BEGIN}\nnew\n{report.END}\noutro\n"
