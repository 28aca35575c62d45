"""L107: two rules of one score that fire for the same leads."""

from leadlang.lint.registry import rule


@rule("L107", "double-counting", "warning")
def check(ctx):
    """Two rules in one score with the same condition: the same evidence is counted twice.

    ## What it does
    Compares the rules of each points score with each other and flags a `when` rule
    whose condition fires for exactly the same leads as an earlier rule's —
    written the same way, or differently but equivalently
    (`employees >= 200` and `employees > 199`; lets and signals are looked
    through) — and a `per` rule over the same value as an earlier one.

    ## Why it matters
    Two rules on the same condition count one fact twice: the score overstates
    it, and whoever tunes one rule's points will not see the other. Give the
    fact one rule with the combined points.

    ## Example
    ```lead
    signal big_company = employees >= 1000
    score fit {
      enterprise:  +20 when big_company
      large_org:   +15 when employees >= 1000
    }
    ```

    ## Instead
    ```lead
    score fit {
      enterprise:  +35 when employees >= 1000
    }
    ```
    """
    a = ctx.analysis
    for sc in ctx.policy.scores.values():
        rules = getattr(sc, "rules", ())
        when = [r for r in rules if r.kind == "when"]
        keys = dict(zip(map(id, when), a.equivalence_keys([r.expr for r in when])))
        # Only rules sharing a canonical form or an equivalence key can match:
        # each rule is compared with those earlier ones, first to last, not with all.
        seen: dict[object, list[int]] = {}
        for j, later in enumerate(rules):
            groups = [("canon", later.kind, a.canon(later.expr))]
            if later.kind == "when":
                groups.append(("key", keys[id(later)]))
            candidates = sorted({i for g in groups for i in seen.get(g, ())})
            for i in candidates:
                earlier = rules[i]
                same = a.equivalent(earlier.expr, later.expr) if later.kind == "when" else a.canon(earlier.expr) == a.canon(later.expr)
                if same:
                    what = "fire for the same leads" if later.kind == "when" else "add points per the same value"
                    yield ctx.finding(later.span, f"rules `{earlier.id}` and `{later.id}` of `{sc.name}` {what}",
                                      f"merge them into one rule (`{earlier.id}` is at line {earlier.span.line})")
                    break
            for g in groups:
                seen.setdefault(g, []).append(j)
