"""Diagnostics as data, and the renderers that turn them into text or JSON."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from leadlang.syntax.ast import Span


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable code, a severity, a one-line message and where."""

    code: str
    severity: str  # "error", "warning" or "info"
    message: str
    span: Span
    hints: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


class LeadError(Exception):
    """Raised to stop a stage; carries the diagnostics that explain why."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        self.diagnostics = list(diagnostics)
        super().__init__("; ".join(d.message for d in self.diagnostics))


class DataError(Exception):
    """Unusable input data (exit code 2): a missing file, column or bad value."""


@dataclass
class Sources:
    """File texts by path, so renderers can quote the offending line."""

    texts: dict[str, str] = field(default_factory=dict)

    def line(self, path: str, number: int) -> str | None:
        text = self.texts.get(path)
        if text is None:
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = self.texts[path] = f.read()
            except OSError:
                return None
        if number < 1:
            return None
        lines = text.splitlines()
        return lines[number - 1] if number <= len(lines) else None


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A hint naming the closest candidate, if one is close enough."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return (f"did you mean `{close[0]}`?",) if close else ()


def render_text(diagnostics: Sequence[Diagnostic], sources: Sources | None = None) -> str:
    """`path:line:col: error[E201]: message`, the source line, a caret and hints."""
    out: list[str] = []
    for d in diagnostics:
        s = d.span
        out.append(f"{s.file}:{s.line}:{s.column}: {d.severity}[{d.code}]: {d.message}")
        source_line = sources.line(s.file, s.line) if sources else None
        if source_line is not None:
            shown = source_line.replace("\t", " ")
            gutter = f"{s.line:>4} | "
            out.append(gutter + shown)
            width = (s.end_column - s.column) if s.end_line == s.line else len(shown) - s.column + 1
            width = max(1, min(width, max(1, len(shown) - s.column + 1)))
            out.append(" " * (len(gutter) - 2) + "| " + " " * (s.column - 1) + "^" * width)
        for hint in d.hints:
            out.append(f"  = hint: {hint}")
    return "\n".join(out)


def to_dict(d: Diagnostic) -> dict:
    s = d.span
    return {
        "code": d.code,
        "severity": d.severity,
        "message": d.message,
        "file": s.file,
        "line": s.line,
        "column": s.column,
        "end_line": s.end_line,
        "end_column": s.end_column,
        "hints": list(d.hints),
    }


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([to_dict(d) for d in diagnostics], indent=2)
