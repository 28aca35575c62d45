"""The dependency graph between signals, scores, criteria, `disqualify` and classifications, its order and cycles (E208)."""

from __future__ import annotations

from typing import Callable

from leadlang.check.policy import Step
from leadlang.syntax import ast as A


class Graph:
    """The checker's dependency graph and step order (a part of `check.checker.Checker`)."""

    def _graph(self) -> tuple[dict, dict]:
        """Every value to compute -> the values it reads, checking each body on the way."""
        graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
        spans: dict[tuple[str, str], A.Span] = {}

        def node(kind: str, name: str, span: A.Span, body: Callable[[], None]) -> None:
            self.deps = set()
            body()
            graph[(kind, name)] = self.deps
            spans[(kind, name)] = span

        for s in self.signals.values():
            graph[("signal", s.name)] = self._signal(s.name)[1]
            spans[("signal", s.name)] = s.span
        for sc in self.scores.values():
            node("score", sc.name, sc.span, lambda sc=sc: self._score(sc))
        for cr in self.criteria.values():
            node("criteria", cr.name, cr.span, lambda cr=cr: self._criteria(cr))
        node("disqualify", "disqualified", self.gates[0].span if self.gates else A.NOWHERE, self._gates)
        for c in self.classifications.values():
            node("classification", c.name, c.span, lambda c=c: self._classification(c))
        return graph, spans

    def _order(self, graph, spans) -> tuple[Step, ...]:
        order: list[tuple[str, str]] = []
        state: dict[tuple[str, str], int] = {}
        reported: set[frozenset] = set()

        def visit(start):
            # Iterative DFS: a chain of thousands of signals must not hit recursion limits.
            stack = [(start, iter(sorted(graph.get(start, ()))))]
            path = [start]
            state[start] = 1
            while stack:
                n, children = stack[-1]
                nxt = next(children, None)
                if nxt is None:
                    stack.pop()
                    path.pop()
                    state[n] = 2
                    order.append(n)
                    continue
                if nxt not in graph:
                    continue
                if state.get(nxt) == 1:
                    cycle = path[path.index(nxt):] + [nxt]
                    key = frozenset(cycle)
                    if key not in reported:
                        reported.add(key)
                        shown = " -> ".join(f"`{x[1]}`" for x in cycle)
                        self.error("E208", f"these declarations depend on each other in a cycle: {shown}", spans[nxt], "a value cannot depend on itself, directly or through others")
                elif nxt not in state:
                    state[nxt] = 1
                    path.append(nxt)
                    stack.append((nxt, iter(sorted(graph.get(nxt, ())))))

        for n in graph:
            if n not in state:
                visit(n)
        steps: list[Step] = []
        for kind, name in order:
            steps.append(Step(kind, name))
            if kind == "score" and name in self.bands:
                steps.append(Step("band", name))
        return tuple(steps)
