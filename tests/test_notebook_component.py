"""``dsl.notebook_component`` definitions and ``dsl.run_notebook``'s errors (the runs, from Python
source and from kfp-compiled YAML, are the compat pipeline tests/compat/pipelines/notebook_component.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from airflow_kfp import dsl
from airflow_kfp.errors import PipelineDefinitionError
from airflow_kfp.runtime.notebook import NOTEBOOK_PACKAGES, NotebookError, notebook_runner, parameters_cell

NOTEBOOKS = Path(__file__).parent / "compat" / "pipelines" / "notebooks"


def test_the_notebook_is_embedded_and_kfps_packages_are_the_default() -> None:
    @dsl.notebook_component(notebook_path=str(NOTEBOOKS))
    def explore(rows: int) -> None:
        dsl.run_notebook(rows=rows)

    impl = explore.component_spec.implementation
    assert impl.packages_to_install == NOTEBOOK_PACKAGES
    assert "__KFP_NOTEBOOK_REL_PATH = 'greet.ipynb'" in impl.source and "__KFP_EMBEDDED_ARCHIVE_B64" in impl.source
    assert [i.name for i in explore.component_spec.inputs] == ["rows"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "missing.ipynb", "does not exist; give the .ipynb file or a folder holding one"),
        (lambda tmp: (tmp / "nb.py", (tmp / "nb.py").write_text(""))[0], "is not a .ipynb file"),
        (lambda tmp: tmp, "holds 0 notebooks"),
    ],
)
def test_a_bad_notebook_path_names_the_component(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(PipelineDefinitionError, match="component 'explore': notebook_path") as err:

        @dsl.notebook_component(notebook_path=str(path), packages_to_install=[])
        def explore() -> None: ...

    assert message in str(err.value)


def test_parameters_go_after_the_parameters_cell_as_papermill_does() -> None:
    import nbformat

    nb = nbformat.read(NOTEBOOKS / "greet.ipynb", as_version=4)
    parameters_cell(nb, {"name": "kfp", "rows": [1, 2]}, nbformat.v4.new_code_cell)
    injected = nb.cells[2]
    assert "parameters" in nb.cells[1].metadata["tags"] and injected.metadata["tags"] == ["injected-parameters"]
    namespace: dict[str, object] = {}
    exec(injected.source, namespace)
    assert (namespace["name"], namespace["rows"]) == ("kfp", [1, 2])


def test_without_nbclient_the_task_fails_naming_the_component_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nbclient", None)  # as in an image without it: import fails
    with pytest.raises(NotebookError) as err:
        notebook_runner(str(NOTEBOOKS), "greet.ipynb", "explore")(name="x")
    message = str(err.value)
    assert "component 'explore'" in message and "nbclient is missing" in message
    assert "packages_to_install" in message


def test_a_failing_cell_fails_the_run_naming_the_notebook(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("raise ValueError('bad rows')")])
    nbformat.write(nb, tmp_path / "fail.ipynb")
    failed = r"(?s)component 'explore': notebook 'fail.ipynb' failed: .*ValueError: bad rows"
    with pytest.raises(NotebookError, match=failed):
        notebook_runner(str(tmp_path), "fail.ipynb", "explore")()
