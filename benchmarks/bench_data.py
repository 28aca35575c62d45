"""Benchmark data with the test corpus's edge cases, at any size, generated in DuckDB SQL.

Deterministic: every pseudo-random column is `hash(row number, salt)`, so the same
size gives the same files (with the same DuckDB version). Four Parquet files, the
sources of both benchmark policies (PLG and `benchmarks/account_bench.lead`):

- `leads.parquet` — n leads, unique keys `L` + 8 digits; ~4 leads per account, 5%
  without one; every nullable column missing in ~5% of rows, plus empty strings
  (missing too) and blank-only strings (not missing); emails and titles with
  quotes, commas, newlines and Unicode; emails without `@` or with nothing after it.
- `accounts.parquet` — the accounts of n/4 ids, unique keys, ~10% of the ids leads
  point at have no row; missing values; names with quotes, commas, newlines, Unicode.
- `product.parquet` (20n events) and `marketing.parquet` (7n events) — keys of a
  skewed subset of the leads, 2–3% unknown keys (no such lead), times over the 120
  days before as-of, ~1% after as-of, ~0.5% exactly on whole-day boundaries
  (as-of itself, 14/21/30/90 days before ...); `seats` missing except on `seat_added`.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

from leadlang.data.sample import ODD_COMPANIES, ODD_EMAILS, ODD_TITLES

AS_OF = "2024-06-01"
AS_OF_TS = "TIMESTAMPTZ '2024-06-01 00:00:00+00'"
GEN_VERSION = 4  # bump when the generator changes, so old data is not reused
PRODUCT_PER_LEAD, MARKETING_PER_LEAD = 20, 7  # events x27


def parse_size(text: str) -> int:
    """`300`, `100k`, `1m`, `3M` -> a number of leads."""
    t = text.strip().lower().replace("_", "")
    mult = 1_000 if t.endswith("k") else 1_000_000 if t.endswith("m") else 1
    return int(float(t.rstrip("km")) * mult)


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000 and n % 100 == 0:
        return f"{n / 1_000:g}k"
    return str(n)


def _coprime(n: int, start: int) -> int:
    """A multiplier coprime with n, so `i * m % n` permutes 0..n-1."""
    m = start
    while math.gcd(m, n) != 1:
        m += 1
    return m


def _lit(v: str | None) -> str:
    return "NULL::VARCHAR" if v is None else "'" + v.replace("'", "''") + "'"


def _pick(values: list, u: str) -> str:
    """SQL picking one of `values` (repeat one to weight it) with the uniform [0, 1) expression `u`."""
    items = ", ".join(_lit(v) if v is None or isinstance(v, str) else str(v) for v in values)
    return f"([{items}])[1 + CAST(floor(({u}) * {len(values)}) AS BIGINT)]"


def _u(i: str, salt: int) -> str:
    """A deterministic pseudo-random uniform in [0, 1) from row number `i` and a salt."""
    return f"((hash({i}, {salt}) % 1000000007)::DOUBLE / 1000000007)"


def _missing(expr: str, i: str, salt: int, share: float = 0.05) -> str:
    return f"CASE WHEN {_u(i, salt)} < {share} THEN NULL ELSE {expr} END"


def _odd(expr: str, odd: list[str], i: str, salt: int, share: float = 0.04) -> str:
    """`expr`, or in ~share of the rows one of the edge-case strings `odd`."""
    return f"CASE WHEN {_u(i, salt)} < {share} THEN {_pick(odd, _u(i, salt + 1))} ELSE {expr} END"


TITLES = ["VP Engineering", "VP Sales", "vp of marketing", "Head of Data", "Head of Platform", "Director of IT", "Director, Analytics",
          "Chief Technology Officer", "CHIEF OF STAFF", "Engineer", "Software Engineer", "Senior Engineer", "Data Analyst", "Analyst",
          "Product Manager", "Founder", "Student", "Consultant", "Manager", "Developer", "Engineering Manager", "Tech Lead"]
INDUSTRIES = ["software"] * 5 + ["fintech"] * 3 + ["healthcare"] * 2 + ["retail"] * 3 + ["education"] * 2 + ["other"] * 4
COUNTRIES = ["US"] * 7 + ["GB", "GB", "DE", "DE", "CA", "FR", "FR", "IN", "IN", "BR", "AU", "NL", "JP", "", " US", "Côte d'Ivoire"]
USE_CASES = ["customer_facing", "security", "compliance", "analytics", "analytics", "internal_tools", "reporting", "reporting"]
PRODUCT_NAMES = ["login"] * 9 + ["dashboard_view"] * 5 + ["teammate_invited", "seat_added", "report_exported", "report_exported",
                                                          "settings_changed", "api_call", "Login", "login "]
MARKETING_NAMES = ["email_open"] * 10 + ["email_click"] * 3 + ["pricing_page_view"] * 2 + ["form_submitted", "demo_requested",
                                                                                           "webinar_attended", "page_view", "page_view"]


def n_accounts(n_leads: int) -> int:
    return max(1, n_leads // 4)


def _leads_sql(n: int) -> str:
    i = "i"
    company = "'co' || CAST(hash(i, 31) % 50000 AS VARCHAR) || '.com'"
    domain = (f"CASE WHEN {_u(i, 30)} < 0.55 THEN {company} ELSE "
              + _pick(["acme.io", "startup.io", "bigbank.de", "retail.co.uk"] * 3 + ["gmail.com"] * 6 + ["GMail.com", "yahoo.com", "hotmail.com", "outlook.com", "outlook.com",
                       "rival.com", "competitor.io", "state.edu", "mit.edu", "uni.edu.au", "Rival.COM"], _u(i, 32)) + " END")
    email = _odd(f"'user' || CAST(i AS VARCHAR) || '@' || ({domain})", ODD_EMAILS, i, 40)
    account = f"'A' || lpad(CAST(hash(i, 20) % {n_accounts(n)} AS VARCHAR), 7, '0')"
    return f"""
    SELECT
      'L' || lpad(CAST(i AS VARCHAR), 8, '0') AS lead_id,
      {_missing(account, i, 21)} AS account_id,
      {_missing(email, i, 22)} AS email,
      {_missing(_odd(_pick(TITLES, _u(i, 33)), ODD_TITLES, i, 42, 0.06), i, 23)} AS title,
      {_missing(_pick(INDUSTRIES, _u(i, 34)), i, 24)} AS industry,
      {_missing(f"CAST(floor(exp({_u(i, 35)} * 10.3)) AS BIGINT)", i, 25)} AS employees,
      {_missing(_pick(COUNTRIES, _u(i, 36)), i, 26)} AS country,
      {_missing(_pick(["approved", "planned", "planned", "none"], _u(i, 37)), i, 27)} AS budget_status,
      {_missing("CAST(hash(i, 38) % 1001 AS BIGINT)", i, 28)} AS timeline_days,
      {_missing(_pick(USE_CASES, _u(i, 39)), i, 29)} AS use_case
    FROM range({n}) t(i)
    """


def _accounts_sql(n_leads: int) -> str:
    i = "i"
    revenue = "CAST(CAST(hash(i, 53) % 100000000000 AS BIGINT) AS DECIMAL(18, 2)) * 0.05"
    return f"""
    SELECT
      'A' || lpad(CAST(i AS VARCHAR), 7, '0') AS account_id,
      {_missing(_pick(ODD_COMPANIES, _u(i, 51)), i, 52)} AS company_name,
      {_missing(_pick(["tier_1", "tier_2", "tier_2", "tier_3", "tier_3", "tier_3"], _u(i, 54)), i, 55)} AS tier,
      {_missing(f"CAST({revenue} AS DECIMAL(18, 2))", i, 56)} AS annual_revenue,
      {_missing(f"{_u(i, 57)} < 0.1", i, 58)} AS is_customer
    FROM range({n_accounts(n_leads)}) t(i)
    WHERE hash(i, 50) % 10 <> 0
    """


def _events_sql(n: int, n_leads: int, salt: int, names: list[str], lead: str, at: str, name: str,
                active_share: float, stray_share: float, seats: bool) -> str:
    mult = _coprime(n_leads, 999_983 + salt)
    active = max(1, int(n_leads * active_share))
    s = salt * 100
    idx = f"(CAST(floor({active} * pow({_u('i', s + 1)}, 2)) AS BIGINT) * {mult}) % {n_leads}"
    key = (f"CASE WHEN {_u('i', s + 2)} < {stray_share} THEN 'X' || lpad(CAST(hash(i, {s + 3}) % 10000000 AS VARCHAR), 8, '0') "
           f"ELSE 'L' || lpad(CAST({idx} AS VARCHAR), 8, '0') END")
    day_us = 86_400 * 1_000_000
    boundary = _pick([0, 0, 1, 7, 14, 14, 21, 21, 30, 30, 45, 60, 90, 90, 120], _u("i", s + 7))
    when = (f"CASE WHEN {_u('i', s + 4)} < 0.01 THEN {AS_OF_TS} + to_microseconds(CAST(hash(i, {s + 5}) % {3 * day_us} AS BIGINT) + 1) "
            f"WHEN {_u('i', s + 6)} < 0.005 THEN {AS_OF_TS} - to_days(CAST({boundary} AS INTEGER)) "
            f"ELSE {AS_OF_TS} - to_microseconds(CAST(hash(i, {s + 8}) % {120 * day_us} AS BIGINT)) END")
    extra = f", CASE WHEN ev = 'seat_added' THEN CAST(1 + hash(i, {s + 9}) % 5 AS BIGINT) END AS seats" if seats else ""
    return f"""
    SELECT {lead}, {at}, ev AS {name}{extra}
    FROM (SELECT i, {key} AS {lead}, {when} AS {at}, {_pick(names, _u('i', s + 10))} AS ev FROM range({n}) t(i))
    """


def generate(data: Path, n_leads: int, n_product: int | None = None, n_marketing: int | None = None, log=None) -> float:
    """Write the four Parquet files into `data` (skipped when it already holds these sizes); the seconds spent."""
    import duckdb

    n_product = PRODUCT_PER_LEAD * n_leads if n_product is None else n_product
    n_marketing = MARKETING_PER_LEAD * n_leads if n_marketing is None else n_marketing
    meta = {"leads": n_leads, "product": n_product, "marketing": n_marketing, "version": GEN_VERSION}
    stamp = data / "bench-meta.json"
    names = ("leads", "accounts", "product", "marketing")
    if stamp.is_file() and all((data / f"{n}.parquet").is_file() for n in names):
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
    con.execute("SET enable_progress_bar = false")
    jobs = [
        ("leads", _leads_sql(n_leads)),
        ("accounts", _accounts_sql(n_leads)),
        ("product", _events_sql(n_product, n_leads, 1, PRODUCT_NAMES, "user_id", "occurred_at", "event_name", 0.6, 0.02, True)),
        ("marketing", _events_sql(n_marketing, n_leads, 2, MARKETING_NAMES, "contact_id", "happened_at", "activity", 0.7, 0.03, False)),
    ]
    for name, sql in jobs:
        if log:
            log(f"generating {name}.parquet")
        con.execute(f"COPY ({sql}) TO '{data / (name + '.parquet')}' (FORMAT parquet, COMPRESSION zstd)")
    con.close()
    stamp.write_text(json.dumps(meta))
    return time.perf_counter() - t0


def describe(data: Path) -> dict:
    """Counts of the edge cases in generated data (so a run shows they are there)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    f = {n: f"read_parquet('{data / (n + '.parquet')}')" for n in ("leads", "accounts", "product", "marketing")}
    q = f"""SELECT
      (SELECT count(*) FROM {f['leads']}),
      (SELECT count(*) FROM {f['accounts']}),
      (SELECT count(*) FROM {f['product']}),
      (SELECT count(*) FROM {f['marketing']}),
      (SELECT count(*) FROM {f['product']} WHERE user_id NOT IN (SELECT lead_id FROM {f['leads']})),
      (SELECT count(*) FROM {f['product']} WHERE occurred_at > {AS_OF_TS}),
      (SELECT count(*) FROM {f['product']} WHERE occurred_at = date_trunc('day', occurred_at)),
      (SELECT count(*) FROM {f['leads']} WHERE email IS NULL OR email = ''),
      (SELECT count(*) FROM {f['leads']} WHERE regexp_matches(coalesce(email, '') || coalesce(title, ''), '["\n,]')),
      (SELECT count(*) FROM {f['leads']} WHERE regexp_matches(coalesce(email, '') || coalesce(title, ''), '[^\\x00-\\x7F]')),
      (SELECT count(*) - count(DISTINCT lead_id) FROM {f['leads']})"""
    keys = ["leads", "accounts", "product events", "marketing events", "product events of unknown leads", "product events after as-of",
            "product events on a whole-day boundary", "leads with missing or empty email", "leads with quotes/newlines/commas",
            "leads with non-ASCII text", "duplicate lead keys"]
    row = con.execute(q).fetchone()
    con.close()
    return dict(zip(keys, row))
