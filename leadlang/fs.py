"""Where policy files are read from: the working tree, a git revision, or texts held in memory over either.

`check.load(path, files=...)` reads a policy and every file it `use`s through one `Files`, and the
text renderer quotes their lines through it (`diagnostics.Sources(files=...)`), so a policy read
from `HEAD~1:p.lead` is checked, confined to its project and shown exactly as one on disk. Paths
are strings in the file system's own spelling: a working-tree path, or `REV:path` for a revision.
"""

from __future__ import annotations

import errno
import posixpath
from pathlib import Path
from typing import Mapping, Protocol

from leadlang.diagnostics import DataError


class Files(Protocol):
    """What reading a policy and confining its `use`s needs of a file system."""

    def read_bytes(self, path: str) -> bytes:
        """The file's bytes; OSError when it cannot be read."""

    def exists(self, path: str) -> bool: ...

    def is_file(self, path: str) -> bool: ...

    def near(self, path: str, used: str) -> str:
        """The path `used` names when written in the file at `path` (relative to that file's folder)."""

    def resolve(self, path: str) -> str:
        """The path with symlinks followed, absolute: what two names of one file share (OSError, RuntimeError)."""

    def project_root(self, path: str) -> str:
        """The resolved folder the files a policy at `path` uses must lie in (`project.project_root`)."""

    def is_inside(self, path: str, root: str) -> bool:
        """Whether the resolved `path` lies in the resolved folder `root`."""

    def shown(self, path: str) -> str:
        """The path as a message names it."""


class WorkTree:
    """The files on disk, as the operating system names them."""

    def read_bytes(self, path: str) -> bytes:
        return Path(path).read_bytes()

    def exists(self, path: str) -> bool:
        return Path(path).exists()

    def is_file(self, path: str) -> bool:
        return Path(path).is_file()

    def near(self, path: str, used: str) -> str:
        return str(Path(path).parent / used)

    def resolve(self, path: str) -> str:
        return str(Path(path).resolve())

    def project_root(self, path: str) -> str:
        from leadlang.project import project_root

        return str(project_root(path))

    def is_inside(self, path: str, root: str) -> bool:
        return Path(path).is_relative_to(root)

    def shown(self, path: str) -> str:
        return Path(path).as_posix()


WORK_TREE = WorkTree()


class Overlay:
    """Texts that are not (or not yet) on disk over another file system: an editor's unsaved buffers.

    A path of the overlay reads as its text and exists as a file; every other path, and every
    question about paths (where a `use` points, the project, what is inside it), goes to `base`.
    """

    def __init__(self, base: Files, texts: Mapping[str, str]):
        self.base = base
        self.texts = {base.resolve(str(p)): text for p, text in texts.items()}

    def _text(self, path: str) -> str | None:
        try:
            return self.texts.get(self.base.resolve(path))
        except (OSError, RuntimeError):
            return None

    def read_bytes(self, path: str) -> bytes:
        text = self._text(path)
        return self.base.read_bytes(path) if text is None else text.encode("utf-8")

    def exists(self, path: str) -> bool:
        return self._text(path) is not None or self.base.exists(path)

    def is_file(self, path: str) -> bool:
        return self._text(path) is not None or self.base.is_file(path)

    def near(self, path: str, used: str) -> str:
        return self.base.near(path, used)

    def resolve(self, path: str) -> str:
        return self.base.resolve(path)

    def project_root(self, path: str) -> str:
        return self.base.project_root(path)

    def is_inside(self, path: str, root: str) -> bool:
        return self.base.is_inside(path, root)

    def shown(self, path: str) -> str:
        return self.base.shown(path)


class GitRevision:
    """The files of one revision of the git repository holding the working directory, named `REV:path`.

    `path` is relative to the repository's root, in `/` spelling; texts come from `git show`, the
    tree from one `git ls-tree`. A symlink in the tree is followed inside it (as `resolve` does
    on disk), so one pointing out of the project is refused like on disk.
    """

    def __init__(self, rev: str):
        if rev.startswith("-"):  # never an option to git
            raise ValueError(f"{rev!r} is not a git revision")
        self.rev = rev
        self._tree: tuple[set[str], set[str], dict[str, str]] | None = None

    def path(self, rel: str) -> str:
        return f"{self.rev}:{rel}"

    def _rel(self, path: str) -> str:
        prefix = f"{self.rev}:"
        return path[len(prefix):] if path.startswith(prefix) else path

    @staticmethod
    def _outside(rel: str) -> bool:
        return rel.startswith("/") or rel == ".." or rel.startswith("../") or "\0" in rel

    def _listing(self) -> tuple[set[str], set[str], dict[str, str]]:
        """(files, folders, symlinks: path -> target) of the revision; all empty when git cannot list it."""
        if self._tree is None:
            files: set[str] = set()
            folders: set[str] = {""}
            links: dict[str, str] = {}
            try:
                out = git("ls-tree", "-r", "-z", "--full-tree", "--end-of-options", self.rev)
            except DataError:
                out = ""
            for entry in filter(None, out.split("\0")):
                meta, _, rel = entry.partition("\t")
                mode, kind, _ = meta.split(" ", 2)
                if kind != "blob":
                    continue  # a submodule
                files.add(rel)
                if mode == "120000":
                    links[rel] = ""
                folder = posixpath.dirname(rel)
                while folder not in folders:
                    folders.add(folder)
                    folder = posixpath.dirname(folder)
            self._tree = (files, folders, links)
        return self._tree

    def _show(self, rel: str, path: str) -> bytes:
        """The blob at `rel` as stored (a symlink's is its target)."""
        if self._outside(rel):
            raise FileNotFoundError(errno.ENOENT, f"{rel} is outside the git repository", path)
        try:
            return git_bytes("show", "--end-of-options", f"{self.rev}:{rel}")
        except DataError as err:
            raise FileNotFoundError(errno.ENOENT, str(err), path) from None

    def read_bytes(self, path: str) -> bytes:
        """The file's bytes, through any symlink to a file of the revision (as reading one on disk does)."""
        rel = self._rel(path)
        if posixpath.normpath(rel) in self._listing()[2]:
            try:
                rel = self._rel(self.resolve(path))
            except RuntimeError:
                raise OSError(errno.ELOOP, "symlink loop", path) from None
        return self._show(rel, path)

    def exists(self, path: str) -> bool:
        rel = self._rel(path)
        files, folders, _ = self._listing()
        return rel in files or rel in folders

    def is_file(self, path: str) -> bool:
        return self._rel(path) in self._listing()[0]

    def near(self, path: str, used: str) -> str:
        return self.path(posixpath.normpath(posixpath.join(posixpath.dirname(self._rel(path)), used)))

    def resolve(self, path: str) -> str:
        rel = posixpath.normpath(self._rel(path))
        links = self._listing()[2]
        for _ in range(40):
            if rel not in links:
                return self.path(rel)
            if not links[rel]:
                links[rel] = self._show(rel, self.path(rel)).decode("utf-8", "surrogateescape")
            rel = posixpath.normpath(posixpath.join(posixpath.dirname(rel), links[rel]))
        raise RuntimeError(f"symlink loop at {self.path(rel)}")

    def project_root(self, path: str) -> str:
        """The folder of the closest `leadlang.toml`, or `pyproject.toml` with a `[tool.leadlang]` table, at the revision, else the policy's."""
        from leadlang.project import configures_leadlang

        start = posixpath.dirname(posixpath.normpath(self._rel(path)))  # the folder holding it, even when it is a symlink
        folder = start
        while True:
            if self.is_file(posixpath.join(folder, "leadlang.toml")):
                return self.path(folder)
            candidate = posixpath.join(folder, "pyproject.toml")
            if self.is_file(candidate):
                try:
                    if configures_leadlang(self.read_bytes(self.path(candidate)).decode("utf-8")):
                        return self.path(folder)
                except (OSError, ValueError):  # unreadable, or not TOML: not a configured project
                    pass
            if folder == "":
                return self.path(start)
            folder = posixpath.dirname(folder)

    def is_inside(self, path: str, root: str) -> bool:
        rel, top = self._rel(path), self._rel(root)
        return not self._outside(rel) and (top == "" or rel == top or rel.startswith(top + "/"))

    def shown(self, path: str) -> str:
        return path


def git_bytes(*args: str) -> bytes:
    """Run git in the working directory; every argument from the user goes after `--end-of-options` (git >= 2.24).

    DataError with git's own message (without its `fatal:`) when git fails or is not installed."""
    import subprocess

    try:
        done = subprocess.run(["git", *args], capture_output=True, check=False)
    except OSError:
        raise DataError("git is not installed; it is needed to read GIT_REV:path") from None
    if done.returncode != 0:
        stderr = done.stderr.decode("utf-8", "replace")
        lines = [line.split(": ", 1)[-1] for line in stderr.strip().splitlines()] or [f"git {args[0]} failed"]
        raise DataError("; ".join(line.rstrip(".") for line in lines))  # fatal: ..., then git's hints
    return done.stdout


def git(*args: str) -> str:
    """`git_bytes` as text."""
    return git_bytes(*args).decode("utf-8")


def locate(spec: str) -> tuple[Files, str]:
    """Where a policy named on the command line is read from: a file of the working tree, or `GIT_REV:path`.

    As in `git show REV:path`, the path is relative to the repository's root, or to the working
    directory when it starts with `./` or `../`. DataError when `spec` names neither.
    """
    if Path(spec).is_file():
        return WORK_TREE, spec
    rev, sep, rel = spec.partition(":")
    if not sep or not rev or not rel:
        raise DataError(f"{spec}: no such file (to read a policy from git, write GIT_REV:path, e.g. origin/main:policies/plg.lead)")
    if rev.startswith("-"):
        raise DataError(f"{_shown(spec)}: not a file, and `{_shown(rev)}` is not a git revision (a revision cannot start with '-')")
    if rel.startswith("/") or "\0" in spec:
        raise DataError(f"{_shown(spec)}: the path after the revision must be relative to the repository (e.g. HEAD:policies/plg.lead)")
    try:
        git("rev-parse", "--show-toplevel")
    except DataError as err:
        raise DataError(f"{spec}: not a file, and not in a git repository to read it from ({err})") from None
    relative = rel.startswith(("./", "../")) or rel in (".", "..")
    prefix = git("rev-parse", "--show-prefix").strip() if relative else ""
    start = posixpath.normpath(posixpath.join(prefix, rel))
    if start.startswith("../"):
        raise DataError(f"{spec}: {rel} is outside the git repository")
    files = GitRevision(rev)
    return files, files.path(start)


def _shown(text: str) -> str:
    return text if len(text) <= 80 else text[:80] + "…"
