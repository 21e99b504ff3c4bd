# Palmarès — every target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# the browser tests drive Debian's Chromium (Playwright's own download is never used)
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test lint bench bench-load bench-lm-eval bench-lm-eval-bias clean

# The project's own .venv is reinstalled when pyproject.toml changes; a VENV given from outside
# (make demo VENV=/elsewhere/.venv) is set up only when it has no stamp yet, never reinstalled.
$(STAMP): $(if $(filter file,$(origin VENV)),pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

## make demo: build the demo challenge (real model runs, baselines, two campaigns) and serve it
DEMO_PORT ?= 8000
DEMO_FOLDER ?= runs/demo
# real-data tasks join the demo when a local copy of the public data is found
DEMO_DATA ?= $(firstword $(PALMARES_DATA_DIR) $(wildcard ../shared/data))
demo: $(STAMP)
	$(VENV)/bin/palmares demo --folder $(DEMO_FOLDER) --port $(DEMO_PORT) $(if $(DEMO_DATA),--data-dir $(DEMO_DATA))

## make lint: ruff (style, imports) and mypy (strict on the pure core, metrics and stats)
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

$(CHROMIUM):
	$(SUDO) apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver

## make test: lint, then the whole test suite (browser tests included: installs Chromium)
test: lint $(CHROMIUM)
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(VENV)/bin/pytest -q -n 2 -p no:cacheprovider --durations=15

## make bench: performance benchmarks (ratios against a baseline, same process)
bench: $(STAMP)
	$(PY) bench/score_predictions.py

## make bench-load: 200 leaderboard readers and 20 submitters for 60 s, SQLite and PostgreSQL (#8)
bench-load: $(STAMP)
	$(PY) bench/load.py --db both

## make bench-lm-eval: Palmarès against lm-evaluation-harness on ARC-fr (sets up lm-eval's venv)
bench-lm-eval: $(STAMP)
	test -x bench/.lm-eval-venv/bin/python || bash bench/lm_eval_side/setup.sh
	$(PY) bench/vs_lm_eval.py

## make bench-lm-eval-bias: Palmarès against lm-evaluation-harness on CrowS-Pairs-fr and BBQ
bench-lm-eval-bias: $(STAMP)
	test -x bench/.lm-eval-venv/bin/python || bash bench/lm_eval_side/setup.sh
	$(PY) bench/vs_lm_eval_bias.py

clean:
	rm -rf $(VENV) runs build dist src/*.egg-info
