"""`leadlang backtest` on the score benchmark's leads: how long a back-test of 1M leads takes.

    python benchmarks/score_bench.py --sizes 1m --generate-only     # makes /tmp/leadlang-bench/1M first
    python benchmarks/backtest_bench.py [--dir /tmp/leadlang-bench/1M] [--out /tmp/leadlang-backtest] [--runs 3]

Writes `outcomes.parquet` (one row per lead but 3% of them, won/lost/open from a
hash of the key, amounts and close dates, plus 1,000 rows for unknown keys)
into `--out`, then times the whole `leadlang backtest` process (wall time,
median of `--runs`): scoring the PLG policy on DuckDB as of 2024-06-01, and
every figure, with the JSON output and the HTML report. Prints; never asserts.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent


def outcomes(data: Path, out: Path) -> int:
    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT lead_id, CASE WHEN h % 100 < 22 THEN 'won' WHEN h % 100 < 30 THEN 'open' ELSE 'lost' END AS outcome,
               CAST(1000 + h % 90000 AS DECIMAL(12, 2)) AS amount,
               TIMESTAMPTZ '2024-06-01 00:00:00+00' + to_seconds(CAST(h % 12960000 AS BIGINT)) AS closed_at
        FROM (SELECT lead_id, hash(lead_id || 'outcome') AS h FROM read_parquet('{data / "leads.parquet"}'))
        WHERE h % 997 >= 30
        UNION ALL SELECT 'NOLEAD' || i, 'won', 10, NULL FROM range(1000) t(i)
    ) TO '{out}' (FORMAT parquet)""")
    return con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench/1M"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/leadlang-backtest"))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    if not (args.dir / "leads.parquet").exists():
        sys.exit(f"{args.dir}: no leads.parquet; run benchmarks/score_bench.py --sizes 1m --generate-only first")
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "outcomes.parquet"
    print(f"outcomes: {outcomes(args.dir, path):,} rows -> {path}")
    cmd = [sys.executable, "-m", "leadlang", "backtest", str(ROOT / "policies/plg/plg.lead"), "--data", str(args.dir),
           "--outcomes", str(path), "--as-of", "2024-06-01", "--format", "json", "--report", str(args.out / "backtest.html")]
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - t0)
        if done.returncode != 0:
            sys.exit(done.stderr)
    print(f"leadlang backtest, {len(times)} runs: median {statistics.median(times):.2f}s (min {min(times):.2f}s, max {max(times):.2f}s)")


if __name__ == "__main__":
    main()
