"""Outcome diffs: what a policy change does to real leads, computed on DuckDB.

Everything happens in one DuckDB connection, reading the data once: each data
file is checked and registered once for both policies (`scoring.register_both`),
the two compiled plans are merged into one plan computing each distinct
aggregate and value once (`merge`; run as two statements, the aggregates, then
the values), which gives each lead's labels and scores
under both policies and the rules whose firing changed for the moved ones, and
every figure — label counts, transitions, score statistics, the moved leads — is
SQL over that table (`compare`). When the two cannot share one statement, each
policy is scored whole (`scoring.run_side`) and the moved leads explained from
its explanation rows (`scoring.explain_moved`). A `Side` is one policy (a file or
`GIT_REV:path`, read through `fs.locate`); `diff()` returns the JSON form (the stable interface);
`render_text` and `render_markdown` (`render`) show it to people.
"""

from leadlang.diff.compare import diff, outputs_of
from leadlang.diff.render import render_markdown, render_text
from leadlang.diff.sides import Side

__all__ = ["Side", "diff", "outputs_of", "render_markdown", "render_text"]
