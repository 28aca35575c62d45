"""`leadlang score --summary`: what a policy does to the leads, with no outcomes needed.

Per score, its distribution (quartiles and a histogram over its range, the band cut-offs marked);
per label column (bands, criteria verdicts, `disqualified`, classifications), every label with its
count and share — the preview a CRM shows while a score is edited. Computed in DuckDB over the
scored rows.
"""

from __future__ import annotations

from decimal import Decimal

from leadlang.check.policy import Policy
from leadlang.history.series import label_columns

BINS = 10
SCHEMA = "leadlang.summary/1"


def summarize(policy: Policy, scored) -> dict:
    """The summary of `scored` (an Arrow table of `score`'s rows), as JSON-ready data."""
    import duckdb

    con = duckdb.connect()
    con.register("scored", scored)
    q = lambda name: '"' + name.replace('"', '""') + '"'  # noqa: E731  (the output's own column names)
    leads = con.execute("SELECT count(*) FROM scored").fetchone()[0]
    scores = []
    for name, sc in policy.scores.items():
        col = q(name)
        lo, p25, p50, p75, hi, mean = con.execute(
            f"SELECT min({col}), quantile_cont({col}, 0.25), median({col}), quantile_cont({col}, 0.75), max({col}), avg({col}) FROM scored"
        ).fetchone()
        low, high = (Decimal(sc.clamp.low), Decimal(sc.clamp.high)) if getattr(sc, "clamp", None) is not None else (lo, hi)
        bins = []
        if low is not None and high is not None:
            width = (Decimal(high) - Decimal(low)) / BINS if high != low else Decimal(1)
            counts = dict(con.execute(
                f"SELECT least(greatest(CAST(floor((CAST({col} AS DOUBLE) - ?) / ?) AS BIGINT), 0), {BINS - 1}) AS b, count(*) FROM scored "
                f"WHERE {col} IS NOT NULL GROUP BY b", [float(low), float(width)]).fetchall())
            bins = [{"from": _num(Decimal(low) + i * width), "to": _num(Decimal(low) + (i + 1) * width), "leads": counts.get(i, 0)}
                    for i in range(BINS if high != low else 1)]
        bands = policy.bands.get(name)
        scores.append({
            "name": name, "min": _num(lo), "p25": _num(p25), "median": _num(p50), "p75": _num(p75), "max": _num(hi), "mean": _num(mean),
            "histogram": bins,
            "cut_offs": [] if bands is None else [{"band": b.label, "from": _num(b.threshold)} for b in bands.bands if b.threshold is not None],
        })
    labels = []
    for column in label_columns(policy):
        found = dict(con.execute(f"SELECT CAST({q(column)} AS VARCHAR), count(*) FROM scored GROUP BY 1").fetchall())
        declared = [str(v).lower() if isinstance(v, bool) else v for v in _declared(policy, column)]
        order = declared + sorted((k for k in found if k not in declared), key=lambda k: (k is None, k or ""))
        labels.append({"column": column, "labels": [
            {"label": k, "leads": found.get(k, 0), "share": round(found.get(k, 0) / leads, 4) if leads else 0.0} for k in order]})
    return {"schema": SCHEMA, "policy": policy.label, "leads": leads, "scores": scores, "labels": labels}


def _declared(policy: Policy, column: str) -> list:
    """The values a label column can take, in the policy's order (booleans for verdicts)."""
    for score in policy.bands:
        if policy.band_column(score) == column:
            return list(policy.labels[score])
    if column in policy.classifications:
        return list(policy.labels[column])
    return [True, False]


def _num(value) -> str | None:
    """A figure as exact text (`score`'s plain decimals): no exponent, no trailing zeros."""
    if value is None:
        return None
    d = value if isinstance(value, Decimal) else Decimal(str(round(value, 4)) if isinstance(value, float) else value)
    text = format(d, "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def render_text(summary: dict, width: int = 40) -> str:
    """The summary for a terminal: a bar per histogram bin (▏ marks a band's cut-off), a line per label."""
    out = [f"{summary['leads']:,} leads — {summary['policy']}"]
    for sc in summary["scores"]:
        out += ["", f"score {sc['name']}: min {sc['min']}, p25 {sc['p25']}, median {sc['median']}, p75 {sc['p75']}, max {sc['max']}"]
        top = max((b["leads"] for b in sc["histogram"]), default=0) or 1
        cuts = [(Decimal(c["from"]), c["band"]) for c in sc["cut_offs"]]
        for b in sc["histogram"]:
            lo, hi = Decimal(b["from"]), Decimal(b["to"])
            bar = "█" * round(width * b["leads"] / top)
            mark = "".join(f"  ▏{band} from {cut}" for cut, band in cuts if lo <= cut < hi)
            out.append(f"  {b['from']:>8} – {b['to']:<8} {bar:<{width}} {b['leads']:>7,}{mark}")
    for lab in summary["labels"]:
        out += ["", lab["column"]]
        for entry in lab["labels"]:
            shown = "missing" if entry["label"] is None else entry["label"]
            out.append(f"  {shown:<20} {entry['leads']:>9,}  {100 * entry['share']:5.1f}%")
    return "\n".join(out) + "\n"
