"""Document symbols (the outline), folding ranges and formatting: read from the parse alone, so they work on a policy with errors."""

from __future__ import annotations

import re

from lsprotocol import types as T

from leadlang.syntax import ast as A
from leadlang.syntax.comments import scan

K = T.SymbolKind
# declaration -> (its outline kind, the word before its name in the outline, its items' kind)
_KINDS = {
    A.Leads: (K.Struct, "leads", K.Field), A.Accounts: (K.Struct, "accounts", K.Field), A.Events: (K.Struct, "events", K.Field),
    A.Let: (K.Constant, "let", None), A.Signal: (K.Variable, "signal", None),
    A.PointsScore: (K.Function, "score", K.Property), A.DerivedScore: (K.Function, "score", None),
    A.Bands: (K.Enum, "bands", K.EnumMember), A.Criteria: (K.Class, "criteria", K.Property),
    A.Disqualify: (K.Class, "disqualify", K.Property), A.Matrix: (K.Enum, "matrix", K.EnumMember),
    A.Classify: (K.Enum, "classify", K.EnumMember), A.Actions: (K.Object, "actions", K.Key),
    A.Test: (K.Method, "test", None), A.Use: (K.File, "use", None), A.PolicyHeader: (K.Module, "policy", None),
}


def _name(d) -> str:
    if isinstance(d, A.Test):
        return f'"{d.name}"'
    if isinstance(d, A.Use):
        return f'"{d.path}"'
    for attr in ("name", "score", "target"):
        if isinstance(getattr(d, attr, None), str):
            return getattr(d, attr)
    return ""


def _items(d) -> list[tuple[str, object]]:
    """The named parts of a declaration: fields, rules, members, gates, band labels, branches, actions."""
    if isinstance(d, (A.Leads, A.Accounts, A.Events)):
        return [(f.name, f) for f in d.fields]
    if isinstance(d, A.PointsScore):
        return [(r.id, r) for r in d.rules]
    if isinstance(d, (A.Criteria,)):
        return [(m.id, m) for m in d.members]
    if isinstance(d, A.Disqualify):
        return [(g.id, g) for g in d.gates]
    if isinstance(d, A.Bands):
        return [(b.label, b) for b in d.bands]
    if isinstance(d, A.Classify):
        return [(b.label, b) for b in d.branches]
    if isinstance(d, A.Matrix):
        return [(row.band, row) for row in d.rows]
    if isinstance(d, A.Actions):
        return [(a.label, a) for a in d.actions]
    return []


def _selection(text: str, span, word: str, lines) -> T.Range:
    """Where `word` is first written in the span (the whole span's first line if it is not)."""
    whole = lines.range(span)
    if word:
        m = re.search(r"(?<![A-Za-z0-9_`])`?" + re.escape(word.strip('"')) + r"`?(?![A-Za-z0-9_])", text[span.start:span.end])
        if m is not None:
            start = span.start + m.start()
            line = text.count("\n", 0, start) + 1
            column = start - (text.rfind("\n", 0, start) + 1) + 1
            first = lines.position(line, column)
            return T.Range(start=first, end=lines.position(line, column + len(m.group())))
    return T.Range(start=whole.start, end=whole.start)


def symbols(module: A.Module, text: str, lines) -> list[T.DocumentSymbol]:
    out = []
    for d in module.decls:
        kind, word, item_kind = _KINDS.get(type(d), (None, "", None))
        if kind is None:
            continue
        name = _name(d)
        children = [
            T.DocumentSymbol(name=item, kind=item_kind, range=lines.range(node.span), selection_range=_selection(text, node.span, item, lines))
            for item, node in _items(d)
        ] if item_kind is not None else None
        out.append(T.DocumentSymbol(
            name=name or word, detail=word, kind=kind, range=lines.range(d.span),
            selection_range=_selection(text, d.span, name, lines), children=children or None,
        ))
    return out


def folding(module: A.Module | None, text: str) -> list[T.FoldingRange]:
    """Multi-line declarations (tests among them), and runs of two or more comment lines."""
    out = []
    if module is not None:
        for d in module.decls:
            if d.span.end_line > d.span.line:
                end = d.span.end_line if d.span.end_column > 1 else d.span.end_line - 1
                if end > d.span.line:
                    out.append(T.FoldingRange(start_line=d.span.line - 1, end_line=end - 1, kind=T.FoldingRangeKind.Region))
    run: list[int] = []
    for c in [*scan(text)[0], None]:
        if c is not None and c.own_line and (not run or c.line == run[-1] + 1):
            run.append(c.line)
            continue
        if len(run) >= 2:
            out.append(T.FoldingRange(start_line=run[0] - 1, end_line=run[-1] - 1, kind=T.FoldingRangeKind.Comment))
        run = [c.line] if c is not None and c.own_line else []
    return sorted(out, key=lambda f: (f.start_line, f.end_line))


def formatting(text: str, path: str, lines) -> list[T.TextEdit]:
    """`leadlang fmt`'s output as one edit of the whole document; none when it is formatted or does not parse."""
    from leadlang.diagnostics import LeadError
    from leadlang.fmt import FormatterBug
    from leadlang.fmt.files import format_text

    try:
        after = format_text(text, path).after
    except (LeadError, FormatterBug, RecursionError):
        return []
    if after == text:
        return []
    return [T.TextEdit(range=T.Range(start=T.Position(line=0, character=0), end=lines.end()), new_text=after)]


def register(server) -> None:
    def own(uri: str):
        a = server.documents.analysis(uri)
        return a, (server.lines(a.path, a) if a is not None else None)

    @server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def document_symbols(params: T.DocumentSymbolParams):
        a, lines = own(params.text_document.uri)
        return symbols(a.module, a.text, lines) if a is not None and a.module is not None else []

    @server.feature(T.TEXT_DOCUMENT_FOLDING_RANGE)
    def folding_ranges(params: T.FoldingRangeParams):
        a, _ = own(params.text_document.uri)
        return folding(a.module, a.text) if a is not None else []

    @server.feature(T.TEXT_DOCUMENT_FORMATTING)
    def format_document(params: T.DocumentFormattingParams):
        a, lines = own(params.text_document.uri)
        return formatting(a.text, a.path, lines) if a is not None else []
