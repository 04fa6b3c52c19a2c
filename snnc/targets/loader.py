"""Target descriptions: load and validate the TOML files under ``snnc/targets/`` (or a user's own file).

Every error is a located diagnostic ``file:line:col: error: ...`` naming the key: unknown key, wrong type,
missing key, or a value out of range. Passes and backends read all limits from the returned :class:`Target`.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from snnc.ir.diagnostics import DiagnosticError, FileLineColLoc, error

TARGET_DIR = Path(__file__).resolve().parent

# schema: section -> key -> (python types, minimum or None, allowed values or None, required)
_INT = (int,)
_NUM = (int, float)
_STR = (str,)
_LIST = (list,)
_MODES = {"shift", "none", "mul"}
_RESETS = {"hard", "soft", "none"}

_COMMON_TOP = {
    "name": (_STR, None, None, True),
    "kind": (_STR, None, {"neuro-core", "mcu", "rtl-core"}, True),
    "description": (_STR, None, None, False),
}
_MESH = {
    "rows": (_INT, 1, None, True),
    "cols": (_INT, 1, None, True),
    "routing": (_STR, None, {"xy"}, True),
}
_CORE = {
    "neurons": (_INT, 1, None, True),
    "synapse_memory_bits": (_INT, 1, None, True),
    "fan_in": (_INT, 1, None, True),
    "fan_out": (_INT, 1, None, True),
    "weight_bits": (_INT, 1, None, True),
    "membrane_bits": (_INT, 2, None, True),
    "accumulator_bits": (_INT, 2, None, True),
    "leak_modes": (_LIST, None, _MODES, True),
    "reset_modes": (_LIST, None, _RESETS, True),
    "ternary": ((bool,), None, None, False),
}
_SCHEMAS: dict[str, dict[str, dict[str, tuple]]] = {
    "neuro-core": {
        "mesh": _MESH,
        "core": _CORE,
        "energy": {
            "synaptic_op_pj": (_NUM, 0, None, True),
            "neuron_update_pj": (_NUM, 0, None, True),
            "packet_pj": (_NUM, 0, None, True),
            "hop_pj": (_NUM, 0, None, True),
        },
    },
    # the snnc reference Verilog core (snnc/backends/rtl/hdl): mesh and core limits as for a neuro-core
    # target (the mapping is the neuro-core backend's), plus the RTL's own build parameters
    "rtl-core": {
        "mesh": _MESH,
        "core": _CORE,
        "rtl": {
            "fifo_depth": (_INT, 2, None, True),
            "par": (_INT, 1, None, True),
            "max_cores": (_INT, 1, None, True),
            "graded_input_bits": (_INT, 1, None, True),
        },
    },
    "mcu": {
        "mcu": {
            "ram_bytes": (_INT, 1, None, True),
            "flash_bytes": (_INT, 1, None, True),
            "clock_hz": (_INT, 1, None, True),
            "weight_bits": (_INT, 1, None, True),
            "membrane_bits": (_INT, 2, None, True),
            "accumulator_bits": (_INT, 2, None, True),
            "leak_modes": (_LIST, None, _MODES, True),
            "reset_modes": (_LIST, None, _RESETS, True),
        },
        "energy": {
            "mac_pj": (_NUM, 0, None, True),
            "ac_pj": (_NUM, 0, None, True),
        },
    },
}


@dataclass(frozen=True)
class Target:
    """A validated target description: ``data`` is the TOML content, ``path`` where it came from."""

    name: str
    kind: str
    path: Path
    data: dict[str, Any] = field(repr=False)

    def __getitem__(self, section: str) -> dict[str, Any]:
        return self.data[section]

    @property
    def num_cores(self) -> int:
        return int(self.data["mesh"]["rows"] * self.data["mesh"]["cols"])


def _locate(text: str, filename: str, section: str | None, key: str | None) -> FileLineColLoc:
    """Line/column of ``key`` inside ``[section]`` (or of the section header, or 1:1)."""
    lines = text.splitlines()
    cur: str | None = None
    sec_line = None
    for i, line in enumerate(lines, 1):
        m = re.match(r"\s*\[([^\]]+)\]", line)
        if m:
            cur = m.group(1).strip()
            if cur == section:
                sec_line = i
            continue
        if key is not None and cur == section:
            m = re.match(r"(\s*)(" + re.escape(key) + r")\s*=", line)
            if m:
                return FileLineColLoc(filename, i, len(m.group(1)) + 1)
    if sec_line is not None:
        return FileLineColLoc(filename, sec_line, 1)
    return FileLineColLoc(filename, 1, 1)


def _check_section(values: dict, schema: dict, section: str | None, text: str, fn: str) -> None:
    where = f"[{section}]" if section else "top level"
    for key, value in values.items():
        if section is None and isinstance(value, dict):
            continue
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise error(f"unknown key '{key}' in {where} (known: {known})", _locate(text, fn, section, key))
        types, minimum, allowed, _ = schema[key]
        loc = _locate(text, fn, section, key)
        if isinstance(value, bool) and bool not in types:
            raise error(f"key '{key}' in {where} must be {types[0].__name__}, got bool", loc)
        if not isinstance(value, types):
            raise error(f"key '{key}' in {where} must be {types[0].__name__}, got {type(value).__name__}", loc)
        if minimum is not None and value < minimum:
            raise error(f"key '{key}' in {where} is out of range: {value} < {minimum}", loc)
        if allowed is not None:
            items = value if isinstance(value, list) else [value]
            for item in items:
                if item not in allowed:
                    raise error(f"key '{key}' in {where}: '{item}' is not one of {sorted(allowed)}", loc)
    for key, (_, _, _, required) in schema.items():
        if required and key not in values:
            raise error(f"missing key '{key}' in {where}", _locate(text, fn, section, None))


def parse_target(text: str, filename: str = "<string>") -> Target:
    """Validate a target description given as TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+), column (\d+)", str(exc))
        loc = FileLineColLoc(filename, int(m.group(1)), int(m.group(2))) if m else FileLineColLoc(filename, 1, 1)
        raise error(f"invalid TOML: {exc}", loc) from None
    _check_section(data, _COMMON_TOP, None, text, filename)
    schema = _SCHEMAS[data["kind"]]
    for section, value in data.items():
        if not isinstance(value, dict):
            continue
        if section not in schema:
            raise error(f"unknown section [{section}] for a '{data['kind']}' target (known: "
                        f"{', '.join(sorted(schema))})", _locate(text, filename, section, None))
        _check_section(value, schema[section], section, text, filename)
    for section in schema:
        if section not in data:
            raise error(f"missing section [{section}]", FileLineColLoc(filename, 1, 1))
    for sec in ("core", "mcu"):
        if sec in data and data[sec]["accumulator_bits"] < data[sec]["weight_bits"]:
            raise error(f"key 'accumulator_bits' in [{sec}] is out of range: smaller than weight_bits",
                        _locate(text, filename, sec, "accumulator_bits"))
    return Target(name=data["name"], kind=data["kind"], path=Path(filename), data=data)


def available_targets() -> list[str]:
    """Names of the shipped targets, sorted."""
    return sorted(p.stem.replace("_", "-") for p in TARGET_DIR.glob("*.toml"))


def load_target(name_or_path: str | os.PathLike) -> Target:
    """Load a shipped target by name (``neuro-core``) or a user's TOML file by path."""
    p = Path(name_or_path)
    if p.suffix == ".toml" or p.exists():
        path = p
    else:
        path = TARGET_DIR / (str(name_or_path).replace("-", "_") + ".toml")
        if not path.is_file():
            raise error(f"unknown target '{name_or_path}' (available: {', '.join(available_targets())})")
    try:
        text = path.read_text()
    except OSError as exc:
        raise error(f"cannot read target file '{path}': {exc.strerror}") from None
    return parse_target(text, str(path))


__all__ = ["DiagnosticError", "Target", "available_targets", "load_target", "parse_target"]
