"""Every everyday path of leadlang against a hand-written DuckDB query, side by side, on edge-case data.

    python benchmarks/score_bench.py                              # sizes 100k (leads; events x27), both policies
    python benchmarks/score_bench.py --sizes 100k,1m,3m --dir /tmp/leadlang-bench
    python benchmarks/score_bench.py --sizes 3m --generate-only   # only make (or reuse) the data
    python benchmarks/score_bench.py --sizes 300 --policies plg   # a smoke run
    python benchmarks/score_bench.py --compile                    # only the 300-rule compile/check timing
    python benchmarks/score_bench.py --sizes 1m --profile         # also where leadlang's time goes (PLG, in one process)

It prints figures and ratios and never asserts a timing; it exits 1 when any output
cell differs. Per size (data from `bench_data.py`, reused in `--dir/<size>` when the
sizes and generator version match) and per policy (PLG, `benchmarks/account_bench.lead`
with `by account`, regexes and derived scores), each path is a separate process timed
for wall time, events/s (all events in the files / wall) and peak RSS:

- `score -o out.csv`, `score` to standard output (piped to a file, as a user
  redirects it), `score -o out.jsonl`, `score -o out.parquet` — each against the
  hand-written query of `hand_queries.py` `COPY`ing the same format;
- `explain --lead KEY` of one lead (no baseline; its scores and numeric signals are
  checked against the hand-written row);
- `diff OLD NEW` (NEW moves the band thresholds) against one hand-written scoring
  (to Parquet);
- `score --engine python -o out.parquet` (up to `--python-max-leads`; above it the
  table says it was skipped);
- the checks of the input files alone (`io.register_dataset` and the profile behind
  `score`'s data warnings, timed inside one process), as a share of `score -o out.csv`.

CPU seconds (user + system, the process and its children) are printed next to every
wall time: on a shared machine they are the steadier figure. `--text-pairs N` runs
the CSV, stdout and JSONL pairs (leadlang, then the hand-written query) N times,
alternating, and reports every pair.

Every output cell of every format is compared with the hand-written query's output
of the same format, typed (exact decimals, timestamps, booleans, missing vs empty
where the format can tell), plus the documented formats of leadlang's text outputs.
Progress goes to standard error; the report and a Markdown scaling table to standard output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_data import AS_OF, describe, generate, parse_size, size_label  # noqa: E402
from hand_queries import POLICIES as HAND  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "plg" / "plg.lead"
BENCH_POLICIES = {"plg": POLICY, "account_bench": ROOT / "benchmarks" / "account_bench.lead"}
# NEW policy of `diff`: the band thresholds moved
DIFF_EDITS = {"plg": [("bands fit        { high >= 60", "bands fit        { high >= 55"),
                      ("bands engagement { high >= 50", "bands engagement { high >= 45")],
              "account_bench": [("bands priority { hot >= 60, warm >= 30", "bands priority { hot >= 55, warm >= 35")]}
# the same change in the hand-written queries (every use of those bands' thresholds)
HAND_DIFF_EDITS = {"plg": [("fit >= 60", "fit >= 55"), ("engagement >= 50", "engagement >= 45")],
                   "account_bench": [("priority >= 60", "priority >= 55"), ("priority >= 30", "priority >= 35")]}
FORMATS = ("csv", "stdout", "jsonl", "parquet")
COPY_OPTIONS = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER", "stdout": "FORMAT csv, HEADER", "jsonl": "FORMAT json"}
HAND_RUNNER = r"""
import duckdb, sys
sql, out, opts = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
c = duckdb.connect(); c.execute("SET TimeZone = 'UTC'"); c.execute("SET enable_progress_bar = false")
c.execute("COPY (" + sql + ") TO '" + out.replace("'", "''") + "' (" + opts + ")")
"""

# the checks of the input files as `score` runs them (each file checked and registered, its profile for the
# data warnings computed in the same pass), then the checks alone on a new connection, timed inside the
# process: the share of a run they take, without start-up
CHECKS = r"""
import json, sys, time
from pathlib import Path
import duckdb
from leadlang.check import load
from leadlang.data.staging import register_dataset
from leadlang.profile import Profiling
policy, data = load(Path(sys.argv[1])), Path(sys.argv[2])
def connect():
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con
t, c = time.perf_counter(), time.process_time()
register_dataset(connect(), policy, data, Profiling(policy))
t1, c1 = time.perf_counter(), time.process_time()
register_dataset(connect(), policy, data)
t2, c2 = time.perf_counter(), time.process_time()
print(json.dumps({"wall": t1 - t, "cpu": c1 - c, "check_wall": t2 - t1, "check_cpu": c2 - c1}))
"""


def progress(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------- timing --

GNU_TIME = Path("/usr/bin/time")


def run_process(cmd: list[str], log: Path, stdout: Path | None = None) -> tuple[float, int, float]:
    """Run `cmd` to completion: (wall seconds, peak RSS in MiB, CPU seconds user+sys).

    Standard error (and standard output unless `stdout` names a file for it) goes to `log`.
    Peak RSS comes from /usr/bin/time when present: a child spawned straight from
    this (large) process inherits its RSS high-water mark in its own rusage."""
    rss_file = log.with_suffix(".rss")
    timed = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *cmd] if GNU_TIME.exists() else cmd
    with open(log, "wb") as f, open(stdout or os.devnull, "wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(timed, cwd=ROOT, stdout=out if stdout else f, stderr=f)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (and its children's)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{log.read_text(errors='replace')[-3000:]}")
    rss_kib = int(rss_file.read_text().split()[-1]) if GNU_TIME.exists() else usage.ru_maxrss  # Linux: KiB
    return wall, rss_kib // 1024, usage.ru_utime + usage.ru_stime


def leadlang_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "leadlang", *args]


def timed(cmd: list[str], log: Path, runs: int, stdout: Path | None = None) -> tuple[float, int, float]:
    """Median wall, max RSS, median CPU of `runs` runs."""
    res = [run_process(cmd, log, stdout) for _ in range(runs)]
    return statistics.median(r[0] for r in res), max(r[1] for r in res), statistics.median(r[2] for r in res)


# ------------------------------------------------------------- compare --

CANON = {"string": "VARCHAR", "int": "BIGINT", "number": "DECIMAL(38, 10)", "bool": "BOOLEAN", "timestamp": "TIMESTAMPTZ", "date": "DATE"}
PARQUET_TYPES = {"string": "VARCHAR", "int": "BIGINT", "number": "DECIMAL", "bool": "BOOLEAN", "timestamp": "TIMESTAMP WITH TIME ZONE", "date": "DATE"}
# leadlang's text formats (docs/cli.md): plain decimals of at most 10 places without trailing zeros, ISO UTC timestamps with Z
TEXT_FORMAT = {"int": r"^-?[0-9]+$", "number": r"^-?[0-9]+(\.[0-9]{0,9}[1-9])?$", "bool": r"^(true|false)$",
               "timestamp": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$", "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
JSON_TYPES = {"string": ("VARCHAR",), "int": ("BIGINT", "UBIGINT"), "number": ("BIGINT", "UBIGINT", "DOUBLE"), "bool": ("BOOLEAN",),
              "timestamp": ("VARCHAR",), "date": ("VARCHAR",)}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _s(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _from_text(x: str, kind: str) -> str:
    if kind == "bool":
        return f"CASE {x} WHEN 'true' THEN true WHEN 'false' THEN false END"
    return x if kind == "string" else f"TRY_CAST({x} AS {CANON[kind]})"


def canonical(con, path: Path, fmt: str, outputs: list[tuple[str, str]], table: str, strict: bool) -> list[str]:
    """Load one output file into `table` (typed canonical columns + `_pos`, its row number); with `strict`,
    the departures from leadlang's documented format, as messages."""
    problems: list[str] = []
    names = [n for n, _ in outputs]
    if fmt == "parquet":
        desc = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM read_parquet({_s(str(path))})").fetchall()}
        if list(desc) != names:
            problems.append(f"columns {list(desc)} != {names}")
        if strict:
            for n, kind in outputs:
                if n in desc and not desc[n].startswith(PARQUET_TYPES[kind]):
                    problems.append(f"column {n}: Parquet type {desc[n]}, expected {PARQUET_TYPES[kind]} for {kind}")
        cols = ", ".join(f"TRY_CAST({_q(n)} AS {CANON[k]}) AS {_q(n)}" if n in desc else f"NULL AS {_q(n)}" for n, k in outputs)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {cols}, file_row_number AS _pos "
                    f"FROM read_parquet({_s(str(path))}, file_row_number = true)")
        return problems
    if fmt == "csv":
        header = path.open(encoding="utf-8", newline="").readline().rstrip("\n").split(",")
        if header != names:
            problems.append(f"header {header} != {names}")
        spec = "{" + ", ".join(f"{_s(n)}: 'VARCHAR'" for n in header) + "}"
        src = (f"(SELECT *, row_number() OVER () AS _pos FROM read_csv({_s(str(path))}, header = true, auto_detect = false, "
               f"columns = {spec}, delim = ',', quote = '\"', escape = '\"', strict_mode = true))")
        text = {n: _q(n) for n in header}
    else:  # jsonl: each line as text; numbers are taken from the line's own text (DuckDB's JSON reads them as doubles)
        src = (f"(SELECT line::JSON AS j, line, row_number() OVER () AS _pos FROM read_csv({_s(str(path))}, header = false, "
               f"auto_detect = false, columns = {{'line': 'VARCHAR'}}, delim = '\x01', quote = '', escape = ''))")
        text = {}
        for n, kind in outputs:
            if kind in ("int", "number"):
                pattern = '"' + n + r'":\s*(-?[0-9][0-9.eE+-]*|null)'
                text[n] = f"NULLIF(regexp_extract(line, {_s(pattern)}, 1), 'null')"
            else:
                text[n] = f"(j->>{_s(n)})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _src AS SELECT * FROM {src}")  # read (and parsed) once
    src = "_src"
    if strict:  # every check in one scan: (count of departures, an example, what it means)
        checks = []
        if fmt == "jsonl":
            keys = "[" + ", ".join(_s(n) for n in names) + "]"
            checks.append((f"json_keys(j) <> {keys}", "line", f"lines whose keys are not {names} in order"))
            for n, kind in outputs:
                ok = ", ".join(_s(t) for t in JSON_TYPES[kind] + ("NULL",))
                checks.append((f"json_type(j, {_s(n)}) NOT IN ({ok})", f"json_type(j, {_s(n)})",
                               f"column {n}: values not JSON {'/'.join(JSON_TYPES[kind])} or null"))
        for n, kind in outputs:
            if kind in TEXT_FORMAT and n in text:
                checks.append((f"{text[n]} IS NOT NULL AND NOT regexp_matches({text[n]}, {_s(TEXT_FORMAT[kind])})", text[n],
                               f"column {n}: values not in the documented {kind} format"))
        if checks:
            found = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE {w}), any_value({e}) FILTER (WHERE {w})"
                                                      for w, e, _ in checks) + f" FROM {src}").fetchone()
            for i, (_, _, what) in enumerate(checks):
                if found[2 * i]:
                    problems.append(f"{found[2 * i]:,} {what}, e.g. {found[2 * i + 1]!r}")
    cols = ", ".join(f"{_from_text(text[n], k)} AS {_q(n)}" if n in text else f"NULL AS {_q(n)}" for n, k in outputs)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {cols}, _pos FROM {src}")
    con.execute("DROP TABLE _src")
    return problems


def compare_cells(con, outputs: list[tuple[str, str]], label: str, ll: tuple[Path, str], hand: tuple[Path, str]) -> int:
    """Every cell of leadlang's output against the hand-written one; prints the differences, returns their count."""
    problems = canonical(con, ll[0], ll[1], outputs, "a", strict=True)
    problems += [f"(hand-written) {p}" for p in canonical(con, hand[0], hand[1], outputs, "b", strict=False)]
    return _diff_tables(con, outputs, label, problems)


def _diff_tables(con, outputs: list[tuple[str, str]], label: str, problems: list[str]) -> int:
    """Tables `a` (leadlang) and `b` (hand-written) cell by cell."""
    k = _q(outputs[0][0])
    rows = con.execute(f"""SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b),
        (SELECT count(*) - count(DISTINCT {k}) FROM a), (SELECT count(*) - count(DISTINCT {k}) FROM b),
        (SELECT count(*) FROM a FULL JOIN b USING ({k}) WHERE a._pos IS NULL OR b._pos IS NULL),
        (SELECT count(*) FROM (SELECT {k}, lag({k}) OVER (ORDER BY _pos) AS prev FROM a) WHERE prev >= {k})""").fetchone()
    n_a, n_b, dup_a, dup_b, unmatched, disorder = rows
    if n_a != n_b or dup_a or dup_b or unmatched:
        problems.append(f"rows: leadlang {n_a:,} (duplicate keys {dup_a:,}), hand-written {n_b:,} (duplicate keys {dup_b:,}), "
                        f"keys in one only {unmatched:,}")
    if disorder:
        problems.append(f"{disorder:,} rows out of key order")
    cols = [n for n, _ in outputs[1:]]
    counts = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE a.{_q(c)} IS DISTINCT FROM b.{_q(c)})" for c in cols)
                         + f" FROM a JOIN b USING ({k})").fetchone()
    cells, others = sum(counts), len(problems)  # differing cells, other departures (rows, order, format)
    for c, n in zip(cols, counts):
        if n:
            ex = con.execute(f"SELECT {k}, a.{_q(c)}, b.{_q(c)} FROM a JOIN b USING ({k}) WHERE a.{_q(c)} IS DISTINCT FROM b.{_q(c)} "
                             f"ORDER BY {k} LIMIT 3").fetchall()
            problems.append(f"column {c}: {n:,} cells differ, e.g. " + "; ".join(f"{r[0]}: leadlang {r[1]!r} hand {r[2]!r}" for r in ex))
    checked = n_a * len(outputs)
    if problems:
        print(f"    MISMATCH {label}: {cells:,} of {checked:,} cells differ")
        for p in problems:
            print(f"      {p}")
    else:
        print(f"    {label}: all {checked:,} cells equal")
    return cells + others


# ------------------------------------------------------------- profile --

PROFILE = r"""
import datetime as dt, gc, json, sys, time
from pathlib import Path
T0, C0 = time.perf_counter(), time.process_time()
import duckdb
from leadlang.check import load
from leadlang.engine import relations_for
import leadlang.data.parquet as parquet
import leadlang.data.staging as staging
from leadlang.data.writers import write_rows
from leadlang.sql import to_sql
policy_path, data, out, hand_sql = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
as_of = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
phases, extra, statements = {}, {}, []
phases["imports (duckdb, leadlang)"] = (time.perf_counter() - T0, time.process_time() - C0)

class timed:
    def __init__(self, into, label): self.into, self.label = into, label
    def __enter__(self): self.t, self.c = time.perf_counter(), time.process_time()
    def __exit__(self, *exc): self.into[self.label] = (time.perf_counter() - self.t, time.process_time() - self.c)

with timed(phases, "load + check the policy"):
    policy = load(policy_path)

# every statement register_dataset runs, timed (a read-only wrapper around data.errors.run)
real_run = staging.run
def timed_run(con, path, sql, arrow=False, params=()):
    t, c = time.perf_counter(), time.process_time()
    try:
        return real_run(con, path, sql, arrow, params)
    finally:
        statements.append((path.name, " ".join(sql.split())[:100], time.perf_counter() - t, time.process_time() - c))
staging.run = parquet.run = timed_run
con = duckdb.connect()
with timed(phases, "register_dataset (validate + load all sources)"):
    tables = staging.register_dataset(con, policy, data)
staging.run = parquet.run = real_run
relations = relations_for(policy, tables)
with timed(phases, "compile to SQL"):
    sql = to_sql(policy, "duckdb", as_of, relations)
with timed(phases, "compiled query on registered tables -> Arrow"):
    arrow = con.sql(sql).to_arrow_table()
with timed(phases, "Arrow -> Python row dicts (to_pylist)"):
    rows = arrow.to_pylist()
with timed(phases, "write_rows -> parquet (per-value Python)"):
    write_rows(rows, [(o.name, o.kind) for o in policy.outputs], out)
n_rows = len(rows)
del rows, arrow
gc.collect()
with timed(extra, "compiled query on the registered tables, COPY TO parquet"):
    con.execute(f"COPY ({sql}) TO '{out}.reg.parquet' (FORMAT parquet)")
con.close()

# the same compiled SQL straight over the parquet files (views), without register_dataset
con = duckdb.connect(); con.execute("SET TimeZone = 'UTC'")
con.execute(f"CREATE VIEW stg_leads AS SELECT * FROM read_parquet('{data}/leads.parquet')")
con.execute(f"CREATE VIEW stg_product_events AS SELECT * FROM read_parquet('{data}/product.parquet')")
con.execute("CREATE SCHEMA hubspot")
con.execute(f"CREATE VIEW hubspot.engagements AS SELECT * FROM read_parquet('{data}/marketing.parquet')")
sql_direct = to_sql(policy, "duckdb", as_of, {})
with timed(extra, "compiled query straight over the parquet files, COPY TO parquet"):
    con.execute(f"COPY ({sql_direct}) TO '{out}.direct.parquet' (FORMAT parquet)")
with timed(extra, "the hand-written query, COPY TO parquet"):
    con.execute(hand_sql.read_text())
with timed(extra, "plain typed load of all sources (CREATE TABLE AS read_parquet)"):
    for name in ("leads", "product", "marketing"):
        con.execute(f"CREATE TEMP TABLE t_{name} AS SELECT * FROM read_parquet('{data}/{name}.parquet')")
with timed(extra, "native-type check only: count NULL keys/times, enum values (one scan each)"):
    con.execute(f"SELECT count(*) FILTER (WHERE lead_id IS NULL), count(*) FILTER (WHERE industry NOT IN ('software', 'fintech', 'healthcare', 'retail', 'education', 'other')), count(*) FILTER (WHERE budget_status NOT IN ('approved', 'planned', 'none')), count(*) - count(DISTINCT lead_id) FROM read_parquet('{data}/leads.parquet')").fetchall()
    con.execute(f"SELECT count(*) FILTER (WHERE occurred_at IS NULL) FROM read_parquet('{data}/product.parquet')").fetchall()
    con.execute(f"SELECT count(*) FILTER (WHERE happened_at IS NULL) FROM read_parquet('{data}/marketing.parquet')").fetchall()
with timed(extra, "product: CAST(occurred_at AS VARCHAR) alone (the text round trip's first step)"):
    con.execute(f"SELECT max(length(CAST(occurred_at AS VARCHAR))) FROM read_parquet('{data}/product.parquet')").fetchall()
con.close()
print(json.dumps({"phases": phases, "statements": statements, "extra": extra, "rows": n_rows}))
"""


def profile(data: Path, work: Path, hand_sql_file: Path) -> None:
    log = work / "profile.log"
    cmd = [sys.executable, "-c", PROFILE, str(POLICY), str(data), str(work / "profile.parquet"), str(hand_sql_file)]
    t0 = time.perf_counter()
    wall, rss, cpu = run_process(cmd, log)
    res = json.loads(log.read_text().strip().splitlines()[-1])  # the last line; DuckDB may print before it
    total = [sum(v[i] for v in res["phases"].values()) for i in (0, 1)]
    print(f"  (one in-process run, phases timed one after the other; peak RSS {rss:,} MiB; {time.perf_counter() - t0:.1f} s in all)")
    print(f"  {'phase':<52} {'wall':>8}   {'share':>6}  {'cpu':>8}")
    for k, (w, c) in res["phases"].items():
        print(f"  {k:<52} {w:8.2f} s  {100 * w / total[0]:5.1f}%  {c:8.2f} s")
    print(f"  {'sum (the score command, less click and exit)':<52} {total[0]:8.2f} s  {'':6}  {total[1]:8.2f} s")
    print("  register_dataset statements over 0.05 s (wall, cpu):")
    for path, sql, w, c in res["statements"]:
        if w >= 0.05:
            print(f"    {w:7.2f} s {c:7.2f} s  {path:<18} {sql}")
    print("  for comparison (same process, after freeing the rows):")
    for k, (w, c) in res["extra"].items():
        print(f"  {k:<78} {w:7.2f} s  (cpu {c:7.2f} s)")


# ----------------------------------------------------- the big policy --

def big_policy(n_rules: int = 300) -> str:
    """A PLG-shaped policy with `n_rules` score rules: field rules, windowed counts, a few decayed ones."""
    head = POLICY.read_text(encoding="utf-8").split("\nlet target_industries", 1)[0].replace("policy plg ", "policy plg_big ")
    fields = [
        lambda k: f'industry in ["{["software", "fintech", "healthcare", "retail", "education", "other"][k % 6]}", "{["fintech", "retail", "other"][k % 3]}"]',
        lambda k: f"employees between {50 * (k % 40)} and {50 * (k % 40) + 200 + 37 * k}",
        lambda k: f"employees > {100 + 97 * k}",
        lambda k: f'country in ["{["US", "CA", "GB", "DE", "FR", "IN"][k % 6]}", "{["NL", "BR", "AU"][k % 3]}"]',
        lambda k: f'lower(title) contains any ["{["vp", "head", "director", "chief", "lead"][k % 5]}", "{["founder", "owner", "cto"][k % 3]}"]',
        lambda k: f'email_domain in ["{["gmail.com", "yahoo.com", "hotmail.com"][k % 3]}", "x{k}.com"]',
        lambda k: f"timeline_days <= {30 + 7 * k}",
        lambda k: f'budget_status = "{["approved", "planned", "none"][k % 3]}" and timeline_days < {100 + 11 * k}',
        lambda k: f'use_case in ["{["security", "compliance", "analytics", "customer_facing"][k % 4]}"]',
        lambda k: f'email ends with ".{["io", "com", "de", "edu"][k % 4]}" or title starts with "{["VP", "Head", "Dir"][k % 3]}"',
        lambda k: f'title matches "^(Senior|Staff|Principal) [A-Z][a-z]+{k % 10}?$"',
        lambda k: "employees is missing and industry is present",
    ]
    product = ["login", "dashboard_view", "teammate_invited", "seat_added", "report_exported", "settings_changed", "api_call"]
    marketing = ["pricing_page_view", "demo_requested", "form_submitted", "email_open", "email_click", "webinar_attended"]
    windows = [7, 14, 21, 30, 45, 60, 90]
    fit_rules, eng_rules = [], []
    for k in range(n_rules):
        sign = "-" if k % 7 == 6 else "+"
        if k % 2 == 0:
            fit_rules.append(f"  f{k}: {sign}{1 + k % 9} when {fields[(k // 2) % len(fields)](k)}")
            continue
        w, p, m = windows[k % len(windows)], product[k % len(product)], marketing[k % len(marketing)]
        kind = (k // 2) % 8
        if kind == 0:
            rule = f'+{1 + k % 3} per count(product "{p}" in last {w} days), max {5 + k % 20}'
        elif kind == 1:
            rule = f"+{1 + k % 4} per active_days(product in last {w} days), max {10 + k % 15}"
        elif kind == 2:
            rule = f'{sign}{2 + k % 10} when count(marketing "{m}" in last {w} days) > {k % 3}'
        elif kind == 3:
            rule = f'+{1 + k % 5} when count(product ["{p}", "{product[(k + 3) % len(product)]}"] in last {w} days) >= {1 + k % 4}'
        elif kind == 4:
            rule = f'+1 per sum(product.seats "seat_added" in last {w} days), max {3 + k % 9}'
        elif kind == 5 and k % 4 == 3:
            rule = f'+{1 + k % 3} per count(product "{p}" in last {w + 30} days half-life {7 + k % 14} days), max {10 + k % 10}'
        elif kind == 6:
            rule = f"-{5 + k % 10} when count(product in last {w} days) = 0"
        else:
            rule = f'+{1 + k % 6} when count(marketing "{m}") > {k % 4} and invites_14d >= {k % 3}'
        eng_rules.append(f"  e{k}: {rule}")
    tail = POLICY.read_text(encoding="utf-8").split("\ndisqualify {", 1)[1].split("\ntest ", 1)[0]
    return (head
            + 'let free_email_domains = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com"]\n\n'
            + "signal email_domain   = domain(email)\n"
            + 'signal invites_14d    = count(product "teammate_invited" in last 14 days)\n\n'
            + "score fit clamp 0 to 100 {\n" + "\n".join(fit_rules) + "\n}\n\n"
            + "score engagement clamp 0 to 100 {\n" + "\n".join(eng_rules) + "\n}\n\n"
            + "disqualify {" + tail)


# ----------------------------------------------------------------- paths --

def explain_check(con, text: str, outputs: list[tuple[str, str]], key: str, lead: str, table: str = "b", who: str = "hand-written") -> int:
    """The scores and numeric signals `explain` printed against the row of `table` (`who`'s output)."""
    from decimal import Decimal, InvalidOperation

    kinds = dict(outputs)
    row = dict(zip([n for n, _ in outputs], con.execute(f"SELECT * EXCLUDE (_pos) FROM {table} WHERE {_q(key)} = ?", [lead]).fetchone()))
    printed: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split()
        if len(parts) >= 4 and parts[0] == "score" and parts[2] == "=":
            printed[parts[1]] = parts[3]
        elif line.startswith("  ") and not line.startswith("   ") and " = " in line:
            name, value = line.strip().split(" = ", 1)
            if kinds.get(name) in ("int", "number"):
                printed[name] = value
    bad = []
    for name, value in printed.items():
        try:
            got = None if value == "missing" else Decimal(value)
        except InvalidOperation:
            got = value
        want = row.get(name)
        if got != (None if want is None else Decimal(want)):
            bad.append(f"{name}: explain {value}, {who} {want}")
    scores = [n for n in printed if n in kinds and kinds[n] == "number"]
    if bad or not scores:
        print(f"    MISMATCH explain --lead {lead} vs {who}: " + ("; ".join(bad) if bad else "no score lines found in its output"))
        return max(1, len(bad))
    print(f"    explain --lead {lead}: its {len(printed)} scores and numeric signals equal the {who} row")
    return 0


def bench_policy(name: str, data: Path, work: Path, n_leads: int, n_events: int, args, table: list) -> int:
    """Every path of one policy at one size; appends rows to `table`; returns the number of mismatches."""
    import duckdb

    from leadlang.check import load

    policy = BENCH_POLICIES[name]
    outputs = [(o.name, o.kind) for o in load(policy).outputs]
    sql = work / f"{name}.hand.sql"
    sql.write_text(HAND[name](data), encoding="utf-8")
    base = ["--data", str(data), "--as-of", AS_OF]
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET temp_directory = {_s(str(work / 'compare.tmp'))}")  # the compared outputs may spill at 3M leads
    size = size_label(n_leads)
    print(f"\n  {name} ({policy.relative_to(ROOT)}), {n_leads:,} leads, {n_events:,} events:")

    def row(path: str, ll, hand=None, note: str = "") -> None:
        table.append({"size": size, "policy": name, "path": path, "ll": ll, "hand": hand, "events": n_events, "note": note, "bad": 0})
        if ll is None:
            print(f"    {path:<28} {note}")
            return
        ratio = f"{ll[0] / hand[0]:.2f}x (cpu {ll[2] / hand[2]:.2f}x)" if hand else ""
        rate = "" if not events_rate(path) else f"{n_events / ll[0]:,.0f} ev/s"
        print(f"    {path:<28} leadlang {ll[0]:7.2f} s cpu {ll[2]:7.2f} s {rate:>15} {ll[1]:>6,} MiB"
              + (f"   hand-written {hand[0]:7.2f} s cpu {hand[2]:7.2f} s {hand[1]:>6,} MiB   {ratio}" if hand else "")
              + (f"   {note}" if note else ""))

    def checked(mismatches: int) -> None:
        table[-1]["bad"] = mismatches

    paths = set(args.paths.split(","))
    csv_run = None
    for fmt in (f for f in FORMATS if f in paths):
        ext = "csv" if fmt == "stdout" else fmt
        ll_out, hand_out = work / f"{name}.{fmt}.{ext}", work / f"{name}.{fmt}.hand.{ext}"
        label = {"csv": "score -o out.csv", "stdout": "score > out.csv (stdout)", "jsonl": "score -o out.jsonl", "parquet": "score -o out.parquet"}[fmt]
        pairs = args.text_pairs if fmt != "parquet" else 1
        for pair in range(1, pairs + 1):
            progress(f"{size} {name}: score {fmt}" + (f" (pair {pair} of {pairs})" if pairs > 1 else ""))
            ll_cmd = leadlang_cmd("score", str(policy), *base, *([] if fmt == "stdout" else ["-o", str(ll_out)]))
            ll = timed(ll_cmd, work / f"{name}.{fmt}.log", args.runs, stdout=ll_out if fmt == "stdout" else None)
            progress(f"{size} {name}: hand-written {fmt}")
            hand_cmd = [sys.executable, "-c", HAND_RUNNER, str(sql), "/dev/stdout" if fmt == "stdout" else str(hand_out), COPY_OPTIONS[fmt]]
            hand = timed(hand_cmd, work / f"{name}.{fmt}.hand.log", args.runs, stdout=hand_out if fmt == "stdout" else None)
            row(label, ll, hand, f"pair {pair} of {pairs}" if pairs > 1 else "")
        progress(f"{size} {name}: comparing {fmt}")
        checked(compare_cells(con, outputs, label, (ll_out, ext), (hand_out, ext)))
        if fmt == "csv":
            csv_run = ll
        if not args.keep_outputs:
            ll_out.unlink()
            hand_out.unlink()
    if "parquet" in paths:
        hand_parquet = table[-1]["hand"]
    elif paths & {"explain", "diff", "python"}:  # their reference: the hand-written Parquet scoring
        progress(f"{size} {name}: hand-written parquet (the reference)")
        hand_out = work / f"{name}.parquet.hand.parquet"
        hand_parquet = timed([sys.executable, "-c", HAND_RUNNER, str(sql), str(hand_out), COPY_OPTIONS["parquet"]],
                             work / f"{name}.parquet.hand.log", args.runs)
        canonical(con, hand_out, "parquet", outputs, "b", strict=False)
        if not args.keep_outputs:
            hand_out.unlink()

    if "checks" in paths:
        progress(f"{size} {name}: checking the input files")
        check_log = work / f"{name}.checks.log"
        run_process([sys.executable, "-c", CHECKS, str(policy), str(data)], check_log)
        text = check_log.read_text()
        inside = json.loads(text[text.rindex("{"):])  # wall, cpu of the checks inside the process
        share = "" if csv_run is None else (f"{100 * inside['wall'] / csv_run[0]:.1f}% of `score -o out.csv`'s wall, "
                                            f"{100 * inside['cpu'] / csv_run[2]:.1f}% of its CPU (target <= 10%); ")
        row("checks of the input files", (inside["wall"], 0, inside["cpu"]), None,
            f"in one process, the profile behind the data warnings in the same pass; {share}without the profile "
            f"{inside['check_wall']:.2f} s, {inside['check_cpu']:.2f} s CPU")
    if paths & {"explain", "diff", "python"}:
        # `b` holds the hand-written Parquet output: the reference for explain, diff and the Python engine
        con.execute("CREATE OR REPLACE TEMP TABLE ref AS SELECT * FROM b")
        key = outputs[0][0]
    if "explain" in paths:
        num = [n for n, k in outputs if k == "number"]
        lead = con.execute(f"SELECT {_q(key)} FROM ref ORDER BY {' + '.join(_q(n) for n in num[:2])} DESC, {_q(key)} LIMIT 1").fetchone()[0]
        progress(f"{size} {name}: explain --lead {lead}")
        log = work / f"{name}.explain.txt"
        ex = timed(leadlang_cmd("explain", str(policy), *base, "--lead", lead), work / f"{name}.explain.log", args.runs, stdout=log)
        row(f"explain --lead {lead}", ex, None, "one lead; no baseline; target < 3 s, < 1.5 GB")
        explained = log.read_text(encoding="utf-8")
        checked(explain_check(con, explained, outputs, key, lead, "ref", "hand-written")
                + (explain_check(con, explained, outputs, key, lead, "a", "`score -o out.parquet`")  # `a`: leadlang's Parquet output
                   if "parquet" in paths else 0))

    if "diff" in paths:
        new = work / f"{name}.new.lead"
        text = policy.read_text(encoding="utf-8")
        for old, repl in DIFF_EDITS[name]:
            assert old in text, old
            text = text.replace(old, repl)
        new.write_text(text, encoding="utf-8")
        progress(f"{size} {name}: diff")
        diff_out = work / f"{name}.diff.json"
        d = timed(leadlang_cmd("diff", str(policy), str(new), *base, "--format", "json", "-o", str(diff_out)), work / f"{name}.diff.log", args.runs)
        row("diff OLD NEW", d, hand_parquet, "vs one hand-written scoring (Parquet); target <= 2x")
        checked(diff_check(con, name, data, key, json.loads(diff_out.read_text(encoding="utf-8"))))

    if "python" not in paths:
        pass
    elif n_leads > args.python_max_leads:
        row("score --engine python", None, None, f"not run: above --python-max-leads {args.python_max_leads:,}")
    else:
        progress(f"{size} {name}: score --engine python")
        py_out = work / f"{name}.python.parquet"
        py = timed(leadlang_cmd("score", str(policy), *base, "--engine", "python", "-o", str(py_out)), work / f"{name}.python.log", args.runs)
        row("score --engine python", py, hand_parquet, "-o out.parquet")
        checked(compare_cells_ref(con, outputs, "score --engine python -o out.parquet", py_out))
        if not args.keep_outputs:
            py_out.unlink()
    con.close()
    return sum(r["bad"] for r in table if r["size"] == size and r["policy"] == name)


def diff_check(con, name: str, data: Path, key: str, diff: dict) -> int:
    """`diff --format json`'s changed counts and moved leads against the hand-written queries before and after the change."""
    sql = HAND[name](data)
    for old, repl in HAND_DIFF_EDITS[name]:
        assert old in sql, old
        sql = sql.replace(old, repl)
    con.execute(f"CREATE OR REPLACE TEMP TABLE hand_new AS {sql}")
    labelled = [o for o, v in diff["outputs"].items() if v.get("in") == ["old", "new"]]
    k = _q(key)
    counts = con.execute("SELECT " + ", ".join(f"count(*) FILTER (WHERE o.{_q(c)} IS DISTINCT FROM n.{_q(c)})" for c in labelled)
                         + f" FROM ref o JOIN hand_new n USING ({k})").fetchone()
    moved = {r[0] for r in con.execute(f"SELECT {k} FROM ref o JOIN hand_new n USING ({k}) WHERE "
                                       + " OR ".join(f"o.{_q(c)} IS DISTINCT FROM n.{_q(c)}" for c in labelled)).fetchall()}
    problems = [f"{c}: diff says {diff['outputs'][c]['changed']:,} changed, hand-written {n:,}"
                for c, n in zip(labelled, counts) if diff["outputs"][c]["changed"] != n]
    listed = {m["key"] for m in diff["moved"]}
    if diff["moved_count"] != len(moved) or listed != moved:
        problems.append(f"moved leads: diff {diff['moved_count']:,} ({len(listed - moved):,} not moved by hand, "
                        f"{len(moved - listed):,} moved by hand but not listed)")
    if problems:
        print("    MISMATCH diff OLD NEW: " + "; ".join(problems))
    else:
        print(f"    diff OLD NEW: {len(moved):,} moved leads and the changed counts of {', '.join(labelled)} equal the hand-written queries'")
    return len(problems)


def compare_cells_ref(con, outputs, label: str, path: Path) -> int:
    """Like compare_cells, against the hand-written Parquet output kept in table `ref`."""
    problems = canonical(con, path, "parquet", outputs, "a", strict=True)
    con.execute("CREATE OR REPLACE TEMP TABLE b AS SELECT * FROM ref")
    return _diff_tables(con, outputs, label, problems)


# ------------------------------------------------------------------ table --

def events_rate(path: str) -> bool:
    """Whether events/s means something for a path (it reads every event)."""
    return not path.startswith(("explain", "checks"))


def markdown(table: list, load: str) -> str:
    lines = [f"Machine: {os.cpu_count()} CPUs, load average {load}; wall and CPU (user + system) seconds of each process, "
             "events/s = all events in the files / wall.",
             "", "| leads | policy | path | leadlang wall | CPU | events/s | peak RSS | hand-written wall | CPU | events/s | peak RSS "
             "| ratio wall | ratio CPU | output | note |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in table:
        ll, hand = r["ll"], r["hand"]
        if ll is None:
            lines.append(f"| {r['size']} | {r['policy']} | `{r['path']}` | | | | | | | | | | | | {r['note']} |")
            continue
        rate = f"{r['events'] / ll[0]:,.0f}" if events_rate(r["path"]) else ""
        rss = f"{ll[1]:,} MiB" if ll[1] else ""
        lines.append(f"| {r['size']} | {r['policy']} | `{r['path']}` | {ll[0]:.2f} s | {ll[2]:.2f} s | {rate} | {rss} | "
                     + (f"{hand[0]:.2f} s | {hand[2]:.2f} s | {r['events'] / hand[0]:,.0f} | {hand[1]:,} MiB | "
                        f"{ll[0] / hand[0]:.2f}× | {ll[2] / hand[2]:.2f}× |" if hand else "| | | | | |")
                     + (" equal |" if not r["bad"] else f" **{r['bad']:,} differ** |")
                     + f" {r['note']} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- main --

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="100k", help="comma-separated lead counts (events x27): 300, 100k, 1m, 3m (default 100k)")
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench"), help="data directory; each size in DIR/<size>, reused when it matches")
    ap.add_argument("--policies", default=",".join(BENCH_POLICIES), help=f"comma-separated, of {', '.join(BENCH_POLICIES)}")
    ap.add_argument("--runs", type=int, default=1, help="runs of each process (median wall, max RSS)")
    ap.add_argument("--text-pairs", type=int, default=1, help="alternating leadlang/hand-written pairs of the CSV, stdout and JSONL paths (each reported)")
    ap.add_argument("--paths", default="csv,stdout,jsonl,parquet,checks,explain,diff,python",
                    help="comma-separated paths to run (default all): csv, stdout, jsonl, parquet, checks, explain, diff, python")
    ap.add_argument("--python-max-leads", type=int, default=100_000, help="run `--engine python` only up to this many leads")
    ap.add_argument("--generate-only", action="store_true", help="make (or reuse) the data, print its edge-case counts, and stop")
    ap.add_argument("--work", type=Path, help="where outputs go (default: a new temp directory)")
    ap.add_argument("--keep-outputs", action="store_true", help="keep the scored files (by default each is deleted once compared)")
    ap.add_argument("--compile", action="store_true", help="only time `check` and `compile` of a generated 300-rule policy")
    ap.add_argument("--profile", action="store_true", help="also break leadlang's PLG time down in one process, at the largest size")
    args = ap.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="leadlang-bench-out-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.compile:
        compile_timing(work)
        return 0
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    names = [p.strip() for p in args.policies.split(",") if p.strip()]
    unknown = [p for p in names if p not in BENCH_POLICIES]
    if unknown:
        ap.error(f"unknown policy {unknown[0]!r}; choose from {', '.join(BENCH_POLICIES)}")
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"leadlang benchmark: every path vs a hand-written DuckDB query  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, outputs in {work})")
    print(f"load average before: {load_before}  (other work on the machine makes timings noisy)")
    table: list = []
    bad = 0
    for n in sizes:
        data = (args.dir / size_label(n)).resolve()
        progress(f"{size_label(n)}: data in {data}")
        secs = generate(data, n, log=progress)
        meta = json.loads((data / "bench-meta.json").read_text())
        print(f"\n{size_label(n)} leads: data in {data} " + ("(reused)" if secs == 0 else f"(generated in {secs:.1f} s)"))
        print("  " + ", ".join(f"{k} {v:,}" for k, v in describe(data).items()))
        if args.generate_only:
            continue
        for name in names:
            bad += bench_policy(name, data, work, n, meta["product"] + meta["marketing"], args, table)
    if args.profile and sizes and not args.generate_only:
        print(f"\nwhere leadlang's time goes (PLG, {size_label(sizes[-1])} leads):")
        hand_copy = work / "plg.hand.copy.sql"
        hand_copy.write_text(f"COPY ({HAND['plg'](data)}) TO '{work / 'profile.hand.parquet'}' (FORMAT parquet)", encoding="utf-8")
        profile(data, work, hand_copy)
    if table:
        load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print("\nscaling table (Markdown):\n")
        print(markdown(table, f"{load_before} before, {load_after} after"))
    if table:
        print(f"\n{'MISMATCHES: ' + format(bad, ',') + ' (see above)' if bad else 'every output cell equal to the hand-written query'}")
    return 1 if bad else 0


def compile_timing(work: Path) -> None:
    """`leadlang check` and `compile --dialect duckdb` of a generated 300-rule policy."""
    big = work / "big.lead"
    big.write_text(big_policy(300), encoding="utf-8")
    n_lines = big.read_text().count("\n")
    check = subprocess.run(leadlang_cmd("check", str(big)), cwd=ROOT, capture_output=True, text=True)
    if check.returncode:
        print(f"  leadlang check failed:\n{check.stderr[-3000:]}")
        return
    t_check = [run_process(leadlang_cmd("check", str(big)), work / "check.log")[0] for _ in range(5)]
    compiles = [run_process(leadlang_cmd("compile", str(big), "--dialect", "duckdb", "-o", str(work / "big.sql")), work / "compile.log") for _ in range(9)]
    t_compile = statistics.median(t for t, _, _ in compiles)
    sql_lines = (work / "big.sql").read_text().count("\n")
    t_noop = statistics.median(run_process(leadlang_cmd("--version"), work / "version.log")[0] for _ in range(5))
    print(f"  {big} ({n_lines} lines, 300 rules) -> {sql_lines:,} lines of SQL")
    print(f"  leadlang check               median of 5 {statistics.median(t_check):6.3f} s")
    print(f"  leadlang compile --dialect duckdb  median of 9 {t_compile:6.3f} s, fastest {min(t for t, _, _ in compiles):.3f} s  (target < 0.5 s: "
          f"{'met' if t_compile < 0.5 else 'NOT met'}), cpu {statistics.median(c for _, _, c in compiles):.3f} s, peak RSS {max(m for _, m, _ in compiles):,} MiB")
    print(f"  (process start-up alone, `leadlang --version`: {t_noop:.3f} s)")


if __name__ == "__main__":
    sys.exit(main())
