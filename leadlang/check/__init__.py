"""Resolve names and types of a parsed policy into a checked `Policy`."""

from leadlang.check.checker import check_module, load
from leadlang.check.policy import Output, Policy, Step

__all__ = ["Output", "Policy", "Step", "check_module", "load"]
