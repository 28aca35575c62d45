"""Hover, go to definition, find references and rename: lookups in the checked policy's index of names.

A position becomes an `Occurrence` (`Policy.occurrence_at`); its declaration, its references and
every place to rename are `Policy.occurrences(kind, name)`, across the `use`d files. A `use`d
file open in the editor is read through the open policy that uses it (it is not checked alone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lsprotocol import types as T
from pygls.exceptions import JsonRpcInvalidParams

from leadlang.check.policy import Occurrence, Policy
from leadlang.lsp.documents import Analysis, resolved
from leadlang.syntax import ast as A
from leadlang.syntax.grammar import KEYWORDS

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# the kinds that share the policy's one namespace (docs/language.md §3)
NAMESPACE = ("lead_field", "events", "let", "signal", "score", "criteria", "classification")


@dataclass
class Place:
    """A position in a document, read through the policy that holds its file."""

    analysis: Analysis
    policy: Policy | None
    path: str  # the file as the policy names it
    line: int  # 1-based, in characters
    column: int


def place(server, uri: str, position: T.Position) -> Place | None:
    """The position's file, line and column, and the checked policy to read it through (None: not open)."""
    analysis = server.documents.context(uri)
    if analysis is None:
        return None
    path = server.documents.buffers[uri].path
    policy = analysis.policy
    if policy is not None:
        path = _module_path(policy, path)
    line, column = server.lines(path, analysis).column(position) if policy is not None else \
        server.lines(analysis.path, analysis).column(position)
    return Place(analysis, policy, path, line, column)


def _module_path(policy: Policy, path: str) -> str:
    """The name the policy gives the file at `path` (a `use`d file is named relative to its user)."""
    if any(m.path == path for m in policy.modules):
        return path
    target = resolved(path)
    return next((m.path for m in policy.modules if resolved(m.path) == target), path)



def occurrence(p: Place) -> Occurrence | None:
    """The name written at the position, or right before it (the cursor just after a word)."""
    if p.policy is None:
        return None
    found = p.policy.occurrence_at(p.path, p.line, p.column)
    if found is None and p.column > 1:
        found = p.policy.occurrence_at(p.path, p.line, p.column - 1)
    return found


def declaration(policy: Policy, o: Occurrence) -> Occurrence | None:
    return next((d for d in policy.occurrences(o.kind, o.name) if d.declaration), None)


def location(server, analysis: Analysis, o: Occurrence) -> T.Location:
    return T.Location(uri=server.documents.uri_of(o.span.file), range=server.lines(o.span.file, analysis).range(o.span))


# -------------------------------------------------------------------- hover --
def _node_of(policy: Policy, decl: Occurrence):
    """The declaration (or rule, member, gate, band, branch, field) whose name `decl` spells: the smallest holding it."""
    best = None
    for module in policy.modules:
        if module.path != decl.span.file:
            continue
        for d in module.decls:
            if not d.span.start <= decl.span.start < d.span.end:
                continue
            best = d
            inner = (*getattr(d, "fields", ()), *getattr(d, "rules", ()), *getattr(d, "members", ()),
                     *getattr(d, "gates", ()), *getattr(d, "branches", ()))
            if isinstance(d, A.Bands):
                inner = ()  # a band label shows all the thresholds
            for item in inner:
                if item.span.start <= decl.span.start < item.span.end:
                    best = item
    return best


def _source(policy: Policy, node, limit: int = 40) -> str:
    text = policy.texts.get(node.span.file, "")[node.span.start:node.span.end]
    lines = text.splitlines()
    if len(lines) > limit:
        lines = [*lines[:limit], f"  … {len(lines) - limit} more lines"]
    return "\n".join(lines)


def _number(v) -> str:
    text = format(v, "f") if not isinstance(v, int) else str(v)
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe(policy: Policy, o: Occurrence) -> str:
    """One line saying what a name is: its kind, and its type, value, range or labels."""
    kind, name = o.kind, o.name
    owner, _, item = name.partition(".")
    if kind == "lead_field":
        return f"lead field `{name}`: {policy.lead_types.get(name, '?')}" + _enum(policy.lead_types.get(name))
    if kind == "account_field":
        return f"account field `account.{name}`: {policy.account_types.get(name, '?')}" + _enum(policy.account_types.get(name))
    if kind == "event_column":
        t = policy.event_types.get(owner, {}).get(item)
        return f"column `{item}` of events `{owner}`" + (f": {t}" if t is not None else "")
    if kind == "events":
        return f"event source `{name}`"
    if kind == "let":
        return f"let `{name}` = {_value(policy.let_values.get(name))}"
    if kind == "signal":
        return f"signal `{name}`: {policy.type_of(policy.signals[name].expr)}"
    if kind == "score":
        from leadlang.lint.analysis import Analysis as Ranges

        s = policy.scores[name]
        r = Ranges(policy).score_range(name)
        what = f"{len(s.rules)} rule{'s' if len(s.rules) != 1 else ''}" if isinstance(s, A.PointsScore) else "derived"
        banded = f"; bands {', '.join(policy.labels[name])}" if name in policy.bands else ""
        return f"score `{name}` ({what}), range {_number(r.low)} to {_number(r.high)}{banded}"
    if kind == "criteria":
        c = policy.criteria[name]
        need = "all" if c.required is None else f"{c.required} of {len(c.members)}"
        return f"criteria `{name}`: require {need} ({', '.join(m.id for m in c.members)})"
    if kind == "member":
        return f"member `{item}` of criteria `{owner}`"
    if kind == "gate":
        return f"gate `{item}` of `disqualify`"
    if kind == "rule":
        r = next(r for r in policy.scores[owner].rules if r.id == item)
        points = f"{'+' if r.points >= 0 else ''}{_number(r.points)}"
        cap = f", max {_number(r.cap)}" if r.cap is not None else ""
        how = "when its condition is true" if r.kind == "when" else "per unit of its value"
        return f"rule `{item}` of score `{owner}`: {points} points {how}{cap}"
    if kind == "classification":
        return f"classification `{name}`: {', '.join(policy.labels.get(name, ()))}"
    if kind == "label":
        if owner in policy.bands:
            band = next((b for b in policy.bands[owner].bands if b.label == item), None)
            at = "otherwise" if band is None or band.threshold is None else f">= {_number(band.threshold)}"
            return f"band `{item}` of score `{owner}`: {at}"
        return f"label `{item}` of classification `{owner}`"
    return f"{kind} `{name}`"


def _enum(t) -> str:
    return f" ({', '.join(repr(v).replace(chr(39), chr(34)) for v in t.values)})" if t is not None and t.values else ""


def _value(v) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, bool):
        return "true" if v else "false"
    return _number(v) if v is not None else "missing"


def hover_text(policy: Policy, o: Occurrence) -> str:
    """The hover of a name: what it is, then the source of its declaration."""
    decl = declaration(policy, o)
    node = _node_of(policy, decl) if decl is not None else None
    parts = [describe(policy, o)]
    if node is not None:
        parts.append(f"```lead\n{_source(policy, node)}\n```")
    return "\n\n".join(parts)


def hover(server, params: T.HoverParams) -> T.Hover | None:
    p = place(server, params.text_document.uri, params.position)
    if p is None:
        return None
    o = occurrence(p)
    if o is not None:
        lines = server.lines(p.path, p.analysis)
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=hover_text(p.policy, o)), range=lines.range(o.span))
    from leadlang.lsp.reference import doc

    lines = server.lines(p.path if p.policy is not None else p.analysis.path, p.analysis)
    text = lines.line(p.line)
    for m in _WORD.finditer(text):
        if m.start() + 1 <= p.column <= m.end() + 1:
            found = doc(m.group(), call=text[m.end():].lstrip().startswith("("))
            if found is None:
                return None
            span = T.Range(start=lines.position(p.line, m.start() + 1), end=lines.position(p.line, m.end() + 1))
            return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=found), range=span)
    return None


# ----------------------------------------------------- definition, references --
def definition(server, params: T.DefinitionParams) -> list[T.Location] | None:
    p = place(server, params.text_document.uri, params.position)
    o = occurrence(p) if p is not None else None
    if o is None:
        return None
    decl = declaration(p.policy, o)
    return [location(server, p.analysis, decl)] if decl is not None else None


def references(server, params: T.ReferenceParams) -> list[T.Location] | None:
    p = place(server, params.text_document.uri, params.position)
    o = occurrence(p) if p is not None else None
    if o is None:
        return None
    found = p.policy.occurrences(o.kind, o.name)
    return [location(server, p.analysis, r) for r in found if params.context.include_declaration or not r.declaration]


# --------------------------------------------------------------------- rename --
def prepare_rename(server, params: T.PrepareRenameParams) -> T.PrepareRenamePlaceholder | None:
    p = place(server, params.text_document.uri, params.position)
    if p is not None and p.policy is None:
        raise JsonRpcInvalidParams("the policy has errors: fix them before renaming")
    o = occurrence(p) if p is not None else None
    if o is None:
        raise JsonRpcInvalidParams("nothing to rename here: put the cursor on a declared name")
    return T.PrepareRenamePlaceholder(range=server.lines(p.path, p.analysis).range(o.span), placeholder=_item(o))


def _item(o: Occurrence) -> str:
    """The name as written: `seats` of the event column `product.seats`, `high` of the label `fit.high`."""
    return o.name.partition(".")[2] if "." in o.name else o.name


def refusal(policy: Policy, o: Occurrence, new: str) -> str | None:
    """Why `o`'s name may not become `new`, or None."""
    if not _IDENTIFIER.match(new):
        return f"`{new}` is not a name: a name is letters, digits and `_`, not starting with a digit"
    if new in KEYWORDS:
        return f"`{new}` is a keyword of leadlang"
    if new == _item(o):
        return None
    if o.kind in NAMESPACE:
        taken = next((k for k in NAMESPACE if any(x.declaration for x in policy.occurrences(k, new))), None)
        if taken is not None:
            return f"`{new}` is already declared (a {taken.replace('_', ' ')})"
        return None
    prefix = o.name.partition(".")[0] + "."
    kinds = ("label",) if o.kind == "label" else (o.kind,)
    if any(policy.occurrences(k, prefix + new) for k in kinds) if "." in o.name else any(policy.occurrences(o.kind, new)):
        return f"`{new}` is already declared there"
    return None


def rename(server, params: T.RenameParams) -> T.WorkspaceEdit | None:
    p = place(server, params.text_document.uri, params.position)
    if p is not None and p.policy is None:
        raise JsonRpcInvalidParams("the policy has errors: fix them before renaming")
    o = occurrence(p) if p is not None else None
    if o is None:
        raise JsonRpcInvalidParams("nothing to rename here: put the cursor on a declared name")
    problem = refusal(p.policy, o, params.new_name)
    if problem is not None:
        raise JsonRpcInvalidParams(f"cannot rename `{_item(o)}` to `{params.new_name}`: {problem}")
    changes: dict[str, list[T.TextEdit]] = {}
    for r in p.policy.occurrences(o.kind, o.name):
        text = p.policy.texts.get(r.span.file, "")
        quoted = text[r.span.start:r.span.start + 1] == "`"
        uri = server.documents.uri_of(r.span.file)
        edit = T.TextEdit(range=server.lines(r.span.file, p.analysis).range(r.span), new_text=f"`{params.new_name}`" if quoted else params.new_name)
        changes.setdefault(uri, []).append(edit)
    return T.WorkspaceEdit(changes=changes)


def register(server) -> None:
    server.feature(T.TEXT_DOCUMENT_HOVER)(lambda params: hover(server, params))
    server.feature(T.TEXT_DOCUMENT_DEFINITION)(lambda params: definition(server, params))
    server.feature(T.TEXT_DOCUMENT_REFERENCES)(lambda params: references(server, params))
    server.feature(T.TEXT_DOCUMENT_PREPARE_RENAME)(lambda params: prepare_rename(server, params))
    server.feature(T.TEXT_DOCUMENT_RENAME, T.RenameOptions(prepare_provider=True))(lambda params: rename(server, params))
