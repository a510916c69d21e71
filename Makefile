# trimtab: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,cluster]'
	@touch $(STAMP)

## demo: set up and run trimtab's main job on the bundled examples, then backtest three policies on real history
DEMO_REPORT := reports/backtest-demo.html
demo: $(STAMP)
	$(BIN)/trimtab plan --portfolio examples/portfolio.toml --policy examples/policy.toml --market examples/market.json
	@mkdir -p $(dir $(DEMO_REPORT))
	@echo "Backtesting a calendar, a fixed-band and an adaptive-band policy on the bundled daily history..."
	$(BIN)/trimtab compare --data data/market --report $(DEMO_REPORT) \
		--policy examples/backtest/calendar.toml --policy examples/backtest/fixed-band.toml \
		--policy examples/backtest/adaptive-band.toml
	@echo "Open $(CURDIR)/$(DEMO_REPORT) in a browser (it works offline)."

## test: set up, lint, type-check, check the architecture and run every test
test: $(STAMP) lint typecheck
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q tests/unit tests/property

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .trimtab-cache
