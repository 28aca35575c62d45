"""benchmarks/score_bench.py end to end on 300 leads, so it cannot rot: every path runs and every
output cell equals the hand-written queries'; and its comparison catches a wrong cell."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import score_bench  # noqa: E402
from bench_data import describe  # noqa: E402


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("bench")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "score_bench.py"), "--sizes", "300", "--dir", str(base / "data"),
                           "--work", str(base / "work"), "--python-max-leads", "300", "--keep-outputs"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    return done, base


def test_every_path_runs_and_every_cell_equals_the_hand_written_query(bench_run):
    done, _ = bench_run
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    out = done.stdout
    assert "MISMATCH" not in out
    assert "every output cell equal to the hand-written query" in out
    for policy in ("plg", "account_bench"):
        for path in ("score -o out.csv", "score > out.csv (stdout)", "score -o out.jsonl", "score -o out.parquet",
                     "diff OLD NEW", "score --engine python"):
            assert f"| 300 | {policy} | `{path}` |" in out, (policy, path)
        assert f"| 300 | {policy} | `explain --lead L" in out
    assert out.count("cells equal") == 2 * 5  # four formats and the Python engine, per policy
    assert out.count("equal the hand-written row") == 2  # explain
    assert out.count("equal the `score -o out.parquet` row") == 2
    assert out.count("moved leads and the changed counts") == 2  # diff


def test_the_data_holds_the_edge_cases(bench_run):
    _, base = bench_run
    counts = describe(base / "data" / "300")
    assert counts["duplicate lead keys"] == 0
    for name in ("product events of unknown leads", "product events after as-of", "product events on a whole-day boundary",
                 "leads with missing or empty email", "leads with quotes/newlines/commas", "leads with non-ASCII text"):
        assert counts[name] > 0, name


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_the_comparison_catches_one_wrong_cell(bench_run, fmt, tmp_path):
    """One decimal off in its 10th place, or one row missing, is reported."""
    done, base = bench_run
    assert done.returncode == 0
    work = base / "work"
    from leadlang.check import load

    outputs = [(o.name, o.kind) for o in load(score_bench.BENCH_POLICIES["account_bench"]).outputs]
    leadlang_out, hand_out = work / f"account_bench.{fmt}.{fmt}", work / f"account_bench.{fmt}.hand.{fmt}"
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    assert score_bench.compare_cells(con, outputs, "as written", (leadlang_out, fmt), (hand_out, fmt)) == 0

    bad = tmp_path / f"bad.{fmt}"
    if fmt == "parquet":
        con.execute(f"COPY (SELECT * REPLACE (CASE WHEN lead_id = (SELECT max(lead_id) FROM '{leadlang_out}') "
                    f"THEN account_pulse + 0.0000000001 ELSE account_pulse END AS account_pulse) FROM '{leadlang_out}' ORDER BY lead_id) "
                    f"TO '{bad}' (FORMAT parquet)")
    else:
        lines = leadlang_out.read_bytes().split(b"\n")
        row = 0 if fmt == "jsonl" else 1  # the first lead (CSV: after the header)
        if fmt == "jsonl":
            obj = json.loads(lines[row])
            obj["account_pulse"] = None
            lines[row] = json.dumps(obj).encode()
        else:
            del lines[row]
        bad.write_bytes(b"\n".join(lines))
    assert score_bench.compare_cells(con, outputs, "mutated", (bad, fmt), (hand_out, fmt)) > 0
