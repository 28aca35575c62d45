"""`leadlang explain --history`: one lead's timeline — at each as-of point where a label changed, what
moved it: the rules, gates and members that fired or stopped firing, and the points that changed.

The lead's rows are read once (`data.one_lead.load_lead`, as `explain` reads them) and the interpreter
scores them at each point of the series (`evaluate`, by the definition: `score --as-of t` for that lead).
`timeline()` gives the JSON form (docs/history.md#timeline); `render_text` shows it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Callable

from leadlang.check.policy import Policy
from leadlang.history.feed import json_value, stamp

SCHEMA = "leadlang.timeline/1"  # the JSON form's name and version, as `changes`'


def _firing(state) -> dict[str, tuple[str, object]]:
    """What fired for the lead: `component.rule` -> (kind, points), in the interpreter's order."""
    return {f"{e['component']}.{e['rule']}": (e["kind"], e["points"]) for e in state.explain}


def timeline(policy: Policy, rows, key: str, when: list[dt.datetime]) -> dict:
    """The timeline of lead `key` over the as-of points `when` (ascending), from its rows (`load_lead`'s `Dataset`).

    `start` is the lead at the first point; `changes` has one entry per later point where a label column
    (`history.label_columns`) differs from the point before: the labels and scores that changed, the rules
    (gates, members) that `fired` there and not before, that `stopped` firing, and those whose points
    changed (`repointed`)."""
    from leadlang.history.series import label_columns
    from leadlang.interpret import evaluate

    labels = label_columns(policy)
    scores = list(policy.scores)
    out = {"schema": SCHEMA, "policy": policy.label, "key": key, "from": stamp(when[0]), "to": stamp(when[-1]), "points": len(when),
           "labels": labels, "start": None, "changes": []}
    before = None
    for t in when:
        result = evaluate(policy, rows.leads, rows.accounts, rows.events, t)
        row = next(r for r in result.rows if r[policy.key] == key)
        now = {"as_of": t, "row": row, "fired": _firing(result.states[key])}
        if before is None:
            out["start"] = {"as_of": stamp(t), "labels": {c: row[c] for c in labels}, "scores": {s: json_value(row[s]) for s in scores},
                            "fired": [{"rule": r, "kind": k, "points": json_value(p)} for r, (k, p) in now["fired"].items()]}
        elif any(before["row"][c] != row[c] for c in labels):
            out["changes"].append(_change(before, now, labels, scores))
        before = now
    out["end"] = {"as_of": stamp(before["as_of"]), "labels": {c: before["row"][c] for c in labels}}
    return out


def _change(before: dict, now: dict, labels: list[str], scores: list[str]) -> dict:
    a, b = before["fired"], now["fired"]
    return {
        "previous_as_of": stamp(before["as_of"]), "as_of": stamp(now["as_of"]),
        "labels": {c: {"old": before["row"][c], "new": now["row"][c]} for c in labels if before["row"][c] != now["row"][c]},
        "scores": {s: {"old": json_value(before["row"][s]), "new": json_value(now["row"][s])} for s in scores if before["row"][s] != now["row"][s]},
        "fired": [{"rule": r, "kind": k, "points": json_value(p)} for r, (k, p) in b.items() if r not in a],
        "stopped": [{"rule": r, "kind": k, "points": json_value(p)} for r, (k, p) in a.items() if r not in b],
        "repointed": [{"rule": r, "kind": k, "old": json_value(a[r][1]), "new": json_value(p)} for r, (k, p) in b.items() if r in a and a[r][1] != p],
    }


def _show(v) -> str:
    return "missing" if v is None else "true" if v is True else "false" if v is False else str(v)


def _points(p) -> str:
    return "" if p is None else f"{'+' if p >= 0 else ''}{Decimal(str(p)):.2f}"


def render_text(t: dict, paint: Callable[[str, str], str] | None = None) -> str:
    """The timeline for a terminal: the lead at the first point, then each change with what moved it."""
    style = paint or (lambda text, role: text)
    n = len(t["changes"])
    out = [f"lead {t['key']} — {t['policy']}, {t['points']} as-of points from {t['from']} to {t['to']}: "
           f"{n} label change{'s' if n != 1 else ''}", ""]
    start = t["start"]
    out.append(f"{start['as_of']}  " + ", ".join(f"{c} {_show(v)}" for c, v in start["labels"].items()))
    if start["scores"]:
        out.append("  " + ", ".join(f"{s} {_show(v)}" for s, v in start["scores"].items()))
    for ch in t["changes"]:
        out += ["", f"{ch['as_of']}  (since {ch['previous_as_of']})"]
        out.append("  " + ", ".join(f"{c} {_show(x['old'])} → {_show(x['new'])}" for c, x in ch["labels"].items()))
        if ch["scores"]:
            out.append("  " + ", ".join(f"{s} {_show(x['old'])} → {_show(x['new'])}" for s, x in ch["scores"].items()))
        for f in ch["fired"]:
            out.append(f"  {style('fired', 'plus')}    {f['rule']}" + (f"  {_points(f['points'])}" if f["points"] is not None else ""))
        for f in ch["stopped"]:
            out.append(f"  {style('stopped', 'minus')}  {f['rule']}" + (f"  (was {_points(f['points'])})" if f["points"] is not None else ""))
        for f in ch["repointed"]:
            out.append(f"  {style('points', 'muted')}   {f['rule']}  {_points(f['old'])} → {_points(f['new'])}")
        if not (ch["fired"] or ch["stopped"] or ch["repointed"]):
            out.append("  no rule, gate or member changed (a classify branch or a score's band moved it)")
    if not n:
        out += ["", "no label changed over the series"]
    return "\n".join(out)
