"""Where `leadlang score` on DuckDB spends its time, in one process, against the hand-written query.

    python benchmarks/output_profile.py                      # 100k leads / 2.7M events (score_bench's generator)
    python benchmarks/output_profile.py --leads 1000000 --product 20000000 --marketing 7000000 --runs 1

For the PLG policy over `score_bench.py`'s Parquet data it times, in one process so start-up is
left out: the hand-written query `COPY`ing CSV, JSONL and Parquet; checking the data files
(`io.register_dataset`); the compiled query alone (to Arrow); and the compiled query written by
each of leadlang's paths (`engine.write_text` for CSV and JSONL, `engine._copy` for Parquet).
Then for the ABM example (`by account`) scaled to about as many leads as CSV files: checking the
files (converted cell by cell) against the compiled query. Wall and CPU seconds, medians of
`--runs`, and the ratio to the hand-written query's; it asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import score_bench as bench  # noqa: E402  (the generator, the hand-written query, the ABM data)

ROOT = Path(__file__).resolve().parent.parent


def timed(runs: int, f) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        f()
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    import duckdb

    sys.path.insert(0, str(ROOT))
    from leadlang import engine, load
    from leadlang.data.staging import register_dataset
    from leadlang.sql import to_sql

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench-100k"))
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--product", type=int, default=2_000_000)
    ap.add_argument("--marketing", type=int, default=700_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    data = args.dir.resolve()
    bench.generate(data, args.leads, args.product, args.marketing)
    out = Path(tempfile.mkdtemp(prefix="leadlang-profile-"))
    as_of = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    rows = []

    def row(label: str, figures: tuple[float, float], base: tuple[float, float] | None = None) -> None:
        ratio = f"{figures[0] / base[0]:5.2f}x wall {figures[1] / base[1]:5.2f}x cpu" if base else ""
        rows.append(f"  {label:<44} {figures[0]:7.2f} s  cpu {figures[1]:6.2f} s  {ratio}")
        print(rows[-1], flush=True)

    print(f"PLG, {args.leads:,} leads, {args.product + args.marketing:,} events; medians of {args.runs} runs")
    hand = {}
    for fmt in ("csv", "jsonl", "parquet"):
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        hand[fmt] = timed(args.runs, lambda: con.execute(bench.hand_sql(data, out / f"hand.{fmt}", fmt)))
        row(f"hand-written query, COPY {fmt}", hand[fmt])
        con.close()
    policy = load(str(bench.POLICY))
    con = duckdb.connect()
    register = timed(args.runs, lambda: register_dataset(con, policy, data))
    tables = register_dataset(con, policy, data)
    sql = to_sql(policy, "duckdb", as_of, engine.relations_for(policy, tables))
    row("checking the three files (register_dataset)", register, hand["csv"])
    row("compiled query alone, to Arrow", timed(args.runs, lambda: con.sql(sql).to_arrow_table()), hand["parquet"])
    columns = [(o.name, o.kind) for o in policy.outputs]
    for fmt in ("csv", "jsonl"):
        row(f"compiled query, write_text {fmt}", timed(args.runs, lambda: engine.write_text(con, sql, columns, out / f"ll.{fmt}", None)), hand[fmt])
    row("compiled query, COPY parquet", timed(args.runs, lambda: engine._copy(con, policy, sql, out / "ll.parquet")), hand["parquet"])
    con.close()

    copies = max(1, args.leads // 1500)
    abm_data = bench.scaled_abm(data / f"abm-x{copies}", copies)
    abm = load(str(bench.ABM))
    print(f"\nABM (`by account`), its example data x{copies} as CSV")
    con = duckdb.connect()
    check = timed(args.runs, lambda: register_dataset(con, abm, abm_data))
    tables = register_dataset(con, abm, abm_data)
    sql = to_sql(abm, "duckdb", as_of, engine.relations_for(abm, tables))
    query = timed(args.runs, lambda: con.sql(sql).to_arrow_table())
    row("compiled query alone, to Arrow", query)
    row("checking the four CSV files (register_dataset)", check, query)
    columns = [(o.name, o.kind) for o in abm.outputs]
    row("compiled query, write_text csv", timed(args.runs, lambda: engine.write_text(con, sql, columns, out / "abm.csv", None)), query)


if __name__ == "__main__":
    main()
