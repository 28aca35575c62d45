"""`leadlang explain --lead KEY` and `leadlang score --engine python`, each against main's old code path, in one run.

    python benchmarks/explain_bench.py                        # 100k leads, 2M product, 700k marketing events
    python benchmarks/explain_bench.py --leads 1000000 --product 20000000 --marketing 6700000 --no-baseline

Data: the PLG Parquet files of `score_bench.py` (same generator, reused in `--dir`).
Every figure is a separate process: wall time and peak RSS (of that child alone).

1. start-up: `leadlang check` on the policy (the floor of any command);
2. `explain --lead KEY` (reads that lead's rows only), and the old path — the whole
   data directory loaded (`io.load_dataset`) and interpreted, as `explain` did before;
3. `score --engine python -o OUT.parquet` (streams chunks of leads), and the old path —
   `load_dataset` + `evaluate` + `write_rows` — with events/s for both.

It prints figures and ratios; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_bench import AS_OF, POLICY, generate, leadlang_cmd, run_process  # noqa: E402

OLD_EXPLAIN = """
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

OLD_SCORE = """
import datetime as dt, sys
from pathlib import Path
from leadlang.check import load
from leadlang.data.stream import load_dataset
from leadlang.data.writers import write_rows
from leadlang.interpret import evaluate
p = load(sys.argv[1]); as_of = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
ds = load_dataset(p, Path(sys.argv[2]))
r = evaluate(p, ds.leads, ds.accounts, ds.events, as_of)
write_rows(r.rows, [(o.name, o.kind) for o in p.outputs], Path(sys.argv[3]))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench-explain"))
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--product", type=int, default=2_000_000)
    ap.add_argument("--marketing", type=int, default=700_000)
    ap.add_argument("--lead", default="L00004242", help="the lead to explain (the generator's keys are L + 8 digits)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the old code paths (they hold every event in memory)")
    args = ap.parse_args()
    spent = generate(args.dir, args.leads, args.product, args.marketing)
    events = args.product + args.marketing
    print(f"data: {args.leads:,} leads, {events:,} events in {args.dir}" + (f" (generated in {spent:.1f}s)" if spent else " (reused)"))
    work = Path(tempfile.mkdtemp(prefix="leadlang-explain-bench-"))
    py = [sys.executable, "-c"]

    def show(label, figures, per_event=False):
        wall, rss, cpu = figures
        rate = f"  {events / wall:,.0f} events/s" if per_event else ""
        print(f"  {label:<34} {wall:8.2f} s  {rss:7,} MiB  cpu {cpu:7.2f} s{rate}")
        return figures

    print("start-up")
    start = show("leadlang check", run_process(leadlang_cmd("check", str(POLICY)), work / "check.log"))
    print(f"explain --lead {args.lead}")
    new = show("explain (one lead's rows)", run_process(leadlang_cmd("explain", str(POLICY), "--data", str(args.dir), "--lead", args.lead, "--as-of", AS_OF), work / "explain.log"))
    print(f"  beyond start-up: {new[0] - start[0]:.2f} s")
    if not args.no_baseline:
        old = show("old: whole directory interpreted", run_process([*py, OLD_EXPLAIN, str(POLICY), str(args.dir), args.lead], work / "explain-old.log"))
        text = [[line for line in (work / f).read_text().splitlines() if "▕" not in line] for f in ("explain.log", "explain-old.log")]
        same = text[0] == text[1]  # DuckDB's progress bar (standard error, in the same log) aside
        print(f"  ratio old/new: {old[0] / new[0]:.1f}x time, {old[1] / new[1]:.1f}x memory; same text: {same}")
    print("score --engine python")
    new = show("streamed", run_process(leadlang_cmd("score", str(POLICY), "--data", str(args.dir), "--as-of", AS_OF, "--engine", "python", "-o", str(work / "new.csv")), work / "score.log"), True)
    if not args.no_baseline:
        old = show("old: load_dataset + evaluate", run_process([*py, OLD_SCORE, str(POLICY), str(args.dir), str(work / "old.csv")], work / "score-old.log"), True)
        same = (work / "new.csv").read_bytes() == (work / "old.csv").read_bytes()
        print(f"  ratio old/new: {old[0] / new[0]:.2f}x time, {old[1] / new[1]:.2f}x memory; identical output: {same}")


if __name__ == "__main__":
    main()
