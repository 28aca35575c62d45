"""A breakdown of one lead: why it scored, banded and landed where it did.

`explanation` gathers it once, as plain data (the `--format json` schema `leadlang.explain/1`);
`render_explanation` (text), `render_markdown` (a CRM note or ticket) and JSON are views of it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Callable

from leadlang.check.policy import Policy
from leadlang.interpret import LeadState
from leadlang.interpret.values import show as _show
from leadlang.syntax import ast as A

SCHEMA = "leadlang.explain/1"


def explanation(policy: Policy, s: LeadState, as_of: dt.datetime) -> dict:
    """Everything `explain` says about one lead, as data: the values as the interpreter has them
    (`to_json` writes decimals and times as the text `score` writes them)."""
    fired = {(e["component"], e["rule"]): e["points"] for e in s.explain if e["kind"] == "rule"}
    scores = []
    for sc in policy.scores.values():
        entry = {"name": sc.name, "value": s.values[sc.name], "banded": sc.name in policy.bands,
                 "band": s.values.get(policy.band_column(sc.name)) if sc.name in policy.bands else None,
                 "derived": isinstance(sc, A.DerivedScore), "rules": [], "rules_total": None, "clamp": None}
        if not entry["derived"]:
            entry["rules"] = [{"id": r.id, "fired": (sc.name, r.id) in fired, "points": fired.get((sc.name, r.id))} for r in sc.rules]
            raw = sum((p for (c, _), p in fired.items() if c == sc.name), start=0)
            entry["rules_total"] = raw
            if sc.clamp is not None:
                entry["clamp"] = {"low": sc.clamp.low, "high": sc.clamp.high, "applied": raw != s.values[sc.name]}
        scores.append(entry)
    reason = s.values.get("disqualify_reason")
    criteria = []
    for cr in policy.criteria.values():
        criteria.append({"name": cr.name, "met": bool(s.values[cr.name]), "true": s.values[policy.met_column(cr.name)],
                         "required": cr.required, "of": len(cr.members),
                         "members": [{"id": m.id, "true": s.members.get((cr.name, m.id)) is True} for m in cr.members]})
    classifications = []
    for c in policy.classifications.values():
        label = s.values[c.name]
        cell = None
        if isinstance(c, A.Matrix) and label != "disqualified":
            cell = {"rows": c.rows_score, "row_band": s.values[policy.band_column(c.rows_score)],
                    "columns": c.cols_score, "column_band": s.values[policy.band_column(c.cols_score)]}
        action = None
        if c.name in policy.actions:
            for act in policy.actions[c.name].actions:
                if act.label == label:
                    action = {st.key: st.value.value for st in act.settings}
        classifications.append({"name": c.name, "kind": "matrix" if isinstance(c, A.Matrix) else "classify", "label": label,
                                "cell": cell, "action": action})
    return {
        "schema": SCHEMA,
        "lead": s.row[policy.key],
        "policy": policy.label,
        "as_of": _show(as_of),
        "signals": {name: s.values.get(name) for name in policy.signals},
        "scores": scores,
        "disqualify": None if not policy.gates else {
            "disqualified": reason is not None, "reason": reason,
            "gates": [{"id": g.id, "fired": ("disqualify", g.id) in s.fired} for g in policy.gates]},
        "criteria": criteria,
        "classifications": classifications,
    }


def to_json(doc: dict) -> str:
    """The explanation as JSON (schema `leadlang.explain/1`): decimals and times as the exact text
    `score` writes in its CSV cells (`50`, `9.41`, `2024-06-01T00:00:00Z`), missing as null."""
    import json

    from leadlang.data.writers import cell_text

    def plain(value):
        if isinstance(value, Decimal):
            return cell_text(value, "number")
        if isinstance(value, dt.datetime):
            return cell_text(value, "timestamp")
        if isinstance(value, dt.date):
            return cell_text(value, "date")
        raise TypeError(f"cannot write {type(value).__name__} as JSON")

    return json.dumps(doc, indent=2, ensure_ascii=False, default=plain)


def _signed(points: str) -> str:
    return points if points.startswith("-") else f"+{points}"


def render_explanation(policy: Policy, s: LeadState, as_of: dt.datetime, paint: Callable[[str, str], str] | None = None) -> str:
    """The text of `leadlang explain`; `paint` colours plus and minus points, gates and members (see `leadlang.term`)."""
    return render_text(explanation(policy, s, as_of), paint)


def render_text(doc: dict, paint: Callable[[str, str], str] | None = None) -> str:
    style = paint or (lambda text, role: text)
    out = [f"lead {doc['lead']} — {doc['policy']}, as of {doc['as_of']}"]
    if doc["signals"]:
        out += ["", "signals"] + [f"  {name} = {_text(value)}" for name, value in doc["signals"].items()]
    for sc in doc["scores"]:
        out.append("")
        band = f"  band {sc['band']}" if sc["banded"] else ""
        out.append(f"score {sc['name']} = {_text(sc['value'])}{band}")
        if sc["derived"]:
            out.append("  derived from other scores")
            continue
        for r in sc["rules"]:
            mark = _signed(str(r["points"])) if r["fired"] else "·"
            role = "muted" if not r["fired"] else "minus" if str(r["points"]).startswith("-") else "plus"
            out.append(f"  {' ' * (9 - len(mark))}{style(mark, role)}  {r['id']}")
        if sc["clamp"] is not None and sc["clamp"]["applied"]:
            out.append(f"  (rules add up to {sc['rules_total']}; clamped to {sc['clamp']['low']}..{sc['clamp']['high']})")
    if doc["disqualify"] is not None:
        d = doc["disqualify"]
        out += ["", f"disqualify: {'yes, because ' + d['reason'] if d['disqualified'] else 'no'}"]
        out += [f"  {style('x', 'minus') if g['fired'] else style('·', 'muted')}  {g['id']}" for g in d["gates"]]
    for cr in doc["criteria"]:
        need = "all" if cr["required"] is None else f"{cr['required']} of {cr['of']}"
        out += ["", f"criteria {cr['name']}: {'met' if cr['met'] else 'not met'} ({cr['true']} true, needs {need})"]
        out += [f"  {style('x', 'plus') if m['true'] else style('·', 'muted')}  {m['id']}" for m in cr["members"]]
    for c in doc["classifications"]:
        out.append("")
        if c["kind"] == "matrix":
            where = "disqualified" if c["cell"] is None else f"{c['cell']['rows']} {c['cell']['row_band']} × {c['cell']['columns']} {c['cell']['column_band']}"
            out.append(f"matrix {c['name']} = {c['label']}  ({where})")
        else:
            out.append(f"classify {c['name']} = {c['label']}")
        if c["action"] is not None:
            out.append("  action: " + ", ".join(f"{k} {_text(v)}" for k, v in c["action"].items()))
    return "\n".join(out)


def render_markdown(doc: dict) -> str:
    """The explanation as markdown, for a CRM note or a ticket."""
    lines = [f"### Lead `{doc['lead']}` — {doc['policy']}", "", f"As of {doc['as_of']}.", ""]
    labels = [f"**{c['name']}**: {c['label']}" for c in doc["classifications"]]
    if doc["disqualify"] is not None and doc["disqualify"]["disqualified"]:
        labels.append(f"**disqualified** because `{doc['disqualify']['reason']}`")
    if labels:
        lines += ["- " + label for label in labels] + [""]
    for c in doc["classifications"]:
        if c["action"]:
            lines.append(f"Action for {c['name']} = {c['label']}: " + ", ".join(f"{k} {_text(v)}" for k, v in c["action"].items()) + ".")
    if any(c["action"] for c in doc["classifications"]):
        lines.append("")
    for sc in doc["scores"]:
        band = f" (band {sc['band']})" if sc["band"] is not None else ""
        lines.append(f"#### {sc['name']} = {_text(sc['value'])}{band}")
        if sc["derived"]:
            lines += ["", "Derived from other scores.", ""]
            continue
        hits = [r for r in sc["rules"] if r["fired"]]
        if hits:
            lines += ["", "| rule | points |", "| --- | ---: |"] + [f"| {r['id']} | {_signed(str(r['points']))} |" for r in hits]
        else:
            lines += ["", "No rule fired."]
        if sc["clamp"] is not None and sc["clamp"]["applied"]:
            lines.append(f"\nThe rules add up to {sc['rules_total']}, clamped to {sc['clamp']['low']}..{sc['clamp']['high']}.")
        lines.append("")
    for cr in doc["criteria"]:
        met = [m["id"] for m in cr["members"] if m["true"]]
        lines.append(f"**{cr['name']}**: {'met' if cr['met'] else 'not met'} ({cr['true']} of {cr['of']} true: {', '.join(met) or 'none'}).")
    if doc["signals"]:
        lines += ["", "Signals: " + ", ".join(f"{k} = {_text(v)}" for k, v in doc["signals"].items()) + "."]
    return "\n".join(lines).rstrip("\n") + "\n"


def _text(value) -> str:
    return _show(value)
