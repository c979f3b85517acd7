# Two entry points a fresh machine needs: `make example` and `make test` (what CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
EXAMPLE_HOME ?= $(CURDIR)/.airflow_home

export AIRFLOW__CORE__LOAD_EXAMPLES = False
# Some machines forbid .pyc files; then every Airflow subprocess recompiles Airflow from source.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: venv example test lint typecheck unit suite bench clean compat-refresh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

venv: $(BIN)/python
	$(UV) pip install --quiet --python $(BIN)/python -e ".[test,lint,examples]"

# Run the example pipeline end to end on this machine: Airflow on SQLite, components as subprocesses.
example: venv
	AIRFLOW_HOME=$(EXAMPLE_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags_examples $(BIN)/airflow db migrate > /dev/null
	AIRFLOW_HOME=$(EXAMPLE_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags_examples $(BIN)/airflow dags test weekly-retrain > $(EXAMPLE_HOME)/last-example-run.log 2>&1 \
		|| (tail -n 60 $(EXAMPLE_HOME)/last-example-run.log; echo "example run failed; full log: $(EXAMPLE_HOME)/last-example-run.log"; exit 1)
	@AIRFLOW_HOME=$(EXAMPLE_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags_examples $(BIN)/python -m airflow_kfp.runs weekly-retrain
	@echo "\nArtifacts are under $(EXAMPLE_HOME)/kfp/artifacts; the run's log: $(EXAMPLE_HOME)/last-example-run.log"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy airflow_kfp

# Fast tests of the pure parts (tests/unit: plan, bindings, resolver, placeholders...): seconds.
unit: venv
	$(BIN)/pytest -q -n 2 --dist loadgroup -m "not integration"

# Every test, unit and integration (real DAG runs), on two xdist workers (CI has two cores).
suite: venv
	$(BIN)/pytest -q -n 2 --dist loadgroup

# The whole suite: lint, types, tests. CI runs exactly this.
test: lint typecheck suite

# Recompile the compatibility suite's pipelines with the real kfp SDK (in its own venv) and record what
# kfp.local produces for them: tests/compat/fixtures. Needs PyPI the first time.
compat-refresh: venv
	$(BIN)/python -m tests.compat.refresh

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(EXAMPLE_HOME) build dist *.egg-info
