"""L402: a declared enum value no row of the data has."""

from leadlang.lint.rules import profiled_enums, string_span
from leadlang.lint.registry import rule


@rule("L402", "enum-value-never-seen", "hint")
def check(ctx):
    """An `enum(...)` value that no row of the `--data` files has.

    ## What it does
    With `lint --data DIR`, lists for each `enum` column the declared values that
    no row of its source's data file holds (when the file has rows).

    ## Why it matters
    A value that never occurs is often a value spelled differently in the data
    than in the policy (`"fin-tech"` for `"fintech"`), or one the pipeline stopped
    producing; every rule that tests for it is dead on this data.

    ## Example
    ```lead
    leads from ref("leads") key lead_id account account_id {
      email     string
      industry  enum("software", "fintech", "retail", "media")
    }
    score fit {
      media: +10 when industry = "media"
    }
    ```

    ## Instead
    ```lead
    leads from ref("leads") key lead_id account account_id {
      email     string
      industry  enum("software", "fintech", "retail")
    }
    score fit {
      retail: +10 when industry = "retail"
    }
    ```
    """
    for f, src in profiled_enums(ctx, with_rows=True):
        seen = dict(src.values[f.name])
        unseen = [v for v in f.type.values if v not in seen]
        if unseen:
            listed = ", ".join(f'"{v}"' for v in unseen)
            yield ctx.finding(string_span(ctx.policy, f, unseen[0]), f"`{f.name}`: no row of {src.path} has {listed} ({src.rows} rows)",
                              "check the spelling against the data, or drop the value")
