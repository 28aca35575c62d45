"""The two policies of a diff: each from a file, or from `GIT_REV:path` with its `use`d files from that revision."""

from __future__ import annotations

import posixpath
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from leadlang.check.policy import Policy
from leadlang.diagnostics import DataError, Diagnostic, LeadError
from leadlang.syntax import ast as A


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
