"""`leadlang score` on the embedded DuckDB engine against a hand-written DuckDB query of the same policy.

    python benchmarks/score_bench.py                       # 1M leads, 20M product, 7M marketing events
    python benchmarks/score_bench.py --leads 100000 --product 2000000 --marketing 700000
    python benchmarks/score_bench.py --dir /tmp/leadlang-bench --runs 3 [--no-profile]
    python benchmarks/score_bench.py --formats --leads 100000 --product 2000000 --marketing 700000 --runs 1
                                     # every output format (CSV file, stdout, JSONL, Parquet) on PLG and ABM

It prints figures and ratios; it never asserts a timing. What it does:

1. generates (deterministically, in DuckDB SQL: `range()` plus `hash()`-based
   pseudo-random columns) `leads.parquet`, `product.parquet` and
   `marketing.parquet` for the PLG policy into `--dir`, reused when the sizes match;
2. times `leadlang score policies/plg/plg.lead --data DIR --as-of 2024-06-01 -o OUT.parquet`
   as a process (wall time, median of `--runs`), with its peak RSS;
3. times a hand-written DuckDB query of the same policy (what an analytics engineer
   would write: the parquet files read directly, one aggregation per event table
   with FILTER clauses, CASE scores, `COPY ... TO` parquet) as a `python -c` process;
4. compares the two outputs lead by lead (segment, stage, fit, engagement, and
   every other shared column);
5. unless `--no-profile`, breaks leadlang's time down in a separate process:
   policy load, `register_dataset` (per statement), the compiled query on the
   registered tables, the same query straight over the parquet files, the Arrow
   -> Python rows conversion and `write_rows`;
6. generates a 300-rule policy and times `leadlang compile --dialect duckdb`
   (median of 5) and `leadlang check` on it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "plg" / "plg.lead"
AS_OF = "2024-06-01"
AS_OF_TS = "TIMESTAMPTZ '2024-06-01 00:00:00+00'"
GEN_VERSION = 3  # bump when the generator changes, so old data is not reused


# ------------------------------------------------------------------ data --

def _coprime(n: int, start: int) -> int:
    """A multiplier coprime with n, so `i * m % n` permutes 0..n-1."""
    m = start
    while math.gcd(m, n) != 1:
        m += 1
    return m


def _pick(values: list[str | None], u: str) -> str:
    """SQL picking one of `values` (repeat one to weight it) with the uniform [0, 1) expression `u`."""
    items = ", ".join("NULL::VARCHAR" if v is None else "'" + v.replace("'", "''") + "'" for v in values)
    return f"([{items}])[1 + CAST(floor(({u}) * {len(values)}) AS BIGINT)]"


def _u(i: str, salt: int) -> str:
    """A deterministic pseudo-random uniform in [0, 1) from row number `i` and a salt."""
    return f"((hash({i}, {salt}) % 1000000007)::DOUBLE / 1000000007)"


def _missing(expr: str, i: str, salt: int, share: float = 0.05) -> str:
    return f"CASE WHEN {_u(i, salt)} < {share} THEN NULL ELSE {expr} END"


def _leads_sql(n: int) -> str:
    i = "i"
    company = f"'co' || CAST(hash(i, 31) % 50000 AS VARCHAR) || '.com'"
    domain = (f"CASE WHEN {_u(i, 30)} < 0.55 THEN {company} ELSE "
              + _pick(["acme.io", "startup.io", "bigbank.de", "retail.co.uk"] * 3 + ["gmail.com"] * 6 + ["GMail.com", "yahoo.com", "hotmail.com", "outlook.com", "outlook.com",
                       "rival.com", "competitor.io", "state.edu", "mit.edu", "uni.edu.au", "Rival.COM"], _u(i, 32)) + " END")
    titles = ["VP Engineering", "VP Sales", "vp of marketing", "Head of Data", "Head of Platform", "Director of IT", "Director, Analytics",
              "Chief Technology Officer", "CHIEF OF STAFF", "Engineer", "Software Engineer", "Senior Engineer", "Data Analyst", "Analyst",
              "Product Manager", "Founder", "Student", "Consultant", "Manager", "Developer"]
    industries = ["software"] * 5 + ["fintech"] * 3 + ["healthcare"] * 2 + ["retail"] * 3 + ["education"] * 2 + ["other"] * 4
    countries = ["US"] * 7 + ["GB", "GB", "DE", "DE", "CA", "FR", "FR", "IN", "IN", "BR", "AU", "NL", "JP"]
    use_cases = ["customer_facing", "security", "compliance", "analytics", "analytics", "internal_tools", "reporting", "reporting"]
    return f"""
    SELECT
      'L' || lpad(CAST(i AS VARCHAR), 8, '0') AS lead_id,
      {_missing(f"'A' || lpad(CAST((i * 7 + hash(i, 20) % 5) // 3 AS VARCHAR), 7, '0')", i, 21)} AS account_id,
      {_missing(f"'user' || CAST(i AS VARCHAR) || '@' || ({domain})", i, 22)} AS email,
      {_missing(_pick(titles, _u(i, 33)), i, 23)} AS title,
      {_missing(_pick(industries, _u(i, 34)), i, 24)} AS industry,
      {_missing(f"CAST(floor(exp({_u(i, 35)} * 10.3)) AS BIGINT)", i, 25)} AS employees,
      {_missing(_pick(countries, _u(i, 36)), i, 26)} AS country,
      {_missing(_pick(["approved", "planned", "planned", "none"], _u(i, 37)), i, 27)} AS budget_status,
      {_missing(f"CAST(hash(i, 38) % 1001 AS BIGINT)", i, 28)} AS timeline_days,
      {_missing(_pick(use_cases, _u(i, 39)), i, 29)} AS use_case
    FROM range({n}) t(i)
    """


def _events_sql(n: int, n_leads: int, salt: int, names: list[str], lead: str, at: str, name: str,
                active_share: float, stray_share: float, seats: bool) -> str:
    """`n` events: keys of a skewed subset of the leads (permuted), ~stray_share unknown keys,
    times over the 120 days before as-of (~1% after it, ~0.2% on whole-day boundaries)."""
    mult = _coprime(n_leads, 999_983 + salt)
    active = max(1, int(n_leads * active_share))
    s = salt * 100
    idx = f"(CAST(floor({active} * pow({_u('i', s + 1)}, 2)) AS BIGINT) * {mult}) % {n_leads}"
    key = (f"CASE WHEN {_u('i', s + 2)} < {stray_share} THEN 'X' || lpad(CAST(hash(i, {s + 3}) % 10000000 AS VARCHAR), 8, '0') "
           f"ELSE 'L' || lpad(CAST({idx} AS VARCHAR), 8, '0') END")
    day_us = 86_400 * 1_000_000
    when = (f"CASE WHEN {_u('i', s + 4)} < 0.01 THEN {AS_OF_TS} + to_microseconds(CAST(hash(i, {s + 5}) % {3 * day_us} AS BIGINT) + 1) "
            f"WHEN {_u('i', s + 6)} < 0.002 THEN {AS_OF_TS} - to_days(CAST(hash(i, {s + 7}) % 121 AS INTEGER)) "
            f"ELSE {AS_OF_TS} - to_microseconds(CAST(hash(i, {s + 8}) % {120 * day_us} AS BIGINT)) END")
    extra = f", CASE WHEN ev = 'seat_added' THEN CAST(1 + hash(i, {s + 9}) % 5 AS BIGINT) END AS seats" if seats else ""
    return f"""
    SELECT {lead}, {at}, ev AS {name}{extra}
    FROM (SELECT i, {key} AS {lead}, {when} AS {at}, {_pick(names, _u('i', s + 10))} AS ev FROM range({n}) t(i))
    """


PRODUCT_NAMES = ["login"] * 9 + ["dashboard_view"] * 5 + ["teammate_invited", "seat_added", "report_exported", "report_exported",
                                                          "settings_changed", "api_call"]
MARKETING_NAMES = ["email_open"] * 10 + ["email_click"] * 3 + ["pricing_page_view"] * 2 + ["form_submitted", "demo_requested",
                                                                                           "webinar_attended", "page_view", "page_view"]


def generate(data: Path, n_leads: int, n_product: int, n_marketing: int) -> float:
    """Write the three parquet files (skipped when `data` already holds these sizes); the seconds spent."""
    import duckdb

    meta = {"leads": n_leads, "product": n_product, "marketing": n_marketing, "version": GEN_VERSION}
    stamp = data / "bench-meta.json"
    files = [data / f"{n}.parquet" for n in ("leads", "product", "marketing")]
    if stamp.is_file() and all(f.is_file() for f in files):
        try:
            if json.loads(stamp.read_text()) == meta:
                return 0.0
        except ValueError:
            pass
    data.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = false")
    jobs = [
        ("leads", _leads_sql(n_leads)),
        ("product", _events_sql(n_product, n_leads, 1, PRODUCT_NAMES, "user_id", "occurred_at", "event_name", 0.6, 0.02, True)),
        ("marketing", _events_sql(n_marketing, n_leads, 2, MARKETING_NAMES, "contact_id", "happened_at", "activity", 0.7, 0.03, False)),
    ]
    for name, sql in jobs:
        con.execute(f"COPY ({sql}) TO '{data / (name + '.parquet')}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    stamp.write_text(json.dumps(meta))
    return time.perf_counter() - t0


# ------------------------------------------------------- the hand query --

COPY_OPTIONS = {"parquet": "FORMAT parquet", "csv": "FORMAT csv, HEADER", "stdout": "FORMAT csv, HEADER", "jsonl": "FORMAT json"}


def hand_sql(data: Path, out: Path, fmt: str = "parquet") -> str:
    """The PLG policy as an analytics engineer would write it for DuckDB (session TimeZone = UTC), COPYed in `fmt`."""
    d = str(data).replace("'", "''")
    return f"""
COPY (
  WITH
  product AS (
    SELECT
      user_id AS lead_id,
      count(*) FILTER (WHERE event_name = 'teammate_invited' AND occurred_at > {AS_OF_TS} - INTERVAL 14 DAY) AS invites_14d,
      count(DISTINCT CAST(occurred_at AS DATE)) FILTER (WHERE occurred_at > {AS_OF_TS} - INTERVAL 30 DAY) AS active_days_30,
      sum(pow(0.5, (epoch({AS_OF_TS}) - epoch(occurred_at)) / (14 * 86400)))
        FILTER (WHERE event_name = 'login' AND occurred_at > {AS_OF_TS} - INTERVAL 90 DAY) AS logins_decayed,
      count(*) FILTER (WHERE occurred_at > {AS_OF_TS} - INTERVAL 21 DAY) AS events_21d
    FROM read_parquet('{d}/product.parquet')
    WHERE occurred_at <= {AS_OF_TS}
    GROUP BY user_id
  ),
  marketing AS (
    SELECT
      contact_id AS lead_id,
      count(*) FILTER (WHERE activity = 'pricing_page_view' AND happened_at > {AS_OF_TS} - INTERVAL 14 DAY) AS pricing_14d,
      count(*) FILTER (WHERE activity = 'demo_requested' AND happened_at > {AS_OF_TS} - INTERVAL 30 DAY) AS demos_30d,
      count(*) FILTER (WHERE activity = 'form_submitted') AS forms
    FROM read_parquet('{d}/marketing.parquet')
    WHERE happened_at <= {AS_OF_TS}
    GROUP BY contact_id
  ),
  base AS (
    SELECT
      l.*,
      NULLIF(lower(regexp_extract(l.email, '@([^@]*)$', 1)), '') AS email_domain,
      coalesce(p.invites_14d, 0) AS invites_14d,
      coalesce(p.active_days_30, 0) AS active_days_30,
      coalesce(p.logins_decayed, 0) AS logins_decayed,
      coalesce(p.events_21d, 0) AS events_21d,
      coalesce(m.pricing_14d, 0) AS pricing_14d,
      coalesce(m.demos_30d, 0) AS demos_30d,
      coalesce(m.forms, 0) AS forms
    FROM read_parquet('{d}/leads.parquet') l
    LEFT JOIN product p USING (lead_id)
    LEFT JOIN marketing m USING (lead_id)
  ),
  scored AS (
    SELECT
      *,
      round(least(greatest(
          CASE WHEN industry IN ('software', 'fintech', 'healthcare') THEN 30 ELSE 0 END
        + CASE WHEN employees BETWEEN 200 AND 5000 THEN 25 ELSE 0 END
        + CASE WHEN employees > 5000 THEN 35 ELSE 0 END
        + CASE WHEN country IN ('US', 'CA', 'GB', 'DE') THEN 15 ELSE 0 END
        + CASE WHEN lower(title) LIKE '%vp%' OR lower(title) LIKE '%head%' OR lower(title) LIKE '%director%' OR lower(title) LIKE '%chief%' THEN 20 ELSE 0 END
        + CASE WHEN email_domain IN ('gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com') THEN -40 ELSE 0 END
      , 0), 100), 2) AS fit,
      round(least(greatest(
          least(3 * active_days_30, 30)
        + CASE WHEN invites_14d >= 3 THEN 20 ELSE 0 END
        + CASE WHEN pricing_14d > 0 THEN 15 ELSE 0 END
        + CASE WHEN demos_30d > 0 THEN 25 ELSE 0 END
        + least(2 * logins_decayed, 20)
        + CASE WHEN events_21d = 0 THEN -20 ELSE 0 END
      , 0), 100), 2) AS engagement,
      coalesce(timeline_days <= 90, false)::INT
        + coalesce(use_case IN ('customer_facing', 'security', 'compliance'), false)::INT
        + coalesce(employees >= 1000 OR invites_14d >= 10, false)::INT AS ucc_met,
      CASE
        WHEN email_domain IN ('rival.com', 'competitor.io') THEN 'competitor'
        WHEN ends_with(email_domain, '.edu') THEN 'student'
        WHEN budget_status = 'none' AND timeline_days > 730 THEN 'no_budget'
      END AS disqualify_reason
    FROM base
  ),
  classified AS (
    SELECT
      *,
      CASE WHEN fit >= 60 THEN 'high' ELSE 'low' END AS fit_band,
      CASE WHEN engagement >= 50 THEN 'high' ELSE 'low' END AS engagement_band,
      ucc_met >= 2 AS ucc,
      disqualify_reason IS NOT NULL AS disqualified,
      CASE
        WHEN disqualify_reason IS NOT NULL THEN 'disqualified'
        WHEN engagement >= 50 AND fit >= 60 THEN 'sales_ready'
        WHEN engagement >= 50 THEN 'opportunity'
        WHEN fit >= 60 THEN 'heartbreaker'
        ELSE 'ignore'
      END AS segment
    FROM scored
  )
  SELECT
    lead_id, email_domain, invites_14d, active_days_30, fit, engagement, fit_band, engagement_band,
    ucc, ucc_met, disqualified, disqualify_reason, segment,
    CASE
      WHEN segment = 'sales_ready' AND ucc THEN 'sql'
      WHEN engagement >= 50 THEN 'pql'
      WHEN fit >= 40 OR forms > 0 THEN 'mql'
      ELSE 'lead'
    END AS stage,
    CASE segment WHEN 'sales_ready' THEN 'account_executive' WHEN 'opportunity' THEN 'self_serve' WHEN 'heartbreaker' THEN 'nurture'
                 WHEN 'ignore' THEN 'automation' WHEN 'disqualified' THEN 'none' END AS route,
    CASE WHEN segment = 'sales_ready' THEN 24 END AS sla_hours,
    CASE segment WHEN 'sales_ready' THEN 1 WHEN 'opportunity' THEN 2 WHEN 'heartbreaker' THEN 3 WHEN 'ignore' THEN 4
                 WHEN 'disqualified' THEN 5 END AS priority,
    CASE WHEN segment = 'opportunity' THEN 'activation_team' END AS owner,
    CASE WHEN segment = 'heartbreaker' THEN 'enterprise_nurture' END AS sequence,
    'plg@2024.06' AS policy,
    {AS_OF_TS} AS as_of
  FROM classified
  ORDER BY lead_id
) TO '{str(out).replace("'", "''")}' ({COPY_OPTIONS[fmt]})
"""


COMPILED_RUNNER = r"""
import duckdb, sys
data, sql, out = sys.argv[1:4]
c = duckdb.connect(); c.execute("SET TimeZone = 'UTC'")
c.execute("CREATE VIEW stg_leads AS SELECT * FROM read_parquet('" + data + "/leads.parquet')")
c.execute("CREATE VIEW stg_product_events AS SELECT * FROM read_parquet('" + data + "/product.parquet')")
c.execute("CREATE SCHEMA hubspot")
c.execute("CREATE VIEW hubspot.engagements AS SELECT * FROM read_parquet('" + data + "/marketing.parquet')")
c.execute("COPY (" + open(sql).read() + ") TO '" + out + "' (FORMAT parquet)")
"""
HAND_RUNNER = "import duckdb, sys; c = duckdb.connect(); c.execute(\"SET TimeZone = 'UTC'\"); c.execute(open(sys.argv[1]).read())"


# --------------------------------------------------------------- timing --

GNU_TIME = Path("/usr/bin/time")


def run_process(cmd: list[str], log: Path) -> tuple[float, int, float]:
    """Run `cmd` to completion: (wall seconds, peak RSS in MiB, CPU seconds user+sys).

    Peak RSS comes from /usr/bin/time when present: a child spawned straight from
    this (large) process inherits its RSS high-water mark in its own rusage."""
    rss_file = log.with_suffix(".rss")
    timed = [str(GNU_TIME), "-f", "%M", "-o", str(rss_file), *cmd] if GNU_TIME.exists() else cmd
    with open(log, "wb") as f:
        t0 = time.perf_counter()
        proc = subprocess.Popen(timed, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (and its children's)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{log.read_text(errors='replace')[-3000:]}")
    rss_kib = int(rss_file.read_text().split()[-1]) if GNU_TIME.exists() else usage.ru_maxrss  # Linux: KiB
    return wall, rss_kib // 1024, usage.ru_utime + usage.ru_stime


def leadlang_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "leadlang", *args]


# ------------------------------------------------------------- compare --

def compare(lead_out: Path, hand_out: Path) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    a, b = f"read_parquet('{lead_out}')", f"read_parquet('{hand_out}')"
    cols_a = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {a}").fetchall()]
    cols_b = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {b}").fetchall()]
    print(f"  columns: leadlang {len(cols_a)}, hand {len(cols_b)}" + ("" if cols_a == cols_b else
          f"; only leadlang {sorted(set(cols_a) - set(cols_b))}, only hand {sorted(set(cols_b) - set(cols_a))}, same order: no"))
    n_a, n_b = (con.execute(f"SELECT count(*) FROM {x}").fetchone()[0] for x in (a, b))
    only_a, only_b = con.execute(f"""SELECT count(*) FILTER (WHERE b.lead_id IS NULL), count(*) FILTER (WHERE a.lead_id IS NULL)
                                 FROM {a} a FULL JOIN {b} b USING (lead_id)""").fetchone()
    print(f"  rows: leadlang {n_a:,}, hand {n_b:,}; only in leadlang {only_a:,}, only in hand {only_b:,}")
    in_order = con.execute(f"""SELECT bool_and(prev IS NULL OR prev < lead_id) FROM (SELECT lead_id, lag(lead_id) OVER (ORDER BY file_row_number) AS prev
                              FROM read_parquet('{lead_out}', file_row_number = true))""").fetchone()[0]

    def differs(c: str) -> str:
        if c in ("fit", "engagement"):  # exact decimal on one side, a rounded double on the other
            return f"(a.{c} IS NULL) <> (b.{c} IS NULL) OR abs(CAST(a.{c} AS DOUBLE) - CAST(b.{c} AS DOUBLE)) > 0.001"
        if c == "as_of":
            return f"CAST(a.{c} AS TIMESTAMPTZ) IS DISTINCT FROM CAST(b.{c} AS TIMESTAMPTZ)"
        return f"CAST(a.{c} AS VARCHAR) IS DISTINCT FROM CAST(b.{c} AS VARCHAR)"

    main = ["segment", "stage", "fit", "engagement"]
    shared = [c for c in cols_a if c in cols_b and c != "lead_id"]
    others = [c for c in shared if c not in main]
    any_main = " OR ".join(f"({differs(c)})" for c in main)
    counts = con.execute(f"SELECT count(*) FILTER (WHERE {any_main}), " + ", ".join(f"count(*) FILTER (WHERE {differs(c)})" for c in main + others)
                     + f" FROM {a} a JOIN {b} b USING (lead_id)").fetchone()
    print(f"  MISMATCHES (segment, stage, fit or engagement differ): {counts[0]:,}")
    print("  per column: " + ", ".join(f"{c} {n:,}" for c, n in zip(main + others, counts[1:])))
    print(f"  leadlang output ordered by lead_id: {in_order}")
    if counts[0]:
        shown = ", ".join(f"a.{c} AS ll_{c}, b.{c} AS hand_{c}" for c in main)
        for row in con.execute(f"SELECT lead_id, {shown} FROM {a} a JOIN {b} b USING (lead_id) WHERE {any_main} ORDER BY lead_id LIMIT 5").fetchall():
            print(f"    e.g. {row}")
    sample = con.execute(f"""SELECT segment, count(*) AS n, round(avg(CAST(fit AS DOUBLE)), 1), round(avg(CAST(engagement AS DOUBLE)), 1)
                         FROM {a} GROUP BY 1 ORDER BY 2 DESC""").fetchall()
    print("  segments (leadlang): " + ", ".join(f"{s} {n:,} (fit {f}, eng {e})" for s, n, f, e in sample))
    stages = con.execute(f"SELECT stage, count(*) FROM {a} GROUP BY 1 ORDER BY 2 DESC").fetchall()
    print("  stages (leadlang): " + ", ".join(f"{s} {n:,}" for s, n in stages))
    con.close()


# ------------------------------------------------------------- profile --

PROFILE = r"""
import datetime as dt, gc, json, sys, time
from pathlib import Path
T0, C0 = time.perf_counter(), time.process_time()
import duckdb
from leadlang.check import load
from leadlang.engine import relations_for
import leadlang.io as io
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

# every statement register_dataset runs, timed (a read-only wrapper around io._run)
real_run = io._run
def timed_run(con, path, sql, arrow=False):
    t, c = time.perf_counter(), time.process_time()
    try:
        return real_run(con, path, sql, arrow)
    finally:
        statements.append((path.name, " ".join(sql.split())[:100], time.perf_counter() - t, time.process_time() - c))
io._run = timed_run
con = duckdb.connect()
with timed(phases, "register_dataset (validate + load all sources)"):
    tables = io.register_dataset(con, policy.leads, policy.accounts, list(policy.events.values()), data)
io._run = real_run
relations = relations_for(policy, tables)
with timed(phases, "compile to SQL"):
    sql = to_sql(policy, "duckdb", as_of, relations)
with timed(phases, "compiled query on registered tables -> Arrow"):
    arrow = con.sql(sql).to_arrow_table()
with timed(phases, "Arrow -> Python row dicts (to_pylist)"):
    rows = arrow.to_pylist()
with timed(phases, "write_rows -> parquet (per-value Python)"):
    io.write_rows(rows, [(o.name, o.kind) for o in policy.outputs], out)
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
        lambda k: f"employees is missing and industry is present",
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


# ------------------------------------------------------ output formats --

FORMATS = ("csv", "stdout", "jsonl", "parquet")
ABM = ROOT / "policies" / "abm" / "abm.lead"
COMPILED_COPY = r"""
import duckdb, sys
from pathlib import Path
sql, out, opts, data = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3], Path(sys.argv[4])
c = duckdb.connect(); c.execute("SET TimeZone = 'UTC'")
for view, name in [("stg_leads", "leads"), ("stg_accounts", "accounts"), ("stg_product_events", "product"), ("stg_marketing_touches", "marketing")]:
    c.execute(f"CREATE VIEW {view} AS SELECT * FROM read_csv('{data / (name + '.csv')}', header = true)")
c.execute(f"COPY ({sql}) TO '{out}' ({opts})")
"""


def scaled_abm(dst: Path, copies: int) -> Path:
    """The ABM example's data (`by account`) `copies` times over as CSV, each copy's lead and account keys suffixed."""
    import csv

    src = ABM.parent / "data"
    meta = dst / "bench-meta.json"
    if meta.is_file() and meta.read_text() == json.dumps({"copies": copies, "version": GEN_VERSION}):
        return dst
    dst.mkdir(parents=True, exist_ok=True)
    keyed = {"leads": (0, 1), "accounts": (0,), "product": (0,), "marketing": (0,)}  # columns holding a key
    for name, cols in keyed.items():
        with (src / f"{name}.csv").open(newline="", encoding="utf-8") as f:
            header, *rows = list(csv.reader(f))
        with (dst / f"{name}.csv").open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for i in range(copies):
                w.writerows([f"{v}-{i}" if k in cols and v else v for k, v in enumerate(r)] for r in rows)
    meta.write_text(json.dumps({"copies": copies, "version": GEN_VERSION}))
    return dst


def formats(policy: Path, data: Path, work: Path, runs: int, n_events: int, reference) -> None:
    """`leadlang score` writing each output format, against `reference(fmt, out)` (a command) writing the same format."""
    print(f"  {'output':<9} {'leadlang':>10} {'events/s':>12} {'RSS':>9}   {'reference':>10} {'RSS':>9}   ratio")
    for fmt in FORMATS:
        out = work / f"{policy.stem}.{'csv' if fmt == 'stdout' else fmt}"
        ll_cmd = leadlang_cmd("score", str(policy), "--data", str(data), "--as-of", AS_OF) + ([] if fmt == "stdout" else ["-o", str(out)])
        ref_out = work / f"{policy.stem}.ref.{'csv' if fmt == 'stdout' else 'json' if fmt == 'jsonl' else fmt}"
        ll, ref = [], []
        for _ in range(runs):
            ll.append(run_process(ll_cmd, work / f"{policy.stem}.{fmt}.log"))  # standard output goes to this file
            ref.append(run_process(reference(fmt, ref_out), work / f"{policy.stem}.{fmt}.ref.log"))
        t_ll, t_ref = statistics.median(t for t, _, _ in ll), statistics.median(t for t, _, _ in ref)
        print(f"  {fmt:<9} {t_ll:8.2f} s {n_events / t_ll:12,.0f} {max(m for _, m, _ in ll):5,} MiB   "
              f"{t_ref:8.2f} s {max(m for _, m, _ in ref):5,} MiB   {t_ll / t_ref:.2f}x")


def format_benchmarks(args, data: Path, work: Path) -> None:
    """Every output format on PLG (against the hand-written query) and on ABM (against its compiled query alone)."""
    n_events = args.product + args.marketing
    print(f"\nPLG, every output format ({args.runs} runs each, medians); reference: the hand-written DuckDB query COPYing the same format")

    def hand(fmt: str, out: Path) -> list[str]:
        sql_file = work / f"hand.{fmt}.sql"
        sql_file.write_text(hand_sql(data, Path("/dev/stdout") if fmt == "stdout" else out, fmt), encoding="utf-8")
        return [sys.executable, "-c", HAND_RUNNER, str(sql_file)]

    formats(POLICY, data, work, args.runs, n_events, hand)

    copies = max(1, args.leads // 1500)
    abm_data = scaled_abm(args.dir.resolve() / f"abm-x{copies}", copies)
    with (abm_data / "product.csv").open("rb") as f, (abm_data / "marketing.csv").open("rb") as g:
        abm_events = sum(1 for _ in f) + sum(1 for _ in g) - 2
    print(f"\nABM (`by account`, account signals), its example data x{copies} as CSV: {1500 * copies:,} leads, {abm_events:,} events;"
          " reference: the compiled query alone (`leadlang compile`) over the CSV files, COPYing the same format")
    compiled = work / "abm.sql"
    subprocess.run(leadlang_cmd("compile", str(ABM), "--dialect", "duckdb", "--as-of", AS_OF, "-o", str(compiled)), cwd=ROOT, check=True)

    def compiled_copy(fmt: str, out: Path) -> list[str]:
        return [sys.executable, "-c", COMPILED_COPY, str(compiled), "/dev/stdout" if fmt == "stdout" else str(out), COPY_OPTIONS[fmt], str(abm_data)]

    formats(ABM, abm_data, work, args.runs, abm_events, compiled_copy)


# ---------------------------------------------------------------- main --

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/leadlang-bench"), help="data directory (reused when the sizes match)")
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--product", type=int, default=20_000_000)
    ap.add_argument("--marketing", type=int, default=7_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--no-profile", action="store_true", help="skip the in-process breakdown of leadlang's time")
    ap.add_argument("--skip-score", action="store_true", help="only the 300-rule compile/check timing")
    ap.add_argument("--formats", action="store_true", help="only every output format (CSV, stdout, JSONL, Parquet) on PLG and ABM")
    args = ap.parse_args()
    data = args.dir.resolve()
    work = Path(tempfile.mkdtemp(prefix="leadlang-bench-out-"))
    print(f"leadlang score benchmark  (python {sys.version.split()[0]}, {os.cpu_count()} CPUs, outputs in {work})")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (other work on the machine makes timings noisy)")

    if args.formats:
        secs = generate(data, args.leads, args.product, args.marketing)
        print(f"\ndata in {data}: " + ("reused" if secs == 0 else f"generated in {secs:.1f} s"))
        format_benchmarks(args, data, work)
        return
    if not args.skip_score:
        secs = generate(data, args.leads, args.product, args.marketing)
        print(f"\ndata in {data}: " + ("reused" if secs == 0 else f"generated in {secs:.1f} s"))
        import duckdb

        con = duckdb.connect()
        for name in ("leads", "product", "marketing"):
            path = data / f"{name}.parquet"
            n = con.execute(f"SELECT count(*) FROM read_parquet('{path}')").fetchone()[0]
            print(f"  {name + '.parquet':<18} {n:>12,} rows  {path.stat().st_size / 2**20:8.1f} MiB")
        stray = con.execute(f"""SELECT
            (SELECT count(*) FROM read_parquet('{data}/product.parquet') WHERE user_id NOT IN (SELECT lead_id FROM read_parquet('{data}/leads.parquet'))),
            (SELECT count(*) FROM read_parquet('{data}/product.parquet') WHERE occurred_at > {AS_OF_TS}),
            (SELECT count(*) FROM read_parquet('{data}/leads.parquet') WHERE industry IS NULL)""").fetchone()
        print(f"  product events with no matching lead {stray[0]:,}, after as-of {stray[1]:,}; leads with no industry {stray[2]:,}")
        con.close()

        sql_file = work / "hand.sql"
        hand_out, lead_out = work / "hand.parquet", work / "leadlang.parquet"
        sql_file.write_text(hand_sql(data, hand_out), encoding="utf-8")
        ll_cmd = leadlang_cmd("score", str(POLICY), "--data", str(data), "--as-of", AS_OF, "-o", str(lead_out))
        hand_cmd = [sys.executable, "-c", HAND_RUNNER, str(sql_file)]
        compiled_sql = work / "compiled.sql"
        subprocess.run(leadlang_cmd("compile", str(POLICY), "--dialect", "duckdb", "--as-of", AS_OF, "-o", str(compiled_sql)), cwd=ROOT, check=True)
        comp_cmd = [sys.executable, "-c", COMPILED_RUNNER, str(data), str(compiled_sql), str(work / "compiled.parquet")]
        ll, hand, comp = [], [], []
        print(f"\nscoring, {args.runs} runs each (alternating), wall time of the whole process (cpu = user+sys of all its threads):")
        for r in range(args.runs):
            ll.append(run_process(ll_cmd, work / "leadlang.log"))
            hand.append(run_process(hand_cmd, work / "hand.log"))
            if not args.no_profile:
                comp.append(run_process(comp_cmd, work / "compiled.log"))
            print(f"  run {r + 1}: leadlang {ll[-1][0]:7.2f} s (cpu {ll[-1][2]:6.1f} s, {ll[-1][1]:,} MiB)"
                  f"   hand-written {hand[-1][0]:7.2f} s (cpu {hand[-1][2]:6.1f} s, {hand[-1][1]:,} MiB)"
                  + (f"   compiled SQL alone {comp[-1][0]:7.2f} s (cpu {comp[-1][2]:6.1f} s, {comp[-1][1]:,} MiB)" if comp else ""))
        t_ll, t_hand = statistics.median(t for t, _, _ in ll), statistics.median(t for t, _, _ in hand)
        c_ll, c_hand = statistics.median(c for _, _, c in ll), statistics.median(c for _, _, c in hand)
        rss_ll, rss_hand = max(m for _, m, _ in ll), max(m for _, m, _ in hand)
        ratio = t_ll / t_hand
        print(f"\n  leadlang score      median {t_ll:7.2f} s   (cpu {c_ll:6.1f} s)   peak RSS {rss_ll:,} MiB")
        print(f"  hand-written query  median {t_hand:7.2f} s   (cpu {c_hand:6.1f} s)   peak RSS {rss_hand:,} MiB")
        print(f"  ratio leadlang / hand-written: {ratio:.2f}x  (target <= 1.15: {'met' if ratio <= 1.15 else 'NOT met'});"
              f"  CPU-time ratio {c_ll / c_hand:.2f}x;  RSS ratio {rss_ll / max(rss_hand, 1):.2f}x")
        if comp:
            t_comp, c_comp = statistics.median(t for t, _, _ in comp), statistics.median(c for _, _, c in comp)
            print(f"  compiled SQL alone  median {t_comp:7.2f} s   (cpu {c_comp:6.1f} s)   peak RSS {max(m for _, m, _ in comp):,} MiB"
                  f"   <- `leadlang compile` output over the parquet files (views), COPY TO parquet: no validation, no Python rows")
            print(f"  ratio compiled SQL alone / hand-written: {t_comp / t_hand:.2f}x wall, {c_comp / c_hand:.2f}x cpu")
        print(f"  throughput: leadlang {args.leads / t_ll:,.0f} leads/s, {(args.product + args.marketing) / t_ll:,.0f} events/s")

        print("\ncomparing the outputs (leadlang vs hand-written):")
        compare(lead_out, hand_out)

        if not args.no_profile:
            print("\nwhere leadlang's time goes:")
            profile(data, work, sql_file)

    print("\n300-rule policy:")
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
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
