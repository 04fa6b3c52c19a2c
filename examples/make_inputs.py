"""Regenerate the example inputs in examples/nir/ (deterministic).

    .venv/bin/python examples/make_inputs.py [path/to/shared/golden/nir-paper]

* ``braille_input.npy``: 256 steps of Bernoulli(0.2) spikes on the 12 Braille sensor
  channels (numpy default_rng seed 0), float32 0/1, shape [256, 12].
* ``lif_norse_input.npy``: column 0 (the input spikes) of the NIR paper's ``lif_norse.csv``,
  float32, shape [1000, 1]; feeding it to ``lif_norse.nir`` reproduces Norse's trace.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent / "nir"


def main() -> None:
    golden = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "shared" / "golden" / "nir-paper"
    braille = (np.random.default_rng(0).random((256, 12)) < 0.2).astype(np.float32)
    np.save(HERE / "braille_input.npy", braille)
    csv = np.loadtxt(golden / "lif_norse.csv", delimiter=",")
    np.save(HERE / "lif_norse_input.npy", csv[:, :1].astype(np.float32))


if __name__ == "__main__":
    main()
