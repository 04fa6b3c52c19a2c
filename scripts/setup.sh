#!/usr/bin/env bash
# Set up snnc from nothing: system packages, a virtual environment in .venv, the
# package with its pinned dependencies, and (with --test) the test dependencies and
# the spiking libraries the tests compare against.
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=0
for a in "$@"; do
  case "$a" in
    --test) WITH_TEST=1 ;;
    *) echo "usage: scripts/setup.sh [--test]" >&2; exit 2 ;;
  esac
done

bash scripts/install-system-deps.sh

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
PIP=".venv/bin/pip"
"$PIP" install --quiet --upgrade pip==24.3.1 >/dev/null 2>&1 || true
if [ "$WITH_TEST" = 1 ]; then
  "$PIP" install --quiet -e '.[test]'
  # SpikingJelly, Norse and Sinabs declare torchvision (which breaks beside the CPU
  # torch here) or an older nir: install them without their declared requirements,
  # plus the light requirements their neuron modules really import.
  "$PIP" install --quiet --no-deps -r requirements/frameworks.txt
  "$PIP" install --quiet -r requirements/frameworks-light.txt
else
  "$PIP" install --quiet -e .
fi
# Never let a CUDA build of torch in.
.venv/bin/python - <<'PY'
import torch, sys
if torch.version.cuda is not None or not torch.__version__.startswith("2.13.0"):
    sys.exit(f"unexpected torch build {torch.__version__} (cuda={torch.version.cuda}); expected the 2.13.0 CPU wheel")
PY
echo "snnc set up in .venv ($(.venv/bin/snnc --version))"
