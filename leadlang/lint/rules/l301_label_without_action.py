"""L301: a classification label with no entry in its `actions`."""

from leadlang.lint.registry import rule
from leadlang.syntax import ast as A


@rule("L301", "label-without-action", "warning")
def check(ctx):
    """A label of a classification that has an `actions` block but no entry for that label.

    ## What it does
    For every classification with `actions`, flags each label it can give
    (including `disqualified` for a matrix, when the policy has gates) that
    the `actions` block does not mention.

    ## Why it matters
    A lead with that label gets missing values in every action column: no
    route, no SLA, no priority. Downstream automation then drops or
    mis-routes it silently. Give every label an entry, even one that routes
    to "none".

    ## Example
    ```lead
    classify stage {
      sql when employees >= 1000
      mql when employees >= 200
      otherwise lead
    }
    actions stage {
      sql: route "account_executive"
      mql: route "sdr"
    }
    ```

    ## Instead
    ```lead
    classify stage {
      sql when employees >= 1000
      mql when employees >= 200
      otherwise lead
    }
    actions stage {
      sql:  route "account_executive"
      mql:  route "sdr"
      lead: route "nurture"
    }
    ```
    """
    p = ctx.policy
    for name, actions in p.actions.items():
        given = {act.label for act in actions.actions}
        labels = list(p.labels[name])
        if isinstance(p.classifications[name], A.Matrix) and not p.gates:
            labels.remove("disqualified")  # no gate: no lead is ever disqualified
        for label in labels:
            if label not in given:
                yield ctx.finding(actions.target_span, f"label `{label}` of `{name}` has no entry in `actions {name}`",
                                  f"leads labelled `{label}` get missing action values; add `{label}: ...`")
