# The README's commands. `make run` serves the demo; `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint types unit e2e messages bench load year faults audit

run:
	scripts/bootstrap.sh run
	$(PY) -m app serve --demo

test:
	scripts/bootstrap.sh test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	# Known vulnerabilities in the Python and front-end packages (audit-accept.toml accepts one);
	# where no advisory data can be reached it says "NOT AUDITED" and goes on (`make audit` fails).
	$(PY) scripts/audit.py --offline-ok
	# Integration tests on both cores (each test has its own databases, folders and ports);
	# the browser tests after them, also on both cores: each worker starts its own live server
	# with its own demo data, and a test file stays on one worker (its tests share that server).
	# Each run lists its slowest tests at the end: the whole of `make test` has 20 minutes.
	$(VENV)/bin/pytest -n 2 --durations=25 --ignore=tests/e2e
	$(VENV)/bin/pytest -n 2 --durations=15 --dist loadfile tests/e2e

# Re-extract UI strings after changing them, then translate the new zh_CN entries.
messages:
	$(VENV)/bin/pybabel extract -F babel.cfg -k _ -o app/translations/messages.pot --no-location --sort-output .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations -D messages --no-fuzzy-matching --ignore-obsolete

bench:
	$(PY) -m bench

# Simulated tablets against a real server process at 10, 50 and 200 tablets (minutes).
load:
	$(PY) -m bench load

# A year of data (37,000 orders) on SQLite and PostgreSQL: pages' p50/p99 against the empty
# database (minutes: the year is generated on each).
year:
	$(PY) -m bench year-bench --explain

# The fault tests at length (make test runs them short): 25 kills of the server mid-upload,
# the scale-out group also with a shared photo folder,
# on both databases; 100 network cuts of 0.5-10 s during a check-in in the tablet Chromium.
faults:
	WALKAROUND_FAULTS_LONG=1 $(VENV)/bin/pytest -p no:warnings -s tests/test_server_killed.py tests/test_database_outage.py tests/test_photo_storage_faults.py tests/test_scale_out.py tests/e2e/test_network_cuts.py

# The dependency audit alone, failing also when no advisory data could be reached.
audit:
	$(PY) scripts/audit.py
