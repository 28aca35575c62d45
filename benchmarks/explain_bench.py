"""`leadlang explain --lead KEY` at scale: wall, CPU and peak RSS of one process, against another checkout's.

    python benchmarks/explain_bench.py --dir /work/bench-data --sizes 100k,1m --before /work/main
    python benchmarks/explain_bench.py --dir /work/bench-data --sizes 100k --csv      # also a CSV copy of the data
    python benchmarks/explain_bench.py --dir /tmp/b --sizes 100k --whole              # also the whole directory interpreted

Data: `bench_data.py`'s Parquet files (edge-case strings, missing values, boundary timestamps) in
`--dir/<size>`; a size whose four files are there is used as it is (never regenerated, whatever its
generator version), a missing one is generated. Per size and policy, each figure is a separate
process, `--runs` times (median wall and CPU, max RSS):

1. start-up: `leadlang check POLICY` (the floor of any command);
2. `explain --lead KEY` of this checkout, for PLG (a lead without `by account` aggregates) and for
   `account_bench.lead` a lead of the busiest account (the most leads; its `by account` aggregates
   read every one of their events);
3. with `--before DIR`, the same command run from the checkout in DIR (its `leadlang` package
   first on PYTHONPATH), alternating with 2: the figures before a change, on the same machine at
   the same time; the two outputs must be byte-identical;
4. with `--csv`, the same on a CSV copy of the data (written once to `--csv-dir`): a CSV file has
   no statistics to skip by, so explain scans it whole;
5. with `--whole`, the lead explained from every lead and event of the directory loaded and
   interpreted (`load_dataset` + `evaluate`): the output must be byte-identical (slow and large
   beyond 100k leads).

It prints figures and ratios, exits 1 when an output differs, and never asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import AS_OF, generate, parse_size, size_label  # noqa: E402
from score_bench import BENCH_POLICIES, leadlang_cmd, run_process  # noqa: E402

FILES = ("leads", "accounts", "product", "marketing")
PLG_LEAD = "L00004242"  # the generator's keys are L + 8 digits

WHOLE = """
import datetime as dt, sys
from pathlib import Path
from leadlang.check import load
from leadlang.data.stream import load_dataset
from leadlang.explain import render_explanation
from leadlang.interpret import evaluate
p = load(sys.argv[1]); as_of = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
ds = load_dataset(p, Path(sys.argv[2]))
print(render_explanation(p, evaluate(p, ds.leads, ds.accounts, ds.events, as_of).states[sys.argv[3]], as_of))
"""


def data_dir(root: Path, n: int) -> Path:
    """`root/<size>` with the four Parquet files: reused as they are when present, else generated."""
    data = root / size_label(n)
    if not all((data / f"{name}.parquet").is_file() for name in FILES):
        print(f"generating {n:,} leads into {data}", file=sys.stderr)
        generate(data, n)
    return data


def busiest_lead(data: Path) -> tuple[str, str, int]:
    """(the smallest lead key of the account with the most leads, that account, its lead count)."""
    import duckdb

    q = (f"SELECT account_id, count(*) AS n, min(lead_id) FROM read_parquet('{data / 'leads.parquet'}') "
         "WHERE account_id IS NOT NULL AND account_id <> '' GROUP BY 1 ORDER BY n DESC, account_id LIMIT 1")
    account, n, lead = duckdb.connect().execute(q).fetchone()
    return lead, account, n


def csv_copy(data: Path, into: Path) -> Path:
    """The four files as CSV in `into` (written once)."""
    import duckdb

    into.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name in FILES:
        target = into / f"{name}.csv"
        if not target.is_file():
            print(f"writing {target}", file=sys.stderr)
            part = target.with_suffix(".part")
            con.execute(f"COPY (SELECT * FROM read_parquet('{data / (name + '.parquet')}')) TO '{part}' (FORMAT csv, HEADER true)")
            part.rename(target)
    return into


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench"), help="data in DIR/<size> (score_bench's layout)")
    ap.add_argument("--sizes", default="100k", help="comma-separated lead counts: 100k,1m")
    ap.add_argument("--policies", default="plg,account_bench")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--before", type=Path, help="a checkout whose leadlang to time alongside (e.g. main's)")
    ap.add_argument("--csv", action="store_true", help="also time explain on a CSV copy of the data")
    ap.add_argument("--csv-dir", type=Path, default=Path(tempfile.gettempdir()) / "leadlang-explain-csv")
    ap.add_argument("--whole", action="store_true", help="also check against the whole directory interpreted")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leadlang-explain-bench-"))
    load = os.getloadavg()
    print(f"explain --lead: wall / CPU (user+sys) / peak RSS of one process; median of {args.runs} runs; "
          f"load average {load[0]:.1f} on {os.cpu_count()} CPUs (CPU seconds are the steadier figure on a shared machine)")
    failed = False
    for n in (parse_size(s) for s in args.sizes.split(",")):
        parquet = data_dir(args.dir, n)
        inputs = [("parquet", parquet)] + ([("csv", csv_copy(parquet, args.csv_dir / size_label(n)))] if args.csv else [])
        for name in args.policies.split(","):
            policy = BENCH_POLICIES[name]
            if name == "plg":
                lead, what = PLG_LEAD, "one lead"
            else:
                lead, account, count = busiest_lead(parquet)
                what = f"busiest account {account}: {count} leads"
            print(f"\n{size_label(n)} leads, {name}, --lead {lead} ({what})")
            start = _timed(leadlang_cmd("check", str(policy)), work / "check", args.runs)
            _show("start-up: leadlang check", start)
            for fmt, data in inputs:
                cmd = leadlang_cmd("explain", str(policy), "--data", str(data), "--lead", lead, "--as-of", AS_OF)
                tag = f"{name}-{size_label(n)}-{fmt}"
                runs = {"after": [], "before": []}
                for _ in range(args.runs):  # alternating: both see the same machine
                    runs["after"].append(run_process(cmd, work / f"{tag}.log", work / f"{tag}.txt"))
                    if args.before:
                        runs["before"].append(run_process(_from(args.before, cmd), work / f"{tag}.before.log", work / f"{tag}.before.txt"))
                after = _summary(runs["after"])
                _show(f"explain, {fmt}", after, f"beyond start-up {after[2] - start[2]:.2f} s CPU")
                if args.before:
                    before = _summary(runs["before"])
                    same = (work / f"{tag}.txt").read_bytes() == (work / f"{tag}.before.txt").read_bytes()
                    failed |= not same
                    _show(f"before ({args.before}), {fmt}", before,
                          f"after/before: {after[0] / before[0]:.2f}x wall, {after[2] / before[2]:.2f}x CPU, "
                          f"{after[1] / before[1]:.2f}x RSS; same output: {same}")
            if args.whole:
                whole = run_process([sys.executable, "-c", WHOLE, str(policy), str(parquet), lead], work / "whole.log", work / "whole.txt")
                same = (work / f"{name}-{size_label(n)}-parquet.txt").read_bytes() == (work / "whole.txt").read_bytes()
                failed |= not same
                _show("whole directory interpreted", whole, f"same output: {same}")
    sys.exit(1 if failed else 0)


def _from(checkout: Path, cmd: list[str]) -> list[str]:
    """`cmd` (`python -m leadlang ...`) with the `leadlang` package of `checkout` first on the path (the
    benchmark runs commands in this checkout's folder, whose package `-m` would import)."""
    assert cmd[1:3] == ["-m", "leadlang"], cmd
    first = "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); runpy.run_module('leadlang', run_name='__main__', alter_sys=True)"
    return [cmd[0], "-c", first, str(checkout.resolve()), *cmd[3:]]


def _timed(cmd, log: Path, runs: int):
    return _summary([run_process(cmd, log.with_suffix(".log")) for _ in range(runs)])


def _summary(res):
    """(median wall, max RSS, median CPU)."""
    return statistics.median(r[0] for r in res), max(r[1] for r in res), statistics.median(r[2] for r in res)


def _show(label: str, figures, note: str = "") -> None:
    wall, rss, cpu = figures
    print(f"  {label:<44} {wall:7.2f} s wall  {cpu:6.2f} s CPU  {rss:6,} MiB" + (f"  {note}" if note else ""))


if __name__ == "__main__":
    main()
