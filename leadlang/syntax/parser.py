"""Parse `.lead` text into a `Module`, turning every failure into a Diagnostic."""

from __future__ import annotations

import gc
from pathlib import Path

from lark.exceptions import LarkError, UnexpectedInput, VisitError

from leadlang.diagnostics import Diagnostic, LeadError
from leadlang.span import NOWHERE, Span
from leadlang.syntax import ast as A
from leadlang.syntax import chunks
from leadlang.syntax.errors import syntax_diagnostic
from leadlang.syntax.grammar import MAX_DEPTH, TooDeep, lalr
from leadlang.syntax.literals import BadLiteral
from leadlang.syntax.transform import Build
from leadlang.syntax.transform_exprs import BadSpan, tok_span


def _depth_check(path: str, decls) -> None:
    """Refuse expressions nested so deeply that later stages could not walk them."""
    stack = [(d, 0) for d in decls]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            span = getattr(node, "span", NOWHERE)
            raise LeadError([Diagnostic("E105", "error", f"expression is nested too deeply (more than {MAX_DEPTH} levels)", span, ("split it into `signal`s",))])
        stack.extend((child, depth + 1) for child in A.children(node))


def parse(text: str, path: str = "<string>", reuse: dict | None = None) -> A.Module:
    """Parse one policy's text. Raises `LeadError` with one diagnostic on failure.

    `reuse` (the language server's, one per open file) keeps the chunks of the last parse of
    this file: a chunk whose text is unchanged is not parsed again, only moved (`chunks`)."""
    if "\x00" in text:
        pos = text.index("\x00")
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        raise LeadError([Diagnostic("E101", "error", "unexpected NUL byte: this does not look like a text file", Span(path, line, column, line, column + 1, pos, pos + 1))])
    # A parse allocates a node or more per token and frees none of them: the
    # cyclic collector, triggered by allocations alone, would walk the growing
    # tree again and again (a third of the time on a 3 MB policy) for garbage
    # that cannot exist yet. It runs again as soon as parsing ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        decls = _parse_chunks(text, path, reuse)
        if decls is None:
            decls = _parse_decls(text, path)
            _depth_check(path, decls)
    finally:
        if collecting:
            gc.enable()
    return A.Module(path, tuple(decls), Span(path, 1, 1, 1, 1))


def _parse_chunks(text: str, path: str, reuse: dict | None = None):
    """The declarations parsed chunk by chunk (see `chunks`), or None to parse the whole file.

    Each distinct chunk text is parsed once; a repeat reuses its declarations
    with the spans moved. Any failure in any chunk means None: the whole-file
    parse then reports exactly what it always did.
    """
    cuts = chunks.split(text)
    if not cuts:
        return None
    seen: dict[str, tuple[tuple, int, int]] = {}
    out: list = []
    ends = [start for start, _ in cuts[1:]] + [len(text)]
    for (start, lines), end in zip(cuts, ends):
        piece = text[start:end]
        known = seen.get(piece) or (reuse.get(piece) if reuse is not None else None)
        if known is not None:
            decls, first_lines, first_start = known
            moved = (lines - first_lines, start - first_start)
            out.extend(decls if moved == (0, 0) else chunks.relocate(decls, *moved))  # unmoved: the last parse's own nodes
            seen.setdefault(piece, known)
            continue
        try:
            decls = _parse_decls(piece, path, lines, start)
            _depth_check(path, decls)
        except LeadError:
            return None
        seen[piece] = (decls, lines, start)
        out.extend(decls)
    if reuse is not None:  # what the next parse of this file may reuse: this one's chunks
        reuse.clear()
        reuse.update(seen)
    return out


def _parse_decls(text: str, path: str, lines: int = 0, chars: int = 0) -> tuple:
    """The declarations of `text`, which starts `lines` lines and `chars` characters into the file."""
    try:
        tree = lalr().parse(text)
        decls = Build(path, lines, chars).transform(tree)
    except TooDeep as deep:
        raise LeadError([Diagnostic("E105", "error", f"brackets are nested too deeply (more than {MAX_DEPTH} levels)", tok_span(path, deep.token))]) from None
    except UnexpectedInput as err:
        raise LeadError([syntax_diagnostic(path, text, err)]) from None
    except VisitError as err:
        inner = err.orig_exc
        if isinstance(inner, BadLiteral):
            hints = (inner.hint,) if inner.hint else ()
            raise LeadError([Diagnostic("E106", "error", inner.message, tok_span(path, inner.tok), hints)]) from None
        if isinstance(inner, BadSpan):
            raise LeadError([Diagnostic("E107", "error", inner.message, inner.span)]) from None
        raise
    except RecursionError:
        raise LeadError([Diagnostic("E105", "error", "policy is nested too deeply to read", Span(path, 1, 1, 1, 2))]) from None
    except LarkError as err:  # pragma: no cover - any other lark failure is still a syntax error
        raise LeadError([Diagnostic("E104", "error", f"cannot parse: {str(err).splitlines()[0]}", Span(path, 1, 1, 1, 2))]) from None
    return () if decls is None else tuple(decls)


def parse_file(path: str | Path) -> tuple[A.Module, str]:
    """Read and parse a file; unreadable bytes are a diagnostic, not an exception."""
    return parse_bytes(Path(path).read_bytes(), str(path))


def parse_bytes(raw: bytes, path: str) -> tuple[A.Module, str]:
    """Parse a file's bytes (UTF-8, a byte-order mark allowed): the module and its text; bytes that are not UTF-8 are `E100`."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        span = Span(path, line, column, line, column + 1, err.start, err.start + 1)
        raise LeadError([Diagnostic("E100", "error", f"file is not valid UTF-8 (byte 0x{raw[err.start]:02X})", span, ("save the policy as UTF-8",))]) from None
    return parse(text, path), text
