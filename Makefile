# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench dashboard dev lint format clean

# Create .venv from uv.lock (installs uv into the user site if it is missing). --compile-bytecode:
# uv installs sources only, and where PYTHONDONTWRITEBYTECODE is set (this image sets it) every Python
# process compiled dagster, pandas and Great Expectations again. Measured on the 2-core machine, busy:
# `import pipelines.execute` 10.2-14.6 s -> 4.0-5.3 s; `import great_expectations` 22-25 s -> 8-11 s.
$(BIN)/kpi: uv.lock pyproject.toml
	@if [ -z "$(UV)" ]; then $(PYTHON) -m pip install --quiet --user uv || $(PYTHON) -m pip install --quiet uv; fi
	@UV=$$(command -v uv || echo $$($(PYTHON) -m site --user-base)/bin/uv); \
		$$UV sync --frozen --compile-bytecode --python $(PYTHON)
	@touch $(BIN)/kpi

install: $(BIN)/kpi

demo: install
	$(BIN)/kpi demo

test: install lint
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench.run

dashboard: install
	$(BIN)/kpi dashboard --warehouse data/demo/warehouse.duckdb

# dagster dev: the UI and the daemon that launches the schedules; Dagster needs DAGSTER_HOME to exist.
dev: install
	@test -d data/demo/files || $(BIN)/kpi demo
	mkdir -p .dagster_home
	DAGSTER_HOME=$(CURDIR)/.dagster_home KPI_FILES_DIR=data/demo/files KPI_WAREHOUSE=data/demo/warehouse.duckdb \
		KPI_REPORTS_DIR=data/demo/reports $(BIN)/dagster dev

# Lint and format are checked by `make test` too; `make format` rewrites the files.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) data .dagster_home test-artifacts
