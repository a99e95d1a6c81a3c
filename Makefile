# Two commands matter: `make demo` (set up everything, run the main job on the
# bundled sample) and `make test`. Everything else is a step they use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
DEMO_HOME ?= $(CURDIR)/demo_home
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PYTHONWARNINGS := ignore

.PHONY: setup model demo test bench clean-demo

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

# The default model: trained on the bundled corpus when models/CURRENT is absent.
model: setup
	@test -f models/CURRENT || $(BIN)/complaints train

# The main job on the bundled sample, in its own COMPLAINTS_HOME (tracked files untouched):
# ingest data/sample/inbox -> score -> root-cause report.
demo: model
	$(BIN)/python -m flows.demo --home $(DEMO_HOME)

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m benchmarks.accuracy --train ../shared/data/real/train.parquet --eval ../shared/data/real/dev.parquet
	$(BIN)/python -m benchmarks.speed

clean-demo:
	rm -rf $(DEMO_HOME)
