"""The two benchmark policies written by hand as DuckDB queries, from docs/language.md (not from the compiler).

Each `*_sql(data)` returns one SELECT over the generated Parquet files in `data`
(session TimeZone = UTC), one row per lead, ordered by key, with the columns
`leadlang score` writes (language.md §18). What the spec asks, done the plain way:

- windows `as_of - D < at <= as_of`; events after as-of never count; events of
  unknown leads never join; `by account` joins events to the leads of the account;
- an empty string cell is missing (`NULLIF`), blanks are not;
- scores: exact decimals, clamp, then round to 2 places half away from zero;
- a decayed count follows language.md §10 to the letter: each event's factor `f = 0.5 ^ (age_us /
  half-life_us)` (doubles), `K = floor(f * 2^60)`, its weight `K / 2^60` rounded to 10 places half
  up (integer ten-billionths, `decay_weight`: K split as A * 2^30 + B so BIGINTs hold every
  product), the count the exact sum of the weights (`weights_to_number`).
"""

from __future__ import annotations

from pathlib import Path

AS_OF_TS = "TIMESTAMPTZ '2024-06-01 00:00:00+00'"
DAY_S = 86_400


def _files(data: Path) -> dict[str, str]:
    d = str(data).replace("'", "''")
    return {n: f"read_parquet('{d}/{n}.parquet')" for n in ("leads", "accounts", "product", "marketing")}


def _win(at: str, days: int) -> str:
    return f"{at} > {AS_OF_TS} - INTERVAL {days} DAY"


def decay_weight(at: str, half_life_days: int) -> str:
    """An event's weight in ten-billionths: round(K * 10^10 / 2^60) = floor((A * 5^10 * 2^30 + B * 5^10 + 2^49) / 2^50)
    with K = floor(f * 2^60) = A * 2^30 + B, computed as (A * 5^10 + (B * 5^10 + 2^49) // 2^30) // 2^20."""
    f = f"pow(0.5, CAST(epoch_us({AS_OF_TS}) - epoch_us({at}) AS DOUBLE) / CAST({half_life_days * DAY_S * 1_000_000} AS DOUBLE))"
    k = f"CAST(floor({f} * 1152921504606846976.0::DOUBLE) AS BIGINT)"
    a, b = f"({k} // 1073741824)", f"({k} % 1073741824)"
    return f"(({a} * 9765625 + ({b} * 9765625 + 562949953421312) // 1073741824) // 1048576)"


def weights_to_number(total: str) -> str:
    """A sum of weights (ten-billionths) as DECIMAL(38, 10), 0 when there is none."""
    return f"(CAST(coalesce({total}, 0) AS DECIMAL(38, 0)) * 0.0000000001::DECIMAL(11, 10))"


def _clamp_round(expr: str, lo: int | None, hi: int | None) -> str:
    if lo is not None:
        expr = f"greatest({expr}, {lo})"
    if hi is not None:
        expr = f"least({expr}, {hi})"
    return f"round({expr}, 2)"


def plg_sql(data: Path) -> str:
    """policies/plg/plg.lead."""
    f = _files(data)
    fit = " + ".join([
        "CASE WHEN industry IN ('software', 'fintech', 'healthcare') THEN 30 ELSE 0 END",
        "CASE WHEN employees BETWEEN 200 AND 5000 THEN 25 ELSE 0 END",
        "CASE WHEN employees > 5000 THEN 35 ELSE 0 END",
        "CASE WHEN country IN ('US', 'CA', 'GB', 'DE') THEN 15 ELSE 0 END",
        "CASE WHEN contains(lower(title), 'vp') OR contains(lower(title), 'head') OR contains(lower(title), 'director')"
        " OR contains(lower(title), 'chief') THEN 20 ELSE 0 END",
        "CASE WHEN email_domain IN ('gmail.com', 'yahoo.com', 'hotmail.com', 'outlook.com') THEN -40 ELSE 0 END",
    ])
    engagement = " + ".join([
        "least(3 * active_days_30, 30)",
        "CASE WHEN invites_14d >= 3 THEN 20 ELSE 0 END",
        "CASE WHEN pricing_14d > 0 THEN 15 ELSE 0 END",
        "CASE WHEN demos_30d > 0 THEN 25 ELSE 0 END",
        "least(2 * logins_decayed, 20)",
        "CASE WHEN events_21d = 0 THEN -20 ELSE 0 END",
    ])
    return f"""
WITH
product AS (
  SELECT user_id AS lead_id, occurred_at AS ts, event_name AS name,
         CASE WHEN event_name = 'login' AND {_win('occurred_at', 90)} THEN {decay_weight('occurred_at', 14)} END AS login_w
  FROM {f['product']}
  WHERE occurred_at <= {AS_OF_TS}
),
product_agg AS (
  SELECT lead_id,
    count(*) FILTER (WHERE name = 'teammate_invited' AND {_win('ts', 14)}) AS invites_14d,
    count(DISTINCT CAST(ts AS DATE)) FILTER (WHERE {_win('ts', 30)}) AS active_days_30,
    sum(login_w) AS login_w,
    count(*) FILTER (WHERE {_win('ts', 21)}) AS events_21d
  FROM product GROUP BY lead_id
),
marketing_agg AS (
  SELECT contact_id AS lead_id,
    count(*) FILTER (WHERE activity = 'pricing_page_view' AND {_win('happened_at', 14)}) AS pricing_14d,
    count(*) FILTER (WHERE activity = 'demo_requested' AND {_win('happened_at', 30)}) AS demos_30d,
    count(*) FILTER (WHERE activity = 'form_submitted') AS forms
  FROM {f['marketing']}
  WHERE happened_at <= {AS_OF_TS}
  GROUP BY contact_id
),
base AS (
  SELECT
    l.lead_id, NULLIF(l.industry, '') AS industry, l.employees, NULLIF(l.country, '') AS country, NULLIF(l.title, '') AS title,
    NULLIF(l.budget_status, '') AS budget_status, l.timeline_days, NULLIF(l.use_case, '') AS use_case,
    NULLIF(lower(regexp_extract(NULLIF(l.email, ''), '@([^@]*)$', 1)), '') AS email_domain,
    coalesce(p.invites_14d, 0) AS invites_14d,
    coalesce(p.active_days_30, 0) AS active_days_30,
    {weights_to_number('p.login_w')} AS logins_decayed,
    coalesce(p.events_21d, 0) AS events_21d,
    coalesce(m.pricing_14d, 0) AS pricing_14d,
    coalesce(m.demos_30d, 0) AS demos_30d,
    coalesce(m.forms, 0) AS forms
  FROM {f['leads']} l
  LEFT JOIN product_agg p USING (lead_id)
  LEFT JOIN marketing_agg m USING (lead_id)
),
scored AS (
  SELECT *,
    {_clamp_round(fit, 0, 100)} AS fit,
    {_clamp_round(engagement, 0, 100)} AS engagement,
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
  SELECT *,
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
"""


def account_sql(data: Path) -> str:
    """benchmarks/account_bench.lead."""
    f = _files(data)
    fit = " + ".join([
        r"CASE WHEN regexp_matches(email, '@[a-z0-9-]+\.(io|com|de)$') THEN 20 ELSE 0 END",
        "CASE WHEN regexp_matches(title, '^(VP|Head|Director|Chief)( |$)') THEN 25 ELSE 0 END",
        "CASE WHEN tier = 'tier_1' THEN 20 ELSE 0 END",
        "CASE WHEN annual_revenue >= 50000000.5 THEN 15 ELSE 0 END",
        "CASE WHEN employees > 1000 THEN 10 ELSE 0 END",
        "CASE WHEN account_id IS NULL THEN -15 ELSE 0 END",
    ])
    engagement = " + ".join([
        "least(10 * team_14d, 40)",
        "CASE WHEN account_pricing >= 2 THEN 15 ELSE 0 END",
        "least(2.5 * account_seats, 20)",
        "least(0.75 * account_pulse, 15)",
        "CASE WHEN product_30d = 0 THEN -20 ELSE 0 END",
    ])
    return f"""
WITH
leads AS (
  SELECT lead_id, NULLIF(account_id, '') AS account_id, NULLIF(email, '') AS email, NULLIF(title, '') AS title,
         NULLIF(industry, '') AS industry, employees, NULLIF(country, '') AS country
  FROM {f['leads']}
),
product AS (  -- events up to as-of of known leads, with the lead's account
  SELECT e.user_id AS lead_id, l.account_id, e.occurred_at AS ts, e.event_name AS name, e.seats,
         CASE WHEN {_win('e.occurred_at', 60)} THEN {decay_weight('e.occurred_at', 10)} END AS pulse_w
  FROM {f['product']} e JOIN leads l ON l.lead_id = e.user_id
  WHERE e.occurred_at <= {AS_OF_TS}
),
product_lead AS (
  SELECT lead_id, max(ts) AS last_seen FROM product GROUP BY lead_id
),
product_account AS (
  SELECT account_id,
    count(DISTINCT lead_id) FILTER (WHERE {_win('ts', 14)}) AS team_14d,
    CAST(coalesce(sum(seats) FILTER (WHERE name = 'seat_added' AND {_win('ts', 30)}), 0) AS BIGINT) AS account_seats,
    sum(pulse_w) AS pulse_w,
    count(*) FILTER (WHERE {_win('ts', 30)}) AS product_30d
  FROM product WHERE account_id IS NOT NULL GROUP BY account_id
),
marketing_account AS (
  SELECT l.account_id, count(*) AS account_pricing
  FROM {f['marketing']} e JOIN leads l ON l.lead_id = e.contact_id
  WHERE e.happened_at <= {AS_OF_TS} AND e.activity = 'pricing_page_view' AND {_win('e.happened_at', 30)} AND l.account_id IS NOT NULL
  GROUP BY l.account_id
),
base AS (
  SELECT
    l.*,
    NULLIF(lower(regexp_extract(l.email, '@([^@]*)$', 1)), '') AS email_domain,
    trim(l.title) AS title_clean,
    NULLIF(a.company_name, '') AS company, NULLIF(a.tier, '') AS tier, a.annual_revenue, a.is_customer,
    coalesce(pa.team_14d, 0) AS team_14d,
    coalesce(ma.account_pricing, 0) AS account_pricing,
    coalesce(pa.account_seats, 0) AS account_seats,
    {weights_to_number('pa.pulse_w')} AS account_pulse,
    coalesce(pa.product_30d, 0) AS product_30d,
    pl.last_seen
  FROM leads l
  LEFT JOIN {f['accounts']} a ON a.account_id = l.account_id
  LEFT JOIN product_account pa ON pa.account_id = l.account_id
  LEFT JOIN marketing_account ma ON ma.account_id = l.account_id
  LEFT JOIN product_lead pl ON pl.lead_id = l.lead_id
),
scored AS (
  SELECT *,
    {_clamp_round(fit, 0, 100)} AS fit,
    {_clamp_round(engagement, 0, 100)} AS engagement
  FROM base
),
derived AS (
  SELECT *,
    round(0.6 * fit + 0.4 * engagement, 2) AS priority,
    {_clamp_round("engagement * 0.35 + account_seats - 1.255", 0, 50)} AS momentum,
    CASE
      WHEN email_domain IN ('rival.com', 'competitor.io') THEN 'competitor'
      WHEN is_customer = true THEN 'customer'
    END AS disqualify_reason
  FROM scored
),
classified AS (
  SELECT *,
    CASE WHEN priority >= 60 THEN 'hot' WHEN priority >= 30 THEN 'warm' ELSE 'cold' END AS priority_band,
    disqualify_reason IS NOT NULL AS disqualified
  FROM derived
),
played AS (
  SELECT *,
    CASE
      WHEN priority_band = 'hot' AND NOT disqualified THEN 'ae'
      WHEN priority_band = 'warm' AND regexp_matches(title, '(Manager|Lead)') THEN 'sdr'
      ELSE 'nurture'
    END AS play
  FROM classified
)
SELECT
  lead_id, email_domain, title_clean, company, team_14d, account_pricing, account_seats, account_pulse, last_seen,
  fit, engagement, priority, momentum, priority_band, disqualified, disqualify_reason, play,
  CASE play WHEN 'ae' THEN 'account_executive' WHEN 'sdr' THEN 'sdr' WHEN 'nurture' THEN 'nurture' END AS route,
  CASE WHEN play = 'ae' THEN 24 END AS sla_hours,
  CASE WHEN play = 'sdr' THEN 1.5 END AS weight,
  'account_bench@bench.1' AS policy,
  {AS_OF_TS} AS as_of
FROM played
ORDER BY lead_id
"""


POLICIES = {"plg": plg_sql, "account_bench": account_sql}
