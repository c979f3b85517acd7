"""The documentation's code samples run: every Python sample in docs/ is included from a file of
docs/examples/, and each of those files builds its DAGs here (the tour and the compiled-YAML sample also
run end to end). The site itself is built strictly by `make docs` (CI)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
EXAMPLES = sorted(p for p in (DOCS / "examples").glob("*.py") if not p.name.startswith("_"))
PAGES = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)


def test_python_samples_are_included_from_tested_files() -> None:
    inline = [
        f"{page.relative_to(REPO)}:{text[: m.start()].count(chr(10)) + 1}"
        for page in PAGES
        for text in [page.read_text()]
        for m in re.finditer(r"^\s*```+\s*(python|py|{code-block}\s+python)\s*$", text, re.M)
    ]
    assert not inline, (
        "Python samples must live in docs/examples/*.py (run by tests/test_docs.py) and be shown with "
        f"```{{literalinclude}}: {inline}"
    )


def test_every_literalinclude_names_an_example_and_its_markers() -> None:
    for page in PAGES:
        text = page.read_text()
        for m in re.finditer(r"```\{literalinclude\} (\S+)\n((?::[^\n]*\n)*)", text):
            target = (page.parent / m.group(1)).resolve()
            assert target.exists(), f"{page.relative_to(REPO)} includes {m.group(1)}, which does not exist"
            for marker in re.findall(r':(?:start-after|end-before): "([^"]+)"', m.group(2)):
                assert marker in target.read_text(), f"{page.relative_to(REPO)}: {marker!r} not in {m.group(1)}"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_example_builds_its_dags(example: Path) -> None:
    if example.stem == "local_notebook":  # kfp.local style: runs its components at once, defines no DAG
        from airflow_kfp.local.config import LocalExecutionConfig

        try:
            namespace = runpy.run_path(str(example), run_name=f"docs_example_{example.stem}")
            assert namespace["task"].output == 10
            namespace["test_total_adds_the_rows"]()
        finally:
            LocalExecutionConfig.instance = None
        return
    namespace = runpy.run_path(str(example), run_name=f"docs_example_{example.stem}")
    if example.stem == "ui_best_run":  # runs against a real api-server in tests/ui/test_docs_sample.py
        assert callable(namespace["best_run"])
        return
    from airflow.sdk import DAG

    dags = [v for v in namespace.values() if isinstance(v, DAG)]
    assert dags, f"{example.name} defines no DAG"


def test_tour_runs_end_to_end(dag_runner) -> None:
    dag = dag_runner.load((DOCS / "examples" / "tour.py").read_text())
    result = dag_runner.run(dag, conf={"n_rows": 10})
    assert result.state == "success", result.states
    assert result.manifest("train")["parameters"]["Output"] == 0.93
    assert result.manifest("train")["artifacts"]["metrics"]["metadata"] == {"accuracy": 0.93}
    assert result.artifact_path("report", "out").read_text().strip() == "score 0.93"


def test_compiled_yaml_sample_runs_end_to_end(dag_runner) -> None:
    source = (DOCS / "examples" / "compiled_yaml.py").read_text()
    source = source.replace("HERE = Path(__file__).parent", f"HERE = Path({str(DOCS / 'examples')!r})")
    result = dag_runner.run(dag_runner.load(source))
    assert result.state == "success", result.states


def test_the_readme_example_is_the_tested_file() -> None:
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", readme, re.S | re.M)
    assert len(blocks) == 1, "the README holds one Python sample: docs/examples/readme.py"
    example = (DOCS / "examples" / "readme.py").read_text()
    region = example.split("# readme:begin\n", 1)[1].split("# readme:end", 1)[0].strip()
    assert region in blocks[0], "the README's sample must be docs/examples/readme.py's readme region"
    for line in blocks[0].splitlines():
        assert not line.startswith(("import ", "from ")) or line in example, f"{line!r} is not in the tested file"


def test_the_readme_links_resolve() -> None:
    readme = (REPO / "README.md").read_text()
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", readme):
        assert (REPO / target).exists(), f"README links to {target}, which does not exist"


def test_readme_example_runs_end_to_end(dag_runner) -> None:
    result = dag_runner.run(dag_runner.load((DOCS / "examples" / "readme.py").read_text()), conf={"rows": 20})
    assert result.state == "success", result.states
    assert result.manifest("train")["artifacts"]["metrics"]["metadata"]["accuracy"] == 0.52
