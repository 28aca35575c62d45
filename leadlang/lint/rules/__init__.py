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
