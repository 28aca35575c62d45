"""L403: the data holds values an enum does not declare."""

from leadlang.diagnostics import did_you_mean
from leadlang.lint.rules import examples, profiled_enums, shown
from leadlang.lint.registry import rule


@rule("L403", "undeclared-enum-value", "warning")
def check(ctx):
    """Values in the `--data` files that an `enum(...)` column does not declare.

    ## What it does
    With `lint --data DIR`, counts for each `enum` column the rows of its source's
    data file whose value is not one of the declared values, and names a few of
    them (escaped, cut at 40 characters) with how many rows hold each.

    ## Why it matters
    A value outside the enum is bad input: reading the files, `leadlang score`
    reports it, while a warehouse query cannot stop and reads it as a value outside
    every list the policy tests (see [sql.md](../sql.md)). Either the enum is
    missing a value or the data needs cleaning; both are better found before scoring.

    ## Example
    ```lead
    leads from ref("leads") key lead_id account account_id {
      email     string
      industry  enum("software", "fintech")
    }
    ```

    ## Instead
    ```lead
    leads from ref("leads") key lead_id account account_id {
      email     string
      industry  enum("software", "fintech", "retail", "Software")
    }
    ```
    """
    for f, src in profiled_enums(ctx):
        extra = [(v, n) for v, n in src.values[f.name] if v not in f.type.values]
        if not extra:
            continue
        rows = sum(n for _, n in extra)
        what = f"{len(extra)} value{'s' if len(extra) != 1 else ''}"
        hints = [f"{shown(v)}: {h}" for v, _ in extra[:3] for h in did_you_mean(v, f.type.values)]
        yield ctx.finding(f.span, f"`{f.name}`: {rows} row{'s' if rows != 1 else ''} of {src.path} hold{'s' if rows == 1 else ''} "
                                  f"{what} the enum does not declare: {examples(extra)}",
                          *hints, "add the values to the `enum(...)`, or clean the data")
