"""L404: a declared column that is missing in every row of the data."""

from leadlang.lint.rules import profiled_sources
from leadlang.lint.registry import rule


@rule("L404", "column-always-missing", "warning")
def check(ctx):
    """A declared column that has no value in any row of its `--data` file.

    ## What it does
    With `lint --data DIR`, flags each declared column (a leads or accounts field,
    an events column, the account link) that is empty or null in every row of a
    data file that has rows.

    ## Why it matters
    The file has the column, so nothing fails, but every rule that reads it sees a
    missing value: conditions on it are unknown, `per` rules add nothing. It
    usually means an upstream column was renamed or a join lost its matches.

    ## Example
    ```lead
    score fit {
      core: +15 when country in ["US", "CA"]
    }
    ```

    ## Instead
    ```lead
    leads from ref("leads") key lead_id account account_id {
      email     string
      industry  enum("software", "fintech", "retail", "Software")
    }
    score fit {
      core: +15 when industry = "software"
    }
    ```
    """
    for source, decl, src in profiled_sources(ctx, with_rows=True):
        declared = {f.name: f.span for f in decl.fields}
        for column, n in src.present.items():
            if n:
                continue
            span = declared.get(column, decl.span)
            yield ctx.finding(span, f"`{column}` of {source} has no value in any of the {src.rows} rows of {src.path}",
                              "check the column's name and the pipeline that fills it: every rule reading it sees a missing value")
