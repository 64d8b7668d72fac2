# The two commands of the README: `make demo` and `make test`. Everything they
# need (virtual environment, Python packages, Kafka jars, redis-server) is
# installed by the targets below on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
export TZ := UTC

.PHONY: install system-deps demo test test-unit test-integration test-docker faults lint bench stack-up stack-down clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

system-deps:
	bash deploy/system-deps.sh

demo: install
	$(VENV)/bin/statflow demo

# Two pytest-xdist workers, a file at a time (module fixtures stay whole), each
# with its own Kafka, Redis and stack home (tests/services.py: worker n adds
# n x 1000 to the ports). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2
test: install system-deps
	$(PY) -m pytest -q -p no:cacheprovider --durations=15 -n $(TEST_WORKERS) --dist loadfile tests

test-unit: install
	$(PY) -m pytest -q -p no:cacheprovider tests/unit

test-integration: install
	$(PY) -m pytest -q -p no:cacheprovider tests/integration

# The integration and fault suites with Kafka (KRaft), a ClickHouse server and
# Redis in containers (testcontainers) instead of the local stack and chDB, so
# the server code path runs for real. Needs a Docker engine; without one the
# provider fails with a message (tests/services.py), it never falls back.
test-docker: install
	STATFLOW_TEST_DOCKER=1 $(PY) -m pytest -q -p no:cacheprovider tests/integration tests/faults

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy --strict core schemas streams agents sinks reports statflow deploy synth reconcile web bench

bench: install
	$(PY) -m bench $(BENCH_ARGS)

# The full fault suite (a short version runs in `make test`); writes
# bench/results/faults.json.
faults: install system-deps
	STATFLOW_FAULTS_FULL=1 $(PY) -m pytest -q -p no:cacheprovider tests/faults

stack-up: install
	$(VENV)/bin/statflow stack up

stack-down: install
	$(VENV)/bin/statflow stack down

clean:
	rm -rf $(VENV) build .pytest_cache
