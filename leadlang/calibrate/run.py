"""Calibrate a policy: fit, rewrite points and clamps, re-choose thresholds, check, test and measure on the hold-out."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError, LeadError
from leadlang.syntax import ast as A

CLAMP_STEP = 5  # a widened clamp bound is a multiple of this


@dataclass
class Calibration:
    old: Policy
    new: Policy
    old_text: str
    new_text: str
    report: dict
    warnings: list[str] = field(default_factory=list)
    holdout: object = field(default=None, repr=False)  # the `backtest.Backtest` of old vs new on the hold-out leads


def _load(path: str, text: str) -> Policy:
    from leadlang.check import load
    from leadlang.fs import WORK_TREE, Overlay

    return load(path, files=Overlay(WORK_TREE, {path: text}))


def _clamp(old: A.Clamp, raw) -> tuple[Decimal, Decimal]:
    """The old clamp, widened (to a multiple of CLAMP_STEP) to hold every lead's new unclamped score."""
    lo = min(old.low, Decimal(math.floor(float(raw.min()) / CLAMP_STEP) * CLAMP_STEP))
    hi = max(old.high, Decimal(math.ceil(float(raw.max()) / CLAMP_STEP) * CLAMP_STEP))
    return lo, hi


def calibrate(policy: Policy, data_dir: Path, outcomes: Path, as_of: dt.datetime, scores: list[str] | None = None,
              capacity: list[tuple[str, int]] = (), holdout: float = 0.3, seed: int = 0, derived: bool = False) -> Calibration:
    """Fit `policy`'s points scores (all, or `scores`) on the training leads and return the calibrated policy and its report;
    with `derived`, also the weights of each derived score that is a weighted sum of points scores."""
    import numpy as np

    from leadlang.backtest.calibration import holdout_backtest
    from leadlang.backtest.rules import contributions, rules_of
    from leadlang.calibrate import require_sklearn
    from leadlang.calibrate.features import load_features, scored_columns
    from leadlang.calibrate.fit import fit_score, new_raw
    from leadlang.calibrate.report import figures
    from leadlang.calibrate.rewrite import Edits, calibrated_version, finish
    from leadlang.calibrate.thresholds import capacity_thresholds, share_thresholds
    from leadlang.engine import score_duckdb
    from leadlang.testing import run_tests

    require_sklearn()
    if not 0 <= holdout < 1:
        raise DataError(f"--holdout {holdout}: give the share of leads kept out of the fit, from 0 up to (not including) 1")
    chosen = list(dict.fromkeys(r.score for r in rules_of(policy, scores)))  # a name that is no points score: one error line
    path, old_text = policy.path, policy.texts[policy.path]
    feats = load_features(policy, data_dir, outcomes, as_of, holdout, seed)
    train = feats.train
    warnings = list(feats.warnings)
    if not feats.holdout.any():
        warnings.append("no lead is held out (--holdout 0 or too few leads): the report has no figures to judge the new points by")
    if not feats.won.any():
        raise DataError(f"calibrate: no lead is won in {outcomes}; the outcomes cannot teach anything")
    if feats.won.all():
        raise DataError(f"calibrate: every lead is won in {outcomes}; the outcomes cannot teach anything")
    edits = Edits(old_text)
    fits = {}
    for name in chosen:
        score = policy.scores[name]
        x = feats.matrix[name]
        fit = fit_score(name, score.rules, x[train], feats.won[train], feats.columns[name][train], lambda r: r.span.file == path)
        warnings += fit.warnings
        fits[name] = fit
        for rf in fit.rules:
            edits.rule(rf.rule, rf.points, rf.cap)
        if score.clamp is not None and fit.scale is not None:
            edits.clamp(score.clamp, *_clamp(score.clamp, new_raw(fit, x)))
    weights = _derived_weights(policy, feats, fits, edits, warnings) if derived else {}
    try:
        middle = _load(path, edits.apply())
    except LeadError as err:
        raise DataError(f"calibrate made a policy that does not check ({err.diagnostics[0].message}); please report this") from None
    new_cols = scored_columns(score_duckdb(middle, Path(data_dir), as_of).table, middle)
    changed = {n for n in policy.scores if not np.array_equal(new_cols[n], feats.columns[n])}
    thresholds = {s: [float(b.threshold) for b in bands.bands if b.threshold is not None] for s, bands in policy.bands.items()}
    for s in changed & set(policy.bands):
        thresholds[s] = [float(t) for t in share_thresholds(policy.bands[s], feats.columns[s], new_cols[s])]
    dq = new_cols.get("disqualified", np.zeros(len(feats.keys), dtype=bool)).astype(bool)
    for spec, n in capacity:
        thresholds = capacity_thresholds(policy, spec, n, new_cols, thresholds, dq, feats.won, train)
    for s, values in thresholds.items():
        for band, t in zip((b for b in policy.bands[s].bands if b.threshold is not None), values):
            if band.span.file == path:
                edits.threshold(band, _number(t))
    version = next((d for d in policy.modules[0].decls if isinstance(d, A.Version)), None)
    new_version = calibrated_version(policy.version)
    edits.version(version, new_version)
    new_text = finish(old_text, edits.apply(), path)
    try:
        new = _load(path, new_text)
    except LeadError as err:
        raise DataError(f"calibrate made a policy that does not check ({err.diagnostics[0].message}); please report this") from None
    scored_new = contributions(new, Path(data_dir), as_of)
    final = scored_columns(scored_new.scored, new)
    held = [k for k, h in zip(feats.keys, feats.holdout) if h]
    bt = holdout_backtest(policy, new, data_dir, outcomes, as_of, held, scored=(feats.scored, scored_new))
    failing = [{"name": r.name, "line": r.span.line, "failures": [{"line": f.span.line, "expected": f.expected, "actual": f.actual} for f in r.failures]}
               for r in run_tests(new) if not r.passed]
    report = figures(policy, new, feats, final, fits, bt, capacity, seed, holdout, as_of)
    for name, terms in weights.items():
        report["scores"][name]["weights"] = terms
    report["tests"] = {"run": len(new.tests), "failed": failing}
    if version is None:
        warnings.append("the policy has no `version`; add one to tell the calibrated policy from the old one")
    report["warnings"] = warnings
    return Calibration(policy, new, old_text, new_text, report, warnings, bt)


def _derived_weights(policy: Policy, feats, fits: dict, edits, warnings: list[str]) -> dict[str, list[dict]]:
    """Fit and edit the weights of every derived score that sums points scores times numbers (`fit.fit_weights`),
    on the new points scores' values (clamped and rounded as the policy computes them)."""
    import numpy as np

    from leadlang.calibrate.fit import fit_weights, new_raw, weighted_terms

    points = {n for n, s in policy.scores.items() if isinstance(s, A.PointsScore)}
    values = {}
    for n in points:
        if n in fits and fits[n].scale is not None:
            raw = new_raw(fits[n], feats.matrix[n])
            lo, hi = (_clamp(policy.scores[n].clamp, raw) if policy.scores[n].clamp is not None else (None, None))
            values[n] = np.round(raw if lo is None else np.clip(raw, float(lo), float(hi)), 2)
        else:
            values[n] = feats.columns[n]
    out = {}
    train = feats.train
    for name, s in policy.scores.items():
        if not isinstance(s, A.DerivedScore):
            continue
        terms = weighted_terms(s.expr, points)
        if terms is None or s.span.file != policy.path:
            warnings.append(f"score {name}: not a sum of numbers times points scores in this file; its weights are kept")
            continue
        fitted = fit_weights(name, terms, {k: v[train] for k, v in values.items()}, feats.won[train])
        if fitted is None:
            warnings.append(f"score {name}: its scores do not vary on the training leads; its weights are kept")
            continue
        rows = []
        for (lit, score), w, (coef, low, high) in zip(terms, *fitted):
            edits.literal(lit, w)
            rows.append({"score": score, "old_weight": float(lit.value), "new_weight": float(w), "coef": coef, "ci_low": low, "ci_high": high})
        out[name] = rows
    return out


def _number(v: float) -> Decimal:
    d = Decimal(repr(round(v, 2)))
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d.normalize()
