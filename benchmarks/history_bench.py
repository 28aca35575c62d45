"""`leadlang history` against one `leadlang score` of the same data, in the same run.

    python benchmarks/history_bench.py --dir /work/bench-data                 # 100k leads, 9 and 13 weekly points, both policies
    python benchmarks/history_bench.py --dir /work/bench-data --sizes 1M --points 13 --policies plg

Per policy (PLG and `benchmarks/account_bench.lead`, `by account`) and size (the data `score_bench.py` makes,
read from `--dir/<size>`, never generated here), each command is a separate process timed for wall time,
CPU seconds (user + system: the steadier figure on a shared machine) and peak RSS:
`score --as-of 2024-06-01 -o score.csv`, then `history --from (2024-06-01 - (N-1) weeks) --to 2024-06-01
--every '1 week' -o history.csv` for each N of `--points`. It prints the figures and the ratios history/score
and never asserts a timing; it exits 1 when the history's rows at 2024-06-01 are not the score's rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_bench import BENCH_POLICIES, leadlang_cmd, progress, run_process  # noqa: E402

AS_OF = dt.date(2024, 6, 1)


def same_last_point(score_csv: Path, history_csv: Path, key: str) -> bool:
    """The history's lines at AS_OF are the score's lines, in the same order."""
    import duckdb

    con = duckdb.connect()
    read = "read_csv('{}', all_varchar = true, header = true)"
    last = f"{AS_OF.isoformat()}T00:00:00Z"
    diff = con.execute(
        f"SELECT count(*) FROM ((SELECT * FROM {read.format(score_csv)}) EXCEPT ALL (SELECT * FROM {read.format(history_csv)} WHERE as_of = ?))",
        [last]).fetchone()[0]
    rows = con.execute(f"SELECT count(*) FROM {read.format(score_csv)}").fetchone()[0]
    return diff == 0 and rows == con.execute(f"SELECT count(*) FROM {read.format(history_csv)} WHERE as_of = ?", [last]).fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench"), help="the data of score_bench.py: DIR/<size>")
    ap.add_argument("--sizes", default="100k", help="comma-separated sizes, folders of DIR (default 100k)")
    ap.add_argument("--points", default="9,13", help="comma-separated counts of weekly points (default 9,13)")
    ap.add_argument("--policies", default=",".join(BENCH_POLICIES), help=f"comma-separated, of {', '.join(BENCH_POLICIES)}")
    ap.add_argument("--work", type=Path, help="where outputs go (default: a new temporary directory)")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="history-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    failed = False
    print("| size | policy | command | wall s | CPU s | peak RSS MiB | wall / score | CPU / score |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for size in args.sizes.split(","):
        data = args.dir / size
        if not (data / "leads.parquet").exists() and not (data / "leads.csv").exists():
            sys.exit(f"{data}: no benchmark data; make it with score_bench.py --sizes {size} --generate-only --dir {args.dir}")
        for name in args.policies.split(","):
            policy = BENCH_POLICIES[name]
            out = work / f"{size}-{name}-score.csv"
            progress(f"{size} {name}: score")
            wall, rss, cpu = run_process(leadlang_cmd("score", str(policy), "--data", str(data), "--as-of", AS_OF.isoformat(), "-o", str(out)),
                                         work / "score.log")
            print(f"| {size} | {name} | score | {wall:.2f} | {cpu:.2f} | {rss} | 1.00 | 1.00 |", flush=True)
            for n in (int(p) for p in args.points.split(",")):
                start = AS_OF - dt.timedelta(weeks=n - 1)
                hist = work / f"{size}-{name}-history-{n}.csv"
                progress(f"{size} {name}: history, {n} weekly points")
                h_wall, h_rss, h_cpu = run_process(leadlang_cmd(
                    "history", str(policy), "--data", str(data), "--from", start.isoformat(), "--to", AS_OF.isoformat(),
                    "--every", "1 week", "-o", str(hist)), work / "history.log")
                ok = same_last_point(out, hist, "lead_id")
                failed |= not ok
                print(f"| {size} | {name} | history, {n} points{'' if ok else ' (ROWS DIFFER)'} | {h_wall:.2f} | {h_cpu:.2f} | {h_rss} | "
                      f"{h_wall / wall:.2f} | {h_cpu / cpu:.2f} |", flush=True)
                hist.unlink()
            out.unlink()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
