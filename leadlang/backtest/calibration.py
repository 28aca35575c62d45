"""The figures of `leadlang calibrate`'s report, measured as `backtest` measures them, on the hold-out leads.

`calibrate` (leadlang/calibrate/) fits the points; this module says how the old and the new policy did on
leads the fit never saw, with the back-test's own code (AUC, win rates, Wilson intervals, per-rule figures):

    bt = holdout_backtest(old, new, data_dir, outcomes, as_of, holdout_keys, scored=(old_contributions, new_contributions))
    holdout_summary(bt)          each score's AUC old and new; each label's leads, won and win rate old and new
    rule_comparison(bt, fitted)  per rule: fires, win rate fired vs not, lift, old and new points, the fit's coefficient
    render_calibration_html(bt, rules, report)   the HTML report (report.py's style: inline CSS and SVG, nothing fetched)
    calibration_html(result, data_dir, outcomes, as_of)   all of it for a `calibrate` result (`calibrate --report`)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from leadlang.backtest.compute import Backtest, backtest
from leadlang.check.policy import Policy


def holdout_backtest(old: Policy, new: Policy, data_dir: Path, outcomes: Path, as_of: dt.datetime, leads, scored: tuple = (None, None)) -> Backtest:
    """The old policy (champion) and the new one (challenger) back-tested on the leads whose keys are `leads` only.

    `scored`: each policy's `rules.contributions` on `data_dir`, when already computed (else each is scored here).
    """
    return backtest(old, data_dir, outcomes, as_of, new, leads=list(leads), scored=scored)


def holdout_summary(bt: Backtest) -> dict:
    """Each score's ROC AUC old and new; per band and classification, each label's leads, won and win rate
    (with its Wilson interval) old and new. A label only one policy has counts 0 leads in the other."""
    old, new = bt.champion, bt.challenger
    scores = {s: {"auc_old": old.scores[s]["auc"], "auc_new": new.scores[s]["auc"] if s in new.scores else None} for s in old.scores}
    groups = {}
    for name, rows in old.groups.items():
        after = {r["label"]: r for r in new.groups.get(name, [])}
        before = {r["label"]: r for r in rows}
        groups[name] = []
        for label in dict.fromkeys([*before, *after]):
            entry = {"label": label}
            for side, found in (("old", before.get(label)), ("new", after.get(label))):
                entry |= {f"leads_{side}": found["leads"] if found else 0, f"won_{side}": found["won"] if found else 0,
                          f"win_rate_{side}": found["win_rate"] if found else None,
                          f"ci_{side}": [found["ci_low"], found["ci_high"]] if found else [None, None]}
            groups[name].append(entry)
    return {"leads": old.leads, "won": old.won, "base_rate": old.base_rate, "scores": scores, "groups": groups}


def rule_comparison(bt: Backtest, fitted: dict[str, dict[str, dict]] | None = None) -> dict[str, list[dict]]:
    """Per points score (those of `fitted` when given), each rule of the old policy on the measured leads: how
    often it fired, the win rate where it fired and where not (Wilson intervals), lift, its old and new points
    and cap, and what the fit says of it: `fitted[score][rule]`, e.g. `{"coef": .., "ci_low": .., "ci_high": ..,
    "kept": "too few firings"}`, merged in as given. Firing is the rule's condition (its value is not 0), the
    same under both policies unless the new points are 0."""
    new = {s: {r["rule"]: r for r in rows} for s, rows in bt.challenger.rules.items()} if bt.challenger else {}
    out = {}
    for score, rows in bt.champion.rules.items():
        if fitted is not None and score not in fitted:
            continue
        out[score] = []
        for r in rows:
            after = new.get(score, {}).get(r["rule"])
            out[score].append({
                "rule": r["rule"], "kind": r["kind"], "fires": r["fires"], "fire_share": r["fire_share"],
                "fired": r["fired"], "not_fired": r["not_fired"], "lift": r["fired"]["lift"],
                "old_points": r["points"], "old_max": r["max"],
                "new_points": after["points"] if after else None, "new_max": after["max"] if after else None,
                **(fitted or {}).get(score, {}).get(r["rule"], {}),
            })
    return out


def render_calibration_html(bt: Backtest, rules: dict[str, list[dict]], report: dict | None = None) -> str:
    """Calibrate's HTML report: on the hold-out leads, each score's AUC and ROC curve old vs new, the per-rule table
    (old and new points, coefficient and interval), each label old vs new; from `report` (calibrate's JSON report),
    what it has of the split, clamps, thresholds and failing tests. One file: inline CSS and SVG, no scripts."""
    from leadlang.backtest.report import _env, _policy_view, side_by_side

    report = report or {}
    old, new = _policy_view(bt.champion), _policy_view(bt.challenger)
    scores = []
    for a in old["scores"]:
        b = next((s for s in new["scores"] if s["name"] == a["name"]), None)
        scores.append({"name": a["name"], "old": a, "new": b, "rules": rules.get(a["name"], []), "info": report.get("scores", {}).get(a["name"], {})})
    return _env().get_template("calibration.html.j2").render(
        bt=bt, scores=scores, compare=side_by_side(bt), report=report, summary=holdout_summary(bt),
        changed_bands={s: b for s, b in report.get("bands", {}).items() if b.get("old") != b.get("new")},
        tests=report.get("tests"))


FITTED = ("coef", "ci_low", "ci_high", "kept", "note")  # what the per-rule table takes of calibrate's fit


def calibration_html(result, data_dir: Path, outcomes: Path, as_of: dt.datetime, bt: Backtest | None = None) -> str:
    """The HTML report of a `leadlang.calibrate.calibrate` result: its old and new policy measured on its hold-out
    leads, with the fit's coefficients from its report. `bt`: the calibration's `holdout_backtest`, when kept;
    else it is measured again on the split of `result.report`'s `holdout` and `seed`."""
    if bt is None:
        from leadlang.backtest.rules import contributions
        from leadlang.calibrate.features import in_holdout

        scored = contributions(result.old, Path(data_dir), as_of)
        keys = scored.keys()
        held = [k for k, h in zip(keys, in_holdout(keys, result.report["holdout"], result.report["seed"])) if h]
        bt = holdout_backtest(result.old, result.new, data_dir, outcomes, as_of, held, scored=(scored, None))
    report = result.report
    fitted = {s: {r["rule"]: {k: r[k] for k in FITTED if k in r} for r in entry["rules"]}
              for s, entry in report.get("scores", {}).items() if "rules" in entry}
    return render_calibration_html(bt, rule_comparison(bt, fitted), report)
