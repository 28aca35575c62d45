"""L302: a policy without `version`."""

import datetime as dt

from leadlang.lint.registry import rule
from leadlang.syntax import ast as A


@rule("L302", "missing-version", "warning")
def check(ctx):
    """A policy without a `version` line.

    ## What it does
    Flags a policy whose header has no `version "..."`.

    ## Why it matters
    Every output row carries `policy` as `name@version`: it is how a scored
    lead is traced back to the policy that scored it, and how a back-test or a
    dashboard tells one revision from the next. Without a version every
    revision looks the same.

    ## Example
    ```lead
    policy demo "Demo"
      owner "revops@example.com"
    ```

    ## Instead
    ```lead
    policy demo "Demo"
      version "2024.06"
      owner "revops@example.com"
    ```
    """
    if ctx.policy.version is None:
        header = next(d for d in ctx.policy.modules[0].decls if isinstance(d, A.PolicyHeader))
        version = dt.date.today().strftime("%Y.%m")
        yield ctx.finding(header.span, f"policy `{ctx.policy.name}` has no `version`", 'add e.g. `version "2024.06"` after the `policy` line',
                          fix=ctx.header_line(f'version "{version}"', f'Add `version "{version}"` (this month)'))
