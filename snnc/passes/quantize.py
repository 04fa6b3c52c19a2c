"""``quantize``: lower a float ``nn``/``snn`` graph to the integer ``spike`` dialect.

    pm = PassManager([Quantize(calibration=x, weight_bits=8)])   # x: [T, *shape] or [T, B, *shape]
    pm.run(module)
    print(pm.passes[0].report.summary())                          # float-vs-integer agreement

Every scale is folded so that a step needs only integer adds, shifts, compares (and, for
real-valued inputs and non power-of-two leaks, integer multiplies).  The scheme, for a
neuron fed by the synapse terms ``sum_j W_j x_j + b`` (nn.linear / nn.conv2d, possibly added
and delayed), with ``x_j`` either spikes (scale 1) or integers of scale ``s_j``
(``x_j ~ X_j / s_j``):

* **accumulator scale** ``S`` (per tensor or per output channel): the largest scale at which
  every term's integer weights ``W_j * S / s_j`` fit the weight grid, i.e.
  ``S = min_j s_j * qmax / max|W_j|``; a tensor already on a grid (all weights multiples
  of a common step ``q`` with ``max|W/q| <= qmax``) maps to ``S = s_j * 2^e / q`` (the
  largest power of two ``2^e`` that still fits) with NO second rounding;
* weights ``W_int = rint(W * S / s_j)`` (round half to even), clipped to the grid;
* **membrane scale** ``S_v = S / beta`` (beta folds into the membrane), state
  ``V = S_v * v``; ``S`` is lowered when ``S_v * HEADROOM * max(|v_th|, |v_reset|)`` (or the
  calibrated membrane range x 1.25) would not fit ``membrane_bits``;
* leak: ``alpha == 1`` -> ``none``; ``alpha = 1 - 2^-k`` -> ``shift`` by k (SpikingJelly
  tau = 2 -> k = 1); else ``mul`` with ``decay = rint(alpha * 2^frac_bits)``;
* threshold: ``v_th_int = ceil(S_v * v_th)`` for cmp ``ge`` and ``floor(S_v * v_th)`` for
  ``gt`` (so ``V >= v_th_int`` iff ``V >= S_v v_th`` for integer V: the comparison is
  exact), values within 1e-9 of an integer snap to it; ``v_reset_int = rint(S_v v_reset)``;
* ``bias = rint(S * b + S_v * gamma)`` (non-delayed synapse biases and the neuron's gamma);
  a delayed synapse's bias stays on its delayed path (``spike.add`` of a constant);
* real-valued graph inputs enter through ``spike.quantize`` with scale
  ``s = qmax_in / max|x_calibration|`` (or an exact power-of-two grid when the calibration
  data is on one, e.g. event counts);
* ``snn.cuba_lif`` becomes ``spike.li`` (current, scale ``S_i = S / beta_syn``) feeding
  ``spike.lif`` (``S_v = S_i / beta``); ``snn.li`` / ``snn.integrator`` become ``spike.li`` +
  ``spike.dequantize`` (the output is read back as a real value).

Weight schemes: ``uniform`` (b-bit symmetric, ``qmax = 2^(b-1) - 1``), ``ternary`` (TWN:
``t = sign(W) [|W| > 0.7 mean|W|]``, scale = mean |W| over the kept weights), ``binary``
(``sign(W)``, 0 -> +1, scale ``mean|W|`` folded into the threshold, as BESTformer folds it
into BN), and ``qp-rescale=true``: QP-SNN's uniform grid without zero on ``W / gamma``
(``gamma = mean|W|`` per output channel), stored as the odd integers ``2 W_int - (2^b - 1)``
(``b + 1`` bits).  Ternary/binary/QP need a single synapse term per neuron.

BatchNorm directly after a conv/linear is folded into it first (canonicalize does not).

Spiking transformers (docs/spike.md): an integer value (quantized input, popcount, shortcut
sum) feeds a neuron or a sum as an identity term through an exact right shift (``S = s / 2^k``);
a float synapse sum consumed by a synapse or a layout op is materialized once as an integer;
``nn.mul``/``nn.sum`` of spikes become ``spike.and``/``spike.popcount``, ``nn.matmul`` with a
spike left operand ``spike.matmul`` (attention-mask-add's ``nn.spike_and``, ``nn.and_popcount`` and
``nn.masked_accumulate`` become the same integer ops), ``nn.scale`` of an integer folds into its scale, global
average pooling becomes ``spike.sum_pool2d``, and a real-valued output fed by synapses is an
integer sum read out through ``spike.dequantize``.
"""

from __future__ import annotations

import enum
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..dialects import spike as sp
from ..dialects.common import int_tuple, param_array, tensor_attr_array, weight_attr
from ..ir.attributes import DenseArrayAttr, DenseElementsAttr, FloatAttr, IntegerAttr, StringAttr
from ..ir.builtin import ModuleOp
from ..ir.core import Operation, Value
from ..ir.diagnostics import error
from ..ir.graph import step_order
from ..ir.opdef import Trait, has_trait, make_op
from ..ir.types import IntegerType, TensorType, f32, i1, i64, is_float_tensor, is_spike_tensor
from .manager import Pass

#: Membrane headroom: the membrane range holds HEADROOM x the largest threshold/reset value.
HEADROOM = 4.0
#: A synapse is accumulated finer and requantized only when that gains at least this many bits.
MIN_FINE_SHIFT = 4
#: Grid detection tries steps q = max|W| / m for m up to this many steps.
GRID_MAX_STEPS = 1024
_SNAP = 1e-9


class WeightScheme(enum.Enum):
    uniform = "uniform"
    ternary = "ternary"
    binary = "binary"


# =========================================================================== weight quantizers


def _channels(w: np.ndarray, per_channel: bool) -> np.ndarray:
    """``w`` as [groups, n]: one row per output channel, or one row for the whole tensor."""
    return w.reshape(w.shape[0], -1) if per_channel else w.reshape(1, -1)


def grid_step(w: np.ndarray, qmax: int, tol: float = 1e-6) -> float | None:
    """The coarsest step q with every ``w / q`` an integer of magnitude <= qmax, or None.

    Candidates are ``max|w| / m`` for m = 1..min(qmax, GRID_MAX_STEPS) (the largest
    weight is m steps), tried in increasing m, in chunks (bounded memory).
    """
    a = np.unique(np.abs(np.asarray(w, dtype=np.float64)).ravel())
    top = float(a[-1]) if a.size else 0.0
    if top == 0.0:
        return 1.0
    m = np.arange(1, min(qmax, GRID_MAX_STEPS) + 1, dtype=np.float64)
    q = top / m

    def on_grid(vals: np.ndarray, steps: np.ndarray) -> np.ndarray:
        r = vals[None, :] / steps[:, None]
        return np.all(np.abs(r - np.rint(r)) <= tol * np.maximum(1.0, r), axis=1)

    # screen every candidate on a sample of at most 64 values, confirm survivors on all values
    sample = a[np.linspace(0, a.size - 1, min(a.size, 64)).astype(int)]
    for cand in q[on_grid(sample, q)]:
        if on_grid(a, np.array([cand]))[0]:
            return float(cand)
    return None


def parse_weight_grid(text: str) -> tuple[str, int] | None:
    """``weight-grid`` option: ``""`` (none), ``uniform:B`` (2 <= B <= 16), ``ternary``, ``binary``.

    Returns (kind, integer weight bits) or None for no declared grid; raises ValueError.
    """
    t = text.strip().lower()
    if not t:
        return None
    if t in ("ternary", "binary"):
        return t, 2
    if t.startswith("uniform:"):
        try:
            b = int(t.split(":", 1)[1])
        except ValueError:
            b = 0
        if 2 <= b <= 16:
            return "uniform", b
    raise ValueError(f"weight-grid must be uniform:B (B in 2..16), ternary or binary, got '{text}'")


def grid_violation(w: np.ndarray, kind: str, bits: int, per_channel: bool,
                   tol: float = 1e-6) -> tuple[tuple[int, ...], float, float, float] | None:
    """Check weights against a declared grid: ``w = q k`` with ``k`` an integer, ``|k| <= 2^(bits-1) - 1``
    (``uniform``; ``ternary``: k in {-1, 0, 1}; ``binary``: k in {-1, 1}), one step ``q`` per tensor
    (per output channel with ``per_channel``).  None when on the grid, else the worst off-grid
    weight: (index in ``w``, value, distance from the grid in steps, the step used), where a row's
    step is the best candidate ``max|row| / m`` (m = 1..qmax: least worst distance; binary and
    ternary: m = 1)."""
    w = np.asarray(w, dtype=np.float64)
    rows = _channels(w, per_channel)
    qmax = 1 if kind in ("ternary", "binary") else (1 << (bits - 1)) - 1
    worst: tuple[int, float, float, float] | None = None  # (flat index, value, distance, q)
    for i, r in enumerate(rows):
        top = float(np.abs(r).max(initial=0.0))
        if top == 0.0:
            if kind == "binary" and r.size:
                worst = worst if worst and worst[2] >= 1.0 else (i * r.size, 0.0, 1.0, 0.0)
            continue
        if kind != "binary" and grid_step(r, qmax, tol) is not None:
            continue
        # the best candidate step: screen on a sample, measure on the whole row
        m = np.arange(1, min(qmax, GRID_MAX_STEPS) + 1, dtype=np.float64)
        sample = np.unique(np.abs(r))
        sample = sample[np.linspace(0, sample.size - 1, min(sample.size, 64)).astype(int)]
        ratio = sample[None, :] * m[:, None] / top
        q = top / m[int(np.argmin(np.abs(ratio - np.rint(ratio)).max(axis=1)))]
        k = r / q
        dist = np.abs(k - np.rint(k))
        if kind == "binary":
            dist = np.abs(np.abs(k) - 1.0)  # nearest of -1, +1
        bad = dist > tol * np.maximum(1.0, np.abs(k))
        if not bad.any():
            continue
        j = int(np.argmax(np.where(bad, dist, -1.0)))
        if worst is None or dist[j] > worst[2]:
            worst = (i * r.size + j if per_channel else j, float(r[j]), float(dist[j]), float(q))
    if worst is None:
        return None
    flat, value, dist, q = worst
    return tuple(int(x) for x in np.unravel_index(flat, w.shape)), value, dist, q


def uniform_scale(
    w: np.ndarray, bits: int, per_channel: bool, in_scale: float = 1.0, *, upscale: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Scale per row (``[rows]``, ``W ~ W_int / scale``) and whether each row is exactly on a grid.

    A row on a grid of step q gets ``2^e / q`` (``e >= 0`` the largest that still fits the
    ``bits``; ``e = 0`` when ``upscale`` is false), else ``qmax / max|row|``.
    """
    qmax = (1 << (bits - 1)) - 1
    rows = _channels(w, per_channel)
    scales = np.empty(rows.shape[0])
    exact = np.zeros(rows.shape[0], dtype=bool)
    for i, r in enumerate(rows):
        top = float(np.abs(r).max(initial=0.0))
        q = grid_step(r, qmax)
        if q is not None and top > 0:
            steps = round(top / q)
            e = int(math.floor(math.log2(qmax / steps))) if upscale else 0
            scales[i] = in_scale * (2.0**e) / q
            exact[i] = True
        else:
            scales[i] = in_scale * qmax / top if top > 0 else in_scale
    return scales, exact


def qp_quantize(w: np.ndarray, bits: int) -> np.ndarray:
    """QP-SNN's quantizer: ``W_int = rint((2^b-1)/2 (clip(W,-1,1)+1))``, returns ``W_hat = 2 W_int/(2^b-1) - 1``."""
    n = (1 << bits) - 1
    w_int = np.rint(n / 2 * (np.clip(w, -1.0, 1.0) + 1.0))
    return 2.0 * w_int / n - 1.0


def qp_rescale(w: np.ndarray, bits: int) -> np.ndarray:
    """QP-SNN's weight rescaling: ``gamma * W_hat(W / gamma)``, ``gamma = mean|W|`` per output channel."""
    rows = w.reshape(w.shape[0], -1) if w.ndim > 1 else w.reshape(1, -1)
    gamma = np.abs(rows).mean(axis=1, keepdims=True)
    gamma = np.where(gamma == 0, 1.0, gamma)
    return (gamma * qp_quantize(rows / gamma, bits)).reshape(w.shape)


def qsnn_binarize(w: np.ndarray) -> np.ndarray:
    """Q-SNN's 1-bit weights per output channel: ``sign(z) * 2^round(log2(mean|z|))``, z standardised."""
    rows = w.reshape(w.shape[0], -1)
    z = (rows - rows.mean(axis=1, keepdims=True)) / rows.std(axis=1, keepdims=True)
    return (np.sign(z) * 2.0 ** np.round(np.log2(np.abs(z).mean(axis=1, keepdims=True)))).reshape(w.shape)


def bestformer_binarize(w: np.ndarray) -> np.ndarray:
    """BESTformer's 1-bit weights per output channel: ``sign((W - mean) / std)`` (no scale)."""
    rows = w.reshape(w.shape[0], -1)
    z = (rows - rows.mean(axis=1, keepdims=True)) / rows.std(axis=1, keepdims=True)
    return np.sign(z).reshape(w.shape)


def ternary_weights(w: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """TWN ternarisation: integers in {-1, 0, 1} and the per-row scale (W ~ t / scale)."""
    rows = _channels(w, per_channel)
    delta = 0.7 * np.abs(rows).mean(axis=1, keepdims=True)
    t = np.sign(rows) * (np.abs(rows) > delta)
    kept = np.abs(t).sum(axis=1)
    alpha = np.where(kept > 0, (np.abs(rows) * np.abs(t)).sum(axis=1) / np.maximum(kept, 1), 1.0)
    return t.reshape(w.shape).astype(np.int64), 1.0 / alpha


def binary_weights(w: np.ndarray, per_channel: bool) -> tuple[np.ndarray, np.ndarray]:
    """``sign(W)`` (0 -> +1) and the per-row scale ``1 / mean|W|``."""
    rows = _channels(w, per_channel)
    t = np.where(rows >= 0, 1, -1)
    alpha = np.abs(rows).mean(axis=1)
    alpha = np.where(alpha == 0, 1.0, alpha)
    return t.reshape(w.shape).astype(np.int64), 1.0 / alpha


# =========================================================================== report


@dataclass
class OutputAgreement:
    output: str
    spikes: bool
    agreement: float  # spikes: fraction of equal elements; values: 1 - mean|err| / max|ref|
    max_abs_error: float
    float_rate: float
    int_rate: float
    #: spikes: fraction of samples whose most active neuron (spike count over time) agrees
    argmax_agreement: float = 1.0


@dataclass
class QuantizeReport:
    options: str
    outputs: list[OutputAgreement] = field(default_factory=list)
    exact_layers: list[str] = field(default_factory=list)
    rounded_layers: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"quantize ({self.options}): float vs integer on the calibration inputs"]
        for o in self.outputs:
            if o.spikes:
                lines.append(f"  {o.output}: spike agreement {100 * o.agreement:.2f} % "
                             f"(firing rate float {100 * o.float_rate:.2f} %, int {100 * o.int_rate:.2f} %; "
                             f"most active neuron agrees on {100 * o.argmax_agreement:.1f} % of samples)")
            else:
                lines.append(f"  {o.output}: max |err| {o.max_abs_error:.4g}")
        lines.append(f"  weights on an exact grid: {', '.join(self.exact_layers) or 'none'}; "
                     f"rounded: {', '.join(self.rounded_layers) or 'none'}")
        return "\n".join(lines)


# =========================================================================== the pass


@dataclass
class _QuantizeOptions(Pass):
    weight_bits: int = field(default=8, metadata={"help": "bits per weight (uniform): 2..16"})
    weight_scheme: WeightScheme = field(default=WeightScheme.uniform, metadata={"help": "weight quantizer"})
    per_channel: bool = field(default=False, metadata={"help": "one weight scale per output channel"})
    membrane_bits: int = field(default=16, metadata={"help": "membrane width N"})
    acc_bits: int = field(default=32, metadata={"help": "accumulator width A"})
    input_bits: int = field(default=8, metadata={"help": "width of quantized real-valued inputs"})
    frac_bits: int = field(default=12, metadata={"help": "fractional bits of the mul leak's decay"})
    qp_rescale: bool = field(default=False, metadata={"help": "QP-SNN weight rescaling (grid without zero on W/mean|W|)"})
    calibration_file: str = field(default="", metadata={"help": ".npy (one input) or .npz (by input name) calibration data"})
    print_report: bool = field(default=False, metadata={"help": "print the float-vs-integer agreement to stderr"})
    weight_grid: str = field(default="", metadata={
        "help": "declare the weights already on a grid (QAT): uniform:B, ternary or binary; checked per layer "
                "(error naming the layer and its worst off-grid weight), mapped without a second rounding; "
                "sets weight-bits to B (2 for ternary/binary) unless given"})

    def __post_init__(self) -> None:
        try:
            g = parse_weight_grid(self.weight_grid)
        except ValueError:
            return  # reported by check_options / at run time
        if g is not None and self.weight_bits == 8:  # the default: the declared grid sets the width
            self.weight_bits = g[1]

    def check_options(self) -> str:
        try:
            g = parse_weight_grid(self.weight_grid)
        except ValueError as e:
            return str(e)
        if g is None:
            return ""
        if self.weight_scheme is not WeightScheme.uniform or self.qp_rescale:
            return "weight-grid applies to weight-scheme=uniform without qp-rescale"
        if self.weight_bits < g[1]:
            return f"weight-grid={self.weight_grid} needs weight-bits >= {g[1]}, got {self.weight_bits}"
        return ""

    def declared_grid_check(self, op: Operation, w: np.ndarray) -> None:
        """With ``weight-grid``: raise a diagnostic located at synapse ``op`` if ``w`` is off the grid."""
        problem = self.check_options()
        if problem:
            raise error(f"quantize: {problem}")
        g = parse_weight_grid(self.weight_grid)
        if g is None:
            return
        bad = grid_violation(w, g[0], g[1], self.per_channel)
        if bad is not None:
            idx, value, dist, q = bad
            name = op.get_attr("name")
            label = f"{op.op_name} '{name.value}'" if isinstance(name, StringAttr) else op.op_name  # type: ignore[union-attr]
            scope = "per output channel" if self.per_channel else "per tensor"
            raise op.emit_error(
                f"weights of {label} are not on the declared weight-grid={self.weight_grid} ({scope}): worst "
                f"weight{list(idx)} = {value:.9g} is {dist:.3g} steps off the grid (step {q:.6g})")


class Quantize(_QuantizeOptions):
    """Lower nn/snn graphs to the integer spike dialect (scales folded into thresholds and leaks)."""

    name: ClassVar[str] = "quantize"

    def __init__(self, *args: Any, calibration: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: calibration data: an array (one graph input) or a mapping name -> array, [T, *shape] or [T, B, *shape]
        self.calibration = calibration
        #: the float-vs-integer report of the last run (None without calibration data)
        self.report: QuantizeReport | None = None

    # ------------------------------------------------------------------ driver

    def run(self, module: ModuleOp) -> None:
        from ..dialects.snn import Graph

        self._check_options()
        from .fuse_lif import unfuse

        unfuse(module)  # snn.fused units (fuse-lif) are their regions' ops in order: lower those
        for op in module.walk():
            if op.op_name == "snn.causal_filter":
                raise op.emit_error("is not lowered to integers yet: quantize has no integer form of a causal time "
                                    "filter (the SNN-ViT saccadic attention); run the model in floats (snnc run)")
        before = module.clone()
        graphs = [op for op in module.body.ops if isinstance(op, Graph)]
        calib_sets: dict[str, dict[str, np.ndarray]] = {}
        for g in graphs:
            cal = self._calibration_for(g)
            if cal is not None:
                calib_sets[g.sym_name] = cal
            _Lowering(self, g, cal).run()
        if calib_sets and len(graphs) == 1:
            self.report = self._agreement(before, module, calib_sets[graphs[0].sym_name])
            self.report.exact_layers, self.report.rounded_layers = self._exact, self._rounded
            if self.print_report:
                sys.stderr.write(self.report.summary() + "\n")

    def _check_options(self) -> None:
        if not 2 <= self.weight_bits <= 16:
            raise error(f"quantize: weight-bits must be in 2..16, got {self.weight_bits}")
        if not 2 <= self.membrane_bits <= sp.MAX_WIDTH:
            raise error(f"quantize: membrane-bits must be in 2..{sp.MAX_WIDTH}, got {self.membrane_bits}")
        if not max(self.weight_bits + 1, 8) <= self.acc_bits <= sp.MAX_WIDTH:
            raise error(f"quantize: acc-bits must be in {max(self.weight_bits + 1, 8)}..{sp.MAX_WIDTH}, got {self.acc_bits}")
        if not 2 <= self.input_bits <= 32:
            raise error(f"quantize: input-bits must be in 2..32, got {self.input_bits}")
        if not 1 <= self.frac_bits <= sp.MAX_FRAC_BITS or self.membrane_bits + self.frac_bits > 61:
            raise error(f"quantize: frac-bits must be in 1..{sp.MAX_FRAC_BITS} with membrane-bits + frac-bits <= 61")
        if self.qp_rescale and self.weight_scheme is not WeightScheme.uniform:
            raise error("quantize: qp-rescale applies to weight-scheme=uniform only")
        self._exact: list[str] = []
        self._rounded: list[str] = []

    def _calibration_for(self, g: Operation) -> dict[str, np.ndarray] | None:
        from ..interp.core import graph_inputs

        data: Any = self.calibration
        if data is None and self.calibration_file:
            path = Path(self.calibration_file)
            if not path.exists():
                raise error(f"quantize: calibration file '{path}' does not exist")
            loaded = np.load(path)
            data = dict(loaded) if isinstance(loaded, np.lib.npyio.NpzFile) else loaded
        if data is None:
            return None
        ins = graph_inputs(g)
        if not isinstance(data, Mapping):
            if len(ins) != 1:
                raise error(f"quantize: graph '{g.sym_name}' has {len(ins)} inputs; give calibration data by input name")
            data = {ins[0].attr("name"): data}  # type: ignore[attr-defined]
        out = {}
        for op in ins:
            name = op.attr("name")  # type: ignore[attr-defined]
            if name not in data:
                raise error(f"quantize: no calibration data for graph input '{name}'")
            arr = np.asarray(data[name])
            t = op.results[0].type
            assert isinstance(t, TensorType)
            if arr.ndim == len(t.shape) + 1:
                arr = arr[:, None]
            if arr.ndim != len(t.shape) + 2 or tuple(arr.shape[2:]) != tuple(t.shape):
                raise error(f"quantize: calibration data for '{name}' must be [T, *{list(t.shape)}] or "
                            f"[T, B, *{list(t.shape)}], got {list(arr.shape)}")
            out[name] = arr
        return out

    def _agreement(self, before: ModuleOp, after: ModuleOp, cal: dict[str, np.ndarray]) -> QuantizeReport:
        from ..interp import run

        ra = run(before, cal, batched=True).outputs
        rb = run(after, cal, batched=True).outputs
        rep = QuantizeReport(self.pipeline_text())
        for name in ra:
            a, b = np.asarray(ra[name]), np.asarray(rb[name])
            spikes = a.dtype == np.bool_ or a.dtype == np.int8
            if spikes:
                agree = float(np.mean(a == b)) if a.size else 1.0
                ca = a.astype(np.int64).sum(axis=0).reshape(a.shape[1], -1)  # [B, neurons]
                cb = b.astype(np.int64).sum(axis=0).reshape(b.shape[1], -1)
                arg = float(np.mean(ca.argmax(axis=1) == cb.argmax(axis=1))) if ca.size else 1.0
                diff = float(np.max(np.abs(a.astype(np.int64) - b.astype(np.int64)), initial=0))
                rep.outputs.append(OutputAgreement(name, True, agree, diff, float(np.mean(a != 0)), float(np.mean(b != 0)), arg))
            else:
                err = np.abs(a.astype(np.float64) - b.astype(np.float64))
                ref = float(np.max(np.abs(a), initial=0.0)) or 1.0
                rep.outputs.append(OutputAgreement(name, False, 1.0 - float(err.mean()) / ref, float(err.max(initial=0.0)),
                                                   0.0, 0.0))
        return rep


# =========================================================================== lowering of one graph


@dataclass
class _Term:
    """One synapse feeding a neuron: ``op`` (nn.linear / nn.conv2d), delayed ``delay`` steps; or,
    with ``op`` None, an identity synapse from the integer value ``value`` of scale ``scale``
    (a quantized input, a popcount, a membrane shortcut sum)."""

    op: Operation | None
    delay: int
    value: Value | None = None
    scale: float = 1.0


def _is_spike_gate(op: Operation) -> bool:
    """``nn.sub(x, nn.mul(d, x))`` (or ``nn.mul(x, d)``) with ``d`` spikes: x gated to 0 where d fires."""
    x, m = op.operands
    g = m.defining_op()
    if g is None or g.op_name != "nn.mul":
        return False
    a, b = g.operands
    return (a is x and is_spike_tensor(b.type)) or (b is x and is_spike_tensor(a.type))


def _chan_shape(terms, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Broadcast shape of a per-output-channel vector for a result of ``shape``: channels-first (``[C, ...]``, convs
    and 1-D results), except behind an ``nn.linear`` on a batch of rows (``[..., N, C]``: channels last)."""
    if len(shape) >= 2 and any(getattr(t.op, "op_name", None) == "nn.linear" for t in terms):
        return (1,) * (len(shape) - 1) + (-1,)
    return (-1,) + (1,) * (len(shape) - 1)


def _int_type(shape, bits: int) -> TensorType:
    return TensorType(tuple(shape), IntegerType(bits))


def _int_param(values: np.ndarray, shape: tuple[int, ...]) -> Any:
    """IntegerAttr when all equal, else an i64 tensor attribute (broadcastable to ``shape``)."""
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0 or np.all(v == v.reshape(-1)[0]):
        return IntegerAttr(int(v.reshape(-1)[0]) if v.size else 0, i64)
    while v.ndim > len(shape):
        v = v[0]
    return weight_attr(v, i64, hint="param")


def _snap(x: np.ndarray) -> np.ndarray:
    r = np.rint(x)
    return np.where(np.abs(x - r) <= _SNAP * np.maximum(1.0, np.abs(x)), r, x)


class _Lowering:
    def __init__(self, p: Quantize, graph: Operation, cal: dict[str, np.ndarray] | None) -> None:
        self.p = p
        self.g = graph
        self.cal = cal
        #: integer scale of every int-domain value (real = int / scale)
        self.scale: dict[Value, np.ndarray] = {}
        self.ranges: dict[str, dict[str, float]] = {}
        #: calibrated max |value| of the float graph's values (for the width of materialized sums)
        self.vrange: dict[Value, float] = {}
        #: float synapse sums already materialized as integers (value -> integer value)
        self.materialized: dict[Value, Value] = {}

    # ------------------------------------------------------------------ helpers

    def insert(self, anchor: Operation, name: str, operands, result_types, attributes) -> Operation:
        op = make_op(name, operands, result_types, attributes, location=anchor.location)
        anchor.parent.insert_before(anchor, op)  # type: ignore[union-attr]
        return op

    def _calibrate_states(self) -> None:
        """Per neuron op, the largest |state| seen on the calibration inputs (for membrane ranges)."""
        if self.cal is None:
            return
        from ..interp.core import run_graph
        from ..ir.printer import value_names

        names = value_names(self.g)
        res = run_graph(self.g, self.cal, batched=True, probe=True, value_names=names)
        for op in self.g.body.ops:
            for r in op.results:
                if names.get(r) in res.probes:
                    self.vrange[r] = float(np.max(np.abs(np.asarray(res.probes[names[r]], dtype=np.float64)), initial=0.0))
            if op.results and names.get(op.results[0]) in res.states:
                series = res.states[names[op.results[0]]]
                if series and isinstance(series[0], dict):
                    self.ranges[str(id(op))] = {k: float(max(np.max(np.abs(s[k])) for s in series)) for k in series[0]}

    # ------------------------------------------------------------------ main

    def run(self) -> None:
        self._fold_batch_norms()
        self._calibrate_states()
        for op in step_order(self.g.body):
            name = op.op_name
            if name == "snn.input":
                self._lower_input(op)
            elif name in ("snn.lif", "snn.if", "snn.cuba_lif", "snn.li", "snn.integrator"):
                self._lower_neuron(op)
            elif name == "nn.sum_pool2d":
                self._lower_pool(op)
            elif name == "nn.max_pool2d":
                self._lower_max_pool(op)
            elif name in ("nn.flatten", "nn.reshape", "nn.transpose"):
                self._retype_shape_op(op)
            elif name in ("nn.mul", "nn.spike_and"):
                self._lower_spike_mul(op)
            elif name in ("nn.matmul", "nn.masked_accumulate"):
                self._lower_spike_matmul(op)
            elif name == "nn.and_popcount":
                self._lower_and_popcount(op)
            elif name == "nn.scale":
                self._lower_int_scale(op)
            elif name == "nn.mean":
                self._lower_int_mean(op)
            elif name == "nn.sum":
                self._lower_spike_sum(op)
            elif name == "snn.output":
                self._lower_real_output(op)
        self._dead_code()
        for op in self.g.body.ops:
            if op.dialect in ("nn",) and op.op_name not in ("nn.flatten", "nn.reshape", "nn.transpose", "nn.constant"):
                raise op.emit_error("cannot be lowered by quantize (supported: nn.linear/nn.conv2d feeding a neuron or "
                                    "an output, nn.add/snn.delay between them, nn.sum_pool2d, nn.max_pool2d of i1 spikes, "
                                    "nn.mul/nn.sum of i1 spikes, nn.spike_and, nn.and_popcount, nn.masked_accumulate, "
                                    "nn.flatten, nn.reshape, nn.transpose)")
            if op.op_name in ("snn.threshold", "snn.lif", "snn.if", "snn.cuba_lif", "snn.li", "snn.integrator"):
                raise op.emit_error("cannot be lowered by quantize")

    def _fold_batch_norms(self) -> None:
        for bn in list(self.g.body.ops):
            if bn.op_name != "nn.batch_norm":
                continue
            src = bn.operands[0].defining_op()
            if src is None or src.op_name not in ("nn.linear", "nn.conv2d") or len(bn.operands[0].users) != 1:
                raise bn.emit_error("quantize folds nn.batch_norm only directly after an nn.linear/nn.conv2d with one use")
            g = tensor_attr_array(bn, "weight")
            beta = tensor_attr_array(bn, "bias")
            mean, var = tensor_attr_array(bn, "mean"), tensor_attr_array(bn, "var")
            k = g / np.sqrt(var + float(bn.attr("eps")))  # type: ignore[operator, attr-defined]
            w = tensor_attr_array(src, "weight")
            b = tensor_attr_array(src, "bias")
            b = np.zeros(w.shape[0]) if b is None else b  # type: ignore[union-attr]
            w2 = w * k.reshape((-1,) + (1,) * (w.ndim - 1))  # type: ignore[union-attr]
            src.set_attr("weight", weight_attr(w2, hint="weight"))
            src.set_attr("bias", weight_attr((b - mean) * k + beta, hint="bias"))
            bn.results[0].replace_all_uses_with(src.results[0])
            bn.erase()

    def _lower_input(self, op: Operation) -> None:
        t = op.results[0].type
        assert isinstance(t, TensorType)
        if not is_float_tensor(t):
            return
        if self.cal is None:
            raise op.emit_error("is real-valued: quantize needs calibration data (Quantize(calibration=...) or "
                                "calibration-file=...) to choose its input scale")
        x = self.cal[op.attr("name")]  # type: ignore[attr-defined]
        # data on a grid (event counts, 0/1 spikes) maps exactly with its own step: no upscale,
        # which would only cost resolution of the weights it multiplies
        s, _ = uniform_scale(np.asarray(x, dtype=np.float64).reshape(1, -1), self.p.input_bits, False, upscale=False)
        users = list(op.results[0].users)
        q = make_op("spike.quantize", [op.results[0]], [_int_type(t.shape, self.p.input_bits)],
                    {"scale": FloatAttr(float(s[0]))}, location=op.location)
        op.parent.insert_after(op, q)  # type: ignore[union-attr]
        for use_op in users:
            for i, v in enumerate(use_op.operands):
                if v is op.results[0]:
                    use_op.set_operand(i, q.results[0])
        self.scale[q.results[0]] = np.asarray(s[0])

    def _domain(self, v: Value, user: Operation) -> tuple[str, np.ndarray]:
        t = v.type
        if is_spike_tensor(t):
            return "spike", np.asarray(1.0)
        if v in self.scale:
            return "int", self.scale[v]
        iv = self._materialize(v, user)
        if iv is not None:
            user.set_operand(list(user.operands).index(v), iv)
            return "int", self.scale[iv]
        raise user.emit_error(f"input of type {t} has no integer form (quantize lowers synapses fed by spikes, "
                              "graph inputs, pools and reshapes of them)")

    def _lower_pool(self, op: Operation) -> None:
        kind, s = self._domain(op.operands[0], op)
        t = op.results[0].type
        k = int_tuple(op, "kernel_size")
        if kind == "spike":
            bits = 8 if k[0] * k[1] <= 127 else 16
        else:
            bits = min(62, sp.width(op.operands[0].type) + int(math.ceil(math.log2(k[0] * k[1]))) + 1)
        attrs = {n: op.get_attr(n) for n in ("kernel_size", "stride", "padding") if op.get_attr(n) is not None}
        new = self.insert(op, "spike.sum_pool2d", [op.operands[0]], [_int_type(t.shape, bits)], attrs)  # type: ignore[union-attr]
        self.scale[new.results[0]] = s
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()

    def _lower_max_pool(self, op: Operation) -> None:
        """Max pooling of binary spikes is an OR: ``spike.max_pool2d``; no scale involved."""
        t_in = op.operands[0].type
        if not (isinstance(t_in, TensorType) and t_in.element == i1):
            raise op.emit_error("quantize lowers nn.max_pool2d only on binary (i1) spikes (an OR per window); "
                                f"this one pools {t_in}")
        attrs = {n: op.get_attr(n) for n in ("kernel_size", "stride", "padding") if op.get_attr(n) is not None}
        new = self.insert(op, "spike.max_pool2d", [op.operands[0]], [op.results[0].type], attrs)  # type: ignore[union-attr]
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()

    def _retype_shape_op(self, op: Operation) -> None:
        src = op.operands[0]
        t = op.results[0].type
        assert isinstance(t, TensorType)
        if src not in self.scale and not is_spike_tensor(src.type):
            iv = self._materialize(src, op)
            if iv is not None:
                op.set_operand(0, iv)
                src = iv
        if src not in self.scale:
            # spikes keep their element type through layout ops (an nn.mul lowered to spike.and made them i1)
            if is_spike_tensor(src.type) and t.element != src.type.element:  # type: ignore[attr-defined]
                new = self.insert(op, op.op_name, [src], [t.with_element(src.type.element)], dict(op.attributes))  # type: ignore[attr-defined]
                op.results[0].replace_all_uses_with(new.results[0])
                op.erase()
            return
        new = self.insert(op, op.op_name, [src], [t.with_element(src.type.element)], dict(op.attributes))  # type: ignore[attr-defined]
        s = self.scale[src]
        self.scale[new.results[0]] = s if np.ndim(s) == 0 else np.asarray(s).reshape(-1)[0]
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()

    def _lower_spike_mul(self, op: Operation) -> None:
        """The product of two binary spike tensors is their AND (spike-driven attention)."""
        a, b = op.operands
        if not all(isinstance(v.type, TensorType) and v.type.element == i1 for v in (a, b)):
            return  # left for the final check (a located diagnostic)
        t = op.results[0].type
        assert isinstance(t, TensorType)
        new = self.insert(op, "spike.and", [a, b], [t.with_element(i1)], {})
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()

    def _lower_spike_sum(self, op: Operation) -> None:
        """A sum of binary spikes is a count: ``spike.popcount`` (an integer of scale 1)."""
        x = op.operands[0]
        if not (isinstance(x.type, TensorType) and x.type.element == i1):
            return
        t = op.results[0].type
        assert isinstance(t, TensorType)
        axes = int_tuple(op, "axes")
        n = int(np.prod([x.type.shape[a] for a in axes] if axes else x.type.shape, dtype=np.int64))
        bits = next(b for b in (8, 16, 32, 62) if n <= (1 << (b - 1)) - 1)
        attrs = {"axes": op.get_attr("axes"), "keepdim": op.get_attr("keepdim")}
        new = self.insert(op, "spike.popcount", [x], [_int_type(t.shape, bits)],
                          {k: v for k, v in attrs.items() if v is not None})
        self.scale[new.results[0]] = np.asarray(1.0)
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()

    def _lower_and_popcount(self, op: Operation) -> None:
        """``nn.and_popcount(a, b)``: ``spike.and`` over the broadcast shape, then ``spike.popcount``
        (the same integer ops as ``nn.sum(nn.mul(a, b))`` of binary spikes; a count of scale 1)."""
        a, b = op.operands
        shape = op.broadcast_shape()  # type: ignore[attr-defined]
        both = self.insert(op, "spike.and", [a, b], [TensorType(tuple(shape), i1)], {}).results[0]
        n = int(np.prod([shape[d] for d in op.reduced_axes()], dtype=np.int64))  # type: ignore[attr-defined]
        bits = next(w for w in (8, 16, 32, 62) if n <= (1 << (w - 1)) - 1)
        attrs = {k: op.get_attr(k) for k in ("axes", "keepdim") if op.get_attr(k) is not None}
        t = op.results[0].type
        assert isinstance(t, TensorType)
        new = self.insert(op, "spike.popcount", [both], [_int_type(t.shape, bits)], attrs)
        self.scale[new.results[0]] = np.asarray(1.0)
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()

    def _lower_real_output(self, op: Operation) -> None:
        """A real-valued graph output fed by synapses (e.g. a membrane shortcut stream ``x + conv(..)``):
        the integer sum at one accumulator scale S, read out by ``spike.dequantize`` (x 1/S)."""
        v = op.operands[0]
        if not is_float_tensor(v.type) or is_spike_tensor(v.type):
            return
        d = v.defining_op()
        if d is None or d.op_name.startswith("spike."):
            return
        if v in self.scale:
            acc, S = v, float(self.scale[v])
        else:
            terms = self._terms(v, op)
            S_c, n_out = self._acc_scale(op, terms)
            S = float(np.min(S_c))
            S = self._align_int_terms(op, terms, S)
            t = v.type
            assert isinstance(t, TensorType)
            acc = self._sum_terms(terms, np.full(n_out, S), tuple(t.shape), op)
            acc = self._add_bias(terms, S, n_out, tuple(t.shape), acc, op)
        dq = self.insert(op, "spike.dequantize", [acc], [v.type], {"scale": FloatAttr(1.0 / S)})
        op.set_operand(0, dq.results[0])

    def _materialize(self, v: Value, user: Operation) -> Value | None:
        """A float synapse sum (nn.linear / nn.conv2d outputs, nn.add of them and of integer values)
        consumed by a synapse or a layout op, as an integer of scale S: S as the weights allow, lowered
        so that the calibrated range x 1.25 fits membrane-bits (and saturated to that width)."""
        if v in self.materialized:
            return self.materialized[v]
        d = v.defining_op()
        if d is None or d.op_name not in ("nn.linear", "nn.conv2d", "nn.add") or not is_float_tensor(v.type):
            return None
        t = v.type
        assert isinstance(t, TensorType)
        terms = self._terms(v, user)
        S_c, n_out = self._acc_scale(user, terms)
        S = float(np.min(S_c))
        # the integer is stored saturated to B bits: membrane-bits, and narrow enough that a consumer's
        # products (B + weight bits) stay exact in int64
        B = min(self.p.membrane_bits, 62 - self._weight_bits())
        r = self.vrange.get(v, 0.0)
        if r > 0:
            S = min(S, ((1 << (B - 1)) - 1) / (1.25 * r))
        S = self._align_int_terms(user, terms, S)
        acc = self._sum_terms(terms, np.full(n_out, S), tuple(t.shape), d)
        acc = self._add_bias(terms, S, n_out, tuple(t.shape), acc, d)
        if sp.width(acc.type) > B:
            acc = self.insert(d, "spike.requant", [acc], [_int_type(t.shape, B)],
                              {"shift": IntegerAttr(0, i64), "rounding": StringAttr("floor")}).results[0]
        self.scale[acc] = np.asarray(S)
        self.materialized[v] = acc
        return acc

    def _add_bias(self, terms: list[_Term], S: float, n_out: int, shape: tuple[int, ...], acc: Value,
                  anchor: Operation) -> Value:
        bias_f = np.zeros(n_out)
        for tm in terms:
            b = tensor_attr_array(tm.op, "bias") if tm.op is not None and not tm.delay else None
            if b is not None:
                bias_f = bias_f + b
        bi = np.rint(S * bias_f)
        if not np.any(bi != 0):
            return acc
        acc_t = _int_type(shape, self.p.acc_bits)
        full = np.broadcast_to(bi.reshape(_chan_shape(terms, shape)), shape).astype(np.int64).copy()
        c = self.insert(anchor, "nn.constant", [], [acc_t], {"value": DenseElementsAttr(acc_t, full)}
                        if full.size <= 16 else {"value": weight_attr(full, acc_t.element, hint="bias")})
        return self.insert(anchor, "spike.add", [acc, c.results[0]], [acc_t], {}).results[0]

    def _lower_spike_matmul(self, op: Operation) -> None:
        """``nn.matmul`` with a binary spike left operand: ``spike.matmul`` (rows of the right operand
        selected by spikes, added; exact).  The right operand is spikes or an integer of scale s;
        the result has scale s."""
        a, b = op.operands
        if not (isinstance(a.type, TensorType) and a.type.element == i1):
            raise op.emit_error("quantize lowers nn.matmul only with a binary (i1) spike left operand "
                                f"(spike-driven attention); this one is {a.type}")
        if is_spike_tensor(b.type):
            s, bound = 1.0, 1
        else:
            kind, sv = self._domain(b, op)
            b = op.operands[1]
            s, bound = float(np.asarray(sv).reshape(-1)[0]), sp.value_bound(b.type)
        t = op.results[0].type
        assert isinstance(t, TensorType)
        need = a.type.shape[-1] * bound
        bits = next(w for w in (8, 16, 32, 62) if need <= (1 << (w - 1)) - 1)
        new = self.insert(op, "spike.matmul", [a, b], [_int_type(t.shape, bits)], {})
        self.scale[new.results[0]] = np.asarray(s)
        op.results[0].replace_all_uses_with(new.results[0])
        op.erase()

    def _lower_int_scale(self, op: Operation) -> None:
        """``nn.scale`` by a positive scalar c of an integer value folds into its scale (s -> s / c)."""
        x = op.operands[0]
        if x not in self.scale:
            return
        c = param_array(op, "scale", np.float64)
        if np.size(c) != 1 or float(np.ravel(c)[0]) <= 0:
            raise op.emit_error("quantize folds nn.scale of an integer value only by a positive scalar")
        # the same integers under a new scale: an alias (nn.reshape to the same shape costs nothing in C),
        # so that other users of x keep x's scale
        xt = x.type
        assert isinstance(xt, TensorType)
        alias = self.insert(op, "nn.reshape", [x], [xt], {}).results[0]
        self.scale[alias] = np.asarray(float(np.asarray(self.scale[x]).reshape(-1)[0]) / float(np.ravel(c)[0]))
        op.results[0].replace_all_uses_with(alias)
        op.erase()

    def _lower_int_mean(self, op: Operation) -> None:
        """Global average pooling ``mean(reshape([C, H, W] -> [C, H*W]), axis 1)`` of an integer value:
        ``spike.sum_pool2d`` with an H x W window (the sum; the mean's 1/(H W) folds into the scale)."""
        r = op.operands[0].defining_op()
        x = r.operands[0] if r is not None and r.op_name == "nn.reshape" else None
        if x is not None and x not in self.scale:
            iv = self._materialize(x, r)  # type: ignore[arg-type]
            if iv is not None:
                r.set_operand(0, iv)  # type: ignore[union-attr]
                x = iv
        xs = tuple(x.type.shape) if x is not None else ()  # type: ignore[union-attr]
        t = op.results[0].type
        assert isinstance(t, TensorType)
        if (x is None or x not in self.scale or len(xs) != 3 or tuple(op.operands[0].type.shape) != (xs[0], xs[1] * xs[2])  # type: ignore[attr-defined]
                or int_tuple(op, "axes") not in ((1,), (-1,)) or tuple(t.shape) != (xs[0],)):
            raise op.emit_error("quantize lowers nn.mean only as global average pooling of an integer value "
                                "(mean over axis 1 of [C, H, W] reshaped to [C, H*W])")
        k = xs[1] * xs[2]
        bits = min(sp.MAX_WIDTH, sp.width(x.type) + int(math.ceil(math.log2(k))) + 1)  # saturating sum
        pool = self.insert(op, "spike.sum_pool2d", [x], [_int_type((xs[0], 1, 1), bits)], {
            "kernel_size": DenseArrayAttr(i64, (xs[1], xs[2])), "stride": DenseArrayAttr(i64, (xs[1], xs[2]))})
        out = self.insert(op, "nn.reshape", [pool.results[0]], [_int_type((xs[0],), bits)], {})
        self.scale[out.results[0]] = np.asarray(float(np.asarray(self.scale[x]).reshape(-1)[0]) * k)
        op.results[0].replace_all_uses_with(out.results[0])
        op.erase()

    def _align_int_terms(self, anchor: Operation, terms: list[_Term], S: float) -> float:
        """With identity terms (integers of scale s): S becomes ``s / 2^k``, the largest such scale
        <= S, so that each identity term enters through an exact shift: right (k > 0, rounding) or
        left (k < 0: an integer input gains fractional membrane bits, so that a shift leak does not
        round at the input's resolution; at most acc-bits - width(input) bits).  All identity terms
        must share power-of-two ratios."""
        ints = [t for t in terms if t.op is None]
        if not ints:
            return S
        s0 = ints[0].scale
        up = max(0, min(self.p.acc_bits - sp.width(t.value.type) for t in ints))  # type: ignore[union-attr]
        k = math.ceil(math.log2(s0 / S) - 1e-12) if np.isfinite(S) and S > 0 else -up
        S = s0 / 2.0 ** max(k, -up)
        for t in ints:
            r = math.log2(t.scale / S)
            if abs(r - round(r)) > 1e-9 or round(r) < -up:
                raise anchor.emit_error(f"sums integer values of scales {s0:g} and {t.scale:g}, whose ratio is not a "
                                        "power of two; quantize cannot align them exactly")
        return S

    def _sum_terms(self, terms: list[_Term], S_c: np.ndarray, shape: tuple[int, ...], anchor: Operation) -> Value:
        acc_t = _int_type(shape, self.p.acc_bits)
        accs = [self._synapse(t, S_c, anchor) for t in terms]
        acc = accs[0]
        if len(accs) == 1 and terms[0].op is None and acc.type != acc_t:
            return acc
        for other in accs[1:]:
            acc = self.insert(anchor, "spike.add", [acc, other], [acc_t], {}).results[0]
        return acc

    # ------------------------------------------------------------------ synapses

    def _terms(self, v: Value, neuron: Operation, delay: int = 0) -> list[_Term]:
        op = v.defining_op()
        if op is None:
            raise neuron.emit_error("input is not produced by an op")
        if v in self.scale and not delay:
            return [_Term(None, 0, v, float(np.asarray(self.scale[v]).reshape(-1)[0]))]
        if op.op_name in ("nn.linear", "nn.conv2d"):
            return [_Term(op, delay)]
        if op.op_name == "nn.add":
            return self._terms(op.operands[0], neuron, delay) + self._terms(op.operands[1], neuron, delay)
        if op.op_name == "snn.delay":
            return self._terms(op.operands[0], neuron, delay + int(op.attr("steps")))  # type: ignore[attr-defined]
        if op.op_name == "nn.scale" and is_spike_tensor(op.operands[0].type):
            return [_Term(self._scale_as_linear(op, neuron), delay)]
        if op.op_name == "nn.sub" and _is_spike_gate(op):
            raise neuron.emit_error(
                "input is gated by the neuron's own delayed spikes, nn.sub(x, nn.mul(snn.delay(s), x)) (snnTorch RLeaky "
                "reset_mechanism='zero': the membrane is 0 for the whole step after a spike); the integer neurons have no "
                "input gate: use reset_mechanism='subtract' or 'none' to compile this neuron")
        raise neuron.emit_error(f"input comes from '{op.op_name}'; quantize lowers neurons fed by nn.linear/nn.conv2d "
                                "(summed by nn.add, possibly through snn.delay)")

    def _scale_as_linear(self, op: Operation, neuron: Operation) -> Operation:
        """``nn.scale(s, V)`` of spikes (a one-to-one recurrence, snnTorch RLeaky's ``V``) as the equal
        ``nn.linear`` with the diagonal weight ``diag(V)`` (exact: the other products are 0), so that it
        lowers as a synapse; 1-d neuron shapes only."""
        t = op.results[0].type
        assert isinstance(t, TensorType)
        if len(t.shape) != 1:
            raise neuron.emit_error(
                f"input comes from a one-to-one scaling of spikes (nn.scale, e.g. snnTorch RLeaky's V) of shape "
                f"{list(t.shape)}; quantize lowers it as a diagonal synapse for 1-d neuron layers only")
        n = int(t.shape[0])
        v = np.broadcast_to(np.asarray(param_array(op, "scale", np.float64)).reshape(-1), (n,))
        w = np.diag(v)
        lin = self.insert(op, "nn.linear", [op.operands[0]], [t], {"weight": weight_attr(w, t.element, hint="weight")})
        op.results[0].replace_all_uses_with(lin.results[0])
        op.erase()
        return lin

    def _rows(self, w: np.ndarray) -> np.ndarray:
        return w.reshape(w.shape[0], -1)

    def _acc_scale(self, neuron: Operation, terms: list[_Term]) -> tuple[np.ndarray, int]:
        """The accumulator scale per output channel ([out]) and the number of output channels."""
        p = self.p
        outs = {tensor_attr_array(t.op, "weight").shape[0] for t in terms if t.op is not None}  # type: ignore[union-attr]
        if not outs:  # identity terms only: no weight limit (the membrane range and _align_int_terms set S)
            rt = neuron.operands[0].type
            n = rt.shape[0] if isinstance(rt, TensorType) and rt.shape else 1
            return np.full(n, np.inf), n
        if len(outs) != 1:
            raise neuron.emit_error("its synapse terms disagree on the number of output channels")
        n_out = outs.pop()
        scheme = p.weight_scheme
        if (scheme is not WeightScheme.uniform or p.qp_rescale) and len(terms) != 1:
            raise neuron.emit_error(f"weight-scheme={scheme.value}{' with qp-rescale' if p.qp_rescale else ''} needs one "
                                    f"synapse per neuron; this neuron has {len(terms)}")
        S = np.full(n_out, np.inf)
        for t in terms:
            if t.op is None:
                continue
            w = tensor_attr_array(t.op, "weight")
            _, s_in = self._domain(t.op.operands[0], t.op)
            s_in = float(s_in)
            if scheme is WeightScheme.ternary:
                _, sc = ternary_weights(w, p.per_channel)  # type: ignore[arg-type]
            elif scheme is WeightScheme.binary:
                _, sc = binary_weights(w, p.per_channel)  # type: ignore[arg-type]
            elif p.qp_rescale:
                rows = self._rows(w)  # type: ignore[arg-type]
                gamma = np.abs(rows).mean(axis=1)
                gamma = np.where(gamma == 0, 1.0, gamma)
                sc = ((1 << p.weight_bits) - 1) / gamma
            else:
                p.declared_grid_check(t.op, w)  # type: ignore[arg-type]
                sc, _ = uniform_scale(w, p.weight_bits, p.per_channel)  # type: ignore[arg-type]
            S = np.minimum(S, np.broadcast_to(sc * s_in, (n_out,)))
        return S, n_out

    def _keep_grid(self, terms: list[_Term], S: np.ndarray) -> np.ndarray:
        """After the membrane limits lowered S: for a single uniform term on a grid of step q,
        round S down to ``s_in 2^e / q`` (e >= 0) so that its weights stay exact integers."""
        p = self.p
        if len(terms) != 1 or terms[0].op is None or p.weight_scheme is not WeightScheme.uniform or p.qp_rescale:
            return S
        w = tensor_attr_array(terms[0].op, "weight")
        assert w is not None
        _, s_in = self._domain(terms[0].op.operands[0], terms[0].op)
        qmax = (1 << (p.weight_bits - 1)) - 1
        rows = _channels(w, p.per_channel)
        out = S.copy()
        steps = [grid_step(r, qmax) for r in rows]
        for c in range(S.shape[0]):
            q = steps[c if p.per_channel else 0]
            if q is None or not np.isfinite(S[c]):
                continue
            base = float(s_in) / q
            if S[c] >= base:
                out[c] = base * 2.0 ** math.floor(math.log2(S[c] / base) + 1e-12)
        return out

    def _fit_input(self, t: _Term, S: np.ndarray, s_in: float, anchor: Operation) -> tuple[Value, float, int]:
        """Where the term's accumulator scale S is below what its weights allow (a synapse summed
        with others whose weights set S, or S lowered by the membrane range), the term is computed
        finer: ``k_fit`` is the largest k for which the weights ``W S 2^k / s_in`` still fit the grid;
        ``k_in`` of it shifts an integer input right (only as far as needed to keep the finer
        accumulator inside acc-bits), the rest ``k_out`` scales the accumulator, which a
        ``spike.requant`` (half up) brings back to S: one rounding of the sum instead of one per
        weight (only where ``k_out >= MIN_FINE_SHIFT``).  Returns the input, its scale and k_out.  Nothing changes where the weights are
        exact integers at S (a kept grid) or the scheme is not uniform."""
        p = self.p
        assert t.op is not None
        x = t.op.operands[0]
        if p.weight_scheme is not WeightScheme.uniform or p.qp_rescale or is_spike_tensor(x.type):
            return x, s_in, 0
        w = tensor_attr_array(t.op, "weight")
        assert w is not None
        xw = w * (np.broadcast_to(S, (w.shape[0],)) / s_in).reshape((-1,) + (1,) * (w.ndim - 1))
        if np.all(_snap(xw) == np.rint(xw)):
            return x, s_in, 0  # the weights are exact integers at this scale (a grid kept by _keep_grid)
        top = np.abs(w.reshape(w.shape[0], -1)).max(axis=1) if p.per_channel else np.full(w.shape[0], np.abs(w).max())
        qmax = (1 << (p.weight_bits - 1)) - 1
        room = np.where(top > 0, s_in * qmax / np.maximum(np.broadcast_to(S, top.shape) * top, 1e-300), np.inf)
        lim = float(np.min(room))
        if not np.isfinite(lim) or lim < 2.0:
            return x, s_in, 0
        k_fit = min(int(math.floor(math.log2(lim) + 1e-9)), 40)
        k_in = 0
        if not is_spike_tensor(x.type):
            fan_in = w.size // w.shape[0]
            need = math.log2(sp.value_bound(x.type)) + math.log2(qmax) + math.log2(max(fan_in, 1)) + 1
            k_in = min(k_fit, max(0, int(math.ceil(need - (p.acc_bits - 1)))))
        if k_in:
            key = (x, k_in)
            cache = self.__dict__.setdefault("_shifted", {})
            if key not in cache:
                xt = x.type
                assert isinstance(xt, TensorType)
                cache[key] = self.insert(anchor, "spike.requant", [x], [xt],
                                         {"shift": IntegerAttr(k_in, i64), "rounding": StringAttr("half_up")}).results[0]
            x, s_in = cache[key], s_in / 2.0**k_in
        k_out = k_fit - k_in
        # a requant rounds ties up: at k_out = 1 half the sums are ties (a +1/4 LSB bias per step that an
        # IF neuron integrates), so small k_out keep the unbiased per-weight rounding instead
        return x, s_in, (k_out if k_out >= MIN_FINE_SHIFT else 0)

    def _weights(self, t: _Term, S: np.ndarray, s_in: Any = None) -> np.ndarray:
        """Integer weights of one term at accumulator scale S (per output channel)."""
        p = self.p
        w = tensor_attr_array(t.op, "weight")
        assert w is not None
        if s_in is None:
            _, s_in = self._domain(t.op.operands[0], t.op)
        shape = (-1,) + (1,) * (w.ndim - 1)
        if p.weight_scheme is WeightScheme.ternary:
            return ternary_weights(w, p.per_channel)[0]
        if p.weight_scheme is WeightScheme.binary:
            return binary_weights(w, p.per_channel)[0]
        if p.qp_rescale:
            n = (1 << p.weight_bits) - 1
            rows = self._rows(w)
            gamma = np.abs(rows).mean(axis=1, keepdims=True)
            gamma = np.where(gamma == 0, 1.0, gamma)
            w_int = np.rint(n / 2 * (np.clip(rows / gamma, -1.0, 1.0) + 1.0))
            return (2 * w_int - n).astype(np.int64).reshape(w.shape)
        qmax = (1 << (p.weight_bits - 1)) - 1
        x = w * (S / float(s_in)).reshape(shape)
        r = np.rint(_snap(x))
        label = f"{t.op.op_name}@{self._loc(t.op)}"
        # exact: every weight within the grid tolerance of its integer (f32-stored QAT weights)
        on_grid = np.all(np.abs(r - x) <= 1e-6 * np.maximum(1.0, np.abs(x)))
        if p.weight_grid and not on_grid:  # on the declared grid (checked), but S forces a rounding
            raise t.op.emit_error(f"weights are on the declared weight-grid={p.weight_grid} but cannot stay exact: "
                                  "the neuron's accumulator scale is set by other synapse terms of another step "
                                  "or lowered by membrane-bits")
        (self.p._exact if on_grid else self.p._rounded).append(label)
        return np.clip(r, -qmax, qmax).astype(np.int64)

    def _loc(self, op: Operation) -> str:
        return str(self.g.body.index_of(op))

    def _weight_bits(self) -> int:
        p = self.p
        if p.weight_scheme is not WeightScheme.uniform:
            return 2
        return p.weight_bits + 1 if p.qp_rescale else p.weight_bits

    def _synapse(self, t: _Term, S: np.ndarray, anchor: Operation) -> Value:
        """The accumulator op of one term (and its delay / delayed bias)."""
        p = self.p
        if t.op is None:
            assert t.value is not None
            k = round(math.log2(t.scale / float(np.min(S))))
            if k == 0:
                return t.value
            vt = t.value.type
            assert isinstance(vt, TensorType)
            return self.insert(anchor, "spike.requant", [t.value], [_int_type(vt.shape, p.acc_bits)],
                               {"shift": IntegerAttr(k, i64), "rounding": StringAttr("half_up")}).results[0]
        kind, s_in = self._domain(t.op.operands[0], t.op)
        x, s_in, k_out = self._fit_input(t, S, float(np.asarray(s_in).reshape(-1)[0]), anchor)
        w_int = self._weights(t, S * 2.0**k_out, s_in)
        wa = weight_attr(w_int, IntegerType(self._weight_bits()), hint="weight")
        rt = t.op.results[0].type
        assert isinstance(rt, TensorType)
        acc_t = _int_type(rt.shape, p.acc_bits)
        if t.op.op_name == "nn.linear":
            name = "spike.accumulate" if kind == "spike" else "spike.accumulate_dense"
            attrs: dict[str, Any] = {"weight": wa}
        else:
            name = "spike.accumulate_conv2d"
            attrs = {"weight": wa}
            for n in ("stride", "padding", "dilation", "groups"):
                a = t.op.get_attr(n)
                if a is not None:
                    attrs[n] = a
        acc = self.insert(anchor, name, [x], [acc_t], attrs).results[0]
        if k_out:
            acc = self.insert(anchor, "spike.requant", [acc], [acc_t],
                              {"shift": IntegerAttr(k_out, i64), "rounding": StringAttr("half_up")}).results[0]
        if t.delay:
            b = tensor_attr_array(t.op, "bias")
            if b is not None and np.any(b != 0):
                bshape = (-1,) + (1,) * (len(rt.shape) - 1)
                bi = np.rint(b * S).astype(np.int64).reshape(bshape)
                bi = np.broadcast_to(bi, rt.shape).copy()
                c = self.insert(anchor, "nn.constant", [], [acc_t], {"value": DenseElementsAttr(acc_t, bi)}
                                if bi.size <= 16 else {"value": weight_attr(bi, acc_t.element, hint="bias")})
                acc = self.insert(anchor, "spike.add", [acc, c.results[0]], [acc_t], {}).results[0]
            acc = self.insert(anchor, "snn.delay", [acc], [acc_t], {"steps": IntegerAttr(t.delay, i64)}).results[0]
        return acc

    # ------------------------------------------------------------------ neurons

    def _leak(self, alpha: np.ndarray, op: Operation) -> dict[str, Any]:
        p = self.p
        a = np.asarray(alpha, dtype=np.float64)
        if np.any(a < 0) or np.any(a > 1):
            raise op.emit_error(f"alpha must lie in [0, 1] for an integer leak, got [{a.min():g}, {a.max():g}]")
        if np.all(np.abs(a - 1.0) <= _SNAP):
            return {"leak_mode": StringAttr("none")}
        with np.errstate(divide="ignore"):
            k = -np.log2(1.0 - a)
        kr = np.rint(k)
        if np.all(np.isfinite(k)) and np.all(np.abs(k - kr) <= 1e-9) and np.all((kr >= 1) & (kr < p.membrane_bits)):
            return {"leak_mode": StringAttr("shift"), "leak_shift": _int_param(kr, a.shape)}
        decay = np.rint(a * (1 << p.frac_bits))
        return {"leak_mode": StringAttr("mul"), "decay": _int_param(decay, a.shape), "frac_bits": IntegerAttr(p.frac_bits, i64)}

    def _stage_limit(self, mags: list[np.ndarray]) -> np.ndarray:
        vmax = (1 << (self.p.membrane_bits - 1)) - 1
        m = np.max(np.stack([np.broadcast_to(np.abs(x), np.broadcast_shapes(*[np.shape(y) for y in mags])) for x in mags]), axis=0)
        return np.where(m > 0, vmax / np.maximum(m, 1e-300), np.inf)

    def _lower_neuron(self, op: Operation) -> None:
        p = self.p
        name = op.op_name
        # multi-spike (graded) neuron: spike.lif{spike_fn = "multi"} whose iW count (scale 1) feeds the next
        # synapses as an integer input (spike.accumulate_dense: weight x count)
        multi = op.get_attr("spike_fn") is not None and op.attr("spike_fn") == "multi"  # type: ignore[attr-defined]
        if op.get_attr("v_min") is not None and not multi:
            raise op.emit_error("has a membrane lower bound v_min but single spikes; the integer neuron bounds the membrane "
                                "of multi-spike neurons only (spike_fn = \"multi\", max_spikes = 1 fires single spikes)")
        f = lambda n: param_array(op, n, np.float64)  # noqa: E731
        for init in ("v_init", "i_init"):
            if any(d.name == init for d in type(op).attr_defs()) and np.any(f(init) != 0):
                raise op.emit_error(f"{init} must be 0 for the integer neuron (integer.md starts from v = 0)")
        terms = self._terms(op.operands[0], op)
        S, n_out = self._acc_scale(op, terms)
        rt = op.results[0].type
        assert isinstance(rt, TensorType)
        shape = tuple(rt.shape)
        ch = _chan_shape(terms, shape)  # per output channel, broadcast over the rest

        def chan(x: np.ndarray) -> np.ndarray:
            return np.asarray(x).reshape(ch) if np.ndim(x) else np.asarray(x)

        rng = self.ranges.get(str(id(op)), {})
        spiking = name in ("snn.lif", "snn.if", "snn.cuba_lif")
        cuba = name == "snn.cuba_lif"
        beta = f("beta")
        if np.any(beta <= 0) or (cuba and np.any(f("beta_syn") <= 0)):
            raise op.emit_error("beta must be > 0 to fold into the membrane scale")
        # membrane-range limits on S: S_v = S * k_v with k_v = 1/beta (1/(beta_syn*beta) for cuba)
        k_v = 1.0 / (beta * f("beta_syn")) if cuba else 1.0 / beta
        mags = []
        if spiking:
            mags += [HEADROOM * f("v_th"), HEADROOM * f("v_reset")]
        if multi:  # the membrane before the reset reaches (count + 1) * v_th
            mags.append(HEADROOM * f("v_th") * (self.vrange.get(op.results[0], 0.0) + 1.0))
        if op.get_attr("v_min") is not None:
            mags.append(HEADROOM * f("v_min"))
        if "v" in rng:
            mags.append(np.asarray(1.25 * rng["v"]))
        if mags:
            lim = self._stage_limit(mags) / k_v
            S = np.minimum(chan(S), lim) if np.ndim(lim) else np.minimum(S, lim)
        if cuba:
            k_i = 1.0 / f("beta_syn")
            mags_i = [HEADROOM * f("v_th") / beta] + ([np.asarray(1.25 * rng["i"])] if "i" in rng else [])
            S = np.minimum(chan(S), self._stage_limit(mags_i) / k_i)
        # S per output channel
        S_c = np.asarray(S)
        if S_c.ndim > 1:
            S_c = S_c.reshape(S_c.shape[0], -1).min(axis=1)
        S_c = np.broadcast_to(S_c, (n_out,)).astype(np.float64)
        S_c = self._keep_grid(terms, S_c)
        if any(t.op is None for t in terms):  # identity terms: one scalar scale, exact shifts
            S_c = np.full(n_out, self._align_int_terms(op, terms, float(np.min(S_c))))
        # accumulators
        acc = self._sum_terms(terms, S_c, shape, op)
        bias_f = np.zeros(n_out)
        for t in terms:
            if t.op is None:
                continue
            b = tensor_attr_array(t.op, "bias")
            if b is not None and not t.delay:
                bias_f = bias_f + b
        Sx = chan(S_c)
        N = p.membrane_bits
        common = {"membrane_bits": IntegerAttr(N, i64)}
        if cuba:
            Si = Sx / f("beta_syn")
            bias_i = np.rint(Sx * chan(bias_f) + Si * f("gamma_syn"))
            li_attrs = {**common, **self._leak(f("alpha_syn"), op), "bias": _int_param(bias_i, shape)}
            cur = self.insert(op, "spike.li", [acc], [_int_type(shape, N)], li_attrs).results[0]
            Sv = Si / beta
            bias_v = np.rint(Sv * f("gamma"))
            stage_in = cur
        else:
            Sv = Sx / beta
            bias_v = np.rint(Sx * chan(bias_f) + Sv * f("gamma"))
            stage_in = acc
        alpha = np.asarray(1.0) if name in ("snn.if", "snn.integrator") else f("alpha")
        attrs = {**common, **self._leak(alpha, op), "bias": _int_param(bias_v, shape)}
        if spiking:
            x = _snap(Sv * f("v_th"))
            v_th = np.floor(x) if op.attr("cmp") == "gt" else np.ceil(x)  # type: ignore[attr-defined]
            attrs.update({
                "v_th": _int_param(v_th, shape),
                "v_reset": _int_param(np.rint(Sv * f("v_reset")), shape),
                "reset": StringAttr(str(op.attr("reset"))),  # type: ignore[attr-defined]
                "cmp": StringAttr(str(op.attr("cmp"))),  # type: ignore[attr-defined]
            })
            lo, hi = sp.signed_range(N)
            for k in ("v_th", "v_reset", "bias"):
                vals = np.asarray(attrs[k].value)
                if vals.size and (vals.min() < lo or vals.max() > hi):
                    raise op.emit_error(f"{k} does not fit membrane-bits={N} (got [{vals.min()}, {vals.max()}]); "
                                        "raise membrane-bits")
            if multi:
                if np.any(v_th < 1):
                    raise op.emit_error(f"the integer threshold of this multi-spike neuron is {int(np.min(v_th))} (< 1): "
                                        "raise membrane-bits or lower the weight scale")
                cap = op.attr("max_spikes")  # type: ignore[attr-defined]
                top = int(cap) if cap is not None else int(hi // max(int(np.min(v_th)), 1))
                W = next(b for b in (8, 16, 32) if top <= (1 << (b - 1)) - 1) if top < (1 << 31) else 62
                attrs["spike_fn"] = StringAttr("multi")
                if cap is not None:
                    attrs["max_spikes"] = IntegerAttr(int(cap), i64)
                if op.get_attr("v_min") is not None:  # Sinabs' min_v_mem: max(V, round(S_v v_min))
                    vm = np.rint(_snap(Sv * f("v_min")))
                    if vm.size and (vm.min() < lo or vm.max() > hi):
                        raise op.emit_error(f"v_min does not fit membrane-bits={N}; raise membrane-bits")
                    attrs["v_min"] = _int_param(vm, shape)
                new = self.insert(op, "spike.lif", [stage_in], [_int_type(shape, W)], attrs)
                self.scale[new.results[0]] = np.asarray(1.0)  # counts: integers of scale 1
            else:
                new = self.insert(op, "spike.lif", [stage_in], [rt], attrs)
            op.results[0].replace_all_uses_with(new.results[0])
        else:
            li = self.insert(op, "spike.li", [stage_in], [_int_type(shape, N)], attrs)
            inv = 1.0 / np.broadcast_to(Sv, np.broadcast_shapes(np.shape(Sv), (1,) * len(shape)))
            sc = FloatAttr(float(inv.reshape(-1)[0])) if np.all(inv == inv.reshape(-1)[0]) \
                else weight_attr(inv, f32, hint="scale")
            dq = self.insert(op, "spike.dequantize", [li.results[0]], [rt], {"scale": sc})
            op.results[0].replace_all_uses_with(dq.results[0])
        op.erase()

    def _dead_code(self) -> None:
        changed = True
        while changed:
            changed = False
            for op in list(self.g.body.ops):
                if has_trait(op, Trait.GRAPH_OUTPUT) or has_trait(op, Trait.GRAPH_INPUT):
                    continue
                if (has_trait(op, Trait.PURE) or op.op_name == "snn.delay") and not any(r.has_uses() for r in op.results):
                    op.drop_operands()
                    op.erase()
                    changed = True



__all__ = [
    "HEADROOM",
    "OutputAgreement",
    "Quantize",
    "QuantizeReport",
    "WeightScheme",
    "bestformer_binarize",
    "binary_weights",
    "grid_step",
    "grid_violation",
    "parse_weight_grid",
    "qp_quantize",
    "qp_rescale",
    "qsnn_binarize",
    "ternary_weights",
    "uniform_scale",
]
