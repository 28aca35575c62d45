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
    unassigned character, or as a line or paragraph separator (CR, LF, NUL, U+0085,
    U+2028, U+2029, bidi overrides, ...) becomes its escape (`\\x0d`, `\\u2028`);
    `/*` and `*/` get a space between their characters; `\\` is doubled so an
    escape can be told from a written backslash.
    """
    out = []
    for ch in str(text):
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch)[0] == "C" or unicodedata.category(ch) in ("Zl", "Zp"):
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

    # ------------------------------------------------------------ quoting --
    def comment(self, text: str) -> str:
        """A `--` line comment holding `text`, sanitised (see `comment_text`): the one way any
        text (policy title, version, file name, source name, ...) gets into a comment."""
        return "-- " + comment_text(text)

    def ident(self, name: str) -> str:
        q = self.quote
        return q + str(name).replace(q, q + q) + q

    def string_literal(self, text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

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
            return f"DATE {self.string_literal(value.isoformat())}"
        return self.string_literal(str(value))

    def decimal_literal(self, value: Decimal) -> str:
        return f"CAST({self.string_literal(format(value, 'f'))} AS {self.numeric})"

    def timestamp_literal(self, value: dt.datetime) -> str:
        text = value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        return f"CAST({self.string_literal(text)} AS {self.timestamp})"

    def type_name(self, kind: str) -> str:
        """The SQL type of a leadlang value kind (string, int, number, bool, date, timestamp, double)."""
        return {"string": self.string, "int": self.bigint, "number": self.numeric, "bool": "BOOLEAN",
                "date": "DATE", "timestamp": self.timestamp, "double": self.double}[kind]

    def cast(self, sql: str, kind: str) -> str:
        return f"CAST({sql} AS {self.type_name(kind)})"

    # --------------------------------------------------------------- time --
    def epoch(self, ts: str) -> str:
        """Seconds since 1970 as a double, microseconds kept."""
        return f"EXTRACT(EPOCH FROM {ts})"

    def minus_seconds(self, ts: str, seconds: int) -> str:
        return f"({ts} - INTERVAL '{int(seconds)} seconds')"

    def utc_date(self, ts: str) -> str:
        return f"CAST(({ts} AT TIME ZONE 'UTC') AS DATE)"

    def date_to_timestamp(self, d: str) -> str:
        return f"(CAST({d} AS TIMESTAMP) AT TIME ZONE 'UTC')"

    def current_timestamp(self) -> str:
        return "CURRENT_TIMESTAMP"

    # -------------------------------------------------------------- text --
    def contains(self, text: str, part: str) -> str:
        return f"(STRPOS({text}, {part}) > 0)"

    def starts_with(self, text: str, part: str) -> str:
        return f"(LEFT({text}, LENGTH({part})) = {part})"

    def ends_with(self, text: str, part: str) -> str:
        return f"(RIGHT({text}, LENGTH({part})) = {part})"

    def matches(self, text: str, pattern: str) -> str:
        return f"({text} ~ {pattern})"

    def trim(self, text: str) -> str:
        return f"TRIM(BOTH ' ' FROM {text})"

    def length(self, text: str) -> str:
        return f"CHAR_LENGTH({text})"

    def after_last_at(self, email: str) -> str:
        """The part of `email` after its last `@` (NULL or '' when there is none)."""
        return f"SUBSTRING({email} FROM '@([^@]*)$')"

    def least(self, fn: str, args: list[str]) -> str:
        call = f"{fn}({', '.join(args)})"
        if not self.least_skips_nulls:
            return call
        # leadlang: a function of a missing value is missing, even here
        nulls = " OR ".join(f"{a} IS NULL" for a in args)
        return f"(CASE WHEN {nulls} THEN NULL ELSE {call} END)"

    # ------------------------------------------------------------ decay --
    # The integer decay weights of language.md §10 are built from these (`sql.compiler.decay_weight`).
    def epoch_us(self, ts: str) -> str:
        """Whole microseconds since 1970 as a 64-bit integer, exactly."""
        return f"CAST(EXTRACT(EPOCH FROM {ts}) * 1000000 AS {self.bigint})"

    def shift_right(self, x: str, bits: int) -> str:
        """A non-negative 64-bit integer divided by 2^bits, rounded down."""
        return f"(({x}) >> {bits})"

    def low_bits(self, x: str, bits: int) -> str:
        """A non-negative 64-bit integer modulo 2^bits."""
        return f"(({x}) & {2 ** bits - 1})"

    exact_int = "DECIMAL(19, 0)"  # a 64-bit int as an exact decimal, for products that outgrow 64 bits

    def ten_billionths(self, units: str) -> str:
        """An integer count of 10^-10 units as a number (exact)."""
        return f"CAST(CAST({units} AS DECIMAL(38, 0)) * CAST(0.0000000001 AS DECIMAL(10, 10)) AS {self.numeric})"

    # ----------------------------------------------------------- numbers --
    def divide(self, left: str, right: str) -> str:
        """`left / right` as a number: the quotient to 10 places, half away from zero; `/ 0` is NULL.

        Generic SQL divides in double precision (exact to about 15 significant digits);
        DuckDB and PostgreSQL override this with exact integer division."""
        dbl = self.double
        return f"CAST(CAST({left} AS {dbl}) / NULLIF(CAST({right} AS {dbl}), 0) AS {self.numeric})"


class DuckDB(Dialect):
    name = "duckdb"
    double = "DOUBLE"
    inline_as_of = True  # a constant DuckDB folds: no join per event row (a fifth of the query's time)

    def epoch(self, ts: str) -> str:
        return f"epoch({ts})"

    def epoch_us(self, ts: str) -> str:
        return f"epoch_us({ts})"

    def minus_seconds(self, ts: str, seconds: int) -> str:
        return f"({ts} - INTERVAL {int(seconds)} SECOND)"

    def matches(self, text: str, pattern: str) -> str:
        return f"regexp_matches({text}, {pattern})"

    def contains(self, text: str, part: str) -> str:
        return f"contains({text}, {part})"

    def starts_with(self, text: str, part: str) -> str:
        return f"starts_with({text}, {part})"

    def ends_with(self, text: str, part: str) -> str:
        return f"ends_with({text}, {part})"

    def after_last_at(self, email: str) -> str:
        return f"regexp_extract({email}, '@([^@]*)$', 1)"

    def length(self, text: str) -> str:
        return f"length({text})"

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

    def epoch(self, ts: str) -> str:
        return f"CAST(EXTRACT(EPOCH FROM {ts}) AS DOUBLE PRECISION)"

    def divide(self, left: str, right: str) -> str:
        # Exact: `div` truncates the quotient at 11 places, ROUND (numeric: half away from zero) to 10
        q = f"div(CAST({left} AS NUMERIC) * 100000000000, NULLIF(CAST({right} AS NUMERIC), 0))"
        return f"CAST(ROUND({q} * 0.00000000001, 10) AS {self.numeric})"


class Snowflake(Dialect):
    name = "snowflake"
    double = "DOUBLE"
    timestamp = "TIMESTAMP_TZ"
    least_skips_nulls = False

    def string_literal(self, text: str) -> str:
        # Snowflake reads backslash escapes inside single-quoted strings
        return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"

    def epoch(self, ts: str) -> str:
        return f"(DATE_PART(EPOCH_MICROSECOND, {ts}) / 1e6)"

    def epoch_us(self, ts: str) -> str:
        return f"CAST(DATE_PART(EPOCH_MICROSECOND, {ts}) AS {self.bigint})"

    def shift_right(self, x: str, bits: int) -> str:
        return f"BITSHIFTRIGHT({x}, {bits})"

    def low_bits(self, x: str, bits: int) -> str:
        return f"BITAND({x}, {2 ** bits - 1})"

    def minus_seconds(self, ts: str, seconds: int) -> str:
        return f"DATEADD(SECOND, -{int(seconds)}, {ts})"

    def utc_date(self, ts: str) -> str:
        return f"CAST(CONVERT_TIMEZONE('UTC', {ts}) AS DATE)"

    def date_to_timestamp(self, d: str) -> str:
        return f"TO_TIMESTAMP_TZ(TO_CHAR({d}, 'YYYY-MM-DD') || ' 00:00:00 +00:00', 'YYYY-MM-DD HH24:MI:SS TZH:TZM')"

    def contains(self, text: str, part: str) -> str:
        return f"(POSITION({part}, {text}) > 0)"

    def starts_with(self, text: str, part: str) -> str:
        return f"STARTSWITH({text}, {part})"

    def ends_with(self, text: str, part: str) -> str:
        return f"ENDSWITH({text}, {part})"

    def matches(self, text: str, pattern: str) -> str:
        return f"(REGEXP_INSTR({text}, {pattern}) > 0)"

    def trim(self, text: str) -> str:
        return f"TRIM({text}, ' ')"

    def length(self, text: str) -> str:
        return f"LENGTH({text})"

    def after_last_at(self, email: str) -> str:
        return f"REGEXP_SUBSTR({email}, '@([^@]*)$', 1, 1, 'e', 1)"


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

    def ident(self, name: str) -> str:
        return "`" + backslash_escaped(str(name), "`") + "`"

    def string_literal(self, text: str) -> str:
        return "'" + backslash_escaped(text, "'") + "'"

    def decimal_literal(self, value: Decimal) -> str:
        return f"BIGNUMERIC {self.string_literal(format(value, 'f'))}"

    def timestamp_literal(self, value: dt.datetime) -> str:
        text = value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
        return f"TIMESTAMP {self.string_literal(text)}"

    def epoch(self, ts: str) -> str:
        return f"(UNIX_MICROS({ts}) / 1e6)"

    def epoch_us(self, ts: str) -> str:
        return f"UNIX_MICROS({ts})"

    exact_int = "BIGNUMERIC"

    def ten_billionths(self, units: str) -> str:
        return f"CAST(CAST({units} AS BIGNUMERIC) * BIGNUMERIC '0.0000000001' AS {self.numeric})"

    def minus_seconds(self, ts: str, seconds: int) -> str:
        return f"TIMESTAMP_SUB({ts}, INTERVAL {int(seconds)} SECOND)"

    def utc_date(self, ts: str) -> str:
        return f"DATE({ts}, 'UTC')"

    def date_to_timestamp(self, d: str) -> str:
        return f"TIMESTAMP({d}, 'UTC')"

    def contains(self, text: str, part: str) -> str:
        return f"(STRPOS({text}, {part}) > 0)"

    def starts_with(self, text: str, part: str) -> str:
        return f"STARTS_WITH({text}, {part})"

    def ends_with(self, text: str, part: str) -> str:
        return f"ENDS_WITH({text}, {part})"

    def matches(self, text: str, pattern: str) -> str:
        return f"REGEXP_CONTAINS({text}, {pattern})"

    def trim(self, text: str) -> str:
        return f"TRIM({text}, ' ')"

    def length(self, text: str) -> str:
        return f"LENGTH({text})"

    def after_last_at(self, email: str) -> str:
        return f"REGEXP_EXTRACT({email}, '@([^@]*)$')"


class Spark(Dialect):
    name = "spark"
    quote = "`"
    double = "DOUBLE"
    string = "STRING"
    timestamp = "TIMESTAMP"  # sessions run with spark.sql.session.timeZone=UTC

    def string_literal(self, text: str) -> str:
        # Spark reads backslash escapes inside string literals
        return "'" + backslash_escaped(text, "'") + "'"

    def timestamp_literal(self, value: dt.datetime) -> str:
        text = value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
        return f"to_utc_timestamp({self.string_literal(text)}, 'UTC')"

    def epoch(self, ts: str) -> str:
        return f"(unix_micros({ts}) / 1e6)"

    def epoch_us(self, ts: str) -> str:
        return f"unix_micros({ts})"

    def shift_right(self, x: str, bits: int) -> str:
        return f"shiftright({x}, {bits})"

    def minus_seconds(self, ts: str, seconds: int) -> str:
        return f"({ts} - make_dt_interval(0, 0, 0, {int(seconds)}))"

    def utc_date(self, ts: str) -> str:
        return f"to_date({ts})"

    def date_to_timestamp(self, d: str) -> str:
        return f"CAST({d} AS TIMESTAMP)"

    def contains(self, text: str, part: str) -> str:
        return f"(instr({text}, {part}) > 0)"

    def starts_with(self, text: str, part: str) -> str:
        return f"startswith({text}, {part})"

    def ends_with(self, text: str, part: str) -> str:
        return f"endswith({text}, {part})"

    def matches(self, text: str, pattern: str) -> str:
        return f"({text} RLIKE {pattern})"

    def length(self, text: str) -> str:
        return f"char_length({text})"

    def after_last_at(self, email: str) -> str:
        return f"regexp_extract({email}, '@([^@]*)$', 1)"

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
