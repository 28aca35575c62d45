"""`leadlang score --summary`: each score's distribution and band cut-offs, each label's count and share,
checked against the scored rows themselves."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from leadlang.check import load
from leadlang.cli import main
from leadlang.history.series import label_columns

ROOT = Path(__file__).parent.parent
POLICIES = [ROOT / "policies/plg/plg.lead", ROOT / "policies/abm/abm.lead"]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize("path", POLICIES, ids=lambda p: p.stem)
def test_summary_matches_the_rows(path, tmp_path):
    policy = load(path)
    args = ["score", path, "--data", path.parent / "data", "--as-of", "2024-06-01"]
    rows = list(csv.DictReader(io.StringIO(run(*args).stdout)))
    out = tmp_path / "rows.csv"
    r = run(*args, "--summary", "json", "-o", out)
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    assert out.read_text(encoding="utf-8") == run(*args).stdout  # -o still gets exactly the rows
    assert summary["schema"] == "leadlang.summary/1" and summary["leads"] == len(rows)
    for sc in summary["scores"]:
        values = sorted(Decimal(row[sc["name"]]) for row in rows if row[sc["name"]] != "")
        assert Decimal(sc["min"]) == values[0] and Decimal(sc["max"]) == values[-1]
        assert Decimal(sc["median"]) == statistics.median(values)
        assert sum(b["leads"] for b in sc["histogram"]) == len(values)
        for b in sc["histogram"]:
            last = b is sc["histogram"][-1]
            inside = [v for v in values if Decimal(b["from"]) <= v and (v < Decimal(b["to"]) or (last and v <= Decimal(b["to"])))]
            assert b["leads"] == len(inside), (sc["name"], b)
        bands = policy.bands.get(sc["name"])
        assert [(c["band"], Decimal(c["from"])) for c in sc["cut_offs"]] == ([] if bands is None else
                                                                           [(b.label, b.threshold) for b in bands.bands if b.threshold is not None])
    assert [lab["column"] for lab in summary["labels"]] == label_columns(policy)
    for lab in summary["labels"]:
        counts = Counter(row[lab["column"]] for row in rows)
        got = {("" if e["label"] is None else e["label"]): e["leads"] for e in lab["labels"]}
        assert {k: v for k, v in got.items() if v} == dict(counts), lab["column"]
        assert all(e["share"] == round(e["leads"] / len(rows), 4) for e in lab["labels"])
    text = run(*args, "--summary").stdout
    assert text.startswith(f"{len(rows):,} leads")
    for lab in summary["labels"]:
        assert f"\n{lab['column']}\n" in text


def test_a_label_no_lead_has_is_listed_with_zero(tmp_path):
    path = POLICIES[0]
    summary = json.loads(run("score", path, "--data", path.parent / "data", "--as-of", "2000-01-01", "--summary", "json").stdout)
    segment = next(lab for lab in summary["labels"] if lab["column"] == "segment")
    declared = list(load(path).labels["segment"])
    assert [e["label"] for e in segment["labels"]][: len(declared)] == declared
    assert any(e["leads"] == 0 for e in segment["labels"])  # in 2000 nobody is engaged
