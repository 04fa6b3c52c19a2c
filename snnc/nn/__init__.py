"""snnc.nn: PyTorch modules whose forward equals the IR's neuron semantics exactly.

Neurons (:mod:`snnc.nn.neurons`): :class:`LIF`, :class:`IF`, :class:`CubaLIF`, :class:`TernaryLIF`,
multi-step (``[T, B, ...]``) or single-step (``[B, ...]``), with surrogate gradients
(:mod:`snnc.nn.surrogate`).  Each neuron runs as one ``torch.ops.snnc`` custom op
(:mod:`snnc.nn.ops`), so ``torch.export`` keeps one node per neuron.
Recurrent LIF (snnTorch ``RLeaky`` dynamics, :mod:`snnc.nn.recurrent`): :class:`RecurrentLIF`.
Attention (:mod:`snnc.nn.attention`) and encoders (:mod:`snnc.nn.encoders`) build on them.
Third-party neurons are swapped in by :func:`snnc.frontends.torch_neurons.swap_neurons`.
"""

from torch import nn

from snnc.nn import ops
from snnc.nn.attention import MetaSDSA, SaccadicSpikeSelfAttention, SDSAv1
from snnc.nn.encoders import DirectEncoder, RateEncoder, TernaryEncoder
from snnc.nn.neurons import IF, LIF, CubaLIF, TernaryLIF
from snnc.nn.ops import NEURON_OPS, NeuronParams
from snnc.nn.recurrent import RECURRENT_OPS, RecurrentLIF


def reset_net(model: nn.Module) -> None:
    """Call ``reset_state()`` on every snnc neuron in ``model`` (start the next sample from rest)."""
    for m in model.modules():
        if isinstance(m, (LIF, CubaLIF, TernaryLIF, RecurrentLIF)):
            m.reset_state()


__all__ = [
    "IF",
    "LIF",
    "NEURON_OPS",
    "CubaLIF",
    "DirectEncoder",
    "MetaSDSA",
    "NeuronParams",
    "RECURRENT_OPS",
    "RateEncoder",
    "RecurrentLIF",
    "SDSAv1",
    "SaccadicSpikeSelfAttention",
    "TernaryEncoder",
    "TernaryLIF",
    "ops",
    "reset_net",
]
