# Two commands from a fresh clone: `make run` and `make test`. Python 3.11+, no Docker.
# The embedded PostgreSQL comes as wheels for CPython 3.11 and 3.12: take one of those.
# Under root the key service and the API run as system users (platform/stack/users.py),
# who must be able to run it: not a Python in a folder private to root, such as ~/.pyenv.
PYTHON_OK := import os, sys; from pathlib import Path; \
	sys.exit(not ((3, 11) <= sys.version_info[:2] <= (3, 12) and (os.geteuid() != 0 \
	or all(p.stat().st_mode & 1 for p in Path(sys.base_prefix).resolve().parents))))
PYTHON ?= $(shell for p in python3 python3.12 python3.11 /usr/bin/python3; do \
	$$p -c '$(PYTHON_OK)' 2>/dev/null && echo $$p && break; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# A venv made from a Python the check above now refuses is made again.
STALE  := $(shell test -x $(BIN)/python && ! $(BIN)/python -c '$(PYTHON_OK)' 2>/dev/null \
	&& echo stale)

.PHONY: install run test lint secret-scan bench schema clean FORCE

$(STAMP): pyproject.toml $(if $(STALE),FORCE)
	@test -n "$(PYTHON)" || { echo "Python 3.11 or 3.12 is needed (set PYTHON=...)"; \
		echo "(under root, one outside folders private to root)"; exit 1; }
	$(if $(STALE),rm -rf $(VENV))
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/audora run

test: install
	$(BIN)/pytest

lint: install secret-scan
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# A new secret in a tracked file fails (detect-secrets against .secrets.baseline, offline).
secret-scan: install
	BIN=$(BIN) .ci/secret-scan

bench: install
	$(BIN)/python bench/run.py

schema: install
	$(BIN)/audora schema export

clean:
	rm -rf $(VENV) .test-data

FORCE:
