# codev — two commands: `make run` (set up and serve the demo) and `make test` (set up and test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app codev
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test setup dev-setup translations extract-messages update-messages migrate demo lint system-deps clean \
	bench-letters bench

# A laptop's mode, said explicitly: the app's default is production, which needs a real CODEV_SECRET_KEY.
run: setup translations
	CODEV_ENV_NAME=development $(FLASK) init-instance
	CODEV_ENV_NAME=development $(FLASK) db upgrade
	CODEV_ENV_NAME=development $(FLASK) seed-demo --if-empty
	CODEV_ENV_NAME=development $(FLASK) run --host $(HOST) --port $(PORT)

# One pytest process per core (pytest-xdist), a test file at a time in each; TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= auto
test: dev-setup translations system-deps
	$(BIN)/ruff check codev tests
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

setup: $(VENV)/.installed

dev-setup: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

# Compiled catalogs (.mo) are build products, made from the .po files on every setup.
translations: setup
	$(BIN)/pybabel compile --statistics -d codev/translations -D messages

extract-messages: setup
	$(BIN)/pybabel extract -F babel.cfg --ignore-dirs=".*" -k _l -k lazy_gettext -k _ -k gettext -k ngettext:1,2 \
		--no-location --sort-output -o codev/translations/messages.pot .

update-messages: extract-messages
	$(BIN)/pybabel update -i codev/translations/messages.pot -d codev/translations --no-fuzzy-matching \
		--ignore-obsolete

# Debian packages the browser and PDF tests use (Chromium for Playwright, poppler for pdftotext).
system-deps:
	@bash scripts/system-deps.sh

migrate: setup
	CODEV_ENV_NAME=development $(FLASK) db upgrade

demo: setup
	CODEV_ENV_NAME=development $(FLASK) seed-demo

# Milliseconds per award letter through the app, against WeasyPrint alone (N=30 by default).
bench-letters: setup translations
	$(BIN)/python scripts/bench_letters.py -n $(or $(N),30)

# Issue 11: synthetic programmes of 1 000, 10 000 and 50 000 projects (BENCH_SIZES to run fewer), every page's
# p50/p95 and SQL statements, throughput under gunicorn against a minimal app, letters, exports (also on
# PostgreSQL at 10 000 when CODEV_BENCH_POSTGRES_URL is set). Writes bench/results/latest.md.
BENCH_SIZES ?= 1000 10000 50000
bench: setup translations
	@bash scripts/bench-deps.sh
	$(BIN)/python bench/run.py --sizes "$(BENCH_SIZES)"

lint: dev-setup
	$(BIN)/ruff check codev tests

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
