"""L303: a policy without `owner`."""

from leadlang.fmt.exprs import string as quote
from leadlang.lint.registry import rule
from leadlang.syntax import ast as A


@rule("L303", "missing-owner", "warning")
def check(ctx):
    """A policy without an `owner` line.

    ## What it does
    Flags a policy whose header has no `owner "..."`.

    ## Why it matters
    A qualification policy routes pipeline; when it misbehaves, sales and
    marketing need to know whom to ask. The owner is the team or person who
    answers for it and reviews its changes.

    ## Example
    ```lead
    policy demo "Demo"
      version "2024.06"
    ```

    ## Instead
    ```lead
    policy demo "Demo"
      version "2024.06"
      owner "revops@example.com"
    ```
    """
    if ctx.policy.owner is None:
        header = next(d for d in ctx.policy.modules[0].decls if isinstance(d, A.PolicyHeader))
        owner = _git_email()
        fix = None if owner is None else ctx.header_line(f"owner {quote(owner)}", f"Add `owner {quote(owner)}` (git's user.email)")
        yield ctx.finding(header.span, f"policy `{ctx.policy.name}` has no `owner`", 'add e.g. `owner "revops@example.com"` after the `policy` line', fix=fix)


def _git_email() -> str | None:
    """`git config user.email`, the likeliest owner of a new policy; None without git or the setting."""
    import subprocess

    try:
        out = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    email = out.stdout.strip()
    return email if out.returncode == 0 and email else None
