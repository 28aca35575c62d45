"""Both policies' plans merged into one: every distinct piece of SQL computed once.

A policy change usually touches a few rules or thresholds; everything else — the
sources, the event aggregates, the `by account` pools, most signals, rules and
scores — compiles to the same SQL on both sides. `merge` builds one plan holding
each side's columns, each distinct expression (after renaming the columns it
reads to the merged plan's) once: the events are scanned once, a regular
expression shared by both policies is evaluated once, and the statement's rows
carry both sides' outputs side by side, with the rules whose firing changed for
each moved lead — an explanation row both sides compute alike cannot differ and
is left out without being computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

from leadlang.sql.compiler import ACCOUNT, KEY, Plan
from leadlang.sql.scan import EventScan

# a DuckDB string literal (quotes doubled, no backslash escapes) or a quoted identifier, maybe qualified
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"(?:\.\"(?:[^\"]|\"\")*\")?")
_SCAN_FIELDS = {"name", "relation", "columns", "by_lead", "by_account", "partials", "rolled"}  # what `merge` knows how to merge
_SERIES_ONLY = {"intervals", "pieces", "account", "day_flags"}  # a `history` series' fields: empty in a scoring plan, which is all `merge` sees
# each list of an `EventScan`, in an order where a list's SQL reads only the lists before it (`rolled`: the
# per-lead columns), and the alias of its CTE
_SCAN_LISTS = (("by_lead", "ag"), ("partials", "ag"), ("by_account", "ae"), ("rolled", "aa"))


def rename(sql: str, names: dict[str, str]) -> tuple[str, set[str]]:
    """`sql` with each quoted (or qualified) identifier in `names` replaced, literals left alone;
    and the identifiers the result reads."""
    read: set[str] = set()

    def sub(m: re.Match) -> str:
        token = m.group(0)
        if token[0] == "'":
            return token
        token = names.get(token, token)
        read.add(token)
        return token

    return _TOKEN.sub(sub, sql), read


@dataclass
class Merged:
    """The merged plan, and each side's outputs and explanation rows as SQL over it."""

    plan: Plan
    outputs: dict[str, dict[str, str]]  # side -> {output name: SQL over the merged plan's last step}
    explain: dict[str, dict[tuple[str, str, str], tuple[str, str]]]  # side -> {(component, kind, rule): (fired, points)}


class _Columns:
    """Columns of one namespace (a CTE's `SELECT prev.*, ...` chain): a distinct SQL once, names unique ignoring case."""

    def __init__(self, q, taken: set[str]):
        self.q = q
        self.taken = taken  # lower-cased names of the whole chain
        self.by_sql: dict[str, str] = {}

    def add(self, name: str, sql: str) -> tuple[str, bool]:
        """The merged column computing `sql` (quoted), and whether it is new."""
        if sql in self.by_sql:
            return self.by_sql[sql], False
        column, n = name, 1
        while column.lower() in self.taken:
            n += 1
            column = f"{name}__d{n}"
        self.taken.add(column.lower())
        self.by_sql[sql] = self.q(column)
        return self.q(column), True


def merge(plans: dict[str, Plan]) -> Merged | None:
    """One plan computing both sides' columns, or None when the two read different leads or accounts
    relations, key or account columns, or parameters (each side then runs whole)."""
    po, pn = plans["old"], plans["new"]
    same = lambda p: (p.dialect.name, p.params, p.leads_relation, p.accounts_relation, keys_of(p.lead_columns), keys_of(p.account_columns))
    if same(po) != same(pn) or {f.name for f in fields(EventScan)} != _SCAN_FIELDS | _SERIES_ONLY:
        return None
    if any(getattr(scan, f) for p in plans.values() for scan in p.scans for f in _SERIES_ONLY):
        return None
    q = po.dialect.ident
    taken: set[str] = set()
    names: dict[str, dict[str, str]] = {side: {} for side in plans}  # side -> {its quoted column: the merged one}
    lead_columns, account_columns, base_columns = _Columns(q, taken), _Columns(q, taken), _Columns(q, taken)
    leads, accounts = [], []
    for side, p in plans.items():
        for into, listed, cols in ((leads, p.lead_columns, lead_columns), (accounts, p.account_columns, account_columns)):
            for name, sql in listed:
                column, new = cols.add(name, sql)
                if new:
                    into.append((column, sql))
                names[side][q(name)] = column

    scans: list[EventScan] = []
    for side, p in plans.items():
        for scan in p.scans:
            target = next((s for s in scans if s.relation == scan.relation and s.columns == scan.columns), None)
            if target is None:
                taken_scans, name = {s.name for s in scans}, scan.name
                while name in taken_scans:  # a source both read, differently: its own scan (and CTE names)
                    name += f"__{side}"
                target = EventScan(name, scan.relation, list(scan.columns))
                scans.append(target)
            for kind, alias in _SCAN_LISTS:
                merged = getattr(target, kind)
                for column, sql in getattr(scan, kind):
                    if kind == "rolled":  # over the partials' merged columns (only those: an event column may share a lead column's name)
                        sql = rename(sql, names[side])[0]
                    hit = next((c for c, s in merged if s == sql), None)
                    if hit is None:
                        hit = f"__agg{sum(len(getattr(s, k)) for s in scans for k, _ in _SCAN_LISTS) + 1}"
                        merged.append((hit, sql))
                    names[side][f"{q(alias + '_' + scan.name)}.{q(column)}"] = f"{q(alias + '_' + target.name)}.{q(hit)}"

    base = []
    for side, p in plans.items():
        for name, sql in p.base_columns:
            sql = rename(sql, names[side])[0]
            column, new = base_columns.add(name, sql)
            if new:
                base.append((column, sql))
            names[side][q(name)] = column

    layers: list[list[tuple[str, str]]] = []
    level: dict[str, int] = {}
    values = _Columns(q, taken)
    for side, p in plans.items():
        for layer in p.layers:
            for name, sql in layer:
                sql, read = rename(sql, names[side])
                column, new = values.add(name, sql)
                if new:
                    at = 1 + max((level.get(r, 0) for r in read), default=0)
                    level[column] = at
                    while len(layers) < at:
                        layers.append([])
                    layers[at - 1].append((column, sql))
                names[side][q(name)] = column
    unquote = lambda c: c[1:-1].replace('""', '"')
    plan = replace(po, lead_columns=[(unquote(c), s) for c, s in leads], account_columns=[(unquote(c), s) for c, s in accounts],
                   scans=[s for s in scans if s.per_lead or s.pools], base_columns=[(unquote(c), s) for c, s in base],
                   layers=[[(unquote(c), s) for c, s in layer] for layer in layers], outputs=[], explain=[])
    outputs = {side: {name: rename(sql, names[side])[0] for name, sql in p.outputs} for side, p in plans.items()}
    explain = {side: {(c, k, r): (rename(fired, names[side])[0], rename(points, names[side])[0]) for c, k, r, fired, points in p.explain}
               for side, p in plans.items()}
    return Merged(plan, outputs, explain)



def in_two(plan: Plan, aggs: str, view: str) -> tuple[Plan, str, Plan]:
    """The merged plan as two statements, so the events' rows are freed before the values are computed
    (one statement holds both at once: a third more memory): the aggregates of every lead into the table
    `aggs`; the view `view` of the leads with them; the values over that view, scanning no events.
    Returns (the aggregates' plan, the view's SQL, the values' plan)."""
    q = plan.dialect.ident
    stored = [(f"__diff_{name}", name) for name, _ in plan.base_columns]
    first = replace(plan, lead_columns=keys_of(plan.lead_columns), accounts_relation=None, account_columns=[], layers=[],
                    explain=[], outputs=[(KEY, q(KEY))] + [(column, q(name)) for column, name in stored])
    key = plan.lead_columns[0][1]  # the lead key as text, over the leads relation
    view_sql = (f"SELECT l.*{''.join(f', g.{q(c)}' for c, _ in stored)} FROM {plan.leads_relation} l "
                f"LEFT JOIN {q(aggs)} g ON g.{q(KEY)} = {key}")
    second = replace(plan, leads_relation=q(view), lead_columns=plan.lead_columns + [(name, q(column)) for column, name in stored],
                     scans=[], base_columns=[])
    return first, view_sql, second


def keys_of(columns: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The key and account columns of a plan's lead or account columns: what its statement joins on."""
    return [c for c in columns if c[0] in (KEY, ACCOUNT, "__account_key")]
