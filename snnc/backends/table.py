"""The level table that every ``snnc check --target ...`` prints (one format for all backends)."""

from __future__ import annotations

#: the columns of a check table
CHECK_HEAD = ("level", "output", "vs integer interpreter", "vs float interpreter")


def format_rows(rows: list[tuple[str, ...]]) -> list[str]:
    """``rows[0]`` is the header: left-aligned columns two spaces apart, a dashed rule under the header."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


__all__ = ["CHECK_HEAD", "format_rows"]
