"""Parse `.lead` text into a `Module`, turning every failure into a Diagnostic."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import gc
import re
import sys
from decimal import Decimal
from pathlib import Path

# Lark imports the third-party `regex` module whenever it is installed, only to
# offer `regex=True`, which leadlang does not use; skipping it saves a tenth of
# `leadlang check`'s start-up. Other code importing `regex` later still can.
_SKIP_REGEX = "regex" not in sys.modules
if _SKIP_REGEX:
    sys.modules["regex"] = None  # type: ignore[assignment]  # "import regex" raises ImportError
try:
    from lark import Lark, Token, Transformer_NonRecursive
finally:
    if _SKIP_REGEX:
        del sys.modules["regex"]
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import PostLex

from leadlang.diagnostics import Diagnostic, LeadError
from leadlang.syntax import ast as A
from leadlang.syntax import chunks
from leadlang.syntax import hints as fixes

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
_DURATION_UNITS = {"minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400}


def grammar_path() -> Path:
    """The grammar shipped in the package, or the repository's copy in a checkout."""
    packaged = Path(__file__).resolve().parent.parent / "grammar" / "leadlang.lark"
    if packaged.exists():
        return packaged
    return Path(__file__).resolve().parents[2] / "grammar" / "leadlang.lark"


class _TooDeep(Exception):
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
                    raise _TooDeep(tok)
            elif closers and tok.type == closers[-1]:
                closers.pop()
            previous = tok.type if tok.type in _LITERAL_TYPES else tok.value
            yield tok


@functools.lru_cache(maxsize=1)
def _lark() -> Lark:
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


def _span(path: str, meta, lines: int = 0, chars: int = 0) -> A.Span:
    """The span of a tree node, in a text that starts `lines` lines and `chars` characters into its file."""
    if getattr(meta, "empty", True) and not hasattr(meta, "line"):
        return A.NOWHERE
    return A.Span(path, meta.line + lines, meta.column, meta.end_line + lines, meta.end_column, meta.start_pos + chars, meta.end_pos + chars)


def _tok_span(path: str, tok: Token) -> A.Span:
    return A.Span(path, tok.line, tok.column, tok.end_line, tok.end_column, tok.start_pos, tok.end_pos)


class _BadLiteral(Exception):
    def __init__(self, message: str, tok: Token, hint: str = ""):
        self.message, self.tok, self.hint = message, tok, hint


_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "/": "/"}


def unquote(tok: Token) -> str:
    """Decode a string literal's escapes; a bad escape is a syntax error."""
    body = tok.value[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = body[i + 1] if i + 1 < len(body) else ""
        if nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", body[i + 2 : i + 6]):
            code = int(body[i + 2 : i + 6], 16)
            if 0xD800 <= code <= 0xDFFF:
                raise _BadLiteral(f"`\\u{body[i + 2 : i + 6]}` is a lone surrogate, not a character", tok)
            out.append(chr(code))
            i += 6
        else:
            raise _BadLiteral(f"unknown escape `\\{nxt}` in string", tok, 'escapes are \\" \\\\ \\n \\t and \\uXXXX')
    return "".join(out)


def parse_timestamp(text: str) -> dt.datetime:
    """ISO-8601 timestamp (or date) to an aware UTC datetime."""
    value = text.strip()
    if len(value) == 10:
        d = dt.date.fromisoformat(value)
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc)
    if value.endswith("Z") or value.endswith("z"):
        value = value[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def _number(text: str) -> Decimal:
    return Decimal(text.replace("_", "").lstrip("+"))


class _Build(Transformer_NonRecursive):
    """Parse tree -> AST. Method names are the grammar's rule names and aliases.

    Each method is called as `method(meta, *children)`. The dispatch below does
    what `v_args(inline=True, meta=True)` would, without Lark wrapping the
    method anew on every call (a third of the transform's time).
    """

    def __init__(self, path: str, lines: int = 0, chars: int = 0):
        super().__init__(visit_tokens=False)
        self.path = path
        self.lines, self.chars = lines, chars  # where the text parsed starts in its file

    def _call_userfunc(self, tree, new_children=None):
        children = tree.children if new_children is None else new_children
        method = getattr(type(self), tree.data, None)
        if method is None:
            return self.__default__(tree.data, children, tree.meta)
        try:
            return method(self, tree.meta, *children)
        except Exception as e:
            raise VisitError(tree.data, tree, e) from e

    def sp(self, meta) -> A.Span:
        return _span(self.path, meta, self.lines, self.chars)

    def tok_sp(self, tok: Token) -> A.Span:
        span = _tok_span(self.path, tok)
        return chunks.relocate(span, self.lines, self.chars) if self.lines or self.chars else span

    # -- names and literals
    def name(self, meta, tok):
        if tok.type == "QUOTED_NAME":
            return A.QuotedName(tok.value[1:-1])
        return tok.value

    def int_lit(self, meta, tok):
        return A.Literal(int(tok.value.replace("_", "")), "int", self.sp(meta))

    def decimal_lit(self, meta, tok):
        return A.Literal(_number(tok.value), "number", self.sp(meta))

    def points_lit(self, meta, tok):
        value = _number(tok.value)
        if value == value.to_integral_value() and "." not in tok.value:
            return A.Literal(int(value), "int", self.sp(meta))
        return A.Literal(value, "number", self.sp(meta))

    def neg_int_lit(self, meta, tok):
        return A.Literal(-int(tok.value.replace("_", "")), "int", self.sp(meta))

    def neg_decimal_lit(self, meta, tok):
        return A.Literal(-_number(tok.value), "number", self.sp(meta))

    def string_lit(self, meta, tok):
        return A.Literal(unquote(tok), "string", self.sp(meta))

    def true_lit(self, meta):
        return A.Literal(True, "bool", self.sp(meta))

    def false_lit(self, meta):
        return A.Literal(False, "bool", self.sp(meta))

    def missing_lit(self, meta):
        return None

    def date_lit(self, meta, tok):
        try:
            return A.Literal(dt.date.fromisoformat(tok.value), "date", self.sp(meta))
        except ValueError:
            raise _BadLiteral(f"`{tok.value}` is not a valid date", tok) from None

    def timestamp_lit(self, meta, tok):
        try:
            return A.Literal(parse_timestamp(tok.value), "timestamp", self.sp(meta))
        except (ValueError, OverflowError):  # OverflowError: an offset that moves it out of 0001..9999 in UTC
            raise _BadLiteral(f"`{tok.value}` is not a valid timestamp", tok) from None

    def list(self, meta, *items):
        return A.ListLit(tuple(i for i in items if i is not None), self.sp(meta))

    def duration(self, tok) -> A.Duration:
        count_text, unit = tok.value.split()
        unit = unit.rstrip("s")
        count = int(count_text.replace("_", ""))
        if unit in ("month", "year"):
            raise _BadLiteral(f"`{tok.value}` is not a duration leadlang accepts", tok, fixes.unfixed_length(count, unit))
        return A.Duration(count * _DURATION_UNITS[unit], f"{count} {unit}{'' if count == 1 else 's'}", unit, self.tok_sp(tok))

    # -- expressions
    def ref(self, meta, name):
        return A.Name(name, self.sp(meta))

    def attr(self, meta, base, attr):
        return A.Attr(base, attr, self.sp(meta))

    def disqualified(self, meta):
        return A.Disqualified(self.sp(meta))

    def or_(self, meta, *operands):
        return self._chain("or", operands, meta)

    def and_(self, meta, *operands):
        return self._chain("and", operands, meta)

    def _chain(self, op: str, operands, meta) -> A.Binary:
        """`a and b and c and d` as a balanced tree, ((a and b) and (c and d)): a chain of 5,000
        conditions nests 13 deep, so no stage walking it recursively runs out of stack, and the
        depth limit counts nesting, not length. (`and` and `or` are associative, also when unknown.)"""
        level = list(operands)
        while len(level) > 2:
            level = [self._pair(op, level[i], level[i + 1]) if i + 1 < len(level) else level[i] for i in range(0, len(level), 2)]
        return A.Binary(op, level[0], level[1], self.sp(meta))

    def _pair(self, op: str, left, right) -> A.Binary:
        a, b = left.span, right.span
        return A.Binary(op, left, right, A.Span(self.path, a.line, a.column, b.end_line, b.end_column, a.start, b.end))

    def not_(self, meta, operand):
        return A.Unary("not", operand, self.sp(meta))

    def neg(self, meta, operand):
        if isinstance(operand, A.Literal) and operand.kind in ("int", "number"):
            return A.Literal(-operand.value, operand.kind, self.sp(meta))
        return A.Unary("-", operand, self.sp(meta))

    def compare_op(self, meta, tok):
        return tok.value

    def compare(self, meta, left, op, right):
        return A.Binary(op, left, right, self.sp(meta))

    def add_op(self, meta, tok):
        return tok.value

    def mul_op(self, meta, tok):
        return tok.value

    def arith(self, meta, left, op, right):
        return A.Binary(op, left, right, self.sp(meta))

    def in_list(self, meta, operand, items):
        return A.InList(operand, items, False, self.sp(meta))

    def not_in_list(self, meta, operand, _tok, items):
        return A.InList(operand, items, True, self.sp(meta))

    def between(self, meta, operand, low, high):
        return A.Between(operand, low, high, self.sp(meta))

    def contains(self, meta, operand, arg):
        return A.TextTest("contains", operand, arg, self.sp(meta))

    def contains_any(self, meta, operand, _tok, arg):
        return A.TextTest("contains_any", operand, arg, self.sp(meta))

    def starts_with(self, meta, operand, _tok, arg):
        return A.TextTest("starts_with", operand, arg, self.sp(meta))

    def ends_with(self, meta, operand, _tok, arg):
        return A.TextTest("ends_with", operand, arg, self.sp(meta))

    def matches(self, meta, operand, pattern):
        lit = A.Literal(unquote(pattern), "string", self.tok_sp(pattern))
        return A.TextTest("matches", operand, lit, self.sp(meta))

    def _is(self, meta, operand, label, negated):
        if label == "missing":
            return A.IsMissing(operand, negated, self.sp(meta))
        if label == "present":
            return A.IsMissing(operand, not negated, self.sp(meta))
        end = self.sp(meta)
        label_span = A.Span(self.path, end.end_line, end.end_column - len(label), end.end_line, end.end_column, end.end - len(label), end.end)
        return A.IsLabel(operand, label, negated, label_span, end)

    def is_(self, meta, operand, label):
        return self._is(meta, operand, label, False)

    def is_not(self, meta, operand, _tok, label):
        return self._is(meta, operand, label, True)

    def call(self, meta, func, *args):
        return A.Call(func, tuple(a for a in args if a is not None), self.sp(meta))

    def aggregate(self, meta, func, query):
        return dataclasses.replace(query, func=func.value, span=self.sp(meta))

    def event_query(self, meta, source, column, names, where, window, half_life, by_account):
        if isinstance(names, Token):
            names = (unquote(names),)
        elif isinstance(names, A.ListLit):
            names = tuple(self._event_name(i) for i in names.items)
        return A.Aggregate(
            func="", source=source, column=column, names=names, where=where, window=window,
            half_life=half_life, by_account=by_account is not None, source_span=self.sp(meta), span=self.sp(meta),
        )

    def _event_name(self, item):
        if isinstance(item, A.Literal) and item.kind == "string":
            return item.value
        raise _BadSpan("event names must be strings", getattr(item, "span", A.NOWHERE))

    def where(self, meta, expr):
        return expr

    def window(self, meta, _tok, duration):
        return self.duration(duration)

    def half_life(self, meta, _tok, duration):
        return self.duration(duration)

    # -- sources
    def ref_relation(self, meta, model):
        return A.Relation("ref", (unquote(model),), self.sp(meta))

    def source_relation(self, meta, source, table):
        return A.Relation("source", (unquote(source), unquote(table)), self.sp(meta))

    def type_ref(self, meta, tok):
        return A.TypeRef(tok.value, (), self.sp(meta))

    def enum_type(self, meta, *values):
        return A.TypeRef("enum", tuple(unquote(v) for v in values), self.sp(meta))

    def field_decl(self, meta, name, type_ref):
        return A.Field(name, type_ref, self.sp(meta))

    def leads(self, meta, relation, key, account, *fields):
        return A.Leads(relation, key, account, tuple(f for f in fields if f is not None), self.sp(meta))

    def accounts(self, meta, relation, key, *fields):
        return A.Accounts(relation, key, tuple(f for f in fields if f is not None), self.sp(meta))

    def event_lead(self, meta, name):
        return ("lead", name, self.sp(meta))

    def event_at(self, meta, name):
        return ("at", name, self.sp(meta))

    def event_name(self, meta, name):
        return ("name", name, self.sp(meta))

    def events(self, meta, name, relation, *items):
        roles: dict[str, str] = {}
        fields = []
        for item in items:
            if item is None:
                continue
            if isinstance(item, tuple):
                role, column, span = item
                if role in roles:
                    raise _BadSpan(f"the `{role}` column is given twice", span)
                roles[role] = column
            else:
                fields.append(item)
        return A.Events(name, relation, roles.get("lead"), roles.get("at"), roles.get("name"), tuple(fields), self.sp(meta))

    # -- declarations
    def policy_header(self, meta, name, title):
        return A.PolicyHeader(name, unquote(title), self.sp(meta))

    def version(self, meta, value):
        return A.Version(unquote(value), self.sp(meta))

    def owner(self, meta, value):
        return A.Owner(unquote(value), self.sp(meta))

    def use(self, meta, path):
        return A.Use(unquote(path), self.sp(meta))

    def let(self, meta, name, expr):
        return A.Let(name, expr, self.sp(meta))

    def signal(self, meta, name, expr):
        return A.Signal(name, expr, self.sp(meta))

    def clamp(self, meta, low, high):
        return A.Clamp(Decimal(low.value), Decimal(high.value), self.sp(meta))

    def when_rule(self, meta, id_, points, expr):
        return A.Rule(id_, Decimal(points.value), "when", expr, None, self.sp(meta))

    def per_rule(self, meta, id_, points, expr, cap):
        return A.Rule(id_, Decimal(points.value), "per", expr, None if cap is None else Decimal(cap.value), self.sp(meta))

    def points_score(self, meta, name, clamp, *rules):
        return A.PointsScore(name, clamp, tuple(r for r in rules if r is not None), self.sp(meta))

    def derived_score(self, meta, name, clamp, expr):
        return A.DerivedScore(name, clamp, expr, self.sp(meta))

    def threshold_band(self, meta, label, threshold):
        return A.Band(label, Decimal(threshold.value), self.sp(meta))

    def otherwise_band(self, meta, label):
        return A.Band(label, None, self.sp(meta))

    def bands(self, meta, score, *bands):
        return A.Bands(score, tuple(bands), self.sp(meta), self.sp(meta))

    def require_all(self, meta):
        return None

    def require_k(self, meta, k):
        return int(k.value)

    def member(self, meta, id_, cond):
        return A.Member(id_, cond, self.sp(meta))

    def criteria(self, meta, name, required, *members):
        return A.Criteria(name, required, tuple(m for m in members if m is not None), self.sp(meta))

    def disqualify(self, meta, *gates):
        return A.Disqualify(tuple(g for g in gates if g is not None), self.sp(meta))

    def matrix_header(self, meta, *labels):
        return (tuple(labels), self.sp(meta))

    def matrix_row(self, meta, band, *cells):
        return A.MatrixRow(band, tuple(cells), self.sp(meta))

    def matrix(self, meta, name, rows_score, cols_score, header, *rows):
        columns, header_span = header
        return A.Matrix(name, rows_score, cols_score, columns, tuple(rows), header_span, self.sp(meta))

    def branch(self, meta, label, cond):
        return A.Branch(label, cond, self.sp(meta))

    def classify(self, meta, name, *rest):
        *branches, otherwise = rest
        return A.Classify(name, tuple(branches), otherwise, self.sp(meta), self.sp(meta))

    def setting(self, meta, key, value):
        if value is None:
            raise _BadSpan("an action value cannot be `missing`", self.sp(meta))
        return A.Setting(key, value, self.sp(meta))

    def action(self, meta, label, *settings):
        return A.Action(label, tuple(settings), self.sp(meta))

    def actions(self, meta, target, *actions):
        return A.Actions(target, tuple(a for a in actions if a is not None), self.sp(meta), self.sp(meta))

    # -- tests
    def pair(self, meta, key, value):
        return A.Pair(key, value, self.sp(meta))

    def test_as_of(self, meta, moment):
        return A.TestAsOf(self._moment(moment), self.sp(meta))

    def _moment(self, tok) -> dt.datetime:
        try:
            return parse_timestamp(tok.value)
        except (ValueError, OverflowError):
            raise _BadLiteral(f"`{tok.value}` is not a valid timestamp", tok) from None

    def test_lead(self, meta, *pairs):
        return A.TestRow("lead", tuple(p for p in pairs if p is not None), self.sp(meta))

    def test_account(self, meta, *pairs):
        return A.TestRow("account", tuple(p for p in pairs if p is not None), self.sp(meta))

    def ago(self, meta, tok):
        return self.duration(tok)

    def at(self, meta, moment):
        return self._moment(moment)

    def event_line(self, meta, name, when, times, *pairs):
        pairs = tuple(p for p in pairs if p is not None)
        count = 1 if times is None else int(times.value.replace("_", ""))
        ago = when if isinstance(when, A.Duration) else None
        at = when if isinstance(when, dt.datetime) else None
        return A.EventLine(unquote(name), ago, at, count, pairs or (), self.sp(meta))

    def test_events(self, meta, source, *lines):
        return A.TestEvents(source, tuple(line for line in lines if line is not None), self.sp(meta))

    def expect(self, meta, expr):
        return A.Expect(expr, self.sp(meta))

    def expect_fired(self, meta, _tok, component, rule):
        return A.ExpectFired(component, rule, False, self.sp(meta))

    def expect_not_fired(self, meta, _tok, component, rule):
        return A.ExpectFired(component, rule, True, self.sp(meta))

    def expect_because(self, meta, gate):
        return A.ExpectBecause(gate, self.sp(meta))

    def test(self, meta, name, *items):
        return A.Test(unquote(name), tuple(i for i in items if i is not None), self.sp(meta))

    def start(self, meta, *decls):
        return tuple(d for d in decls if d is not None)


class _BadSpan(Exception):
    def __init__(self, message: str, span: A.Span):
        self.message, self.span = message, span


def _expected(tokens: set[str]) -> str:
    names = sorted(_describe(t) for t in tokens if t not in ("_NL",))
    if not names:
        return ""
    shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
    return f"expected one of: {shown}"


_TERMINAL_WORDS = {
    "NAME": "a name", "QUOTED_NAME": "a `quoted name`", "STRING": "a string", "INT": "a whole number",
    "DECIMAL": "a number", "POINTS": "points like `+10`", "DURATION": "a duration like `14 days`",
    "TIMESTAMP": "a timestamp", "DATE": "a date", "LBRACE": "`{`", "RBRACE": "`}`", "LPAR": "`(`",
    "RPAR": "`)`", "LSQB": "`[`", "RSQB": "`]`", "COMMA": "`,`", "COLON": "`:`", "EQUAL": "`=`",
    "COMPARE": "a comparison", "ADD_OP": "`+` or `-`", "MUL_OP": "`*` or `/`", "VBAR": "`|`",
    "DOT": "`.`", "MORETHAN": "`>`", "MINUS": "`-`", "AGGREGATE": "an aggregate like `count(`",
    "TYPE_NAME": "a type", "$END": "end of file", "_NL": "end of line",
    "NOT_IN": "`not in`", "IS_NOT": "`is not`", "CONTAINS_ANY": "`contains any`", "STARTS_WITH": "`starts with`",
    "ENDS_WITH": "`ends with`", "IN_LAST": "`in last`", "HALF_LIFE": "`half-life`", "BY_ACCOUNT": "`by account`",
}


def _describe(terminal: str) -> str:
    if terminal in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[terminal]
    pattern = _lark().get_terminal(terminal).pattern if _has_terminal(terminal) else None
    if pattern is not None and pattern.type == "str":
        return f"`{pattern.value}`"
    return terminal.lower().replace("_", " ")


def _has_terminal(name: str) -> bool:
    try:
        _lark().get_terminal(name)
        return True
    except KeyError:
        return False


def _token_text(tok: Token) -> str:
    if tok.type == "_NL":
        return "end of line"
    if tok.type == "$END":
        return "end of file"
    text = tok.value if len(tok.value) <= 30 else tok.value[:27] + "..."
    return f"`{text}`"


def _syntax_diagnostic(path: str, text: str, err: UnexpectedInput) -> Diagnostic:
    accepted = getattr(err, "allowed", None) or getattr(err, "accepts", None) or getattr(err, "expected", None) or ()
    known = fixes.fix(path, text, err, set(accepted))
    if known is not None:  # a mistake with a known fix: say what to type
        return known
    line = getattr(err, "line", 0) or 0
    column = getattr(err, "column", 0) or 0
    hints: list[str] = []
    if isinstance(err, UnexpectedCharacters):
        ch = text[err.pos_in_stream] if 0 <= err.pos_in_stream < len(text) else ""
        if ch == '"':
            message, code = "string is not closed before the end of the line", "E102"
            hints.append('close it with `"`; a newline inside a string is written `\\n`')
        else:
            message, code = f"unexpected character `{ch}`" if ch.isprintable() else f"unexpected character U+{ord(ch):04X}", "E101"
        span = A.Span(path, line, column, line, column + 1, err.pos_in_stream, err.pos_in_stream + 1)
        expected = _expected(set(err.allowed or ()))
        if expected:
            hints.append(expected)
        return Diagnostic(code, "error", message, span, tuple(hints))
    if isinstance(err, UnexpectedEOF) or (isinstance(err, UnexpectedToken) and err.token.type == "$END"):
        lines = text.splitlines() or [""]
        line, column = len(lines), len(lines[-1]) + 1
        span = A.Span(path, line, column, line, column + 1, len(text), len(text))
        expected = _expected(set(err.expected)) if hasattr(err, "expected") else ""
        return Diagnostic("E103", "error", "unexpected end of file", span, (expected,) if expected else ("a `{` may not be closed",))
    assert isinstance(err, UnexpectedToken)
    tok = err.token
    span = A.Span(path, tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + 1, tok.start_pos or 0, tok.end_pos or 0)
    if tok.type == "NAME" and tok.value in KEYWORDS:
        hints.append(f"`{tok.value}` is a keyword; a column of that name is written `` `{tok.value}` ``")
    expected = _expected(set(err.accepts or err.expected))
    if expected:
        hints.append(expected)
    return Diagnostic("E104", "error", f"unexpected {_token_text(tok)}", span, tuple(hints))


def _depth_check(path: str, decls) -> None:
    """Refuse expressions nested so deeply that later stages could not walk them."""
    stack = [(d, 0) for d in decls]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            span = getattr(node, "span", A.NOWHERE)
            raise LeadError([Diagnostic("E105", "error", f"expression is nested too deeply (more than {MAX_DEPTH} levels)", span, ("split it into `signal`s",))])
        stack.extend((child, depth + 1) for child in A.children(node))


def parse(text: str, path: str = "<string>") -> A.Module:
    """Parse one policy's text. Raises `LeadError` with one diagnostic on failure."""
    if "\x00" in text:
        pos = text.index("\x00")
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        raise LeadError([Diagnostic("E101", "error", "unexpected NUL byte: this does not look like a text file", A.Span(path, line, column, line, column + 1, pos, pos + 1))])
    # A parse allocates a node or more per token and frees none of them: the
    # cyclic collector, triggered by allocations alone, would walk the growing
    # tree again and again (a third of the time on a 3 MB policy) for garbage
    # that cannot exist yet. It runs again as soon as parsing ends.
    collecting = gc.isenabled()
    gc.disable()
    try:
        decls = _parse_chunks(text, path)
        if decls is None:
            decls = _parse_decls(text, path)
            _depth_check(path, decls)
    finally:
        if collecting:
            gc.enable()
    return A.Module(path, tuple(decls), A.Span(path, 1, 1, 1, 1))


def _parse_chunks(text: str, path: str):
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
        known = seen.get(piece)
        if known is not None:
            decls, first_lines, first_start = known
            out.extend(chunks.relocate(decls, lines - first_lines, start - first_start))
            continue
        try:
            decls = _parse_decls(piece, path, lines, start)
            _depth_check(path, decls)
        except LeadError:
            return None
        seen[piece] = (decls, lines, start)
        out.extend(decls)
    return out


def _parse_decls(text: str, path: str, lines: int = 0, chars: int = 0) -> tuple:
    """The declarations of `text`, which starts `lines` lines and `chars` characters into the file."""
    try:
        tree = _lark().parse(text)
        decls = _Build(path, lines, chars).transform(tree)
    except _TooDeep as deep:
        raise LeadError([Diagnostic("E105", "error", f"brackets are nested too deeply (more than {MAX_DEPTH} levels)", _tok_span(path, deep.token))]) from None
    except UnexpectedInput as err:
        raise LeadError([_syntax_diagnostic(path, text, err)]) from None
    except VisitError as err:
        inner = err.orig_exc
        if isinstance(inner, _BadLiteral):
            hints = (inner.hint,) if inner.hint else ()
            raise LeadError([Diagnostic("E106", "error", inner.message, _tok_span(path, inner.tok), hints)]) from None
        if isinstance(inner, _BadSpan):
            raise LeadError([Diagnostic("E107", "error", inner.message, inner.span)]) from None
        raise
    except RecursionError:
        raise LeadError([Diagnostic("E105", "error", "policy is nested too deeply to read", A.Span(path, 1, 1, 1, 2))]) from None
    except LarkError as err:  # pragma: no cover - any other lark failure is still a syntax error
        raise LeadError([Diagnostic("E104", "error", f"cannot parse: {str(err).splitlines()[0]}", A.Span(path, 1, 1, 1, 2))]) from None
    return () if decls is None else tuple(decls)


def parse_file(path: str | Path) -> tuple[A.Module, str]:
    """Read and parse a file; unreadable bytes are a diagnostic, not an exception."""
    p = Path(path)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        column = err.start - (raw.rfind(b"\n", 0, err.start) + 1) + 1
        span = A.Span(str(path), line, column, line, column + 1, err.start, err.start + 1)
        raise LeadError([Diagnostic("E100", "error", f"file is not valid UTF-8 (byte 0x{raw[err.start]:02X})", span, ("save the policy as UTF-8",))]) from None
    return parse(text, str(path)), text
