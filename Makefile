# The two commands: `make run` and `make test`. Everything else is for developers and CI.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
PYTEST_ARGS ?= -n 2
export DEMO ?= 1

.PHONY: run test lint format check setup install install-dev messages messages-update migrate demo bench backup restore clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Reinstall only when the pins change.
$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

messages: install
	cd . && DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v 0

migrate: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --no-input -v 0

demo: migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py load_demo

setup: messages migrate
	@if [ "$(DEMO)" = "1" ]; then DEBUG=$${DEBUG:-1} $(PY) manage.py load_demo; fi

# Web server and task worker together; Ctrl-C (or either one dying) stops both.
run: setup
	@echo "МУКО: http://127.0.0.1:$(PORT)/  (Ctrl-C — остановить)"
	@export DEBUG=$${DEBUG:-1}; \
	trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py run_worker --interval 1 & \
	$(PY) manage.py runserver 127.0.0.1:$(PORT) --noreload & \
	wait -n

# The suite in parallel, then the load and fault tests alone (they restart PostgreSQL; only run on PostgreSQL).
test: install-dev messages
	DEBUG=1 TESTING=1 DEMO=0 $(PY) -m pytest $(PYTEST_ARGS) -m "not load"
	@if [[ "$${DATABASE_URL:-}" == postgres* ]]; then \
	  echo "DEBUG=1 TESTING=1 DEMO=0 $(PY) -m pytest -m load -p no:xdist"; \
	  DEBUG=1 TESTING=1 DEMO=0 $(PY) -m pytest -m load -p no:xdist; \
	else echo "load and fault tests: skipped (they need DATABASE_URL=postgres://…)"; fi

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check: install
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	DEBUG=1 $(PY) manage.py check

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

messages-update: install
	DEBUG=1 $(PY) manage.py update_locales

bench: install-dev
	PYTHON=$(PY) bash bench/run.sh

# The database (pg_dump, or SQLite's backup API) and the uploaded files into backups/muko-<time>/.
backup: install
	DEBUG=$${DEBUG:-1} $(PY) manage.py backup --dir $${BACKUP_DIR:-backups}

# make restore FROM=backups/muko-20261124-031500 — replaces the current data, then checks every table's rows.
restore: install
	@test -n "$(FROM)" || { echo "Укажите копию: make restore FROM=backups/muko-…"; exit 2; }
	DEBUG=$${DEBUG:-1} $(PY) manage.py restore "$(FROM)"
