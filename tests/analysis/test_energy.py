import pytest

from snnc.analysis import DEFAULT_ENERGY, EnergyModel, energy_mj, spiking_acs
from snnc.ir.diagnostics import DiagnosticError


def test_published_energy_check():
    # SEEDS.md: 0.3473 G MACs + 6.5175 G ACs = 7.4635 mJ at 4.6 / 0.9 pJ.  The exact product of
    # the published (4-digit) counts is 1.59758 + 5.86575 = 7.46333 mJ: the paper's figure is
    # from unrounded counts, so agreement is to the paper's rounding (2e-4 mJ), not closer.
    e = energy_mj(0.3473e9, 6.5175e9)
    assert e == pytest.approx(7.46333, abs=1e-9)
    assert e == pytest.approx(7.4635, abs=2e-4)
    assert e != pytest.approx(7.4635, abs=1e-5)
    assert DEFAULT_ENERGY.e_mac_pj == 4.6 and DEFAULT_ENERGY.e_ac_pj == 0.9


def test_spiking_acs_hand_count():
    # conv 3x3, 16->32 channels, 8x8 output: 3*3*16*32*64 = 294912 FLOPs per step
    flops = 3 * 3 * 16 * 32 * 64
    assert spiking_acs(0.25, 4, flops) == 294912.0
    assert spiking_acs(0.0, 4, flops) == 0.0
    with pytest.raises(DiagnosticError):
        spiking_acs(1.5, 4, flops)
    with pytest.raises(DiagnosticError):
        spiking_acs(0.5, 0, flops)


def test_energy_from_target(tmp_path):
    from snnc.targets import load_target

    m4 = EnergyModel.from_target("cortex-m4")
    e = load_target("cortex-m4")["energy"]
    assert (m4.e_mac_pj, m4.e_ac_pj) == (e["mac_pj"], e["ac_pj"])
    own = tmp_path / "own.toml"
    own.write_text(load_target("cortex-m4").path.read_text().replace(f"mac_pj = {e['mac_pj']}", "mac_pj = 3.1")
                   .replace(f"ac_pj = {e['ac_pj']}", "ac_pj = 0.1"))
    m = EnergyModel.from_target(own)
    assert m.energy_pj(10, 100) == pytest.approx(41.0)
    chip = EnergyModel.from_target("neuro-core")
    assert chip.e_ac_pj == load_target("neuro-core")["energy"]["synaptic_op_pj"]
    assert chip.e_mac_pj == DEFAULT_ENERGY.e_mac_pj
    bad = tmp_path / "bad.toml"
    bad.write_text(own.read_text().replace("ac_pj = 0.1", ""))
    with pytest.raises(DiagnosticError, match="ac_pj"):
        EnergyModel.from_target(bad)
    with pytest.raises(DiagnosticError):
        DEFAULT_ENERGY.energy_pj(-1, 0)
