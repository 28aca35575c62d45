"""leadlang: qualification-as-code. One public function per stage.

    parse(text, path)            text -> syntax tree           (leadlang.syntax)
    load(path) / check_module    syntax tree -> checked Policy (leadlang.check)
    evaluate(policy, ...)        Policy + rows -> scored rows  (leadlang.interpret)
    run_tests(policy)            the policy's `test` blocks    (leadlang.testing)
    to_sql(policy, dialect)      Policy -> one SQL statement   (leadlang.sql)
    lint(policy)                 Policy -> lint findings       (leadlang.lint)
    format_source(text)          text -> canonical text        (leadlang.fmt)
"""

__version__ = "0.1.0"

# The public names load on first use, so `leadlang compile` or `check` does not
# import the interpreter, and `import leadlang` stays cheap.
_PUBLIC = {
    "DataError": "leadlang.diagnostics", "Diagnostic": "leadlang.diagnostics", "LeadError": "leadlang.diagnostics",
    "Policy": "leadlang.check", "check_module": "leadlang.check", "load": "leadlang.check",
    "evaluate": "leadlang.interpret", "parse": "leadlang.syntax", "parse_file": "leadlang.syntax",
    "run_tests": "leadlang.testing", "to_sql": "leadlang.sql",
    "lint": "leadlang.lint",
    "format_source": "leadlang.fmt",
}
__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        import importlib

        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'leadlang' has no attribute {name!r}")
