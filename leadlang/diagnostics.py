"""Diagnostics as data, and the renderers that turn them into text, JSON, SARIF or GitHub annotations."""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence
from urllib.parse import quote

from leadlang.span import Span


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace `text[start:end]` of `file` (a span's file, offsets in its text) by `new`."""

    file: str
    start: int
    end: int
    new: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A finding's fix as text edits. `safe`: certain to keep what the policy means (`lint --fix`
    applies it); otherwise it needs a person's eye (`--unsafe-fixes`)."""

    title: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a stable code, a severity, a one-line message and where; a lint finding may carry its `fix`."""

    code: str
    severity: str  # "error", "warning" or "hint"
    message: str
    span: Span
    hints: tuple[str, ...] = ()
    fix: Fix | None = None

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
    """File texts by path, so renderers can quote the offending line; any other file is read through
    `files` (an `fs.Files`: a git revision's `REV:path`, an editor's unsaved texts), or from disk."""

    texts: dict[str, str] = field(default_factory=dict)
    files: object | None = None
    _lines: dict[str, list[str] | None] = field(default_factory=dict, repr=False)

    def line(self, path: str, number: int) -> str | None:
        lines = self._lines.get(path, ...)
        if lines is ...:  # each file is read and split once, however many findings quote it
            text = self.texts.get(path)
            if text is None:
                try:
                    if self.files is not None:
                        text = self.files.read_bytes(path).decode("utf-8", errors="replace")
                    else:
                        with open(path, encoding="utf-8", errors="replace") as f:
                            text = f.read()  # kept in _lines: `texts` may be a checked policy's, read-only
                except OSError:
                    text = None
            lines = self._lines[path] = None if text is None else text.splitlines()
        if lines is None or number < 1:
            return None
        return lines[number - 1] if number <= len(lines) else None


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate closest to `name`, if one is close enough (or the same but for case)."""
    pool = sorted(set(candidates))
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return close[0] if close else None


def did_you_mean(name: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """A hint naming the closest candidate, if one is close enough."""
    close = closest(name, candidates)
    return (f"did you mean `{close}`?",) if close is not None else ()


MAX_SHOWN = 50
"""The most findings the text and GitHub renderers show; the rest are counted in one closing line."""


def _more(rest: Sequence[Diagnostic]) -> str:
    """`and 9,950 more errors` (warnings, hints, or findings when they are mixed)."""
    kinds = {d.severity for d in rest}
    noun = f"{kinds.pop()}" if len(kinds) == 1 else "finding"
    return f"and {len(rest):,} more {noun}{'s' if len(rest) != 1 else ''}"


def render_text(diagnostics: Sequence[Diagnostic], sources: Sources | None = None, limit: int | None = MAX_SHOWN,
                paint: Callable[[str, str], str] | None = None) -> str:
    """`path:line:col: error[E201]: message`, the source line, a caret and hints.

    At most `limit` findings of each file are shown (None: all), then one line
    counting that file's rest. `paint(text, role)` colours the parts (see
    `leadlang.term`); without it the text is plain.
    """
    def plain(text: str, role: str) -> str:
        return text

    style = paint or plain
    totals = Counter(d.span.file for d in diagnostics)
    shown: Counter = Counter()
    out: list[str] = []
    for d in diagnostics:
        s = d.span
        shown[s.file] += 1
        if limit is not None and shown[s.file] > limit:
            continue
        severity = style(f"{d.severity}[{d.code}]", d.severity)
        out.append(f"{style(f'{s.file}:{s.line}:{s.column}:', 'location')} {severity}: {d.message}")
        source_line = sources.line(s.file, s.line) if sources else None
        if source_line is not None:
            shown_line = source_line.replace("\t", " ")
            gutter = f"{s.line:>4} | "
            out.append(style(gutter, "gutter") + shown_line)
            width = (s.end_column - s.column) if s.end_line == s.line else len(shown_line) - s.column + 1
            width = max(1, min(width, max(1, len(shown_line) - s.column + 1)))
            out.append(style(" " * (len(gutter) - 2) + "| ", "gutter") + " " * (s.column - 1) + style("^" * width, d.severity))
        for hint in d.hints:
            out.append(f"  {style('= hint:', 'note')} {hint}")
        if limit is not None and shown[s.file] == limit and totals[s.file] > limit:
            out.append(_more([r for r in diagnostics if r.span.file == s.file][limit:]))
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
        **({"fix": {"title": d.fix.title, "safe": d.fix.safe,
                    "edits": [{"file": e.file, "start": e.start, "end": e.end, "new": e.new} for e in d.fix.edits]}} if d.fix else {}),
    }


def render_json(diagnostics: Sequence[Diagnostic]) -> str:
    return json.dumps([to_dict(d) for d in diagnostics], indent=2)


SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning", "hint": "note", "info": "note"}
_GITHUB_COMMAND = {"error": "error", "warning": "warning", "hint": "notice", "info": "notice"}


def _message(d: Diagnostic) -> str:
    """The message with its hints, for formats that have one text field."""
    return "\n".join([d.message, *(f"hint: {h}" for h in d.hints)])


def _uri(file: str) -> str:
    """A file as a SARIF URI: relative paths stay relative (forward slashes, percent-encoded)."""
    path = Path(file)
    return path.as_uri() if path.is_absolute() else quote(path.as_posix())


def render_sarif(diagnostics: Sequence[Diagnostic], rules: Mapping[str, Mapping[str, str]], tool_version: str,
                 help_uri: Callable[[str], str] | None = None) -> str:
    """A SARIF 2.1.0 log with one run; `rules` maps code -> {name, summary, severity, help};
    `help_uri(code)` is each rule's documentation page (`helpUri`: GitHub links it from the alert)."""
    codes = list(dict.fromkeys([*rules, *(d.code for d in diagnostics)]))
    index = {code: i for i, code in enumerate(codes)}
    descriptors = []
    for code in codes:
        meta = rules.get(code, {})
        descriptor = {"id": code}
        if meta.get("name"):
            descriptor["name"] = meta["name"]
        if meta.get("summary"):
            descriptor["shortDescription"] = {"text": meta["summary"]}
        if meta.get("help"):
            descriptor["help"] = {"text": meta["help"]}
        if help_uri is not None:
            descriptor["helpUri"] = help_uri(code)
        descriptor["defaultConfiguration"] = {"level": _SARIF_LEVEL.get(meta.get("severity", "error"), "warning")}
        descriptors.append(descriptor)
    results = []
    for d in diagnostics:
        s = d.span
        location: dict = {"artifactLocation": {"uri": _uri(s.file)}}
        if s.line >= 1:
            region = {"startLine": s.line, "startColumn": max(1, s.column)}
            if s.end_line >= s.line:
                region["endLine"] = s.end_line
                if s.end_column >= 1 and (s.end_line > s.line or s.end_column > s.column):
                    region["endColumn"] = s.end_column
            location["region"] = region
        results.append({
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL.get(d.severity, "warning"),
            "message": {"text": _message(d)},
            "locations": [{"physicalLocation": location}],
        })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "leadlang", "version": tool_version, "informationUri": "https://pypi.org/project/leadlang/", "rules": descriptors}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render_github(diagnostics: Sequence[Diagnostic], limit: int | None = MAX_SHOWN) -> str:
    """GitHub Actions workflow commands: one `::error file=...,line=...::message` per finding.

    At most `limit` annotations (None: all), then one `::notice::` counting the rest.
    """
    out = []
    shown = diagnostics if limit is None else diagnostics[:limit]
    for d in shown:
        s = d.span
        props = [f"file={_escape_property(s.file)}"]
        if s.line >= 1:
            props += [f"line={s.line}", f"col={max(1, s.column)}", f"endLine={max(s.line, s.end_line)}"]
            if s.end_line == s.line and s.end_column > s.column:
                props.append(f"endColumn={s.end_column - 1}")  # GitHub's end column is the last one marked
        props.append(f"title={_escape_property(d.code)}")
        out.append(f"::{_GITHUB_COMMAND.get(d.severity, 'warning')} {','.join(props)}::{_escape_data(_message(d))}")
    if len(shown) < len(diagnostics):
        out.append(f"::notice title=leadlang::{_escape_data(_more(diagnostics[len(shown):]))}")
    return "\n".join(out)
