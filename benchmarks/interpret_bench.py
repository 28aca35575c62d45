"""Interpreter throughput on the PLG example: leads/s and events/s, against a same-run baseline.

    python benchmarks/interpret_bench.py [--leads 100000] [--events 2000000]

The baseline is the least any per-lead evaluator must do: group the events by
lead and touch each one once. The ratio says how much the interpreter costs
on top of that, so figures from different machines stay comparable.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from leadlang.check import load  # noqa: E402
from leadlang.interpret import evaluate  # noqa: E402

AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)


def make_data(n_leads: int, n_events: int, seed: int = 7):
    rng = random.Random(seed)
    industries = ["software", "fintech", "healthcare", "retail", "education", "other", None]
    leads = [
        {
            "lead_id": f"L{i:07d}", "email": f"u{i}@{rng.choice(['acme.io', 'gmail.com', 'corp.com', 'uni.edu'])}",
            "title": rng.choice(["VP Sales", "Engineer", "Head of Data", None]), "industry": rng.choice(industries),
            "employees": rng.choice([None, rng.randrange(1, 20000)]), "country": rng.choice(["US", "DE", "FR", None]),
            "budget_status": rng.choice(["approved", "planned", "none", None]), "timeline_days": rng.randrange(0, 1000),
            "use_case": rng.choice(["security", "analytics", None]),
        }
        for i in range(n_leads)
    ]
    names = ["login", "teammate_invited", "dashboard_view", "seat_added"]
    m_names = ["pricing_page_view", "demo_requested", "form_submitted", "email_open"]
    product, marketing = [], []
    for j in range(n_events):
        at = AS_OF - dt.timedelta(seconds=rng.randrange(-86400 * 3, 86400 * 120))
        lead = f"L{rng.randrange(n_leads):07d}"
        if j % 4 == 3:
            marketing.append({"lead": lead, "at": at, "name": rng.choice(m_names)})
        else:
            product.append({"lead": lead, "at": at, "name": rng.choice(names), "seats": rng.randrange(1, 5)})
    return leads, {"product": product, "marketing": marketing}


def baseline(leads, events) -> int:
    known = {l["lead_id"] for l in leads}
    grouped: dict[str, list] = defaultdict(list)
    for rows in events.values():
        for ev in rows:
            if ev["lead"] in known and ev["at"] <= AS_OF:
                grouped[ev["lead"]].append(ev)
    touched = 0
    for lead in leads:
        for ev in grouped.get(lead["lead_id"], ()):
            touched += ev["name"] == "login"
    return touched


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--events", type=int, default=2_000_000)
    args = ap.parse_args()
    policy = load(ROOT / "policies" / "plg" / "plg.lead")
    leads, events = make_data(args.leads, args.events)

    t0 = time.perf_counter()
    baseline(leads, events)
    t_base = time.perf_counter() - t0

    t0 = time.perf_counter()
    result = evaluate(policy, leads, [], events, AS_OF)
    t_interp = time.perf_counter() - t0
    assert len(result.rows) == args.leads

    checks = []
    for _ in range(5):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "leadlang", "check", str(ROOT / "policies/plg/plg.lead")], check=True, capture_output=True, cwd=ROOT)
        checks.append(time.perf_counter() - t0)
    checks.sort()

    print(f"leads {args.leads:,}  events {args.events:,}")
    print(f"baseline (group + touch each event): {t_base:8.2f} s")
    print(f"interpreter (PLG policy):            {t_interp:8.2f} s   ratio {t_interp / t_base:5.1f}x baseline")
    print(f"throughput: {args.leads / t_interp:,.0f} leads/s, {args.events / t_interp:,.0f} events/s")
    print(f"leadlang check plg.lead (process wall, median of 5): {checks[2]:.2f} s")


if __name__ == "__main__":
    main()
