"""Fitting one points score: a regularized logistic regression of won on its rule features, turned into points.

- The model: log-odds(won) = b + sum(coef_i * feature_i), fitted by scikit-learn's
  `LogisticRegression` (L2 penalty, C = 1 on standardized features, lbfgs: deterministic)
  on the training leads only.
- Each coefficient's 95% interval is coef +- 1.96 standard errors, the standard errors
  from the inverse of the penalized log-likelihood's Hessian at the fit (Wald).
- Points: new points = coef * SCALE, where SCALE is chosen so the new score spreads like
  the old one (the standard deviation of the fitted rules' sum over the training leads
  equals the old score's); `SCALE * ln 2` points double the odds of winning, and is reported
  as `points_to_double_odds`. `when` points are rounded to whole numbers (to tenths when the
  largest is under 10), `per` points to two significant digits; a `max` cap keeps its value
  cap (`+3 per visits, max 15` caps at 5 visits, and so does the new rule).
- Too little evidence: a rule that fired for fewer than MIN_FIRES training leads, or fired for
  all but that many, or whose interval given the other rules' coefficients (1.96 / sqrt of its
  diagonal Hessian entry) is wider than MAX_WIDTH on the log-odds of a typical firing (the
  coefficient times the feature's mean value when fired), keeps its points; the report says why.
  A rule whose own interval is narrow but whose joint interval (the one reported) is wide overlaps
  with other rules (they split the same leads, e.g. one per job title and one for "no title"): its
  points are fitted, together with theirs, and the report notes the overlap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from leadlang.diagnostics import DataError
from leadlang.syntax import ast as A

MIN_FIRES = 30
MAX_WIDTH = 2.0  # log-odds: the odds ratio's interval spans more than e^2 = 7.4 times
Z95 = 1.959963984540054
C = 1.0


@dataclass
class RuleFit:
    rule: A.Rule
    fires: int  # training leads it fired for
    coef: float | None
    low: float | None
    high: float | None
    points: Decimal  # the new points (the old ones when kept)
    cap: Decimal | None
    kept: str | None = None  # why the old points were kept
    note: str | None = None

    def to_json(self) -> dict:
        """What the fit says of the rule (the report adds its figures on the hold-out leads)."""
        return {"training_fires": self.fires, "coef": self.coef, "ci_low": self.low, "ci_high": self.high, "kept": self.kept, "note": self.note}


@dataclass
class ScoreFit:
    score: str
    rules: list[RuleFit]
    scale: float | None  # points per unit of log-odds
    intercept: float | None
    warnings: list[str]

    @property
    def points_to_double_odds(self) -> float | None:
        return None if self.scale is None else self.scale * math.log(2)


def readable(x: float, step: Decimal) -> Decimal:
    """`x` rounded half away from zero to a multiple of `step`."""
    return (Decimal(repr(x)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def significant(x: float, digits: int = 2) -> Decimal:
    """`x` to `digits` significant digits (at least 0.01 apart)."""
    if x == 0:
        return Decimal(0)
    exp = max(math.floor(math.log10(abs(x))) - digits + 1, -2)
    return readable(x, Decimal(1).scaleb(exp)).normalize() if exp < 0 else readable(x, Decimal(1).scaleb(exp))


def _plain(d: Decimal) -> Decimal:
    """A decimal without trailing zeros or exponent: 30.0 -> 30, 1E+1 -> 10."""
    d = d.normalize()
    return d.quantize(Decimal(1)) if d == d.to_integral_value() else d


def fit_score(name: str, rules: tuple[A.Rule, ...], x, won, old_score, editable) -> ScoreFit:
    """Fit score `name` on the training rows: `x` leads x rules, `won` and `old_score` of the same leads;
    `editable(rule)` says whether the rule's text can be edited (it is in the policy's own file)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(won, dtype=bool)
    n = len(y)
    if n == 0:
        raise DataError("calibrate: no training leads (is --holdout 1?)")
    if not y.any() or y.all():
        which = "won" if not y.any() else "not won"
        raise DataError(f"calibrate: no {which} lead among the {n} training leads; the outcomes cannot teach anything")
    fires = (x != 0).sum(axis=0)
    fit: list[RuleFit | None] = [None] * len(rules)
    use = []
    for j, r in enumerate(rules):
        why = None
        if not editable(r):
            why = "declared in a used file"
        elif fires[j] < MIN_FIRES:
            why = f"fired for {int(fires[j])} training leads (fewer than {MIN_FIRES})"
        elif n - fires[j] < MIN_FIRES:
            why = f"fired for all but {int(n - fires[j])} training leads"
        if why:
            fit[j] = RuleFit(r, int(fires[j]), None, None, None, r.points, r.cap, why)
        else:
            use.append(j)
    warnings = []
    if not use:
        if not fires.any():
            warnings.append(f"score {name}: no rule fires on the training leads; its points are kept")
        else:
            warnings.append(f"score {name}: no rule has enough evidence to fit; its points are kept")
        return ScoreFit(name, fit, None, None, warnings)
    z = x[:, use]
    mu, sd = z.mean(axis=0), z.std(axis=0)
    zs = (z - mu) / sd
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=1000).fit(zs, y)
    beta_s = model.coef_[0]
    p = model.predict_proba(zs)[:, 1]
    design = np.hstack([np.ones((n, 1)), zs])
    hessian = design.T @ (design * (p * (1 - p))[:, None]) + np.diag([0.0] + [1.0 / C] * len(use))
    se_s = np.sqrt(np.diag(np.linalg.pinv(hessian)))[1:]
    alone_s = 1 / np.sqrt(np.diag(hessian))[1:]
    beta, se, alone = beta_s / sd, se_s / sd, alone_s / sd
    eta = z @ beta
    spread_old, spread_new = float(np.std(old_score)), float(np.std(eta))
    scale = spread_old / spread_new if spread_old > 0 and spread_new > 0 else 20 / math.log(2)
    when_max = max((abs(beta[i] * scale) for i, j in enumerate(use) if rules[j].kind == "when"), default=0.0)
    step = Decimal(1) if when_max >= 10 else Decimal("0.1")
    for i, j in enumerate(use):
        r = rules[j]
        b, s = float(beta[i]), float(se[i])
        typical = 1.0 if r.kind == "when" else float(np.mean(z[:, i][z[:, i] != 0]))
        width = 2 * Z95 * float(alone[i]) * abs(typical)
        if width > MAX_WIDTH:
            fit[j] = RuleFit(r, int(fires[j]), b, b - Z95 * s, b + Z95 * s, r.points, r.cap,
                             f"interval too wide ({width:.1f} on the log-odds of a typical firing)")
            continue
        joint = 2 * Z95 * s * abs(typical)
        note = f"overlaps with other rules (joint interval {joint:.1f} wide); fitted together with them" if joint > MAX_WIDTH else None
        pts = _plain(readable(b * scale, step) if r.kind == "when" else significant(b * scale))
        cap = r.cap
        if cap is not None and pts != 0 and r.points != 0:
            cap = _plain(readable(float(abs(pts) * cap / abs(r.points)), Decimal(1) if abs(pts) * cap / abs(r.points) >= 10 else Decimal("0.1")))
        fit[j] = RuleFit(r, int(fires[j]), b, b - Z95 * s, b + Z95 * s, pts, cap, note=note)
    return ScoreFit(name, fit, scale, float(model.intercept_[0] - (beta_s * mu / sd).sum()), warnings)


def new_raw(fit: ScoreFit, x):
    """Each lead's unclamped new score from its rule features (a `per` rule's new cap applied)."""
    import numpy as np

    total = np.zeros(x.shape[0])
    for j, rf in enumerate(fit.rules):
        col = x[:, j] * float(rf.points)
        if rf.rule.kind == "per" and rf.cap is not None:
            col = np.clip(col, -float(rf.cap), float(rf.cap))
        total += col
    return total


def weighted_terms(expr, scores) -> list[tuple[A.Literal, str]] | None:
    """`0.6 * fit + 0.4 * engagement` as [(the 0.6 literal, "fit"), ...]: a sum of number times points score;
    None for any other expression (its weights are not fitted)."""
    if isinstance(expr, A.Binary) and expr.op == "+":
        left, right = weighted_terms(expr.left, scores), weighted_terms(expr.right, scores)
        return None if left is None or right is None else left + right
    if isinstance(expr, A.Binary) and expr.op == "*":
        for lit, name in ((expr.left, expr.right), (expr.right, expr.left)):
            if isinstance(lit, A.Literal) and lit.kind in ("int", "number") and isinstance(name, A.Name) and name.name in scores:
                return [(lit, name.name)]
    return None


def fit_weights(name: str, terms, values: dict, won) -> tuple[list[Decimal], list[tuple[float, float, float]]] | None:
    """New weights of a derived score's terms, fitted like points: a logistic regression of won on the scores it
    sums (training leads), scaled so the weights' absolute sum stays the old one, rounded to hundredths.
    Returns the weights and each (coef, low, high), or None when the scores do not vary."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    y = np.asarray(won, dtype=bool)
    x = np.column_stack([values[s] for _, s in terms])
    sd = x.std(axis=0)
    if not y.any() or y.all() or (sd == 0).any():
        return None
    mu = x.mean(axis=0)
    zs = (x - mu) / sd
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=1000).fit(zs, y)
    p = model.predict_proba(zs)[:, 1]
    design = np.hstack([np.ones((len(y), 1)), zs])
    hessian = design.T @ (design * (p * (1 - p))[:, None]) + np.diag([0.0] + [1.0 / C] * len(terms))
    se = np.sqrt(np.diag(np.linalg.pinv(hessian)))[1:] / sd
    beta = model.coef_[0] / sd
    old = sum(abs(float(lit.value)) for lit, _ in terms)
    scale = old / float(np.abs(beta).sum()) if np.abs(beta).sum() > 0 else 0.0
    weights = [_plain(readable(float(b) * scale, Decimal("0.01"))) for b in beta]
    return weights, [(float(b), float(b - Z95 * s), float(b + Z95 * s)) for b, s in zip(beta, se)]
