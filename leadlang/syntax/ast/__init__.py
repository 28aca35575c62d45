"""The `.lead` syntax tree: frozen, slotted dataclasses with a `Span` on every node.

Spans never take part in equality (`compare=False`), so two trees that differ
only in layout compare equal — which is what the formatter's "meaning is
unchanged" check relies on. The nodes are defined by job (`exprs`, `decls`,
`tests`, over `node`'s shared base); this package is the one namespace every
stage reads them from (`from leadlang.syntax import ast as A`).
"""

from leadlang.span import NOWHERE, Span  # noqa: F401  (every node's `span`)
from leadlang.syntax.ast.node import Node, QuotedName, children, node, walk  # noqa: F401
from leadlang.syntax.ast.exprs import (  # noqa: F401
    Literal, ListLit, Name, Attr, Disqualified, Unary, Binary, InList,
    Between, TextTest, IsMissing, IsLabel, Call, Duration, Aggregate, Expr,
)
from leadlang.syntax.ast.decls import (  # noqa: F401
    TypeRef, Field, Relation, Leads, Accounts, Events, PolicyHeader, Version,
    Owner, Use, Let, Signal, Clamp, Rule, PointsScore, DerivedScore,
    Band, Bands, Member, Criteria, Disqualify, MatrixRow, Matrix, Branch,
    Classify, Setting, Action, Actions, Decl, Module,
)
from leadlang.syntax.ast.tests import (  # noqa: F401
    Pair, EventLine, TestAsOf, TestRow, TestEvents, Expect, ExpectFired, ExpectBecause,
    TestItem, Test,
)
