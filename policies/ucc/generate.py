#!/usr/bin/env python3
"""Generate the sample data for policies/ucc/ucc.lead.

Deterministic (fixed seed; the shared generators of leadlang.data.sample). Writes data/leads.csv (~1,500
signups) and data/product.csv (product usage with seats, integrations and
support-ticket severities) next to this script. Events cover the 120 days
before 2024-06-01; a few fall after it and a few belong to unknown users.
"""
import os
from datetime import datetime, timedelta, timezone

from leadlang.data.sample import Sample, ts, write_dicts, write_events

SEED = 7
AS_OF = datetime(2024, 6, 1, tzinfo=timezone.utc)
N_LEADS = 1500
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

sample = Sample(SEED, AS_OF, hours=(0, 23))
rng, pick, at_days_ago = sample.rng, sample.pick, sample.at_days_ago

FIRST = ["raj", "mo", "pat", "kai", "ada", "bo", "cy", "dee", "eli", "fay", "gus", "hal",
         "ivy", "jo", "ken", "liv", "max", "ned", "oli", "pam", "rex", "sue", "ted", "val"]
COMPANIES = ["payfast", "tinyshop", "hospital", "mediahub", "cloudnine", "ledgerly", "shopwise",
             "careplus", "streamio", "govworks", "quantly", "orbital", "brightpath", "kinetic",
             "novabank", "medisync", "retailor", "newsroom", "cityhall", "finstack"]
TLDS = [".io", ".com", ".org", ".co", ".de", ".app"]
FREE = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com"]
INDUSTRIES = [("software", 25), ("fintech", 12), ("healthcare", 10), ("ecommerce", 18),
              ("media", 10), ("public_sector", 7), ("other", 13), ("", 5)]
PLANS = [("free", 45), ("trial", 25), ("team", 20), ("business", 10)]
USE_CASES = [("payments", 8), ("security", 8), ("compliance", 7), ("customer_facing", 10),
             ("analytics", 25), ("reporting", 20), ("internal_tools", 15), ("", 7)]
TITLES = [("Head of Engineering", 4), ("VP Operations", 3), ("IT Director", 4),
          ("Chief Information Security Officer", 1), ("Director of Data", 3), ("Founder", 6),
          ("CTO", 3), ("Engineer", 15), ("Developer", 12), ("Analyst", 12), ("Data Scientist", 6),
          ("Product Manager", 8), ("Operations Lead", 5), ("Student", 1.5), ("PhD Student", 0.5),
          ("", 8)]
INTEGRATIONS = ["okta", "snowflake", "salesforce", "sap", "workday", "slack", "github",
                "google_sheets", "zapier", "hubspot"]
SEVERITIES = [("low", 40), ("normal", 35), ("high", 18), ("urgent", 7)]
USAGE_MIX = [("login", 40), ("workflow_run", 20), ("report_created", 12),
             ("dashboard_viewed", 15), ("seat_added", 5), ("integration_connected", 4),
             ("support_ticket_opened", 4)]


def employees():
    return sample.size(0.10, (0.45, 1, 49), (0.65, 50, 199), (0.88, 200, 1999), (1, 2000, 40000))


def email(first, company):
    r = rng.random()
    if r < 0.01:
        return f"{first}@{rng.choice(['rival.com', 'competitor.io'])}"
    if r < 0.025:
        return f"{first}@{rng.choice(['campus.edu', 'state.edu', 'tech.edu'])}"
    if r < 0.04:
        return f"{rng.choice(['test', 'Test', 'asdf', 'qwerty', 'foo'])}{rng.choice(['', '1', '123', '2024'])}@{rng.choice(['mailinator.com', 'example.com', 'gmail.com'])}"
    if r < 0.28:
        return f"{first}{rng.randint(1, 999)}@{rng.choice(FREE)}"
    return f"{first}@{company}"


def main(out=OUT):
    os.makedirs(out, exist_ok=True)
    leads, profile = [], {}
    for i in range(1, N_LEADS + 1):
        lead_id = f"U{i:05d}"
        first = rng.choice(FIRST)
        company = rng.choice(COMPANIES) + str(rng.randint(1, 300)) + rng.choice(TLDS)
        plan = pick(PLANS)
        signup_days = rng.randint(1, 13) if plan == "trial" else rng.randint(1, 240)
        signed_up = AS_OF - timedelta(days=signup_days, hours=rng.randint(0, 23),
                                      minutes=rng.randint(0, 59))
        go_live = "" if rng.random() < 0.2 else str(rng.choice([7, 14, 30, 30, 45, 60, 90, 180, 365]))
        lead = {
            "lead_id": lead_id,
            "email": email(first, company),
            "title": pick(TITLES),
            "employees": employees(),
            "industry": pick(INDUSTRIES),
            "plan": plan,
            "use_case": pick(USE_CASES),
            "go_live_days": go_live,
            "sso_required": "true" if rng.random() < 0.15 else ("" if rng.random() < 0.1 else "false"),
            "signed_up_at": ts(signed_up),
        }
        leads.append(lead)
        usage = pick([("heavy", 15), ("regular", 30), ("light", 30), ("stalled", 15), ("never", 10)])
        profile[lead_id] = (usage, signup_days)

    write_dicts(os.path.join(out, "leads.csv"), leads)

    events = []

    def add(lid, d, name, seats="", integration="", severity=""):
        events.append((lid, at_days_ago(d), name, seats, integration, severity))

    for lead in leads:
        lid = lead["lead_id"]
        usage, signup_days = profile[lid]
        horizon = max(0, min(signup_days - 1, 119))
        if usage == "never":
            continue
        if usage == "heavy":
            n, lo, ndays = rng.randint(40, 90), 0, rng.randint(10, 25)
        elif usage == "regular":
            n, lo, ndays = rng.randint(12, 35), 0, rng.randint(4, 10)
        elif usage == "light":
            n, lo, ndays = rng.randint(2, 10), 0, rng.randint(1, 3)
        else:  # stalled: nothing in the last two weeks
            n, lo, ndays = rng.randint(4, 20), 15, rng.randint(2, 6)
        lo = min(lo, horizon)
        days = sorted(rng.sample(range(lo, horizon + 1), min(ndays, horizon + 1 - lo)))
        for _ in range(n):
            name = pick(USAGE_MIX)
            d = rng.choice(days)
            if name == "seat_added":
                big = usage == "heavy" and rng.random() < 0.3
                add(lid, d, name, seats=str(rng.randint(10, 40) if big else rng.randint(1, 5)))
            elif name == "integration_connected":
                add(lid, d, name, integration=rng.choice(INTEGRATIONS))
            elif name == "support_ticket_opened":
                add(lid, d, name, severity=pick(SEVERITIES))
            else:
                add(lid, d, name)
        if usage == "heavy" and rng.random() < 0.3:
            for integ in rng.sample(INTEGRATIONS[:5], rng.randint(1, 3)):
                add(lid, rng.randint(0, min(25, horizon)), "integration_connected", integration=integ)
        if usage in ("heavy", "regular") and rng.random() < 0.12:
            add(lid, rng.randint(0, 5), "support_ticket_opened", severity=rng.choice(["high", "urgent"]))
        if rng.random() < 0.05:
            after = AS_OF + timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 23))
            events.append((lid, after, "seat_added", "50", "", ""))  # future: ignored

    for k in range(50):  # users that are not leads: ignored
        add(f"Z{k:05d}", rng.randint(0, 60), "login")

    write_events(os.path.join(out, "product.csv"), ["user_id", "occurred_at", "event_name", "seats", "integration", "severity"], events)
    print(f"leads={len(leads)} product={len(events)}")


if __name__ == "__main__":
    main()
