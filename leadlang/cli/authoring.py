"""Commands on the policy files themselves: `check`, `test`, `lint`, `fmt` and `explain-code`."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from leadlang import __version__, term
from leadlang.cli.app import main
from leadlang.cli.common import EXIT_FINDINGS, EXIT_INPUT, POLICIES, AsOf, fail, policy_files, refuse, render_diagnostics, watchable, write_output
from leadlang.diagnostics import DataError, LeadError, Sources, render_json


@main.command()
@POLICIES
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@watchable
def check(policies: tuple[Path, ...], fmt: str) -> None:
    """Parse and type-check policies (files or folders; default: the configured `policies`, else `.`); exit 1 on errors.

    \b
    Examples:
      leadlang check                       # the project's policies (docs/config.md)
      leadlang check policies/ --format json
    Docs: docs/cli.md#leadlang-check
    """
    from leadlang.check import load

    policies = policy_files(policies)
    diagnostics = []
    for path in policies:
        try:
            load(path)
        except LeadError as err:
            diagnostics.extend(err.diagnostics)
        except OSError as err:
            fail(DataError(f"{path}: cannot read the policy: {err.strerror}"))
    if fmt == "json":
        click.echo(render_json(diagnostics))
    elif diagnostics:
        click.echo(render_diagnostics(diagnostics, Sources()), err=True)
    errors = sum(d.is_error for d in diagnostics)
    if fmt == "text":
        if errors:
            click.echo(f"{errors} error{'s' if errors != 1 else ''} in {len(policies)} polic{'ies' if len(policies) != 1 else 'y'}", err=True)
        else:
            click.echo(f"{len(policies)} polic{'ies' if len(policies) != 1 else 'y'} checked, no errors")
    sys.exit(EXIT_FINDINGS if errors else 0)


@main.command()
@click.argument("targets", nargs=-1, metavar='[POLICY[::"TEST NAME"]]...')
@click.option("-k", "keyword", metavar="EXPR", help="Run only the tests whose names match: words (substrings, any case) with and, or, not, parentheses.")
@click.option("--format", "fmt", type=click.Choice(["text", "junit", "json"]), default="text", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--coverage", "with_coverage", is_flag=True, help="Report the rules, gates, members, branches and cells the tests exercised.")
@click.option("--fail-under", type=click.FloatRange(0, 100), help="With coverage: exit 1 when total coverage is below this percentage.")
@click.option("-x", "--fail-fast", is_flag=True, help="Stop at the first failing test.")
@watchable
def test(targets: tuple[str, ...], keyword: str | None, fmt: str, out: Path | None, with_coverage: bool, fail_under: float | None, fail_fast: bool) -> None:
    """Run the `test` blocks of each policy.

    \b
    Examples:
      leadlang test policies/plg/plg.lead
      leadlang test policies/plg/plg.lead -k "free and not student" --format json
      leadlang test 'policies/plg/plg.lead::"a student is disqualified"'
    Docs: docs/cli.md#leadlang-test
    """
    from leadlang.testing import run_test
    from leadlang.testing.coverage import below, coverage
    from leadlang.testing.coverage import render_text as render_coverage
    from leadlang.testing.report import junit, text, to_json
    from leadlang.testing.select import keyword as keyword_match

    from leadlang import outputs
    from leadlang.check import load

    try:
        selection = _test_selection(targets)
        match = keyword_match(keyword) if keyword is not None else None
    except DataError as err:
        fail(err)
    outputs.protect(selection)
    refuse(out)
    results = []
    covered = {}
    broken = deselected = 0
    stopped = False
    for path, names in selection.items():
        if stopped:
            break
        try:
            checked = load(path)
            outputs.protect(m.path for m in checked.modules)
            chosen = _chosen_tests(checked, path, names)
            deselected += len(checked.tests) - len(chosen)
            if match is not None:
                deselected += sum(not match(t.name) for t in chosen)
                chosen = [t for t in chosen if match(t.name)]
            ran = []
            for t in chosen:
                ran.append(run_test(checked, t))
                if fail_fast and not ran[-1].passed:
                    stopped = True
                    break
            results.append((path, ran))
            covered[path] = coverage(checked, ran, path)
        except LeadError as err:  # report it and go on: the other policies' results still count
            click.echo(render_diagnostics(err.diagnostics, Sources()), err=True)
            broken += 1
        except DataError as err:
            fail(err)
        except OSError as err:
            fail(DataError(f"{path}: cannot read the policy: {err.strerror}"))
    if keyword is not None and results and not any(rs for _, rs in results):
        fail(DataError(f"-k {keyword!r}: no test name matches (of {deselected} test{'s' if deselected != 1 else ''})"))
    with_coverage = with_coverage or fail_under is not None
    shown = list(covered.values()) if with_coverage else []
    if fmt == "junit":
        report = junit(results, covered if with_coverage else None)
    elif fmt == "json":
        report = to_json(results, covered if with_coverage else None, deselected=deselected, broken=broken)
    else:
        report = text(results, paint=None if out is not None else term.painter(sys.stdout), deselected=deselected)
        report += "\n" + render_coverage(shown) if shown else ""
    if out is not None:
        write_output(out, report)
    else:
        click.echo(report)
    if stopped:
        click.echo("stopped at the first failing test (--fail-fast)", err=True)
    if broken:
        click.echo(f"{broken} polic{'ies' if broken != 1 else 'y'} with errors, not tested", err=True)
    failed = sum(not r.passed for _, rs in results for r in rs)
    short = fail_under is not None and below(shown, fail_under)
    if short:
        from leadlang.testing.coverage import total_percent

        click.echo(f"coverage {total_percent(shown):.1f}% is below --fail-under {fail_under:g}", err=True)
    sys.exit(EXIT_FINDINGS if failed or broken or short else 0)


def _test_selection(targets: tuple[str, ...]) -> dict[Path, set[str] | None]:
    """Each policy named, in order, with the test names its `POLICY::NAME` arguments chose (None: all)."""
    from leadlang.testing.select import split_target

    chosen: dict[Path, set[str] | None] = {}
    plain = []
    for target in targets:
        spec, name = split_target(target)
        path = Path(spec)
        if not path.exists():
            raise DataError(f"{spec}: no such policy file")
        if name is None:
            plain.append(path)
        elif path.is_dir():
            raise DataError(f"{spec}: is a directory; name a policy file before '::'")
        elif chosen.get(path, set()) is not None:
            chosen.setdefault(path, set()).add(name)
    if plain or not targets:
        for path in policy_files(plain):
            chosen[path] = None
    return chosen


def _chosen_tests(policy, path: Path, names: set[str] | None) -> list:
    """The policy's tests that `POLICY::NAME` chose, in file order; a name it lacks is an error."""
    if names is None:
        return list(policy.tests)
    from leadlang.diagnostics import did_you_mean

    known = [t.name for t in policy.tests]
    for name in sorted(names - set(known)):
        hint = " ".join(did_you_mean(name, known))
        raise DataError(f"{path}: no test named {name!r}" + (f"; {hint}" if hint else ""))
    return [t for t in policy.tests if t.name in names]


@main.command("explain-code")
@click.argument("code")
def explain_code(code: str) -> None:
    """Print the documentation of a diagnostic or lint code, e.g. E205 or L101."""
    from leadlang.codes import explain_code as page_of

    try:
        page = page_of(code)
    except DataError as err:
        fail(err)
    paint = term.painter(sys.stdout)
    if paint is not None:  # headings stand out; the rest is the page's markdown as written
        fenced = False
        lines = []
        for line in page.splitlines():
            fenced = fenced != line.startswith("```")
            lines.append(paint(line, "location") if line.startswith("#") and not fenced else line)
        page = "\n".join(lines) + "\n"
    click.echo(page, nl=False)


@main.command()
@POLICIES
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True)
@click.option("--fail-level", type=click.Choice(["error", "warning"]), default=None, help="Exit 1 on findings of this severity or worse.  [default: error, or the config's]")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules: codes or prefixes, comma-separated (L101,L2).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules: codes or prefixes, comma-separated.")
@click.option("--data", "data", type=click.Path(path_type=Path), help="Also check the policies against this data directory (rules L4xx).")
@click.option("--as-of", type=AsOf(), default="now", show_default=True, help="With --data: the time the data would be scored as of (L405).")
@click.option("--fix", is_flag=True, help="Apply the findings' safe fixes to the files, then report what is left.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print the fixes as a unified diff (exit 1 if there are any).")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: also the fixes that need a person's eye.")
def lint(policies: tuple[Path, ...], fmt: str, fail_level: str | None, select: tuple[str, ...], ignore: tuple[str, ...],
         data: Path | None, as_of: dt.datetime, fix: bool, show_diff: bool, unsafe_fixes: bool) -> None:
    """Find dead, redundant or risky logic in policies (and with --data, mismatches with the data); exit 1 on findings at the fail level.

    \b
    Examples:
      leadlang lint policies/plg/plg.lead
      leadlang lint --fix policies/plg/plg.lead          # remove unused lets and signals
      leadlang lint --diff --unsafe-fixes policies/plg/plg.lead
    Docs: docs/lint.md
    """
    from leadlang.diagnostics import render_github, render_sarif
    from leadlang.lint import all_rules, lint_files
    from leadlang.lint.config import split_codes

    how = None
    if fix or show_diff:
        how = ("unsafe" if unsafe_fixes else "safe") + ("-diff" if show_diff else "")
    elif unsafe_fixes:
        fail(DataError("--unsafe-fixes goes with --fix or --diff"))
    policies = policy_files(policies)
    try:
        report = lint_files(policies, split_codes(select), split_codes(ignore), fail_level, data, as_of, fix=how)
    except DataError as err:
        fail(err)
    if show_diff:
        from leadlang.fmt.files import unified_diff

        for fixed in report.fixed:
            click.echo(unified_diff(fixed, after="fixed"), nl=False)
        sys.exit(EXIT_FINDINGS if report.fixed else 0)
    if fix:
        count = sum(len(f.applied) for f in report.fixed)
        click.echo(f"fixed {count} finding{'s' if count != 1 else ''} in {len(report.fixed)} polic{'ies' if len(report.fixed) != 1 else 'y'}", err=True)
        for f in report.fixed:
            if f.broke:
                click.echo(f"{f.path}: some fixes were not applied: the result would not check ({f.broke})", err=True)
    found = report.diagnostics
    if fmt == "json":
        click.echo(render_json(found))
    elif fmt == "sarif":
        rules = {r.code: {"name": r.name, "summary": r.summary, "severity": r.severity, "help": r.section("What it does")} for r in all_rules().values()}
        from leadlang.codes import help_url

        click.echo(render_sarif(found, rules, __version__, help_uri=help_url))
    elif fmt == "github":
        if found:
            click.echo(render_github(found))
    else:
        if found:
            click.echo(render_diagnostics(found, Sources(), err=False))
        counts = {s: sum(d.severity == s for d in found) for s in ("error", "warning", "hint")}
        shown = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
        files = f"{report.files} polic{'ies' if report.files != 1 else 'y'}"
        click.echo(f"{shown} in {files}" if shown else f"{files} linted, no findings", err=bool(found))
    sys.exit(EXIT_FINDINGS if report.failed else 0)


@main.command("fmt")
@POLICIES
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any file would be reformatted.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of the changes.")
def fmt_(policies: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Format policies in place (a directory means its `.lead` files; `-` is stdin to stdout)."""
    from leadlang.fmt import FormatterBug
    from leadlang.fmt.files import STDIN, format_file, format_text, unified_diff

    changed = unchanged = broken = 0
    bug = False
    paths = [str(p) for p in policy_files(policies)]
    for path in paths:
        try:
            if path == STDIN:
                raw = sys.stdin.buffer.read()
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError as err:
                    fail(DataError(f"<stdin>: not valid UTF-8 (byte 0x{raw[err.start]:02X} at offset {err.start}); save the policy as UTF-8"))
                sources = Sources({"<stdin>": text})
                result = format_text(text, "<stdin>")
            else:
                sources = Sources()
                result = format_file(path)
        except LeadError as err:
            click.echo(render_diagnostics(err.diagnostics, sources), err=True)
            broken += 1
            continue
        except FormatterBug as err:
            click.echo(f"error: {err} (a bug in leadlang fmt; the file is left as it is)", err=True)
            bug = True
            continue
        except OSError as err:
            fail(DataError(f"{path}: cannot read the policy: {err.strerror}"))
        changed += result.changed
        unchanged += not result.changed
        if show_diff:
            click.echo(unified_diff(result), nl=False)
        elif path == STDIN:
            if not check:
                click.echo(result.after, nl=False)
        elif result.changed:
            if not check:
                write_output(Path(path), result.after)  # over its input, as asked: atomically
            click.echo(f"{'would reformat' if check else 'reformatted'} {path}", err=True)
    def files(n: int) -> str:
        return f"{n} file{'s' if n != 1 else ''}"

    summary = [f"{files(changed)} {'would be reformatted' if check or show_diff else 'reformatted'}"] if changed else []
    summary += [f"{files(unchanged)} {'already formatted' if check or show_diff else 'left unchanged'}"] if unchanged else []
    summary += [f"{files(broken)} with errors, not formatted"] if broken else []
    if summary:
        click.echo(", ".join(summary), err=True)
    if bug:
        sys.exit(EXIT_INPUT)
    sys.exit(EXIT_FINDINGS if broken or (check and changed) else 0)


@main.command("config")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def config_(fmt: str) -> None:
    """Print the effective settings and where each came from (docs/config.md).

    \b
    Examples:
      leadlang config
      leadlang config --format json
    """
    import json

    from leadlang import config

    settings = click.get_current_context().find_object(config.Config) or config.Config()
    rows = config.effective(settings)
    if fmt == "json":
        click.echo(json.dumps({"file": None if settings.file is None else str(settings.file),
                               "settings": [{"key": k, "value": v, "from": w} for k, v, w in rows]}, indent=2))
        return
    click.echo(f"# settings: {settings.where if settings.file else 'none found (leadlang.toml or [tool.leadlang] in pyproject.toml)'}")
    width = max(len(k) for k, _, _ in rows)
    for key, value, where in rows:
        shown = "(unset)" if value is None else json.dumps(value)
        click.echo(f"{key.ljust(width)} = {shown}    # {where}")
