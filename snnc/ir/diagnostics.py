"""Locations and diagnostics.

Every user error in snnc is a :class:`DiagnosticError` carrying one or more
:class:`Diagnostic` objects, each tied to a :class:`Location`.  Rendering follows
mlir-opt::

    model.mlir:3:7: error: use of undefined value '%4'
      %5 = "nn.add"(%3, %4) : ...
          ^

For NIR files (no line/column) the location names the file and the node::

    model.nir: error: node 'lif1': unknown node type 'Foo'

A Python traceback is never the way a user learns about bad input: the CLI catches
:class:`SnncError` and prints its rendering, exit code 1.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# --------------------------------------------------------------------------- locations


class Location:
    """Base class of source locations (MLIR's ``loc(...)``)."""

    def file_line_col(self) -> FileLineColLoc | None:
        """The first file/line/column location inside this one, if any."""
        return None

    def to_mlir(self) -> str:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class UnknownLoc(Location):
    def to_mlir(self) -> str:
        return "unknown"


@dataclass(frozen=True)
class FileLineColLoc(Location):
    """``"file":line:col`` (1-based line and column, as MLIR)."""

    file: str
    line: int
    col: int

    def file_line_col(self) -> FileLineColLoc | None:
        return self

    def to_mlir(self) -> str:
        return f"{quote_string(self.file)}:{self.line}:{self.col}"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class NameLoc(Location):
    """``"name"(child)``: a named location, e.g. a NIR node in a file."""

    name: str
    child: Location | None = None

    def file_line_col(self) -> FileLineColLoc | None:
        return self.child.file_line_col() if self.child is not None else None

    def to_mlir(self) -> str:
        if self.child is None:
            return quote_string(self.name)
        return f"{quote_string(self.name)}({self.child.to_mlir()})"


@dataclass(frozen=True)
class CallSiteLoc(Location):
    """``callsite(callee at caller)``."""

    callee: Location
    caller: Location

    def file_line_col(self) -> FileLineColLoc | None:
        return self.callee.file_line_col() or self.caller.file_line_col()

    def to_mlir(self) -> str:
        return f"callsite({self.callee.to_mlir()} at {self.caller.to_mlir()})"


@dataclass(frozen=True)
class FusedLoc(Location):
    """``fused[a, b]``."""

    locations: tuple[Location, ...]

    def file_line_col(self) -> FileLineColLoc | None:
        for loc in self.locations:
            flc = loc.file_line_col()
            if flc is not None:
                return flc
        return None

    def to_mlir(self) -> str:
        return "fused[" + ", ".join(loc.to_mlir() for loc in self.locations) + "]"


@dataclass(frozen=True)
class FileLoc(Location):
    """A whole file, optionally a named node in it (NIR files have no lines)."""

    file: str
    node: str | None = None

    def to_mlir(self) -> str:
        if self.node is None:
            return f"{quote_string(self.file)}:0:0"
        return f"{quote_string(self.node)}({quote_string(self.file)}:0:0)"


def quote_string(s: str) -> str:
    """Quote ``s`` as MLIR prints a string literal (``llvm::printEscapedString``).

    The UTF-8 bytes are written as they are when printable ASCII, ``\\`` for a backslash,
    and ``\\XX`` (two upper-case hex digits) for ``"``, control characters and non-ASCII bytes.
    """
    out = ['"']
    for b in s.encode("utf-8", "surrogateescape"):
        if b == 0x5C:
            out.append("\\\\")
        elif 0x20 <= b <= 0x7E and b != 0x22:
            out.append(chr(b))
        else:
            out.append(f"\\{b:02X}")
    out.append('"')
    return "".join(out)


# --------------------------------------------------------------------------- diagnostics


@dataclass
class Diagnostic:
    severity: str  # "error" | "warning" | "note" | "remark"
    message: str
    location: Location | None = None
    notes: list[Diagnostic] = field(default_factory=list)

    def render(self, sources: Mapping[str, str] | None = None) -> str:
        lines: list[str] = []
        loc = self.location
        flc = loc.file_line_col() if loc is not None else None
        if isinstance(loc, FileLoc):
            prefix = f"{loc.file}: {self.severity}: "
            if loc.node is not None:
                prefix += f"node '{loc.node}': "
            lines.append(prefix + self.message)
        elif flc is not None and flc.line > 0:
            lines.append(f"{flc}: {self.severity}: {self.message}")
            src = _source_line(flc, sources)
            if src is not None:
                lines.append(src)
                lines.append(" " * (max(flc.col, 1) - 1) + "^")
        elif flc is not None:
            lines.append(f"{flc.file}: {self.severity}: {self.message}")
        else:
            name = loc.name if isinstance(loc, NameLoc) else None
            head = f"{self.severity}: "
            if name is not None:
                head = f"{name}: {self.severity}: "
            lines.append(head + self.message)
        for note in self.notes:
            lines.append(note.render(sources))
        return "\n".join(lines)


def _source_line(flc: FileLineColLoc, sources: Mapping[str, str] | None) -> str | None:
    text = None
    if sources is not None and flc.file in sources:
        text = sources[flc.file]
    elif os.path.isfile(flc.file):
        try:
            with open(flc.file, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError:
            text = None
    if text is None:
        return None
    src_lines = text.splitlines()
    if 1 <= flc.line <= len(src_lines):
        return src_lines[flc.line - 1]
    return None


class SnncError(Exception):
    """Base class of every error snnc reports to a user."""

    def render(self, sources: Mapping[str, str] | None = None) -> str:
        return f"error: {self}"


class DiagnosticError(SnncError):
    """One or more located diagnostics (the first is the error)."""

    def __init__(self, diagnostics: Iterable[Diagnostic] | Diagnostic) -> None:
        if isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics = list(diagnostics)
        super().__init__(self.diagnostics[0].message if self.diagnostics else "error")

    def render(self, sources: Mapping[str, str] | None = None) -> str:
        return "\n".join(d.render(sources) for d in self.diagnostics)

    def __str__(self) -> str:
        return self.render()


def error(message: str, location: Location | None = None, notes: Iterable[Diagnostic] = ()) -> DiagnosticError:
    """Build (not raise) a located error: ``raise error("...", op.location)``."""
    return DiagnosticError(Diagnostic("error", message, location, list(notes)))


def note(message: str, location: Location | None = None) -> Diagnostic:
    return Diagnostic("note", message, location)
