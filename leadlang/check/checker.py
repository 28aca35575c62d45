"""Check a parsed policy: a `Checker` runs its phases, each written in its own module.

declare.py (header, `use`d declarations, sources, names, lets, bands), exprs.py (expression
typing), functions.py (function calls), structure.py (declaration bodies), graph.py (the
dependency graph, its order and cycles), outputs.py (output columns and `test` blocks),
index.py (every occurrence of every name, with its span), uses.py (the files brought in with `use`).
"""

from __future__ import annotations

from pathlib import Path

from leadlang.check.declare import Declarations
from leadlang.check.exprs import Expressions
from leadlang.check.functions import Calls
from leadlang.check.graph import Graph
from leadlang.check.index import Index
from leadlang.check.outputs import Outputs
from leadlang.check.policy import Policy, Ref
from leadlang.check.structure import Structure
from leadlang.check.types import Type
from leadlang.check.uses import resolve_uses
from leadlang.diagnostics import Diagnostic, LeadError
from leadlang.fs import WORK_TREE, Files
from leadlang.syntax import ast as A
from leadlang.syntax.parser import parse_bytes


class Checker(Declarations, Expressions, Calls, Structure, Graph, Outputs, Index):
    """One policy's check: the state its phases share, and `run`, the phases in order."""

    def __init__(self, main: A.Module, used: list[A.Module], texts: dict[str, str]):
        self.main = main
        self.used = used
        self.texts = texts
        self.diags: list[Diagnostic] = []
        self.types: dict[int, Type] = {}
        self.refs: dict[int, Ref] = {}  # id(name occurrence) -> what it refers to
        self.referred: dict[int, tuple[A.Expr, str | None]] = {}  # id(name occurrence) -> (it, the events source of its `where`)
        self.aggregates: dict[int, A.Aggregate] = {}  # id(aggregate) -> it
        self.label_literals: dict[int, tuple[A.Literal, Ref]] = {}  # id(string compared with a label) -> (it, the label)
        self.names: dict[str, tuple[str, A.Span]] = {}  # every declared name -> (what, where)
        self.deps: set[tuple[str, str]] = set()
        self.scope = "policy"
        self.event_source: A.Events | None = None
        self.signal_info: dict[str, tuple[Type, set]] = {}
        self.unknown: dict[tuple[str, str], tuple[int, list[int]]] = {}  # (file, name) -> its E201's index, the other lines using it

    def error(self, code: str, message: str, span: A.Span, *hints: str) -> None:
        diag = Diagnostic(code, "error", message, span, tuple(h for h in hints if h))
        if diag not in self.diags:  # one mistake, one diagnostic: a `let` read twice is checked twice
            self.diags.append(diag)

    def run(self) -> Policy | None:
        self._no_nul()
        header, version, owner = self._header()
        everything = self._merged()
        if not self._sources(everything):
            return None
        self._names(everything)
        steps = self._order(*self._graph())
        self.actions: dict[str, A.Actions] = {}
        for a in (d for d in everything if isinstance(d, A.Actions)):
            self._actions(a)
        outputs = self._outputs()
        # `expect` lines read any output column: `fit_band`, `ucc_met`, action keys, the reason.
        self.test_outputs = {o.name: o for o in outputs}
        tests = tuple(d for d in self.main.decls if isinstance(d, A.Test))
        for t in tests:
            self._test(t)
        if any(d.is_error for d in self.diags):
            return None
        return Policy(
            path=self.main.path, name=header.name if header else "", title=header.title if header else "",
            version=version, owner=owner, leads=self.leads, accounts=self.accounts, events=self.events,
            lead_types=self.lead_types, account_types=self.account_types, event_types=self.event_types,
            lets=self.lets, let_values=self.let_values, signals=self.signals, scores=self.scores,
            bands=self.bands, criteria=self.criteria, gates=self.gates, classifications=self.classifications,
            labels=self.labels, actions=self.actions, tests=tests, steps=steps, outputs=outputs,
            types=self.types, refs=self.refs, modules=(self.main, *self.used), texts=self.texts,
            index=self._index,
        )


def check_module(module: A.Module, texts: dict[str, str], files: Files = WORK_TREE) -> Policy:
    """Check a parsed module (and the files it uses, read through `files`). Raises `LeadError` on errors."""
    diags: list[Diagnostic] = []
    used = resolve_uses(module, texts, diags, files)
    if diags:
        raise LeadError(diags)
    checker = Checker(module, used, texts)
    policy = checker.run()
    errors = [d for d in checker.diags if d.is_error]
    if errors or policy is None:
        raise LeadError(sorted(checker.diags, key=lambda d: (d.span.file != module.path, d.span.file, d.span.line, d.span.column)))
    return policy


def load(path: str | Path, files: Files = WORK_TREE) -> Policy:
    """Parse and check one policy file: the usual entry point.

    The file and every file it `use`s are read through `files` (`fs.WORK_TREE`, a `fs.GitRevision`
    whose paths are `REV:path`, an `fs.Overlay` of unsaved texts), and confined to its project."""
    module, text = parse_bytes(files.read_bytes(str(path)), str(path))
    return check_module(module, {module.path: text}, files)
