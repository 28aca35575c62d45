"""The server's commands (`workspace/executeCommand`): `leadlang.showCompiledSql`.

`leadlang.showCompiledSql` takes the document's URI and a dialect (`duckdb` when left out; the
arguments as a list, or one object `{"uri": ..., "dialect": ...}`) and returns exactly what
`leadlang compile POLICY --dialect DIALECT` prints for the text the editor holds: `sql.to_sql`, the
function `compile` calls. A document that does not check gets an error response naming its first error.
"""

from __future__ import annotations

SHOW_COMPILED_SQL = "leadlang.showCompiledSql"
COMMANDS = [SHOW_COMPILED_SQL]


def compiled_sql(server, uri: str, dialect: str = "duckdb") -> str:
    """The SQL of the open document at `uri`, or a JSON-RPC error saying why there is none."""
    from pygls.exceptions import JsonRpcInternalError, JsonRpcInvalidParams

    from leadlang.diagnostics import DataError
    from leadlang.sql import to_sql
    from leadlang.sql.dialects import DIALECTS

    if dialect not in DIALECTS:
        raise JsonRpcInvalidParams(f"unknown dialect {dialect!r}: one of {', '.join(DIALECTS)}")
    analysis = server.documents.analysis(uri)
    if analysis is None:
        raise JsonRpcInvalidParams(f"{uri} is not open")
    if analysis.policy is None:
        first = next((d for d in analysis.diagnostics if d.is_error), None)
        where = f"{first.span.file}:{first.span.line}:{first.span.column}: error[{first.code}]: {first.message}" if first else "it has errors"
        raise JsonRpcInternalError(f"the policy does not compile: {where}")
    try:
        return to_sql(analysis.policy, dialect, None, {}, what="score")
    except DataError as err:
        raise JsonRpcInternalError(str(err)) from None


def _arguments(args: tuple) -> tuple[str, str]:
    from pygls.exceptions import JsonRpcInvalidParams

    if len(args) == 1 and isinstance(args[0], dict):
        args = (args[0].get("uri"), args[0].get("dialect") or "duckdb")
    if not args or not isinstance(args[0], str) or (len(args) > 1 and not isinstance(args[1], str)) or len(args) > 2:
        raise JsonRpcInvalidParams(f"{SHOW_COMPILED_SQL} takes the document's URI and a dialect")
    return args[0], (args[1] if len(args) > 1 else "duckdb")


def register(server) -> None:
    def show_compiled_sql(*args):
        return compiled_sql(server, *_arguments(args))

    server.command(SHOW_COMPILED_SQL)(show_compiled_sql)
