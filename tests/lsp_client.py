"""Driving `leadlang lsp` over stdio from tests (pytest-lsp's client): a module-scoped server, documents, edits.

Used by tests/test_lsp_completion.py and tests/test_lsp_actions.py; positions are computed from the
texts, never typed in."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from conftest import _in_ci

try:
    import pytest_lsp
    from lsprotocol import types as T
    from pytest_lsp import ClientServerConfig, LanguageClient
except ImportError as err:  # CI must run these tests: a missing client fails there
    if _in_ci():
        raise
    pytest.skip(f"pytest-lsp is not installed (pip install '.[test]'): {err}", allow_module_level=True)

LOOP = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "leadlang", "lsp"]), scope="module", loop_scope="module")
async def client(lsp_client: LanguageClient):
    lsp_client.initialized = await lsp_client.initialize_session(T.InitializeParams(capabilities=T.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


def position(text: str, offset: int) -> T.Position:
    """The position of an offset (ASCII texts: characters are UTF-16 units)."""
    return T.Position(line=text.count("\n", 0, offset), character=offset - (text.rfind("\n", 0, offset) + 1))


def offset(text: str, p: T.Position) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[:p.line]) + p.character


def apply(text: str, edits: list[T.TextEdit]) -> str:
    """The text with the edits applied, last first."""
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(text, e.range.start)] + e.new_text + text[offset(text, e.range.end):]
    return text


async def published(client: LanguageClient, uri: str, send) -> list[T.Diagnostic]:
    """What the server publishes for `uri` after `send()` (an open or a change)."""
    client.diagnostics.pop(uri, None)
    send()
    async with asyncio.timeout(30):
        while uri not in client.diagnostics:
            await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


async def open_doc(client: LanguageClient, path: Path, text: str) -> list[T.Diagnostic]:
    item = T.TextDocumentItem(uri=path.resolve().as_uri(), language_id="lead", version=1, text=text)
    return await published(client, item.uri, lambda: client.text_document_did_open(T.DidOpenTextDocumentParams(text_document=item)))


async def change(client: LanguageClient, path: Path, text: str, version: int) -> list[T.Diagnostic]:
    params = T.DidChangeTextDocumentParams(
        text_document=T.VersionedTextDocumentIdentifier(uri=path.resolve().as_uri(), version=version),
        content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)])
    return await published(client, path.resolve().as_uri(), lambda: client.text_document_did_change(params))


def close(client: LanguageClient, path: Path) -> None:
    client.text_document_did_close(T.DidCloseTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=path.resolve().as_uri())))
