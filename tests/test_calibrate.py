"""`leadlang calibrate` against planted truth: outcomes drawn from a known logistic model over the policy's own rules."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("sklearn")

from sklearn.metrics import roc_auc_score  # noqa: E402

from leadlang.calibrate import calibrate  # noqa: E402
from leadlang.calibrate.features import in_holdout  # noqa: E402
from leadlang.check import load  # noqa: E402
from leadlang.cli import main  # noqa: E402
from leadlang.data.sample import Sample, write_rows  # noqa: E402

AS_OF = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
ROOT = Path(__file__).resolve().parent.parent

# gut-feeling points: an irrelevant rule worth the most, a harmful one scored as good
POLICY = '''# planted.lead: points written by gut feeling
policy planted "Planted truth"
  version "7"

leads from ref("leads") key lead_id {
  title    string
  size     int
  country  string
  budget   enum("approved", "none")
  visits   int
  demo     bool
  webinar  bool
  bounced  bool
}

# fit: who they are
score fit clamp 0 to 100 {
  exec:      +10 when title in ["VP", "Director"]
  big:       +25 when size >= 500
  us:        +30 when country = "US"  # the team's favourite
  no_budget: +15 when budget = "none"
}

score engagement clamp 0 to 100 {
  visits:  +2 per visits, max 10

  demo:    +10 when demo
  webinar: +20 when webinar
  bounced: -5 when bounced
}

bands fit        { high >= 30, medium >= 15, low otherwise }
bands engagement { high >= 20, low otherwise }

matrix segment: engagement by fit {
       | low     | medium  | high
  high | nurture | warm    | sales_ready
  low  | cold    | nurture | warm
}

test "an executive at a big US company" {
  as of 2024-06-01
  lead { lead_id: "T1", title: "VP", size: 900, country: "US", budget: "approved", visits: 1, demo: false,
         webinar: false, bounced: false }
  expect fit = 65
  expect fired fit.us
}
'''

# the true model: log-odds of winning, per rule (per visit for `visits`, capped at 5 visits as the rule caps it)
TRUTH = {"fit": {"exec": 1.6, "big": 0.8, "us": 0.0, "no_budget": -1.2},
         "engagement": {"visits": 0.3, "demo": 1.8, "webinar": 0.5, "bounced": -1.0}}
INTERCEPT = -2.0
NUMBER = re.compile(r"(?<![\w.])[+-]?\d[\d_]*(?:\.\d[\d_]*)?(?![\w.])")  # a number literal, as a token


def features(lead: dict) -> dict[str, dict[str, float]]:
    return {"fit": {"exec": float(lead["title"] in ("VP", "Director")), "big": float(lead["size"] >= 500),
                    "us": float(lead["country"] == "US"), "no_budget": float(lead["budget"] == "none")},
            "engagement": {"visits": float(min(lead["visits"], 5)), "demo": float(lead["demo"]),
                           "webinar": float(lead["webinar"]), "bounced": float(lead["bounced"])}}


def truth(lead: dict, score: str | None = None) -> float:
    f = features(lead)
    return sum(TRUTH[s][r] * v for s in TRUTH if score in (None, s) for r, v in f[s].items())


def planted(root: Path, n: int, seed: int = 20240601, outcome=None) -> tuple[Path, Path, Path, list[dict]]:
    """A policy, its leads and their outcomes drawn from TRUTH (or `outcome(i, lead, p)`)."""
    s = Sample(seed)
    rng = s.rng
    root.mkdir(parents=True, exist_ok=True)
    (root / "data").mkdir(exist_ok=True)
    leads = []
    for i in range(n):
        leads.append({"lead_id": f"L{i:06d}", "title": s.pick([("VP", 15), ("Director", 15), ("Manager", 40), ("Engineer", 30)]),
                      "size": rng.choice([20, 80, 300, 700, 2000]), "country": s.pick([("US", 50), ("DE", 25), ("FR", 25)]),
                      "budget": s.pick([("approved", 65), ("none", 35)]), "visits": rng.randint(0, 9), "demo": rng.random() < 0.2,
                      "webinar": rng.random() < 0.25, "bounced": rng.random() < 0.15})
    cols = list(leads[0])
    write_rows(root / "data" / "leads.csv", cols, ([str(v).lower() if isinstance(v, bool) else v for v in (ld[c] for c in cols)] for ld in leads))
    rows = []
    for i, ld in enumerate(leads):
        p = 1 / (1 + math.exp(-(INTERCEPT + truth(ld))))
        won = rng.random() < p if outcome is None else outcome(i, ld, p)
        rows.append([ld["lead_id"], "won" if won else "lost"])
        ld["won"] = won
    write_rows(root / "data" / "outcomes.csv", ["lead_id", "outcome"], rows)
    (root / "planted.lead").write_text(POLICY, encoding="utf-8")
    return root / "planted.lead", root / "data", root / "data" / "outcomes.csv", leads


def load_text(text: str):
    from leadlang.check import check_module
    from leadlang.syntax import parse

    return check_module(parse(text, "planted.lead"), {"planted.lead": text})


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    policy, data, outcomes, leads = planted(tmp_path_factory.mktemp("planted"), 10000)
    result = calibrate(load(str(policy)), data, outcomes, AS_OF, capacity=[("segment.sales_ready", 1000)], seed=3)
    return policy, data, outcomes, leads, result


def test_the_ranking_of_the_true_weights_is_recovered(world):
    *_, result = world
    for score, weights in TRUTH.items():
        rules = {r["rule"]: r for r in result.report["scores"][score]["rules"]}
        assert all(r["kept"] is None for r in rules.values())
        # the log-odds of one firing: a `per` rule at its cap of 5 visits
        effect = {k: rules[k]["new_points"] * (5 if k == "visits" else 1) for k in weights}
        true = {k: w * (5 if k == "visits" else 1) for k, w in weights.items()}
        assert sorted(effect, key=effect.get) == sorted(true, key=true.get), (effect, true)


def test_a_rule_with_the_wrong_sign_gets_the_right_one_and_an_irrelevant_rule_goes_to_zero(world):
    *_, result = world
    fit = {r["rule"]: r for r in result.report["scores"]["fit"]["rules"]}
    assert fit["no_budget"]["old_points"] > 0 > fit["no_budget"]["new_points"]
    assert fit["no_budget"]["ci_high"] < 0
    biggest = max(abs(r["new_points"]) for r in fit.values())
    assert abs(fit["us"]["new_points"]) <= 0.1 * biggest
    assert fit["us"]["ci_low"] < 0 < fit["us"]["ci_high"]


def test_held_out_auc_is_within_a_hundredth_of_the_true_models(world):
    policy, data, outcomes, leads, result = world
    keys = [ld["lead_id"] for ld in leads]
    held = in_holdout(keys, 0.3, 3)
    won = [ld["won"] for ld, h in zip(leads, held) if h]
    assert result.report["holdout_leads"] == sum(held)
    for score in TRUTH:
        best = roc_auc_score(won, [truth(ld, score) for ld, h in zip(leads, held) if h])
        got = result.report["scores"][score]
        assert abs(got["auc_new"] - best) <= 0.01, (score, got["auc_new"], best)
        assert got["auc_new"] > got["auc_old"]


def test_the_diff_touches_only_number_literals(world):
    policy, *_, result = world
    old, new = result.old_text, result.new_text
    assert old == policy.read_text(encoding="utf-8")
    assert NUMBER.sub("N", old.replace('"7"', '"V"')) == NUMBER.sub("N", new.replace('"7-calibrated"', '"V"'))
    assert old.splitlines()[0] == new.splitlines()[0] and old.count("\n") == new.count("\n")
    assert new != old and '"7-calibrated"' in new
    new_policy = load(str(policy.with_name("new.lead"))) if policy.with_name("new.lead").write_text(new) else None
    assert new_policy.version == "7-calibrated"
    assert [r.id for r in new_policy.scores["fit"].rules] == [r.id for r in load(str(policy)).scores["fit"].rules]


def test_the_clamp_holds_every_new_score_and_band_shares_are_kept(world):
    *_, result = world
    for score in TRUTH:
        lo, hi = result.report["scores"][score]["clamp_new"]
        rules = result.new.scores[score].rules
        low = sum(min(0, float(r.points) * (5 if r.kind == "per" else 1)) for r in rules)
        high = sum(max(0, float(r.points) * (5 if r.kind == "per" else 1)) for r in rules)
        assert lo <= low and high <= hi  # no lead is cut by the clamp


def test_without_capacity_each_band_keeps_its_share_of_leads():
    import numpy as np

    from leadlang.calibrate.thresholds import share_thresholds

    policy = load_text(POLICY)
    rng = np.random.default_rng(1)
    old = rng.integers(0, 100, 5000).astype(float)
    # a new score that orders the leads as the old one did: each threshold lands where the same leads reach it
    got = share_thresholds(policy.bands["fit"], old, 2 * old + 5)
    assert [float(t) for t in got] == [2 * 30 + 5, 2 * 15 + 5]
    # a new score of few values: the value whose share is closest, below the threshold above it
    new = np.where(old >= 50, 10.0, np.where(old >= 10, 5.0, 0.0))
    shares = {v: (new >= v).mean() for v in (0.0, 5.0, 10.0)}
    first = min(shares, key=lambda v: abs(shares[v] - (old >= 30).mean()))
    lower = {v: x for v, x in shares.items() if v < first}
    second = min(lower, key=lambda v: abs(lower[v] - (old >= 15).mean()))
    assert [float(t) for t in share_thresholds(policy.bands["fit"], old, new)] == [first, second]


def test_capacity_fills_the_label_with_more_wins(world):
    *_, result = world
    (cap,) = result.report["capacity"]
    assert abs(cap["leads"] - 1000) <= 0.15 * 1000
    assert cap["holdout_win_rate_new"] >= cap["holdout_win_rate_old"]


def test_failing_test_blocks_are_listed(world):
    *_, result = world
    (failed,) = result.report["tests"]["failed"]
    assert failed["name"] == "an executive at a big US company"
    assert any("fit = 65" in f["expected"] for f in failed["failures"])


def test_the_command_writes_the_policy_or_prints_the_diff(small, tmp_path):
    policy, data, outcomes, _ = small
    out = tmp_path / "calibrated.lead"
    html = tmp_path / "calibration.html"
    r = run("calibrate", policy, "--data", data, "--outcomes", outcomes, "--as-of", "2024-06-01", "--seed", 3, "-o", out, "--format", "json",
            "--report", html)
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    page = html.read_text(encoding="utf-8")
    assert "<svg" in page and "planted@7-calibrated" in page
    assert report["calibrated"] == "planted@7-calibrated" and report["schema"] == 1
    assert run("check", out).exit_code == 0
    r = run("calibrate", policy, "--data", data, "--outcomes", outcomes, "--as-of", "2024-06-01", "--seed", 3)
    assert r.exit_code == 0
    assert r.stdout.startswith(f"--- {policy}\t(original)\n+++ {policy}\t(calibrated)\n")
    assert '+  version "7-calibrated"' in r.stdout
    assert "AUC old" in r.stderr


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return planted(tmp_path_factory.mktemp("small"), 1500, seed=7)


def test_the_same_seed_gives_the_same_policy_and_report_and_a_formatted_policy_stays_formatted(small, tmp_path):
    from leadlang.fmt.files import format_text

    policy, data, outcomes, _ = small
    formatted = tmp_path / "formatted.lead"
    formatted.write_text(format_text(POLICY, "formatted.lead").after)
    a, b = (calibrate(load(str(formatted)), data, outcomes, AS_OF, seed=5) for _ in range(2))
    assert a.new_text == b.new_text and a.report == b.report
    assert not format_text(a.new_text, "formatted.lead").changed
    assert NUMBER.sub("N", a.old_text.replace('"7"', "V")) == NUMBER.sub("N", a.new_text.replace('"7-calibrated"', "V"))
    keys = [f"L{i:06d}" for i in range(1500)]
    assert (in_holdout(keys, 0.3, 5) != in_holdout(keys, 0.3, 6)).any()  # another seed, another split


@pytest.mark.parametrize("outcome, message", [
    (lambda i, lead, p: False, "no lead is won"),
    (lambda i, lead, p: True, "every lead is won"),
    # every win in the hold-out: none left to learn from
    (lambda i, lead, p: bool(in_holdout([lead["lead_id"]], 0.3, 0)[0]), "no won lead among the 2"),
])
def test_outcomes_it_cannot_learn_from_are_one_error_line(tmp_path, outcome, message):
    policy, data, outcomes, _ = planted(tmp_path, 300, outcome=outcome)
    r = run("calibrate", policy, "--data", data, "--outcomes", outcomes, "--as-of", "2024-06-01")
    assert r.exit_code == 2
    assert r.stderr.count("\n") == 1 and message in r.stderr


def test_a_score_whose_rules_never_fire_keeps_its_points_with_a_warning(small, tmp_path):
    policy, data, outcomes, _ = small
    ghost = tmp_path / "ghost.lead"
    ghost.write_text(POLICY.replace("# fit: who they are", "score ghost clamp 0 to 10 {\n  never: +5 when size > 1000000\n}\n"))
    r = run("calibrate", ghost, "--data", data, "--outcomes", outcomes, "--as-of", "2024-06-01", "-o", tmp_path / "out.lead")
    assert r.exit_code == 0, r.output
    assert "warning: score ghost: no rule fires on the training leads; its points are kept" in r.stderr
    assert "never: +5 when size > 1000000" in (tmp_path / "out.lead").read_text()


def test_derived_weights_are_fitted_when_asked(small, tmp_path):
    policy, data, outcomes, _ = small
    derived = tmp_path / "derived.lead"
    derived.write_text(POLICY.replace("bands fit ", "score total = 0.5 * fit + 0.5 * engagement\nbands total { top >= 40, rest otherwise }\nbands fit "))
    kept = calibrate(load(str(derived)), data, outcomes, AS_OF, seed=5)
    assert "score total = 0.5 * fit + 0.5 * engagement" in kept.new_text
    result = calibrate(load(str(derived)), data, outcomes, AS_OF, seed=5, derived=True)
    weights = result.report["scores"]["total"]["weights"]
    assert [w["score"] for w in weights] == ["fit", "engagement"]
    assert sum(abs(w["new_weight"]) for w in weights) == pytest.approx(1.0, abs=0.011)
    line = next(ln for ln in result.new_text.splitlines() if ln.startswith("score total"))
    assert line == f"score total = {weights[0]['new_weight']:g} * fit + {weights[1]['new_weight']:g} * engagement"
    assert result.report["scores"]["total"]["auc_new"] >= result.report["scores"]["total"]["auc_old"]


def test_bad_options_are_one_line(small, tmp_path):
    policy, data, outcomes, _ = small
    r = run("calibrate", policy, "--data", data, "--outcomes", outcomes, "--as-of", "2024-06-01", "--scores", "fitt")
    assert r.exit_code == 2 and "did you mean `fit`" in r.stderr
    r = run("calibrate", policy, "--data", data, "--outcomes", outcomes, "--as-of", "2024-06-01", "--capacity", "segment.nope=5")
    assert r.exit_code == 2 and "no label `nope`" in r.stderr
    r = run("calibrate", policy, "--data", data, "--outcomes", tmp_path / "none.csv", "--as-of", "2024-06-01")
    assert r.exit_code == 2 and "no such outcomes file" in r.stderr


def test_x_education_calibrated_on_half_is_not_worse_on_the_other_half():
    base = ROOT / "policies" / "xeducation"
    result = calibrate(load(str(base / "xeducation.lead")), base / "data", base / "data" / "outcomes.csv", AS_OF, holdout=0.5, seed=1)
    for name, s in result.report["scores"].items():
        assert s["auc_new"] >= s["auc_old"], (name, s["auc_old"], s["auc_new"])


def test_without_scikit_learn_the_command_says_which_extra_to_install(small, monkeypatch):
    import sys

    policy, data, outcomes, _ = small
    monkeypatch.setitem(sys.modules, "sklearn", None)  # `import sklearn` raises ImportError
    r = run("calibrate", policy, "--data", data, "--outcomes", outcomes, "--as-of", "2024-06-01")
    assert r.exit_code == 2
    assert r.stderr == "error: calibrate needs scikit-learn: pip install 'leadlang[calibrate]'\n"
