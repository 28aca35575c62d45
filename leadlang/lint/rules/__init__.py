"""The lint rules, one module per code (`lNNN_name.py`), and helpers they share."""

from __future__ import annotations

from leadlang.lint.logic import Range


def describe_range(r: Range) -> str:
    """`between 0 and 50`, `at least 10`, `at most 5` or `any number`."""
    low = None if r.low.is_infinite() else f"{r.low.normalize():f}"
    high = None if r.high.is_infinite() else f"{r.high.normalize():f}"
    if low is not None and high is not None:
        return f"between {low} and {high}" if low != high else f"exactly {low}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return "any number"


def source_text(policy, node) -> str:
    """The text of `node` as written in its file, on one line."""
    text = policy.texts.get(node.span.file, "")
    written = text[node.span.start : node.span.end] if node.span.end > node.span.start else ""
    return " ".join(written.split())


def shown(value: str, limit: int = 40) -> str:
    """A data value for a finding: double-quoted and escaped (control characters too), cut at `limit` characters."""
    import json

    return json.dumps(value if len(value) <= limit else value[:limit] + "…", ensure_ascii=False)


def examples(pairs, limit: int = 3) -> str:
    """`"a" (12 rows), "b" (3 rows)` and `, and 4 more` — the first `limit` of (value, rows) pairs."""
    text = ", ".join(f"{shown(v)} ({n} row{'s' if n != 1 else ''})" for v, n in pairs[:limit])
    return text + (f", and {len(pairs) - limit} more" if len(pairs) > limit else "")


def string_span(policy, node, text: str):
    """The span of the string literal `"text"` inside `node` as written (an aggregate's event name, an enum's value), else `node`'s."""
    import json

    from leadlang.span import Span

    span = node.span
    source = policy.texts.get(span.file, "")
    written = source[span.start : span.end] if span.end > span.start else ""
    at = written.find(json.dumps(text, ensure_ascii=False))
    if at < 0 or "\n" in written[:at]:
        return span
    start = span.start + at
    width = len(json.dumps(text, ensure_ascii=False))
    column = span.column + at
    return Span(span.file, span.line, column, span.line, column + width, start, start + width)


def declared_sources(policy):
    """(source name, its declaration) for the leads, accounts and every events source of `policy`."""
    yield "leads", policy.leads
    if policy.accounts is not None:
        yield "accounts", policy.accounts
    yield from policy.events.items()


def profiled_sources(ctx, with_rows: bool = False):
    """(source name, its declaration, its data profile) for every declared source the `--data` profile has
    (with `with_rows`, only those whose file has rows): the loop every `L4xx` rule starts with."""
    if ctx.data is None:
        return
    for source, decl in declared_sources(ctx.policy):
        src = ctx.data.sources.get(source)
        if src is not None and (src.rows or not with_rows):
            yield source, decl, src


def profiled_enums(ctx, with_rows: bool = False):
    """(declared field, its source's data profile) for every `enum` column the profile has values of."""
    for _, decl, src in profiled_sources(ctx, with_rows):
        for f in decl.fields:
            if f.type.name == "enum" and f.name in src.values:
                yield f, src
