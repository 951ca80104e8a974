# The two commands the README opens with: `make demo` and `make test`.
# Each sets everything up first (scripts/setup.sh), so both work on a fresh machine.
UV_RUN := python3 -m uv run --frozen --all-extras --no-sync
PACKAGE := airflow_provider_parity

.PHONY: setup demo test test-approval test-unit test-integration test-deploy prodlike lint typecheck bench rules

setup:
	@bash scripts/setup.sh

demo: setup
	$(UV_RUN) python scripts/demo.py $(if $(SERVE),--serve)

# The contracts' SLO alerts as the Prometheus rule file the Helm chart ships (PrometheusRule).
rules:
	$(UV_RUN) parity slo rules contracts/*.yaml --out helm/parity/files/prometheus-rules.yaml

# Everything CI runs: lint, types, then every test (unit and integration).
test: setup lint typecheck
	$(UV_RUN) pytest tests -q -m "not approval_stack"

# The production-like stack's approval path through the REST API (see its comment for why it is apart).
test-approval: setup
	$(UV_RUN) pytest tests -q -m approval_stack

test-unit: setup
	$(UV_RUN) pytest tests -q -m "not integration"

test-integration: setup
	$(UV_RUN) pytest tests -q -m integration

# The production-like stack (PostgreSQL, mlflow server, Airflow's services) driven through the REST API.
test-deploy: setup
	$(UV_RUN) pytest tests -q -m deploy

# The same stack by hand: start it, run one clean day, print the URLs; Ctrl-C stops everything.
prodlike: setup
	$(UV_RUN) python scripts/prodlike.py --clean-day

lint: setup
	$(UV_RUN) ruff check $(PACKAGE) dags tests benchmarks scripts

typecheck: setup
	$(UV_RUN) mypy

bench: setup
	$(UV_RUN) python benchmarks/bench_validate.py
	$(UV_RUN) python benchmarks/bench_validate_engines.py
	$(UV_RUN) python benchmarks/bench_validate_scale.py
