"""leadlang: qualification-as-code. One public function per stage.

    parse(text, path)            text -> syntax tree           (leadlang.syntax)
    load(path) / check_module    syntax tree -> checked Policy (leadlang.check)
    evaluate(policy, ...)        Policy + rows -> scored rows  (leadlang.interpret)
    run_tests(policy)            the policy's `test` blocks    (leadlang.testing)
"""

__version__ = "0.1.0"

from leadlang.check import Policy, check_module, load
from leadlang.diagnostics import DataError, Diagnostic, LeadError
from leadlang.interpret import evaluate
from leadlang.syntax import parse, parse_file
from leadlang.testing import run_tests

__all__ = ["DataError", "Diagnostic", "LeadError", "Policy", "check_module", "evaluate", "load", "parse", "parse_file", "run_tests"]
