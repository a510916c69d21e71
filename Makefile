# trimtab: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck unit bench clean browser

# `make demo` installs trimtab and its runtime dependencies only; `make test` adds the extras (test tools,
# Playwright for the browser test, Ray for cluster sweeps).
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,browser,cluster]'
	@touch $(TEST_STAMP)

## demo: set up and run trimtab's main job on the bundled examples, then backtest four policies on real history
DEMO_REPORT := reports/backtest-demo.html
demo: $(STAMP)
	$(BIN)/trimtab plan --portfolio examples/portfolio.toml --policy examples/policy.toml --market examples/market.json
	@mkdir -p $(dir $(DEMO_REPORT))
	@echo "Backtesting bands from costs against calendar, fixed-band and adaptive-band policies on the bundled daily history..."
	$(BIN)/trimtab compare --data data/market --report $(DEMO_REPORT) \
		--policy examples/backtest/bands-from-costs.toml --policy examples/backtest/calendar.toml \
		--policy examples/backtest/fixed-band.toml --policy examples/backtest/adaptive-band.toml
	@echo "Open $(CURDIR)/$(DEMO_REPORT) in a browser (it works offline)."

## test: set up, lint, type-check, check the architecture and run every test
test: $(TEST_STAMP) lint typecheck browser
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

unit: $(TEST_STAMP)
	$(BIN)/python -m pytest -q tests/unit tests/property

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_core.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .trimtab-cache

## browser: Debian's headless Chromium for the dashboard's browser test (installed when root and missing)
browser:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser test will be skipped"; \
	else echo "no chromium (install Debian's 'chromium' package): the browser test will be skipped"; fi
