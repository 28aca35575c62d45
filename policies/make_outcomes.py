#!/usr/bin/env python3
"""Generate sample outcomes (what happened to each lead after 2024-06-01) for the example policies.

    python policies/make_outcomes.py            # plg and bant
    python policies/make_outcomes.py plg

Writes `policies/<name>/data/outcomes.csv` with `lead_id`, `outcome` (won / lost /
open), `amount` and `closed_at`. Deterministic (fixed seed; written through leadlang.data.sample).

Each lead's chance to win comes from its raw data, not from the policy: a
logistic model of buyer fit (industry, size, country, seniority, work e-mail,
budget) and engagement (product use, demo requests, pricing views, webinars)
in the weeks before AS_OF, plus Gaussian noise, so the policies' fit and
engagement scores predict wins well but not perfectly. Events after AS_OF are
not used. About 4% of leads get no outcome row (never worked), which the
back-test counts as not won. Won deals close 5–150 days after AS_OF, sooner
for engaged leads; amounts grow with company size.
"""
import csv
import math
import random
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from leadlang.data.sample import ts, write_dicts

SEED = 20240602
AS_OF = datetime(2024, 6, 1, tzinfo=timezone.utc)
HERE = Path(__file__).resolve().parent
FREE = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "proton.me", "aol.com"}
SENIOR = ("vp", "vice president", "head", "director", "chief", "cfo", "cio", "cto", "ceo", "founder")


def read(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def events_by_lead(path: Path, lead: str, at: str, name: str) -> dict[str, list[tuple[float, str]]]:
    """Each lead's events before AS_OF as (age in days, name)."""
    out = defaultdict(list)
    for row in read(path):
        t = datetime.fromisoformat(row[at].replace("Z", "+00:00"))
        if t <= AS_OF:
            out[row[lead]].append(((AS_OF - t).total_seconds() / 86400, row[name]))
    return out


def count(events, names=None, days=None) -> int:
    return sum(1 for age, n in events if (names is None or n in names) and (days is None or age < days))


def domain(email: str) -> str:
    return email.rpartition("@")[2].lower() if "@" in email else ""


def size(text: str) -> int:
    return int(text) if text.strip() else 0


def plg(here: Path) -> list[tuple[dict, float, float]]:
    """(lead, logit of winning, engagement) for the product-led example."""
    product = events_by_lead(here / "data/product.csv", "user_id", "occurred_at", "event_name")
    marketing = events_by_lead(here / "data/marketing.csv", "contact_id", "happened_at", "activity")
    out = []
    for lead in read(here / "data/leads.csv"):
        p, m, n = product[lead["lead_id"]], marketing[lead["lead_id"]], size(lead["employees"])
        fit = (0.8 * (lead["industry"] in ("software", "fintech", "healthcare"))
               + 0.6 * (200 <= n <= 5000) + 0.9 * (n > 5000) - 0.4 * (0 < n < 50)
               + 0.4 * (lead["country"] in ("US", "CA", "GB", "DE"))
               + 0.7 * any(w in lead["title"].lower() for w in SENIOR)
               - 1.0 * (domain(lead["email"]) in FREE) - 2.5 * domain(lead["email"]).endswith((".edu", "rival.com", "competitor.io"))
               + 0.3 * (lead["budget_status"] == "approved"))
        active = len({int(age) for age, _ in p if age < 30})
        engagement = (0.08 * min(active, 20) + 0.25 * math.log1p(count(p, days=30))
                      + 0.6 * (count(p, {"teammate_invited"}, 14) >= 3) + 1.0 * (count(m, {"demo_requested"}, 30) > 0)
                      + 0.5 * (count(m, {"pricing_page_view"}, 14) > 0) - 0.6 * (count(p, days=21) == 0))
        out.append((lead, -4.0 + 1.6 * fit + engagement, engagement))
    return out


def bant(here: Path) -> list[tuple[dict, float, float]]:
    """(lead, logit of winning, engagement) for the sales-led BANT example."""
    marketing = events_by_lead(here / "data/marketing.csv", "contact_id", "occurred_at", "activity_type")
    out = []
    for lead in read(here / "data/leads.csv"):
        m, n = marketing[lead["lead_id"]], size(lead["company_size"])
        pain = size(lead["pain_score"])
        timeline = size(lead["purchase_timeline_days"]) or 999
        fit = (0.7 * (lead["budget_status"] in ("approved", "planned")) + 0.6 * (lead["decision_role"] == "decision_maker")
               + 0.8 * any(w in lead["job_title"].lower() for w in SENIOR) + 0.2 * (pain - 3)
               + 0.5 * (timeline <= 90) + 0.9 * (100 <= n <= 2000) + 0.6 * (n > 2000) - 1.0 * (0 < n < 10)
               + 0.7 * (lead["industry"] in ("saas", "financial_services", "healthcare"))
               + 0.8 * (lead["country"] in ("US", "CA", "GB", "IE", "DE", "FR", "NL", "AU"))
               - 1.0 * (domain(lead["email"]) in FREE) - 3.0 * (lead["opted_out"] == "true"))
        last = min((age for age, _ in m), default=999)
        engagement = (1.1 * (count(m, {"demo_requested"}, 30) > 0) + 0.3 * min(count(m, {"webinar_attended"}, 90), 3)
                      + 0.5 * (count(m, {"pricing_page_view"}, 14) > 0) + 0.15 * min(count(m, {"email_clicked"}, 60), 5)
                      - 1.0 * (count(m, {"unsubscribed"}) > 0) - 0.5 * (last > 45))
        out.append((lead, -4.6 + fit + engagement, engagement))
    return out


def amount(rng: random.Random, employees: int) -> str:
    base = 6000 + 18 * min(employees, 20000) ** 0.85
    return f"{round(base * rng.lognormvariate(0, 0.45), -2):.0f}"


def write(name: str, leads: list[tuple[dict, float, float]], size_field: str, out: Path | None = None) -> None:
    """`outcomes.csv` in `out`, by default the example's own data folder."""
    rng = random.Random(f"{SEED}-{name}")
    rows = []
    for lead, logit, engagement in leads:
        if rng.random() < 0.04:
            continue  # never worked: no outcome row
        chance = 1 / (1 + math.exp(-(logit + rng.gauss(0, 0.7))))
        won = rng.random() < chance
        days = max(5, min(150, int(rng.gammavariate(2.2, 26) / (1 + 0.35 * max(engagement, 0)))))
        if won:
            outcome = "won"
        else:
            outcome = "open" if rng.random() < 0.25 else "lost"
        closed = "" if outcome == "open" else ts(AS_OF + timedelta(days=days, hours=rng.randint(8, 18), minutes=rng.randint(0, 59)))
        rows.append({"lead_id": lead["lead_id"], "outcome": outcome,
                     "amount": amount(rng, size(lead[size_field])) if outcome != "lost" or rng.random() < 0.5 else "",
                     "closed_at": closed})
    path = (out or HERE / name / "data") / "outcomes.csv"
    write_dicts(path, rows)
    won = sum(r["outcome"] == "won" for r in rows)
    print(f"{path}: {len(rows)} rows, {won} won")


POLICIES = {"plg": (plg, "employees"), "bant": (bant, "company_size")}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(POLICIES):
        model, size_field = POLICIES[name]
        write(name, model(HERE / name), size_field)
