"""Outcome diffs: what a policy change does to real leads, computed on DuckDB.

Everything happens in one DuckDB connection, reading the data once: each data
file is checked and registered once for both policies (`_register_both`), both
policies' event aggregates are computed in one pass over each events source
(`_share_aggregates`), each policy's compiled plan then reads them into a temp
table of scored rows, and every figure — label counts, transitions, score
statistics, the moved leads and the rules whose firing changed for them — is
SQL over those tables.
`diff()` returns the JSON form (the stable interface); `render_text` and
`render_markdown` show it to people.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import subprocess
import tempfile
from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError, Diagnostic, LeadError
from leadlang.syntax import ast as A

QUARTILES = (("q1", 0.25), ("median", 0.5), ("q3", 0.75))


# ---------------------------------------------------------------- loading --

@dataclass
class Side:
    """One policy of the diff: how it was named on the command line, and the checked policy."""

    spec: str
    policy: Policy


def load_side(spec: str) -> Side:
    """A policy from a file, or from `GIT_REV:path` in the git repository holding the cwd.

    Raises `LeadError` (policy errors; `.texts` holds the sources for rendering)
    or `DataError` (no such file, revision or path).
    """
    from leadlang.check import load

    path = Path(spec)
    if path.is_file():
        try:
            return Side(spec, load(path))
        except OSError as err:
            raise DataError(f"{spec}: cannot read the policy: {err.strerror}") from None
    rev, sep, rel = spec.partition(":")
    if not sep or not rev or not rel:
        raise DataError(f"{spec}: no such file (to read a policy from git, write GIT_REV:path, e.g. origin/main:policies/plg.lead)")
    if rev.startswith("-"):  # never an option to git
        raise DataError(f"{_shown(spec)}: not a file, and `{_shown(rev)}` is not a git revision (a revision cannot start with '-')")
    if rel.startswith("/") or "\0" in spec:
        raise DataError(f"{_shown(spec)}: the path after the revision must be relative to the repository (e.g. HEAD:policies/plg.lead)")
    return Side(spec, _load_git(rev, rel, spec))


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:80] + "…"


def _git(*args: str) -> str:
    """Run git; every argument that comes from the user goes after `--end-of-options` (git >= 2.24)."""
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, encoding="utf-8", check=False)
    except OSError:
        raise DataError("git is not installed; it is needed to read GIT_REV:path") from None
    if done.returncode != 0:
        lines = [line.split(": ", 1)[-1] for line in done.stderr.strip().splitlines()] or [f"git {args[0]} failed"]
        raise DataError("; ".join(line.rstrip(".") for line in lines))  # fatal: ..., then git's hints
    return done.stdout


def _load_git(rev: str, rel: str, spec: str) -> Policy:
    """Check `rel` as of `rev`, with the files it `use`s taken from the same revision.

    The files are written under a temporary directory (the `use` paths resolve
    relative to each file, as in the working tree); diagnostics name them `REV:path`.
    """
    from leadlang.check import load
    from leadlang.syntax.parser import parse

    try:
        _git("rev-parse", "--show-toplevel")
    except DataError as err:
        raise DataError(f"{spec}: not a file, and not in a git repository to read it from ({err})") from None
    # as in `git show REV:path`: from the repository's root, or from the cwd when it starts with ./ or ../
    relative = rel.startswith(("./", "../")) or rel in (".", "..")
    prefix = _git("rev-parse", "--show-prefix").strip() if relative else ""
    start = posixpath.normpath(posixpath.join(prefix, rel))
    if start.startswith("../"):
        raise DataError(f"{spec}: {rel} is outside the git repository")
    project = _git_project(rev, start)
    with tempfile.TemporaryDirectory(prefix="leadlang-diff-") as tmp:
        root = Path(tmp)
        queue, seen = [start], {start}
        while queue:
            current = queue.pop(0)
            try:
                text = _git("show", "--end-of-options", f"{rev}:{current}")
            except DataError as err:
                if current == start:
                    raise DataError(f"{spec}: {err}") from None
                continue  # the checker reports the missing `use` with its line
            target = root / current
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            try:
                module = parse(text, str(target))
            except LeadError:
                continue  # load() below reports it
            for d in module.decls:
                if isinstance(d, A.Use):
                    used = posixpath.normpath(posixpath.join(posixpath.dirname(current), d.path))
                    inside = used.endswith(".lead") and not posixpath.isabs(used) and (project in ("", ".") or used.startswith(project + "/"))
                    if used not in seen and inside:  # anything else: the checker refuses it at its `use` line
                        seen.add(used)
                        queue.append(used)
        shown = str(root) + "/"
        try:
            return load(root / start, root=root / project)
        except LeadError as err:
            diags = [_renamed(d, shown, f"{rev}:") for d in err.diagnostics]
            texts = {p.replace(shown, f"{rev}:", 1): (root / p[len(shown):]).read_text(encoding="utf-8")
                     for p in {d.span.file for d in err.diagnostics} if p.startswith(shown) and Path(p).is_file()}
            renamed = LeadError(diags)
            renamed.texts = texts
            raise renamed from None


def _git_project(rev: str, start: str) -> str:
    """The project folder of `start` at `rev`, as `project.project_root` finds it in a working tree."""
    from leadlang.project import configures_leadlang

    folder = posixpath.dirname(start)
    while True:
        try:
            text = _git("show", "--end-of-options", f"{rev}:{posixpath.join(folder, 'pyproject.toml')}")
            if configures_leadlang(text):
                return folder
        except (DataError, ValueError):  # no such file at that revision, or not TOML: not a configured project
            pass
        if folder in ("", "."):
            return posixpath.dirname(start)
        folder = posixpath.dirname(folder)


def _renamed(d: Diagnostic, old: str, new: str) -> Diagnostic:
    fix = lambda s: s.replace(old, new)
    return replace(d, message=fix(d.message), hints=tuple(map(fix, d.hints)), span=replace(d.span, file=fix(d.span.file)))


# -------------------------------------------------------------- computing --

def outputs_of(policy: Policy) -> list[str]:
    """The labelled outputs a diff compares: bands (`<score>_band`) and classifications, in column order."""
    return [o.name for o in policy.outputs if o.role in ("band", "classification")]


def _labels(policy: Policy, output: str) -> tuple[str, ...]:
    o = policy.output(output)
    return o.labels or policy.labels.get(o.source if o.role == "band" else output, ())


def diff(old: Side, new: Side, data: Path, as_of: dt.datetime, limit: int | None = None) -> dict:
    """The outcome diff of OLD -> NEW over every lead of `data`; `limit` caps the `moved` list.

    One DuckDB connection does it all: each data file is checked and registered
    once for both policies (`_register_both`), both compiled queries run over
    those relations into temp tables, and the comparison and the explanation of
    the moved leads are SQL over them.
    """
    import duckdb

    from leadlang.check.timerange import check_as_of
    from leadlang.progress import step
    from leadlang.sql import DIALECTS

    if not data.is_dir():
        raise DataError(f"{data}: no such data directory")
    o, n = old.policy, new.policy
    if o.key != n.key:
        raise DataError(f"the policies key leads by different columns (`{o.key}` in {old.spec}, `{n.key}` in {new.spec}); a diff matches leads by one key")
    sides = {"old": old, "new": new}
    for side in sides.values():
        try:
            check_as_of(side.policy, as_of)
        except DataError as err:
            raise DataError(f"{side.spec}: {err}") from None

    q = DIALECTS["duckdb"].ident
    outputs = outputs_of(n) + [x for x in outputs_of(o) if x not in outputs_of(n)]
    scores = list(n.scores) + [s for s in o.scores if s not in n.scores]
    has = {"old": set(outputs_of(o)), "new": set(outputs_of(n))}
    scored_by = {"old": set(o.scores), "new": set(n.scores)}

    def col(side: str, name: str, present: set[str], cast: str) -> str:
        """The side's column, or NULL where that policy has no such output."""
        return f"{side[0]}.{q(name)}" if name in present else f"NULL::{cast}"

    con = duckdb.connect()
    try:
        with step(f"checking the data files in {data}"):
            tables = _register_both(con, old, new, data)
        plans = {name: _plan(side, tables[name], as_of) for name, side in sides.items()}
        with step("computing both policies' aggregates in one pass over the events"):
            shared = _share_aggregates(con, plans)
        for name, side in sides.items():
            with step(f"scoring with {side.spec} on DuckDB"):
                _run_side(con, side, "score", shared.get(name) or plans[name], data, as_of, f"{name}_rows")
        with step("comparing the two policies' outcomes"):
            select = [f"coalesce(o.{q(o.key)}, n.{q(n.key)}) AS key"]
            for i, out in enumerate(outputs):
                select += [f"{col('old', out, has['old'], 'VARCHAR')} AS o{i}", f"{col('new', out, has['new'], 'VARCHAR')} AS n{i}"]
            for j, sc in enumerate(scores):
                select += [f"{col(s, sc, scored_by[s], 'DECIMAL(38, 2)')} AS {s[0]}s{j}" for s in ("old", "new")]
            con.execute(f"CREATE TEMP TABLE leads AS SELECT {', '.join(select)} "
                        f"FROM old_rows o FULL JOIN new_rows n ON o.{q(o.key)} = n.{q(n.key)}")
            total = con.execute("SELECT count(*) FROM leads").fetchall()[0][0]
            cells = con.execute(" UNION ALL ".join(f"SELECT {i} AS i, o{i} AS a, n{i} AS b, count(*) AS c FROM leads GROUP BY ALL" for i in range(len(outputs))) or "SELECT 0, '', '', 0 WHERE false").fetchall()
            stats = _score_stats(con, scores, scored_by) if scores else {}
            both = [i for i, out in enumerate(outputs) if out in has["old"] and out in has["new"]]
            changed = " OR ".join(f"o{i} IS DISTINCT FROM n{i}" for i in both) or "false"
            con.execute(f"CREATE TEMP TABLE moved AS SELECT * FROM leads WHERE {changed}")
            moved_count = con.execute("SELECT count(*) FROM moved").fetchall()[0][0]
        # the explanation rows, of the moved leads only: the rules whose firing changed for them
        for name, side in sides.items():
            with step(f"explaining the {moved_count} moved leads with {side.spec}"):
                _explain(con, side, name, tables[name], shared.get(name), data, as_of)
        with step("finding the rules that moved each lead"):
            firing = ("SELECT w.{k} AS key, w.component, w.kind, w.rule, w.points FROM {t} w SEMI JOIN moved m ON w.{k} = m.key")
            rows = con.execute(f"""
                WITH a AS ({firing.format(k=q(o.key), t='old_why')}), b AS ({firing.format(k=q(n.key), t='new_why')}),
                changed AS (
                    SELECT coalesce(a.key, b.key) AS key, coalesce(a.component, b.component) || '.' || coalesce(a.rule, b.rule) AS what
                    FROM a FULL JOIN b ON a.key = b.key AND a.component = b.component AND a.kind = b.kind AND a.rule = b.rule
                    WHERE a.key IS NULL OR b.key IS NULL OR a.points IS DISTINCT FROM b.points),
                rules AS (SELECT key, list_sort(list_distinct(list(what))) AS rules FROM changed GROUP BY key)
                SELECT m.*, coalesce(r.rules, []) AS rules FROM moved m LEFT JOIN rules r USING (key)
                ORDER BY m.key {'' if limit is None else f'LIMIT {int(limit)}'}""").fetchall()
            names = [d[0] for d in con.description]
    finally:
        con.close()

    result = {
        "old": {"policy": old.spec, "label": o.label},
        "new": {"policy": new.spec, "label": n.label},
        "as_of": as_of.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z"),
        "leads": total,
        "moved_count": moved_count,
        "outputs": {},
        "scores": stats,
        "moved": [],
    }
    for i, out in enumerate(outputs):
        before = dict.fromkeys(_labels(o, out), 0) if out in has["old"] else {}
        after = dict.fromkeys(_labels(n, out), 0) if out in has["new"] else {}
        pairs = {(a, b): c for k, a, b, c in cells if k == i}
        for (a, b), c in pairs.items():
            if a is not None:
                before[a] = before.get(a, 0) + c
            if b is not None:
                after[b] = after.get(b, 0) + c
        rank_a = {label: r for r, label in enumerate(before)}
        rank_b = {label: r for r, label in enumerate(after)}
        order = sorted(pairs, key=lambda p: (p[0] is not None, rank_a.get(p[0], -1), p[1] is not None, rank_b.get(p[1], -1)))
        result["outputs"][out] = {
            "in": [s for s in ("old", "new") if out in has[s]],
            "before": before,
            "after": after,
            "changed": sum(c for (a, b), c in pairs.items() if a != b) if i in both else 0,
            "transitions": [{"from": a, "to": b, "count": pairs[(a, b)]} for a, b in order],
        }
    for row in rows:
        r = dict(zip(names, row))
        changes = {outputs[i]: [r[f"o{i}"], r[f"n{i}"]] for i in both if r[f"o{i}"] != r[f"n{i}"]}
        result["moved"].append({"key": r["key"], "changes": changes, "rules": list(r["rules"])})
    return result


@dataclass
class _Source:
    """One data file registered for the diff: the columns it is checked for, and the policies reading it."""

    name: str
    path: Path
    cols: list
    key: str | None
    table: str


def _register_both(con, old: Side, new: Side, data: Path) -> dict[str, dict[str, str]]:
    """Check and register the data files once for both policies: {"old"|"new": {source: relation}}.

    A source both policies declare alike — the same file, the same key, and every
    column both name of the same type — is registered once with the union of their
    columns (the usual case: a policy change rarely touches the sources); any other
    gets a relation of its own. On a bad file, each policy's sources are checked
    alone, in order, so the error is the one scoring OLD, then NEW, would report.
    """
    from leadlang.io import _sources, register_source

    con.execute("SET TimeZone = 'UTC'")
    try:
        found = {name: list(_sources(s.policy.leads, s.policy.accounts, list(s.policy.events.values()), data))
                 for name, s in (("old", old), ("new", new))}
        merged: list[_Source] = []
        use: dict[str, dict[str, _Source]] = {"old": {}, "new": {}}
        for side, sources in found.items():
            for name, path, cols, key in sources:
                src = next((m for m in merged if m.name == name and _fits(m, path, cols, key)), None)
                if src is None:
                    src = _Source(name, path, [], key, f"__src_{name}" if all(m.name != name for m in merged) else f"__src_{side}_{name}")
                    merged.append(src)
                by_name = {c.name: i for i, c in enumerate(src.cols)}
                for c in cols:
                    if c.name not in by_name:
                        src.cols.append(c)
                    elif c.required and not src.cols[by_name[c.name]].required:
                        src.cols[by_name[c.name]] = c
                use[side][name] = src
        relations = {id(src): register_source(con, src.path, src.cols, src.key, src.table) for src in merged}
        return {side: {name: relations[id(src)] for name, src in sources.items()} for side, sources in use.items()}
    except DataError as shared:
        _check_alone(old, new, data)
        raise DataError(f"{old.spec}: {shared}") from None


def _fits(src: _Source, path: Path, cols: list, key: str | None) -> bool:
    """Whether a source can be registered as `src` too: same file and key, no column of another type."""
    if src.path != path or (src.key is None) != (key is None) or (key is not None and src.cols[0].name != cols[0].name):
        return False
    types = {c.name: c.type for c in src.cols}
    return all(types.get(c.name, c.type) == c.type for c in cols)


def _check_alone(old: Side, new: Side, data: Path) -> None:
    """Each policy's sources checked on their own, OLD first: raises the error scoring that policy would."""
    import duckdb

    from leadlang.io import register_dataset

    for side in (old, new):
        con = duckdb.connect()
        try:
            p = side.policy
            register_dataset(con, p.leads, p.accounts, list(p.events.values()), data)
        except DataError as err:
            raise DataError(f"{side.spec}: {err}") from None
        finally:
            con.close()


def _plan(side: Side, tables: dict[str, str], as_of: dt.datetime):
    from leadlang.engine import relations_for
    from leadlang.sql import plan

    return plan(side.policy, "duckdb", as_of, relations_for(side.policy, tables))


_SCAN_FIELDS = {"name", "relation", "columns", "by_lead", "by_account"}  # what `_share_aggregates` merges


def _share_aggregates(con, plans: dict) -> dict:
    """Both policies' event aggregates computed in one pass over each event source, into the temp
    table `__diff_aggs` (one row per lead); returns each side's plan reading its aggregates from there.

    The aggregates statement is itself a compiled plan: the events scans of both plans merged (a
    source read alike by both is scanned once, and an aggregate both compute, the same SQL, is one
    column), no value layers, the aggregates as outputs. Each side's plan then reads the leads
    joined with their aggregates and scans no events. Returns {} — each plan runs whole — when the
    two read different leads relations, or anything of this does not apply or fails.
    """
    import duckdb

    from leadlang.sql import render
    from leadlang.sql.compiler import ACCOUNT, KEY, EventScan

    po, pn = plans["old"], plans["new"]
    ident = lambda p: (p.leads_relation, [c for c in p.lead_columns if c[0] in (KEY, ACCOUNT)], p.params)
    if ident(po) != ident(pn) or not (po.scans or pn.scans) or {f.name for f in fields(EventScan)} != _SCAN_FIELDS:
        return {}  # (an events scan with more to it than this merges: each plan runs whole, still right)
    q = po.dialect.ident
    scans: list[EventScan] = []
    staged: list[tuple[str, str]] = []  # (column of __diff_aggs, SQL over the merged plan's __base)
    refs: dict[str, dict[str, str]] = {}  # side -> {the side's reference to an aggregate: the staged column}
    for side, p in plans.items():
        refs[side] = {}
        for scan in p.scans:
            target = next((s for s in scans if s.relation == scan.relation and s.columns == scan.columns), None)
            if target is None:
                taken, name = {s.name for s in scans}, scan.name
                while name in taken:  # a source both read, differently: its own scan (and CTE names)
                    name += f"__{side}"
                target = EventScan(name, scan.relation, list(scan.columns))
                scans.append(target)
            for kind, alias in (("by_lead", "ag"), ("by_account", "aa")):
                merged = getattr(target, kind)
                for column, sql in getattr(scan, kind):
                    hit = next((c for c, s in merged if s == sql), None)
                    if hit is None:
                        hit = f"__agg{len(staged) + 1}"
                        merged.append((hit, sql))
                        staged.append((f"__diff_{hit}", f"{q(alias + '_' + target.name)}.{q(hit)}"))
                    refs[side][f"{q(alias + '_' + scan.name)}.{q(column)}"] = f"__diff_{hit}"
    sides = {}
    for side, p in plans.items():
        base = []
        for column, sql in p.base_columns:
            found = [r for r in refs[side] if r in sql]
            if len(found) != 1:
                return {}  # not the shape this expects: run each plan whole
            base.append((column, sql.replace(found[0], f"l.{q(refs[side][found[0]])}")))
        view = f"__diff_leads_{side}"
        used = sorted(set(refs[side].values()))
        sides[side] = (view, used, replace(p, leads_relation=q(view), lead_columns=p.lead_columns + [(c, q(c)) for c in used],
                                           scans=[], base_columns=base))
    aggs = replace(po, lead_columns=[c for c in po.lead_columns if c[0] in (KEY, ACCOUNT)], accounts_relation=None,
                   account_columns=[], scans=scans, base_columns=staged, layers=[], explain=[],
                   outputs=[(KEY, q(KEY))] + [(c, q(c)) for c, _ in staged])
    try:
        con.execute(f"CREATE TEMP TABLE __diff_aggs AS {render(aggs)}")
        key = po.lead_columns[0][1]  # the lead key as text, over the leads relation
        for side, (view, used, _) in sides.items():
            cols = "".join(f", g.{q(c)}" for c in used)
            con.execute(f"CREATE TEMP VIEW {q(view)} AS SELECT l.*{cols} FROM {po.leads_relation} l "
                        f"LEFT JOIN __diff_aggs g ON g.{q(KEY)} = {key}")
    except (duckdb.Error, RuntimeError) as err:
        from leadlang.interrupt import reraise

        reraise(err)  # Ctrl-C; anything else: each plan run whole says which policy and why
        return {}
    return {side: p for side, (_, _, p) in sides.items()}


def _run_side(con, side: Side, what: str, plan, data: Path, as_of: dt.datetime, target: str) -> None:
    """`CREATE TEMP TABLE target` from the side's `score` or `explain` statement of `plan`."""
    import duckdb

    from leadlang.engine import _out_of_range, _query_error
    from leadlang.interrupt import reraise
    from leadlang.sql import DIALECTS, render

    try:
        con.execute(f"CREATE TEMP TABLE {DIALECTS['duckdb'].ident(target)} AS {render(plan, what)}")
    except (duckdb.Error, RuntimeError) as err:
        reraise(err)  # or Ctrl-C
        if isinstance(err, (duckdb.OutOfRangeException, duckdb.ConversionException)):
            found = _out_of_range(side.policy, data, as_of, err)
        else:
            found = _query_error(err) if what == "score" else DataError(
                f"the DuckDB engine could not explain the moved leads: {str(err).splitlines()[0]}")
        raise DataError(f"{side.spec}: {found}") from None


def _explain(con, side: Side, name: str, tables: dict[str, str], shared, data: Path, as_of: dt.datetime) -> None:
    """The explanation rows of the moved leads (table `moved`) with one policy, as the temp table `<name>_why`.

    The leads are cut down to the moved ones first. With the aggregates shared
    (`shared`, the side's plan over `__diff_aggs`) no events are read again.
    Otherwise, without an accounts source, the events are cut down likewise; with
    one, `by account` aggregates pool colleagues' events, so nothing is cut.
    """
    from leadlang.sql import DIALECTS

    q = DIALECTS["duckdb"].ident
    policy = side.policy
    if not con.execute("SELECT count(*) FROM moved").fetchall()[0][0]:
        con.execute(f"CREATE TEMP TABLE {q(name + '_why')} AS SELECT NULL::VARCHAR AS {q(policy.key)}, NULL::VARCHAR AS component, "
                    "NULL::VARCHAR AS kind, NULL::VARCHAR AS rule, NULL::DECIMAL(38, 2) AS points WHERE false")
        return
    if shared is not None:
        view = f"__moved_{name}_leads"
        con.execute(f"CREATE TEMP VIEW {q(view)} AS SELECT * FROM {shared.leads_relation} "
                    f"WHERE {q(policy.key)} IN (SELECT key FROM moved)")
        _run_side(con, side, "explain", replace(shared, leads_relation=q(view)), data, as_of, f"{name}_why")
        return
    if policy.accounts is None:
        lead_column = {"leads": policy.key, **{source: ev.lead or "lead" for source, ev in policy.events.items()}}
        tables = dict(tables)
        for source, column in lead_column.items():
            view = f"__moved_{name}_{source}"
            con.execute(f"CREATE TEMP VIEW {q(view)} AS SELECT * FROM {q(tables[source])} "
                        f"WHERE {q(column)} IN (SELECT key FROM moved)")
            tables[source] = view
    _run_side(con, side, "explain", _plan(side, tables, as_of), data, as_of, f"{name}_why")


def _score_stats(con, scores: list[str], has: dict) -> dict:
    """Mean and quartiles of each score before and after; None for a side without the score."""
    parts = []
    for j in range(len(scores)):
        for side in ("o", "n"):
            c = f"{side}s{j}"
            parts.append(f"sum({c}), count({c}), quantile_cont({c}::DECIMAL(38, 4), [0.25, 0.5, 0.75])")
    row = con.execute(f"SELECT {', '.join(parts)} FROM leads").fetchall()[0]
    out = {}
    for j, sc in enumerate(scores):
        entry = {}
        for k, (side, present) in enumerate((("before", "old"), ("after", "new"))):
            total, count, quarts = row[6 * j + 3 * k: 6 * j + 3 * k + 3]
            if sc not in has[present] or not count:
                entry[side] = None
                continue
            mean = (Decimal(total) / count).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
            entry[side] = {"mean": _num(mean), **{name: _num(v) for (name, _), v in zip(QUARTILES, quarts)}}
        out[sc] = entry
    return out


def _num(d: Decimal) -> int | float:
    d = Decimal(d).normalize()
    return int(d) if d == d.to_integral_value() else float(d)


# -------------------------------------------------------------- rendering --

def _label(x: str | None) -> str:
    return "(absent)" if x is None else x


def _grid(entry: dict) -> list[list[str]]:
    """The transition matrix as rows of cells: a header, one row per old label, a total row."""
    counts = {(t["from"], t["to"]): t["count"] for t in entry["transitions"]}
    froms = list(entry["before"]) or [None]
    tos = list(entry["after"]) or [None]
    froms += [a for a, _ in counts if a not in froms]
    tos += [b for _, b in counts if b not in tos]
    rows = [["old \\ new", *map(_label, tos), "before"]]
    for a in froms:
        rows.append([_label(a), *(str(counts.get((a, b), 0) or "·") for b in tos), str(sum(counts.get((a, b), 0) for b in tos))])
    rows.append(["after", *(str(sum(counts.get((a, b), 0) for a in froms)) for b in tos), str(sum(counts.values()))])
    return rows


def _pct(n: int, total: int) -> str:
    return f"{100 * n / total:.1f}%" if total else "0.0%"


def _stat(entry: dict | None, name: str) -> str:
    return "—" if entry is None else f"{entry[name]:g}"


def _change(a: dict | None, b: dict | None, name: str) -> str:
    x, y = _stat(a, name), _stat(b, name)
    return x if x == y else f"{x} → {y}"


def _moves(m: dict) -> str:
    return ", ".join(f"{out} {_label(a)} → {_label(b)}" for out, (a, b) in m["changes"].items())


def render_text(d: dict, limit: int = 20) -> str:
    out = [
        f"diff {d['old']['policy']} ({d['old']['label']}) → {d['new']['policy']} ({d['new']['label']})",
        f"{d['leads']} leads as of {d['as_of']}; {d['moved_count']} moved ({_pct(d['moved_count'], d['leads'])})",
    ]
    for name, e in d["outputs"].items():
        only = "" if len(e["in"]) == 2 else f" (only in {e['in'][0]})"
        out += ["", f"{name}: {e['changed']} leads changed{only}"]
        grid = _grid(e)
        widths = [max(len(r[i]) for r in grid) for i in range(len(grid[0]))]
        out += ["  " + "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in grid]
    if d["scores"]:
        out += ["", "scores (before → after)"]
        for sc, e in d["scores"].items():
            out.append(f"  {sc}: " + ", ".join(f"{k} {_change(e['before'], e['after'], k)}" for k in ("mean", "q1", "median", "q3")))
    if d["moved"]:
        shown = d["moved"][:limit]
        out += ["", f"moved leads ({'first ' + str(len(shown)) + ' of ' if len(shown) < d['moved_count'] else ''}{d['moved_count']}, by key)"]
        for m in shown:
            out.append(f"  {m['key']}  {_moves(m)}" + (f"  [{', '.join(m['rules'])}]" if m["rules"] else ""))
    return "\n".join(out)


def _md(text: str) -> str:
    """A table cell: pipes and HTML escaped, so a lead key cannot break the table."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("|", "\\|").replace("\n", " ")


def _table(rows: list[list[str]], right: int = 99) -> list[str]:
    """A markdown table; the columns from the second to `right` (counts) are right-aligned."""
    head, *body = rows
    rule = ["---:" if 0 < i <= right else "---" for i in range(len(head))]
    return ["| " + " | ".join(map(_md, r)) + " |" for r in (head, rule, *body)]


def render_markdown(d: dict, limit: int = 20) -> str:
    """A pull-request comment: summary first, details folded."""
    total = d["leads"]
    out = [
        "### leadlang diff",
        "",
        (f"`{d['old']['policy']}` ({_md(d['old']['label'])}) → `{d['new']['policy']}` ({_md(d['new']['label'])}), "
         f"{total} leads as of {d['as_of']}"),
        "",
        f"**{d['moved_count']} of {total} leads moved** ({_pct(d['moved_count'], total)})." if d["moved_count"] else "**No lead moved.**",
        "",
    ]
    rows = [["output", "leads changed", "labels (before → after)"]]
    for name, e in d["outputs"].items():
        labels = list(e["before"]) + [x for x in e["after"] if x not in e["before"]]
        shift = ", ".join(f"{x} {e['before'].get(x, '—')} → {e['after'].get(x, '—')}" for x in labels
                          if e["before"].get(x) != e["after"].get(x))
        only = "" if len(e["in"]) == 2 else f" (only in {e['in'][0]})"
        rows.append([f"{name}{only}", str(e["changed"]), shift or "no change"])
    out += _table(rows, right=1)
    for name, e in d["outputs"].items():
        out += ["", f"<details{' open' if e['changed'] else ''}><summary><code>{_md(name)}</code>: {e['changed']} leads changed</summary>", ""]
        out += _table(_grid(e))
        out += ["", "</details>"]
    if d["scores"]:
        out += ["", "#### Scores", ""]
        rows = [["score", "mean", "q1", "median", "q3"]]
        rows += [[sc, *(_change(e["before"], e["after"], k) for k in ("mean", "q1", "median", "q3"))] for sc, e in d["scores"].items()]
        out += _table(rows)
    if d["moved"]:
        shown = d["moved"][:limit]
        what = f"first {len(shown)} of {d['moved_count']}" if len(shown) < d["moved_count"] else f"all {d['moved_count']}"
        out += ["", f"<details><summary>Moved leads ({what}, by key)</summary>", ""]
        rows = [["lead", "changes", "rules whose firing changed"]]
        rows += [[m["key"], _moves(m), ", ".join(m["rules"]) or "—"] for m in shown]
        out += _table(rows, right=0)
        out += ["", "</details>"]
    out += ["", "<sub>quartiles: DuckDB <code>quantile_cont</code> (linear interpolation); rules: <code>score.rule</code>, gates <code>disqualify.gate</code>, members <code>criteria.member</code></sub>"]
    return "\n".join(out) + "\n"
