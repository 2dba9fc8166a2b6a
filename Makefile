# Shortcuts; the README's two commands need none of these.
PYTHON ?= .venv/bin/python

.PHONY: test bench bench-quick

test:
	$(PYTHON) -m pytest -q

bench:
	$(PYTHON) benchmarks/run_all.py

bench-quick:
	$(PYTHON) benchmarks/run_all.py --quick
