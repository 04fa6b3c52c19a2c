"""C99 code generation from an integer (``spike`` dialect) graph.

``emit(module, target, out_dir)`` writes

* ``model.h``: ``model_state_t`` (every membrane, delay queue and per-step temporary: no
  malloc anywhere), ``model_reset(state)``, ``model_step(state, in..., out...)`` and the
  input/output sizes;
* ``model.c``: the step function: integer adds, shifts, compares and (for the encoding layer
  and the ``mul`` leak) integer multiplies, no floating point; weights are ``const`` arrays
  stored ``[in][out]`` so that a spike event adds one contiguous weight row (event-driven
  accumulation); a dense multiply-accumulate path for integer (non-spike) inputs;
* ``harness.c``: reads ``T`` and then, per step, every input's integers from stdin, prints
  every output's integers per step (one line per output per step);
* ``Makefile``: ``make`` builds ``harness`` with ``$(CC)`` (C99, ``-Wall -Wextra -Werror``).

Semantics are those of ``snnc/interp/spike.py`` bit for bit (integer.md).  Arithmetic right
shifts of negative values are written as ``~(~x >> k)`` (floor division, portable C99).
The graph inputs of the C API are the integers after the boundary: an input that feeds
``spike.quantize`` is passed already quantized (the host does it); ``spike.dequantize``
outputs are returned as the integer before scaling (``model.h`` lists each scale).

Targets (``TARGETS``): ``host`` and ``cortex-m4`` (flash and RAM limits read from
``snnc/targets/cortex_m4.toml``; a user's ``.toml`` of kind ``mcu`` works too): a model that
does not fit is a diagnostic naming the resource and the excess.  The QEMU board that runs
the Cortex-M4 image (MPS2-AN386) has more memory than that target; ``m4.py`` links for it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...dialects import spike as sp
from ...dialects.common import int_tuple, param_array
from ...dialects.nn import spatial_padding
from ...ir.core import Operation, Value
from ...ir.diagnostics import error
from ...ir.graph import step_order
from ...ir.types import IntegerType, TensorType, i1, si2


@dataclass(frozen=True)
class Target:
    name: str
    flash_bytes: int | None
    ram_bytes: int | None
    description: str


def mcu_target(name_or_path: str | os.PathLike[str]) -> Target:
    """A C target from a target description (``snnc/targets/*.toml`` of kind ``mcu``, or a
    user's file): its flash and RAM limits come from the ``[mcu]`` table."""
    from ...targets import load_target

    t = load_target(name_or_path)
    if t.kind != "mcu":
        raise error(f"target '{t.name}' is a {t.kind} target, not a microcontroller (kind = \"mcu\") for the C backend")
    return Target(t.name, int(t["mcu"]["flash_bytes"]), int(t["mcu"]["ram_bytes"]),
                  str(t.data.get("description", t.name)))


#: ``host`` has no limits; ``cortex-m4`` reads snnc/targets/cortex_m4.toml.
TARGETS: dict[str, Target] = {
    "host": Target("host", None, None, "the build machine's C compiler"),
    "cortex-m4": mcu_target("cortex-m4"),
}


@dataclass
class CArtifact:
    out_dir: Path
    files: dict[str, Path]
    flash_bytes: int  # const data (weights and parameters)
    ram_bytes: int  # sizeof(model_state_t)
    inputs: list[tuple[str, int]] = field(default_factory=list)  # (name, elements)
    outputs: list[tuple[str, int]] = field(default_factory=list)


def _ctype(t) -> tuple[str, int]:
    assert isinstance(t, TensorType) and isinstance(t.element, IntegerType)
    w = t.element.width
    if t.element in (i1,):
        return "uint8_t", 1
    for bits, name in ((8, "int8_t"), (16, "int16_t"), (32, "int32_t"), (64, "int64_t")):
        if w <= bits:
            return name, bits // 8
    raise TypeError(f"no C type for {t}")


def _cint_type(bits: int) -> tuple[str, int]:
    for b, name in ((8, "int8_t"), (16, "int16_t"), (32, "int32_t"), (64, "int64_t")):
        if bits <= b:
            return name, b // 8
    raise TypeError(bits)


def _lit(v: int) -> str:
    v = int(v)
    if v == -(1 << 63):
        return "INT64_MIN"
    return f"INT64_C({v})" if abs(v) > 0x7FFFFFFF else str(v)


def _elements(t) -> int:
    assert isinstance(t, TensorType)
    return int(np.prod(t.shape, dtype=np.int64))


class _Emitter:
    def __init__(self, graph: Operation, target: Target) -> None:
        self.g = graph
        self.target = target
        self.consts: list[str] = []
        self.state: list[str] = []
        self.reset: list[str] = []
        self.body: list[str] = []
        self.tail: list[str] = []  # delay updates after the step
        self.names: dict[Value, str] = {}
        self.flash = 0
        self.counter = 0
        self.inputs: list[tuple[str, Value]] = []
        self.outputs: list[tuple[str, Value, str]] = []
        self.notes: list[str] = []

    # ------------------------------------------------------------------ helpers

    def fresh(self, hint: str) -> str:
        self.counter += 1
        return f"{hint}{self.counter}"

    def buffer(self, v: Value, hint: str = "v") -> str:
        name = self.fresh(hint)
        ct, _ = _ctype(v.type)
        self.state.append(f"    {ct} {name}[{max(_elements(v.type), 1)}];")
        self.names[v] = f"s->{name}"
        return f"s->{name}"

    def const_array(self, data: np.ndarray, bits: int, hint: str) -> str:
        name = self.fresh(hint)
        ct, size = _cint_type(bits)
        flat = np.asarray(data, dtype=np.int64).ravel()
        rows = [", ".join(_lit(x) for x in flat[i : i + 16]) for i in range(0, flat.size, 16)]
        self.consts.append(f"static const {ct} {name}[{max(flat.size, 1)}] = {{\n    " + ",\n    ".join(rows or ["0"]) + "\n};")
        self.flash += size * max(flat.size, 1)
        return name

    def param(self, op: Operation, name: str, n: int, shape: tuple[int, ...]) -> tuple[str, bool]:
        """A neuron parameter: (C expression for element [i], is_array)."""
        v = np.asarray(op.attr(name) if op.attr(name) is not None else 0, dtype=np.int64)  # type: ignore[attr-defined]
        full = np.broadcast_to(v, shape).ravel()
        if full.size == 0 or np.all(full == full[0]):
            return _lit(full[0] if full.size else 0), False
        bits = max(8, int(np.abs(full).max()).bit_length() + 1)
        return self.const_array(full, bits, f"p_{name}_") + "[i]", True

    def v(self, value: Value) -> str:
        return self.names[value]

    # ------------------------------------------------------------------ ops

    def run(self) -> None:
        order = step_order(self.g.body)
        for op in order:
            if op.op_name == "snn.delay":
                self.delay_read(op)
        for op in order:
            handler = getattr(self, "op_" + op.op_name.replace(".", "_"), None)
            if handler is None:
                raise op.emit_error("is not supported by the C backend (lower the graph with the quantize pass first)")
            handler(op)

    def op_snn_input(self, op: Operation) -> None:
        t = op.results[0].type
        if not isinstance(t, TensorType) or not isinstance(t.element, IntegerType):
            users = list(op.results[0].users)
            if all(u.op_name == "spike.quantize" for u in users):
                self.inputs.append((str(op.attr("name")), op.results[0]))  # type: ignore[attr-defined]
                return
            raise op.emit_error("a real-valued graph input must feed spike.quantize only (the host quantizes it)")
        self.inputs.append((str(op.attr("name")), op.results[0]))  # type: ignore[attr-defined]
        buf = self.buffer(op.results[0], "in")
        idx = len(self.inputs) - 1
        self.body.append(f"    for (i = 0; i < {_elements(t)}; i++) {buf}[i] = ({_ctype(t)[0]})in{idx}[i];")

    def op_spike_quantize(self, op: Operation) -> None:
        src = op.operands[0]
        idx = next(i for i, (_, v) in enumerate(self.inputs) if v is src)
        buf = self.buffer(op.results[0], "q")
        n = _elements(op.results[0].type)
        lo, hi = sp.signed_range(sp.width(op.results[0].type))
        self.body.append(f"    /* {op.op_name}: the host passes input {idx} already quantized; saturate to its width */")
        self.body.append(f"    for (i = 0; i < {n}; i++) {buf}[i] = ({_ctype(op.results[0].type)[0]})SNNC_SAT(in{idx}[i], {lo}, {hi});")

    def op_snn_output(self, op: Operation) -> None:
        src = op.operands[0]
        scale = ""
        d = src.defining_op()
        if d is not None and d.op_name == "spike.dequantize":
            src = d.operands[0]
            scale = f"scale {np.asarray(param_array(d, 'scale')).ravel()[0]:.9g}"
        idx = len(self.outputs)
        self.outputs.append((str(op.attr("name")), src, scale))  # type: ignore[attr-defined]
        self.body.append(f"    for (i = 0; i < {_elements(src.type)}; i++) out{idx}[i] = (int32_t){self.v(src)}[i];")

    def op_spike_dequantize(self, op: Operation) -> None:
        if any(u.op_name != "snn.output" for u in op.results[0].users):
            raise op.emit_error("spike.dequantize must feed graph outputs only in C (the host scales outputs)")

    def op_nn_constant(self, op: Operation) -> None:
        t = op.results[0].type
        if not isinstance(t, TensorType) or not isinstance(t.element, IntegerType):
            raise op.emit_error("only integer constants are supported by the C backend")
        name = self.const_array(np.asarray(op.get_attr("value").data), _ctype(t)[1] * 8, "c")  # type: ignore[union-attr]
        self.names[op.results[0]] = name

    def _alias(self, op: Operation) -> None:
        self.names[op.results[0]] = self.v(op.operands[0])

    op_nn_flatten = _alias
    op_nn_reshape = _alias

    def op_nn_transpose(self, op: Operation) -> None:
        """A permuted copy: output element i (row-major over the result shape) reads input index
        ``in[perm[k]] = out[k]``."""
        src = op.operands[0]
        ishape = tuple(src.type.shape)  # type: ignore[attr-defined]
        perm = [int(d) for d in int_tuple(op, "perm")]
        oshape = [ishape[d] for d in perm]
        istr = [int(np.prod(ishape[d + 1 :], dtype=np.int64)) for d in range(len(ishape))]
        ostr = [int(np.prod(oshape[k + 1 :], dtype=np.int64)) for k in range(len(oshape))]
        idx = " + ".join(f"((i / {ostr[k]}) % {oshape[k]}) * {istr[perm[k]]}" for k in range(len(oshape))) or "0"
        out = self.buffer(op.results[0], "tr")
        self.body.append(f"    for (i = 0; i < {_elements(op.results[0].type)}; i++) {out}[i] = {self.v(src)}[{idx}];")

    def delay_read(self, op: Operation) -> None:
        steps = int(op.attr("steps"))  # type: ignore[attr-defined]
        t = op.results[0].type
        n = _elements(t)
        ct, _ = _ctype(t)
        q = self.fresh("delayq")
        self.state.append(f"    {ct} {q}[{steps}][{n}];")
        self.reset.append(f"    memset(s->{q}, 0, sizeof s->{q});")
        self.names[op.results[0]] = f"s->{q}[0]"
        op_q = q

        def later() -> None:
            src = self.v(op.operands[0])
            if steps > 1:
                self.tail.append(f"    memmove(s->{op_q}[0], s->{op_q}[1], sizeof s->{op_q}[0] * {steps - 1});")
            self.tail.append(f"    for (i = 0; i < {n}; i++) s->{op_q}[{steps - 1}][i] = {src}[i];")

        self._delays = getattr(self, "_delays", []) + [later]

    def op_snn_delay(self, op: Operation) -> None:
        pass  # read at the start of the step, written at the end (finish())

    def _needs_sat(self, w: np.ndarray, bound: int, bits: int) -> bool:
        rows = np.abs(w.reshape(w.shape[0], -1)).sum(axis=1)
        return int(rows.max(initial=0)) * bound > sp.signed_range(bits)[1]

    def op_spike_accumulate(self, op: Operation) -> None:
        self._dense(op, event=True)

    def op_spike_accumulate_dense(self, op: Operation) -> None:
        self._dense(op, event=False)

    def _dense(self, op: Operation, event: bool) -> None:
        x = op.operands[0]
        if len(x.type.shape) != 1:  # type: ignore[attr-defined]
            raise op.emit_error("the C backend supports rank-1 inputs of accumulate ops")
        w = np.asarray(op.get_attr("weight").data, dtype=np.int64)  # type: ignore[union-attr]
        n_out, n_in = w.shape
        bits = sp.width(op.results[0].type)
        bound = sp.value_bound(x.type)
        sat = self._needs_sat(w, bound, bits)
        lo, hi = sp.signed_range(bits)
        wt = self.const_array(w.T, sp.weight_bits(op), "w")  # [in][out]: one row per input axon
        out = self.buffer(op.results[0], "acc")
        xin = self.v(x)
        acc_t = _ctype(op.results[0].type)[0]
        b = self.body
        b.append(f"    /* {op.op_name}: [{n_out} x {n_in}], {'saturating' if sat else 'cannot saturate'} at {bits} bits */")
        b.append(f"    for (o = 0; o < {n_out}; o++) {out}[o] = 0;")
        b.append(f"    for (i = 0; i < {n_in}; i++) {{")
        b.append(f"        const {_cint_type(sp.weight_bits(op))[0]} *row;")
        if event:
            b.append(f"        if ({xin}[i] == 0) continue;")
            b.append(f"        row = {wt} + (size_t)i * {n_out};")
            b.append(f"        if ({xin}[i] > 0) {{")
            if sat:
                b.append(f"            for (o = 0; o < {n_out}; o++) {out}[o] = ({acc_t})SNNC_SAT((int64_t){out}[o] + row[o], {_lit(lo)}, {_lit(hi)});")
                b.append("        } else {")
                b.append(f"            for (o = 0; o < {n_out}; o++) {out}[o] = ({acc_t})SNNC_SAT((int64_t){out}[o] - row[o], {_lit(lo)}, {_lit(hi)});")
            else:
                b.append(f"            for (o = 0; o < {n_out}; o++) {out}[o] += row[o];")
                b.append("        } else {")
                b.append(f"            for (o = 0; o < {n_out}; o++) {out}[o] -= row[o];")
            b.append("        }")
        else:
            b.append(f"        xv = (int64_t){xin}[i];")
            b.append("        if (xv == 0) continue;")
            b.append(f"        row = {wt} + (size_t)i * {n_out};")
            if sat:
                b.append(f"        for (o = 0; o < {n_out}; o++) {out}[o] = ({acc_t})SNNC_SAT((int64_t){out}[o] + xv * row[o], {_lit(lo)}, {_lit(hi)});")
            else:
                b.append(f"        for (o = 0; o < {n_out}; o++) {out}[o] = ({acc_t})((int64_t){out}[o] + xv * row[o]);")
        b.append("    }")

    def op_spike_accumulate_conv2d(self, op: Operation) -> None:
        x = op.operands[0]
        C, H, W = x.type.shape  # type: ignore[attr-defined]
        w = np.asarray(op.get_attr("weight").data, dtype=np.int64)  # type: ignore[union-attr]
        cout, cg, kh, kw = w.shape
        G = int(op.attr("groups"))  # type: ignore[attr-defined]
        og = cout // G
        _, OH, OW = op.results[0].type.shape  # type: ignore[attr-defined]
        sh, sw = int_tuple(op, "stride")
        dh, dw = int_tuple(op, "dilation")
        (pt, _), (pl, _) = spatial_padding(op, 2)  # type: ignore[arg-type]
        bits = sp.width(op.results[0].type)
        bound = sp.value_bound(x.type)
        sat = self._needs_sat(w, bound, bits)
        lo, hi = sp.signed_range(bits)
        wc = self.const_array(w, sp.weight_bits(op), "wc")
        out = self.buffer(op.results[0], "acc")
        xin = self.v(x)
        acc_t = _ctype(op.results[0].type)[0]
        add = (f"a = SNNC_SAT(a + (int64_t){xin}[(c * {H} + yy) * {W} + xx] * {wc}[((o * {cg} + (c - g * {cg})) * {kh} + ky) * {kw} + kx], {_lit(lo)}, {_lit(hi)});"
               if sat else
               f"a += (int64_t){xin}[(c * {H} + yy) * {W} + xx] * {wc}[((o * {cg} + (c - g * {cg})) * {kh} + ky) * {kw} + kx];")
        self.body += [
            f"    /* {op.op_name}: {cout}x{cg}x{kh}x{kw}, {'saturating' if sat else 'cannot saturate'} at {bits} bits; "
            "terms in (c, ky, kx) order = increasing input index */",
            f"    for (o = 0; o < {cout}; o++) {{",
            f"        long g = o / {og};",
            f"        for (p = 0; p < {OH}; p++) for (q = 0; q < {OW}; q++) {{",
            "            int64_t a = 0;",
            "            long c, ky, kx;",
            f"            for (c = g * {cg}; c < (g + 1) * {cg}; c++) for (ky = 0; ky < {kh}; ky++) {{",
            f"                long yy = p * {sh} + ky * {dh} - {pt};",
            f"                if (yy < 0 || yy >= {H}) continue;",
            f"                for (kx = 0; kx < {kw}; kx++) {{",
            f"                    long xx = q * {sw} + kx * {dw} - {pl};",
            f"                    if (xx < 0 || xx >= {W}) continue;",
            f"                    {add}",
            "                }",
            "            }",
            f"            {out}[(o * {OH} + p) * {OW} + q] = ({acc_t})a;",
            "        }",
            "    }",
        ]
        del C

    def op_spike_sum_pool2d(self, op: Operation) -> None:
        x = op.operands[0]
        C, H, W = x.type.shape  # type: ignore[attr-defined]
        kh, kw = int_tuple(op, "kernel_size")
        sh, sw = int_tuple(op, "stride")
        (pt, _), (pl, _) = spatial_padding(op, 2)  # type: ignore[arg-type]
        _, OH, OW = op.results[0].type.shape  # type: ignore[attr-defined]
        lo, hi = sp.signed_range(sp.width(op.results[0].type))
        out = self.buffer(op.results[0], "pool")
        xin = self.v(x)
        self.body += [
            f"    for (o = 0; o < {C}; o++) for (p = 0; p < {OH}; p++) for (q = 0; q < {OW}; q++) {{",
            "        int64_t a = 0;",
            "        long ky, kx;",
            f"        for (ky = 0; ky < {kh}; ky++) for (kx = 0; kx < {kw}; kx++) {{",
            f"            long yy = p * {sh} + ky - {pt}, xx = q * {sw} + kx - {pl};",
            f"            if (yy >= 0 && yy < {H} && xx >= 0 && xx < {W}) a += {xin}[(o * {H} + yy) * {W} + xx];",
            "        }",
            f"        {out}[(o * {OH} + p) * {OW} + q] = ({_ctype(op.results[0].type)[0]})SNNC_SAT(a, {_lit(lo)}, {_lit(hi)});",
            "    }",
        ]

    def op_spike_max_pool2d(self, op: Operation) -> None:
        x = op.operands[0]
        C, H, W = x.type.shape  # type: ignore[attr-defined]
        kh, kw = int_tuple(op, "kernel_size")
        sh, sw = int_tuple(op, "stride")
        (pt, _), (pl, _) = spatial_padding(op, 2)  # type: ignore[arg-type]
        _, OH, OW = op.results[0].type.shape  # type: ignore[attr-defined]
        out = self.buffer(op.results[0], "pool")
        xin = self.v(x)
        self.body += [
            f"    for (o = 0; o < {C}; o++) for (p = 0; p < {OH}; p++) for (q = 0; q < {OW}; q++) {{",
            "        int a = 0;",
            "        long ky, kx;",
            f"        for (ky = 0; ky < {kh}; ky++) for (kx = 0; kx < {kw}; kx++) {{",
            f"            long yy = p * {sh} + ky - {pt}, xx = q * {sw} + kx - {pl};",
            f"            if (yy >= 0 && yy < {H} && xx >= 0 && xx < {W} && {xin}[(o * {H} + yy) * {W} + xx]) a = 1;",
            "        }",
            f"        {out}[(o * {OH} + p) * {OW} + q] = ({_ctype(op.results[0].type)[0]})a;",
            "    }",
        ]

    def _broadcast_index(self, src: Value, dst_shape: tuple[int, ...]) -> str:
        """C expression of src's flat index for the flat index i of dst (numpy broadcasting)."""
        s = tuple(src.type.shape)  # type: ignore[attr-defined]
        s = (1,) * (len(dst_shape) - len(s)) + s
        if s == tuple(dst_shape):
            return "i"
        terms = []
        stride_dst = 1
        strides_dst = []
        for d in reversed(dst_shape):
            strides_dst.insert(0, stride_dst)
            stride_dst *= d
        stride_src = 1
        strides_src = []
        for d in reversed(s):
            strides_src.insert(0, stride_src)
            stride_src *= d
        for k, (ds, ss) in enumerate(zip(dst_shape, s)):
            if ss == 1:
                continue
            terms.append(f"((i / {strides_dst[k]}) % {ds}) * {strides_src[k]}")
        return " + ".join(terms) or "0"

    def op_spike_add(self, op: Operation) -> None:
        shape = tuple(op.results[0].type.shape)  # type: ignore[attr-defined]
        lo, hi = sp.signed_range(sp.width(op.results[0].type))
        out = self.buffer(op.results[0], "sum")
        a, b = op.operands
        ia, ib = self._broadcast_index(a, shape), self._broadcast_index(b, shape)
        self.body.append(f"    for (i = 0; i < {_elements(op.results[0].type)}; i++) {out}[i] = ({_ctype(op.results[0].type)[0]})"
                         f"SNNC_SAT((int64_t){self.v(a)}[{ia}] + (int64_t){self.v(b)}[{ib}], {_lit(lo)}, {_lit(hi)});")

    def op_spike_and(self, op: Operation) -> None:
        shape = tuple(op.results[0].type.shape)  # type: ignore[attr-defined]
        out = self.buffer(op.results[0], "and")
        a, b = op.operands
        ia, ib = self._broadcast_index(a, shape), self._broadcast_index(b, shape)
        self.body.append(f"    for (i = 0; i < {_elements(op.results[0].type)}; i++) {out}[i] = "
                         f"(uint8_t)({self.v(a)}[{ia}] && {self.v(b)}[{ib}]);")

    def op_spike_popcount(self, op: Operation) -> None:
        x = op.operands[0]
        shape = tuple(x.type.shape)  # type: ignore[attr-defined]
        axes = set(op.reduced_axes())  # type: ignore[attr-defined]
        out = self.buffer(op.results[0], "cnt")
        n_out = _elements(op.results[0].type)
        # flat output index of input flat index i: keep the non-reduced axes
        kept = [d for d in range(len(shape)) if d not in axes]
        strides_in = [int(np.prod(shape[d + 1 :], dtype=np.int64)) for d in range(len(shape))]
        strides_out = [int(np.prod([shape[k] for k in kept[j + 1 :]], dtype=np.int64)) for j in range(len(kept))]
        idx = " + ".join(f"((i / {strides_in[d]}) % {shape[d]}) * {strides_out[j]}" for j, d in enumerate(kept)) or "0"
        self.body.append(f"    for (i = 0; i < {max(n_out, 1)}; i++) {out}[i] = 0;")
        self.body.append(f"    for (i = 0; i < {_elements(x.type)}; i++) {out}[{idx}] += {self.v(x)}[i];")

    def op_spike_matmul(self, op: Operation) -> None:
        """Event-driven: for every spike ``lhs[b, i, k]`` add row ``rhs[b, k, :]`` to ``y[b, i, :]``."""
        a, b = op.operands
        sa, sb = tuple(a.type.shape), tuple(b.type.shape)  # type: ignore[attr-defined]
        n, k, m = sa[-2], sa[-1], sb[-1]
        batch = int(np.prod(sa[:-2], dtype=np.int64))
        ct = _ctype(op.results[0].type)[0]
        out = self.buffer(op.results[0], "mm")
        j = self.fresh("j")
        self.body.append(f"    for (i = 0; i < {_elements(op.results[0].type)}; i++) {out}[i] = 0;")
        self.body.append(f"    for (i = 0; i < {batch * n * k}; i++) if ({self.v(a)}[i]) {{")
        self.body.append(f"        int32_t {j}; const int32_t bb = i / {n * k}, r = i % {n * k} / {k}, kk = i % {k};")
        self.body.append(f"        for ({j} = 0; {j} < {m}; {j}++) {out}[(bb * {n} + r) * {m} + {j}] = "
                         f"({ct})({out}[(bb * {n} + r) * {m} + {j}] + {self.v(b)}[(bb * {k} + kk) * {m} + {j}]);")
        self.body.append("    }")

    def op_spike_requant(self, op: Operation) -> None:
        k = int(op.attr("shift"))  # type: ignore[attr-defined]
        off = (1 << (k - 1)) if op.attr("rounding") == "half_up" and k > 0 else 0  # type: ignore[attr-defined]
        lo, hi = sp.signed_range(sp.width(op.results[0].type))
        out = self.buffer(op.results[0], "rq")
        x = self.v(op.operands[0])
        if k < 0:  # exact left shift (the verifier bounds width(x) - shift <= 62): multiply, no UB
            self.body.append(f"    for (i = 0; i < {_elements(op.results[0].type)}; i++) {out}[i] = ({_ctype(op.results[0].type)[0]})"
                             f"SNNC_SAT((int64_t){x}[i] * {_lit(1 << -k)}, {_lit(lo)}, {_lit(hi)});")
            return
        self.body.append(f"    for (i = 0; i < {_elements(op.results[0].type)}; i++) {out}[i] = ({_ctype(op.results[0].type)[0]})"
                         f"SNNC_SAT(SNNC_ASR((int64_t){x}[i] + {_lit(off)}, {k}), {_lit(lo)}, {_lit(hi)});")

    def _neuron(self, op: Operation, spiking: bool) -> None:
        shape = tuple(op.results[0].type.shape)  # type: ignore[attr-defined]
        n = _elements(op.results[0].type)
        N = int(op.attr("membrane_bits"))  # type: ignore[attr-defined]
        lo, hi = sp.signed_range(N)
        vt, _ = _cint_type(N)
        vname = self.fresh("mem")
        self.state.append(f"    {vt} {vname}[{n}];")
        self.reset.append(f"    memset(s->{vname}, 0, sizeof s->{vname});")
        bias, _ = self.param(op, "bias", n, shape)
        mode = op.attr("leak_mode")  # type: ignore[attr-defined]
        b = self.body
        x = self.v(op.operands[0])
        b.append(f"    /* {op.op_name}: N = {N}, leak {mode} */")
        b.append(f"    for (i = 0; i < {n}; i++) {{")
        b.append(f"        int64_t v = s->{vname}[i], leak, vp;")
        if mode == "none":
            b.append("        leak = 0;")
        elif mode == "shift":
            k, _ = self.param(op, "leak_shift", n, shape)
            b.append(f"        leak = ({k}) == 0 ? 0 : SNNC_ASR(v, {k});")
        else:
            a, _ = self.param(op, "decay", n, shape)
            f = int(op.attr("frac_bits"))  # type: ignore[attr-defined]
            b.append(f"        leak = v - SNNC_ASR(v * ({a}) + {_lit(1 << (f - 1))}, {f});")
        b.append(f"        vp = SNNC_SAT(v - leak + (int64_t){x}[i] + ({bias}), {_lit(lo)}, {_lit(hi)});")
        if spiking and op.get_attr("spike_fn") is not None and op.attr("spike_fn") == "multi":  # type: ignore[attr-defined]
            # multi-spike: the count n = min(v' / v_th, cap) where v' >= v_th (v_th >= 1: C's / is the floor)
            out = self.buffer(op.results[0], "cnt")
            th, _ = self.param(op, "v_th", n, shape)
            vr, _ = self.param(op, "v_reset", n, shape)
            cap = sp.signed_range(sp.width(op.results[0].type))[1]
            m = op.attr("max_spikes")  # type: ignore[attr-defined]
            cap = cap if m is None else min(int(m), cap)
            b.append(f"        {{ int64_t nsp = (vp >= ({th})) ? vp / ({th}) : 0;")
            b.append(f"          if (nsp > {_lit(cap)}) nsp = {_lit(cap)};")
            reset = op.attr("reset")  # type: ignore[attr-defined]
            if reset == "hard":
                b.append(f"          if (nsp != 0) vp = {vr};")
            elif reset == "soft":
                b.append(f"          vp -= nsp * (int64_t)({th});")
            if op.get_attr("v_min") is not None:
                vm, _ = self.param(op, "v_min", n, shape)
                b.append(f"          if (vp < ({vm})) vp = {vm};")
            b.append(f"          {out}[i] = ({_ctype(op.results[0].type)[0]})nsp; }}")
        elif spiking:
            out = self.buffer(op.results[0], "spk")
            th, _ = self.param(op, "v_th", n, shape)
            vr, _ = self.param(op, "v_reset", n, shape)
            cmp = ">" if op.attr("cmp") == "gt" else ">="  # type: ignore[attr-defined]
            ternary = op.results[0].type.element == si2  # type: ignore[attr-defined]
            b.append(f"        {{ int sp = (vp {cmp} ({th})) ? 1 : {'((vp <= -(' + th + ')) ? -1 : 0)' if ternary else '0'};")
            reset = op.attr("reset")  # type: ignore[attr-defined]
            if reset == "hard":
                b.append(f"          if (sp != 0) vp = {vr};")
            elif reset == "soft":
                b.append(f"          if (sp != 0) vp = SNNC_SAT(vp - sp * (int64_t)({th}), {_lit(lo)}, {_lit(hi)});")
            b.append(f"          {out}[i] = ({_ctype(op.results[0].type)[0]})sp; }}")
        else:
            out = self.buffer(op.results[0], "li")
            b.append(f"        {out}[i] = ({_ctype(op.results[0].type)[0]})vp;")
        b.append(f"        s->{vname}[i] = ({vt})vp;")
        b.append("    }")

    def op_spike_lif(self, op: Operation) -> None:
        self._neuron(op, True)

    def op_spike_li(self, op: Operation) -> None:
        self._neuron(op, False)

    def finish(self) -> None:
        for later in getattr(self, "_delays", []):
            later()


_PRELUDE = """\
#define SNNC_SAT(x, lo, hi) ((x) < (lo) ? (lo) : ((x) > (hi) ? (hi) : (x)))
/* floor(x / 2^k) for negative x too, without relying on implementation-defined >> */
#define SNNC_ASR(x, k) ((x) >= 0 ? ((x) >> (k)) : ~(~(x) >> (k)))
"""


def emit(module: Operation, target: str | Target = "host", out_dir: str | Path = "out", *, graph: str | None = None) -> CArtifact:
    """Write model.h, model.c, harness.c and a Makefile for ``module``'s integer graph."""
    from ...dialects.snn import find_graph
    from ...ir.verifier import verify

    if isinstance(target, Target):
        tgt = target
    elif target in TARGETS:
        tgt = TARGETS[target]
    elif str(target).endswith(".toml"):
        tgt = mcu_target(target)
    else:
        raise error(f"unknown C target '{target}' (known: {', '.join(TARGETS)}, or a .toml target description)")
    g = find_graph(module, graph)
    verify(g)
    em = _Emitter(g, tgt)
    em.run()
    em.finish()
    ram = 0
    for line in em.state:
        ct, rest = line.strip().split(" ", 1)
        dims = [int(d) for d in rest.split("[")[1:] for d in [d.split("]")[0]]]
        ram += int(np.prod(dims)) * {"uint8_t": 1, "int8_t": 1, "int16_t": 2, "int32_t": 4, "int64_t": 8}[ct]
    for resource, used, limit in (("flash", em.flash, tgt.flash_bytes), ("RAM", ram, tgt.ram_bytes)):
        if limit is not None and used > limit:
            raise error(f"model does not fit target '{tgt.name}': {resource} needs {used} bytes, {limit} available "
                        f"({used - limit} bytes too many)", g.location)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ins = [(name, _elements(v.type)) for name, v in em.inputs]
    outs = [(name, _elements(v.type)) for name, v, _ in em.outputs]
    params = [f"const int32_t *in{i}" for i in range(len(ins))] + [f"int32_t *out{i}" for i in range(len(outs))]
    header = [
        "/* Generated by snnc (C backend, target " + tgt.name + "). Integer semantics: docs/spike.md. */",
        "#ifndef SNNC_MODEL_H", "#define SNNC_MODEL_H", "#include <stdint.h>", "",
        "typedef struct {", *(em.state or ["    uint8_t unused;"]), "} model_state_t;", "",
        f"#define MODEL_NUM_INPUTS {len(ins)}", f"#define MODEL_NUM_OUTPUTS {len(outs)}",
        *[f"#define MODEL_INPUT{i}_SIZE {n}  /* '{name}' */" for i, (name, n) in enumerate(ins)],
        *[f"#define MODEL_OUTPUT{i}_SIZE {n}  /* '{name}'{' ' + em.outputs[i][2] if em.outputs[i][2] else ''} */"
          for i, (name, n) in enumerate(outs)],
        "", "void model_reset(model_state_t *s);",
        f"void model_step(model_state_t *s{''.join(', ' + p for p in params)});", "", "#endif", "",
    ]
    body = [
        "/* Generated by snnc. No malloc, no floating point: integer adds, shifts, compares, multiplies. */",
        "#include <stddef.h>", "#include <stdint.h>", "#include <string.h>", '#include "model.h"', "", _PRELUDE,
        *em.consts, "",
        "void model_reset(model_state_t *s) {", "    memset(s, 0, sizeof *s);", "}", "",
        f"void model_step(model_state_t *s{''.join(', ' + p for p in params)}) {{",
        "    long i, o, p, q;", "    int64_t xv;",
        *em.body, *em.tail,
        "    (void)i; (void)o; (void)p; (void)q; (void)xv;",
        "}", "",
    ]
    harness = _harness(ins, outs)
    makefile = (
        "CC ?= cc\nCFLAGS ?= -std=c99 -O2 -Wall -Wextra -Werror -pedantic\n\n"
        "harness: harness.c model.c model.h\n\t$(CC) $(CFLAGS) -o $@ harness.c model.c\n\n"
        "clean:\n\trm -f harness\n\n.PHONY: clean\n"
    )
    files = {}
    for name, text in (("model.h", "\n".join(header)), ("model.c", "\n".join(body)), ("harness.c", harness),
                       ("Makefile", makefile)):
        (out / name).write_text(text)
        files[name] = out / name
    return CArtifact(out, files, em.flash, ram, ins, outs)


def _harness(ins: list[tuple[str, int]], outs: list[tuple[str, int]]) -> str:
    lines = [
        "/* Reads T, then per step every input's integers; prints every output per step (one line each). */",
        "#include <stdio.h>", "#include <stdint.h>", '#include "model.h"', "",
        "static model_state_t state;",
        *[f"static int32_t in{i}[{max(n, 1)}];" for i, (_, n) in enumerate(ins)],
        *[f"static int32_t out{i}[{max(n, 1)}];" for i, (_, n) in enumerate(outs)],
        "", "int main(void) {", "    long t, T, k;",
        "    if (scanf(\"%ld\", &T) != 1) return 2;",
        "    model_reset(&state);",
        "    for (t = 0; t < T; t++) {",
    ]
    for i, (_, n) in enumerate(ins):
        lines.append(f"        for (k = 0; k < {n}; k++) {{ long v; if (scanf(\"%ld\", &v) != 1) return 3; in{i}[k] = (int32_t)v; }}")
    args = [f"in{i}" for i in range(len(ins))] + [f"out{i}" for i in range(len(outs))]
    lines.append(f"        model_step(&state{''.join(', ' + a for a in args)});")
    for i, (_, n) in enumerate(outs):
        lines.append(f"        for (k = 0; k < {n}; k++) printf(k ? \" %ld\" : \"%ld\", (long)out{i}[k]);")
        lines.append("        printf(\"\\n\");")
    lines += ["    }", "    return 0;", "}", ""]
    return "\n".join(lines)
