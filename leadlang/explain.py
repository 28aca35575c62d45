"""A readable breakdown of one lead: why it scored, banded and landed where it did."""

from __future__ import annotations

import datetime as dt
from typing import Callable

from leadlang.check.policy import Policy
from leadlang.interpret import LeadState
from leadlang.interpret.values import show as _show
from leadlang.syntax import ast as A




def render_explanation(policy: Policy, s: LeadState, as_of: dt.datetime, paint: Callable[[str, str], str] | None = None) -> str:
    """The text of `leadlang explain`; `paint` colours plus and minus points, gates and members (see `leadlang.term`)."""
    style = paint or (lambda text, role: text)
    key = s.row[policy.key]
    out = [f"lead {key} — {policy.label}, as of {_show(as_of)}"]
    if policy.signals:
        out.append("")
        out.append("signals")
        for name in policy.signals:
            out.append(f"  {name} = {_show(s.values.get(name))}")
    fired = {(e["component"], e["rule"]): e["points"] for e in s.explain if e["kind"] == "rule"}
    for sc in policy.scores.values():
        out.append("")
        band = f"  band {s.values.get(policy.band_column(sc.name))}" if sc.name in policy.bands else ""
        out.append(f"score {sc.name} = {s.values[sc.name]}{band}")
        if isinstance(sc, A.DerivedScore):
            out.append("  derived from other scores")
        else:
            for r in sc.rules:
                pts = fired.get((sc.name, r.id))
                mark = f"{'+' if pts >= 0 else ''}{pts}" if pts is not None else "·"
                role = "muted" if pts is None else "plus" if pts >= 0 else "minus"
                out.append(f"  {' ' * (9 - len(mark))}{style(mark, role)}  {r.id}")
            raw = sum((p for (c, _), p in fired.items() if c == sc.name), start=0)
            if sc.clamp is not None and raw != s.values[sc.name]:
                out.append(f"  (rules add up to {raw}; clamped to {sc.clamp.low}..{sc.clamp.high})")
    if policy.gates:
        out.append("")
        reason = s.values.get("disqualify_reason")
        out.append(f"disqualify: {'yes, because ' + reason if reason else 'no'}")
        for g in policy.gates:
            hit = ("disqualify", g.id) in s.fired
            out.append(f"  {style('x', 'minus') if hit else style('·', 'muted')}  {g.id}")
    for cr in policy.criteria.values():
        out.append("")
        need = "all" if cr.required is None else f"{cr.required} of {len(cr.members)}"
        out.append(f"criteria {cr.name}: {'met' if s.values[cr.name] else 'not met'} ({s.values[policy.met_column(cr.name)]} true, needs {need})")
        for m in cr.members:
            out.append(f"  {style('x', 'plus') if s.members.get((cr.name, m.id)) is True else style('·', 'muted')}  {m.id}")
    for c in policy.classifications.values():
        out.append("")
        label = s.values[c.name]
        if isinstance(c, A.Matrix):
            where = "disqualified" if label == "disqualified" else f"{c.rows_score} {s.values[f'{c.rows_score}_band']} × {c.cols_score} {s.values[f'{c.cols_score}_band']}"
            out.append(f"matrix {c.name} = {label}  ({where})")
        else:
            out.append(f"classify {c.name} = {label}")
        if c.name in policy.actions:
            for act in policy.actions[c.name].actions:
                if act.label == label:
                    settings = ", ".join(f"{st.key} {_show(st.value.value)}" for st in act.settings)
                    out.append(f"  action: {settings}")
    return "\n".join(out)
