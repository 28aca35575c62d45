"""The two policies of a diff, each named as on the command line: a file, or `GIT_REV:path` (`fs.locate`)."""

from __future__ import annotations

from dataclasses import dataclass

from leadlang.check.policy import Policy


@dataclass
class Side:
    """One policy of the diff: how it was named on the command line, and the checked policy.

    `check.load(path, files=...)` with `fs.locate(spec)` reads either kind, a revision's `use`d
    files from the same revision (the CLI's `load_policy` does, with its error lines)."""

    spec: str
    policy: Policy
