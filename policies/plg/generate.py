#!/usr/bin/env python3
"""Generate the sample data for policies/plg/plg.lead.

Deterministic (fixed seed; the shared generators of leadlang.data.sample). Writes data/leads.csv,
data/product.csv and data/marketing.csv next to this script.

Events are spread over the 120 days before AS_OF (2024-06-01T00:00:00Z); a few
happen after it, to prove that scoring as of a date never sees the future, and
a few belong to lead keys that match no lead (they must be ignored).
"""
import os
from datetime import datetime, timedelta, timezone

from leadlang.data.sample import Sample, write_dicts, write_events

SEED = 20240601
AS_OF = datetime(2024, 6, 1, tzinfo=timezone.utc)
N_LEADS = 2000
N_ACCOUNTS = 700
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data")

sample = Sample(SEED, AS_OF, hours=(7, 20))
rng, pick, at_days_ago = sample.rng, sample.pick, sample.at_days_ago

FIRST = ["ana", "ben", "carla", "dev", "emma", "farid", "grace", "hiro", "ines", "jon",
         "kim", "lea", "marco", "nina", "omar", "priya", "quinn", "rosa", "sam", "tariq",
         "uma", "victor", "wen", "xavier", "yara", "zoe", "li", "noah", "olga", "pablo"]
LAST = ["smith", "garcia", "mueller", "chen", "okafor", "rossi", "kumar", "silva", "dubois",
        "nakamura", "novak", "khan", "jensen", "lopez", "brown", "ivanova", "haddad", "park"]
COMPANY_WORDS = ["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark", "wayne",
                 "tyrell", "cyberdyne", "soylent", "wonka", "aperture", "blackmesa", "pied",
                 "piper", "dunder", "mifflin", "oscorp", "gringotts", "nakatomi", "massive",
                 "northwind", "contoso", "fabrikam", "tailspin", "litware", "adatum", "proseware",
                 "datum", "fourth", "coffee", "lucerne", "margie", "trey", "wingtip"]
TLDS = [".com", ".io", ".co", ".de", ".ai", ".co.uk", ".net"]
FREE = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "icloud.com", "proton.me"]
COMPETITORS = ["rival.com", "competitor.io"]
EDU = ["stanford.edu", "mit.edu", "state.edu", "uni-example.edu"]

INDUSTRIES = [("software", 25), ("fintech", 12), ("healthcare", 10), ("retail", 15),
              ("education", 9), ("other", 21), ("", 8)]
COUNTRIES = [("US", 38), ("CA", 6), ("GB", 10), ("DE", 8), ("FR", 5), ("IN", 8), ("BR", 5),
             ("AU", 4), ("NL", 3), ("ES", 3), ("JP", 2), ("", 8)]
TITLES = [("VP Sales", 4), ("VP Engineering", 4), ("Head of Data", 5), ("Head of Growth", 3),
          ("Director of Marketing", 4), ("Director, IT", 3), ("Chief Technology Officer", 2),
          ("Chief Data Officer", 1), ("CEO", 2), ("Founder", 3), ("Engineer", 12),
          ("Software Engineer", 12), ("Senior Engineer", 6), ("Data Analyst", 8),
          ("Product Manager", 7), ("Marketing Manager", 5), ("Customer Success Manager", 3),
          ("Student", 2), ("Consultant", 3), ("vp of product", 1), ("", 6)]
BUDGET = [("approved", 20), ("planned", 35), ("none", 35), ("", 10)]
USE_CASES = [("customer_facing", 15), ("security", 10), ("compliance", 8), ("analytics", 25),
             ("internal_tools", 20), ("reporting", 12), ("", 10)]

PRODUCT_NAMES = [("login", 45), ("dashboard_viewed", 20), ("project_created", 8),
                 ("report_exported", 7), ("teammate_invited", 7), ("seat_added", 5),
                 ("integration_connected", 4)]
MARKETING_NAMES = [("email_opened", 40), ("email_clicked", 18), ("webinar_attended", 8),
                   ("whitepaper_downloaded", 8), ("pricing_page_view", 12),
                   ("demo_requested", 4), ("form_submitted", 4)]

# activity tiers (name, weight): how much each lead uses the product; see main()
TIERS = [("power", 12), ("active", 23), ("light", 30), ("lapsed", 15), ("none", 20)]


def employees():
    return sample.size(0.07, (0.30, 1, 49), (0.55, 50, 199), (0.85, 200, 5000), (1, 5001, 60000))


def email(first, last, company):
    r = rng.random()
    if r < 0.012:
        return f"{first}@{rng.choice(COMPETITORS)}"
    if r < 0.027:
        return f"{first}.{last}@{rng.choice(EDU)}"
    if r < 0.26:
        return f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(FREE)}"
    if r < 0.27:
        return ""  # missing
    if r < 0.275:
        return f"{first}.{last}"  # malformed: no @, so domain() is missing
    return f"{first}.{last}@{company}"


def main(out=OUT):
    os.makedirs(out, exist_ok=True)
    accounts = []
    for i in range(1, N_ACCOUNTS + 1):
        word = rng.choice(COMPANY_WORDS)
        accounts.append((f"A{i:04d}", f"{word}{i}{rng.choice(TLDS)}"))

    leads = []
    tiers = {}
    for i in range(1, N_LEADS + 1):
        lead_id = f"L{i:05d}"
        if rng.random() < 0.06:
            account_id, company = "", f"{rng.choice(COMPANY_WORDS)}-solo{i}.com"
        else:
            account_id, company = accounts[min(int(rng.paretovariate(1.2)) - 1, N_ACCOUNTS - 1)
                                           if rng.random() < 0.3 else rng.randrange(N_ACCOUNTS)]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        budget = pick(BUDGET)
        if budget == "none" and rng.random() < 0.2:
            timeline = str(rng.randint(731, 1500))
        elif rng.random() < 0.08:
            timeline = ""
        else:
            timeline = str(rng.choice([14, 30, 45, 60, 90, 120, 180, 270, 365, 540, 730]))
        lead = {
            "lead_id": lead_id,
            "account_id": account_id,
            "email": email(first, last, company),
            "title": pick(TITLES),
            "industry": pick(INDUSTRIES),
            "employees": employees(),
            "country": pick(COUNTRIES),
            "budget_status": budget,
            "timeline_days": timeline,
            "use_case": pick(USE_CASES),
        }
        leads.append(lead)
        tiers[lead_id] = pick(TIERS)

    write_dicts(os.path.join(out, "leads.csv"), leads)

    product = []
    marketing = []
    for lead in leads:
        lid = lead["lead_id"]
        tier = tiers[lid]
        if tier == "none":
            n, lo, hi, ndays = 0, 0, 0, 0
        elif tier == "power":
            n, lo, hi, ndays = rng.randint(45, 110), 0, 45, rng.randint(10, 24)
        elif tier == "active":
            n, lo, hi, ndays = rng.randint(15, 45), 0, 60, rng.randint(4, 12)
        elif tier == "light":
            n, lo, hi, ndays = rng.randint(3, 14), 0, 90, rng.randint(1, 4)
        else:  # lapsed: used the product, then went quiet 3+ weeks ago
            n, lo, hi, ndays = rng.randint(6, 25), 22, 119, rng.randint(2, 8)
        days = sorted(rng.sample(range(lo, hi), min(ndays, hi - lo))) if n else []
        if n:
            # the signup is the first event
            first_day = max(days) + rng.randint(0, 10)
            product.append((lid, at_days_ago(min(first_day, 119)), "signup", ""))
        for _ in range(n - 1 if n else 0):
            name = pick(PRODUCT_NAMES)
            d = rng.choice(days)
            if name == "teammate_invited" and tier == "power" and rng.random() < 0.5:
                d = rng.randint(0, 12)  # fresh invites: the team is growing right now
            seats = str(rng.randint(1, 10)) if name == "seat_added" else ""
            product.append((lid, at_days_ago(d), name, seats))
        if tier == "power" and rng.random() < 0.25:
            for _ in range(rng.randint(3, 12)):  # a burst of invites in the last two weeks
                product.append((lid, at_days_ago(rng.randint(0, 12)), "teammate_invited", ""))
        if n and rng.random() < 0.08:
            for _ in range(rng.randint(1, 4)):  # after the as-of date: must be ignored
                after = AS_OF + timedelta(days=rng.randint(0, 14), hours=rng.randint(1, 23))
                product.append((lid, after, "login", ""))

        # marketing: more for engaged tiers
        m = {"power": (5, 16), "active": (4, 12), "light": (2, 8), "lapsed": (2, 7),
             "none": (0, 7)}[tier]
        for _ in range(rng.randint(*m)):
            name = pick(MARKETING_NAMES)
            d = rng.randint(0, 119)
            if name in ("pricing_page_view", "demo_requested") and tier in ("power", "active"):
                d = rng.randint(0, 20)
            marketing.append((lid, at_days_ago(d), name))
        if rng.random() < 0.03:
            after = AS_OF + timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 23))
            marketing.append((lid, after, "demo_requested"))

    # events whose lead key matches no lead: ignored by the policy
    for k in range(60):
        product.append((f"L9{k:04d}", at_days_ago(rng.randint(0, 60)), "login", ""))
    for k in range(25):
        product.append(("", at_days_ago(rng.randint(0, 60)), "dashboard_viewed", ""))
    for k in range(30):
        marketing.append((f"X{k:05d}", at_days_ago(rng.randint(0, 60)), "email_opened"))

    write_events(os.path.join(out, "product.csv"), ["user_id", "occurred_at", "event_name", "seats"], product)
    write_events(os.path.join(out, "marketing.csv"), ["contact_id", "happened_at", "activity"], marketing)
    print(f"leads={len(leads)} product={len(product)} marketing={len(marketing)}")


if __name__ == "__main__":
    main()
