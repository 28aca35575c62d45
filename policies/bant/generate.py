#!/usr/bin/env python3
"""Generate the sample data for policies/bant/bant.lead.

Deterministic (fixed seed; the shared generators of leadlang.data.sample). Writes data/leads.csv and
data/marketing.csv next to this script: ~1,500 CRM leads of a sales-led funnel
and their marketing activities over the 120 days before 2024-06-01 (plus a few
after it, which scoring as of 2024-06-01 must ignore, and a few for contacts
that are not leads).
"""
import os
from datetime import datetime, timedelta, timezone

from leadlang.data.sample import Sample, ts, write_dicts, write_events

SEED = 4242
AS_OF = datetime(2024, 6, 1, tzinfo=timezone.utc)
N_LEADS = 1500
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

sample = Sample(SEED, AS_OF, hours=(6, 21))
rng, pick, at_days_ago = sample.rng, sample.pick, sample.at_days_ago

FIRST = ["maria", "joe", "lena", "tom", "ann", "raj", "ivan", "sofia", "kwame", "mei", "lars",
         "fatima", "diego", "hannah", "yusuf", "chloe", "arjun", "nora", "pete", "aiko"]
LAST = ["jones", "schmidt", "martin", "wang", "mensah", "rossi", "patel", "nowak", "berg",
        "costa", "ali", "murphy", "tanaka", "fischer", "moreau", "reyes"]
COMPANIES = ["northwind", "contoso", "fabrikam", "litware", "adventureworks", "tailspin",
             "wideworld", "proseware", "lucernepub", "margies", "treyresearch", "alpineski",
             "bluebird", "cobalt", "delta-logistics", "evergreen", "fourthcoffee", "graphicdesign",
             "humongous", "industrial-works", "jupiter", "kestrel", "lakeshore", "meridian"]
TLDS = [".com", ".io", ".de", ".co.uk", ".fr", ".com.au", ".nl", ".ca"]
FREE = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com",
        "gmx.de"]
COMPETITORS = ["rivalcrm.com", "pipelinepro.io"]

COUNTRIES = [("US", 40), ("CA", 6), ("GB", 10), ("IE", 2), ("DE", 8), ("FR", 5), ("NL", 3),
             ("AU", 4), ("IN", 6), ("BR", 4), ("MX", 2), ("SG", 2), ("RU", 1.2), ("IR", 0.4),
             ("CU", 0.3), ("", 6)]
INDUSTRIES = [("saas", 24), ("financial_services", 14), ("manufacturing", 14),
              ("healthcare", 10), ("public_sector", 8), ("retail", 14), ("other", 12), ("", 4)]
TITLES = [("CFO", 2), ("CEO", 2), ("CTO", 2), ("CIO", 1), ("VP Finance", 3), ("VP Sales", 4),
          ("Vice President, Operations", 2), ("Head of Procurement", 3), ("Head of IT", 3),
          ("IT Director", 4), ("Director of Revenue Operations", 3), ("Owner", 3),
          ("Marketing Manager", 8), ("Sales Manager", 7), ("Analyst", 9),
          ("Financial Analyst", 5), ("Operations Manager", 7), ("Account Executive", 5),
          ("Consultant", 4), ("Office Manager", 3), ("Engineer", 5), ("", 5)]
ROLES = [("decision_maker", 18), ("influencer", 35), ("end_user", 25), ("unknown", 14), ("", 8)]
BUDGET = [("approved", 15), ("planned", 28), ("unknown", 35), ("none", 14), ("", 8)]
SOURCES = [("inbound", 40), ("outbound", 25), ("event", 15), ("partner", 10), ("referral", 10)]
CAMPAIGNS = ["roi_masterclass", "product_tour", "industry_trends", "customer_panel"]

# marketing activity mix; engaged leads get more of the high-intent kinds
LOW_INTENT = [("email_opened", 50), ("email_clicked", 25), ("webinar_attended", 6),
              ("whitepaper_downloaded", 8), ("pricing_page_view", 4), ("form_submitted", 5),
              ("unsubscribed", 2)]
HIGH_INTENT = [("email_opened", 25), ("email_clicked", 22), ("webinar_attended", 14),
               ("whitepaper_downloaded", 12), ("pricing_page_view", 14), ("demo_requested", 7),
               ("form_submitted", 6)]


def company_size():
    return sample.size(0.06, (0.22, 1, 9), (0.40, 10, 99), (0.80, 100, 2000), (1, 2001, 80000))


def main(out=OUT):
    os.makedirs(out, exist_ok=True)
    leads, intent = [], {}
    for i in range(1, N_LEADS + 1):
        lead_id = f"B{i:05d}"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(COMPANIES) + rng.choice(TLDS)
        r = rng.random()
        if r < 0.01:
            email = f"{first}@{rng.choice(COMPETITORS)}"
        elif r < 0.22:
            email = f"{first}.{last}{rng.randint(1, 999)}@{rng.choice(FREE)}"
        elif r < 0.23:
            email = ""
        else:
            email = f"{first}.{last}@{company}"
        budget = pick(BUDGET)
        if budget == "none" and rng.random() < 0.35:
            timeline = str(rng.randint(366, 900))
        elif rng.random() < 0.1:
            timeline = ""
        else:
            timeline = str(rng.choice([14, 30, 45, 60, 90, 120, 180, 270, 365]))
        annual_budget = ""
        if budget in ("approved", "planned") or rng.random() < 0.2:
            if rng.random() < 0.7:
                annual_budget = f"{rng.choice([5, 10, 15, 25, 40, 60, 90, 150, 300]) * 1000 + rng.choice([0, 0, 500, 999.5]):.2f}"
        created = at_days_ago(rng.randint(0, 200))
        lead = {
            "lead_id": lead_id,
            "email": email,
            "job_title": pick(TITLES),
            "company_size": company_size(),
            "country": pick(COUNTRIES),
            "industry": pick(INDUSTRIES),
            "budget_status": budget,
            "annual_budget_usd": annual_budget,
            "decision_role": pick(ROLES),
            "pain_score": "" if rng.random() < 0.15 else str(rng.randint(1, 5)),
            "purchase_timeline_days": timeline,
            "lead_source": pick(SOURCES),
            "opted_out": "true" if rng.random() < 0.03 else ("" if rng.random() < 0.05 else "false"),
            "created_at": ts(created),
        }
        leads.append(lead)
        intent[lead_id] = pick([("hot", 15), ("warm", 30), ("cool", 35), ("silent", 20)])

    write_dicts(os.path.join(out, "leads.csv"), leads)

    events = []
    for lead in leads:
        lid = lead["lead_id"]
        level = intent[lid]
        if level == "silent":
            n, mix, window = rng.randint(0, 2), LOW_INTENT, 119
        elif level == "cool":
            n, mix, window = rng.randint(2, 10), LOW_INTENT, 119
        elif level == "warm":
            n, mix, window = rng.randint(6, 16), HIGH_INTENT, 90
        else:
            n, mix, window = rng.randint(12, 30), HIGH_INTENT, 40
        for _ in range(n):
            name = pick(mix)
            d = rng.randint(0, window)
            if level == "cool" and rng.random() < 0.5:
                d = rng.randint(46, 119)  # interest faded a while ago
            campaign = ""
            if name == "webinar_attended":
                campaign = rng.choice(CAMPAIGNS)
            elif name in ("email_opened", "email_clicked"):
                campaign = rng.choice(["newsletter", "nurture_1", "nurture_2", "event_invite"])
            events.append((lid, at_days_ago(d), name, campaign))
        if rng.random() < 0.04:
            after = AS_OF + timedelta(days=rng.randint(0, 20), hours=rng.randint(1, 23))
            events.append((lid, after, rng.choice(["demo_requested", "pricing_page_view"]), ""))
    for k in range(40):  # contacts that are not leads: ignored
        events.append((f"C{k:05d}", at_days_ago(rng.randint(0, 90)), "email_opened", "newsletter"))

    write_events(os.path.join(out, "marketing.csv"), ["contact_id", "occurred_at", "activity_type", "campaign"], events)
    print(f"leads={len(leads)} marketing={len(events)}")


if __name__ == "__main__":
    main()
