"""The grammar's Lark parser, loaded once: LALR, the contextual lexer, the newline post-lexer and a shared scanner."""

from __future__ import annotations

import functools
from pathlib import Path

from lark import Lark, Token
from lark.indenter import PostLex


MAX_DEPTH = 200
KEYWORDS = frozenset(
    "and or not in is between contains any starts ends with matches missing present "
    "true false when per otherwise clamp to require all of from key let signal score "
    "bands criteria disqualify matrix classify actions test use policy version expect "
    "fired because disqualified".split()
)
_OPENERS = {"LPAR": "RPAR", "LSQB": "RSQB"}
# A newline right after one of these continues the line. Matched on the token's
# text, not Lark's generated terminal names, which shift as the grammar grows.
_CONTINUE_AFTER = frozenset(["{", ",", "(", "[", "and", "or", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"])
_LITERAL_TYPES = frozenset(["STRING", "QUOTED_NAME"])


def grammar_path() -> Path:
    """The grammar shipped in the package, or the repository's copy in a checkout."""
    packaged = Path(__file__).resolve().parent.parent / "grammar" / "leadlang.lark"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "grammar" / "leadlang.lark"


class TooDeep(Exception):
    def __init__(self, token: Token):
        self.token = token


class _Lines(PostLex):
    """Keep a newline only where a line really ends (see the grammar's header)."""

    always_accept = ("_NL",)

    def process(self, stream):
        # Decide on each newline from what came before it only: the contextual
        # lexer reads the next token in the parser's current state, so a
        # newline must never be held back to peek past it.
        previous = None  # text (or type, for strings and names) of the last token passed on
        closers: list[str] = []
        for tok in stream:
            if tok.type == "_NL":
                if closers or previous is None or previous in _CONTINUE_AFTER or previous == "_NL":
                    continue
                previous = "_NL"
                yield tok
                continue
            elif tok.type in _OPENERS:
                closers.append(_OPENERS[tok.type])
                if len(closers) > MAX_DEPTH:
                    raise TooDeep(tok)
            elif closers and tok.type == closers[-1]:
                closers.pop()
            previous = tok.type if tok.type in _LITERAL_TYPES else tok.value
            yield tok


@functools.lru_cache(maxsize=1)
def lalr() -> Lark:
    lark = Lark(
        grammar_path().read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_Lines(),
        propagate_positions=True,
        maybe_placeholders=True,
        cache=True,  # LALR tables are kept in the temp dir, keyed by grammar and options
    )
    _share_root_scanner(lark)
    return lark


def _share_root_scanner(lark: Lark) -> None:
    """Let each parser state's lexer try a scanner shared by all states first.

    Lark's contextual lexer compiles a regular expression of its own for each
    parser state it meets, which is most of the time a short policy takes to
    parse. A shared scanner over a superset of a state's terminals tries them
    in the same order as the state's own scanner (Lark sorts terminals by one
    global key), so when the terminal it finds is one the state accepts, the
    state's scanner would have found the same. Two shared scanners serve: all
    terminals, and all but the names (for states where a keyword is expected
    and a name is not). Lark's "unless" callback, which retypes a name that is
    a keyword, runs as before. In any other case the state's own scanner
    decides, compiled as before; so the tokens are the contextual lexer's, one
    for one (tests/test_parser_robust compares the two on every policy in the
    repository).
    """
    import copy

    contextual = getattr(getattr(lark.parser, "lexer", None), "lexer", None)
    root = getattr(contextual, "root_lexer", None)
    if root is None or not hasattr(root, "scanner"):  # pragma: no cover - another Lark layout: keep Lark's own lexing
        return
    absorbing = {name for name, cb in root.callback.items() if hasattr(cb, "scanner")}
    # The order argument needs a name-like terminal to be wider than every
    # keyword it can spell; otherwise keep Lark's lexing untouched.
    for t in root.terminals:
        if t.name in absorbing and t.pattern.max_width <= max((len(k) for k in KEYWORDS), default=0):
            return  # pragma: no cover
    conf = copy.copy(lark.lexer_conf)
    conf.terminals = [t for t in lark.terminals if t.name not in absorbing]
    conf.skip_validation = True
    no_names = type(root)(conf)
    shared = [(frozenset(t.name for t in lark.terminals), root.scanner.match), (frozenset(t.name for t in conf.terminals), no_names.scanner.match)]
    for state_lexer in {id(x): x for x in contextual.lexers.values()}.values():
        accepts = frozenset(t.name for t in state_lexer.terminals)
        scan = next(m for names, m in reversed(shared) if accepts <= names)
        state_lexer.match = functools.partial(_match_shared, scan, accepts, state_lexer)
        # A name that spells a keyword the state accepts becomes that keyword,
        # as the state's own "unless" callback does; Lark replaces these with
        # its own if the state's scanner is ever built.
        state_lexer.callback = {name: functools.partial(_retype, root.callback[name], accepts) for name in absorbing & accepts}


def _retype(unless, accepts, tok: Token) -> Token:
    keyword = unless.scanner.fullmatch(tok.value)
    if keyword in accepts:
        tok.type = keyword
    return tok


def _match_shared(scan, accepts, state_lexer, text, pos):
    found = scan(text, pos)
    if found is not None and found[1] in accepts:
        return found
    return state_lexer.scanner.match(text, pos)
