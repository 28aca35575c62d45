"""A Pygments lexer for `.lead` policies, so docs, READMEs and Jupyter highlight ```lead code blocks.

Registered as the entry point `lead` of the group `pygments.lexers` (pyproject.toml), so
`pygments.lexers.get_lexer_by_name("lead")` finds it once leadlang is installed; nothing in leadlang
imports this module (or Pygments). Its words are grammar/leadlang.lark's (tests/test_pygments.py checks
that every keyword of the grammar is lexed as one) and its scopes follow the VS Code extension's
TextMate grammar (editors/vscode/syntaxes/lead.tmLanguage.json).
"""

from __future__ import annotations

import re

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Whitespace,
)

__all__ = ["LeadLexer"]

_NAME = r"(?:[A-Za-z_][A-Za-z0-9_]*|`[^`\n]+`)"
_BLANK = r"[ \t]+"
_TYPES = ("string", "int", "number", "bool", "date", "timestamp", "enum")
_AGGREGATES = ("count", "sum", "min", "max", "avg", "first", "last", "active_days", "distinct_leads")


class LeadLexer(RegexLexer):
    """leadlang's `.lead` policies: declarations, rules, expressions, tests."""

    name = "leadlang"
    aliases = ["lead", "leadlang"]
    filenames = ["*.lead"]
    mimetypes = ["text/x-leadlang"]
    url = "https://github.com/leadlang/leadlang"
    flags = re.MULTILINE

    tokens = {
        "root": [
            # declarations and the header
            (rf"^([ \t]*)(policy)\b(?:({_BLANK})({_NAME}))?", bygroups(Whitespace, Keyword.Namespace, Whitespace, Name.Namespace)),
            (r"^([ \t]*)(version|owner|use)\b", bygroups(Whitespace, Keyword.Namespace)),
            (rf"^([ \t]*)(leads|accounts)({_BLANK})(from)\b", bygroups(Whitespace, Keyword.Declaration, Whitespace, Keyword)),
            (rf"^([ \t]*)(events)({_BLANK})({_NAME})({_BLANK})(from)\b",
             bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Class, Whitespace, Keyword)),
            (rf"^([ \t]*)(bands)({_BLANK})({_NAME})([ \t]*)(\{{)",
             bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Function, Whitespace, Punctuation), "bands"),
            (rf"^([ \t]*)(matrix)({_BLANK})({_NAME})([ \t]*)(:)",
             bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Function, Whitespace, Punctuation), "matrix"),
            (rf"^([ \t]*)(let|signal|score|bands|criteria|matrix|classify|actions)({_BLANK})({_NAME})",
             bygroups(Whitespace, Keyword.Declaration, Whitespace, Name.Function)),
            (r"^([ \t]*)(disqualify|test)\b", bygroups(Whitespace, Keyword.Declaration)),
            # a source's fields and columns
            (rf"^([ \t]*)({_NAME})({_BLANK})({'|'.join(_TYPES)})\b", bygroups(Whitespace, Name.Attribute, Whitespace, Keyword.Type)),
            (rf"^([ \t]*)(lead|at|name)({_BLANK})(?={_NAME})", bygroups(Whitespace, Keyword, Whitespace)),
            (r"^([ \t]*)(expect)\b", bygroups(Whitespace, Keyword)),
            (r"^([ \t]*)(lead|account)(?=[ \t]*\{)", bygroups(Whitespace, Keyword)),
            (rf"^([ \t]*)({_NAME})(?=[ \t]+when\b)", bygroups(Whitespace, Name.Label)),  # a classify branch
            # what a line starts with decides the above; the rest of a line is read word by word
            (r"[ \t\f\r]+", Whitespace),
            (r"\n", Whitespace),
            (r"\\(?=[ \t]*\r?$)", Punctuation),  # a line continued on the next
            (r"#.*$", Comment.Single),
            include("literals"),
            (r"`[^`\n]+`", Name.Variable),
            (r"\b(ref|source)(?=[ \t]*\()", Name.Builtin),
            (rf"(\))({_BLANK})(key)\b", bygroups(Punctuation, Whitespace, Keyword)),
            (rf"\b(account)({_BLANK})(?={_NAME}[ \t]*\{{)", bygroups(Keyword, Whitespace)),
            # tests
            (rf"\b(as)({_BLANK})(of)\b", bygroups(Keyword, Whitespace, Keyword)),
            (r"\b(fired|because)\b", Keyword),
            (rf"\b(ago)(?:({_BLANK})(x)(?={_BLANK}\d))?", bygroups(Keyword, Whitespace, Operator.Word)),
            (rf"\b(at)(?={_BLANK}\d)", Keyword),
            (rf"\b(otherwise)({_BLANK})({_NAME})", bygroups(Keyword, Whitespace, Name.Label)),
            # rule ids, members, labels of actions, keys of test rows
            (rf"(?<![\w.`])({_NAME})([ \t]*)(:)", bygroups(Name.Label, Whitespace, Punctuation)),
            include("expression"),
        ],
        "blank": [
            (r"[ \t\f\r\n]+", Whitespace),
            (r"#.*$", Comment.Single),
        ],
        "bands": [  # after `bands NAME {`: labels before `>=` or `otherwise`
            include("blank"),
            (rf"{_NAME}(?=[ \t]*(?:>=|otherwise\b))", Name.Label),
            (r"\}", Punctuation, "#pop"),
            include("literals"),
            include("expression"),
        ],
        "matrix": [  # after `matrix NAME:`, the two score names, then the table
            include("blank"),
            (r"\{", Punctuation, ("#pop", "matrix-table")),
            include("expression"),
        ],
        "matrix-table": [
            include("blank"),
            (r"\}", Punctuation, "#pop"),
            (r"\|", Punctuation),
            (_NAME, Name.Label),
        ],
        "literals": [
            (r'"', String.Double, "string"),
            (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?", Number.Other),
            (r"\d{4}-\d{2}-\d{2}(?![\dT])", Number.Other),
            (rf"(\d[\d_]*)({_BLANK})((?:minute|hour|day|week|month|year)s?)\b", bygroups(Number.Integer, Whitespace, Keyword.Type)),
            (r"\d[\d_]*\.\d+", Number.Float),
            (r"\d[\d_]*", Number.Integer),
            (words(("true", "false", "missing"), suffix=r"\b"), Keyword.Constant),
        ],
        "string": [
            (r'[^"\\\n]+', String.Double),
            (r"\\.", String.Escape),
            (r'"', String.Double, "#pop"),
            (r"\n", Error, "#pop"),  # a string ends on its line
        ],
        "expression": [
            (rf"\b(not{_BLANK}in|is{_BLANK}not|contains{_BLANK}any|starts{_BLANK}with|ends{_BLANK}with)\b", Operator.Word),
            (rf"\b(in{_BLANK}last|by{_BLANK}account)\b|\bhalf-life\b", Keyword),
            (words(_AGGREGATES, prefix=r"\b", suffix=r"(?=[ \t]*\()"), Name.Builtin),
            (r"[A-Za-z_][A-Za-z0-9_]*(?=[ \t]*\()", Name.Builtin),
            (words(("and", "or", "not", "in", "is", "between", "contains", "matches"), prefix=r"\b", suffix=r"\b"), Operator.Word),
            (words(("when", "where", "per", "otherwise", "clamp", "to", "require", "all", "of", "by", "max"),
                   prefix=r"\b", suffix=r"\b"), Keyword),
            (r"\bdisqualified\b", Name.Builtin.Pseudo),
            (r"\baccount(?=[ \t]*\.)", Name.Builtin.Pseudo),
            (r">=|<=|!=|=|<|>|[+\-*/]", Operator),
            (r"[{}\[\](),.:|]", Punctuation),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
        ],
    }
