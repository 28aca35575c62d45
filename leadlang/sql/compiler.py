"""Checked policy -> a plan of SQL pieces: sources, one aggregation scan per event source, value layers.

Every named value (signal, rule contribution, score, band, criteria member,
gate, classification, action) is one column. A column sits in the first layer
after everything it reads, so each layer is one `SELECT prev.*, ...` CTE and a
policy with 300 rules is still one scan of each source and a handful of CTEs.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Callable

from leadlang.aggregates import AGGREGATES
from leadlang.builtins import BUILTINS, TEMPORAL
from leadlang.check.policy import Policy
from leadlang.sql.dialects import Dialect
from leadlang.sql.scan import AS_OF, AT, LEAD, NAME, EventScan, Piece, _column, aggregate, day_intervals, intervals
from leadlang.syntax import ast as A

KEY = "__key"
ACCOUNT = "__account"
_MOVING = re.compile(rf"__agg\d|{AS_OF}")  # SQL reading an aggregate column or the as-of time (`Compiler.moves`)


@dataclass
class Plan:
    policy: Policy
    dialect: Dialect
    params: list[tuple[str, str]]
    leads_relation: str
    lead_columns: list[tuple[str, str]]
    accounts_relation: str | None
    account_columns: list[tuple[str, str]]
    scans: list[EventScan]
    base_columns: list[tuple[str, str]]  # aggregate columns with their empty values filled in
    layers: list[list[tuple[str, str]]]
    outputs: list[tuple[str, str]]
    explain: list[tuple[str, str, str, str, str]]  # component, kind, rule, fired SQL, points SQL
    key: str
    order_key: str
    # per rule of every points score, in declaration order: score, rule id, and over the last layer its contribution and its value as doubles
    # (`when`: 1 or 0; `per`: the contribution ÷ points, so `max` caps it; with 0 points the uncapped value, missing 0)
    rules: list[tuple[str, str, str, str]] = field(default_factory=list)
    # a series (`leadlang history`): the as-of points as literals, one `__params` row each, the scans grouped by (lead, as-of)
    series: list[str] = field(default_factory=list)
    # a series restricted to these lead keys (string literals; `history --lead`): every lead is still read, for `by account`
    only: list[str] = field(default_factory=list)
    # in a series, the value layers that read no aggregate and no as-of time, computed once per lead before the
    # leads meet the points (`layers` is then the rest, per lead and point)
    static_layers: list[list[tuple[str, str]]] = field(default_factory=list)
    # in a series, the scans: each source's aggregates grouped by window (`Compiler.series_scans`), with the event
    # names every aggregate of the group reads (`names`, SQL, by the group's name)
    series_scans: list[EventScan] = field(default_factory=list)
    names: dict[str, str | None] = field(default_factory=dict)


# a decayed `by account` aggregate in a series is summed once per point holding an interval (`series_scans`) up to
# this many points; beyond, each event is joined to its points instead
MAX_DECAYED_POINTS = 32


def balanced(op: str, terms: list[str], empty: str, chunk: int = 8) -> str:
    """`terms` joined by an associative `op` in parenthesised groups of at most `chunk`, the groups
    joined the same way: a sum of 1,000 rules or a chain of 500 conditions nests a few levels deep,
    not 1,000, within every engine's expression depth limit."""
    if not terms:
        return empty
    level = list(terms)
    while True:
        level = ["(" + f" {op} ".join(level[i:i + chunk]) + ")" for i in range(0, len(level), chunk)]
        if len(level) == 1:
            return level[0]


def _chain_terms(e: A.Binary) -> list[A.Expr]:
    """The operands of a chain of one `and`/`or`, in order: `(a and b) and (c and d)` -> a, b, c, d."""
    terms, stack = [], [e]
    while stack:
        n = stack.pop()
        if isinstance(n, A.Binary) and n.op == e.op:
            stack += [n.right, n.left]
        else:
            terms.append(n)
    return terms


class Compiler:
    def __init__(self, policy: Policy, dialect: Dialect, as_of: dt.datetime | None, tables: dict[str, str],
                 relation_sql: Callable[[A.Relation], str] | None = None, as_of_sql: str | None = None,
                 series: list[dt.datetime] | None = None, only: list[str] | None = None):
        self.p = policy
        self.series = series or []
        self.only = only or []
        self.d = dialect
        self.as_of = as_of
        self.tables = tables
        self.relation_sql = relation_sql  # hooks for generators that wrap the SQL (dbt's ref(), var())
        self.as_of_sql = as_of_sql
        self.aggregates: dict[A.Aggregate, str] = {}  # structurally equal aggregates share a column
        self.pieces: dict[str, Piece] = {}  # aggregate column -> how a series computes it from partials, if it can
        self.depth: dict[str, int] = {}  # column -> layer
        self.columns: dict[int, list[tuple[str, str]]] = {}
        self.scans: dict[str, EventScan] = {}
        self.names: dict[str, str] = {}
        self.taken: set[str] = {n.lower() for n in (KEY, ACCOUNT, AS_OF, "__account_key")}
        self.rule_values: list[tuple[str, str, str, str]] = []  # Plan.rules
        self.placed: list[tuple[str, str, list[str]]] = []  # every `put`, in order: a series' `split_layers`
        self.moving: set[str] = set()  # the columns whose values can differ between a series' points
        self.once: list[str] = []  # in a series, the text tests computed once per lead (`once_per_lead`)
        self.declared_rules = {(sc.name, r.id): i for i, (sc, r) in enumerate(
            (sc, r) for sc in policy.scores.values() if isinstance(sc, A.PointsScore) for r in sc.rules)}

    # ---------------------------------------------------------------- names --
    def q(self, name: str) -> str:
        return self.d.ident(name)

    def col(self, name: str) -> str:
        """The SQL column of a policy value: its own name, unless that clashes ignoring case.

        DuckDB, Spark and BigQuery match even quoted names case-insensitively, so a
        signal `specialization` beside a field `Specialization` needs its own column.
        """
        if name not in self.names:
            column, n = name, 1
            while column.lower() in self.taken:
                n += 1
                column = f"{name}__{n}"
            self.taken.add(column.lower())
            self.names[name] = column
        return self.names[name]

    def c(self, name: str) -> str:
        return self.q(self.col(name))

    def relation(self, rel: A.Relation) -> str:
        name = ".".join(rel.parts)
        mapped = self.tables.get(name)
        if mapped is not None:
            return ".".join(self.q(part) for part in mapped.split("."))
        if self.relation_sql is not None:
            return self.relation_sql(rel)
        return self.d.relation(rel.parts)

    def put(self, column: str, sql: str, reads: list[str]) -> None:
        reads = reads + [c for c in self.once if self.c(c) in sql]  # `once_per_lead`'s columns it reads
        level = 1 + max((self.depth.get(r, 0) for r in reads), default=0)
        self.depth[column] = level
        self.columns.setdefault(level, []).append((self.col(column), sql))
        self.placed.append((column, sql, reads))
        if self.moves(sql, reads):
            self.moving.add(column)

    def moves(self, sql: str, reads: list[str]) -> bool:
        """Whether a value can differ between the points of a series: its SQL reads an aggregate column (`__aggN`)
        or the as-of time, or it reads such a column. Told by the SQL: a false match only costs time."""
        return bool(_MOVING.search(sql)) or any(r in self.moving for r in reads)

    def once_per_lead(self, e: A.Expr, sql: str) -> str:
        """In a series, a text test (`matches`, `contains`, ...) that reads no value moving between points, inside
        a value that does (a classification's `title matches ...`): its own column, computed once per lead
        rather than at every point. A text test cannot fail, so computing it for every lead changes nothing."""
        reads = self.reads(e)
        if not self.series or self.moves(sql, reads):
            return sql
        column = f"__once{len(self.once) + 1}"
        self.put(column, sql, reads)
        self.once.append(column)
        return self.c(column)

    # ----------------------------------------------------------------- plan --
    def plan(self) -> Plan:
        p, d = self.p, self.d
        lead_cols = [(KEY, d.cast(self.q(p.leads.key), "string"))]
        if p.leads.account:
            lead_cols.append((ACCOUNT, d.cast(self.q(p.leads.account), "string")))
        for f in p.leads.fields:
            if f.name not in (p.leads.key, p.leads.account):
                lead_cols.append((self.col(f.name), self.source_column(f)))
        account_cols: list[tuple[str, str]] = []
        if p.accounts is not None:
            account_cols.append(("__account_key", d.cast(self.q(p.accounts.key), "string")))
            account_cols += [(self.col(f"account.{f.name}"), self.source_column(f)) for f in p.accounts.fields if f.name != p.accounts.key]
        for ev in p.events.values():
            cols = [(LEAD, d.cast(self.q(ev.lead), "string")), (AT, d.cast(self.q(ev.at), "timestamp")), (NAME, d.cast(self.q(ev.event_name), "string"))]
            cols += [(f.name, self.source_column(f)) for f in ev.fields]
            self.scans[ev.name] = EventScan(ev.name, self.relation(ev.relation), cols)

        self.steps()
        base = []
        for agg, column in self.aggregates.items():
            empty = AGGREGATES[agg.func].empty
            alias = self.alias(agg, column)
            ref = f"{self.q(alias + '_' + agg.source)}.{self.q(column)}"
            base.append((self.col(column), f"COALESCE({ref}, {empty})" if empty is not None else ref))
        series_scans, names = self.series_scans(base) if self.series else ([], {})
        as_of = d.timestamp_literal(self.as_of) if self.as_of is not None else d.current_timestamp()
        params = [(AS_OF, as_of if self.as_of is not None else d.cast(as_of, "timestamp"))]
        if self.as_of_sql is not None:
            params = [(AS_OF, self.as_of_sql)]
        layers = [self.columns[level] for level in sorted(self.columns)]
        static: list[list[tuple[str, str]]] = []
        if self.series:
            static, layers = self.split_layers()
        outputs = self.outputs()
        return Plan(
            policy=p, dialect=d, params=params, leads_relation=self.relation(p.leads.relation),
            lead_columns=lead_cols, accounts_relation=self.relation(p.accounts.relation) if p.accounts else None,
            account_columns=account_cols, scans=[s for s in self.scans.values() if s.per_lead or s.pools],
            base_columns=base, layers=layers, outputs=outputs, explain=self.explain_rows(), key=KEY,
            order_key=self.q(p.leads.key) + d.key_collation,
            rules=sorted(self.rule_values, key=lambda r: self.declared_rules[r[0], r[1]]),
            series=[d.timestamp_literal(t) for t in self.series],
            only=[d.literal(k) for k in self.only], static_layers=static, series_scans=series_scans, names=names,
        )

    def split_layers(self) -> tuple[list[list[tuple[str, str]]], list[list[tuple[str, str]]]]:
        """A series' value layers in two chains: the columns that read no aggregate, no as-of time and no such
        column (once per lead), and the others (per lead and point: `moving`), each layered by depth within its chain."""
        depth: dict[str, int] = {}
        chains: tuple[dict[int, list], dict[int, list]] = ({}, {})
        for column, sql, reads in self.placed:
            is_dynamic = column in self.moving
            level = 1 + max((depth.get(r, 0) for r in reads if (r in self.moving) == is_dynamic), default=0)
            depth[column] = level
            chains[is_dynamic].setdefault(level, []).append((self.col(column), sql))
        return [chains[0][k] for k in sorted(chains[0])], [chains[1][k] for k in sorted(chains[1])]

    def alias(self, agg: A.Aggregate, column: str) -> str:
        """Where aggregate `agg`'s column is: per lead (`ag`), `by account` from partials (`aa`) or from the events (`ae`)."""
        if not agg.by_account:
            return "ag"
        return "aa" if any(c == column for c, _ in self.scans[agg.source].rolled) else "ae"

    def series_scans(self, base: list[tuple[str, str]]) -> tuple[list[EventScan], dict[str, str | None]]:
        """A series' event scans: each source's aggregates grouped by their window (None: every past event) and by
        how they are computed, each group's events given their interval of the series' time (`scan.Intervals`):
        a group of aggregates with a `Piece` aggregates the events once per lead and interval and merges the
        intervals each point's window holds; one of `by account` pieces whose total over any partials is exact
        does so per account and interval, with no per-lead stage (a decayed one summing the weights once for each
        point holding the interval, up to `MAX_DECAYED_POINTS`); distinct UTC dates in a series of UTC midnights
        count the dates of intervals closed on the left (`scan.day_intervals`, `distinct_days`); any other group
        joins each event to the points holding its interval. A group reads only the events of the names every
        aggregate of it reads (the names by group, SQL). `base`'s references are pointed at the groups (in place)."""
        groups: dict[tuple[str, int | None, str], EventScan] = {}
        names: dict[str, set[str] | None] = {}
        owner: dict[str, EventScan] = {}
        for agg, column in self.aggregates.items():
            scan = self.scans[agg.source]
            window = None if agg.window is None else agg.window.seconds
            piece = self.pieces.get(column)
            days = piece is not None and piece.days is not None
            cut = (day_intervals if days else intervals)(self.d, f"e.{self.q(AT)}", self.series, window)
            if piece is not None and piece.decayed is not None and max(map(len, cut.holders.values())) > MAX_DECAYED_POINTS:
                piece = None  # a column per point holding an interval: too many, each event joins its points instead
            # "lead": partials per (lead, interval); "account": per (account, interval), for `by account` aggregates
            # whose total over any partials is exact; "joined": each event joined to the points holding it; a count of
            # distinct dates (`days`) per lead or account over intervals closed on the left
            pooled = agg.by_account and (days or (piece is not None and piece.rollup.own))
            mode = "joined" if piece is None else ("days " if days else "") + ("account" if pooled else "lead")
            if (agg.source, window, mode) not in groups:
                n = sum(1 for s, _, _ in groups if s == agg.source) + 1
                group = EventScan(f"{agg.source}__{n}", scan.relation, scan.columns, intervals=cut, account=pooled)
                groups[agg.source, window, mode] = group
                names[group.name] = set()
            group = groups[agg.source, window, mode]
            if piece is not None and piece.decayed is not None:
                group.rolled.append((column, self.decayed_pool(group, piece)))
            elif days:
                total = self.distinct_days(group, piece.days)
                (group.rolled if pooled else group.by_lead).append((column, total))
            elif piece is not None:
                parts = [group.piece(sql, self.q) for sql in piece.partials]
                if pooled:  # totalled over the (account, interval) partials of the point's intervals
                    group.rolled.append((column, piece.rollup.total(self.d, parts, piece.kind)))
                elif agg.by_account:
                    merged = [group.partial(f"{merge}({part})", self.q) for merge, part in zip(piece.rollup.merges, parts)]
                    group.rolled.append((column, piece.rollup.total(self.d, merged, piece.kind)))
                else:
                    group.by_lead.append((column, piece.rollup.total(self.d, parts, piece.kind)))
            else:
                self.joined(scan, group, column, agg.by_account)
            owner[column] = group
            if names[group.name] is not None:
                names[group.name] = None if agg.names is None else names[group.name] | set(agg.names)
        for i, (agg, column) in enumerate(self.aggregates.items()):
            alias = self.alias(agg, column)
            old = f"{self.q(alias + '_' + agg.source)}.{self.q(column)}"
            new = "aa" if owner[column].account else alias  # a pooled group's values are per account (`__aa_`)
            base[i] = (base[i][0], base[i][1].replace(old, f"{self.q(new + '_' + owner[column].name)}.{self.q(column)}"))
        spelled = {g: None if n is None else ", ".join(self.d.literal(x) for x in sorted(n)) for g, n in names.items()}
        return list(groups.values()), spelled

    def decayed_pool(self, group: EventScan, piece: Piece) -> str:
        """A decayed `by account` aggregate per account and point, from per-(account, interval) partials holding the
        sum of the weights at each point holding the interval (the i-th holder's, as `__ipN`), the point picking its
        own by its place among the holders (`"cv"."__r"`)."""
        from leadlang.interpret.aggregates import micros  # the interpreter's whole microseconds, as `epoch_us` in SQL

        q, holders = self.q, group.intervals.holders.items()
        parts = []
        for i in range(max(len(held) for _, held in holders)):
            at_point = " ".join(f"WHEN {j} THEN {micros(self.series[held[i]])}" for j, held in holders if len(held) > i)
            age = f"(CASE {q('__iv')} {at_point} END - {self.d.epoch_us(q(AT))})"
            parts.append(f"WHEN {i} THEN {group.piece(piece.rollup.partials[0](self.d, piece.decayed(age)), q)}")
        return piece.rollup.total(self.d, [f"CASE {q('cv')}.{q('__r')} {' '.join(parts)} END"], piece.kind)

    def distinct_days(self, group: EventScan, cond: str) -> str:
        """The distinct UTC dates of the events meeting `cond` in each point's window, from `day_intervals` [start,
        end), one row per date first (`day_flags`): an interval's dates (role 0); the first interval's dates but
        for the instant of the window's start, outside it (role 1); the date of the point itself if an event is
        at that instant, in the interval starting there (role 2)."""
        d, q = self.d, self.q
        at = q(AT)
        starts = [(j, start) for j, start, _, _ in group.intervals.rows if j]  # interval 0, unbounded, has no start
        start = f"CASE {q('__iv')} {' '.join(f'WHEN {j} THEN {s}' for j, s in starts)} END"
        flags = [q(_column(group.day_flags, group.day_flags, f"MAX(CASE WHEN {test} THEN 1 ELSE 0 END)", "__day"))
                 for test in (cond, f"{cond} AND {at} <> {start}", f"{cond} AND {at} = {start}")]
        any_day, later, at_start = (group.piece(f"{'MAX' if i == 2 else 'SUM'}({f})", q) for i, f in enumerate(flags))
        merged = f"SUM(CASE {q('cv')}.{q('__r')} WHEN 0 THEN {any_day} WHEN 1 THEN {later} WHEN 2 THEN {at_start} END)"
        return f"CAST({merged} AS {d.type_name('int')})"

    def joined(self, scan: EventScan, group: EventScan, column: str, by_account: bool) -> None:
        """Aggregate `column` of `scan` in `group`, a series' scan of the events joined to the points."""
        rolled = dict(scan.rolled).get(column)
        if rolled is not None:  # `by account` from per-lead partials: the partials it reads go with it
            for part, sql in scan.by_lead + scan.partials:
                ref = f"{self.q('ag_' + scan.name)}.{self.q(part)}"
                if ref in rolled:
                    if all(c != part for c, _ in group.by_lead + group.partials):
                        group.partials.append((part, sql))
                    rolled = rolled.replace(ref, f"{self.q('ag_' + group.name)}.{self.q(part)}")
            group.rolled.append((column, rolled))
        else:
            part = "by_account" if by_account else "by_lead"
            if part == "by_lead" and any(c == column for c, _ in group.partials):  # a partial that is also the lead's own
                group.partials = [(c, sql) for c, sql in group.partials if c != column]
            getattr(group, part).append((column, dict(getattr(scan, part))[column]))

    def source_column(self, f: A.Field) -> str:
        """A declared column as the policy reads it. A value outside an `enum(...)` is missing, so
        every expression applies the missing-value rules to it (language.md §4; `interpret.enums`)."""
        if f.type.name != "enum":
            return self.d.cast(self.q(f.name), f.type.name)
        text = self.d.cast(self.q(f.name), "string")
        return f"CASE WHEN {text} IN ({', '.join(self.d.literal(v) for v in f.type.values)}) THEN {text} END"

    # ---------------------------------------------------------------- steps --
    def steps(self) -> None:
        p = self.p
        for step in p.steps:
            if step.kind == "signal":
                sig = p.signals[step.name]
                self.put(step.name, self.expr(sig.expr), self.reads(sig.expr))
            elif step.kind == "score":
                self.score(p.scores[step.name])
            elif step.kind == "band":
                self.band(p.bands[step.name])
            elif step.kind == "criteria":
                self.criteria(p.criteria[step.name])
            elif step.kind == "disqualify":
                self.disqualify()
            elif step.kind == "classification":
                self.classification(p.classifications[step.name])
        for target, actions in p.actions.items():
            keys = list(dict.fromkeys(s.key for a in actions.actions for s in a.settings))
            for key in keys:
                whens = " ".join(
                    f"WHEN {self.d.literal(a.label)} THEN {self.d.literal(s.value.value)}"
                    for a in actions.actions for s in a.settings if s.key == key
                )
                self.put(key, f"CASE {self.c(target)} {whens} END", [target])

    def clamp_round(self, total: str, clamp: A.Clamp | None) -> str:
        value = f"CAST({total} AS {self.d.numeric})"
        if clamp is not None:
            value = f"LEAST(GREATEST({value}, {self.d.operand(clamp.low)}), {self.d.operand(clamp.high)})"
        return f"CAST(ROUND({value}, 2) AS {self.d.score})"

    def score(self, sc) -> None:
        if isinstance(sc, A.DerivedScore):
            total = f"COALESCE(CAST({self.expr(sc.expr)} AS {self.d.numeric}), 0)"
            self.put(sc.name, self.clamp_round(total, sc.clamp), self.reads(sc.expr))
            return
        rule_columns = []
        for r in sc.rules:
            column = f"__rule.{sc.name}.{r.id}"
            points = self.d.operand(r.points)
            double = self.d.double
            if r.kind == "when":
                cond = self.expr(r.expr)
                sql = f"CASE WHEN {cond} THEN {points} ELSE 0 END"
                value = f"CAST(CASE WHEN {cond} THEN 1 ELSE 0 END AS {double})"
            else:
                expr = self.expr(r.expr)
                whole = self.d.exact_int_product and self.kind(r.expr) == "int"
                product = f"COALESCE({points} * {expr if whole else f'CAST({expr} AS {self.d.numeric})'}, 0)"
                if r.cap is not None:
                    cap = self.d.operand(r.cap)
                    product = f"LEAST(GREATEST({product}, -{cap}), {cap})"
                sql = f"CAST({product} AS {self.d.numeric})"
                value = (f"CAST({self.c(column)} AS {double}) / CAST({points} AS {double})" if r.points
                         else f"CAST(COALESCE(CAST({expr} AS {self.d.numeric}), 0) AS {double})")
            self.put(column, sql, self.reads(r.expr))
            self.rule_values.append((sc.name, r.id, f"CAST({self.c(column)} AS {double})", value))
            rule_columns.append(column)
        total = balanced("+", [self.c(c) for c in rule_columns], "0")
        self.put(sc.name, self.clamp_round(total, sc.clamp), rule_columns)

    def band(self, b: A.Bands) -> None:
        whens = " ".join(f"WHEN {self.c(b.score)} >= {self.d.operand(x.threshold)} THEN {self.d.literal(x.label)}" for x in b.bands if x.threshold is not None)
        self.put(self.p.band_column(b.score), f"CASE {whens} ELSE {self.d.literal(b.bands[-1].label)} END", [b.score])

    def criteria(self, cr: A.Criteria) -> None:
        members = []
        for m in cr.members:
            column = f"__member.{cr.name}.{m.id}"
            self.put(column, f"COALESCE({self.expr(m.cond)}, FALSE)", self.reads(m.cond))
            members.append(column)
        met = balanced("+", [f"CASE WHEN {self.c(c)} THEN 1 ELSE 0 END" for c in members], "0")
        met_column = self.p.met_column(cr.name)
        self.put(met_column, met, members)
        need = len(cr.members) if cr.required is None else cr.required
        self.put(cr.name, f"({self.c(met_column)} >= {need})", [met_column])

    def disqualify(self) -> None:
        gates = []
        for g in self.p.gates:
            column = f"__gate.{g.id}"
            self.put(column, f"COALESCE({self.expr(g.cond)}, FALSE)", self.reads(g.cond))
            gates.append((g.id, column))
        any_gate = balanced("OR", [self.c(c) for _, c in gates], "FALSE")
        self.put("disqualified", any_gate, [c for _, c in gates])
        whens = " ".join(f"WHEN {self.c(c)} THEN {self.d.literal(gid)}" for gid, c in gates)
        self.put("disqualify_reason", f"CASE {whens} END" if gates else f"CAST(NULL AS {self.d.string})", [c for _, c in gates])

    def classification(self, c) -> None:
        lit = self.d.literal
        if isinstance(c, A.Matrix):
            rows_band, cols_band = self.p.band_column(c.rows_score), self.p.band_column(c.cols_score)
            rb, cb = self.c(rows_band), self.c(cols_band)
            whens = " ".join(
                f"WHEN {rb} = {lit(row.band)} AND {cb} = {lit(col)} THEN {lit(cell)}"
                for row in c.rows for col, cell in zip(c.columns, row.cells)
            )
            sql = f"CASE WHEN {self.c('disqualified')} THEN {lit('disqualified')} {whens} END"
            self.put(c.name, sql, [rows_band, cols_band, "disqualified"])
            return
        whens = " ".join(f"WHEN {self.expr(b.cond)} THEN {lit(b.label)}" for b in c.branches)
        reads = [r for b in c.branches for r in self.reads(b.cond)]
        self.put(c.name, f"CASE {whens} ELSE {lit(c.otherwise)} END" if whens else lit(c.otherwise), reads)

    # -------------------------------------------------------------- outputs --
    def outputs(self) -> list[tuple[str, str]]:
        out = []
        for o in self.p.outputs:
            if o.role == "key":
                out.append((o.name, self.q(KEY)))
            elif o.role == "policy":
                out.append((o.name, self.d.literal(self.p.label)))
            elif o.role == "as_of":
                out.append((o.name, self.q(AS_OF)))
            else:
                out.append((o.name, self.c(o.name)))
        return out

    def explain_rows(self) -> list[tuple[str, str, str, str, str]]:
        rows = []
        for step in self.p.steps:
            if step.kind == "score" and isinstance(self.p.scores[step.name], A.PointsScore):
                for r in self.p.scores[step.name].rules:
                    col = self.c(f"__rule.{step.name}.{r.id}")
                    rows.append((step.name, "rule", r.id, f"{col} <> 0", f"CAST(ROUND({col}, 2) AS {self.d.score})"))
            elif step.kind == "criteria":
                for m in self.p.criteria[step.name].members:
                    rows.append((step.name, "member", m.id, self.c(f"__member.{step.name}.{m.id}"), f"CAST(NULL AS {self.d.score})"))
            elif step.kind == "disqualify":
                for g in self.p.gates:
                    rows.append(("disqualify", "gate", g.id, self.c(f"__gate.{g.id}"), f"CAST(NULL AS {self.d.score})"))
        return rows

    # ----------------------------------------------------------- expressions --
    def reads(self, e: A.Expr) -> list[str]:
        """The columns an expression reads, for placing it in a layer."""
        out: list[str] = []
        stack = [e]
        while stack:
            n = stack.pop()
            if isinstance(n, A.Name):
                out.append(n.name)
            elif isinstance(n, A.Attr):
                out.append(f"__member.{n.base}.{n.attr}")
            elif isinstance(n, A.Disqualified):
                out.append("disqualified")
            elif isinstance(n, A.IsLabel):
                out.append(self.p.ref(n).column)
                continue
            elif isinstance(n, A.Aggregate):
                continue  # aggregates are base columns
            stack.extend(A.children(n))
        return out

    def kind(self, e: A.Expr) -> str:
        return self.p.type_of(e).kind

    def expr(self, e: A.Expr, event: A.Events | None = None) -> str:
        d, lit = self.d, self.d.literal
        if isinstance(e, A.Literal):
            return lit(e.value)
        if isinstance(e, A.ListLit):
            return "(" + ", ".join(lit(i.value) for i in e.items) + ")"
        if isinstance(e, A.Name):
            if event is not None and e.name in self.p.event_types.get(event.name, {}):
                return self.q(e.name)
            if e.name in self.p.let_values:
                value = self.p.let_values[e.name]
                return "(" + ", ".join(lit(v) for v in value) + ")" if isinstance(value, tuple) else lit(value)
            if e.name == self.p.leads.key:
                return self.q(KEY)
            if e.name == self.p.leads.account:
                return self.q(ACCOUNT)
            return self.c(e.name)
        if isinstance(e, A.Attr):
            if e.base in self.p.criteria and any(m.id == e.attr for m in self.p.criteria[e.base].members):
                return self.c(f"__member.{e.base}.{e.attr}")
            return self.c(f"account.{e.attr}")
        if isinstance(e, A.Disqualified):
            return self.c("disqualified")
        if isinstance(e, A.Unary):
            inner = self.expr(e.operand, event)
            return f"(NOT {inner})" if e.op == "not" else f"(-{inner})"
        if isinstance(e, A.Binary):
            return self.binary(e, event)
        if isinstance(e, A.InList):
            items = self.expr(e.items, event)
            return f"({self.expr(e.operand, event)} {'NOT IN' if e.negated else 'IN'} {items})"
        if isinstance(e, A.Between):
            nodes = [e.operand, e.low, e.high]
            x, lo, hi = self.unify(nodes, [self.operand(n, event) for n in nodes])
            return f"({x} BETWEEN {lo} AND {hi})"
        if isinstance(e, A.TextTest):
            text, arg = self.expr(e.operand, event), self.expr(e.arg, event)
            if e.op == "contains_any":
                values = self.p.let_values.get(e.arg.name) if isinstance(e.arg, A.Name) else tuple(i.value for i in e.arg.items)
                return balanced("OR", [d.call("contains", [text, lit(v)]) for v in values], "FALSE")
            test = d.call(e.op, [text, arg])  # contains, starts_with, ends_with, matches
            return test if event is not None else self.once_per_lead(e, test)
        if isinstance(e, A.IsMissing):
            return f"({self.expr(e.operand, event)} IS {'NOT ' if e.negated else ''}NULL)"
        if isinstance(e, A.IsLabel):
            return f"({self.c(self.p.ref(e).column)} {'<>' if e.negated else '='} {lit(e.label)})"
        if isinstance(e, A.Call):
            return self.call(e, event)
        if isinstance(e, A.Aggregate):
            return self.c(aggregate(self, e))
        raise AssertionError(type(e).__name__)

    def binary(self, e: A.Binary, event) -> str:
        op = e.op
        if op in ("and", "or"):
            return balanced(op.upper(), [self.expr(t, event) for t in _chain_terms(e)], "")
        typed = op in ("=", "!=", "<", "<=", ">", ">=") or (op == "*" and self.kind(e) == "number")  # the result's type is fixed
        left, right = (self.operand(x, event) if typed else self.expr(x, event) for x in (e.left, e.right))
        if op in ("=", "!=", "<", "<=", ">", ">="):
            left, right = self.unify([e.left, e.right], [left, right])
            return f"({left} {'<>' if op == '!=' else op} {right})"
        if op == "/":
            return self.d.divide(left, right)
        result = f"({left} {op} {right})"
        if op == "*" and self.kind(e) == "number":
            return f"CAST({result} AS {self.d.numeric})"  # keeps the scale from growing with each product
        return result

    def operand(self, e: A.Expr, event) -> str:
        """`expr`, a number literal spelled as `Dialect.operand` (the caller fixes the result's type)."""
        if isinstance(e, A.Literal):
            return self.d.operand(e.value)
        return self.expr(e, event)

    def call(self, e: A.Call, event) -> str:
        """A built-in function (leadlang/builtins.py): temporal arguments as timestamps, the arguments
        of a common type unified, then the function's SQL or the dialect's spelling of it."""
        fn = BUILTINS[e.func]
        args = [self.expr(a, event) for a in e.args]
        if fn.takes is None:
            args = self.unify(e.args, args)
        elif fn.takes is TEMPORAL:
            args = [self.d.date_to_timestamp(s) if self.kind(a) == "date" else s for s, a in zip(args, e.args)]
        if fn.sql is None:
            return self.d.call(fn.name, args)
        return fn.sql(self.d, args, self.q(AS_OF))

    def unify(self, nodes, sqls: list[str]) -> list[str]:
        """Arguments of one function share a type: dates among timestamps become midnight UTC."""
        kinds = [self.kind(n) for n in nodes]
        if "timestamp" in kinds and "date" in kinds:
            return [self.d.date_to_timestamp(s) if k == "date" else s for s, k in zip(sqls, kinds)]
        return sqls
