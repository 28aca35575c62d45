"""Semantic tokens (the whole document): every name coloured by what it refers to.

The words, strings, numbers, comments and operators are the completion scanner's tokens (the grammar's
terminals); a name's colour comes from the checked policy's index of names (`Policy.occurrences`: a
field, let, signal, score, label ... and whether it is the declaration), a call's from the syntax tree
(a built-in function or an aggregate). A text that does not check is coloured by its words alone.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from leadlang.lsp.completion import scan

TOKEN_TYPES = ["keyword", "type", "variable", "property", "function", "enumMember", "string", "number", "comment",
               "operator", "namespace", "class", "struct", "enum", "method"]
TOKEN_MODIFIERS = ["declaration", "readonly", "defaultLibrary"]

# what an occurrence's kind is coloured as (docs/editors.md lists it)
KIND_TYPES = {
    "lead_field": "property", "account_field": "property", "event_column": "property", "events": "namespace",
    "let": "variable", "signal": "variable", "score": "class", "criteria": "struct", "classification": "enum",
    "label": "enumMember", "rule": "method", "member": "method", "gate": "method",
}
_READONLY = frozenset(["let"])
_TYPE_WORDS = frozenset(["string", "int", "number", "bool", "date", "timestamp", "enum"])
# words of the grammar that are not reserved (docs/language.md §2): keywords where no name is written
_GRAMMAR_WORDS = frozenset("leads accounts events from ref source lead at name account where ago as of x by last max "
                           "owner version use policy fired".split())
_MULTI_WORD = frozenset(["NOT_IN", "IS_NOT", "CONTAINS_ANY", "STARTS_WITH", "ENDS_WITH", "IN_LAST", "HALF_LIFE", "BY_ACCOUNT"])
_NUMBERS = frozenset(["INT", "DECIMAL", "DATE", "TIMESTAMP", "DURATION"])
_OPERATORS = frozenset([">=", "<=", "!=", "=", "<", ">", "+", "-", "*", "/"])


def tokens(text: str, policy=None, path: str | None = None, module=None) -> list[tuple[int, int, str, tuple[str, ...]]]:
    """(start offset, end offset, token type, modifiers) of every coloured piece of `text`, in order.

    `policy` (checked from this very text, its file `path`) colours the names; `module` (the text's
    parse) the calls."""
    from leadlang.syntax.grammar import KEYWORDS

    shift = 1 if text.startswith("\ufeff") else 0  # the checker reads the text without its byte-order mark
    named: dict[int, tuple[int, str, tuple[str, ...]]] = {}
    if policy is not None and path is not None:
        for found in policy.occurs.values():
            for o in found:
                if o.span.file != path:
                    continue
                mods = (("declaration",) if o.declaration else ()) + (("readonly",) if o.kind in _READONLY else ())
                named[o.span.start + shift] = (o.span.end + shift, KIND_TYPES.get(o.kind, "variable"), mods)
    calls = _calls(module or (policy.modules[0] if policy is not None and policy.modules else None), shift)
    starts = sorted(named)
    out: list[tuple[int, int, str, tuple[str, ...]]] = []
    for tok in scan(text):
        t, start, end = tok.type, tok.start, tok.end
        if t == "COMMENT":
            out.append((start, end, "comment", ()))
        elif t in ("STRING", "PARTIAL"):
            at = start
            for s in starts[bisect_right(starts, start):bisect_left(starts, end)]:  # a string compared with a label
                e, kind, mods = named[s]
                out.append((at, s, "string", ()))
                out.append((s, e, kind, mods))
                at = e
            out.append((at, end, "string", ()))
        elif t in ("NAME", "QUOTED_NAME", "AGGREGATE"):
            if start in named:
                e, kind, mods = named[start]
                out.append((start, e, kind, mods))  # `ucc` of `ucc_met`: the owner's part of the word
            elif start in calls or t == "AGGREGATE":
                out.append((start, end, "function", ("defaultLibrary",)))
            elif tok.value in _TYPE_WORDS:
                out.append((start, end, "type", ()))
            elif tok.value in KEYWORDS or tok.value in _GRAMMAR_WORDS:
                out.append((start, end, "keyword", ()))
            else:
                out.append((start, end, "variable", ()))
        elif t in _MULTI_WORD:
            out.append((start, end, "keyword", ()))
        elif t in _NUMBERS:
            out.append((start, end, "number", ()))
        elif t == "OP" and tok.value in _OPERATORS:
            out.append((start, end, "operator", ()))
    return [piece for piece in out if piece[1] > piece[0]]


def _calls(module, shift: int) -> set[int]:
    """Where each function call and aggregate of the module starts (its name)."""
    if module is None:
        return set()
    from leadlang.syntax import ast as A

    return {n.span.start + shift for n in A.walk(module) if isinstance(n, (A.Call, A.Aggregate))}


def encode(text: str, pieces, lines) -> list[int]:
    """The protocol's relative encoding of the pieces (positions in the client's units through `lines`)."""
    data: list[int] = []
    previous_line, previous_char = 0, 0
    line_starts = [0, *(i + 1 for i, ch in enumerate(text) if ch == "\n")]
    for start, end, kind, mods in pieces:
        line = bisect_right(line_starts, start)
        first = lines.position(line, start - line_starts[line - 1] + 1)
        last = lines.position(line, end - line_starts[line - 1] + 1)
        length = last.character - first.character
        if length <= 0:
            continue
        delta_line = first.line - previous_line
        delta_char = first.character - previous_char if delta_line == 0 else first.character
        bits = sum(1 << TOKEN_MODIFIERS.index(m) for m in mods)
        data += [delta_line, delta_char, length, TOKEN_TYPES.index(kind), bits]
        previous_line, previous_char = first.line, first.character
    return data


def semantic_tokens(server, params):
    from lsprotocol import types as T

    from leadlang.lsp.positions import Lines

    from leadlang.lsp.navigation import _module_path

    uri = params.text_document.uri
    text = server.documents.text(uri)
    analysis = server.documents.context(uri)  # a `use`d file: read through the open policy that uses it
    if text is None or analysis is None:
        return T.SemanticTokens(data=[])
    policy, path = analysis.policy, server.documents.buffers[uri].path
    module = analysis.module if analysis.uri == uri else None
    if policy is not None:
        path = _module_path(policy, path)
        module = next((m for m in policy.modules if m.path == path), None)
        if policy.texts.get(path) != text.removeprefix("\ufeff"):
            policy = module = None
    pieces = tokens(text, policy, path, module)
    return T.SemanticTokens(data=encode(text, pieces, Lines(text, server.encoding)))


def register(server) -> None:
    from lsprotocol import types as T

    legend = T.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS)
    server.feature(T.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, legend)(lambda params: semantic_tokens(server, params))
