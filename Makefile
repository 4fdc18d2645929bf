# The README's commands. `make run` serves the demo; `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint types unit e2e messages bench

run:
	scripts/bootstrap.sh run
	$(PY) -m app serve --demo

test:
	scripts/bootstrap.sh test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

# Re-extract UI strings after changing them, then translate the new zh_CN entries.
messages:
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -o app/translations/messages.pot --no-location --sort-output .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations -D messages --no-fuzzy-matching --ignore-obsolete

bench:
	$(PY) -m bench
