"""Completion: what may be typed at the cursor, from the text before it and the last good checked policy.

The buffer being typed in rarely parses, so the context comes from the text alone: `scan` cuts the
text before the cursor into tokens with the grammar's own terminals (tolerating an unclosed string),
and `context_at` walks them once, keeping the stack of open blocks (`score fit {`, a test's
`lead {`), brackets (an aggregate's `(`, a list's `[`) and the tokens of the item being written
(a rule, a member, an `expect` line). The names come from the document's last good `Policy`
(its `use`d files' declarations included): `items(context, policy)`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from leadlang.aggregates import AGGREGATES, COLUMN, NUMERIC
from leadlang.builtins import BUILTINS

# -------------------------------------------------------------------- tokens --

# The grammar's terminals the scanner takes whole, in the order they are tried (the multi-word
# keywords and literals before names and numbers, as Lark's priorities order them).
_TERMINALS = ("COMMENT", "STRING", "QUOTED_NAME", "NOT_IN", "IS_NOT", "CONTAINS_ANY", "STARTS_WITH", "ENDS_WITH",
              "IN_LAST", "HALF_LIFE", "BY_ACCOUNT", "AGGREGATE", "DURATION", "TIMESTAMP", "DATE", "DECIMAL", "INT", "NAME")
_OPERATORS = (">=", "<=", "!=", "=", "<", ">", "+", "-", "*", "/", "{", "}", "(", ")", "[", "]", ",", ".", ":", "|")


@dataclass(frozen=True, slots=True)
class Token:
    type: str  # a terminal's name, OP (operators and punctuation), NL, PARTIAL (an unclosed string or backticked name), ERROR
    value: str
    start: int
    end: int


@functools.lru_cache(maxsize=1)
def _scanner() -> re.Pattern:
    from leadlang.syntax.grammar import lalr

    patterns = {t.name: t.pattern.to_regexp() for t in lalr().terminals}
    parts = [f"(?P<{name}>{patterns[name]})" for name in _TERMINALS]
    parts.insert(3, r'(?P<PARTIAL>"(?:[^"\\\n]|\\.)*\\?$|"(?:[^"\\\n]|\\.)*\\?(?=\n)|`[^`\n]*)')
    parts += [r"(?P<CONT>\\\r?\n)", r"(?P<NL>\r?\n)", r"(?P<WS>[ \t\f\r]+)",
              "(?P<OP>" + "|".join(re.escape(o) for o in _OPERATORS) + ")", r"(?P<ERROR>.)"]
    # a named group inside a terminal's pattern would clash: the grammar's patterns use plain groups only
    return re.compile("|".join(parts))


def scan(text: str) -> list[Token]:
    """The tokens of `text` (blanks and escaped newlines dropped): never fails, whatever the text."""
    out = []
    for m in _scanner().finditer(text):
        kind = m.lastgroup
        if kind in ("WS", "CONT"):
            continue
        out.append(Token(kind, m.group(), m.start(), m.end()))
    return out


# ------------------------------------------------------------------- context --

# A newline right after one of these continues the line (the grammar's post-lexer decides the same).
_CONTINUE = frozenset(["{", ",", "(", "[", "and", "or", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"])
_BLOCKS = frozenset(["leads", "accounts", "events", "score", "bands", "criteria", "disqualify", "matrix",
                     "classify", "actions", "test"])
_PAIR_BLOCKS = frozenset(["test_lead", "test_account", "event_pairs", "bands"])  # items also end at `,`
_BRACKETS = ("(", "[")
_OPERAND_END = frozenset(["NAME", "QUOTED_NAME", "STRING", "INT", "DECIMAL", "DATE", "TIMESTAMP", "DURATION"])
_EXPR_KEYWORDS = frozenset(["and", "or", "not", "when", "per", "where", "between", "contains", "matches", "in", "is"])


@dataclass
class _Frame:
    kind: str  # a block (`score`, `test`, `test_lead` ...), or `(` / `[`
    head: list[Token] = field(default_factory=list)  # a block's item that opened it; a bracket's tokens before it
    at: int = 0  # a bracket: where it opened in the item's tokens
    items: int = 0  # a block: how many items ended in it


@dataclass(frozen=True)
class Context:
    """What the cursor may complete.

    kind: top (a declaration), expr (a value: names, functions, aggregates), operator (after a
    value: `and`, `is`, `in` ...), attr (after `account.` or `CRITERIA.`), label (after `is` /
    `is not`), value (a string compared with an enum field or a classification: after `=`, `!=`,
    inside `in [...]`, a test field's value), list (after `in`), source (an aggregate's events
    source), column (`SOURCE.` in an aggregate), aggregate (after its source: `where`, `in last` ...),
    type (a declared field's type), event_roles (`lead`, `at`, `name`), test (a test's items),
    expect (after `expect`), component (`expect fired X`), rule (`expect fired X.`), gate
    (`because`), pair_key (a test object's field), score (`bands`/`matrix`), classification
    (`actions`), band (a band's `>=` / `otherwise`), rule_tail (`when` / `per`), cap (`max`),
    event_name (a test's event line, an aggregate's list of names), action_label, setting,
    matrix_label, otherwise, none (nothing to offer: a new name, a comment, a number).
    """

    kind: str
    prefix: str = ""  # the part of the word (or string, from its quote) already typed
    start: int = 0  # the offset where the replaced text starts
    subject: str | None = None  # the name compared (`industry` of `industry = `), the base of `X.`, the component
    source: str | None = None  # the events source: an aggregate's, a test's events block
    function: str | None = None  # the aggregate being written
    scope: str = "expr"  # expr, event (an aggregate's where), let, test
    block: str | None = None  # the innermost block
    owner: str | None = None  # `actions TARGET`, `matrix`'s scores "ROWS COLS", a test object's source; "list": in `[...]`
    in_string: bool = False  # the cursor is inside a string being typed
    header: bool = False  # the matrix's header line
    negated: bool = False  # after `is not`, `expect not`
    used: tuple[str, ...] = ()  # an aggregate's parts already written (their token types)


def offset_of(text: str, line: int, character: int) -> int:
    """The offset of a 0-based (line, character) position, clamped to the text."""
    pos = 0
    for _ in range(line):
        nl = text.find("\n", pos)
        if nl < 0:
            return len(text)
        pos = nl + 1
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    return min(pos + character, end)


def context_at(text: str, line: int, character: int) -> Context:
    """The completion context at a 0-based (line, character) of `text`."""
    return context_at_offset(text, offset_of(text, line, character))


# A top-level declaration starts at the start of a line with its keyword (the text after it is all the context needs).
_DECLARATION_START = re.compile(r"^(?:policy|version|owner|use|leads|accounts|events|let|signal|score|bands|criteria|"
                                r"disqualify|matrix|classify|actions|test)\b", re.MULTILINE)


def context_at_offset(text: str, offset: int) -> Context:
    begin = 0
    for m in _DECLARATION_START.finditer(text, 0, offset):
        begin = m.start()
    tokens = scan(text[begin:offset])
    if begin:
        tokens = [Token(t.type, t.value, t.start + begin, t.end + begin) for t in tokens]
    last = tokens[-1] if tokens else None
    prefix, start, in_string = "", offset, False
    if last is not None and last.end == offset:
        if last.type == "COMMENT":
            return Context("none", start=offset)
        if last.type in ("NAME", "QUOTED_NAME", "PARTIAL"):
            tokens.pop()
            prefix, start = last.value, last.start
            in_string = last.value.startswith('"')
        elif last.type == "ERROR":
            return Context("none", start=offset)
    frames, item = _walk(tokens)
    ctx = _decide(frames, item)
    if in_string and ctx.kind not in ("value", "aggregate", "event_name"):
        return Context("none", start=offset)
    return Context(**{**ctx.__dict__, "prefix": prefix, "start": start, "in_string": in_string})


def _walk(tokens: list[Token]) -> tuple[list[_Frame], list[Token]]:
    """The open blocks and brackets at the end of `tokens`, and the tokens of the item being written."""
    frames: list[_Frame] = []
    item: list[Token] = []

    def block() -> _Frame | None:
        return next((f for f in reversed(frames) if f.kind not in _BRACKETS), None)

    def end_item() -> None:
        if item:
            b = block()
            if b is not None:
                b.items += 1
            item.clear()

    for i, tok in enumerate(tokens):
        v = tok.value
        if tok.type == "COMMENT":
            continue
        if tok.type == "NL":
            if frames and frames[-1].kind in _BRACKETS:
                continue
            if i + 1 < len(tokens) and tokens[i + 1].value in ("and", "or"):  # the next line goes on with `and` / `or`
                continue
            if item and (item[-1].value in _CONTINUE and item[-1].type == "OP" or item[-1].value in ("and", "or")):
                continue
            end_item()
            continue
        if tok.type == "OP" and v == "{":
            outer = block()
            kind = _block_kind(outer, item)
            frames.append(_Frame(kind, head=list(outer.head if kind == "event_pairs" else item)))
            item.clear()
            continue
        if tok.type == "OP" and v == "}":
            while frames and frames[-1].kind in _BRACKETS:
                frames.pop()
            if frames:
                frames.pop()
            item[:] = [tok]  # the block closed ends the item that opened it
            end_item()
            continue
        if tok.type == "OP" and v in _BRACKETS:
            frames.append(_Frame(v, head=list(item), at=len(item) + 1))
            item.append(tok)
            continue
        if tok.type == "OP" and v in ")]":
            if frames and frames[-1].kind == ("(" if v == ")" else "["):
                frames.pop()
            item.append(tok)
            continue
        if tok.type == "OP" and v == ",":
            b = block()
            if b is not None and b.kind in _PAIR_BLOCKS and not (frames and frames[-1].kind in _BRACKETS):
                end_item()
                continue
        item.append(tok)
    return frames, item


def _block_kind(outer: _Frame | None, item: list[Token]) -> str:
    first = item[0].value if item else ""
    if outer is None:
        return first if first in _BLOCKS else "block"
    if outer.kind == "test":
        if first == "lead":
            return "test_lead"
        if first == "account":
            return "test_account"
        if item and item[0].type in ("NAME", "QUOTED_NAME"):
            return "test_events"
    if outer.kind == "test_events":
        return "event_pairs"
    return "block"


def _name(tok: Token | None) -> str | None:
    if tok is None or tok.type not in ("NAME", "QUOTED_NAME", "AGGREGATE"):
        return None
    return tok.value[1:-1] if tok.type == "QUOTED_NAME" else tok.value


def _decide(frames: list[_Frame], item: list[Token]) -> Context:
    block = next((f for f in reversed(frames) if f.kind not in _BRACKETS), None)
    kind = block.kind if block is not None else None
    owner = _owner(block)
    # the innermost bracket of the item decides first
    bracket = frames[-1] if frames and frames[-1].kind in _BRACKETS else None
    if bracket is not None:
        inner = item[bracket.at:]
        opener = bracket.head[-1] if bracket.head else None
        scope = _scope(kind, item)
        if bracket.kind == "(" and opener is not None and opener.type == "AGGREGATE":
            return _aggregate(opener.value, inner, kind, owner)
        if bracket.kind == "[":
            before = bracket.head
            outer = frames[-2] if len(frames) >= 2 else None
            if outer is not None and outer.kind == "(" and outer.head and outer.head[-1].type == "AGGREGATE" \
                    and len(item) - len(inner) - outer.at == 2 and (not inner or inner[-1].value == ","):
                return Context("event_name", source=_name(item[outer.at]), block=kind)  # `count(product ["login", `
            if before and (before[-1].type == "NOT_IN" or before[-1].value == "in"):
                if not inner or inner[-1].value == ",":
                    return Context("value", subject=_subject(before[:-1]), scope=scope, block=kind, owner="list")
                return Context("none", block=kind)
            if kind is None and item and item[0].value == "let":
                return Context("expr", scope="let", block=kind)
            return Context("none", block=kind)
        # a function's parentheses or a grouping: an expression, from the last `,`
        cut = max((i for i, t in enumerate(inner) if t.value == "," and t.type == "OP"), default=-1)
        return _expression(inner[cut + 1:], scope, kind, owner)
    if block is None:
        return _top(item)
    return _in_block(block, item, owner)


def _owner(block: _Frame | None) -> str | None:
    if block is None:
        return None
    names = [_name(t) for t in block.head if _name(t)]
    if block.kind == "matrix":  # matrix NAME: ROWS by COLS -> "ROWS COLS"
        return " ".join(n for n in names[2:] if n != "by")
    if block.kind in ("actions", "bands", "score", "criteria", "classify", "events"):
        return names[1] if len(names) > 1 else None
    if block.kind in ("test_events", "event_pairs"):
        return names[0] if names else None
    return None


def _scope(kind: str | None, item: list[Token]) -> str:
    if kind == "test" or (item and item[0].value == "expect"):
        return "test"
    if kind is None and item and item[0].value == "let":
        return "let"
    return "expr"


def _top(item: list[Token]) -> Context:
    if not item:
        return Context("top")
    first, words = item[0].value, [t.value for t in item]
    if first in ("let", "signal", "score") and "=" in words:
        return _expression(item[words.index("=") + 1:], "let" if first == "let" else "expr", None, None)
    if first == "bands" and len(item) == 1:
        return Context("score", block=None, owner="bands")
    if first == "actions" and len(item) == 1:
        return Context("classification")
    if first == "matrix" and words[-1] in (":", "by"):
        return Context("score", owner="matrix")
    return Context("none")


def _in_block(block: _Frame, item: list[Token], owner: str | None) -> Context:
    kind = block.kind
    words = [t.value for t in item]
    if kind in ("leads", "accounts", "events"):
        if len(item) == 1 and item[0].type in ("NAME", "QUOTED_NAME") and item[0].value not in ("lead", "at", "name"):
            return Context("type", block=kind)
        if not item and kind == "events":
            return Context("event_roles", block=kind)
        return Context("none", block=kind)
    if kind == "score":
        for i, w in enumerate(words):
            if w in ("when", "per"):
                tail = item[i + 1:]
                if w == "per" and "," in [t.value for t in tail]:
                    return Context("none", block=kind) if tail[-1].value != "," else Context("cap", block=kind)
                return _expression(tail, "expr", kind, owner)
        if len(item) >= 3 and words[1] == ":":
            return Context("rule_tail", block=kind)
        return Context("none", block=kind)
    if kind in ("criteria", "disqualify"):
        if ":" in words:
            return _expression(item[words.index(":") + 1:], "expr", kind, owner)
        return Context("none", block=kind)
    if kind == "classify":
        if not item:
            return Context("otherwise", block=kind)
        if "when" in words:
            return _expression(item[words.index("when") + 1:], "expr", kind, owner)
        return Context("none", block=kind)
    if kind == "bands":
        if len(item) == 1:
            return Context("band", block=kind)
        return Context("none", block=kind)
    if kind == "actions":
        if not item:
            return Context("action_label", block=kind, owner=owner)
        if words[-1] in (":", ","):
            return Context("setting", block=kind, owner=owner)
        return Context("none", block=kind)
    if kind == "matrix":
        rows, cols = (owner.split() + [None, None])[:2] if owner else (None, None)
        if block.items == 0 and (not item or words[-1] == "|"):
            return Context("matrix_label", block=kind, subject=cols, header=True)
        if not item:
            return Context("matrix_label", block=kind, subject=rows)
        if words[-1] == "|":
            return Context("matrix_label", block=kind, subject=None, owner=owner)
        return Context("none", block=kind)
    if kind == "test":
        return _test_item(item)
    if kind in ("test_lead", "test_account", "event_pairs"):
        what = {"test_lead": "lead", "test_account": "account"}.get(kind, "event")
        if not item:
            return Context("pair_key", block=kind, subject=what, source=owner)
        if len(item) == 2 and words[1] == ":":
            return Context("value", block=kind, subject=_name(item[0]), scope="pair", source=owner, owner=what)
        return Context("none", block=kind)
    if kind == "test_events":
        return Context("event_name", block=kind, source=owner) if not item else Context("none", block=kind)
    return Context("none", block=kind)


def _test_item(item: list[Token]) -> Context:
    words = [t.value for t in item]
    if not item:
        return Context("test", block="test")
    if words[0] != "expect":
        return Context("none", block="test")
    rest = words[1:]
    if rest in ([], ["not"]):
        return Context("expect", block="test", scope="test", negated=bool(rest))
    if rest in (["fired"], ["not", "fired"]):
        return Context("component", block="test")
    if rest[-1] == "." and len(rest) >= 3 and rest[-3] == "fired":
        return Context("rule", block="test", subject=_name(item[-2]))
    if rest == ["disqualified", "because"]:
        return Context("gate", block="test")
    return _expression(item[1:], "test", "test", None)


def _aggregate(func: str, inner: list[Token], block: str | None, owner: str | None) -> Context:
    words = [t.value for t in inner]
    if not inner:
        return Context("source", function=func, block=block)
    source = _name(inner[0])
    if words[1:] == ["."]:
        return Context("column", source=source, function=func, block=block)
    if "where" in words:
        tail = inner[words.index("where") + 1:]
        if tail and tail[-1].type in ("IN_LAST", "HALF_LIFE"):
            return Context("none", block=block)
        ctx = _expression(tail, "event", block, owner)
        if ctx.kind == "operator":
            return Context("operator", source=source, function=func, scope="event", block=block)
        return Context(**{**ctx.__dict__, "source": source, "function": func})
    if inner[-1].type in ("IN_LAST", "HALF_LIFE") or inner[-1].value == ".":
        return Context("none", block=block)
    return Context("aggregate", source=source, function=func, block=block, used=tuple(t.type for t in inner))


def _expression(tokens: list[Token], scope: str, block: str | None, owner: str | None) -> Context:
    """The context inside an expression whose tokens (so far) are `tokens`."""
    if not tokens:
        return Context("expr", scope=scope, block=block)
    last = tokens[-1]
    prev = tokens[-2] if len(tokens) >= 2 else None
    if last.value == "." and last.type == "OP":
        return Context("attr", subject=_name(prev), scope=scope, block=block)
    if last.value == "is" or last.type == "IS_NOT":
        return Context("label", subject=_subject(tokens[:-1]), scope=scope, block=block, negated=last.type == "IS_NOT")
    if last.value in ("=", "!=") and last.type == "OP":
        return Context("value", subject=_subject(tokens[:-1]), scope=scope, block=block)
    if last.value == "in" or last.type == "NOT_IN":
        return Context("list", subject=_subject(tokens[:-1]), scope=scope, block=block)
    if (last.type in _OPERAND_END and last.value not in _EXPR_KEYWORDS) or last.value in (")", "]"):
        return Context("operator", scope=scope, block=block)
    return Context("expr", scope=scope, block=block)


def _subject(tokens: list[Token]) -> str | None:
    """The name compared: `industry` of `industry =`, `account.industry` of `account.industry in`, `ucc.urgency`."""
    if not tokens:
        return None
    if len(tokens) >= 3 and tokens[-2].value == "." and _name(tokens[-3]):
        return f"{_name(tokens[-3])}.{_name(tokens[-1])}"
    return _name(tokens[-1])


# --------------------------------------------------------------------- items --

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_OPERATOR_WORDS = ("and", "or", "is", "is not", "is missing", "is present", "in", "not in", "between", "contains",
                   "contains any", "starts with", "ends with", "matches")
_DECLARATIONS = {  # keyword -> (snippet, what it declares)
    "policy": ('policy ${1:name} "${2:title}"', "the policy's name and title"),
    "version": ('version "${1:2024.06}"', "the policy's version"),
    "owner": ('owner "${1:revops@example.com}"', "who owns the policy"),
    "use": ('use "${1:shared/common.lead}"', "the sources, lets and signals of another file"),
    "leads": ('leads from ref("${1:stg_leads}") key ${2:lead_id} {\n  ${3:field} ${4:string}\n}', "the lead source"),
    "accounts": ('accounts from ref("${1:stg_accounts}") key ${2:account_id} {\n  ${3:field} ${4:string}\n}', "the account source"),
    "events": ('events ${1:name} from ref("${2:stg_events}") {\n  lead ${3:lead_id}\n  at   ${4:occurred_at}\n  name ${5:event_name}\n}',
               "an event source"),
    "let": ("let ${1:name} = ${2:value}", "a constant"),
    "signal": ("signal ${1:name} = ${2:expression}", "a named value computed per lead"),
    "score": ("score ${1:name} clamp ${2:0} to ${3:100} {\n  ${4:rule}: +${5:10} when ${6:condition}\n}", "a points score"),
    "bands": ("bands ${1:score} {\n  ${2:high} >= ${3:60}\n  ${4:low} otherwise\n}", "labels for a score's ranges"),
    "criteria": ("criteria ${1:name} require ${2:all} {\n  ${3:member}: ${4:condition}\n}", "a checklist of conditions"),
    "disqualify": ("disqualify {\n  ${1:gate}: ${2:condition}\n}", "the gates that disqualify a lead"),
    "matrix": ("matrix ${1:name}: ${2:rows_score} by ${3:columns_score} {\n       | ${4:low} | ${5:high}\n"
               "  ${6:high} | ${7:label} | ${8:label}\n  ${9:low} | ${10:label} | ${11:label}\n}", "a label from two banded scores"),
    "classify": ("classify ${1:name} {\n  ${2:label} when ${3:condition}\n  otherwise ${4:label}\n}", "a label from the first true branch"),
    "actions": ('actions ${1:classification} {\n  ${2:label}: route "${3:team}"\n}', "what each label routes to"),
    "test": ('test "${1:what it shows}" {\n  as of ${2:2024-06-01}\n  lead { ${3:key}: "${4:L1}" }\n  expect ${5:condition}\n}',
             "a lead, its events, and what the policy must say of it"),
}
_KIND = {"lead_field": "Field", "account_field": "Field", "event_column": "Field", "let": "Constant", "signal": "Variable",
         "score": "Variable", "criteria": "Struct", "classification": "Enum", "label": "EnumMember", "events": "Module",
         "rule": "Property", "member": "Property", "gate": "Property", "output": "Variable"}


class _Builder:
    """The completion items of one context, from the last good policy."""

    def __init__(self, ctx: Context, policy, replace):
        from lsprotocol import types as T

        self.T, self.ctx, self.policy, self.replace = T, ctx, policy, replace
        self.out: dict[str, object] = {}

    # -- making items
    def add(self, label: str, kind: str, detail: str | None = None, doc: str | None = None, insert: str | None = None,
            snippet: bool = False, rank: int = 5, filter_text: str | None = None) -> None:
        T = self.T
        if label in self.out:
            return
        text = insert if insert is not None else label
        item = T.CompletionItem(
            label=label, kind=getattr(T.CompletionItemKind, kind), detail=detail,
            documentation=T.MarkupContent(kind=T.MarkupKind.Markdown, value=doc) if doc else None,
            sort_text=f"{rank}_{len(self.out):04d}", filter_text=filter_text,
            insert_text_format=T.InsertTextFormat.Snippet if snippet else None,
        )
        item.insert_text = text  # for a client that ignores `textEdit` (which the protocol prefers)
        if self.replace is not None:
            item.text_edit = T.TextEdit(range=self.replace, new_text=text)
        self.out[label] = item

    def name(self, kind: str, name: str, detail: str | None = None, rank: int = 2, label: str | None = None,
             suffix: str = "") -> None:
        """A declared name, with what it is (hover's words) and its declaration as documentation."""
        self.add(label or name, _KIND.get(kind, "Text"), detail or self._describe(kind, name), self._doc(kind, name),
                 insert=written(name) + suffix, rank=rank)

    def value(self, value: str, detail: str, rank: int = 1) -> None:
        """A string value (an enum value, a label compared as a string), quoted."""
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        self.add(quoted if not self.ctx.in_string else value, "EnumMember", detail, insert=quoted, rank=rank,
                 filter_text=quoted)

    def keyword(self, word: str, rank: int = 7, insert: str | None = None, detail: str = "keyword") -> None:
        from leadlang.lsp.reference import doc

        self.add(word, "Keyword", detail, doc(word.split()[0]), insert=insert, snippet=insert is not None and "$" in insert, rank=rank)

    def _describe(self, kind: str, name: str) -> str | None:
        from leadlang.check.policy import Occurrence
        from leadlang.lsp.navigation import describe

        if kind == "score":  # hover's words without its range (lint's analysis of every rule: too slow per keystroke)
            s = self.policy.scores[name]
            rules = getattr(s, "rules", None)
            what = f"{len(rules)} rule{'s' if len(rules) != 1 else ''}" if rules is not None else "derived"
            banded = f"; bands {', '.join(self.policy.labels[name])}" if name in self.policy.bands else ""
            return f"score `{name}` ({what}){banded}"
        try:
            return describe(self.policy, Occurrence(kind, name, None))
        except (KeyError, StopIteration, AttributeError, TypeError):
            return None

    def _doc(self, kind: str, name: str) -> str | None:
        from leadlang.lsp.navigation import _node_of, _source

        decl = next((o for o in self.policy.occurrences(kind, name) if o.declaration), None)
        node = _node_of(self.policy, decl) if decl is not None else None
        return f"```lead\n{_source(self.policy, node, 12)}\n```" if node is not None else None

    # -- the names of the policy
    def fields(self, rank: int = 1) -> None:
        for n, t in self.policy.lead_types.items():
            self.name("lead_field", n, rank=rank)
        if self.policy.accounts is not None:
            self.add("account", "Module", "the lead's account: `account.FIELD`", insert="account.", rank=rank + 2)

    def expression(self) -> None:
        p, scope = self.policy, self.ctx.scope
        if scope == "event":
            for n in p.event_types.get(self.ctx.source or "", {}):
                self.name("event_column", f"{self.ctx.source}.{n}", label=n, rank=1)
        elif scope != "let":
            self.fields()
        for n in p.lets:
            self.name("let", n, rank=2)
        if scope in ("let",):
            for w in ("true", "false"):
                self.keyword(w)
            return
        if scope in ("expr", "test"):
            for kind, table in (("signal", p.signals), ("score", p.scores), ("criteria", p.criteria),
                                ("classification", p.classifications)):
                for n in table:
                    self.name(kind, n, rank=3)
            for n, agg in AGGREGATES.items():
                self.add(n, "Function", _agg_signature(n), _call_doc(n), insert=f"{n}(${{1}})", snippet=True, rank=6)
        if scope == "test":
            named = {*p.lead_types, *p.signals, *p.scores, *p.criteria, *p.classifications}
            for o in p.outputs:
                if o.name not in named and o.role not in ("key", "policy", "as_of"):
                    self.add(o.name, "Variable", f"output column ({o.role}): {o.kind}", rank=4, insert=written(o.name))
        for n, b in BUILTINS.items():
            self.add(n, "Function", _signature(n), _call_doc(n), insert=f"{n}(${{1}})", snippet=True, rank=6)
        words = ["not", "true", "false", "missing"] + (["disqualified"] if scope in ("expr", "test") else [])
        for w in words:
            self.keyword(w)

    def labels_of(self, subject: str | None) -> tuple[str, ...]:
        p = self.policy
        if subject in p.labels:
            return p.labels[subject]
        try:
            return p.output(subject).labels if subject else ()
        except KeyError:
            return ()

    def type_of(self, subject: str | None):
        p, ctx = self.policy, self.ctx
        if subject is None:
            return None
        if ctx.scope == "pair":
            table = {"lead": p.lead_types, "account": p.account_types}.get(ctx.owner) or p.event_types.get(ctx.source or "", {})
            return table.get(subject)
        if ctx.scope == "event":
            return p.event_types.get(ctx.source or "", {}).get(subject)
        base, dot, attr = subject.partition(".")
        if dot:
            return p.account_types.get(attr) if base == "account" else None
        return p.lead_types.get(subject)

    def event_names(self, source: str | None) -> None:
        """The event names the policy already writes for `source` (its aggregates and its tests)."""
        from leadlang.syntax import ast as A

        seen: list[str] = []
        for module in self.policy.modules:
            for node in A.walk(module):
                if isinstance(node, A.Aggregate) and node.source == source and node.names:
                    seen.extend(node.names)
                elif isinstance(node, A.TestEvents) and node.source == source:
                    seen.extend(line.name for line in node.lines)
        for n in dict.fromkeys(seen):
            self.value(n, f"an event name of `{source}`")


def _keywords() -> frozenset:
    from leadlang.syntax.grammar import KEYWORDS

    return KEYWORDS


def written(name: str) -> str:
    """A name as a policy writes it: in backticks unless an identifier that is no keyword."""
    return name if _IDENT.match(name) and name not in _keywords() else f"`{name}`"


def _signature(name: str) -> str:
    b = BUILTINS[name]
    what = b.takes.says.removeprefix("a ").removeprefix("an ") if b.takes is not None else "value"
    args = ", ".join([what] * b.min_args) + (", ..." if b.max_args is None else "")
    returns = b.returns or ("the common type" if b.takes is None else "the argument's type")
    return f"{name}({args}) -> {returns}"


def _agg_signature(name: str) -> str:
    a = AGGREGATES[name]
    source = "SOURCE.column" if a.reads == COLUMN else "SOURCE"
    returns = a.returns or "the column's type"
    empty = f"; {a.empty} over no events" if a.empty is not None else "; missing over no events"
    return f"{name}({source} [NAMES] [where COND] [in last D]{' [half-life D]' if a.decayed else ''} [by account]) -> {returns}{empty}"


def _call_doc(name: str) -> str | None:
    from leadlang.lsp.reference import doc

    return doc(name, call=True)


def items(ctx: Context, policy, replace=None) -> list:
    """The completion items of `ctx` (lsprotocol `CompletionItem`s), named from `policy` (None: keywords and
    snippets only). `replace` is the range the item's text replaces (the word or string typed so far)."""
    b = _Builder(ctx, policy, replace)
    k = ctx.kind
    if k == "top":
        for word, (snippet, what) in _DECLARATIONS.items():
            if word == "test" and policy is not None:
                snippet = snippet.replace("${3:key}", f"${{3:{written(policy.key)}}}")
            b.add(word, "Snippet", what, f"```lead\n{_plain(snippet)}\n```", insert=snippet, snippet=True, rank=1)
        return list(b.out.values())
    if k == "type":
        for t in ("string", "int", "number", "bool", "date", "timestamp"):
            b.add(t, "TypeParameter", "type", rank=1)
        b.add("enum", "TypeParameter", "the only values the field may hold", insert='enum("${1:value}")', snippet=True, rank=2)
        return list(b.out.values())
    if k == "event_roles":
        for role, what in (("lead", "the column holding the lead key"), ("at", "the event time (timestamp, UTC)"),
                           ("name", "the event name")):
            b.keyword(role, rank=1, detail=what)
        return list(b.out.values())
    if k == "band":
        b.keyword(">=", rank=1, detail="the band's lowest score")
        b.keyword("otherwise", rank=2, detail="every score below the other bands")
        return list(b.out.values())
    if k == "rule_tail":
        b.keyword("when", rank=1, detail="the points when the condition is true")
        b.keyword("per", rank=2, detail="the points per unit of a value")
        return list(b.out.values())
    if k == "cap":
        b.keyword("max", rank=1, detail="the most points the rule gives")
        return list(b.out.values())
    if k == "otherwise":
        b.keyword("otherwise", rank=1, detail="the label when no branch is true")
        return list(b.out.values())
    if policy is None:
        return list(b.out.values())
    p = policy
    if k in ("expr", "expect"):
        b.expression()
        if k == "expect":
            if not ctx.negated:
                b.keyword("fired", rank=0, insert="fired ", detail="a rule, member or gate fired: `fired SCORE.RULE`")
                b.keyword("disqualified because", rank=0, insert="disqualified because ", detail="the first gate that fired")
            b.keyword("not fired", rank=0, insert=("fired " if ctx.negated else "not fired "), detail="a rule, member or gate did not fire")
    elif k == "operator":
        for w in _OPERATOR_WORDS:
            b.keyword(w, rank=1)
        if ctx.scope == "event":
            for w in ("in last", "half-life", "by account"):
                b.keyword(w, rank=2)
    elif k == "attr":
        if ctx.subject == "account":
            for n in p.account_types:
                b.name("account_field", n, rank=1)
        elif ctx.subject in p.criteria:
            for m in p.criteria[ctx.subject].members:
                b.name("member", f"{ctx.subject}.{m.id}", label=m.id, rank=1)
    elif k == "label":
        for label in b.labels_of(ctx.subject):
            kind = "label"
            b.add(label, "EnumMember", b._describe(kind, f"{ctx.subject}.{label}") or f"label of `{ctx.subject}`",
                  insert=written(label), rank=1)
        for w in ("missing", "present") + (() if ctx.negated else ("not",)):
            b.keyword(w, rank=3)
    elif k == "value":
        t = b.type_of(ctx.subject)
        labels = b.labels_of(ctx.subject) if ctx.scope != "pair" else ()
        if t is not None and t.values:
            for v in t.values:
                b.value(v, f"a value of `{ctx.subject}`")
        elif labels:
            for v in labels:
                b.value(v, f"a label of `{ctx.subject}`")
        elif ctx.scope == "pair":
            if t is not None and t.kind == "bool":
                for w in ("true", "false"):
                    b.keyword(w, rank=1)
        elif ctx.owner != "list" and not ctx.in_string:  # `x = ` on a field of no declared values: any value
            b.expression()
        if ctx.scope == "pair":
            b.keyword("missing", rank=3)
    elif k == "list":
        t = b.type_of(ctx.subject)
        for n, v in p.let_values.items():
            if isinstance(v, (list, tuple)):
                b.name("let", n, rank=1)
        if t is not None and t.values:
            choice = ",".join(v.replace(",", "\\,").replace("|", "\\|") for v in t.values)
            b.add("[…]", "Snippet", f"a list of values of `{ctx.subject}`", insert=f'["${{1|{choice}|}}"]', snippet=True, rank=2)
    elif k == "source":
        a = AGGREGATES.get(ctx.function or "")
        for n in p.events:
            b.name("events", n, rank=1, suffix="." if a is not None and a.reads == COLUMN else "")
    elif k == "column":
        a = AGGREGATES.get(ctx.function or "")
        for n, t in p.event_types.get(ctx.source or "", {}).items():
            if a is not None and a.columns is not None and not (t.numeric if a.columns == NUMERIC else (t.numeric or t.temporal)):
                continue
            b.name("event_column", f"{ctx.source}.{n}", label=n, rank=1)
    elif k == "aggregate":
        if ctx.in_string:
            b.event_names(ctx.source)
        else:
            a = AGGREGATES.get(ctx.function or "")
            parts = [("STRING", None), ("where", "where "), ("IN_LAST", "in last ${1:30} days"),
                     ("HALF_LIFE", "half-life ${1:14} days"), ("BY_ACCOUNT", "by account")]
            done = max((i for i, (part, _) in enumerate(parts) if part in ctx.used or part.lower() in ctx.used
                        or (part == "STRING" and "[" in ctx.used)), default=-1)
            for i, (part, insert) in enumerate(parts):
                if i <= done or insert is None:
                    continue
                if part == "HALF_LIFE" and (a is None or a.decayed is None):
                    continue
                if part == "BY_ACCOUNT" and not p.leads.account:
                    continue
                b.keyword(insert.split(" $")[0], rank=i, insert=insert)
    elif k == "event_name":
        b.event_names(ctx.source)
    elif k == "test":
        b.keyword("as of", insert="as of ${1:2024-06-01T00:00:00Z}", rank=1, detail="the time the test scores at")
        b.keyword("lead", insert=f"lead {{ {written(p.key)}: \"${{1:L1}}\" }}", rank=1, detail="the lead's fields")
        if p.accounts is not None:
            b.keyword("account", insert=f"account {{ {written(p.accounts.key)}: \"${{1:A1}}\" }}", rank=2, detail="the account's fields")
        for n in p.events:
            b.add(n, "Module", f"events of `{n}`", insert=f'{written(n)} {{\n  "${{1:event}}" ${{2:1}} day ago\n}}', snippet=True, rank=2)
        b.keyword("expect", rank=1, detail="what the policy must say of the lead")
    elif k == "component":
        for n, s in p.scores.items():
            if hasattr(s, "rules"):
                b.name("score", n, rank=1)
        for n in p.criteria:
            b.name("criteria", n, rank=1)
        if p.gates:
            b.keyword("disqualify", rank=2, detail="the gates of `disqualify`")
    elif k == "rule":
        s = p.scores.get(ctx.subject or "")
        if s is not None and hasattr(s, "rules"):
            for r in s.rules:
                b.name("rule", f"{ctx.subject}.{r.id}", label=r.id, rank=1)
        elif ctx.subject in p.criteria:
            for m in p.criteria[ctx.subject].members:
                b.name("member", f"{ctx.subject}.{m.id}", label=m.id, rank=1)
        elif ctx.subject == "disqualify":
            for g in p.gates:
                b.name("gate", f"disqualify.{g.id}", label=g.id, rank=1)
    elif k == "gate":
        for g in p.gates:
            b.name("gate", f"disqualify.{g.id}", label=g.id, rank=1)
    elif k == "pair_key":
        table = {"lead": p.lead_types, "account": p.account_types}.get(ctx.subject) or p.event_types.get(ctx.source or "", {})
        for n, t in table.items():
            b.add(n, "Field", str(t) + _values(t), insert=f"{written(n)}: ", rank=1)
    elif k == "score":
        for n in p.scores:
            if ctx.owner == "matrix" and n not in p.bands:
                continue
            b.name("score", n, rank=1 if (ctx.owner == "matrix") == (n in p.bands) else 3)
    elif k == "classification":
        for n in p.classifications:
            b.name("classification", n, rank=1)
    elif k == "action_label":
        for label in p.labels.get(ctx.owner or "", ()):
            b.add(label, "EnumMember", f"label of `{ctx.owner}`", insert=f"{written(label)}: ", rank=1)
        b.add("disqualified", "EnumMember", "the disqualified leads", insert="disqualified: ", rank=2)
    elif k == "setting":
        keys = dict.fromkeys(s.key for a in p.actions.values() for act in a.actions for s in act.settings)
        for key in keys:
            b.add(key, "Property", "an action setting", insert=f"{key} ", rank=1)
    elif k == "matrix_label":
        if ctx.subject is not None:
            for label in p.labels.get(ctx.subject, ()):
                b.add(label, "EnumMember", f"band of `{ctx.subject}`", insert=written(label), rank=1)
        else:
            for name, c in p.classifications.items():
                if getattr(c, "rows", None) is not None:
                    for label in p.labels[name]:
                        if label != "disqualified":
                            b.add(label, "EnumMember", f"label of `{name}`", insert=written(label), rank=1)
    return list(b.out.values())


def _values(t) -> str:
    return f" ({', '.join(t.values)})" if t is not None and t.values else ""


def _plain(snippet: str) -> str:
    """A snippet's text with its placeholders' defaults: `${1:name}` -> `name`."""
    return re.sub(r"\$\{\d+:([^}]*)\}", r"\1", snippet)


# ------------------------------------------------------------------ protocol --

TRIGGERS = [".", "(", "[", '"', ","]


def complete(server, params) -> list:
    """`textDocument/completion`: the context from the buffer's text, the names from its last good policy."""
    from leadlang.lsp.positions import Lines

    uri = params.text_document.uri
    text = server.documents.text(uri)
    analysis = server.documents.context(uri)
    if text is None or analysis is None:
        return []
    lines = Lines(text, server.encoding)
    line, column = lines.column(params.position)
    offset = offset_of(text, line - 1, column - 1)
    ctx = context_at_offset(text, offset)
    policy = analysis.policy or analysis.last_good
    if policy is None and analysis.uri == uri:  # opened already broken: no version of it has checked yet
        policy = repaired(text, offset, analysis.path, server.documents.overlay())
    start_line = text.count("\n", 0, ctx.start) + 1
    start_column = ctx.start - (text.rfind("\n", 0, ctx.start) + 1) + 1
    end_column = column + (1 if ctx.in_string and text[offset:offset + 1] == '"' else 0)  # the quote the editor closed
    from lsprotocol import types as T

    replace = T.Range(start=lines.position(start_line, start_column), end=lines.position(line, end_column))
    return items(ctx, policy, replace)


def repaired(text: str, offset: int, path: str, files=None):
    """The policy of `text` without what is being written at `offset` (its line, else its declaration), if that checks."""
    from leadlang.check import check_module
    from leadlang.diagnostics import LeadError
    from leadlang.fs import WORK_TREE
    from leadlang.syntax.parser import parse

    files = WORK_TREE if files is None else files
    key = (path, text, offset)
    if _REPAIRED[0] == key:
        return _REPAIRED[1]
    begin = text.rfind("\n", 0, offset) + 1
    end = text.find("\n", offset)
    end = len(text) if end < 0 else end
    found = list(_DECLARATION_START.finditer(text))
    starts = [m.start() for m in found] + [len(text)]
    decl_begin = max((s for s in starts if s <= offset), default=0)
    decl_end = min((s for s in starts if s > offset), default=len(text))
    tests = [(m.start(), starts[i + 1]) for i, m in enumerate(found) if m.group() == "test"]  # their `expect`s may name what goes

    def cut(text: str, spans) -> str:
        for b, e in sorted(spans, reverse=True):
            text = text[:b] + "\n" * text.count("\n", b, e) + text[e:]
        return text

    policy = None
    for spans in ([(begin, end)], [(begin, end), *_outside(tests, begin, end)], [(decl_begin, decl_end), *_outside(tests, decl_begin, decl_end)]):
        candidate = cut(text, spans)
        try:
            policy = check_module(parse(candidate.removeprefix("\ufeff"), path), {path: candidate.removeprefix("\ufeff")}, files)
            break
        except (LeadError, OSError, RecursionError):
            continue
    _REPAIRED[:] = [key, policy]
    return policy


def _outside(spans, begin: int, end: int) -> list[tuple[int, int]]:
    return [(b, e) for b, e in spans if e <= begin or b >= end]


_REPAIRED: list = [None, None]  # the last repair: a completion request per keystroke asks for the same text again


def register(server) -> None:
    from lsprotocol import types as T

    server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=TRIGGERS))(
        lambda params: complete(server, params))
