# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format install install-dev browser wrk bench migrate demo worker check-deploy clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/activate
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Debian's wrk for the benchmark (bench/run.py), installed the same way.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  echo "Installing Debian's wrk for the benchmark"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk >/dev/null; }

# The performance benchmark of issue 10 on PostgreSQL and Redis (see bench/README.md): a
# throw-away database (BENCH_DATABASE_URL), Redis database REDIS_URL (the cache) and the next one
# (the jobs' broker). BENCH_ARGS=--quick for a short run while developing.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/asi_wg_bench
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/2
bench: install-dev wrk
	BENCH_DATABASE_URL=$(BENCH_DATABASE_URL) REDIS_URL=$${REDIS_URL:-$(BENCH_REDIS_URL)} \
	  $(PY) bench/run.py $(BENCH_ARGS)

migrate: install
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

# Serves the app with demo data on the embedded default, with a Celery worker and an embedded
# beat on the filesystem broker, so scheduled jobs really run without Redis.
run: demo
	@mkdir -p var
	@echo "Serving http://$(HOST):$(PORT)/ (demo password: wg-demo-2025). Ctrl-C stops the web and the worker."
	@$(BIN)/celery -A asi_wg worker -B --pool=solo --loglevel=INFO --logfile=var/worker.log & \
	  WORKER=$$!; trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

test: install-dev browser
	@mkdir -p var
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-deploy: install
	DJANGO_ENV=production DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(64))') \
	  DJANGO_ALLOWED_HOSTS=wg.example.org EMAIL_URL=smtp://localhost:25 \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf var staticfiles .pytest_cache .mypy_cache .ruff_cache
