#!/usr/bin/env python3
"""Generate the sample data for policies/abm/abm.lead.

Deterministic (fixed seed; the shared generators of leadlang.data.sample). Writes data/accounts.csv
(~400 accounts), data/leads.csv (~1,500 contacts: most belong to an account,
some have none, a few point at an account missing from accounts.csv),
data/product.csv and data/marketing.csv (activity over the 120 days before
2024-06-01; a few events after it and a few for unknown contacts).
"""
import os
from datetime import datetime, timedelta, timezone

from leadlang.data.sample import Sample, write_dicts, write_events

SEED = 31337
AS_OF = datetime(2024, 6, 1, tzinfo=timezone.utc)
N_ACCOUNTS = 400
N_LEADS = 1500
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

sample = Sample(SEED, AS_OF, hours=(6, 21))
rng, pick, at_days_ago = sample.rng, sample.pick, sample.at_days_ago

WORDS = ["North", "Blue", "Iron", "Bright", "Silver", "Quantum", "Green", "Atlas", "Nova", "Delta",
         "Summit", "Harbor", "Pioneer", "Vertex", "Crimson", "Polar", "Sun", "Cedar", "Granite",
         "Orbit"]
NOUNS = ["Bank", "Health", "Soft", "Retail", "Works", "Labs", "Pay", "Care", "Foods", "Motors",
         "Learning", "Data", "Cloud", "Logistics"]
INDUSTRIES = [("software", 22), ("fintech", 14), ("healthcare", 12), ("retail", 15),
              ("manufacturing", 15), ("education", 8), ("other", 10), ("", 4)]
COUNTRIES = [("US", 40), ("CA", 6), ("GB", 10), ("DE", 9), ("FR", 6), ("NL", 4), ("IN", 6),
             ("BR", 5), ("JP", 4), ("AU", 4), ("", 6)]
DEPARTMENTS = [("engineering", 22), ("data", 12), ("marketing", 14), ("sales", 12),
               ("finance", 10), ("it", 12), ("operations", 10), ("other", 8)]
SENIORITY = [("c_level", 6), ("vp", 10), ("director", 16), ("manager", 28), ("individual", 40)]
TITLE_BY_SENIORITY = {
    "c_level": ["CTO", "CFO", "CEO", "Chief Data Officer", "Founder"],
    "vp": ["VP Engineering", "VP Marketing", "VP Finance", "VP Operations"],
    "director": ["Director of Data", "IT Director", "Director Operations", "Head of Growth"],
    "manager": ["Engineering Manager", "Marketing Manager", "Finance Manager", "IT Manager"],
    "individual": ["Engineer", "Analyst", "Data Scientist", "Designer", "Accountant"],
}
MARKETING_MIX = [("email_opened", 40), ("email_clicked", 18), ("webinar_attended", 12),
                 ("pricing_page_view", 12), ("demo_requested", 3), ("ad_clicked", 10),
                 ("event_visited", 5)]
CHANNELS = {"email_opened": "email", "email_clicked": "email", "webinar_attended": "webinar",
            "pricing_page_view": "web", "demo_requested": "web", "ad_clicked": "linkedin",
            "event_visited": "field"}
PRODUCT_MIX = [("login", 50), ("dashboard_viewed", 25), ("query_run", 15), ("export", 10)]


def main(out=OUT):
    os.makedirs(out, exist_ok=True)
    accounts, heat = [], {}
    for i in range(1, N_ACCOUNTS + 1):
        aid = f"ACC{i:04d}"
        word, noun = rng.choice(WORDS), rng.choice(NOUNS)
        employees = int(sample.size(0, (0.15, 2, 49), (0.40, 50, 499), (0.85, 500, 20000), (1, 20001, 200000)))
        revenue = employees * rng.uniform(80_000, 400_000)
        tier = "tier_1" if employees >= 2000 and rng.random() < 0.5 else pick(
            [("tier_1", 10), ("tier_2", 35), ("tier_3", 55)])
        accounts.append({
            "account_id": aid,
            "company_name": f"{word} {noun}",
            "website": f"{word.lower()}{noun.lower()}{i}.com",
            "industry": pick(INDUSTRIES),
            "employees": "" if rng.random() < 0.05 else str(employees),
            "annual_revenue": "" if rng.random() < 0.1 else f"{revenue:.2f}",
            "country": pick(COUNTRIES),
            "tier": tier,
            "is_customer": "true" if rng.random() < 0.07 else "false",
            "intent_score": "" if rng.random() < 0.3 else str(rng.randint(0, 100)),
        })
        heat[aid] = pick([("surging", 15), ("engaged", 35), ("quiet", 50)])

    write_dicts(os.path.join(out, "accounts.csv"), accounts)

    leads = []
    websites = {a["account_id"]: a["website"] for a in accounts}
    for i in range(1, N_LEADS + 1):
        lid = f"P{i:05d}"
        r = rng.random()
        if r < 0.08:
            aid = ""
        elif r < 0.09:
            aid = f"ACC9{rng.randint(100, 999)}"  # not in accounts.csv
        else:
            # bigger buying groups at a few accounts
            idx = int(rng.expovariate(1 / 150))
            aid = accounts[idx if idx < N_ACCOUNTS else rng.randrange(N_ACCOUNTS)]["account_id"]
        seniority = pick(SENIORITY)
        first = rng.choice(["ana", "ben", "cleo", "dan", "eva", "finn", "gia", "hugo", "isla",
                            "jack", "kira", "leo", "maya", "nico", "opal", "ravi", "sara"])
        r = rng.random()
        if r < 0.01:
            email = f"{first}@{rng.choice(['rival.com', 'competitor.io'])}"
        elif aid and aid in websites and r < 0.9:
            email = f"{first}@{websites[aid]}"
        else:
            email = f"{first}{rng.randint(1, 99)}@{rng.choice(['gmail.com', 'outlook.com'])}"
        leads.append({
            "lead_id": lid,
            "account_id": aid,
            "email": email,
            "title": "" if rng.random() < 0.05 else rng.choice(TITLE_BY_SENIORITY[seniority]),
            "department": pick(DEPARTMENTS),
            "seniority": "" if rng.random() < 0.04 else seniority,
        })

    write_dicts(os.path.join(out, "leads.csv"), leads)

    product, marketing = [], []
    for lead in leads:
        lid, aid = lead["lead_id"], lead["account_id"]
        h = heat.get(aid, pick([("engaged", 30), ("quiet", 70)]))
        # who in the account is active: not everyone, even at a surging account
        p_user = {"surging": 0.7, "engaged": 0.45, "quiet": 0.12}[h]
        if rng.random() < p_user:
            recent = {"surging": (0, 13), "engaged": (0, 40), "quiet": (31, 119)}[h]
            ndays = rng.randint(1, {"surging": 10, "engaged": 5, "quiet": 3}[h])
            days = [rng.randint(*recent) for _ in range(ndays)]
            for _ in range(rng.randint(3, {"surging": 30, "engaged": 15, "quiet": 8}[h])):
                product.append((lid, at_days_ago(rng.choice(days)), pick(PRODUCT_MIX), ""))
        n_mkt = rng.randint(*{"surging": (2, 10), "engaged": (1, 7), "quiet": (0, 4)}[h])
        for _ in range(n_mkt):
            name = pick(MARKETING_MIX)
            if h == "quiet":
                d = rng.randint(31, 119)
            elif h == "surging":
                d = rng.randint(0, 30)
            else:
                d = rng.randint(0, 90)
            marketing.append((lid, at_days_ago(d), name, CHANNELS[name]))
        if rng.random() < 0.04:
            after = AS_OF + timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 23))
            marketing.append((lid, after, "demo_requested", "web"))  # future: ignored
    for k in range(30):
        product.append((f"PX{k:04d}", at_days_ago(rng.randint(0, 30)), "login", ""))
        marketing.append((f"PX{k:04d}", at_days_ago(rng.randint(0, 30)), "webinar_attended",
                          "webinar"))

    write_events(os.path.join(out, "product.csv"), ["user_id", "occurred_at", "event_name"], product)
    write_events(os.path.join(out, "marketing.csv"), ["contact_id", "touched_at", "touch_type", "channel"], marketing)
    print(f"accounts={len(accounts)} leads={len(leads)} product={len(product)} "
          f"marketing={len(marketing)}")


if __name__ == "__main__":
    main()
