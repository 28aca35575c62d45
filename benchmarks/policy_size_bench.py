"""How `check`, `lint`, `fmt --check` and `compile` grow with the size of a policy.

    python benchmarks/policy_size_bench.py [--dir /tmp/leadlang-size] [--quick] [--only NAME]

It prints figures and ratios; it never asserts a timing. It generates (into
`--dir`) policies of growing size in five families and times each command on
each as a process, wall time (best of `--runs`):

* `repeat`   the PLG example concatenated 50, 200 and 500 times (every
             declaration a duplicate: thousands of errors, so `check` and
             `lint` exit 1 after rendering at most 50 of them);
* `rules`    one score with 500 and 2,000 rules;
* `signals`  20,000 and 80,000 signals (chains of signals using signals);
* `bytes`    a valid policy of about 1.5 MB and 5 MB (scores, signals,
             criteria, comments).

Per family it prints the growth ratio between consecutive sizes next to the
ratio of their sizes: a command that is linear grows like the input
(`time x4.1` for `size x4`), a quadratic one like its square. The same-run
baseline is `parse` (the Lark parser alone, linear by construction): each
command's time is also shown as a multiple of it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLG = ROOT / "policies" / "plg" / "plg.lead"

HEADER = '''policy big "generated"

leads from ref("stg_leads") key lead_id account account_id {
  email          string
  title          string
  industry       enum("software", "fintech", "healthcare", "retail", "education", "other")
  employees      int
  country        string
  timeline_days  int
}

events product from ref("stg_product_events") {
  lead   user_id
  at     occurred_at
  name   event_name
  seats  int
}
'''


def repeated(times: int) -> str:
    return PLG.read_text() * times


def rules(n: int) -> str:
    lines = [HEADER, "score fit clamp 0 to 1000000 {"]
    for i in range(n):
        cond = [f"employees > {i}", f'country = "C{i}"', f'lower(title) contains "t{i}"',
                f'count(product "e{i % 50}" in last {i % 90 + 1} days) > {i % 7}'][i % 4]
        lines.append(f"  r{i}: +{i % 40 + 1} when {cond}")
    lines.append("}")
    lines.append("bands fit { high >= 500, mid >= 100, low otherwise }")
    return "\n".join(lines) + "\n"


def signals(n: int) -> str:
    lines = [HEADER]
    for i in range(n):
        if i % 10 == 0:
            lines.append(f'signal s{i} = count(product "e{i % 97}" in last {i % 60 + 1} days)')
        else:
            lines.append(f"signal s{i} = s{i - 1} + {i % 13}")
    lines.append("score total clamp 0 to 100 {")
    for i in range(0, n, max(1, n // 200)):
        lines.append(f"  u{i}: +1 when s{i} > {i % 17}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def sized(megabytes: float) -> str:
    target = int(megabytes * 1_000_000)
    parts = [HEADER]
    size = len(HEADER)
    k = 0
    while size < target:
        block = [f"# block {k}: a signal, a score of ten rules, its bands and a criteria",
                 f'signal act{k} = count(product "login{k % 31}" in last {k % 60 + 1} days)',
                 f"score sc{k} clamp 0 to 100 {{"]
        for j in range(10):
            block.append(f"  r{j}: +{j + 1} when act{k} >= {j} and (employees between {j} and {j * 100 + 50} "
                         f'or country in ["US", "DE", "C{k % 7}"])  # rule {j}')
        block.append("}")
        block.append(f"bands sc{k} {{ high >= 60, mid >= 30, low otherwise }}")
        block.append(f"criteria cr{k} require 1 of {{")
        block.append(f"  busy: act{k} > 3")
        block.append('  senior: lower(title) contains any ["vp", "head"]')
        block.append("}")
        text = "\n".join(block) + "\n\n"
        parts.append(text)
        size += len(text)
        k += 1
    return "".join(parts)


FAMILIES = {
    "repeat": [("x50", lambda: repeated(50)), ("x200", lambda: repeated(200)), ("x500", lambda: repeated(500))],
    "rules": [("500", lambda: rules(500)), ("2000", lambda: rules(2000))],
    "signals": [("20k", lambda: signals(20_000)), ("80k", lambda: signals(80_000))],
    "bytes": [("1.5MB", lambda: sized(1.5)), ("5MB", lambda: sized(5))],
}
QUICK = {"repeat": ["x50", "x200"], "rules": ["500", "2000"], "signals": ["20k"], "bytes": ["1.5MB"]}

PARSE = ("import sys; from pathlib import Path; from leadlang.syntax import parse; "
         "p = Path(sys.argv[1]); parse(p.read_text(), str(p))")

COMMANDS = {
    "parse": lambda p: [sys.executable, "-c", PARSE, str(p)],
    "check": lambda p: [sys.executable, "-m", "leadlang", "check", str(p)],
    "lint": lambda p: [sys.executable, "-m", "leadlang", "lint", str(p)],
    "fmt --check": lambda p: [sys.executable, "-m", "leadlang", "fmt", "--check", str(p)],
    "compile": lambda p: [sys.executable, "-m", "leadlang", "compile", "--dialect", "duckdb", str(p), "-o", str(p.with_suffix(".sql"))],
}


def timed(cmd: list[str], runs: int, timeout: float) -> tuple[float | None, int, int]:
    """Best wall time of `runs` runs (None on timeout), the exit code and the lines printed."""
    best = None
    code = lines = 0
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT)}
    for _ in range(runs):
        start = time.perf_counter()
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
        except subprocess.TimeoutExpired:
            return None, -1, 0
        took = time.perf_counter() - start
        code, lines = done.returncode, (done.stdout + done.stderr).count("\n")
        best = took if best is None else min(best, took)
    return best, code, lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-size"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--quick", action="store_true", help="The smaller sizes only.")
    ap.add_argument("--only", action="append", choices=sorted(FAMILIES), help="Only this family (repeatable).")
    ap.add_argument("--commands", default=",".join(COMMANDS), help="Comma-separated subset of: " + ", ".join(COMMANDS))
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    commands = [c.strip() for c in args.commands.split(",") if c.strip()]
    print(f"{'family':8} {'size':6} {'bytes':>9} {'command':12} {'seconds':>8} {'x parse':>8} {'exit':>4} {'lines':>6}  growth")
    for family in args.only or FAMILIES:
        previous: dict[str, tuple[float, int]] = {}
        for label, make in FAMILIES[family]:
            if args.quick and label not in QUICK[family]:
                continue
            path = args.dir / f"{family}_{label}.lead"
            text = make()
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
            size = len(text.encode())
            parse_time = None
            for name in commands:
                took, code, lines = timed(COMMANDS[name](path), args.runs, args.timeout)
                if name == "parse":
                    parse_time = took
                shown = "timeout" if took is None else f"{took:8.2f}"
                rel = f"{took / parse_time:8.1f}" if took and parse_time else " " * 8
                growth = ""
                if name in previous and took is not None:
                    before, before_size = previous[name]
                    growth = f"time x{took / before:.1f} for size x{size / before_size:.1f}"
                if took is not None:
                    previous[name] = (took, size)
                print(f"{family:8} {label:6} {size:9d} {name:12} {shown:>8} {rel} {code:4d} {lines:6d}  {growth}", flush=True)


if __name__ == "__main__":
    main()
