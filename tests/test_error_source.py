"""Issue 11 item 9: a failing Python component's error names the user's file and line, whatever it printed."""

from __future__ import annotations

from pathlib import Path

import pytest

import tests.pipelines.errors as errors_module

SOURCE = Path(errors_module.__file__).resolve()


def line_of(marker: str) -> int:
    return next(i for i, text in enumerate(SOURCE.read_text().splitlines(), 1) if f"# {marker}" in text)


@pytest.fixture
def failures(monkeypatch):
    """Each failed task's ComponentFailedError message (the task's failure, as Airflow records it)."""
    from airflow_kfp.errors import ComponentFailedError
    from airflow_kfp.runners.local.runner import LocalRunner

    seen: dict[str, str] = {}
    real = LocalRunner._run_launcher

    def recording(self, *args, **kwargs):
        try:
            return real(self, *args, **kwargs)
        except ComponentFailedError as exc:
            seen[self.task_spec.name] = str(exc)
            raise

    monkeypatch.setattr(LocalRunner, "_run_launcher", recording)
    return seen


def test_failure_names_the_users_file_and_line_after_5000_lines(dag_runner, failures):
    result = dag_runner.run_pipeline("tests.pipelines.errors:noisy_errors")
    assert result.state == "failed"
    assert result.states == {"noisy-failure": "failed", "helper-failure": "failed"}

    message = failures["noisy-failure"]
    assert message.startswith(
        "pipeline 'noisy-errors', task 'noisy-failure': component 'noisy-failure' exited with code 1."
    )
    assert "component 'noisy-failure' raised ValueError" in message
    assert f'File "{SOURCE}", line {line_of("CALL-CHECK")}, in noisy_failure' in message
    assert f'File "{SOURCE}", line {line_of("NESTED-RAISE")}, in check' in message
    assert 'raise ValueError(f"bad rows: {rows} is too many")' in message  # the source line is shown
    assert "ValueError: bad rows: 5000 is too many" in message
    assert "launcher.py" not in message and "executor.py" not in message and "ephemeral_component" not in message
    # the 40-line tail is kept too, before the traceback; the user's exception is the message's last
    # line, where Airflow's log view scrolls to (issue 24)
    head, rest = message.split("Last 40 lines of its output before the error:\n")
    tail, traceback_part = rest.split("The component's error (its own frames first):\n")
    assert "ValueError: bad rows" in traceback_part and "progress line" not in traceback_part
    assert tail.splitlines() == [f"progress line {i}" for i in range(4960, 5000)]
    assert message.rstrip().splitlines()[-1] == "ValueError: bad rows: 5000 is too many"

    message = failures["helper-failure"]
    assert f'File "{SOURCE}", line {line_of("HELPER-RAISE")}, in validate_rows' in message
    assert f'File "{SOURCE}", line {line_of("CALL-HELPER")}, in helper_failure' in message
    assert "RuntimeError: helper refused 500 rows" in message and "KeyError: 'wrapped'" in message
    assert "The above exception was the direct cause" in message
    assert "Last 0 lines" not in message  # it printed nothing: no empty tail section
