"""Band thresholds re-chosen on the calibrated scores.

- By default each band keeps its share of leads: a threshold `t` that `s` of all leads
  reached on the old score becomes the new score value that about the same share reaches
  (the value whose share is closest; the higher one on a tie; a whole number when the scores
  span 20 points or more), thresholds kept strictly decreasing.
- `--capacity LABEL=N`: the label holds about N leads (within CAPACITY_SLACK of N; if no threshold
  does, the closest count), and among the thresholds that do, the one with the most won training
  leads in the label is chosen. The threshold moved is the one at the label's edge: for a band,
  its own threshold (or the one above it, for the `otherwise` band). For a matrix label, which
  depends on two scores' bands, the threshold at the label's edge on each of the two scores is moved
  together: every pair of candidate values is tried, and pairs whose shares of leads reaching each
  threshold changed by factors within BALANCE of each other are preferred (so one score does not end
  up deciding the label alone); the other thresholds keep their shares;
  disqualified leads are never in a matrix label. Counts are over all leads, won leads over the
  training leads only.
"""

from __future__ import annotations

from decimal import Decimal

from leadlang.diagnostics import DataError, did_you_mean
from leadlang.syntax import ast as A

CAPACITY_SLACK = 0.05
BALANCE = 2.0  # a matrix label's two thresholds: the shares of leads reaching them change by factors at most this far apart
CANDIDATES = (400, 60)  # candidate values per moved threshold: moving one, moving two together


def _dec(v: float) -> Decimal:
    return Decimal(repr(round(float(v), 2))).normalize().quantize(Decimal(1)) if float(v).is_integer() else Decimal(repr(round(float(v), 2)))


def share_thresholds(bands: A.Bands, old, new) -> list[Decimal]:
    """New thresholds (one per band but the `otherwise` one) keeping each band's share of leads."""
    import numpy as np

    values = np.unique(new)
    if values[-1] - values[0] >= 20:  # whole numbers read better, and a score this wide loses nothing by them
        values = np.unique(np.ceil(values))
    values = values[::-1]  # distinct, highest first
    ordered = np.sort(new)
    reach = (len(new) - np.searchsorted(ordered, values, side="left")) / len(new)  # share of leads >= each value
    out: list[Decimal] = []
    for band in bands.bands:
        if band.threshold is None:
            continue
        share = float((old >= float(band.threshold)).mean())
        lower = values < float(out[-1]) if out else np.ones(len(values), dtype=bool)
        if not lower.any() or share == 0:  # nobody reached it, or no value left below the threshold above
            out.append(_dec(np.floor(values[0]) + 1) if not out else _dec(float(out[-1]) - 1))
            continue
        shares = np.where(lower, np.abs(reach - share), np.inf)
        out.append(_dec(values[int(np.argmin(shares))]))
    return out


def band_of(thresholds: list[float], values):
    """Each value's band under `thresholds` (highest first), as its index in the bands: the first reached wins."""
    import numpy as np

    out = np.zeros(len(values), dtype=np.int64)
    for t in thresholds:
        out += values < t
    return out


def _edge(bands: A.Bands, inside: set[str]) -> int | None:
    """Which threshold (index) bounds the bands `inside`: the lowest one inside when they are the top bands,
    the one above them when they are the bottom bands; None when they are all bands or not contiguous."""
    idx = sorted(i for i, b in enumerate(bands.bands) if b.label in inside)
    n = len(bands.bands)
    if not idx or len(idx) == n or idx != list(range(idx[0], idx[-1] + 1)):
        return None
    if idx[0] == 0:
        return idx[-1]
    if idx[-1] == n - 1:
        return idx[0] - 1
    return idx[-1]


def _candidates(values, k: int):
    import numpy as np

    qs = np.unique(np.quantile(values, np.linspace(0, 1, k + 1), method="higher"))
    qs = np.unique(np.concatenate([qs, [values.max() + 1]]))
    return np.unique(np.ceil(qs)) if values.max() - values.min() >= 20 else qs  # whole numbers, as `share_thresholds`


def _with(thresholds: list[float], i: int, v: float) -> list[float]:
    """`thresholds` with the i-th set to v and the others pushed to stay strictly decreasing."""
    t = list(thresholds)
    t[i] = v
    for k in range(i - 1, -1, -1):
        t[k] = max(t[k], t[k + 1] + 1)
    for k in range(i + 1, len(t)):
        t[k] = min(t[k], t[k - 1] - 1)
    return t


def capacity_thresholds(policy, spec: str, n: int, scores: dict, thresholds: dict[str, list[float]], dq, won, train) -> dict[str, list[float]]:
    """Thresholds (per banded score) so label `spec` (LABEL or GROUP.LABEL) holds about `n` leads, with the most wins."""
    import numpy as np

    group, _, label = spec.rpartition(".")
    hits = []
    for s, b in policy.bands.items():
        if label in [x.label for x in b.bands] and group in ("", s, policy.band_column(s)):
            hits.append(("band", s))
    for name, c in policy.classifications.items():
        if isinstance(c, A.Matrix) and group in ("", name) and any(label in row.cells for row in c.rows):
            hits.append(("matrix", name))
        elif group in ("", name) and label in policy.labels.get(name, ()):
            hits.append(("classify", name))
    if not hits:
        labels = {lab for labs in policy.labels.values() for lab in labs}
        hint = did_you_mean(label, labels)
        raise DataError(f"--capacity {spec}={n}: {policy.label} has no label `{label}`" + (f"; {hint[0]}" if hint else ""))
    if len(hits) > 1:
        raise DataError(f"--capacity {spec}={n}: `{label}` is a label of " + ", ".join(f"`{h[1]}`" for h in hits)
                        + f"; write GROUP.LABEL, e.g. {hits[0][1]}.{label}={n}")
    kind, name = hits[0]
    if kind == "classify":
        raise DataError(f"--capacity {spec}={n}: `{name}` is a classify; calibrate fits capacity to a band or matrix label only")
    if kind == "band":
        moves = [(name, _edge(policy.bands[name], {label}))]
        at = [b.label for b in policy.bands[name].bands].index(label)

        def member(t):
            return band_of(t[name], scores[name]) == at
    else:
        m = policy.classifications[name]
        cells = {(row.band, col) for row in m.rows for col, cell in zip(m.columns, row.cells) if cell == label}
        moves = [(m.rows_score, _edge(policy.bands[m.rows_score], {r for r, _ in cells})),
                 (m.cols_score, _edge(policy.bands[m.cols_score], {c for _, c in cells}))]
        rows, cols = ([b.label for b in policy.bands[s].bands] for s in (m.rows_score, m.cols_score))
        table = np.zeros((len(rows), len(cols)), dtype=bool)  # which (row band, column band) cells hold the label
        for r, c in cells:
            table[rows.index(r), cols.index(c)] = True
        keep = ~dq

        def member(t):
            return table[band_of(t[m.rows_score], scores[m.rows_score]), band_of(t[m.cols_score], scores[m.cols_score])] & keep
    moves = [(s, i) for s, i in moves if i is not None]
    if not moves:
        return thresholds
    grids = [_candidates(scores[s], CANDIDATES[len(moves) - 1]) for s, _ in moves]
    default = [float((scores[s] >= thresholds[s][i]).mean()) for s, i in moves]
    best = None
    for combo in np.array(np.meshgrid(*grids)).reshape(len(moves), -1).T:
        t = dict(thresholds)
        for (s, i), v in zip(moves, combo):
            t[s] = _with(t[s], i, float(v))
        inside = member(t)
        count, wins = int(inside.sum()), int((inside & won & train).sum())
        fits = abs(count - n) <= CAPACITY_SLACK * n
        together = True
        if len(moves) == 2 and all(default):  # both thresholds moved by about the same factor of their shares
            ratios = [max(float((scores[s] >= v).mean()), 1e-9) / d for (s, _), v, d in zip(moves, combo, default)]
            together = abs(np.log(ratios[0]) - np.log(ratios[1])) <= np.log(BALANCE)
        key = (fits, together and fits, wins if fits else -abs(count - n), -abs(count - n))
        if best is None or key > best[0]:
            best = (key, t)
    return best[1]
