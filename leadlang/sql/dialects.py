"""What each warehouse does differently: quoting, literals, types and a few functions.

Generic first: the base class writes standard SQL, and a dialect overrides only
where its warehouse truly differs (sqlglot's shape). Every identifier and
every literal of the generated SQL passes through `ident` and `literal` here,
so a policy string can never change the meaning of a statement.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal


def comment_text(text: str) -> str:
    """`text` made safe inside any SQL comment: one line, no control characters, no comment markers.

    Every character Unicode counts as a control, format, surrogate, private-use or
    unassigned character, or as a separator other than the space (CR, LF, NUL, U+0085,
    U+00A0, U+2028, U+2029, bidi overrides, ...) becomes its escape (`\\x0d`, `\\u2028`);
    `/*` and `*/` get a space between their characters; `\\` is doubled so an
    escape can be told from a written backslash.
    """
    out = []
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif not ch.isprintable():  # categories C*, Zl, Zp, and Zs but the space
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    safe = "".join(out)
    while "/*" in safe or "*/" in safe:
        safe = safe.replace("/*", "/ *").replace("*/", "* /")
    return safe


def backslash_escaped(text: str, quote: str) -> str:
    """The inside of a quoted string or name for warehouses that read backslash escapes
    (BigQuery, Spark): backslash and the quote escaped, every control character as `\\uXXXX`."""
    out = []
    for ch in text:
        if ch == "\\" or ch == quote:
            out.append("\\" + ch)
        elif unicodedata.category(ch) == "Cc" or ch in "\u2028\u2029":
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


class Dialect:
    """Standard SQL. A warehouse's dialect sets its types and quoting as attributes, its spellings
    in `FUNCTIONS`, and overrides a method only where its semantics differ (`divide`)."""

    name = "ansi"
    numeric = "DECIMAL(28, 10)"  # every number: 18 digits before the point, 10 after (language.md §21)
    score = "DECIMAL(38, 2)"
    quote = '"'
    double = "DOUBLE PRECISION"
    string = "VARCHAR"
    bigint = "BIGINT"
    timestamp = "TIMESTAMP WITH TIME ZONE"
    least_skips_nulls = True  # DuckDB, PostgreSQL, Spark; Snowflake and BigQuery do not
    key_collation = ""  # appended to ORDER BY key, so keys sort by code point everywhere
    inline_as_of = False  # the as-of time written into each event scan and the base, not CROSS JOINed from `__params`
    # whether `number * int` keeps the number's scale exactly (so `per` on an int multiplies it as it is, no
    # rescaling of a product of two 10-place decimals); Spark would lower the scale of a wide product
    exact_int_product = False
    # whether a number literal whose result type the operation around it fixes (`Dialect.operand`) is typed by its
    # own digits: DuckDB then keeps such arithmetic on 64-bit integers where it can, not 128-bit ones
    narrow_operands = False
    # How a quoted string or name holds a backslash: "literal" (it is itself), "doubled" (Snowflake's
    # strings: it escapes, so it is doubled), "escaped" (BigQuery, Spark: backslash, quote and every
    # control character written as escapes, see `backslash_escaped`).
    literal_backslashes = "literal"
    ident_backslashes = "literal"
    utc_offset = "+00:00"  # written after a timestamp literal's UTC time ('' for Spark, which reads it as UTC)

    # How the warehouse spells a built-in function (leadlang/builtins.py) or an operation the compiler
    # needs: a `str.format` template of the arguments' SQL (`{0}`, `{1}`, all of them as `{args}`) and
    # of the dialect (`{d.timestamp}`). A name without an entry is spelled `NAME(arg, ...)`.
    FUNCTIONS: dict[str, str] = {
        "date_literal": "DATE {0}",
        "decimal_literal": "CAST({0} AS {d.numeric})",
        "timestamp_literal": "CAST({0} AS {d.timestamp})",
        "epoch": "EXTRACT(EPOCH FROM {0})",  # seconds since 1970 as a double, microseconds kept
        "minus_seconds": "({0} - INTERVAL '{1} seconds')",
        "utc_date": "CAST(({0} AT TIME ZONE 'UTC') AS DATE)",
        "date_to_timestamp": "(CAST({0} AS TIMESTAMP) AT TIME ZONE 'UTC')",
        "current_timestamp": "CURRENT_TIMESTAMP",
        # the integer decay weights of language.md §10 (`sql.scan.decay_weight`)
        "epoch_us": "CAST(EXTRACT(EPOCH FROM {0}) * 1000000 AS {d.bigint})",  # whole microseconds since 1970, exactly
        "shift_right": "(({0}) >> {1})",  # a non-negative 64-bit integer over 2^{1}, rounded down
        "low_bits": "(({0}) & {1})",  # ... modulo a power of two (the mask)
        "ten_billionths": "CAST(CAST({0} AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS {d.numeric})",
        "contains": "(STRPOS({0}, {1}) > 0)",
        "starts_with": "(LEFT({0}, LENGTH({1})) = {1})",
        "ends_with": "(RIGHT({0}, LENGTH({1})) = {1})",
        "matches": "({0} ~ {1})",
        "trim": "TRIM(BOTH ' ' FROM {0})",
        "length": "CHAR_LENGTH({0})",
        "after_last_at": "SUBSTRING({0} FROM '@([^@]*)$')",  # the part after the last `@` (NULL or '' without one)
    }

    def call(self, name: str, args: list[str]) -> str:
        """`name` applied to the SQL `args`, as this warehouse spells it."""
        spelling = self.FUNCTIONS.get(name)
        if spelling is None:
            return f"{name.upper()}({', '.join(args)})"
        return spelling.format(*args, args=", ".join(args), d=self)

    # ------------------------------------------------------------ quoting --
    def comment(self, text: str) -> str:
        """A `--` line comment holding `text`, sanitised (see `comment_text`): the one way any
        text (policy title, version, file name, source name, ...) gets into a comment."""
        return "-- " + comment_text(text)

    def ident(self, name: str) -> str:
        return _quoted(str(name), self.quote, self.ident_backslashes)

    def string_literal(self, text: str) -> str:
        return _quoted(text, "'", self.literal_backslashes)

    def relation(self, parts: tuple[str, ...]) -> str:
        return ".".join(self.ident(p) for p in parts)

    # ----------------------------------------------------------- literals --
    def literal(self, value, kind: str | None = None) -> str:
        if value is None:
            return "NULL"
        if isinstance(value, bool):
            return "TRUE" if value else "FALSE"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, Decimal):
            return self.decimal_literal(value)
        if isinstance(value, dt.datetime):
            return self.timestamp_literal(value)
        if isinstance(value, dt.date):
            return self.call("date_literal", [self.string_literal(value.isoformat())])
        return self.string_literal(str(value))

    def decimal_literal(self, value: Decimal) -> str:
        return self.call("decimal_literal", [self.string_literal(format(value, "f"))])

    def operand(self, value) -> str:
        """A number literal as an operand whose result's type is fixed around it: a comparison's, a product cast
        to a number, a rule's points. With `narrow_operands`, a decimal is typed by its own digits (`1.5` as
        `DECIMAL(2, 1)`, not `DECIMAL(28, 10)`); the values computed are the same, exactly."""
        if not self.narrow_operands or not isinstance(value, Decimal) or not value.is_finite():
            return self.literal(value)
        text = format(value, "f")
        whole, _, places = text.lstrip("-").partition(".")
        scale = len(places)
        width = max(len(whole.lstrip("0")) + scale, scale + 1, 1)
        if scale > 10 or width > 28:
            return self.literal(value)
        return f"CAST({self.string_literal(text)} AS DECIMAL({width}, {scale}))"

    def timestamp_literal(self, value: dt.datetime) -> str:
        text = value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f") + self.utc_offset
        return self.call("timestamp_literal", [self.string_literal(text)])

    def type_name(self, kind: str) -> str:
        """The SQL type of a leadlang value kind (string, int, number, bool, date, timestamp, double)."""
        return {"string": self.string, "int": self.bigint, "number": self.numeric, "bool": "BOOLEAN",
                "date": "DATE", "timestamp": self.timestamp, "double": self.double}[kind]

    def cast(self, sql: str, kind: str) -> str:
        return f"CAST({sql} AS {self.type_name(kind)})"

    # ------------------------------------------------- spelled operations --
    def epoch(self, ts: str) -> str:
        """Seconds since 1970 as a double, microseconds kept."""
        return self.call("epoch", [ts])

    def minus_seconds(self, ts: str, seconds: int) -> str:
        return self.call("minus_seconds", [ts, str(int(seconds))])

    def utc_date(self, ts: str) -> str:
        return self.call("utc_date", [ts])

    def date_to_timestamp(self, d: str) -> str:
        return self.call("date_to_timestamp", [d])

    def current_timestamp(self) -> str:
        return self.call("current_timestamp", [])

    exact_int = "DECIMAL(19, 0)"  # a 64-bit int as an exact decimal, for products that outgrow 64 bits

    def epoch_us(self, ts: str) -> str:
        return self.call("epoch_us", [ts])

    def shift_right(self, x: str, bits: int) -> str:
        return self.call("shift_right", [x, str(bits)])

    def low_bits(self, x: str, bits: int) -> str:
        return self.call("low_bits", [x, str(2 ** bits - 1)])

    def ten_billionths(self, units: str) -> str:
        """An integer count of 10^-10 units as a number (exact)."""
        return self.call("ten_billionths", [units])

    # ----------------------------------------------------------- numbers --
    def divide(self, left: str, right: str) -> str:
        """`left / right` as a number: the quotient to 10 places, half away from zero; `/ 0` is NULL.

        Generic SQL divides in double precision (exact to about 15 significant digits);
        DuckDB and PostgreSQL override this with exact integer division."""
        dbl = self.double
        return f"CAST(CAST({left} AS {dbl}) / NULLIF(CAST({right} AS {dbl}), 0) AS {self.numeric})"


def _quoted(text: str, quote: str, backslashes: str) -> str:
    """`text` between `quote`s, as a warehouse reads it back (see `Dialect.literal_backslashes`)."""
    if backslashes == "escaped":
        return quote + backslash_escaped(text, quote) + quote
    if backslashes == "doubled":
        text = text.replace("\\", "\\\\")
    return quote + text.replace(quote, quote + quote) + quote


class DuckDB(Dialect):
    name = "duckdb"
    double = "DOUBLE"
    inline_as_of = True  # a constant DuckDB folds: no join per event row (a fifth of the query's time)
    exact_int_product = True  # DECIMAL(28, 10) * BIGINT is DECIMAL(38, 10): no 128-bit division per row
    narrow_operands = True  # `0.6 * fit` as DECIMAL(1, 1) * DECIMAL(38, 2): no 128-bit division by 10^10 per row
    FUNCTIONS = {
        **Dialect.FUNCTIONS,
        "epoch": "epoch({0})",
        "epoch_us": "epoch_us({0})",
        "minus_seconds": "({0} - INTERVAL {1} SECOND)",
        "matches": "regexp_matches({0}, {1})",
        "contains": "contains({0}, {1})",
        "starts_with": "starts_with({0}, {1})",
        "ends_with": "ends_with({0}, {1})",
        "after_last_at": "regexp_extract({0}, '@([^@]*)$', 1)",
        "length": "length({0})",
    }

    def divide(self, left: str, right: str) -> str:
        # Exact: both numbers as 128-bit integers of ten-billionths (|n| < 10^28), then long
        # division: the whole part, ten more digits of the remainder, and half away from zero
        # from the last remainder. DuckDB's `/` on decimals would go through a double.
        def units(x: str) -> str:
            return f"CAST(CAST({x} AS {self.numeric}) * CAST(10000000000 AS DECIMAL(11, 0)) AS HUGEINT)"

        a, b = units(left), f"NULLIF({units(right)}, 0)"
        rest = f"(({a} % {b}) * 10000000000)"
        away = f"(CASE WHEN 2 * abs({rest} % {b}) >= abs({b}) THEN sign({a}) * sign({b}) ELSE 0 END)"
        whole = f"(({a} // {b}) * 10000000000 + {rest} // {b} + {away})"
        return f"CAST(CAST({whole} AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS {self.numeric})"


class Postgres(Dialect):
    name = "postgres"
    string = "TEXT"
    key_collation = ' COLLATE "C"'
    FUNCTIONS = {**Dialect.FUNCTIONS, "epoch": "CAST(EXTRACT(EPOCH FROM {0}) AS DOUBLE PRECISION)"}

    def divide(self, left: str, right: str) -> str:
        # Exact: `div` truncates the quotient at 11 places, ROUND (numeric: half away from zero) to 10
        q = f"div(CAST({left} AS NUMERIC) * 100000000000, NULLIF(CAST({right} AS NUMERIC), 0))"
        return f"CAST(ROUND({q} * 0.00000000001, 10) AS {self.numeric})"


class Snowflake(Dialect):
    name = "snowflake"
    double = "DOUBLE"
    timestamp = "TIMESTAMP_TZ"
    least_skips_nulls = False
    literal_backslashes = "doubled"  # Snowflake reads backslash escapes inside single-quoted strings
    FUNCTIONS = {
        **Dialect.FUNCTIONS,
        "epoch": "(DATE_PART(EPOCH_MICROSECOND, {0}) / 1e6)",
        "epoch_us": "CAST(DATE_PART(EPOCH_MICROSECOND, {0}) AS {d.bigint})",
        "shift_right": "BITSHIFTRIGHT({0}, {1})",
        "low_bits": "BITAND({0}, {1})",
        "minus_seconds": "DATEADD(SECOND, -{1}, {0})",
        "utc_date": "CAST(CONVERT_TIMEZONE('UTC', {0}) AS DATE)",
        "date_to_timestamp": "TO_TIMESTAMP_TZ(TO_CHAR({0}, 'YYYY-MM-DD') || ' 00:00:00 +00:00', 'YYYY-MM-DD HH24:MI:SS TZH:TZM')",
        "contains": "(POSITION({1}, {0}) > 0)",
        "starts_with": "STARTSWITH({0}, {1})",
        "ends_with": "ENDSWITH({0}, {1})",
        "matches": "(REGEXP_INSTR({0}, {1}) > 0)",
        "trim": "TRIM({0}, ' ')",
        "length": "LENGTH({0})",
        "after_last_at": "REGEXP_SUBSTR({0}, '@([^@]*)$', 1, 1, 'e', 1)",
    }


class BigQuery(Dialect):
    name = "bigquery"
    numeric = "BIGNUMERIC(28, 10)"  # NUMERIC allows at most 9 decimal places
    score = "BIGNUMERIC(38, 2)"
    quote = "`"
    double = "FLOAT64"
    string = "STRING"
    bigint = "INT64"
    timestamp = "TIMESTAMP"
    least_skips_nulls = False
    literal_backslashes = ident_backslashes = "escaped"
    exact_int = "BIGNUMERIC"
    FUNCTIONS = {
        **Dialect.FUNCTIONS,
        "decimal_literal": "BIGNUMERIC {0}",
        "timestamp_literal": "TIMESTAMP {0}",
        "epoch": "(UNIX_MICROS({0}) / 1e6)",
        "epoch_us": "UNIX_MICROS({0})",
        "ten_billionths": "CAST(CAST({0} AS BIGNUMERIC) * BIGNUMERIC '0.0000000001' AS {d.numeric})",
        "minus_seconds": "TIMESTAMP_SUB({0}, INTERVAL {1} SECOND)",
        "utc_date": "DATE({0}, 'UTC')",
        "date_to_timestamp": "TIMESTAMP({0}, 'UTC')",
        "starts_with": "STARTS_WITH({0}, {1})",
        "ends_with": "ENDS_WITH({0}, {1})",
        "matches": "REGEXP_CONTAINS({0}, {1})",
        "trim": "TRIM({0}, ' ')",
        "length": "LENGTH({0})",
        "after_last_at": "REGEXP_EXTRACT({0}, '@([^@]*)$')",
    }


class Spark(Dialect):
    name = "spark"
    quote = "`"
    double = "DOUBLE"
    string = "STRING"
    timestamp = "TIMESTAMP"  # sessions run with spark.sql.session.timeZone=UTC
    literal_backslashes = "escaped"  # Spark reads backslash escapes inside string literals
    utc_offset = ""
    FUNCTIONS = {
        **Dialect.FUNCTIONS,
        "timestamp_literal": "to_utc_timestamp({0}, 'UTC')",
        "epoch": "(unix_micros({0}) / 1e6)",
        "epoch_us": "unix_micros({0})",
        "shift_right": "shiftright({0}, {1})",
        "minus_seconds": "({0} - make_dt_interval(0, 0, 0, {1}))",
        "utc_date": "to_date({0})",
        "date_to_timestamp": "CAST({0} AS TIMESTAMP)",
        "contains": "(instr({0}, {1}) > 0)",
        "starts_with": "startswith({0}, {1})",
        "ends_with": "endswith({0}, {1})",
        "matches": "({0} RLIKE {1})",
        "length": "char_length({0})",
        "after_last_at": "regexp_extract({0}, '@([^@]*)$', 1)",
    }

    def divide(self, left: str, right: str) -> str:
        # Exact long division on decimals (a double would miss `1.2345678901 / 0.0000000001`): the
        # whole part by `div` (a 64-bit integer: |quotient| < 10^18), ten digits of the remainder by
        # `div` again, half away from zero from the last remainder. Needs allowPrecisionLoss=false.
        a, b = f"CAST({left} AS {self.numeric})", f"NULLIF(CAST({right} AS {self.numeric}), 0)"
        rest = f"(({a} % {b}) * CAST(10000000000 AS DECIMAL(11, 0)))"
        away = f"(CASE WHEN 2 * abs({rest} % {b}) >= abs({b}) THEN (CASE WHEN ({a} < 0) = ({b} < 0) THEN 1 ELSE -1 END) ELSE 0 END)"
        tenths = f"(CAST({rest} div {b} AS DECIMAL(38, 0)) + {away})"
        return f"CAST(CAST({a} div {b} AS DECIMAL(38, 0)) + {tenths} * CAST(0.0000000001 AS DECIMAL(10, 10)) AS {self.numeric})"


DIALECTS: dict[str, Dialect] = {d.name: d for d in (DuckDB(), Postgres(), Snowflake(), BigQuery(), Spark())}
