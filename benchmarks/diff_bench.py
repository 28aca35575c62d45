"""`leadlang diff OLD NEW` against one `leadlang score` of NEW on the same data, in one run.

    python benchmarks/diff_bench.py                       # 100k leads, 2M product, 700k marketing events
    python benchmarks/diff_bench.py --leads 1000000 --product 20000000 --marketing 6700000 --runs 1
    python benchmarks/diff_bench.py --baseline /path/to/another/checkout   # also that checkout's `diff`

Data: the PLG Parquet files of `score_bench.py` (same generator, reused in `--dir`).
OLD is `policies/plg/plg.lead`; NEW is a copy with a band threshold, two rules' points
and conditions and one aggregate's window changed (so NEW computes an aggregate OLD
has not). Every figure is a separate process, alternating: wall time (median of `--runs`),
CPU and peak RSS. It prints figures and the ratios diff / score (wall and CPU); it never asserts a timing.
The issue's target: a diff within 2x one scoring.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from score_bench import AS_OF, POLICY, generate, leadlang_cmd, run_process  # noqa: E402

EDITS = (
    ("bands fit        { high >= 60, low otherwise }", "bands fit        { high >= 55, low otherwise }"),
    ("+25 when employees between 200 and 5000", "+20 when employees between 150 and 5000"),
    ("+20 when invites_14d >= 3", "+25 when invites_14d >= 2"),
    ('count(product "teammate_invited" in last 14 days)', 'count(product "teammate_invited" in last 21 days)'),
)


def new_policy(work: Path) -> Path:
    text = POLICY.read_text(encoding="utf-8")
    for old, new in EDITS:
        if old not in text:
            sys.exit(f"{POLICY}: `{old}` not found; update EDITS in {__file__}")
        text = text.replace(old, new)
    path = work / "plg_new.lead"
    path.write_text(text, encoding="utf-8")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench-diff"), help="data directory (reused when the sizes match)")
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--product", type=int, default=2_000_000)
    ap.add_argument("--marketing", type=int, default=700_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--baseline", type=Path, help="a checkout of leadlang whose `diff` is timed too (e.g. main before this change)")
    args = ap.parse_args()
    data = args.dir.resolve()
    work = Path(tempfile.mkdtemp(prefix="leadlang-diff-bench-"))
    print(f"leadlang diff benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, outputs in {work})")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (other work on the machine makes timings noisy)")
    secs = generate(data, args.leads, args.product, args.marketing)
    print(f"data in {data} ({args.leads:,} leads, {args.product:,} product and {args.marketing:,} marketing events): "
          + ("reused" if secs == 0 else f"generated in {secs:.1f} s"))

    new = new_policy(work)
    common = ["--data", str(data), "--as-of", AS_OF]
    jobs = {
        "score NEW -o out.parquet": leadlang_cmd("score", str(new), *common, "-o", str(work / "new.parquet")),
        "diff OLD NEW (text)": leadlang_cmd("diff", str(POLICY), str(new), *common),
        "diff OLD NEW --format json": leadlang_cmd("diff", str(POLICY), str(new), *common, "--format", "json"),
    }
    if args.baseline:
        # -P: the working directory (this checkout) not first on sys.path, so PYTHONPATH picks the code
        jobs["baseline diff (text)"] = ["env", f"PYTHONPATH={args.baseline.resolve()}", sys.executable, "-P", "-m", "leadlang",
                                        "diff", str(POLICY), str(new), *common]
    runs: dict[str, list] = {name: [] for name in jobs}
    for r in range(args.runs):
        for i, (name, cmd) in enumerate(jobs.items()):
            runs[name].append(run_process(cmd, work / f"job{i}-run{r}.log"))
        print(f"  run {r + 1}: " + "   ".join(f"{name} {runs[name][-1][0]:.2f} s" for name in jobs))
    moved = json.loads((work / f"job2-run{args.runs - 1}.log").read_text())["moved_count"]
    print(f"\n{'':<28}{'wall s':>9}{'cpu s':>9}{'peak MiB':>10}{'x score':>9}{'x cpu':>8}")
    base = statistics.median(t for t, _, _ in runs["score NEW -o out.parquet"])
    base_cpu = statistics.median(c for _, _, c in runs["score NEW -o out.parquet"])
    for name, got in runs.items():
        wall = statistics.median(t for t, _, _ in got)
        cpu = statistics.median(c for _, _, c in got)
        rss = max(m for _, m, _ in got)
        print(f"{name:<28}{wall:9.2f}{cpu:9.1f}{rss:10,}{wall / base:9.2f}{cpu / base_cpu:8.2f}")
    print(f"\n{moved:,} of {args.leads:,} leads moved; target: diff <= 2.0x one scoring")


if __name__ == "__main__":
    main()
