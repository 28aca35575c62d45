"""`leadlang changes`: the leads whose labels differ between two as-of times, for a router or reverse-ETL job.

One DuckDB connection does it all: the data files are checked and registered once
(`staging.register_dataset`), the policy's `score` statement runs at `since` and at
`as_of` over them (`diff.scoring.run_side`), the two are joined by key in DuckDB, and
the moved leads alone are explained at both times (`diff.scoring.explain_moved`) to
name the rules, gates and members whose firing or points changed
(`diff.scoring.rules_changed`) — `leadlang diff` compares two policies at one time
with the same helpers, `changes` one policy at two times.

`changes()` returns the JSON form (the stable interface, docs/history.md#changes);
`feed_columns` / `feed_rows` are its CSV/JSONL/Parquet rows, one per changed lead;
`render_markdown` is the ticket.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError
from leadlang.history.series import label_columns

SCHEMA = "leadlang.changes/1"  # the JSON form's name and version: a field added keeps it, a field changed or removed bumps it
PREVIOUS = "previous_"  # the feed's column of a label's value at `since`: previous_<label>


def stamp(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def changes(policy: Policy, spec: str, data: Path, since: dt.datetime, as_of: dt.datetime) -> dict:
    """The leads of `data` whose labels under `policy` differ between `since` and `as_of`, as the JSON form.

    `spec` names the policy in error lines (as on the command line). Raises `DataError` for a
    `since` after `as_of`, a missing data directory or a bad file (one line, as `score` says it).
    """
    import duckdb

    from leadlang.check.timerange import check_as_of
    from leadlang.data.staging import register_dataset
    from leadlang.diff.scoring import explain_moved, narrow, plan_side, rules_changed, run_side
    from leadlang.diff.sides import Side
    from leadlang.progress import step
    from leadlang.sql import DIALECTS

    if since > as_of:
        raise DataError(f"--since {stamp(since)} is after --as-of {stamp(as_of)}; changes compares an earlier time with a later one")
    if not data.is_dir():
        raise DataError(f"{data}: no such data directory")
    for t in (since, as_of):
        check_as_of(policy, t)
    labels = label_columns(policy)
    actions = [o for o in policy.outputs if o.role == "action"]
    _no_clash(policy, labels, actions)
    q = DIALECTS["duckdb"].ident
    sides = {"old": Side(f"{spec} as of {stamp(since)}", policy), "new": Side(f"{spec} as of {stamp(as_of)}", policy)}
    times = {"old": since, "new": as_of}
    con = duckdb.connect()
    try:
        with step(f"checking the data files in {data}"):
            con.execute("SET TimeZone = 'UTC'")
            tables = register_dataset(con, policy, data)
        for name, side in sides.items():
            with step(f"scoring with {policy.label} as of {stamp(times[name])}"):
                plan = plan_side(side, tables, times[name])
                run_side(con, side, "score", narrow(plan, policy) if name == "old" else plan, data, times[name], f"{name}_rows")
        k = q(policy.key)
        select = ["o." + k + " AS key"]
        select += [f"o.{q(c)} AS o{i}, n.{q(c)} AS n{i}" for i, c in enumerate(labels)]
        select += [f"n.{q(a.name)} AS a{j}" for j, a in enumerate(actions)]
        moved = " OR ".join(f"o{i} IS DISTINCT FROM n{i}" for i in range(len(labels))) or "false"
        with step("comparing the labels"):
            con.execute(f"CREATE TEMP TABLE leads AS SELECT {', '.join(select)} FROM old_rows o JOIN new_rows n ON o.{k} = n.{k}")
            total = con.execute("SELECT count(*) FROM leads").fetchall()[0][0]
            con.execute(f"CREATE TEMP TABLE moved AS SELECT * FROM leads WHERE {moved}")
            cells = con.execute(" UNION ALL ".join(
                f"SELECT {i} AS i, o{i}::VARCHAR, n{i}::VARCHAR, count(*) FROM moved WHERE o{i} IS DISTINCT FROM n{i} GROUP BY ALL"
                for i in range(len(labels))) or "SELECT 0, '', '', 0 WHERE false").fetchall()
        for name, side in sides.items():
            with step(f"explaining the moved leads as of {stamp(times[name])}"):
                explain_moved(con, side, name, tables, data, times[name])
        with step("finding the rules that moved each lead"):
            rows = con.execute(f"WITH rules AS ({rules_changed(policy.key, policy.key)}) "
                               "SELECT m.*, coalesce(r.rules, []) AS rules FROM moved m LEFT JOIN rules r USING (key) ORDER BY key").fetchall()
            names = [d[0] for d in con.description]
    finally:
        con.close()

    kinds = {o.name: o.kind for o in policy.outputs}
    transitions: dict[str, list[dict]] = {c: [] for c in labels}
    for i, a, b, count in sorted(cells, key=lambda x: (x[0], -x[3], str(x[1]), str(x[2]))):
        back = (lambda v: None if v is None else v == "true") if kinds[labels[i]] == "bool" else (lambda v: v)
        transitions[labels[i]].append({"from": back(a), "to": back(b), "count": count})
    leads = []
    for row in rows:
        r = dict(zip(names, row))
        leads.append({
            "key": r["key"],
            "changes": {c: {"old": r[f"o{i}"], "new": r[f"n{i}"]} for i, c in enumerate(labels) if r[f"o{i}"] != r[f"n{i}"]},
            "labels": {c: r[f"n{i}"] for i, c in enumerate(labels)},
            "actions": {a.name: json_value(r[f"a{j}"]) for j, a in enumerate(actions)},
            "rules": list(r["rules"]),
        })
    return {
        "schema": SCHEMA, "policy": policy.label, "key": policy.key, "since": stamp(since), "as_of": stamp(as_of),
        "leads": total, "changed_count": len(leads), "labels": labels, "actions": [a.name for a in actions],
        "transitions": transitions, "changed": leads,
    }


def json_value(v):
    """A value for JSON: a decimal as an int when whole, else a float (`diff`'s numbers); the rest as is."""
    from leadlang.diff.compare import _num

    return _num(v) if isinstance(v, Decimal) else v


def _no_clash(policy: Policy, labels: list[str], actions: list) -> None:
    """The feed's columns are the key, `since`, `as_of`, `changed`, previous_<label> and <label>, the actions and `rules`: each once."""
    names = feed_columns(policy, labels, actions)
    seen: set[str] = set()
    for name, _ in names:
        if name in seen:
            raise DataError(f"the changes feed of {policy.label} would have two columns named `{name}`; rename the output column that clashes")
        seen.add(name)


def feed_columns(policy: Policy, labels: list[str] | None = None, actions: list | None = None) -> list[tuple[str, str]]:
    """The feed's columns and their types, in order (docs/history.md#changes)."""
    labels = label_columns(policy) if labels is None else labels
    actions = [o for o in policy.outputs if o.role == "action"] if actions is None else actions
    kinds = {o.name: o.kind for o in policy.outputs}
    cols = [(policy.key, "string"), ("since", "timestamp"), ("as_of", "timestamp"), ("changed", "string")]
    for c in labels:
        cols += [(PREVIOUS + c, kinds[c]), (c, kinds[c])]
    cols += [(a.name, a.kind) for a in actions]
    return cols + [("rules", "string")]


def feed_rows(result: dict, policy: Policy) -> list[dict]:
    """The JSON form's changed leads as the feed's rows (`feed_columns`): lists joined with `;`."""
    since, as_of = (dt.datetime.fromisoformat(result[t].replace("Z", "+00:00")) for t in ("since", "as_of"))
    out = []
    for lead in result["changed"]:
        row = {policy.key: lead["key"], "since": since, "as_of": as_of, "changed": ";".join(lead["changes"])}
        for c in result["labels"]:
            old = lead["changes"][c]["old"] if c in lead["changes"] else lead["labels"][c]
            row[PREVIOUS + c], row[c] = old, lead["labels"][c]
        row.update(lead["actions"])
        row["rules"] = ";".join(lead["rules"])
        out.append(row)
    return out


def render_markdown(result: dict) -> str:
    """The changes as a ticket: the summary per label, then one table row per changed lead."""
    from leadlang.diff.render import _md, _table

    show = lambda v: "(missing)" if v is None else "true" if v is True else "false" if v is False else str(v)  # noqa: E731
    n, total = result["changed_count"], result["leads"]
    out = ["### leadlang changes", "",
           f"{_md(result['policy'])}: {n} of {total} leads changed labels between {result['since']} and {result['as_of']}.", ""]
    moves = [[c, str(sum(t["count"] for t in ts)), ", ".join(f"{show(t['from'])} → {show(t['to'])} {t['count']}" for t in ts)]
             for c, ts in result["transitions"].items() if ts]
    if moves:
        out += _table([["label", "leads changed", "transitions"], *moves], right=1)
    if result["changed"]:
        rows = [["lead", "changes", "actions", "rules whose firing changed"]]
        for lead in result["changed"]:
            rows.append([str(lead["key"]),
                         ", ".join(f"{c} {show(ch['old'])} → {show(ch['new'])}" for c, ch in lead["changes"].items()),
                         ", ".join(f"{k} {show(v)}" for k, v in lead["actions"].items() if v is not None) or "—",
                         ", ".join(lead["rules"]) or "—"])
        out += ["", *_table(rows, right=0)]
    return "\n".join(out) + "\n"
