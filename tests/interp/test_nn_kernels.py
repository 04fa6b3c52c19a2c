"""nn kernels against torch.nn.functional in float64 (batched runs, T = 2, B = 3)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snnc.dialects import nn, snn
from snnc.dialects.common import float_param, weight_attr
from snnc.interp import run
from snnc.ir import Builder, ModuleOp, Type, f32, f64, i1, tensor, verify

T, B = 2, 3
RNG = np.random.default_rng(1234)


def op_module(cls: type, in_types: list[Type], result_type: Type, attrs: dict[str, Any] | None = None) -> ModuleOp:
    m = ModuleOp.empty()
    g = snn.Graph.build("main")
    m.body.append(g)
    b = Builder.at_end(g.body)
    xs = [
        b.create(snn.Input, result_types=[t], attributes={"name": f"x{i}", "index": i}).result
        for i, t in enumerate(in_types)
    ]
    y = b.create(cls, xs, [result_type], attrs or {}).result
    b.create(snn.Output, [y], [], {"name": "y", "index": 0})
    verify(m)
    return m


def run_op(cls, inputs: list[np.ndarray], result_shape, attrs=None, *, spikes=False, dtype=np.float64, elt=f64):
    """Run ``cls`` on batched inputs ``[T, B, *shape]``; return ``[T, B, *result_shape]``."""
    in_types = [tensor(x.shape[2:], i1 if spikes else elt) for x in inputs]
    m = op_module(cls, in_types, tensor(result_shape, elt), attrs)
    out = run(m, {f"x{i}": x for i, x in enumerate(inputs)}, batched=True, dtype=dtype).outputs["y"]
    assert out.shape == (T, B, *result_shape)
    return out


def rand(*shape) -> np.ndarray:
    return RNG.standard_normal(shape)


def torch_per_step(fn, *xs: np.ndarray) -> np.ndarray:
    """Apply a batched torch function to each time step of ``[T, B, ...]`` inputs."""
    outs = [fn(*(torch.from_numpy(np.ascontiguousarray(x[t])) for x in xs)).numpy() for t in range(T)]
    return np.stack(outs)


def W(arr: np.ndarray, hint="w"):
    return weight_attr(arr, f64, hint=hint)


# --------------------------------------------------------------------------- linear


@pytest.mark.parametrize("lead", [(), (4,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(lead, bias):
    x = rand(T, B, *lead, 5)
    w = rand(3, 5)
    bb = rand(3)
    attrs = {"weight": W(w)}
    if bias:
        attrs["bias"] = W(bb)
    got = run_op(nn.Linear, [x], (*lead, 3), attrs)
    want = torch_per_step(lambda t: F.linear(t, torch.from_numpy(w), torch.from_numpy(bb) if bias else None), x)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_linear_on_spikes():
    x = RNG.random((T, B, 6)) < 0.5
    w = rand(2, 6)
    got = run_op(nn.Linear, [x], (2,), {"weight": W(w)}, spikes=True)
    np.testing.assert_allclose(got, x.astype(float) @ w.T, rtol=1e-12)


# --------------------------------------------------------------------------- convolution

CONV2D_CASES = [
    # cin, cout, (h, w), (kh, kw), stride, padding, dilation, groups
    (3, 4, (8, 8), (3, 3), (1, 1), (0, 0), (1, 1), 1),
    (3, 4, (8, 9), (3, 3), (2, 2), (1, 1), (1, 1), 1),
    (4, 6, (9, 7), (3, 2), (2, 1), (1, 0), (2, 1), 2),
    (4, 4, (7, 7), (3, 3), (1, 1), (1, 1), (1, 1), 4),  # depthwise
    (2, 3, (5, 6), (1, 1), (1, 2), (0, 0), (1, 1), 1),  # pointwise
    (2, 2, (6, 6), (2, 3), (3, 2), (2, 1), (2, 2), 1),
    (3, 6, (7, 7), (3, 3), (1, 1), (1, 1), (1, 1), 3),  # depthwise with multiplier 2
    (4, 4, (9, 8), (7, 7), (2, 1), (3, 3), (1, 1), 4),  # depthwise 7x7, strided
]


@pytest.mark.parametrize("cin,cout,hw,k,stride,padding,dilation,groups", CONV2D_CASES)
def test_conv2d(cin, cout, hw, k, stride, padding, dilation, groups):
    x = rand(T, B, cin, *hw)
    w = rand(cout, cin // groups, *k)
    bias = rand(cout)
    tw, tb = torch.from_numpy(w), torch.from_numpy(bias)
    want = torch_per_step(
        lambda t: F.conv2d(t, tw, tb, stride=stride, padding=padding, dilation=dilation, groups=groups), x
    )
    attrs = {
        "weight": W(w),
        "bias": W(bias, "b"),
        "stride": list(stride),
        "padding": list(padding),
        "dilation": list(dilation),
        "groups": groups,
    }
    got = run_op(nn.Conv2d, [x], want.shape[2:], attrs)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


def test_conv2d_asymmetric_padding():
    x = rand(T, B, 2, 5, 5)
    w = rand(3, 2, 2, 2)
    # padding [top, bottom, left, right] = [0, 1, 1, 0] (torch 'same' for even kernels pads after)
    want = torch_per_step(lambda t: F.conv2d(F.pad(t, (1, 0, 0, 1)), torch.from_numpy(w)), x)
    got = run_op(nn.Conv2d, [x], want.shape[2:], {"weight": W(w), "padding": [0, 1, 1, 0]})
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


def test_conv2d_on_spikes_float32():
    x = RNG.random((T, B, 3, 6, 6)) < 0.3
    w = rand(4, 3, 3, 3)
    want = torch_per_step(lambda t: F.conv2d(t.double(), torch.from_numpy(w), padding=1), x)
    m = op_module(nn.Conv2d, [tensor((3, 6, 6), i1)], tensor((4, 6, 6), f32),
                  {"weight": weight_attr(w), "padding": [1, 1]})
    got = run(m, {"x0": x}, batched=True, dtype=np.float32).outputs["y"]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "cin,cout,length,k,stride,padding,dilation,groups",
    [(2, 3, 10, 3, 1, 1, 1, 1), (4, 4, 11, 3, 2, 0, 2, 2), (3, 6, 7, 1, 1, 0, 1, 3), (2, 2, 9, 4, 3, 2, 1, 1),
     (4, 4, 12, 5, 2, 2, 2, 4)],
)
def test_conv1d(cin, cout, length, k, stride, padding, dilation, groups):
    x = rand(T, B, cin, length)
    w = rand(cout, cin // groups, k)
    bias = rand(cout)
    want = torch_per_step(
        lambda t: F.conv1d(t, torch.from_numpy(w), torch.from_numpy(bias), stride=stride, padding=padding,
                           dilation=dilation, groups=groups),
        x,
    )
    attrs = {"weight": W(w), "bias": W(bias, "b"), "stride": [stride], "padding": [padding], "dilation": [dilation],
             "groups": groups}
    got = run_op(nn.Conv1d, [x], want.shape[2:], attrs)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-11)


# --------------------------------------------------------------------------- batch norm


@pytest.mark.parametrize("shape", [(3,), (3, 4), (3, 4, 5)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(shape, affine):
    c = shape[0]
    x = rand(T, B, *shape)
    mean, var = rand(c), RNG.random(c) + 0.1
    weight, bias = rand(c), rand(c)
    attrs = {"mean": W(mean, "m"), "var": W(var, "v"), "eps": 1e-3}
    if affine:
        attrs |= {"weight": W(weight, "g"), "bias": W(bias, "b")}
    tm, tv = torch.from_numpy(mean), torch.from_numpy(var)
    tw = torch.from_numpy(weight) if affine else None
    tb = torch.from_numpy(bias) if affine else None
    want = torch_per_step(lambda t: F.batch_norm(t, tm, tv, tw, tb, training=False, eps=1e-3), x)
    got = run_op(nn.BatchNorm, [x], shape, attrs)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- pooling

POOL_CASES = [((2, 2), (2, 2), (0, 0), (4, 8, 8)), ((3, 3), (2, 2), (1, 1), (2, 7, 9)), ((2, 3), (1, 2), (1, 1), (3, 5, 6))]


@pytest.mark.parametrize("k,s,p,shape", POOL_CASES)
def test_pools(k, s, p, shape):
    x = rand(T, B, *shape)
    attrs = {"kernel_size": list(k), "stride": list(s), "padding": list(p)}
    avg = torch_per_step(lambda t: F.avg_pool2d(t, k, s, p, count_include_pad=True), x)
    mx = torch_per_step(lambda t: F.max_pool2d(t, k, s, p), x)
    sm = torch_per_step(lambda t: F.avg_pool2d(t, k, s, p, count_include_pad=True, divisor_override=1), x)
    np.testing.assert_allclose(run_op(nn.AvgPool2d, [x], avg.shape[2:], attrs), avg, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(run_op(nn.MaxPool2d, [x], mx.shape[2:], attrs), mx, rtol=0, atol=0)
    np.testing.assert_allclose(run_op(nn.SumPool2d, [x], sm.shape[2:], attrs), sm, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- elementwise and shapes


@pytest.mark.parametrize("cls,fn", [(nn.Add, torch.add), (nn.Sub, torch.sub), (nn.Mul, torch.mul)])
@pytest.mark.parametrize("sa,sb", [((4, 3), (4, 3)), ((4, 3), (3,)), ((4, 1), (1, 3)), ((2,), (3, 1, 2))])
def test_elementwise_broadcast(cls, fn, sa, sb):
    a, b = rand(T, B, *sa), rand(T, B, *sb)
    out_shape = np.broadcast_shapes(sa, sb)

    def per_sample(ta, tb):
        return torch.stack([fn(ta[i], tb[i]) for i in range(B)])

    want = torch_per_step(per_sample, a, b)
    got = run_op(cls, [a, b], out_shape)
    np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("sa,sb", [((4, 8), (8, 2)), ((8,), (8, 2)), ((4, 8), (8,)), ((2, 4, 8), (8, 3)),
                                   ((8,), (8,)), ((3, 4), (2, 4, 5))])
def test_matmul(sa, sb):
    a, b = rand(T, B, *sa), rand(T, B, *sb)

    def per_sample(ta, tb):
        return torch.stack([torch.matmul(ta[i], tb[i]) for i in range(B)])

    want = torch_per_step(per_sample, a, b)
    got = run_op(nn.MatMul, [a, b], want.shape[2:])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_scale():
    x = rand(T, B, 2, 3)
    s = rand(3)
    got = run_op(nn.Scale, [x], (2, 3), {"scale": float_param(s, f64)})
    np.testing.assert_allclose(got, x * s)
    got = run_op(nn.Scale, [x], (2, 3), {"scale": float_param(2.5, f64)})
    np.testing.assert_allclose(got, x * 2.5)


@pytest.mark.parametrize("start,end,out", [(0, -1, (24,)), (1, -1, (2, 12)), (0, 1, (6, 4)), (1, 1, (2, 3, 4))])
def test_flatten(start, end, out):
    x = rand(T, B, 2, 3, 4)
    want = torch_per_step(lambda t: torch.flatten(t, start + 1, end if end < 0 else end + 1), x)
    got = run_op(nn.Flatten, [x], out, {"start_dim": start, "end_dim": end})
    np.testing.assert_array_equal(got, want)


def test_reshape_transpose_concat_relu():
    x = rand(T, B, 2, 6)
    np.testing.assert_array_equal(run_op(nn.Reshape, [x], (3, 4)), x.reshape(T, B, 3, 4))
    y = rand(T, B, 2, 3, 4)
    np.testing.assert_array_equal(run_op(nn.Transpose, [y], (4, 2, 3), {"perm": [2, 0, 1]}), y.transpose(0, 1, 4, 2, 3))
    a, c = rand(T, B, 2, 3), rand(T, B, 4, 3)
    np.testing.assert_array_equal(run_op(nn.Concat, [a, c], (6, 3), {"axis": 0}), np.concatenate([a, c], axis=2))
    d = rand(T, B, 2, 5)
    np.testing.assert_array_equal(run_op(nn.Concat, [a, d], (2, 8), {"axis": -1}), np.concatenate([a, d], axis=3))
    np.testing.assert_array_equal(run_op(nn.ReLU, [x], (2, 6)), np.maximum(x, 0))


@pytest.mark.parametrize("cls,fn", [(nn.Sum, torch.sum), (nn.Mean, torch.mean)])
@pytest.mark.parametrize("axes,keep", [((), False), ((1,), False), ((0, 2), True), ((-1,), True)])
def test_reductions(cls, fn, axes, keep):
    x = rand(T, B, 3, 4, 5)
    dims = tuple(a + 1 if a >= 0 else a for a in axes) if axes else (1, 2, 3)
    want = torch_per_step(lambda t: fn(t, dim=dims, keepdim=keep), x)
    got = run_op(cls, [x], want.shape[2:], {"axes": list(axes), "keepdim": keep})
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)


def test_constant_is_broadcast_over_batch():
    m = ModuleOp.empty()
    g = snn.Graph.build("main")
    m.body.append(g)
    b = Builder.at_end(g.body)
    x = b.create(snn.Input, result_types=[tensor((2,), f64)], attributes={"name": "x", "index": 0}).result
    c = b.create(nn.Constant, [], [tensor((2,), f64)], {"value": W(np.array([1.0, -2.0]))}).result
    y = b.create(nn.Add, [x, c], [tensor((2,), f64)]).result
    b.create(snn.Output, [y], [], {"name": "y", "index": 0})
    x_in = rand(T, B, 2)
    got = run(m, {"x": x_in}, batched=True).outputs["y"]
    np.testing.assert_allclose(got, x_in + np.array([1.0, -2.0]))



def test_max_pool_of_binary_spikes_is_an_or_and_stays_i1():
    from snnc.ir import DiagnosticError, si2

    attrs = {"kernel_size": [2, 2], "stride": [2, 2]}
    m = op_module(nn.MaxPool2d, [tensor((2, 4, 4), i1)], tensor((2, 2, 2), i1), attrs)
    spikes = RNG.random((T, B, 2, 4, 4)) < 0.2
    out = run(m, {"x0": spikes}, batched=True).outputs["y"]
    expect = spikes.reshape(T, B, 2, 2, 2, 2, 2).any(axis=(4, 6))
    assert out.dtype == np.bool_ and np.array_equal(out, expect)
    with pytest.raises(DiagnosticError, match="max pooling of i1 spikes gives i1 spikes"):
        op_module(nn.MaxPool2d, [tensor((2, 4, 4), i1)], tensor((2, 2, 2), f32), attrs)
    with pytest.raises(DiagnosticError, match="ternary"):
        op_module(nn.MaxPool2d, [tensor((2, 4, 4), si2)], tensor((2, 2, 2), f32), attrs)
