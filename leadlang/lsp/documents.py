"""The editor's open documents: per URI and version the text, its parse, and the checked policy or its diagnostics.

Every open buffer is read before the disk (`fs.Overlay`), so a policy is checked with the unsaved
texts of the files it `use`s. A document is analysed once per version of the open buffers
(`Documents.analysis`), and the last policy that checked is kept for what needs one while the
text is broken (completion while typing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from leadlang.check import Policy, check_module
from leadlang.diagnostics import Diagnostic, LeadError
from leadlang.fs import WORK_TREE, Overlay
from leadlang.span import Span
from leadlang.syntax import ast as A
from leadlang.syntax.parser import parse


def uri_to_path(uri: str) -> str:
    """The file a `file:` URI names (any other scheme: the URI itself, a buffer that is not a file)."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return uri
    path = unquote(parsed.path)
    if len(path) >= 3 and path[0] == "/" and path[2] == ":":  # file:///C:/...
        path = path[1:]
    return str(Path(path))


def path_to_uri(path: str) -> str:
    return "file://" + quote(Path(path).resolve().as_posix() if not path.startswith("/") else Path(path).as_posix())


@dataclass
class Analysis:
    """One document at one version of the open buffers: what the editor features read."""

    uri: str
    path: str
    version: int | None
    text: str
    module: A.Module | None = None  # None: it does not parse
    policy: Policy | None = None  # None: it has errors (`diagnostics`)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # the check's errors, any file's
    last_good: Policy | None = None  # the newest policy of this document that checked (this one, if it does)
    findings: list[Diagnostic] | None = None  # lint's, once it has run on `policy` (`Documents.lint`)


@dataclass
class _Buffer:
    uri: str
    path: str
    version: int | None
    text: str


class Documents:
    """The open buffers, and each one's analysis cached until a buffer changes.

    An analysis is the parse and the check; `lint(policy)` (the server's, with the project's
    settings) gives a checked policy's findings, run apart because it may take much longer."""

    def __init__(self):
        self.buffers: dict[str, _Buffer] = {}
        self.generation = 0  # bumped by every open, change and close: a cached analysis is of one generation
        self._cache: dict[str, tuple[int, Analysis]] = {}
        self._last_good: dict[str, Policy] = {}
        self._chunks: dict[str, dict] = {}  # per document, the chunks of its last parse (`parser.parse`'s `reuse`)

    # ------------------------------------------------------------------ buffers --
    def update(self, uri: str, version: int | None, text: str) -> None:
        """A buffer opened or changed (the whole new text)."""
        self.buffers[uri] = _Buffer(uri, uri_to_path(uri), version, text)
        self.generation += 1

    def close(self, uri: str) -> None:
        self.buffers.pop(uri, None)
        self._cache.pop(uri, None)
        self._last_good.pop(uri, None)
        self._chunks.pop(uri, None)
        self.generation += 1

    def text(self, uri: str) -> str | None:
        b = self.buffers.get(uri)
        return b.text if b is not None else None

    def overlay(self) -> Overlay:
        """The disk with every open buffer over it."""
        return Overlay(WORK_TREE, {b.path: b.text for b in self.buffers.values() if b.uri.startswith("file:")})

    def uri_of(self, path: str) -> str:
        """The URI of a file a policy reads: the open buffer's own URI if it is open."""
        for b in self.buffers.values():
            if b.path == path:
                return b.uri
        target = resolved(path)
        for b in self.buffers.values():
            if b.uri.startswith("file:") and resolved(b.path) == target:
                return b.uri
        return path_to_uri(path)

    # ----------------------------------------------------------------- analysis --
    def analysis(self, uri: str) -> Analysis | None:
        """The document's analysis at the current buffers (None: not open)."""
        b = self.buffers.get(uri)
        if b is None:
            return None
        cached = self._cache.get(uri)
        if cached is not None and cached[0] == self.generation:
            return cached[1]
        result = self._analyse(b)
        if result.policy is not None:
            self._last_good[uri] = result.policy
        result.last_good = self._last_good.get(uri)
        self._cache[uri] = (self.generation, result)
        return result

    def cached(self, uri: str) -> Analysis | None:
        """The document's analysis if it is of the current buffers, without analysing anything."""
        cached = self._cache.get(uri)
        return cached[1] if cached is not None and cached[0] == self.generation else None

    def _analyse(self, b: _Buffer) -> Analysis:
        out = Analysis(b.uri, b.path, b.version, b.text)
        text = b.text.removeprefix("\ufeff")
        try:
            out.module = parse(text, b.path, self._chunks.setdefault(b.uri, {}))
            out.policy = check_module(out.module, {b.path: text}, self.overlay())
        except LeadError as err:
            out.diagnostics = list(err.diagnostics)
            return out
        except OSError as err:  # a `use`d file that cannot be read is E308; this is the folder itself
            out.diagnostics = [Diagnostic("E308", "error", f"cannot read the policy's files: {err.strerror or err}", Span(b.path, 1, 1, 1, 1))]
        return out

    @staticmethod
    def lint(analysis: Analysis, run) -> list[Diagnostic]:
        """The lint findings of an analysis that checked, run once (`run(policy)`)."""
        if analysis.findings is None:
            analysis.findings = list(run(analysis.policy)) if analysis.policy is not None else []
        return analysis.findings

    def opener(self, uri: str) -> str | None:
        """The open document that `use`s the file of `uri`, if one does: a used file is read through it, not alone."""
        b = self.buffers.get(uri)
        if b is None or not uri.startswith("file:"):
            return None
        target = resolved(b.path)
        for other in list(self.buffers):
            if other != uri and target in self._used_files(other):
                return other
        return None

    def _used_files(self, uri: str) -> set[str]:
        """The resolved paths of the files the document at `uri` uses (directly, if it does not check)."""
        a = self.analysis(uri)
        policy = a.policy or a.last_good
        found = {resolved(m.path) for m in policy.modules[1:]} if policy is not None else set()
        if a.module is not None:
            found |= {resolved(str(Path(a.path).parent / d.path)) for d in a.module.decls if isinstance(d, A.Use)}
        return found

    def context(self, uri: str) -> Analysis | None:
        """The analysis to read the document at `uri` through: its opener's for a used file, else its own."""
        opener = self.opener(uri)
        return self.analysis(opener if opener is not None else uri)

    def users_of(self, uri: str) -> list[str]:
        """The open documents that `use` the file of `uri` (whose diagnostics a change of it may change)."""
        b = self.buffers.get(uri)
        if b is None:
            return []
        target = resolved(b.path)
        return [other for other in list(self.buffers) if other != uri and target in self._used_files(other)]


def resolved(path: str) -> str:
    """The path with symlinks followed, absolute (as given when that fails): what two names of one file share."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return path
