"""Lint fixes: the edits a rule attaches to its finding, and `lint --fix` applying them.

A rule builds its fix with `remove_lines` (a declaration nothing reads) or `insert_line` (a
missing header line) and passes it to `ctx.finding(..., fix=...)`. `fix_text` lints, applies
every applicable fix that does not overlap another, checks the result, and goes round again (a
removed signal can leave a `let` unused) until nothing is left to fix; if the text was formatted,
the result is formatted too, so comments and layout stay as `fmt` keeps them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadlang.diagnostics import Diagnostic, Edit, Fix, LeadError
from leadlang.span import Span

ROUNDS = 10  # each round removes what the previous one left unused; real chains are short


def remove_lines(text: str, span: Span, title: str) -> Fix | None:
    """Delete the whole lines a declaration spans, its trailing comment included; None when the
    lines hold anything else (another declaration on the same line)."""
    start = text.rfind("\n", 0, span.start) + 1
    end = text.find("\n", span.end)
    end = len(text) if end < 0 else end + 1
    before, after = text[start:span.start], text[span.end:end].strip()
    if before.strip() or (after and not after.startswith("#")):
        return None
    return Fix(title, (Edit(span.file, start, end, ""),))


def insert_line(text: str, file: str, after: Span, line: str, title: str, safe: bool) -> Fix:
    """Insert `line`, indented like the line after `after`'s first line (two spaces if that is not
    indented), as the next line."""
    end = text.find("\n", after.start)
    at = len(text) if end < 0 else end + 1
    following = text[at:text.find("\n", at) if text.find("\n", at) >= 0 else len(text)]
    indent = following[: len(following) - len(following.lstrip())] or "  "
    newline = "\r\n" if text[max(at - 2, 0):at] == "\r\n" else "\n"
    prefix = "" if end >= 0 else newline
    return Fix(title, (Edit(file, at, at, f"{prefix}{indent}{line}{newline}"),), safe)


def apply(text: str, edits: list[Edit]) -> tuple[str, list[Edit]]:
    """`text` with the edits that overlap no earlier one applied; the edits applied."""
    chosen: list[Edit] = []
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if chosen and e.start < chosen[-1].end:
            continue
        chosen.append(e)
    for e in reversed(chosen):
        text = text[:e.start] + e.new + text[e.end:]
    return text, chosen


@dataclass
class Fixed:
    """What `fix_text` did to one file."""

    path: str
    before: str
    after: str
    applied: list[Diagnostic] = field(default_factory=list)  # the findings fixed, as first found
    broke: str | None = None  # why the last round's fixes were dropped (the result did not check)


def fix_text(path: str, text: str, lint_text, unsafe: bool = False) -> Fixed:
    """Fix `text` (the policy at `path`) round by round; `lint_text(text)` lints a text of the file
    (raising `LeadError` when it does not check) and returns its findings."""
    from leadlang.fmt import format_source

    result = Fixed(path, text, text)
    try:
        formatted = format_source(text.replace("\r\n", "\n"), path) == text.replace("\r\n", "\n")
    except LeadError:
        formatted = False
    current = text
    for _ in range(ROUNDS):
        found = [d for d in lint_text(current) if d.fix is not None and (d.fix.safe or unsafe)]
        found = [d for d in found if all(e.file == d.span.file for e in d.fix.edits)]
        if not found:
            break
        by_edit = {id(e): d for d in found for e in d.fix.edits}
        candidate, chosen = apply(current, [e for d in found for e in d.fix.edits])
        try:
            lint_text(candidate)
        except LeadError as err:
            result.broke = err.diagnostics[0].message if err.diagnostics else "the fixed policy does not check"
            break
        result.applied.extend(dict.fromkeys(by_edit[id(e)] for e in chosen))
        current = candidate
    if formatted and current != text:
        crlf = "\r\n" in text
        current = format_source(current.replace("\r\n", "\n"), path)
        current = current.replace("\n", "\r\n") if crlf else current
    result.after = current
    return result
