"""The comparison: both policies scored over the same leads, and every figure of the diff as SQL over them."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.diff import scoring
from leadlang.diff.merge import Merged, in_two, merge
from leadlang.diff.sides import Side

QUARTILES = (("q1", 0.25), ("median", 0.5), ("q3", 0.75))


def outputs_of(policy: Policy) -> list[str]:
    """The labelled outputs a diff compares: bands (`<score>_band`) and classifications, in column order."""
    return [o.name for o in policy.outputs if o.role in ("band", "classification")]


def _labels(policy: Policy, output: str) -> tuple[str, ...]:
    o = policy.output(output)
    return o.labels or policy.labels.get(o.source if o.role == "band" else output, ())


def diff(old: Side, new: Side, data: Path, as_of: dt.datetime, limit: int | None = None) -> dict:
    """The outcome diff of OLD -> NEW over every lead of `data`; `limit` caps the `moved` list.

    One DuckDB connection does it all: each data file is checked and registered
    once for both policies (`register_both`), one plan of both policies'
    plans merged (`merge`) scores every lead with both into the temp table
    `leads`, with the rules whose firing changed where a label moved, and the
    comparison is SQL over it. Each policy runs whole when they cannot share one
    statement (different leads or accounts, or the statement failed: the error
    is then the one that policy's scoring gives).
    """
    import duckdb

    from leadlang.check.timerange import check_as_of
    from leadlang.progress import step
    from leadlang.sql import DIALECTS

    if not data.is_dir():
        raise DataError(f"{data}: no such data directory")
    o, n = old.policy, new.policy
    if o.key != n.key:
        raise DataError(f"the policies key leads by different columns (`{o.key}` in {old.spec}, `{n.key}` in {new.spec}); a diff matches leads by one key")
    sides = {"old": old, "new": new}
    for side in sides.values():
        try:
            check_as_of(side.policy, as_of)
        except DataError as err:
            raise DataError(f"{side.spec}: {err}") from None

    q = DIALECTS["duckdb"].ident
    outputs = outputs_of(n) + [x for x in outputs_of(o) if x not in outputs_of(n)]
    scores = list(n.scores) + [s for s in o.scores if s not in n.scores]
    has = {"old": set(outputs_of(o)), "new": set(outputs_of(n))}
    scored_by = {"old": set(o.scores), "new": set(n.scores)}

    def col(side: str, name: str, present: set[str], cast: str) -> str:
        """The side's column, or NULL where that policy has no such output."""
        return f"{side[0]}.{q(name)}" if name in present else f"NULL::{cast}"

    both = [i for i, out in enumerate(outputs) if out in has["old"] and out in has["new"]]
    changed = " OR ".join(f"o{i} IS DISTINCT FROM n{i}" for i in both) or "false"
    order = f"ORDER BY key {'' if limit is None else f'LIMIT {int(limit)}'}"
    con = duckdb.connect()
    try:
        with step(f"checking the data files in {data}"):
            tables = scoring.register_both(con, old, new, data)
        plans = {name: scoring.narrow(scoring.plan_side(side, tables[name], as_of), side.policy) for name, side in sides.items()}
        one = merge(plans)
        if one is not None:
            with step("scoring the leads with both policies at once"):
                one = _run_merged(con, one, outputs, scores, has, scored_by, plans["old"].policy.key)
        if one is None:  # different leads, or a query error: each policy scored whole (and an error named for its policy)
            for name, side in sides.items():
                with step(f"scoring with {side.spec} on DuckDB"):
                    scoring.run_side(con, side, "score", plans[name], data, as_of, f"{name}_rows")
            select = [f"coalesce(o.{q(o.key)}, n.{q(n.key)}) AS key"]
            for i, out in enumerate(outputs):
                select += [f"{col('old', out, has['old'], 'VARCHAR')} AS o{i}", f"{col('new', out, has['new'], 'VARCHAR')} AS n{i}"]
            for j, sc in enumerate(scores):
                select += [f"{col(s, sc, scored_by[s], 'DECIMAL(38, 2)')} AS {s[0]}s{j}" for s in ("old", "new")]
            con.execute(f"CREATE TEMP TABLE leads AS SELECT {', '.join(select)} "
                        f"FROM old_rows o FULL JOIN new_rows n ON o.{q(o.key)} = n.{q(n.key)}")
        with step("comparing the two policies' outcomes"):
            total = con.execute("SELECT count(*) FROM leads").fetchall()[0][0]
            cells = con.execute(" UNION ALL ".join(f"SELECT {i} AS i, o{i} AS a, n{i} AS b, count(*) AS c FROM leads GROUP BY ALL" for i in range(len(outputs))) or "SELECT 0, '', '', 0 WHERE false").fetchall()
            stats = _score_stats(con, scores, scored_by) if scores else {}
            picked = ", ".join(["key", *(f"{s}{i}" for i in range(len(outputs)) for s in "on")])
            if one is not None:  # the rules whose firing changed, computed with the scores
                moved_count = con.execute(f"SELECT count(*) FROM leads WHERE {changed}").fetchall()[0][0]
                rows = con.execute(f"SELECT {picked}, coalesce({RULES}, []) AS rules FROM leads WHERE {changed} {order}").fetchall()
                names = [d[0] for d in con.description]
            else:
                con.execute(f"CREATE TEMP TABLE moved AS SELECT {picked} FROM leads WHERE {changed}")
                moved_count = con.execute("SELECT count(*) FROM moved").fetchall()[0][0]
        if one is None:
            # the explanation rows, of the moved leads only: the rules whose firing changed for them
            for name, side in sides.items():
                with step(f"explaining the {moved_count} moved leads with {side.spec}"):
                    scoring.explain_moved(con, side, name, tables[name], data, as_of)
            with step("finding the rules that moved each lead"):
                rows = con.execute(f"WITH rules AS ({scoring.rules_changed(o.key, n.key)}) "
                                   f"SELECT m.*, coalesce(r.rules, []) AS rules FROM moved m LEFT JOIN rules r USING (key) {order}").fetchall()
                names = [d[0] for d in con.description]
    finally:
        con.close()

    result = {
        "old": {"policy": old.spec, "label": o.label},
        "new": {"policy": new.spec, "label": n.label},
        "as_of": as_of.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "leads": total,
        "moved_count": moved_count,
        "outputs": {},
        "scores": stats,
        "moved": [],
    }
    for i, out in enumerate(outputs):
        before = dict.fromkeys(_labels(o, out), 0) if out in has["old"] else {}
        after = dict.fromkeys(_labels(n, out), 0) if out in has["new"] else {}
        pairs = {(a, b): c for k, a, b, c in cells if k == i}
        for (a, b), c in pairs.items():
            if a is not None:
                before[a] = before.get(a, 0) + c
            if b is not None:
                after[b] = after.get(b, 0) + c
        rank_a = {label: r for r, label in enumerate(before)}
        rank_b = {label: r for r, label in enumerate(after)}
        order = sorted(pairs, key=lambda p: (p[0] is not None, rank_a.get(p[0], -1), p[1] is not None, rank_b.get(p[1], -1)))
        result["outputs"][out] = {
            "in": [s for s in ("old", "new") if out in has[s]],
            "before": before,
            "after": after,
            "changed": sum(c for (a, b), c in pairs.items() if a != b) if i in both else 0,
            "transitions": [{"from": a, "to": b, "count": pairs[(a, b)]} for a, b in order],
        }
    for row in rows:
        r = dict(zip(names, row))
        changes = {outputs[i]: [r[f"o{i}"], r[f"n{i}"]] for i in both if r[f"o{i}"] != r[f"n{i}"]}
        result["moved"].append({"key": r["key"], "changes": changes, "rules": list(r["rules"])})
    return result


RULES = '"__rules"'  # the column of the rules whose firing changed for a moved lead (NULL for the others)


def _run_merged(con, one: Merged, outputs: list[str], scores: list[str], has: dict, scored_by: dict, key: str) -> Merged | None:
    """`CREATE TEMP TABLE leads` from the merged plan (`merge`, in two statements: `in_two`): per lead its key, each labelled output
    (`o0`, `n0`, ...) and score (`os0`, `ns0`, ...) before and after, every other output either side
    keeps (so a value out of range fails here as it would scoring), and `__rules`. None when the
    statement fails: the caller then scores each policy whole, which names the policy and the reason."""
    import duckdb

    from leadlang.interrupt import reraise
    from leadlang.sql import render

    d = one.plan.dialect
    side = lambda s, name, cast: one.outputs[s].get(name) if name in (has if cast == "VARCHAR" else scored_by)[s] else f"CAST(NULL AS {cast})"
    cols = [("key", one.outputs["old"][key])]
    for i, out in enumerate(outputs):
        cols += [(f"o{i}", side("old", out, "VARCHAR")), (f"n{i}", side("new", out, "VARCHAR"))]
    for j, sc in enumerate(scores):
        cols += [(f"os{j}", side("old", sc, "DECIMAL(38, 2)")), (f"ns{j}", side("new", sc, "DECIMAL(38, 2)"))]
    seen = {sql for _, sql in cols}
    for s in ("old", "new"):
        for sql in one.outputs[s].values():
            if sql not in seen:
                seen.add(sql)
                cols.append((f"__keep{len(cols)}", sql))
    terms = []
    for c, k, r in dict.fromkeys([*one.explain["old"], *one.explain["new"]]):
        a, b = one.explain["old"].get((c, k, r)), one.explain["new"].get((c, k, r))
        if a == b:
            continue  # the same SQL on both sides: it fires alike for every lead
        fired = lambda x: f"COALESCE({x[0]}, FALSE)"
        if a and b:
            cond = f"CASE WHEN {fired(a)} <> {fired(b)} THEN TRUE WHEN {fired(a)} THEN ({a[1]}) IS DISTINCT FROM ({b[1]}) ELSE FALSE END"
        else:
            cond = fired(a or b)
        terms.append(f"CASE WHEN {cond} THEN {d.literal(c + '.' + r)} END")
    moved = " OR ".join(f"({one.outputs['old'][out]}) IS DISTINCT FROM ({one.outputs['new'][out]})"
                        for out in outputs if out in has["old"] and out in has["new"])
    if terms and moved:
        cols.append((RULES[1:-1], f"CASE WHEN {moved} THEN list_sort(list_distinct([{', '.join(terms)}])) END"))
    else:
        cols.append((RULES[1:-1], "CAST(NULL AS VARCHAR[])"))
    aggs, view, values = in_two(replace(one.plan, outputs=cols), "__diff_aggs", "__diff_leads")
    try:
        con.execute(f"CREATE TEMP TABLE __diff_aggs AS {render(aggs)}")
        con.execute(f"CREATE TEMP VIEW __diff_leads AS {view}")
        con.execute(f"CREATE TEMP TABLE leads AS {render(values)}")
    except (duckdb.Error, RuntimeError) as err:
        reraise(err)  # Ctrl-C; anything else: each policy scored whole says which and why
        con.execute("DROP TABLE IF EXISTS leads")
        return None
    return one


def _score_stats(con, scores: list[str], has: dict) -> dict:
    """Mean and quartiles of each score before and after; None for a side without the score."""
    parts = []
    for j in range(len(scores)):
        for side in ("o", "n"):
            c = f"{side}s{j}"
            parts.append(f"sum({c}), count({c}), quantile_cont({c}::DECIMAL(38, 4), [0.25, 0.5, 0.75])")
    row = con.execute(f"SELECT {', '.join(parts)} FROM leads").fetchall()[0]
    out = {}
    for j, sc in enumerate(scores):
        entry = {}
        for k, (side, present) in enumerate((("before", "old"), ("after", "new"))):
            total, count, quarts = row[6 * j + 3 * k: 6 * j + 3 * k + 3]
            if sc not in has[present] or not count:
                entry[side] = None
                continue
            mean = (Decimal(total) / count).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
            entry[side] = {"mean": _num(mean), **{name: _num(v) for (name, _), v in zip(QUARTILES, quarts)}}
        out[sc] = entry
    return out


def _num(d: Decimal) -> int | float:
    d = Decimal(d).normalize()
    return int(d) if d == d.to_integral_value() else float(d)
