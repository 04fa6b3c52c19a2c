"""Bad NIR input and unexportable IR give located diagnostics, never tracebacks."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest

from snnc.frontends.nir import export_nir, import_nir, write_nir
from snnc.ir import Block, Builder, DiagnosticError, ModuleOp, Region, tensor

GOLDEN = Path(__file__).resolve().parents[2] / ".." / "shared" / "golden" / "nir-paper"


def _lif_graph(**overrides) -> nir.NIRGraph:
    p = {"tau": np.array([1e-2]), "r": np.array([1.0]), "v_leak": np.array([0.0]), "v_threshold": np.array([1.0])}
    p.update(overrides)
    return nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([1])),
            "lif": nir.LIF(**p),
            "output": nir.Output(output_type=np.array([1])),
        },
        edges=[("input", "lif"), ("lif", "output")],
        type_check=False,
    )


def _diag(fn, *args, **kwargs) -> str:
    with pytest.raises(DiagnosticError) as info:
        fn(*args, **kwargs)
    return info.value.render()


def _written(tmp_path: Path, graph: nir.NIRGraph, name: str = "model.nir") -> Path:
    path = tmp_path / name
    nir.write(path, graph)
    return path


# --------------------------------------------------------------------------- files


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.nir"
    assert _diag(import_nir, path) == f"{path}: error: no such file"


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.nir"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    msg = _diag(import_nir, path)
    assert msg.startswith(f"{path}: error: not a readable NIR file (HDF5 could not open it")
    assert "truncated or corrupt" in msg


def test_truncated_file(tmp_path: Path) -> None:
    path = _written(tmp_path, _lif_graph())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    msg = _diag(import_nir, path)
    assert msg.startswith(f"{path}: error: ")
    assert "truncated or corrupt" in msg or "corrupt NIR file" in msg


@pytest.mark.skipif(not GOLDEN.is_dir(), reason=f"golden NIR data not found at {GOLDEN}")
def test_truncated_golden_copy(tmp_path: Path) -> None:
    path = tmp_path / "cnn_sinabs.nir"
    shutil.copy(GOLDEN / "cnn_sinabs.nir", path)
    data = path.read_bytes()
    for cut in (len(data) // 3, len(data) - 100):
        path.write_bytes(data[:cut])
        msg = _diag(import_nir, path)
        assert msg.startswith(f"{path}: error: "), msg


def test_hdf5_without_nir_content(tmp_path: Path) -> None:
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.arange(3))
    assert _diag(import_nir, path) == f"{path}: error: not a NIR file: no 'node' group at the top level"


def test_unknown_node_type(tmp_path: Path) -> None:
    path = _written(tmp_path, _lif_graph())
    with h5py.File(path, "r+") as f:
        del f["node/nodes/lif/type"]
        f["node/nodes/lif"].create_dataset("type", data="Foo", dtype=h5py.string_dtype())
    msg = _diag(import_nir, path)
    assert msg.startswith(f"{path}: error: node 'lif': unknown node type 'Foo' (NIR 1.0.8 defines Input, Output,")


def test_missing_parameter_in_file(tmp_path: Path) -> None:
    path = _written(tmp_path, _lif_graph())
    with h5py.File(path, "r+") as f:
        del f["node/nodes/lif/tau"]
    msg = _diag(import_nir, path)
    assert msg.startswith(f"{path}: error: node 'lif': cannot read NIR graph: TypeError:")
    assert "tau" in msg


# --------------------------------------------------------------------------- graph content


def test_shape_mismatch_between_nodes(tmp_path: Path) -> None:
    g = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([5])),
            "fc": nir.Affine(weight=np.ones((3, 4)), bias=np.zeros(3)),
            "output": nir.Output(output_type=np.array([3])),
        },
        edges=[("input", "fc"), ("fc", "output")],
        type_check=False,
    )
    path = _written(tmp_path, g)
    assert _diag(import_nir, path) == (
        f"{path}: error: node 'fc': shape mismatch: edge 'input' -> 'fc' carries [5] but the node's input_type is [4]"
    )


def test_shape_mismatch_of_parameters() -> None:
    msg = _diag(import_nir, _lif_graph(tau=np.array([1e-2, 1e-2]), r=np.ones(2), v_leak=np.zeros(2), v_threshold=np.ones(2)))
    assert msg == "<NIRGraph>: error: node 'lif': shape mismatch: edge 'input' -> 'lif' carries [1] but the node's input_type is [2]"


def test_dangling_edge(tmp_path: Path) -> None:
    g = _lif_graph()
    g.edges.append(("lif", "ghost"))
    assert _diag(import_nir, g) == "<NIRGraph>: error: node 'lif': edge 'lif' -> 'ghost' names node 'ghost', which does not exist"
    path = _written(tmp_path, g)
    assert _diag(import_nir, path).startswith(f"{path}: error: node 'lif': edge 'lif' -> 'ghost'")


@pytest.mark.parametrize("tau", [0.0, -1e-3])
def test_non_positive_tau(tau: float) -> None:
    msg = _diag(import_nir, _lif_graph(tau=np.array([tau])))
    assert msg == f"<NIRGraph>: error: node 'lif': parameter 'tau' must be positive, got {tau:g}"


def test_non_finite_parameter() -> None:
    msg = _diag(import_nir, _lif_graph(v_threshold=np.array([np.nan])))
    assert msg == "<NIRGraph>: error: node 'lif': parameter 'v_threshold' holds non-finite values"


def test_euler_unstable_time_constant() -> None:
    msg = _diag(import_nir, _lif_graph(tau=np.array([1e-5])), dt=1e-4)
    assert "node 'lif': forward Euler is unstable for 'tau' = 1e-05 < dt = 0.0001" in msg
    import_nir(_lif_graph(tau=np.array([1e-5])), dt=1e-4, discretization="exact")  # fine when exact


def test_per_neuron_reset_is_fine() -> None:
    g = _lif_graph(
        tau=np.full(3, 1e-2), r=np.ones(3), v_leak=np.zeros(3), v_threshold=np.ones(3), v_reset=np.array([0.0, -0.1, 0.2])
    )
    g.nodes["input"] = nir.Input(input_type=np.array([3]))
    g.nodes["output"] = nir.Output(output_type=np.array([3]))
    import_nir(g)


def test_delay_not_a_whole_number_of_steps() -> None:
    g = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type=np.array([2])),
            "d": nir.Delay(delay=np.array([1.5e-4, 1.5e-4])),
            "output": nir.Output(output_type=np.array([2])),
        },
        edges=[("input", "d"), ("d", "output")],
        type_check=False,
    )
    assert "node 'd': delay 0.00015 s is not a whole number of time steps of dt = 0.0001 s" in _diag(import_nir, g)


def test_bad_dt_and_scheme() -> None:
    assert _diag(import_nir, _lif_graph(), dt=0.0) == "<NIRGraph>: error: time step dt must be a positive finite number, got 0.0"
    assert "unknown discretization 'rk4'" in _diag(import_nir, _lif_graph(), discretization="rk4")


def test_edge_into_input_node() -> None:
    g = _lif_graph()
    g.edges.append(("lif", "input"))
    assert _diag(import_nir, g) == "<NIRGraph>: error: node 'input': edge 'lif' -> 'input' enters an Input node"


# --------------------------------------------------------------------------- export


def _relu_module() -> ModuleOp:
    module = ModuleOp.empty()
    block = Block()
    Builder.at_end(module.body).op("snn.graph", attributes={"sym_name": "main"}, regions=[Region([block])])
    b = Builder.at_end(block)
    x = b.op("snn.input", [], [tensor((3,))], {"name": "x", "index": 0}).result
    y = b.op("nn.relu", [x], [tensor((3,))]).result
    b.op("snn.output", [y], [], {"name": "y", "index": 0})
    return module


def test_export_op_without_nir_equivalent(tmp_path: Path) -> None:
    msg = _diag(export_nir, _relu_module())
    assert msg == "error: 'nn.relu' op has no NIR equivalent; cannot export this graph to NIR"
    assert not (tmp_path / "out.nir").exists()
    _diag(write_nir, _relu_module(), tmp_path / "out.nir")
    assert not (tmp_path / "out.nir").exists()


def test_export_neuron_variants_nir_cannot_state() -> None:
    module = import_nir(_lif_graph())
    lif = next(op for op in module.body.ops[0].body.ops if op.op_name == "snn.lif")
    lif.set_attr("reset", "soft")
    assert "node 'lif': 'snn.lif' op reset = 'soft' (NIR neurons reset to v_reset); NIR has no equivalent" in _diag(
        export_nir, module
    )
    lif.set_attr("reset", "hard")
    lif.set_attr("cmp", "ge")
    assert "cmp = 'ge'" in _diag(export_nir, module)
    lif.set_attr("cmp", "gt")
    export_nir(module)
