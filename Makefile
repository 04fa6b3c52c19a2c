# Shortcuts; the README's commands and .ci/run are the reference.
PY ?= .venv/bin/python

.PHONY: test test-fast lint bench demo

test:            ## the whole suite, as CI runs it
	$(PY) -m pytest -n 2 -q

test-fast:       ## skip tests marked slow
	$(PY) -m pytest -n 2 -q -m "not slow"

lint:            ## ruff over the package and the tests
	.venv/bin/ruff check snnc tests

bench:           ## measured figures (never asserted): passes, text, torch import, C synops, placement, simulator
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

demo:            ## the README's demo
	.venv/bin/snnc import examples/nir/braille.nir -o /tmp/demo.mlir
	.venv/bin/snnc run /tmp/demo.mlir --input examples/nir/braille_input.npy
