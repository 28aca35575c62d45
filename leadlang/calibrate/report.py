"""Calibrate's report: figures on the hold-out leads (never used for fitting), as text or JSON (docs/calibrate.md)."""

from __future__ import annotations

import json

from leadlang.backtest.rules import number
from leadlang.syntax import ast as A

SCHEMA = 1


def figures(old, new, feats, final: dict, fits: dict, bt, capacity, seed: int, holdout: float, as_of) -> dict:
    """The report as JSON-ready data. Every figure but the fit's (coefficients, training fires) is on the hold-out
    leads, measured by the back-test's own code (`backtest.calibration`: AUC, win rates, per-rule figures)."""
    from leadlang.backtest.calibration import holdout_summary, rule_comparison

    h = feats.holdout
    summary = holdout_summary(bt)
    fitted = {name: {rf.rule.id: rf.to_json() for rf in fit.rules} for name, fit in fits.items()}
    rules = rule_comparison(bt, fitted)
    scores = {}
    for name, s in old.scores.items():
        entry = summary["scores"][name] | {"calibrated": name in fits and fits[name].scale is not None}
        if name in fits:
            entry |= {"points_to_double_odds": fits[name].points_to_double_odds, "rules": rules.get(name, [])}
            if isinstance(s, A.PointsScore) and s.clamp is not None:
                c = new.scores[name].clamp
                entry |= {"clamp_old": [number(s.clamp.low), number(s.clamp.high)], "clamp_new": [number(c.low), number(c.high)]}
        scores[name] = entry
    bands = {s: {"labels": [b.label for b in b_.bands], "old": [number(b.threshold) for b in b_.bands if b.threshold is not None],
                 "new": [number(b.threshold) for b in new.bands[s].bands if b.threshold is not None]} for s, b_ in old.bands.items()}
    groups = summary["groups"]
    caps = []
    for spec, n in capacity:
        group, _, label = spec.rpartition(".")
        for g, rows in groups.items():
            if group in ("", g, g.removesuffix("_band")) and any(r["label"] == label for r in rows):
                row = next(r for r in rows if r["label"] == label)
                caps.append({"label": spec, "capacity": n, "old_leads": int((feats.columns[g] == label).sum()), "leads": int((final[g] == label).sum()),
                             "holdout_win_rate_old": row["win_rate_old"], "holdout_win_rate_new": row["win_rate_new"]})
                break
    return {"schema": SCHEMA, "policy": old.label, "calibrated": new.label, "as_of": as_of.isoformat().replace("+00:00", "Z"),
            "seed": seed, "holdout": holdout, "leads": len(feats.keys), "training_leads": int((~h).sum()), "holdout_leads": int(h.sum()),
            "won_training": int(feats.won[~h].sum()), "won_holdout": int(feats.won[h].sum()),
            "scores": scores, "bands": bands, "groups": groups, "capacity": caps}


def render_json(report: dict) -> str:
    return json.dumps(report, indent=2, ensure_ascii=False)


def _f(v, pct: bool = False, digits: int = 3) -> str:
    if v is None:
        return "-"
    return f"{100 * v:.1f}%" if pct else f"{v:.{digits}f}" if isinstance(v, float) and not float(v).is_integer() else f"{v:g}"


def render_text(report: dict) -> str:
    out = [f"calibrate {report['policy']} -> {report['calibrated']} as of {report['as_of']}",
           f"leads {report['leads']}: training {report['training_leads']} ({report['won_training']} won), "
           f"hold-out {report['holdout_leads']} ({report['won_holdout']} won; every figure below but the coefficients is on these)", ""]
    out.append(f"{'score':<20} {'AUC old':>8} {'AUC new':>8}  points to double the odds")
    for name, s in report["scores"].items():
        out.append(f"{name:<20} {_f(s['auc_old']):>8} {_f(s['auc_new']):>8}  {_f(s.get('points_to_double_odds'), digits=1)}")
    for name, s in report["scores"].items():
        if "rules" not in s:
            continue
        clamp = f"  clamp {_f(s['clamp_old'][0])} to {_f(s['clamp_old'][1])} -> {_f(s['clamp_new'][0])} to {_f(s['clamp_new'][1])}" if "clamp_old" in s else ""
        out += ["", f"score {name}{clamp}",
                f"  {'rule':<24} {'fires':>6} {'win fired':>9} {'not':>7} {'lift':>5} {'old':>7} {'new':>7} {'coef [95% interval]':>24}",
                "  (old/new: points, and /max for a capped `per` rule)"]
        for r in s["rules"]:
            old = f"{r['old_points']:g}" + ("" if r["old_max"] is None else f"/{r['old_max']:g}")
            new = "-" if r["new_points"] is None else f"{r['new_points']:g}" + ("" if r["new_max"] is None else f"/{r['new_max']:g}")
            coef = "-" if r["coef"] is None else f"{r['coef']:+.2f} [{r['ci_low']:+.2f}, {r['ci_high']:+.2f}]"
            out.append(f"  {r['rule']:<24} {r['fires']:>6} {_f(r['fired']['win_rate'], True):>9} {_f(r['not_fired']['win_rate'], True):>7} "
                       f"{_f(r['lift'], digits=2):>5} {old:>7} {new:>7} {coef:>24}" + (f"  kept: {r['kept']}" if r["kept"] else f"  note: {r['note']}" if r["note"] else ""))
    for name, s in report["scores"].items():
        if "weights" in s:
            out += ["", f"score {name}: weights", f"  {'score':<24} {'old':>7} {'new':>7} {'coef [95% interval]':>24}"]
            out += [f"  {w['score']:<24} {w['old_weight']:>7g} {w['new_weight']:>7g} {w['coef']:+.3f} [{w['ci_low']:+.3f}, {w['ci_high']:+.3f}]"
                    for w in s["weights"]]
    changed = {s: b for s, b in report["bands"].items() if b["old"] != b["new"]}
    if changed:
        out += ["", "thresholds"]
        for s, b in changed.items():
            pairs = ", ".join(f"{lab} >= {o:g} -> {n:g}" for lab, o, n in zip(b["labels"], b["old"], b["new"]))
            out.append(f"  {s}: {pairs}")
    for g, rows in report["groups"].items():
        out += ["", f"{g:<20} {'leads old':>9} {'win old':>8} {'leads new':>9} {'win new':>8}"]
        for r in rows:
            out.append(f"  {r['label']:<18} {r['leads_old']:>9} {_f(r['win_rate_old'], True):>8} {r['leads_new']:>9} {_f(r['win_rate_new'], True):>8}")
    if report["capacity"]:
        out += ["", "capacity (leads over all the data)"]
        for c in report["capacity"]:
            out.append(f"  {c['label']}={c['capacity']}: {c['old_leads']} -> {c['leads']} leads; hold-out win rate "
                       f"{_f(c['holdout_win_rate_old'], True)} -> {_f(c['holdout_win_rate_new'], True)}")
    tests = report.get("tests")
    if tests:
        out += ["", f"tests: {tests['run'] - len(tests['failed'])} of {tests['run']} pass with the new numbers"]
        for t in tests["failed"]:
            out.append(f"  FAIL {t['name']} (line {t['line']})")
            out += [f"    line {f['line']}: expected {f['expected']}, got {f['actual']}" for f in t["failures"]]
    return "\n".join(out)
