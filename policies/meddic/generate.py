#!/usr/bin/env python3
"""Generate the sample data for policies/meddic/meddic.lead.

Deterministic (fixed seed; the shared generators of leadlang.data.sample). Writes data/accounts.csv
(~300 accounts), data/leads.csv (~800 opportunity contacts; a few have no
account, a few point at an account that is not in accounts.csv) and
data/activity.csv (logged sales activity over the 120 days before
2024-06-01, a few after it, a few for unknown contacts).
"""
import os
from datetime import date, datetime, timedelta, timezone

from leadlang.data.sample import Sample, write_dicts, write_events

SEED = 1999
AS_OF = datetime(2024, 6, 1, tzinfo=timezone.utc)
N_ACCOUNTS = 300
N_LEADS = 800
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

sample = Sample(SEED, AS_OF, hours=(7, 19), quarter_hours=True)
rng, pick, at_days_ago = sample.rng, sample.pick, sample.at_days_ago

NAMES = ["Acme", "Globex", "Initech", "Hooli", "Umbrella", "Stark", "Wayne", "Tyrell", "Cyberdyne",
         "Soylent", "Wonka", "Aperture", "Oscorp", "Massive Dynamic", "Nakatomi", "Gringotts",
         "Vandelay", "Dunder Mifflin", "Pied Piper", "Monarch", "Blue Sun", "Weyland", "Zorg",
         "Rekall", "Ingen", "Virtucon", "Gekko & Co", "Bluth", "Prestige", "Sterling Cooper"]
SUFFIX = ["Bank", "Health", "Systems", "Industries", "Retail", "Software", "Group", "Labs",
          "Holdings", "Energy", "Logistics", "Insurance"]
SEGMENTS = [("enterprise", 40), ("mid_market", 40), ("smb", 20)]
INDUSTRIES = [("software", 22), ("financial_services", 20), ("healthcare", 14),
              ("manufacturing", 18), ("retail", 14), ("public_sector", 12)]
REGIONS = [("na", 45), ("emea", 30), ("apac", 17), ("latam", 8)]
ROLES = [("economic_buyer", 12), ("champion", 15), ("technical_buyer", 20), ("influencer", 28),
         ("user", 25)]
TITLES = {
    "economic_buyer": ["CFO", "CEO", "COO", "Chief Information Officer", "SVP Finance"],
    "champion": ["Head of Finance Operations", "Director of IT", "Head of Data",
                 "Director, Revenue Operations"],
    "technical_buyer": ["VP Engineering", "Enterprise Architect", "IT Manager",
                        "Security Lead"],
    "influencer": ["Finance Manager", "Operations Manager", "Product Manager", "Analyst"],
    "user": ["Analyst", "Accountant", "Engineer", "Specialist", "Coordinator"],
}
METRICS = ["cut reconciliation time 40%", "99.9% uptime", "reduce churn by 5 points",
           "close books in 3 days", "save 2 FTE in operations", "halve audit findings"]
ACTIVITY_MIX = [("meeting_held", 25), ("email_reply", 30), ("call_connected", 20),
                ("proposal_viewed", 8), ("poc_milestone", 7), ("security_review", 3),
                ("exec_briefing", 3), ("email_sent", 4)]


def maybe(value, p_missing):
    return "" if rng.random() < p_missing else value


def boolean(p_true, p_missing=0.08):
    if rng.random() < p_missing:
        return ""
    return "true" if rng.random() < p_true else "false"


def main(out=OUT):
    os.makedirs(out, exist_ok=True)
    accounts = []
    momentum = {}
    for i in range(1, N_ACCOUNTS + 1):
        seg = pick(SEGMENTS)
        if seg == "enterprise":
            revenue, employees = rng.uniform(5e8, 5e10), rng.randint(3000, 150000)
        elif seg == "mid_market":
            revenue, employees = rng.uniform(5e7, 1.5e9), rng.randint(300, 6000)
        else:
            revenue, employees = rng.uniform(2e6, 8e7), rng.randint(20, 400)
        aid = f"ACC{i:04d}"
        accounts.append({
            "account_id": aid,
            "company_name": f"{rng.choice(NAMES)} {rng.choice(SUFFIX)}",
            "annual_revenue": maybe(f"{revenue:.2f}", 0.05),
            "segment": seg,
            "employees": maybe(str(employees), 0.05),
            "industry": maybe(pick(INDUSTRIES), 0.03),
            "region": pick(REGIONS),
            "is_customer": "true" if rng.random() < 0.08 else "false",
        })
        momentum[aid] = pick([("hot", 20), ("active", 35), ("slow", 25), ("stalled", 20)])

    write_dicts(os.path.join(out, "accounts.csv"), accounts)

    leads = []
    for i in range(1, N_LEADS + 1):
        lid = f"M{i:05d}"
        r = rng.random()
        if r < 0.03:
            aid = ""
        elif r < 0.04:
            aid = f"ACC9{rng.randint(100, 999)}"  # an account that is not in accounts.csv
        else:
            aid = accounts[rng.randrange(N_ACCOUNTS)]["account_id"]
        acct_mom = momentum.get(aid, "slow")
        qualified = {"hot": 0.75, "active": 0.55, "slow": 0.35, "stalled": 0.2}[acct_mom]
        if rng.random() < {"hot": 0.35, "active": 0.15, "slow": 0.05, "stalled": 0.02}[acct_mom]:
            qualified = 1.0  # a mature deal: every MEDDIC box ticked
        role = pick(ROLES)
        if qualified == 1.0 and rng.random() < 0.5:
            role = "economic_buyer"
        first = rng.choice(["ana", "li", "omar", "gavin", "jin", "kate", "luis", "mira", "nils",
                            "ola", "pia", "ravi", "sven", "tara", "uwe", "vera"])
        company_domain = (aid.lower() or "independent") + ".example.com"
        r = rng.random()
        if r < 0.01:
            email = f"{first}@{rng.choice(['rival.com', 'competitor.io'])}"
        elif r < 0.06:
            email = f"{first}{rng.randint(1, 99)}@{rng.choice(['gmail.com', 'outlook.com'])}"
        else:
            email = f"{first}@{company_domain}"
        close = date(2024, 6, 1) + timedelta(days=rng.randint(-10, 120 if qualified == 1.0 else 240))
        good = lambda: rng.random() < qualified  # noqa: E731
        leads.append({
            "lead_id": lid,
            "account_id": aid,
            "email": email,
            "title": maybe(rng.choice(TITLES[role]), 0.05),
            "buying_role": maybe(role, 0.04),
            "quantified_value_usd": (f"{rng.choice([40, 75, 120, 180, 250, 400, 900]) * 1000}"
                                     if good() else ""),
            "success_metric": rng.choice(METRICS) if good() else "",
            "decision_criteria_known": "true" if good() else boolean(0.2),
            "decision_process_mapped": "true" if good() else boolean(0.2),
            "pain_severity": str(rng.randint(4, 5)) if good() else maybe(str(rng.randint(1, 3)), 0.2),
            "champion_score": str(rng.randint(7, 10)) if good() else maybe(str(rng.randint(0, 6)), 0.2),
            "target_close": maybe(close.isoformat(), 0.05),
        })

    write_dicts(os.path.join(out, "leads.csv"), leads)

    events = []
    for lead in leads:
        lid, aid = lead["lead_id"], lead["account_id"]
        mom = momentum.get(aid, "slow")
        n = {"hot": (8, 25), "active": (4, 14), "slow": (1, 8), "stalled": (0, 6)}[mom]
        window = {"hot": (0, 45), "active": (0, 75), "slow": (0, 119), "stalled": (31, 119)}[mom]
        for _ in range(rng.randint(*n)):
            name = pick(ACTIVITY_MIX)
            if name == "exec_briefing" and lead["buying_role"] not in ("economic_buyer", "champion"):
                name = "meeting_held"
            duration = ""
            if name in ("meeting_held", "exec_briefing", "security_review"):
                duration = str(rng.choice([15, 30, 30, 45, 60, 60, 90]))
            elif name == "call_connected":
                duration = str(rng.randint(2, 40))
            events.append((lid, at_days_ago(rng.randint(*window)), name, duration))
        if rng.random() < 0.05:
            after = AS_OF + timedelta(days=rng.randint(0, 14), hours=rng.randint(8, 18))
            events.append((lid, after, "exec_briefing", "60"))  # after as-of: ignored
    for k in range(20):
        events.append((f"MX{k:04d}", at_days_ago(rng.randint(0, 60)), "meeting_held", "30"))

    write_events(os.path.join(out, "activity.csv"), ["contact_id", "occurred_at", "activity_type", "duration_minutes"], events)
    print(f"accounts={len(accounts)} leads={len(leads)} activity={len(events)}")


if __name__ == "__main__":
    main()
