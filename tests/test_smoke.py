def test_basic_runs(dag_runner):
    result = dag_runner.run_pipeline("tests.pipelines.basic:basic")
    assert result.state == "success", result.states
