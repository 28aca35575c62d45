"""Running a policy's `test` blocks."""

from leadlang.testing.runner import TestResult, run_test, run_tests

__all__ = ["TestResult", "run_test", "run_tests"]
