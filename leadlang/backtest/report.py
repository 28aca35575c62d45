"""Render a back-test: text tables for a terminal, JSON for scripts, one self-contained HTML file for people."""

from __future__ import annotations

import json
import math
from functools import lru_cache

from leadlang.backtest.compute import Backtest, Figures


def pct(x: float | None, places: int = 1) -> str:
    return "–" if x is None else f"{100 * x:.{places}f}%"


def num(x: float | int | None, places: int = 2) -> str:
    if x is None:
        return "–"
    if isinstance(x, int) or float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.{places}f}".rstrip("0").rstrip(".")


def signed(x: float | int | None, percent: bool = False) -> str:
    if x is None:
        return "–"
    text = f"{100 * x:+.1f} pt" if percent else (f"{x:+,}" if isinstance(x, int) else f"{x:+.2f}")
    return text


def _table(header: list[str], rows: list[list[str]], indent: str = "  ") -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the others right-aligned."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: indent + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))  # noqa: E731
    return [line(header), *(line(r) for r in rows)]


def _group_rows(rows: list[dict], revenue: bool) -> tuple[list[str], list[list[str]]]:
    header = ["label", "leads", "won", "win rate", "95% CI", "lift", "win share"] + (["rev share"] if revenue else []) + ["median days"]
    body = [[r["label"], num(r["leads"]), num(r["won"]), pct(r["win_rate"]),
             _ci(r),
             "–" if r["lift"] is None else f"{r['lift']:.2f}", pct(r["win_share"])]
            + ([pct(r["revenue_share"])] if revenue else []) + [num(r["median_days_to_close"], 1)] for r in rows]
    return header, body


def _ci(r: dict) -> str:
    return "–" if r["ci_low"] is None else f"{pct(r['ci_low'])}–{pct(r['ci_high'])}"


def written_points(points: int | float | None, kind: str, cap: int | float | None) -> str:
    """A rule's points as written: `+40`, `+10 per, max 60`."""
    if points is None:
        return "–"
    text = f"{points:+}" if isinstance(points, int) else f"{points:+g}"
    return text + (" per" if kind == "per" else "") + ("" if cap is None else f", max {num(cap)}")


def rule_points(r: dict) -> str:
    return written_points(r["points"], r["kind"], r["max"])


def rules_text(name: str, rows: list[dict]) -> list[str]:
    """One score's per-rule table: how often each rule fired, the win rate of the leads it fired on and of the rest."""
    return [f"{name} rules", *_table(
        ["rule", "points", "fires", "share", "win rate fired", "95% CI", "not fired", "95% CI", "lift fired"],
        [[r["rule"], rule_points(r), num(r["fires"]), pct(r["fire_share"]), pct(r["fired"]["win_rate"]), _ci(r["fired"]),
          pct(r["not_fired"]["win_rate"]), _ci(r["not_fired"]), "–" if r["fired"]["lift"] is None else f"{r['fired']['lift']:.2f}"]
         for r in rows])]


def figures_text(f: Figures) -> list[str]:
    """One policy's figures as plain text tables."""
    base = pct(f.base_rate)
    out = [f"{f.policy}, as of {f.to_json()['as_of']}",
           f"  leads {f.leads:,}  won {f.won:,} ({base})  lost {f.lost:,}  open {f.open:,}"
           + (f"  won revenue {num(f.revenue)}" if f.revenue is not None else ""),
           f"  outcome rows {f.outcomes['rows']:,}; leads without one {f.outcomes['leads_without_outcome']:,} (not won); "
           f"rows for no lead {f.outcomes['unmatched']:,}"]
    for name, rows in f.groups.items():
        out += ["", name, *_table(*_group_rows(rows, f.revenue is not None))]
    for name, s in f.scores.items():
        auc = "–" if s["auc"] is None else f"{s['auc']:.3f}"
        out += ["", f"{name}  ROC AUC {auc}"]
        out += _table(["decile", "min", "max", "leads", "won", "win rate", "lift", "cum. leads", "cum. win share"],
                      [[str(d["decile"]), num(d["min"]), num(d["max"]), num(d["leads"]), num(d["won"]), pct(d["win_rate"]),
                        "–" if d["lift"] is None else f"{d['lift']:.2f}", num(d["cum_leads"]), pct(d["cum_win_share"])] for d in s["deciles"]])
        if f.rules.get(name):
            out += ["", *rules_text(name, f.rules[name])]
    if f.history is not None:
        out += ["", *history_text(f.history)]
    return out


def history_text(h: dict) -> list[str]:
    """Time to qualify (days from entering each label to close, won leads) and the win rate of each weekly entry cohort."""
    out = [f"time to qualify: {h['points']} as-of points from {h['from']} every {h['every']}"]
    for name, rows in h["labels"].items():
        out += ["", f"{name}: days from entering a label to close (won leads)", *_table(
            ["label", "entered", "won", "timed", "q1", "median", "q3", "entered after close"],
            [[r["label"], num(r["entered"]), num(r["won"]), num(r["won_with_close"]),
              *(num(None if r["days_to_close"] is None else r["days_to_close"][k], 1) for k in ("q1", "median", "q3")),
              num(r["won_entered_after_close"])] for r in rows])]
        out += [f"{name}: win rate by week of entry", *_table(
            ["label", "week", "leads", "won", "win rate"],
            [[r["label"], c["week"], num(c["leads"]), num(c["won"]), pct(c["win_rate"])] for r in rows for c in r["cohorts"]])]
    return out


def side_by_side(bt: Backtest) -> dict[str, list[dict]]:
    """Per shared group and label: the champion's row, the challenger's row (None where a policy lacks the label), the differences."""
    out = {}
    for name, diffs in bt.differences["groups"].items():
        a, b = ({r["label"]: r for r in f.groups[name]} for f in (bt.champion, bt.challenger))
        out[name] = [{"label": d["label"], "a": a.get(d["label"]), "b": b.get(d["label"]), "d": d} for d in diffs]
    return out


def _arrow(a: dict | None, b: dict | None, key: str, fmt) -> str:
    return f"{'–' if a is None else fmt(a[key])} → {'–' if b is None else fmt(b[key])}"


def render_text(bt: Backtest) -> str:
    out = figures_text(bt.champion)
    if bt.challenger is not None:
        out += ["", "=" * 72, "challenger: " + "\n".join(figures_text(bt.challenger)), "", "=" * 72,
                f"champion {bt.champion.policy} → challenger {bt.challenger.policy}"]
        for name, rows in side_by_side(bt).items():
            out += ["", name, *_table(
                ["label", "leads", "Δ", "win rate", "Δ", "win share", "Δ", "Δ lift", "Δ rev share"],
                [[r["label"], _arrow(r["a"], r["b"], "leads", num), signed(r["d"]["leads"]),
                  _arrow(r["a"], r["b"], "win_rate", pct), signed(r["d"]["win_rate"], True),
                  _arrow(r["a"], r["b"], "win_share", pct), signed(r["d"]["win_share"], True),
                  signed(r["d"]["lift"]), signed(r["d"]["revenue_share"], True)] for r in rows])]
        scores = bt.differences["scores"]
        if scores:
            out += ["", *_table(["score", "ROC AUC", "Δ"], [[s, f"{_auc(bt.champion, s)} → {_auc(bt.challenger, s)}",
                                                              "–" if v["auc"] is None else f"{v['auc']:+.3f}"] for s, v in scores.items()])]
    if bt.capacity:
        out += ["", "capacity", *_table(["policy", "label", "leads", "capacity", "fits", "over"],
                                        [[c["policy"], f"{c['group']}.{c['label']}", num(c["leads"]), num(c["capacity"]),
                                          "yes" if c["fits"] else "no", num(c["over"])] for c in bt.capacity])]
    return "\n".join(out)


def _auc(f: Figures, score: str) -> str:
    auc = f.scores[score]["auc"]
    return "–" if auc is None else f"{auc:.3f}"


def render_json(bt: Backtest) -> str:
    return json.dumps(bt.to_json(), indent=2, ensure_ascii=False)


# ------------------------------------------------------------------ HTML --


@lru_cache(maxsize=None)
def _env():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("leadlang.backtest", "templates"), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters.update(pct=pct, num=num, signed=signed, colour=win_colour, points=rule_points)
    env.globals.update(text_on=text_on, delta_class=lambda d: "" if not d else "pos" if d > 0 else "neg", written_points=written_points, zip=zip)
    return env


def win_colour(rate: float | None, top: float | None) -> str:
    """A cell's fill: white for no wins, deep teal for the best win rate of the chart."""
    if rate is None or not top:
        return "#f1f3f5"
    t = max(0.0, min(1.0, rate / top))
    lo, hi = (247, 251, 250), (12, 110, 104)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(lo, hi))


def text_on(rate: float | None, top: float | None) -> str:
    return "#ffffff" if rate is not None and top and rate / top > 0.55 else "#1d2733"


def _axis(lo: float, hi: float, ticks: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    return [lo + (hi - lo) * i / ticks for i in range(ticks + 1)]


def _nice_top(top: float) -> tuple[float, list[float]]:
    """A round axis top at or above `top` and its ticks: steps of 1, 2, 2.5 or 5 times a power of ten."""
    if top <= 0:
        return 1.0, [0.0, 1.0]
    raw = top / 4
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return n * step, [i * step for i in range(n + 1)]


def rates_top(rows: list[dict]) -> float:
    """The scale of a table's win-rate bars: its highest interval end (1 when there is none)."""
    return max([r["ci_high"] for r in rows if r["ci_high"] is not None] + [0]) or 1.0


def _policy_view(f: Figures) -> dict:
    """What the template draws for one policy: geometry in chart units, computed here, not in Jinja."""
    scores = []
    for name, s in f.scores.items():
        ch = f.charts[name]
        h = ch["histogram"]
        won_total, not_total = sum(h["won"]) or 1, sum(h["not_won"]) or 1
        shares = [(w / won_total, n / not_total) for w, n in zip(h["won"], h["not_won"])]
        top = max([max(a, b) for a, b in shares] + [1e-9])
        width = (h["hi"] - h["lo"]) / len(shares) if shares else 0
        bins = [{"from": h["lo"] + i * width, "to": h["lo"] + (i + 1) * width, "won": a / top, "not_won": b / top,
                 "won_share": a, "not_won_share": b} for i, (a, b) in enumerate(shares)]
        best, rate_ticks = _nice_top(max([d["win_rate"] for d in s["deciles"]] + [0]))
        rules = f.rules.get(name, [])
        scores.append({"name": name, "auc": s["auc"], "deciles": s["deciles"], "decile_top": best, "roc": ch["roc"],
                       "hist": bins, "hist_lo": h["lo"], "hist_hi": h["hi"], "hist_ticks": _axis(h["lo"], h["hi"], 4),
                       "rate_ticks": rate_ticks, "rules": rules, "rules_top": rates_top([x for r in rules for x in (r["fired"], r["not_fired"])])})
    matrices = []
    for name, m in f.matrices.items():
        top = max([c["win_rate"] or 0 for c in m["cells"]] + [m["disqualified"]["win_rate"] or 0])
        grid = [[c for c in m["cells"] if c["row"] == band] for band in m["row_bands"]]
        matrices.append({"name": name, **m, "grid": grid, "top": top})
    tops = {name: rates_top(rows) for name, rows in f.groups.items()}
    return {"f": f, "scores": scores, "matrices": matrices, "tops": tops, "has_revenue": f.revenue is not None}


def render_html(bt: Backtest) -> str:
    """The report: one HTML file with inline CSS and SVG, no scripts and nothing fetched."""
    views = [_policy_view(bt.champion)] + ([_policy_view(bt.challenger)] if bt.challenger else [])
    return _env().get_template("report.html.j2").render(
        bt=bt, views=views, differences=bt.differences, capacity=bt.capacity,
        compare=side_by_side(bt) if bt.challenger else {})
