"""The `leadlang` command line: parse options, call one public function, render."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from leadlang import __version__, interrupt, term
from leadlang.diagnostics import DataError, LeadError, Sources, render_json, render_text

EXIT_FINDINGS = 1
EXIT_INPUT = 2


class AsOf(click.ParamType):
    """`2024-06-01`, `2024-06-01T00:00:00Z` or `now`, always read as UTC."""

    name = "TIMESTAMP"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.datetime):
            return value
        if value == "now":
            return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        from leadlang.syntax.parser import parse_timestamp

        try:
            return parse_timestamp(value)
        except (ValueError, OverflowError):
            self.fail(f"{value!r} is not a date or timestamp; use 2024-06-01, 2024-06-01T00:00:00Z or now", param, ctx)


AS_OF = click.option("--as-of", type=AsOf(), default="now", show_default=True, help="Score as of this time (UTC).")
POLICY = click.argument("policy", type=click.Path(exists=True, dir_okay=False, path_type=Path))


def _on_invalid_enum(ctx, param, value: str) -> str:
    """`null`: the data files are read under `data.staging.on_invalid_enum("null")` for the whole command."""
    if value != "error":
        from leadlang.data.staging import on_invalid_enum

        ctx.with_resource(on_invalid_enum(value))
    return value


ON_INVALID_ENUM = click.option(
    "--on-invalid-enum", type=click.Choice(["error", "null"]), default="error", show_default=True, expose_value=False,
    callback=_on_invalid_enum, help="A data value outside its enum(...): stop with an error, or score it as missing (null), as the compiled SQL does.")


def _diagnostics(diagnostics, sources: Sources, err: bool = True) -> str:
    """Diagnostics as text for standard error (or output), coloured when that stream gets colour."""
    return render_text(diagnostics, sources, paint=term.painter(sys.stderr if err else sys.stdout))


def _fail(err: Exception) -> None:
    """Render a stage's failure and exit: 1 for policy errors, 2 for unusable input."""
    if isinstance(err, LeadError):
        click.echo(_diagnostics(err.diagnostics, Sources(getattr(err, "texts", {}))), err=True)
        errors = sum(d.is_error for d in err.diagnostics)
        click.echo(f"{errors} error{'s' if errors != 1 else ''}", err=True)
        sys.exit(EXIT_FINDINGS)
    paint = term.painter(sys.stderr)
    click.echo(f"{paint('error:', 'error') if paint else 'error:'} {err}", err=True)
    sys.exit(EXIT_INPUT)


def _load(path: Path):
    """The checked policy at `path`; it and the files it `use`s become inputs no output may overwrite."""
    from leadlang import outputs
    from leadlang.check import load

    outputs.protect([path])
    try:
        policy = load(path)
    except LeadError as err:
        _fail(err)
    except OSError as err:
        _fail(DataError(f"{path}: cannot read the policy: {err.strerror}"))
    outputs.protect(m.path for m in policy.modules)
    return policy


def _protect_data(policy, data: Path) -> None:
    """The data files `policy` reads from `data` become inputs too (a missing one is the reader's to report)."""
    from leadlang import outputs
    from leadlang.data.specs import find_source_file

    for name in ["leads", *(["accounts"] if policy.accounts is not None else []), *policy.events]:
        try:
            outputs.protect([find_source_file(data, name)])
        except DataError:
            pass


def _refuse(*targets: Path | None) -> None:
    """Fail before any work when an output would replace an input, or two outputs are one file."""
    from leadlang import outputs

    named = [t for t in targets if t is not None]
    try:
        for i, target in enumerate(named):
            outputs.refuse(target)
            if other := next((o for o in named[:i] if outputs.same_file(o, target)), None):
                raise DataError(f"{target}: is also the other output ({other}); write each output to its own file")
    except DataError as err:
        _fail(err)


def _color_first(args: list[str]) -> list[str]:
    """`args` with every `--color MODE` / `--color=MODE` (or `--colour`) moved to the front, up to a `--`."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in ("--color", "--colour") and i + 1 < len(args):
            front += [arg, args[i + 1]]
            i += 2
            continue
        if arg.startswith(("--color=", "--colour=")):
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


class _Commands(click.Group):
    """The command group; `invoke` is the one place a command's faults become exit codes.

    Ctrl-C or SIGTERM: one line, 130 (143 for SIGTERM). An OSError that reached
    here (unreadable file, full disk on standard output): one line naming the file,
    2. A closed pipe (`| head`): silence, 0. Standard output is flushed here, so a
    full disk is reported like any other write error and not at interpreter exit.
    """

    def parse_args(self, ctx, args):
        """`--color MODE` is the group's option, but may be written after the command too."""
        return super().parse_args(ctx, _color_first(args))

    def make_context(self, *args, **kwargs):
        try:  # a signal while the options are parsed
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            _interrupted()

    def invoke(self, ctx):
        try:
            try:
                from leadlang import outputs

                outputs.reset()
                return super().invoke(ctx)
            finally:
                sys.stdout.flush()
        except BrokenPipeError:
            _quiet_stdout()
        except KeyboardInterrupt:
            _interrupted()
        except SystemExit:
            if interrupt.received is not None:  # a DuckDB "interrupted" that became an error on the way
                _interrupted()
            raise
        except OSError as err:
            if interrupt.received is not None:
                _interrupted()
            # outputs.py names its target; an OSError without a file name comes from standard output
            where = err.filename or "<stdout>"
            click.echo(f"error: {where}: {'cannot write: ' if err.filename is None else ''}{err.strerror or err}", err=True)
            _quiet_stdout(EXIT_INPUT)
        except Exception:
            if interrupt.received is not None:
                _interrupted()
            raise


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version=__version__, prog_name="leadlang")
@click.option("--color", "--colour", "color", type=click.Choice(term.MODES), default="auto", show_default=True,
              help="Colour diagnostics and results: auto (on a terminal, unless NO_COLOR is set), always, never.")
@click.pass_context
def main(ctx: click.Context, color: str) -> None:
    """Qualification-as-code: check, test, score and explain `.lead` policies."""
    term.set_mode(color)
    if term.forced():
        ctx.color = True  # click would strip the codes from a stream that is not a terminal


@main.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def check(policies: tuple[Path, ...], fmt: str) -> None:
    """Parse and type-check policies; exit 1 on errors."""
    from leadlang.check import load

    diagnostics = []
    for path in policies:
        try:
            load(path)
        except LeadError as err:
            diagnostics.extend(err.diagnostics)
        except OSError as err:
            _fail(DataError(f"{path}: cannot read the policy: {err.strerror}"))
    if fmt == "json":
        click.echo(render_json(diagnostics))
    elif diagnostics:
        click.echo(_diagnostics(diagnostics, Sources()), err=True)
    errors = sum(d.is_error for d in diagnostics)
    if fmt == "text":
        if errors:
            click.echo(f"{errors} error{'s' if errors != 1 else ''} in {len(policies)} polic{'ies' if len(policies) != 1 else 'y'}", err=True)
        else:
            click.echo(f"{len(policies)} polic{'ies' if len(policies) != 1 else 'y'} checked, no errors")
    sys.exit(EXIT_FINDINGS if errors else 0)


def _check_inputs(policy, data: Path, as_of: dt.datetime) -> None:
    """The data directory exists and the as-of time keeps every window in range (score, explain)."""
    if not data.is_dir():
        raise DataError(f"{data}: no such data directory")
    from leadlang.check.timerange import check_as_of

    check_as_of(policy, as_of)


def _score(policy, data: Path, as_of: dt.datetime, engine: str, explain: bool = False, parquet: Path | None = None, text=None,
           warn=None):
    """Rows (and explanation rows) of every lead in `data`, on DuckDB (`--engine python` streams: `engine.score_python`).

    `warn(profile)` gets the data profile before scoring (the data-aware lint rules, `score`'s warnings)."""
    _check_inputs(policy, data, as_of)
    from leadlang.engine import score_duckdb

    def inspect(con, tables):
        from leadlang.profile import profile_tables

        warn(profile_tables(con, policy, tables, data))

    return score_duckdb(policy, data, as_of, explain=explain, parquet=parquet, text=text, inspect=None if warn is None else inspect)


@main.command()
@POLICY
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@AS_OF
@click.option("--engine", type=click.Choice(["duckdb", "python"]), default="duckdb", show_default=True, help="duckdb: compiled SQL, in-process; python: the reference interpreter.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write here (.csv, .parquet, .jsonl).")
@click.option("--explain", "explain_out", type=click.Path(dir_okay=False, path_type=Path), help="Write the explanation rows here.")
@ON_INVALID_ENUM
@click.option("--strict", is_flag=True, help="Exit 1 without scoring when the data gets a warning (lint rules L4xx).")
def score(policy: Path, data: Path, as_of: dt.datetime, engine: str, out: Path | None, explain_out: Path | None, strict: bool) -> None:
    """Score every lead of DATA with POLICY: one row per lead, ordered by key."""
    from leadlang import outputs
    from leadlang.interpret import EXPLAIN_COLUMNS
    from leadlang.data.writers import write_table

    checked = _load(policy)
    _protect_data(checked, data)
    _refuse(out, explain_out)
    warn = _DataWarnings(checked, as_of, strict)
    try:
        with outputs.together():  # -o and --explain: both files replaced, or neither
            if engine == "python":  # the interpreter streams: each chunk's rows are written as it is scored
                from leadlang.engine import score_python
                from leadlang.profile import profile_files

                _check_inputs(checked, data, as_of)
                try:  # the Python engine reads rows, not tables: the files once more, as text
                    warn(profile_files(checked, data))
                except DataError:  # unusable files: the engine reports them, in its own words, as DuckDB's does
                    pass
                result, count = None, score_python(checked, data, as_of, out, sys.stdout, explain_out)
            else:
                parquet = out if out is not None and out.suffix.lower() == ".parquet" else None
                text = (out, sys.stdout, explain_out)  # CSV and JSONL: DuckDB formats the lines as the query runs
                result = _score(checked, data, as_of, engine, explain=explain_out is not None, parquet=parquet, text=text, warn=warn)
                columns = [(o.name, o.kind) for o in checked.outputs]
                why_columns = [(checked.key, "string"), *EXPLAIN_COLUMNS]
                # DuckDB or Arrow straight to the file; rows only for CSV and JSONL
                if result.table is not None:
                    write_table(result.table, columns, out, stream=sys.stdout)
                if explain_out is not None and not result.explained:
                    write_table(result.explain_table, why_columns, explain_out)
    except DataError as err:
        _fail(err)
    warn.show()
    if out is not None:
        if result is not None:
            count = result.written if result.table is None else result.table.num_rows
        click.echo(f"scored {count} leads -> {out}", err=True)


class _DataWarnings:
    """What `score` does with the data profile: the data-aware lint rules (`L4xx`, as the policy's lint settings
    and inline ignores select them) as warnings on standard error once the leads are scored (a run that fails
    shows its one error line only); with `strict`, any of them exits 1 before anything is scored."""

    def __init__(self, policy, as_of: dt.datetime, strict: bool):
        self.policy, self.as_of, self.strict = policy, as_of, strict
        self.found: list = []

    def __call__(self, profile) -> None:
        if profile is None:
            return
        from dataclasses import replace

        from leadlang.lint import all_rules, lint
        from leadlang.lint.config import load_settings

        known = all_rules()
        settings = load_settings(Path(self.policy.path), known)
        codes = tuple(c for c in known if c.startswith("L4") and settings.enabled(c, self.policy.path))
        self.found = lint(self.policy, replace(settings, select=codes), profile, self.as_of) if codes else []
        if self.found and self.strict:
            self.show()
            n = len(self.found)
            click.echo(f"error: --strict: {n} data warning{'s' if n != 1 else ''}; nothing was scored", err=True)
            sys.exit(EXIT_FINDINGS)

    def show(self) -> None:
        if self.found:
            click.echo(render_text(self.found, Sources(self.policy.texts)), err=True)


def _write(out: Path, text: str) -> None:
    """Write a command's text output to a file, atomically; one error line when it cannot."""
    from leadlang import outputs

    try:
        outputs.write_text(out, text)
    except DataError as err:
        _fail(err)


class TableMap(click.ParamType):
    """`NAME=RELATION`: read `ref("NAME")` / `source("a", "b")` (NAME `a.b`) from RELATION."""

    name = "NAME=RELATION"

    def convert(self, value, param, ctx):
        name, sep, relation = value.partition("=")
        if not sep or not name.strip() or not relation.strip():
            self.fail(f"{value!r} is not NAME=RELATION, e.g. stg_leads=analytics.leads", param, ctx)
        return name.strip(), relation.strip()


@main.command("compile")
@POLICY
@click.option("--dialect", required=True, type=click.Choice(["duckdb", "postgres", "snowflake", "bigquery", "spark"]))
@click.option("--as-of", type=AsOf(), default=None, help="Fix the as-of time; default: the warehouse's current time when the SQL runs.")
@click.option("--table", "tables", multiple=True, type=TableMap(), help="Map a declared relation to another one (repeatable).")
@click.option("--explain", "explain", is_flag=True, help="Compile the explanation rows instead of the scored rows.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the SQL here.")
def compile_(policy: Path, dialect: str, as_of, tables, explain: bool, out: Path | None) -> None:
    """Compile POLICY into one SQL statement for a warehouse."""
    from leadlang.sql import to_sql

    checked = _load(policy)
    _refuse(out)
    try:
        sql = to_sql(checked, dialect, as_of, dict(tables), what="explain" if explain else "score")
    except DataError as err:  # a --table naming no relation of the policy, or no relation at all
        _fail(err)
    if out is not None:
        _write(out, sql)
    else:
        click.echo(sql, nl=False)


@main.command()
@POLICY
@click.option("--data", "data", required=True, type=click.Path(path_type=Path))
@click.option("--lead", "lead", required=True, help="The key of the lead to explain.")
@AS_OF
@ON_INVALID_ENUM
def explain(policy: Path, data: Path, lead: str, as_of: dt.datetime) -> None:
    """Why a lead scored as it did: rules, bands, gates, criteria, cell and action."""
    from leadlang.explain import render_explanation
    from leadlang.interpret import evaluate, uses_account_events
    from leadlang.data.stream import close_keys, load_lead

    checked = _load(policy)
    by_account = uses_account_events(checked)
    try:
        _check_inputs(checked, data, as_of)
        rows = load_lead(checked, data, lead, by_account)
        if rows is None:
            from leadlang.diagnostics import did_you_mean

            hints = did_you_mean(lead, close_keys(checked, data, lead))
            raise DataError(f"no lead with {checked.key} {lead!r} in {data}" + (f"; {hints[0]}" if hints else ""))
    except DataError as err:
        _fail(err)
    state = evaluate(checked, rows.leads, rows.accounts, rows.events, as_of).states[lead]
    click.echo(render_explanation(checked, state, as_of, paint=term.painter(sys.stdout)))


@main.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "junit"]), default="text", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")
@click.option("--coverage", "with_coverage", is_flag=True, help="Report the rules, gates, members, branches and cells the tests exercised.")
@click.option("--fail-under", type=click.FloatRange(0, 100), help="With coverage: exit 1 when total coverage is below this percentage.")
def test(policies: tuple[Path, ...], fmt: str, out: Path | None, with_coverage: bool, fail_under: float | None) -> None:
    """Run the `test` blocks of each policy."""
    from leadlang.testing import run_tests
    from leadlang.testing.coverage import below, coverage
    from leadlang.testing.coverage import render_text as render_coverage
    from leadlang.testing.report import junit, text

    from leadlang import outputs
    from leadlang.check import load

    outputs.protect(policies)
    _refuse(out)
    results = []
    covered = {}
    broken = 0
    for path in policies:
        try:
            checked = load(path)
            outputs.protect(m.path for m in checked.modules)
            results.append((path, run_tests(checked)))
            covered[path] = coverage(checked, results[-1][1], path)
        except LeadError as err:  # report it and go on: the other policies' results still count
            click.echo(_diagnostics(err.diagnostics, Sources()), err=True)
            broken += 1
        except OSError as err:
            _fail(DataError(f"{path}: cannot read the policy: {err.strerror}"))
    with_coverage = with_coverage or fail_under is not None
    shown = list(covered.values()) if with_coverage else []
    if fmt == "junit":
        report = junit(results, covered if with_coverage else None)
    else:
        report = text(results, paint=None if out is not None else term.painter(sys.stdout)) + ("\n" + render_coverage(shown) if shown else "")
    if out is not None:
        _write(out, report)
    else:
        click.echo(report)
    if broken:
        click.echo(f"{broken} polic{'ies' if broken != 1 else 'y'} with errors, not tested", err=True)
    failed = sum(not r.passed for _, rs in results for r in rs)
    short = fail_under is not None and below(shown, fail_under)
    if short:
        from leadlang.testing.coverage import total_percent

        click.echo(f"coverage {total_percent(shown):.1f}% is below --fail-under {fail_under:g}", err=True)
    sys.exit(EXIT_FINDINGS if failed or broken or short else 0)


@main.command("explain-code")
@click.argument("code")
def explain_code(code: str) -> None:
    """Print the documentation of a diagnostic or lint code, e.g. E205 or L101."""
    from leadlang.codes import explain_code as page_of

    try:
        page = page_of(code)
    except DataError as err:
        _fail(err)
    paint = term.painter(sys.stdout)
    if paint is not None:  # headings stand out; the rest is the page's markdown as written
        fenced = False
        lines = []
        for line in page.splitlines():
            fenced = fenced != line.startswith("```")
            lines.append(paint(line, "location") if line.startswith("#") and not fenced else line)
        page = "\n".join(lines) + "\n"
    click.echo(page, nl=False)


@main.command("diff")
@click.argument("old")
@click.argument("new")
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@AS_OF
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
@click.option("--limit", type=click.IntRange(min=0), help="Show at most this many moved leads (text and markdown: 20 by default; json: all).")
@click.option("--exit-code", is_flag=True, help="Exit 1 when any lead moved, like `git diff --exit-code`.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path), help="Write the diff here.")
@ON_INVALID_ENUM
def diff_(old: str, new: str, data: Path, as_of: dt.datetime, fmt: str, limit: int | None, exit_code: bool, out: Path | None) -> None:
    """What changing OLD into NEW does to the leads of DATA: files or GIT_REV:path."""
    import json

    from leadlang import outputs
    from leadlang.diff import diff, load_side, render_markdown
    from leadlang.diff import render_text as render_diff

    outputs.protect(spec for spec in (old, new) if Path(spec).is_file())
    try:
        sides = [load_side(spec) for spec in (old, new)]
        for side in sides:  # a file side's `use`d files (a git side's are temporary copies)
            if Path(side.spec).is_file():
                outputs.protect(m.path for m in side.policy.modules)
            _protect_data(side.policy, data)
        _refuse(out)
        result = diff(*sides, data, as_of, limit=limit if fmt == "json" else (20 if limit is None else limit))
    except (LeadError, DataError) as err:  # a git-read policy's LeadError carries its texts
        _fail(err)
    shown = 20 if limit is None else limit
    if fmt == "json":
        report = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    else:
        report = render_markdown(result, shown) if fmt == "markdown" else render_diff(result, shown) + "\n"
    if out is not None:
        _write(out, report)
    else:
        click.echo(report, nl=False)
    sys.exit(EXIT_FINDINGS if exit_code and result["moved_count"] else 0)


@main.command()
@click.argument("policies", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif", "github"]), default="text", show_default=True)
@click.option("--fail-level", type=click.Choice(["error", "warning"]), default=None, help="Exit 1 on findings of this severity or worse.  [default: error, or the config's]")
@click.option("--select", multiple=True, metavar="CODES", help="Only these rules: codes or prefixes, comma-separated (L101,L2).")
@click.option("--ignore", multiple=True, metavar="CODES", help="Skip these rules: codes or prefixes, comma-separated.")
@click.option("--data", "data", type=click.Path(path_type=Path), help="Also check the policies against this data directory (rules L4xx).")
@click.option("--as-of", type=AsOf(), default="now", show_default=True, help="With --data: the time the data would be scored as of (L405).")
def lint(policies: tuple[Path, ...], fmt: str, fail_level: str | None, select: tuple[str, ...], ignore: tuple[str, ...],
         data: Path | None, as_of: dt.datetime) -> None:
    """Find dead, redundant or risky logic in policies (and with --data, mismatches with the data); exit 1 on findings at the fail level."""
    from leadlang.diagnostics import render_github, render_sarif
    from leadlang.lint import all_rules, lint_files
    from leadlang.lint.config import split_codes

    try:
        report = lint_files(policies, split_codes(select), split_codes(ignore), fail_level, data, as_of)
    except DataError as err:
        _fail(err)
    found = report.diagnostics
    if fmt == "json":
        click.echo(render_json(found))
    elif fmt == "sarif":
        rules = {r.code: {"name": r.name, "summary": r.summary, "severity": r.severity, "help": r.section("What it does")} for r in all_rules().values()}
        click.echo(render_sarif(found, rules, __version__))
    elif fmt == "github":
        if found:
            click.echo(render_github(found))
    else:
        if found:
            click.echo(_diagnostics(found, Sources(), err=False))
        counts = {s: sum(d.severity == s for d in found) for s in ("error", "warning", "hint")}
        shown = ", ".join(f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts.items() if n)
        files = f"{report.files} polic{'ies' if report.files != 1 else 'y'}"
        click.echo(f"{shown} in {files}" if shown else f"{files} linted, no findings", err=bool(found))
    sys.exit(EXIT_FINDINGS if report.failed else 0)
class Capacity(click.ParamType):
    """`LABEL=N` or `GROUP.LABEL=N`: how many leads of a label the team can work."""

    name = "LABEL=N"

    def convert(self, value, param, ctx):
        label, sep, n = value.partition("=")
        if not sep or not label.strip() or not n.strip().isdigit():
            self.fail(f"{value!r} is not LABEL=N with N a whole number, e.g. sales_ready=400", param, ctx)
        return label.strip(), int(n)


@main.command()
@POLICY
@click.argument("challenger", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--data", "data", required=True, type=click.Path(path_type=Path), help="Directory with one file per source.")
@click.option("--outcomes", required=True, type=click.Path(path_type=Path), help="What happened to each lead (.csv, .parquet, .jsonl).")
@click.option("--as-of", type=AsOf(), required=True, help="Score as of this past time (UTC); events after it are ignored.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), help="Also write the HTML report here.")
@click.option("--capacity", "capacity", multiple=True, type=Capacity(), help="Does a label's volume fit N leads? (repeatable)")
@ON_INVALID_ENUM
def backtest(policy: Path, challenger: Path | None, data: Path, outcomes: Path, as_of: dt.datetime, fmt: str,
             report: Path | None, capacity) -> None:
    """Back-test POLICY (and a CHALLENGER) against closed deals: win rate, lift and revenue per label, band and decile."""
    from leadlang.backtest import backtest as run_backtest
    from leadlang.backtest.report import render_html, render_json, render_text

    from leadlang import outputs

    champion, other = _load(policy), _load(challenger) if challenger is not None else None
    _protect_data(champion, data)
    outputs.protect([outcomes])
    _refuse(report)
    try:
        result = run_backtest(champion, data, outcomes, as_of, other, list(capacity))
        if report is not None:
            outputs.write_text(report, render_html(result))
    except DataError as err:
        _fail(err)
    for f in filter(None, (result.champion, result.challenger)):
        for w in f.warnings:
            click.echo(f"warning: {f.policy}: {w}", err=True)
    click.echo(render_json(result) if fmt == "json" else render_text(result))
    if report is not None:
        click.echo(f"report -> {report}", err=True)


@main.command("dbt")
@click.argument("policies", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path), help="The models directory, e.g. models/leadlang.")
@click.option("--dialect", default="duckdb", show_default=True, type=click.Choice(["duckdb", "postgres", "snowflake", "bigquery", "spark"]))
@click.option("--table", "tables", multiple=True, type=TableMap(), help="Read a declared relation from another: NAME=x is ref('x'), NAME=a.b is source('a', 'b') (repeatable).")
@click.option("--sources", is_flag=True, help="Write OUT/sources.yml declaring the source() tables the dbt project does not declare (never overwrites).")
def dbt(policies: tuple[Path, ...], out: Path, dialect: str, tables, sources: bool) -> None:
    """Write dbt models, properties YAML, data tests and unit tests for POLICIES into OUT."""
    from leadlang.dbt import FailingTests, generate

    checked = [_load(p) for p in policies]
    try:
        result = generate(checked, out, dialect, dict(tables), sources)
    except FailingTests as err:
        click.echo(f"error: {err}", err=True)
        sys.exit(EXIT_FINDINGS)
    except DataError as err:
        _fail(err)
    for name, files in result.files.items():
        n = result.unit_tests[name]
        click.echo(f"{name}: {', '.join(str(f) for f in files)} ({n} unit test{'s' if n != 1 else ''})")
    if result.sources:
        click.echo(f"sources: {result.sources} (a stub: set each source's schema)")
    if result.kept:
        click.echo(f"warning: {result.kept} exists and is kept; declare the policies' source() tables there", err=True)


@main.command()
@click.argument("directory", required=False, default=".", type=click.Path(file_okay=False, path_type=Path))
def init(directory: Path) -> None:
    """Create a ready project in DIRECTORY: example policy, sample data, dbt on DuckDB, pre-commit."""
    from leadlang.dbt import init_project

    try:
        written = init_project(directory)
    except DataError as err:
        _fail(err)
    click.echo(f"created {len(written)} files in {directory}; next: cd {directory} && dbt build")


@main.command("fmt")
@click.argument("policies", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if any file would be reformatted.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of the changes.")
def fmt_(policies: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Format policies in place (a directory means its `.lead` files; `-` is stdin to stdout)."""
    from leadlang.fmt import FormatterBug
    from leadlang.fmt.files import STDIN, expand, format_file, format_text, unified_diff

    changed = unchanged = broken = 0
    bug = False
    paths = expand(policies)
    if not paths:
        click.echo("no .lead files to format", err=True)
    for path in paths:
        try:
            if path == STDIN:
                raw = sys.stdin.buffer.read()
                try:
                    text = raw.decode("utf-8-sig")
                except UnicodeDecodeError as err:
                    _fail(DataError(f"<stdin>: not valid UTF-8 (byte 0x{raw[err.start]:02X} at offset {err.start}); save the policy as UTF-8"))
                sources = Sources({"<stdin>": text})
                result = format_text(text, "<stdin>")
            else:
                sources = Sources()
                result = format_file(path)
        except LeadError as err:
            click.echo(_diagnostics(err.diagnostics, sources), err=True)
            broken += 1
            continue
        except FormatterBug as err:
            click.echo(f"error: {err} (a bug in leadlang fmt; the file is left as it is)", err=True)
            bug = True
            continue
        except OSError as err:
            _fail(DataError(f"{path}: cannot read the policy: {err.strerror}"))
        changed += result.changed
        unchanged += not result.changed
        if show_diff:
            click.echo(unified_diff(result), nl=False)
        elif path == STDIN:
            if not check:
                click.echo(result.after, nl=False)
        elif result.changed:
            if not check:
                _write(Path(path), result.after)  # over its input, as asked: atomically
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


def run() -> None:
    """The console script: `main` with Ctrl-C and SIGTERM as one clean exit (see `_Commands`)."""
    interrupt.install()
    try:
        main(standalone_mode=True)
    except BrokenPipeError:
        _quiet_stdout()
    except KeyboardInterrupt:
        _interrupted()


def _interrupted() -> None:
    """Ctrl-C or SIGTERM: one line, exit 130 (143); `outputs.atomic` has removed its temporary file."""
    try:
        click.echo("interrupted", err=True)
    except OSError:
        pass
    _quiet_stdout(interrupt.exit_code())


def _quiet_stdout(code: int = 0) -> None:
    import os

    # Python would complain again while flushing at exit; point stdout at nothing.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests capture stdout)
        pass
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
