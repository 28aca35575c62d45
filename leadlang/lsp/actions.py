"""Code actions: the "did you mean" fixes of check errors, `# leadlang: ignore[CODE]` for a lint finding,
the lint rules' own fixes, and all of `leadlang lint --fix` as one `source.fixAll.leadlang` action.

`fixes(text, path, diagnostic)` is the whole logic, on the document's text and one of the server's own
diagnostics (with its hints and span, not the client's copy): each `Fix` a title and text edits as
offsets. `register(server)` answers `textDocument/codeAction` with them.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from leadlang.diagnostics import Diagnostic
from leadlang.lsp.completion import written

_MEANT = re.compile(r'^(?:"((?:[^"\\]|\\.)*)": )?did you mean `([^`]+)`\?$')
_QUOTED = re.compile(r'`([^`]+)`|"((?:[^"\\]|\\.)*)"')
_IGNORE = re.compile(r"#\s*leadlang:\s*ignore\b(\s*\[([^\]]*)\])?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class Fix:
    title: str
    edits: tuple[tuple[int, int, str], ...]  # (start offset, end offset, new text), in one file's text
    preferred: bool = False


def fixes(text: str, path: str, d: Diagnostic) -> list[Fix]:
    """The fixes of one diagnostic of the file `path` whose text is `text`."""
    if d.span.file != path:
        return []
    found = [*_did_you_mean(text, d), *_rule_fixes(text, path, d)]
    if d.code.startswith("L"):
        ignore = _ignore(text, d)
        if ignore is not None:
            found.append(ignore)
    return found


# ---------------------------------------------------------- did you mean --
def _did_you_mean(text: str, d: Diagnostic) -> list[Fix]:
    from leadlang.syntax.comments import scan

    out = []
    masked = None
    for hint in d.hints:
        m = _MEANT.match(hint)
        if m is None:
            continue
        wrong_value, meant = m.group(1), m.group(2)
        start, end = d.span.start, max(d.span.end, d.span.start)
        if wrong_value is not None or _is_string_fix(d, text):
            # a string compared with an enum or a label: `"sotware"` -> `"software"`
            wrong = wrong_value if wrong_value is not None else _string_in_message(d.message)
            if wrong is None:
                continue
            at = text.find(_quote(wrong), start, end + 1)
            if at < 0:
                continue
            out.append(Fix(f"Change {_quote(wrong)} to {_quote(meant)}", ((at, at + len(_quote(wrong)), _quote(meant)),), True))
            continue
        if masked is None:
            masked = scan(text)[1]  # strings' insides and comments blanked: a word found there is code
        wrong, at = _wrong_word(d.message, meant, masked, start, end)
        if wrong is None:
            continue
        edits = [(at[0], at[1], written(meant))]
        for line in _also_lines(d.hints):
            edits.extend((s, e, written(meant)) for s, e in _words_on_line(masked, line, wrong) if (s, e) != at)
        title = f"Change `{wrong}` to `{meant}`" + (f" ({len(edits)} places)" if len(edits) > 1 else "")
        out.append(Fix(title, tuple(sorted(edits)), True))
    return out


def _is_string_fix(d: Diagnostic, text: str) -> bool:
    return text[d.span.start:d.span.start + 1] == '"'  # the span is the string itself (E205, E206 on a string)


def _string_in_message(message: str) -> str | None:
    m = re.match(r'^"((?:[^"\\]|\\.)*)"', message)
    return m.group(1) if m else None


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrong_word(message: str, meant: str, masked: str, start: int, end: int) -> tuple[str | None, tuple[int, int]]:
    """The word of the message the suggestion replaces: of the names it quotes and the span spells, the one closest to it."""
    best, best_at, best_score = None, (0, 0), -1.0
    for m in _QUOTED.finditer(message):
        word = m.group(1)
        if word is None or word == meant:
            continue
        for part in {word, word.rpartition(".")[2], word.partition(".")[0]}:  # `account.x`, `bands X`: the written word
            at = _word_in(masked, part, start, end)
            if at is None:
                continue
            score = difflib.SequenceMatcher(None, part, meant).ratio()
            if score > best_score:
                best, best_at, best_score = part, at, score
    return best, best_at


def _word_in(masked: str, word: str, start: int, end: int) -> tuple[int, int] | None:
    spelled = word if _IDENT.match(word) else f"`{word}`"
    pattern = re.compile(r"(?<![A-Za-z0-9_`])" + re.escape(spelled) + r"(?![A-Za-z0-9_])" if _IDENT.match(word) else re.escape(spelled))
    m = pattern.search(masked, start, max(end, start + len(spelled)))
    return (m.start(), m.end()) if m else None


def _also_lines(hints: tuple[str, ...]) -> list[int]:
    """The lines of `also used on line(s) 3, 7` (an unknown name reported once per file)."""
    for h in hints:
        m = re.match(r"also used on lines? ([\d, ]+)$", h)
        if m:
            return [int(x) for x in m.group(1).split(",") if x.strip()]
    return []


def _words_on_line(masked: str, line: int, word: str) -> list[tuple[int, int]]:
    starts = [0, *(m.end() for m in re.finditer("\n", masked))]
    if not 1 <= line <= len(starts):
        return []
    begin = starts[line - 1]
    finish = starts[line] - 1 if line < len(starts) else len(masked)
    out = []
    while True:
        at = _word_in(masked, word, begin, finish)
        if at is None:
            return out
        out.append(at)
        begin = at[1]


# ---------------------------------------------------------------- ignore --
def _ignore(text: str, d: Diagnostic) -> Fix | None:
    """`# leadlang: ignore[CODE]` where lint reads it for the finding's line (docs/lint.md, inline ignores):
    added to an ignore comment already there, else at the end of the line, else on its own line above."""
    line = d.span.line
    starts = [0, *(m.end() for m in re.finditer("\n", text))]
    if not 1 <= line <= len(starts):
        return None
    title = f"Ignore {d.code} on this line"
    begin = starts[line - 1]
    finish = text.find("\n", begin)
    finish = len(text) if finish < 0 else finish
    own = _comment(text, begin, finish)
    if own is not None:
        fix = _add_code(text, own, d.code)
        if fix is not None:
            return Fix(title, (fix,))
    if line >= 2:
        above_begin = starts[line - 2]
        above = _comment(text, above_begin, begin - 1)
        if above is not None and not text[above_begin:above[0]].strip():
            fix = _add_code(text, above, d.code)
            if fix is not None:
                return Fix(title, (fix,))
    body = text[begin:finish].rstrip("\r")
    if own is None and not body.rstrip().endswith("\\"):
        end = begin + len(body.rstrip())
        return Fix(title, ((end, begin + len(body), f"  # leadlang: ignore[{d.code}]"),))
    indent = body[:len(body) - len(body.lstrip())]
    return Fix(title, ((begin, begin, f"{indent}# leadlang: ignore[{d.code}]\n"),))


def _comment(text: str, begin: int, end: int) -> tuple[int, int] | None:
    """The comment of the line `text[begin:end]`, as offsets (None: no comment)."""
    from leadlang.syntax.comments import scan

    line = text[begin:end]
    found = scan(line)[0]
    if not found:
        return None
    at = begin + line.rfind(found[-1].text)  # a comment runs to the end of its line
    return at, at + len(found[-1].text)


def _add_code(text: str, comment: tuple[int, int], code: str) -> tuple[int, int, str] | None:
    """The edit adding `code` to the `# leadlang: ignore[...]` of a comment (None: it has none, or it ignores every code)."""
    m = _IGNORE.search(text, comment[0], comment[1])
    if m is None:
        return None
    if m.group(1) is None:
        return None  # `# leadlang: ignore` without codes already silences every finding there
    inside_end = m.end(1) - 1  # before `]`
    codes = m.group(2).strip()
    return (inside_end, inside_end, f", {code}" if codes else code)


# -------------------------------------------------------- the rules' fixes --
def _rule_fixes(text: str, path: str, d: Diagnostic) -> list[Fix]:
    """The fix a lint rule attaches to its finding (`Diagnostic.fix`: what `lint --fix` applies), when it edits this file only.
    A safe one is the preferred action; an unsafe one (`--unsafe-fixes`) is offered, not preferred."""
    if d.fix is None or any(e.file != path for e in d.fix.edits):
        return []
    return [Fix(d.fix.title, tuple((e.start, e.end, e.new) for e in d.fix.edits), d.fix.safe)]


# --------------------------------------------------------------- fix all --
FIX_ALL = "source.fixAll.leadlang"


def fix_all(text: str, path: str, files, settings) -> str:
    """The text as `leadlang lint --fix` leaves it: every safe fix, round after round (`lint.fixes.fix_text`),
    each round checked with the file read through `files` (the open buffers over the disk)."""
    from leadlang.check import load
    from leadlang.fs import Overlay
    from leadlang.lint import lint
    from leadlang.lint.fixes import fix_text

    def lint_text(current: str):
        return lint(load(path, files=Overlay(files, {path: current})), settings)

    return fix_text(path, text, lint_text).after


def _settings(path: str):
    """The project's `[tool.leadlang.lint]` settings (the defaults if they cannot be read: the server says why)."""
    from pathlib import Path

    from leadlang.diagnostics import DataError
    from leadlang.lint import all_rules
    from leadlang.lint.config import Settings, load_settings

    try:
        return load_settings(Path(path), list(all_rules()))
    except DataError:
        return Settings()


def _wanted(only, kind: str) -> bool:
    """Whether a request that asks `only` for some kinds wants `kind` (no `only`: every kind)."""
    return not only or any(kind == k or kind.startswith(k + ".") for k in only)


# -------------------------------------------------------------- protocol --
def code_actions(server, params) -> list:
    from lsprotocol import types as T

    from leadlang.lsp.positions import Lines

    uri = params.text_document.uri
    text = server.documents.text(uri)
    analysis = server.documents.analysis(uri)
    if text is None or analysis is None:
        return []
    lines = Lines(text, server.encoding)
    bom = 1 if text.startswith("\ufeff") else 0  # spans and edits are offsets in the text without it, as checked
    text = text[bom:]
    wanted = params.range
    sent = {(_key(d.range), str(d.code)): d for d in params.context.diagnostics or ()}
    out = []
    # the check's errors, and lint's findings once it has run on this very text (a long lint runs in a
    # worker when the edits pause: until then only the check's fixes are offered, never a stale finding's)
    for d in [*analysis.diagnostics, *(analysis.findings or ())]:
        if d.span.file != analysis.path:
            continue
        r = lines.range(d.span)
        if not _overlaps(r, wanted):
            continue
        if not _wanted(params.context.only, T.CodeActionKind.QuickFix):
            break
        lsp = sent.get((_key(r), d.code)) or server.to_lsp(d, lines)
        for f in fixes(text, analysis.path, d):
            edits = [T.TextEdit(range=_range(text, lines, s, e, bom), new_text=new) for s, e, new in f.edits]
            out.append(T.CodeAction(title=f.title, kind=T.CodeActionKind.QuickFix, diagnostics=[lsp],
                                    is_preferred=f.preferred or None, edit=T.WorkspaceEdit(changes={uri: edits})))
    # the whole of `lint --fix`, asked for by name only (an editor's fix-all on save): it lints round after round
    if params.context.only and _wanted(params.context.only, FIX_ALL) and analysis.policy is not None:
        if any(d.fix is not None and d.fix.safe for d in analysis.findings or ()):
            after = fix_all(text, analysis.path, server.documents.overlay(), _settings(analysis.path))
            if after != text:
                whole = T.Range(start=T.Position(line=0, character=0), end=lines.end())
                out.append(T.CodeAction(title="Fix all: leadlang lint --fix", kind=FIX_ALL, edit=T.WorkspaceEdit(
                    changes={uri: [T.TextEdit(range=whole, new_text="\ufeff" * bom + after)]})))
    return out


def _key(r) -> tuple[int, int, int, int]:
    return r.start.line, r.start.character, r.end.line, r.end.character


def _overlaps(a, b) -> bool:
    return (a.start.line, a.start.character) <= (b.end.line, b.end.character) and \
        (b.start.line, b.start.character) <= (a.end.line, a.end.character)


def _range(text: str, lines, start: int, end: int, bom: int = 0):
    from lsprotocol import types as T

    def position(offset: int):
        line = text.count("\n", 0, offset) + 1
        first = bom if line == 1 else 0
        return lines.position(line, offset - (text.rfind("\n", 0, offset) + 1) + 1 + first)

    return T.Range(start=position(start), end=position(end))


def register(server) -> None:
    from lsprotocol import types as T

    server.feature(T.TEXT_DOCUMENT_CODE_ACTION, T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix, FIX_ALL]))(
        lambda params: code_actions(server, params))
