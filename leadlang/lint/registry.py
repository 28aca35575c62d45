"""The central registry of lint rules: one module per rule under `rules/`, named by code."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from typing import Callable, Iterable

from leadlang.check.policy import Policy
from leadlang.diagnostics import Diagnostic, Fix
from leadlang.span import Span

# What each severity means (docs/lint.md says the same):
#   error    proven dead logic: a part of the policy that can never take effect
#   warning  a likely mistake or a maintenance hazard; the policy still does something
#   hint     advice about a subtle semantic that is easy to get wrong
SEVERITIES = ("hint", "warning", "error")

SECTIONS = ("What it does", "Why it matters", "Example", "Instead")


@dataclass(frozen=True)
class Rule:
    """A lint rule: a stable code, a kebab-case name, a severity and its check."""

    code: str
    name: str
    severity: str
    check: Callable[["Context"], Iterable[Diagnostic]]
    doc: str

    @property
    def summary(self) -> str:
        """The rule's one-line description: the first line of its docstring."""
        return self.doc.strip().splitlines()[0].strip()

    def section(self, title: str) -> str:
        """One section of the docstring (`## What it does` ...), dedented."""
        lines = inspect.cleandoc(self.doc).splitlines()
        out: list[str] = []
        inside = False
        for line in lines:
            if line.startswith("## "):
                inside = line[3:].strip() == title
                continue
            if inside:
                out.append(line)
        return "\n".join(out).strip()


_RULES: dict[str, Rule] = {}


def rule(code: str, name: str, severity: str):
    """Register the decorated function as rule `code`; its docstring is the rule's documentation."""
    assert severity in SEVERITIES, severity

    def register(check):
        _RULES[code] = Rule(code, name, severity, check, check.__doc__ or "")
        return check

    return register


def all_rules() -> dict[str, Rule]:
    """Every rule by code, in code order (importing `leadlang.lint.rules.*` registers them)."""
    from leadlang.lint import rules

    for info in pkgutil.iter_modules(rules.__path__):
        importlib.import_module(f"{rules.__name__}.{info.name}")
    return dict(sorted(_RULES.items()))


class Context:
    """What a rule's check receives: the checked policy, the shared analysis, a way to report."""

    def __init__(self, policy: Policy, analysis, rule: Rule, data=None, as_of=None):
        self.policy = policy
        self.analysis = analysis
        self.rule = rule
        self.data = data  # a `leadlang.profile.Profile` of the `--data` files, or None: the L4xx rules need it
        self.as_of = as_of  # the as-of time the data is read at (`--as-of`), with `data`

    def finding(self, span: Span, message: str, *hints: str, fix: Fix | None = None) -> Diagnostic:
        return Diagnostic(self.rule.code, self.rule.severity, message, span, tuple(h for h in hints if h), fix)

    def removal(self, span: Span, title: str) -> Fix | None:
        """The fix that deletes the declaration at `span` (its whole lines), if it stands on lines of its own."""
        from leadlang.lint.fixes import remove_lines

        return remove_lines(self.policy.texts.get(span.file, ""), span, title)

    def header_line(self, line: str, title: str) -> Fix:
        """An unsafe fix that adds `line` to the policy's header, after its last header line."""
        from leadlang.lint.fixes import insert_line
        from leadlang.syntax import ast as A

        decls = self.policy.modules[0].decls
        last = [d for d in decls[:3] if isinstance(d, (A.PolicyHeader, A.Version, A.Owner))][-1]
        return insert_line(self.policy.texts.get(self.policy.path, ""), self.policy.path, last.span, line, title, safe=False)

    def in_main(self, span: Span) -> bool:
        """Whether `span` is in the linted file itself (not in a file it `use`s)."""
        return span.file == self.policy.path
