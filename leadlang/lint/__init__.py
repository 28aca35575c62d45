"""`leadlang lint`: rules over the checked policy that find dead, redundant or risky logic.

`lint(policy)` runs the rules on one checked policy; `lint_files(paths)` is
what the CLI calls: it loads each file (a policy that fails `check` gives its
check diagnostics instead), applies the settings from `pyproject.toml` and the
command line, and drops findings silenced by `# leadlang: ignore[CODE]`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError, Diagnostic, LeadError
from leadlang.lint.analysis import Analysis
from leadlang.lint.config import FAIL_LEVELS, Settings, inline_ignores, load_settings, suppressed, validate_codes
from leadlang.lint.registry import SEVERITIES, Context, Rule, all_rules

__all__ = ["FAIL_LEVELS", "LintReport", "Rule", "Settings", "all_rules", "lint", "lint_files"]


def lint(policy: Policy, settings: Settings | None = None, data=None, as_of=None) -> list[Diagnostic]:
    """The findings of every enabled rule on `policy`, in source order.

    With `data` (a `leadlang.profile.Profile` of the `--data` files) and `as_of`, the data-aware
    `L4xx` rules run too; without it they find nothing."""
    settings = settings or Settings()
    analysis = Analysis(policy)
    found: list[Diagnostic] = []
    for code, r in all_rules().items():
        if not settings.enabled(code, policy.path):
            continue
        ctx = Context(policy, analysis, r, data, as_of)
        try:
            found.extend(d for d in r.check(ctx) if ctx.in_main(d.span))
        except RecursionError:  # a pathologically deep policy: say nothing rather than guess
            continue
    ignores = inline_ignores(policy.texts.get(policy.path, ""))
    found = [d for d in found if not suppressed(d, ignores)]
    return sorted(found, key=lambda d: (d.span.line, d.span.column, d.code))


@dataclass
class LintReport:
    """Every finding of a run, and whether the run fails."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0
    failing: int = 0  # findings at or above their file's fail level, plus check errors
    fixed: list = field(default_factory=list)  # with `fix`: a `fixes.Fixed` per file that `--fix` changed (or would)

    @property
    def failed(self) -> bool:
        return self.failing > 0


def lint_files(
    paths: Sequence[Path],
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    fail_level: str | None = None,
    data: Path | None = None,
    as_of=None,
    fix: str | None = None,
) -> LintReport:
    """Lint each file with its settings; command-line `select`/`ignore`/`fail_level` override the file's.
    With `data` (a `--data` directory) each policy's sources there are profiled for the `L4xx` rules.
    With `fix` ("safe" or "unsafe": which fixes; "safe-diff"/"unsafe-diff" to only compute them), the
    findings' fixes are applied to each file (`fixes.fix_text`) and the findings left are reported.

    Raises `DataError` for unusable input: an unreadable file, a bad
    `pyproject.toml`, an unknown rule code.
    """
    from leadlang.check import load

    known = list(all_rules())
    validate_codes(select, known, "--select")
    validate_codes(ignore, known, "--ignore")
    report = LintReport()
    for path in paths:
        settings = load_settings(Path(path), known)
        if select:
            settings = replace(settings, select=tuple(select))
        if ignore:
            settings = replace(settings, ignore=tuple(ignore))
        if fail_level:
            settings = replace(settings, fail_level=fail_level)
        report.files += 1
        try:
            policy = load(path)
        except LeadError as err:
            report.diagnostics.extend(err.diagnostics)
            report.failing += sum(d.is_error for d in err.diagnostics)
            continue
        except OSError as err:
            raise DataError(f"{path}: cannot read the policy: {err.strerror}") from None
        profile = None
        if data is not None:
            from leadlang.profile import profile_files

            profile = profile_files(policy, Path(data))
        found = lint(policy, settings, profile, as_of)
        if fix is not None:
            policy, found = _fixed(path, policy, settings, profile, as_of, fix, report)
        threshold = SEVERITIES.index(settings.fail_level)
        report.failing += sum(SEVERITIES.index(d.severity) >= threshold for d in found)
        report.diagnostics.extend(found)
    return report


def _fixed(path, policy, settings, profile, as_of, how: str, report: LintReport):
    """Apply (or with a `-diff` mode, compute) the fixes of one file; its policy and findings after."""
    from leadlang import outputs
    from leadlang.check import load
    from leadlang.fs import WORK_TREE, Overlay
    from leadlang.lint.fixes import fix_text

    key = policy.path

    def lint_text(text: str):
        return lint(load(path, files=Overlay(WORK_TREE, {key: text})), settings, profile, as_of)

    fixed = fix_text(key, policy.texts[key], lint_text, unsafe=how.startswith("unsafe"))
    if fixed.after == fixed.before:
        return policy, lint(policy, settings, profile, as_of)
    report.fixed.append(fixed)
    after = load(path, files=Overlay(WORK_TREE, {key: fixed.after}))
    if not how.endswith("diff"):
        outputs.write_text(path, fixed.after)
    return after, lint(after, settings, profile, as_of)
