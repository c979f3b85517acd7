"""What a component reports about its outputs is checked before anything is recorded or read (issue 22,
items 7 and 10), through real DAG runs on the local runner: URIs it declares for an output must lie in
the run's own output location (or outside everything this deployment reads, like KFP's oci:// model
cars), and output parameters are capped by ``[kfp] max_output_parameter_size``."""

from __future__ import annotations

import pytest


def _failure_line(out: str, fragment: str) -> str:
    return next((ln for ln in out.splitlines() if fragment in ln), "")


@pytest.mark.parametrize(
    ("where", "fragment"),
    [
        ("worker-file", "'file:///etc/passwd', a path on the machine that would read it"),
        ("plain-path", "'/etc/passwd', a path on the machine that would read it"),
        ("other-dag", "lies under the artifact root but outside this run's own output location"),
        ("dot-dot", "which has '.', '..', empty or NUL segments"),
        ("gs-dot-dot", "which has '.', '..', empty or NUL segments"),
    ],
)
def test_a_declared_uri_outside_the_runs_own_location_is_refused(dag_runner, capfd, where, fragment):
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:declared_uri", conf={"where": where})
    out = capfd.readouterr().out
    assert result.states == {"declare-uri": "failed", "read-data": "upstream_failed"}, result.states
    line = _failure_line(out, "was re-pointed by the component")
    assert "task 'declare-uri'" in line and "output artifact 'data'" in line and fragment in line, out[-3000:]
    assert "root:" not in out  # /etc/passwd was never read


def test_declared_uris_in_the_run_or_out_of_reach_are_kept_as_kfp_does(dag_runner):
    for where, expected in (("own-run", "/elsewhere"), ("model-car", "oci://registry.example/org/model:v1")):
        result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:declared_uri", conf={"where": where})
        assert result.states["declare-uri"] == "success", (where, result.states)
        record = result.manifest("declare-uri")["artifacts"]["data"]
        assert record["external"] is True and record["uri"].endswith(expected), record


def test_a_30_mib_output_parameter_never_reaches_xcom(dag_runner, capfd):
    result = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:big_parameters")
    out = capfd.readouterr().out
    assert result.states == {"big-parameter": "failed", "echo": "upstream_failed"}, result.states
    assert "big-parameter" not in result.manifests
    line = _failure_line(out, "output parameter 'Output' is 30.0 MiB")
    assert "over the 1.0 MiB (1048576 bytes) allowed by [kfp] max_output_parameter_size" in line, out[-3000:]


def test_a_parameter_file_over_the_configured_cap_is_refused_unread(dag_runner, capfd):
    result = dag_runner.run_pipeline(
        "tests.pipelines.hostile_outputs:big_parameter_files",
        conf={"mib": 0.01},
        kfp_settings={"max_output_parameter_size": "8Ki"},
    )
    out = capfd.readouterr().out
    assert result.states == {"big-parameter-file": "failed", "echo": "upstream_failed"}, result.states
    assert "output parameter 'text' is 10.2 KiB (10485 bytes), over the 8.0 KiB" in out, out[-3000:]
    small = dag_runner.run_pipeline("tests.pipelines.hostile_outputs:big_parameter_files", conf={"mib": 0.005})
    assert small.state == "success" and small.manifest("echo")["parameters"]["Output"] == 5242
