# Two commands, each does all the set-up it needs and is safe to repeat:
#   make run    set up .venv, then the main job: AG-Net on NAS-Bench-201 cifar10 (192 queries) into runs/
#               (run again: the finished run is reported and left as it is)
#   make test   set up .venv, then the test suite (what .ci/run does on a clean checkout)
# The benchmark data is read from $NASLIB_AGNET_DATA, else ../shared/data.
# TORCH: the torch requirement installed first (this machine: the CPU build on its disk; elsewhere any
# torch>=2.1,<3, e.g. make run TORCH='torch>=2.1,<3').

PYTHON ?= python3
TORCH ?= torch==2.13.0
# XGB: what provides the xgboost module for the XGB variants and their tests (the CPU-only wheel here;
# elsewhere e.g. make test XGB='xgboost>=2')
XGB ?= xgboost-cpu>=2
VENV := .venv
DATA := $(or $(NASLIB_AGNET_DATA),../shared/data)
STAMP := $(VENV)/.installed

.PHONY: run test setup

setup: $(STAMP)

$(STAMP): setup.py
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q "$(TORCH)" "$(XGB)"
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/naslib-agnet search --config-file configs/agnet_nb201_cifar10.yaml --data-dir "$(DATA)"

test: $(STAMP)
	NASLIB_AGNET_DATA="$(DATA)" $(VENV)/bin/python -m pytest -q tests
