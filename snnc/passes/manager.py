"""The pass manager: passes as dataclasses, pipelines as text, verification after every pass.

A pass is a dataclass subclass of :class:`Pass` with a kebab-case ``name`` and its
options as fields::

    @dataclass
    class Quantize(Pass):
        \"\"\"Quantize weights to integers.\"\"\"
        name: ClassVar[str] = "quantize"
        weight_bits: int = field(default=8, metadata={"help": "bits per weight"})

        def run(self, module: ModuleOp) -> None: ...

Defining the class registers it (``Pass.registry["quantize"]``): there is no hand-kept
list.  Option ``weight-bits`` maps to field ``weight_bits``; values are converted to the
field's type (``int``, ``float``, ``bool``, ``str`` or an ``enum.Enum`` whose values are
strings).

Pipeline text (what ``snnc opt --pass-pipeline=`` takes)::

    pipeline := entry ("," entry)*
    entry    := pass-name ["{" option (("," | " ") option)* "}"]
              | "builtin.module(" pipeline ")"        (MLIR's anchor, accepted and unwrapped)
    option   := option-name "=" value                   (value: bare word or "quoted")

An empty pipeline is allowed (parse, verify, print).  Errors in the text are
diagnostics located in the pipeline string (``<pass-pipeline>:1:COL: error: ...``);
render them with ``err.render({PIPELINE_FILE: text})`` to show the text and a caret.

:class:`PassManager` runs the passes in order on a module; after each one it runs the
verifier, and a failure there is reported as ``pass 'x' produced invalid IR: ...`` at
the offending op.  Optionally it prints the IR after every pass (MLIR's
``--mlir-print-ir-after-all`` headers) and measures the time of each pass.
"""

from __future__ import annotations

import dataclasses
import enum
import sys
import time
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any, ClassVar

from ..ir.builtin import ModuleOp
from ..ir.diagnostics import Diagnostic, DiagnosticError, FileLineColLoc
from ..ir.verifier import verify

PIPELINE_FILE = "<pass-pipeline>"


class Pass:
    """Base class of passes.  Subclasses are dataclasses with a kebab-case ``name``."""

    #: Every concrete pass, by name (filled by ``__init_subclass__``).
    registry: ClassVar[dict[str, type[Pass]]] = {}
    #: The pass's pipeline name, kebab-case (``"canonicalize"``).
    name: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name", "")
        if not name:
            return
        if not _is_kebab(name):
            raise TypeError(f"pass name {name!r} is not kebab-case")
        if name in Pass.registry and Pass.registry[name].__qualname__ != cls.__qualname__:
            raise TypeError(f"pass {name!r} declared twice ({Pass.registry[name].__qualname__}, {cls.__qualname__})")
        Pass.registry[name] = cls

    def run(self, module: ModuleOp) -> None:  # pragma: no cover - overridden
        """Transform ``module`` in place; raise a DiagnosticError for user-facing failures."""
        raise NotImplementedError

    # ------------------------------------------------------------------ options

    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    @classmethod
    def options(cls) -> list[PassOption]:
        """The pass's options (its dataclass fields), in declaration order."""
        if not dataclasses.is_dataclass(cls):
            return []
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            if not f.init:
                continue
            default = f.default if f.default is not dataclasses.MISSING else None
            out.append(
                PassOption(
                    name=f.name.replace("_", "-"),
                    field=f.name,
                    type=hints[f.name],
                    default=default,
                    help=str(f.metadata.get("help", "")),
                )
            )
        return out

    def pipeline_text(self) -> str:
        """This pass as pipeline text, options that differ from their default included."""
        opts = []
        for o in self.options():
            v = getattr(self, o.field)
            if v != o.default:
                opts.append(f"{o.name}={format_option_value(v)}")
        return self.name + ("{" + ",".join(opts) + "}" if opts else "")

    @property
    def display_name(self) -> str:
        """The class name, as MLIR shows it in IR dumps and timing reports."""
        return type(self).__name__


def _is_kebab(s: str) -> bool:
    return bool(s) and s[0].isalpha() and s == s.lower() and all(c.isalnum() or c == "-" for c in s) and "--" not in s


@dataclass(frozen=True)
class PassOption:
    name: str  # kebab-case, as written in pipelines
    field: str  # the dataclass field
    type: Any
    default: Any
    help: str

    @property
    def type_name(self) -> str:
        t = self.type
        if isinstance(t, type) and issubclass(t, enum.Enum):
            return "|".join(str(m.value) for m in t)
        return getattr(t, "__name__", str(t))


def format_option_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, enum.Enum):
        return str(v.value)
    s = str(v)
    if s == "" or any(c in s for c in ",{} ="):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


def convert_option(opt: PassOption, text: str) -> Any:
    """Convert ``text`` to the option's type; raises ValueError with a readable reason."""
    t = opt.type
    if t is bool:
        low = text.lower()
        if low in ("true", "1", "on", "yes"):
            return True
        if low in ("false", "0", "off", "no"):
            return False
        raise ValueError(f"expected true or false, got '{text}'")
    if t is int:
        try:
            return int(text, 0)
        except ValueError:
            raise ValueError(f"expected an integer, got '{text}'") from None
    if t is float:
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"expected a number, got '{text}'") from None
    if t is str:
        return text
    if isinstance(t, type) and issubclass(t, enum.Enum):
        for m in t:
            if str(m.value) == text:
                return m
        raise ValueError(f"expected one of {', '.join(str(m.value) for m in t)}, got '{text}'")
    raise TypeError(f"option '{opt.name}' has unsupported type {t!r}")  # a bug in the pass declaration


# --------------------------------------------------------------------------- pipeline text


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def err(self, message: str, pos: int | None = None) -> DiagnosticError:
        p = self.pos if pos is None else pos
        return DiagnosticError(
            Diagnostic("error", message, FileLineColLoc(PIPELINE_FILE, 1, p + 1))
        )

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def eat(self, ch: str) -> bool:
        self.skip_ws()
        if self.peek() == ch:
            self.pos += 1
            return True
        return False

    def word(self, what: str) -> tuple[str, int]:
        self.skip_ws()
        start = self.pos
        while self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "-_."):
            self.pos += 1
        if self.pos == start:
            found = f"'{self.peek()}'" if self.peek() else "end of pipeline"
            raise self.err(f"expected {what}, found {found}")
        return self.text[start : self.pos], start

    def value(self) -> str:
        self.skip_ws()
        q = self.peek()
        if q in ("'", '"'):
            start = self.pos
            self.pos += 1
            out = []
            while self.pos < len(self.text) and self.text[self.pos] != q:
                if self.text[self.pos] == "\\" and self.pos + 1 < len(self.text):
                    self.pos += 1
                out.append(self.text[self.pos])
                self.pos += 1
            if self.pos >= len(self.text):
                raise self.err("unterminated quoted option value", start)
            self.pos += 1
            return "".join(out)
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in ",} \t\n{":
            self.pos += 1
        return self.text[start : self.pos]


def parse_pipeline(text: str) -> list[Pass]:
    """Parse pipeline text into configured pass instances (see the module docstring)."""
    r = _Reader(text)
    r.skip_ws()
    if r.pos == len(text):
        return []
    passes = _parse_list(r, nested=False)
    r.skip_ws()
    if r.pos != len(text):
        raise r.err(f"unexpected '{r.peek()}' after pass pipeline")
    return passes


def _parse_list(r: _Reader, nested: bool) -> list[Pass]:
    passes: list[Pass] = []
    while True:
        name, start = r.word("a pass name")
        if name in ("builtin.module", "any") and r.eat("("):
            r.skip_ws()
            if r.peek() != ")":
                passes.extend(_parse_list(r, nested=True))
            if not r.eat(")"):
                raise r.err(f"expected ')' to close '{name}('")
        else:
            passes.append(_parse_entry(r, name, start))
        if not r.eat(","):
            break
    return passes


def _parse_entry(r: _Reader, name: str, start: int) -> Pass:
    cls = Pass.registry.get(name)
    if cls is None:
        known = ", ".join(sorted(Pass.registry)) or "none"
        raise r.err(f"unknown pass '{name}' (known passes: {known})", start)
    options = {o.name: o for o in cls.options()}
    values: dict[str, Any] = {}
    if r.eat("{"):
        while True:
            r.skip_ws()
            if r.peek() == "}":
                r.pos += 1
                break
            key, kpos = r.word("an option name")
            opt = options.get(key) or options.get(key.replace("_", "-"))
            if opt is None:
                known = ", ".join(options) or "none"
                raise r.err(f"pass '{name}' has no option '{key}' (its options: {known})", kpos)
            if not r.eat("="):
                raise r.err(f"expected '=' after option '{key}' of pass '{name}'")
            r.skip_ws()
            vpos = r.pos
            raw = r.value()
            try:
                values[opt.field] = convert_option(opt, raw)
            except ValueError as e:
                raise r.err(f"bad value for option '{key}' of pass '{name}': {e}", vpos) from None
            r.skip_ws()
            if r.peek() == ",":
                r.pos += 1
            elif r.peek() == "}":
                continue
            elif r.peek() == "":
                raise r.err(f"expected '}}' to close the options of pass '{name}'")
    inst = cls(**values)  # type: ignore[call-arg]
    check = getattr(inst, "check_options", None)
    if check is not None:
        problem = check()
        if problem:
            raise r.err(f"bad options for pass '{name}': {problem}", start)
    return inst


def pipeline_to_text(passes: Iterable[Pass]) -> str:
    return ",".join(p.pipeline_text() for p in passes)


# --------------------------------------------------------------------------- running


@dataclass
class PassTiming:
    name: str  # pipeline text of the pass
    display_name: str
    seconds: float
    verify_seconds: float


class PassManager:
    """Runs passes in order, verifying after each.

    ``print_ir_after_all``: write the IR after each pass to ``ir_stream`` (default
    stderr) under MLIR's ``// -----// IR Dump After Canonicalize (canonicalize) //----- //``
    header.  ``verify_each=False`` skips the verifier between passes (it still runs once
    at the end).  The timings of the last :meth:`run` are in ``self.timings``.
    """

    def __init__(
        self,
        passes: Sequence[Pass] = (),
        *,
        verify_each: bool = True,
        print_ir_after_all: bool = False,
        ir_stream: IO[str] | None = None,
    ) -> None:
        self.passes = list(passes)
        self.verify_each = verify_each
        self.print_ir_after_all = print_ir_after_all
        self.ir_stream = ir_stream
        self.timings: list[PassTiming] = []

    @classmethod
    def parse(cls, pipeline: str, **kwargs: Any) -> PassManager:
        return cls(parse_pipeline(pipeline), **kwargs)

    def add(self, p: Pass) -> PassManager:
        self.passes.append(p)
        return self

    def run(self, module: ModuleOp) -> ModuleOp:
        self.timings = []
        for i, p in enumerate(self.passes):
            t0 = time.perf_counter()
            p.run(module)
            t1 = time.perf_counter()
            if self.verify_each or i == len(self.passes) - 1:
                try:
                    verify(module)
                except DiagnosticError as e:
                    raise _invalid_ir(p, e) from None
            t2 = time.perf_counter()
            self.timings.append(PassTiming(p.pipeline_text(), p.display_name, t1 - t0, t2 - t1))
            if self.print_ir_after_all:
                from ..ir.printer import print_module

                stream = self.ir_stream if self.ir_stream is not None else sys.stderr
                stream.write(f"// -----// IR Dump After {p.display_name} ({p.name}) //----- //\n")
                text = print_module(module)
                stream.write(text if text.endswith("\n") else text + "\n")
                stream.write("\n")
        return module

    def timing_report(self, stream: IO[str] | None = None) -> None:
        """Write the per-pass timings of the last run as a table (rich) to ``stream``."""
        write_timing_report(self.timings, stream)


def _invalid_ir(p: Pass, e: DiagnosticError) -> DiagnosticError:
    first = e.diagnostics[0]
    diag = Diagnostic(first.severity, f"pass '{p.name}' produced invalid IR: {first.message}", first.location, list(first.notes))
    return DiagnosticError([diag, *e.diagnostics[1:]])


def write_timing_report(timings: Sequence[PassTiming], stream: IO[str] | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream if stream is not None else sys.stderr, width=100, color_system=None)
    table = Table(title="Pass execution timing report")
    table.add_column("pass")
    table.add_column("time (ms)", justify="right")
    table.add_column("verify (ms)", justify="right")
    table.add_column("share", justify="right")
    total = sum(t.seconds + t.verify_seconds for t in timings) or 1e-12
    for t in timings:
        share = 100.0 * (t.seconds + t.verify_seconds) / total
        table.add_row(t.name, f"{t.seconds * 1e3:.3f}", f"{t.verify_seconds * 1e3:.3f}", f"{share:.1f}%")
    table.add_row("total", f"{sum(t.seconds for t in timings) * 1e3:.3f}", f"{sum(t.verify_seconds for t in timings) * 1e3:.3f}", "100.0%")
    console.print(table)


__all__ = [
    "Pass",
    "PassOption",
    "PassManager",
    "PassTiming",
    "parse_pipeline",
    "pipeline_to_text",
    "convert_option",
    "write_timing_report",
]
