"""Outcome diffs: what a policy change does to real leads, computed on DuckDB.

Everything happens in one DuckDB connection, reading the data once: each data
file is checked and registered once for both policies (`scoring.register_both`),
both policies' event aggregates are computed in one pass over each events source
(`scoring.share_aggregates`), each policy's compiled plan then reads them into a
temp table of scored rows, and every figure — label counts, transitions, score
statistics, the moved leads and the rules whose firing changed for them — is
SQL over those tables (`compare`). A `Side` is one policy (a file or
`GIT_REV:path`, read through `fs.locate`); `diff()` returns the JSON form (the stable interface);
`render_text` and `render_markdown` (`render`) show it to people.
"""

from leadlang.diff.compare import diff, outputs_of
from leadlang.diff.render import render_markdown, render_text
from leadlang.diff.sides import Side

__all__ = ["Side", "diff", "outputs_of", "render_markdown", "render_text"]
