# Shortcuts; the README's commands and .ci/run are the reference.
PY ?= .venv/bin/python

.PHONY: test test-fast lint bench demo

test:            ## the whole suite, as CI runs it
	$(PY) -m pytest -n 2 -q

test-fast:       ## skip tests marked slow
	$(PY) -m pytest -n 2 -q -m "not slow"

lint:            ## ruff over the package and the tests
	.venv/bin/ruff check snnc tests

bench:           ## measured figures (never asserted): passes, pipeline, text, torch import, C synops, placement, simulator
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

demo:            ## the README's demo: compile the Braille example for neuro-core, run it in the chip simulator
	.venv/bin/snnc compile examples/nir/braille.nir --target neuro-core -o /tmp/snnc-demo --calibration examples/nir/braille_input.npy
	.venv/bin/snnc sim /tmp/snnc-demo --input examples/nir/braille_input.npy
