"""`leadlang lsp`: the language server, on pygls.

The server holds the open documents (`documents.Documents`) and pushes diagnostics on open,
change and save: exactly what `leadlang check` and `leadlang lint` say of the text the editor
holds. Each feature module has a `register(server)` that adds its handlers: `navigation`
(hover, definition, references, rename), `outline` (symbols, folding, formatting), and
`completion`, `semantic`, `actions`, `commands`.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer

from leadlang import __version__
from leadlang.codes import help_url
from leadlang.diagnostics import DataError, Diagnostic
from leadlang.lsp.documents import Analysis, Documents, resolved, uri_to_path
from leadlang.lsp.positions import Lines

LINT_INLINE = 0.05
"""A document whose last lint took less than this (seconds) is linted with each edit, before its diagnostics go out."""
LINT_PAUSE = 0.25
"""Else it is linted in a worker once the edits pause this long; until then its previous findings stand."""

SEVERITY = {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning, "hint": T.DiagnosticSeverity.Hint}


class LeadServer(LanguageServer):
    """The language server: pygls's, with the open documents and the lint settings of each project."""

    def __init__(self) -> None:
        super().__init__("leadlang", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.documents = Documents()
        self._lint_seconds: dict[str, float] = {}  # how long the last lint of each document took
        self._lint_timers: dict[str, asyncio.TimerHandle] = {}
        self._findings: dict[str, list[Diagnostic]] = {}  # each document's last lint findings
        self._published: dict[str, dict[str, list[T.Diagnostic]]] = {}  # source document -> target URI -> its diagnostics
        self._pending: dict[str, asyncio.Handle] = {}

    # ------------------------------------------------------------------- lint --
    def _settings(self, policy):
        """The project's `[tool.leadlang.lint]` settings for a policy (the defaults, said once in the log, if they are broken)."""
        from leadlang.lint import all_rules
        from leadlang.lint.config import Settings, load_settings

        try:
            return load_settings(Path(policy.path), list(all_rules()))
        except DataError as err:
            self.window_log_message(T.LogMessageParams(type=T.MessageType.Warning, message=f"lint settings: {err}"))
            return Settings()

    def _lint(self, uri: str, analysis: Analysis, settings) -> None:
        """Lint a checked analysis (in the server's thread or a worker), and remember how long it took."""
        from leadlang.lint import lint

        start = time.perf_counter()
        Documents.lint(analysis, lambda policy: lint(policy, settings))
        self._lint_seconds[uri] = time.perf_counter() - start

    def _lint_later(self, uri: str, analysis: Analysis) -> None:
        """Lint in a worker thread once the edits pause; publish again if the text is still the one linted."""
        timer = self._lint_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        loop = asyncio.get_running_loop()

        def start() -> None:
            self._lint_timers.pop(uri, None)
            if self.documents.cached(uri) is not analysis:
                return  # edited meanwhile: that edit scheduled its own
            settings = self._settings(analysis.policy)
            done = loop.run_in_executor(None, self._lint, uri, analysis, settings)
            done.add_done_callback(lambda f: finished(f))

        def finished(f) -> None:
            if f.exception() is not None:
                self.window_log_message(T.LogMessageParams(type=T.MessageType.Error, message=f"lint failed: {f.exception()}"))
            elif self.documents.cached(uri) is analysis:
                self.publish(uri)

        self._lint_timers[uri] = loop.call_later(LINT_PAUSE, start)

    # ------------------------------------------------------------ positions --
    @property
    def encoding(self) -> str:
        return self.workspace.position_encoding or T.PositionEncodingKind.Utf16

    def lines(self, path: str, analysis: Analysis | None = None) -> Lines:
        """The lines of a file as the server sees it: an open buffer, a checked policy's text, else the disk."""
        text = None
        if analysis is not None:
            if path == analysis.path:
                text = analysis.text
            else:
                policy = analysis.policy or analysis.last_good
                text = policy.texts.get(path) if policy is not None else None
        if text is None:
            text = self.documents.text(self.documents.uri_of(path))
        if text is None:
            try:
                text = Path(path).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
        return Lines(text, self.encoding)

    # ------------------------------------------------------------ diagnostics --
    def to_lsp(self, d: Diagnostic, lines: Lines) -> T.Diagnostic:
        """One diagnostic as the client shows it: the CLI's code, severity, message and hints, and its docs page."""
        message = "\n".join([d.message, *(f"hint: {h}" for h in d.hints)])
        return T.Diagnostic(
            range=lines.range(d.span), message=message, severity=SEVERITY.get(d.severity, T.DiagnosticSeverity.Error),
            code=d.code, code_description=T.CodeDescription(href=help_url(d.code)), source="leadlang",
        )

    def publish(self, uri: str) -> None:
        """Analyse one document and push its diagnostics, those in `use`d files to their own URIs.

        A `use`d file open in the editor says nothing of its own: the open policy that uses it
        says what is wrong in it (a used file is not checked alone)."""
        root = self.documents.opener(uri) or uri
        used = [u for u in self.documents.buffers if u != root and self.documents.opener(u) == root]
        for u in used:
            self._published[u] = {}
        self._publish_one(root, used)

    def _publish_one(self, uri: str, used: list[str] = ()) -> None:
        analysis = self.documents.analysis(uri)
        if analysis is None:
            return
        by_uri: dict[str, list[T.Diagnostic]] = {uri: [], **{u: [] for u in used}}
        elsewhere: dict[str, list[Diagnostic]] = {}
        for d in [*analysis.diagnostics, *self._lint_findings(uri, analysis)]:
            if d.span.file in (analysis.path, "<unknown>"):
                by_uri[uri].append(self.to_lsp(d, self.lines(analysis.path, analysis)))
            else:
                target = self.documents.uri_of(d.span.file)
                by_uri.setdefault(target, []).append(self.to_lsp(d, self.lines(d.span.file, analysis)))
                elsewhere.setdefault(d.span.file, []).append(d)
        by_uri[uri].extend(self._on_use_lines(analysis, elsewhere))
        previous = self._published.get(uri, {})
        self._published[uri] = by_uri
        for target in dict.fromkeys([*by_uri, *previous]):
            self._push(target)

    def _lint_findings(self, uri: str, analysis: Analysis) -> list[Diagnostic]:
        """The lint findings to show with a policy that checks: linted now when that was quick last time,
        else the previous findings until a worker has linted this text (`_lint_later`)."""
        if analysis.policy is None:
            return []
        if analysis.findings is None:
            try:
                asyncio.get_running_loop()
                quick = self._lint_seconds.get(uri, 0.0) < LINT_INLINE
            except RuntimeError:
                quick = True
            if quick:
                self._lint(uri, analysis, self._settings(analysis.policy))
            else:
                self._lint_later(uri, analysis)
                return self._findings.get(uri, [])
        self._findings[uri] = analysis.findings
        return analysis.findings

    def _on_use_lines(self, analysis: Analysis, elsewhere: dict[str, list[Diagnostic]]) -> list[T.Diagnostic]:
        """For the errors in `use`d files: one diagnostic on the opener's `use` line that leads to them."""
        from leadlang.syntax import ast as A

        if not elsewhere or analysis.module is None:
            return []
        lines = self.lines(analysis.path, analysis)
        out = []
        uses = [d for d in analysis.module.decls if isinstance(d, A.Use)]
        for file, found in elsewhere.items():
            target = resolved(file)
            use = next((u for u in uses if resolved(str(Path(analysis.path).parent / u.path)) == target), uses[0] if uses else None)
            if use is None:
                continue
            first = found[0]
            errors = sum(d.is_error for d in found)
            noun = f"{errors} error{'s' if errors != 1 else ''}" if errors else f"{len(found)} finding{'s' if len(found) != 1 else ''}"
            out.append(T.Diagnostic(
                range=lines.range(use.span), severity=SEVERITY["error" if errors else first.severity], code=first.code,
                code_description=T.CodeDescription(href=help_url(first.code)), source="leadlang",
                message=f"{noun} in {Path(file).name}: {first.message}",
                related_information=[T.DiagnosticRelatedInformation(
                    location=T.Location(uri=self.documents.uri_of(d.span.file), range=self.lines(d.span.file, analysis).range(d.span)),
                    message=d.message) for d in found],
            ))
        return out

    def _push(self, target: str) -> None:
        """Publish everything any open document says about `target`."""
        merged: list[T.Diagnostic] = []
        seen = set()
        for source in self._published.values():
            for d in source.get(target, ()):
                key = (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, d.code, d.message)
                if key not in seen:
                    seen.add(key)
                    merged.append(d)
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=target, diagnostics=merged))

    def schedule(self, uri: str) -> None:
        """Publish `uri`'s diagnostics, and those of the open documents that `use` it, once the queued edits are read.

        Each policy is published once per edit: a `use`d file through the policy that opens it."""
        roots = dict.fromkeys(self.documents.opener(u) or u for u in [uri, *self.documents.users_of(uri)])
        for target in roots:
            pending = self._pending.pop(target, None)
            if pending is not None:
                pending.cancel()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.publish(target)
                continue
            self._pending[target] = loop.call_soon(self._publish_pending, target)

    def _publish_pending(self, uri: str) -> None:
        self._pending.pop(uri, None)
        self.publish(uri)

    def forget(self, uri: str) -> None:
        """A document closed: drop what it said, everywhere."""
        said = self._published.pop(uri, {})
        self.documents.close(uri)
        self._findings.pop(uri, None)
        timer = self._lint_timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        for target in said:
            self._push(target)



def create() -> LeadServer:
    """The server with every feature registered."""
    server = LeadServer()

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LeadServer, params: T.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        ls.documents.update(doc.uri, doc.version, ls.workspace.get_text_document(doc.uri).source)
        ls.schedule(doc.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LeadServer, params: T.DidChangeTextDocumentParams) -> None:
        doc = params.text_document
        ls.documents.update(doc.uri, doc.version, ls.workspace.get_text_document(doc.uri).source)
        ls.schedule(doc.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LeadServer, params: T.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)  # the buffer is the text already; settings may have changed on disk

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LeadServer, params: T.DidCloseTextDocumentParams) -> None:
        ls.forget(params.text_document.uri)

    from leadlang.lsp import actions, commands, completion, navigation, outline, semantic

    for module in (navigation, outline, completion, semantic, actions, commands):
        module.register(server)
    return server


def serve() -> None:
    """Run the server over standard input and output until the client says exit.

    The protocol gets its own copy of standard output; `sys.stdout` becomes standard error while
    the server runs, so a stray print can never corrupt the stream."""
    import os
    import sys

    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr
    create().start_io(sys.stdin.buffer, out)


__all__ = ["LeadServer", "create", "serve", "uri_to_path"]
