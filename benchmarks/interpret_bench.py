"""`leadlang score --engine python -o out.csv` (the interpreter, end to end) against the same command at a
baseline revision, in one run, on both benchmark policies: PLG and `benchmarks/account_bench.lead`
(`by account`, regular expressions, derived scores).

    python benchmarks/interpret_bench.py                          # 100k leads, 2.7M events
    python benchmarks/interpret_bench.py --leads 1000000 --no-baseline
    python benchmarks/interpret_bench.py --baseline-rev 09d3b21   # the revision to compare with

Data: the four Parquet files of `bench_data.generate` (the test corpus's edge cases; 20 product
and 7 marketing events per lead), made once per size in `--dir` and read by both policies.

Every figure is a separate process: wall time, CPU seconds (user + system; the
machine may be shared) and peak RSS of that child alone, with events per wall
second and per CPU second. The baseline is the `leadlang` package of
`--baseline-rev` (extracted with `git archive`), run on the same data in the same
run; both outputs are compared byte for byte. It prints figures; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import AS_OF, generate  # noqa: E402
from score_bench import BENCH_POLICIES, ROOT, run_process  # noqa: E402

BASELINE_REV = "09d3b21"  # main before the Python engine's end-to-end tuning (explanation rows on demand, collector frozen)


def _baseline(rev: str, into: Path) -> Path:
    """The `leadlang` package of `rev`, extracted under `into`: a directory to put on PYTHONPATH."""
    archive = subprocess.run(["git", "archive", "--format=tar", rev, "leadlang", "grammar"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(into)
    return into


def _events(data: Path) -> int:
    import duckdb

    total = 0
    for name in ("product", "marketing"):
        path = next(data.glob(f"{name}.*"))
        reader = "read_parquet" if path.suffix == ".parquet" else "read_csv"
        total += duckdb.sql(f"SELECT count(*) FROM {reader}('{path}')").fetchall()[0][0]
    return total


# `python -m leadlang` would put the working directory first on sys.path: the code to time goes before it
_RUN = "import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); runpy.run_module('leadlang', run_name='__main__', alter_sys=True)"


def _score(code: Path, policy: Path, data: Path, out: Path, log: Path):
    """`leadlang score --engine python` with the `leadlang` package found in `code`: (wall, peak RSS MiB, CPU s)."""
    return run_process([sys.executable, "-c", _RUN, str(code), "score", str(policy), "--data", str(data), "--as-of", AS_OF,
                        "--engine", "python", "-o", str(out)], log)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench-interpret"))
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--baseline-rev", default=BASELINE_REV)
    ap.add_argument("--no-baseline", action="store_true", help="only the current code (the baseline holds every event in memory)")
    ap.add_argument("--only", choices=sorted(BENCH_POLICIES), help="one policy")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="leadlang-interpret-bench-"))
    old_code = None if args.no_baseline else _baseline(args.baseline_rev, work / "baseline")
    data = args.dir / f"bench-{args.leads}"
    generate(data, args.leads)
    events = _events(data)
    cases = [(name, policy) for name, policy in BENCH_POLICIES.items() if args.only in (None, name)]
    print(f"{'policy':<18} {'path':<22} {'wall':>8} {'cpu':>8} {'RSS':>9} {'events/s wall':>14} {'events/s cpu':>13}")
    for label, policy in cases:
        runs = [("this code", ROOT)] + ([] if old_code is None else [(f"baseline {args.baseline_rev}", old_code)])
        figures, outs = {}, []
        for name, code in runs:
            out = work / f"{policy.stem}-{len(outs)}.csv"
            wall, rss, cpu = _score(code, policy, data, out, work / f"{policy.stem}-{len(outs)}.log")
            figures[name] = (wall, cpu, rss)
            outs.append(out)
            print(f"{label:<18} {name:<22} {wall:7.2f}s {cpu:7.2f}s {rss:6,} MiB {events / wall:14,.0f} {events / cpu:13,.0f}")
        if len(outs) == 2:
            (w_new, c_new, m_new), (w_old, c_old, m_old) = figures.values()
            same = outs[0].read_bytes() == outs[1].read_bytes()
            print(f"{'':<18} {'ratio baseline/new':<22} {w_old / w_new:7.2f}x {c_old / c_new:7.2f}x {m_old / m_new:8.2f}x   "
                  f"identical output: {same}   ({events:,} events)")


if __name__ == "__main__":
    main()
