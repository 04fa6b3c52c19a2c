"""Passes over the snnc IR: the pass manager and one module per pass.

Importing this package registers every pass (``Pass.registry``); the pipeline parser
(:func:`parse_pipeline`) and ``snnc opt --pass-pipeline=...`` look passes up there.
"""

from .attention_mask_add import AttentionMaskAdd
from .canonicalize import Canonicalize
from .compose_linear import ComposeLinear
from .convert_torch_to_snn import ConvertTorchToSnn
from .fuse_lif import FuseLif
from .manager import Pass, PassManager, PassOption, PassTiming, parse_pipeline, pipeline_to_text, write_timing_report
from .prune import Prune
from .quantize import Quantize
from .spike_driven import SpikeDriven

__all__ = [
    "AttentionMaskAdd",
    "Canonicalize",
    "ComposeLinear",
    "ConvertTorchToSnn",
    "FuseLif",
    "Pass",
    "PassManager",
    "PassOption",
    "PassTiming",
    "Prune",
    "Quantize",
    "SpikeDriven",
    "parse_pipeline",
    "pipeline_to_text",
    "write_timing_report",
]
