"""Parse a policy one top-level declaration at a time, each distinct text once.

`parser.parse` cuts the text into chunks, each starting at a line that opens a
top-level declaration, parses each chunk on its own (a chunk whose text was
already seen in this file reuses that parse, its spans moved to where the copy
stands) and joins the declarations. This is what keeps a policy that repeats
itself, or a language server re-reading one edited declaration, from paying
for the whole file; on any failure the caller parses the whole file instead,
so every diagnostic is the whole-file parser's own.

Why the joined result is the whole-file parse (tests/test_parser_chunks.py
checks it on every policy in the repository and on generated and mutated
ones). A cut is made only at the start of a line that begins, at column 1,
with a keyword that starts a declaration, outside `{ }`, `( )` and `[ ]`
(strings, quoted names and comments set aside exactly as the lexer reads
them), after a line that does not end in a token that continues the line
(`and`, `,`, `=`, an operator, `{`, a `\\` line join). No token spans a
newline, so the cut is a token boundary in the whole file too; the newline
before it ends the previous declaration there as it ends the chunk alone
(`_NL` at depth 0 after a non-continuing token); and the grammar's
`start: (item (_NL item)*)? _NL?` reads `items _NL` followed by `items` as
their concatenation, the parser at the cut in the same state for the
keyword as at the start of a file. Were any of this misjudged, a chunk
would fail to parse (an unclosed bracket, a dangling operator), and the
caller falls back to the whole file.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from decimal import Decimal

from leadlang.span import NOWHERE, Span
from leadlang.syntax import ast as A

# The first keyword of every declaration in the grammar's `item`.
_DECL_KEYWORDS = (
    "policy", "version", "owner", "use", "leads", "accounts", "events", "let", "signal",
    "score", "bands", "criteria", "disqualify", "matrix", "classify", "actions", "test",
)
_CUT = re.compile(r"^(?:%s)[ \t]" % "|".join(_DECL_KEYWORDS), re.MULTILINE)
# Strings and quoted names (as the grammar's STRING and QUOTED_NAME) become a
# plain `S`; comments (COMMENT) vanish. What is left shows brackets and the
# last token of a line as the lexer sees them.
_OPAQUE = re.compile(r'"(?:[^"\\\n]|\\.)*"|`[^`\n]+`|#[^\n]*')
_CONTINUES = re.compile(r"(?:[{,(\[=<>+\-*/\\]|\band|\bor)\Z")
# Below this many declaration starts the whole-file parse is as quick.
MIN_CUTS = 8


def split(text: str) -> list[tuple[int, int]]:
    """`(start, line)` of each chunk: its offset and the number of lines before it.

    The first chunk starts at 0 (leading comments and blank lines belong to
    it); an empty list means "do not cut".
    """
    starts = [m.start() for m in _CUT.finditer(text)]
    if len(starts) < MIN_CUTS:
        return []
    chunks = [(0, 0)]
    depth = 0
    line = 0
    previous = 0
    for start in starts:
        if start == 0:
            continue
        segment = text[previous:start]
        line += segment.count("\n")
        clean = _OPAQUE.sub("S", segment)
        depth += clean.count("{") + clean.count("(") + clean.count("[") - clean.count("}") - clean.count(")") - clean.count("]")
        previous = start
        if depth != 0:
            continue
        # The last token before the cut, strings and comments set aside (the
        # segment starts with a declaration keyword, so it is never empty).
        tail = clean.rstrip()
        if not tail or _CONTINUES.search(tail[-8:]):
            continue
        chunks.append((start, line))
    return chunks if len(chunks) > 1 else []


_GETTERS: dict[type, object] = {}
# Values that hold no span: copied as they are.
_LEAVES = {str, A.QuotedName, int, bool, float, Decimal, type(None), dt.date, dt.datetime}


def relocate(value, lines: int, chars: int):
    """`value` (a node, a tuple of them, or a leaf) with every span moved down."""
    cls = value.__class__
    if cls in _LEAVES:
        return value
    if cls is tuple:
        values = value
    else:
        get = _GETTERS.get(cls)
        if get is None:
            names = tuple(getattr(cls, "__dataclass_fields__", ()))
            if not names:  # some other leaf
                _LEAVES.add(cls)
                return value
            get = _GETTERS[cls] = operator.attrgetter(*names) if len(names) > 1 else (lambda v, n=names[0]: (getattr(v, n),))
        if cls is Span:
            return value if value is NOWHERE else Span(value.file, value.line + lines, value.column, value.end_line + lines, value.end_column, value.start + chars, value.end + chars)
        values = get(value)
    out = []
    for v in values:
        vcls = v.__class__
        if vcls in _LEAVES:
            out.append(v)
        elif vcls is Span:
            out.append(v if v is NOWHERE else Span(v.file, v.line + lines, v.column, v.end_line + lines, v.end_column, v.start + chars, v.end + chars))
        else:
            out.append(relocate(v, lines, chars))
    return tuple(out) if cls is tuple else cls(*out)
