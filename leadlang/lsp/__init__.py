"""The language server (`leadlang lsp`): editor features on the checker, the linter and the formatter.

`server` holds the pygls server and pushes diagnostics; `documents` the open buffers and their
analysis per version; `positions` converts spans to the client's positions; each other module
adds its features with `register(server)`. pygls is imported only here, never on `check`'s path.
"""
