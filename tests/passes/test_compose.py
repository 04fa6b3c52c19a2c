import numpy as np
import pytest

from snnc.passes.compose_linear import fold_repconv

torch = pytest.importorskip("torch", reason="torch provides the RepConv reference")
F = torch.nn.functional


def _bn(rng, c):
    return {"mean": rng.normal(size=c), "var": rng.random(c) + 0.5, "weight": rng.normal(size=c),
            "bias": rng.normal(size=c), "eps": 1e-5}


def _apply_bn(x, bn):
    t = {k: torch.tensor(v) if k != "eps" else v for k, v in bn.items()}
    return F.batch_norm(x, t["mean"], t["var"], t["weight"], t["bias"], False, 0.0, t["eps"])


def test_fact9_repconv_folds_to_3x3_conv_with_bias():
    rng = np.random.default_rng(0)
    cin, c, cout = 5, 6, 4
    w1, w2, w3 = rng.normal(size=(c, cin, 1, 1)), rng.normal(size=(c, 1, 3, 3)), rng.normal(size=(cout, c, 1, 1))
    bn1, bn2 = _bn(rng, c), _bn(rng, cout)
    x = torch.tensor((rng.random((2, cin, 7, 9)) < 0.3).astype(np.float64))
    # reference: Meta-SpikeFormer's RepConv (BN then pad with BN(0), i.e. the BN bias term)
    y = _apply_bn(F.conv2d(x, torch.tensor(w1)), bn1)
    pad = _apply_bn(torch.zeros(1, c, 1, 1, dtype=torch.float64), bn1)
    y = F.pad(y, (1, 1, 1, 1))
    ring = torch.ones_like(y)
    ring[:, :, 1:-1, 1:-1] = 0
    y = y + ring * pad
    y = F.conv2d(y, torch.tensor(w2), groups=c)
    ref = _apply_bn(F.conv2d(y, torch.tensor(w3)), bn2).numpy()
    w, b = fold_repconv(w1, bn1, w2, w3, bn2)
    got = F.conv2d(x, torch.tensor(w), torch.tensor(b), padding=1).numpy()
    err = np.abs(got - ref).max()
    assert err < 1e-12, err
    # the padding ring matters: folding without BN1(0) on the ring would differ at the border
    assert np.abs(pad.numpy()).max() > 1e-3
