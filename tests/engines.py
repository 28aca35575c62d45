"""Run one SQL statement on a real engine, for differential tests (engine vs the Python interpreter).

    eng = duckdb_engine()            # or postgres_engine(), spark_engine(): slow to start, start once
    rows = eng.run(sql, [Table("hubspot.engagements", [("lead id", "string"), ...], [{...}, ...])])
    eng.close()

Every run starts from an empty database: the tables are created (schema first when the name is
schema-qualified), loaded by parameter binding or Arrow (never SQL text), the statement is run and
its rows are returned as dicts of plain Python values, and nothing survives into the next run
(DuckDB and PostgreSQL roll the whole run back; Spark drops what the previous run created).

Values in: None, str, int, decimal.Decimal, bool, datetime.date, aware datetime (any offset; stored
as that instant). Values out: None, str, int, Decimal (DECIMAL/NUMERIC), float (DOUBLE/REAL), bool,
date, datetime — an aware UTC datetime for a time-zone-aware timestamp (DuckDB/Postgres TIMESTAMPTZ,
Spark TIMESTAMP), a naive one for a naive timestamp (DuckDB TIMESTAMP, Postgres `timestamp without
time zone`, Spark TIMESTAMP_NTZ) so that a compiler emitting the wrong kind shows up in a comparison.

The pytest fixtures live in tests/conftest.py; a factory raises EngineUnavailable when the engine
cannot start on this machine (package or Java missing), which the fixtures turn into a skip (or a
failure when CI=true).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

UTC = dt.timezone.utc
TYPES = ("string", "int", "number", "bool", "date", "timestamp")

_INT64 = (-(2**63), 2**63 - 1)
_SCALE = decimal.Decimal(1).scaleb(-10)  # number columns are DECIMAL(28, 10) (language.md §21)
_MAX_NUMBER = decimal.Decimal(10) ** 18  # 28 digits, 10 of them after the point
_WIDE = decimal.Context(prec=80)


@dataclass
class Table:
    name: str  # relation name, may be schema-qualified: "hubspot.engagements"
    columns: list[tuple[str, str]]  # (column name, leadlang type)
    rows: list[dict]


class EngineUnavailable(RuntimeError):
    """The engine cannot start here: a package, Java or the server is missing or broken."""


# --------------------------------------------------------------------------------------------
# input checking, shared by every engine


def split_relation(name: str) -> tuple[str | None, str]:
    """'hubspot.engagements' -> ('hubspot', 'engagements'); 'leads' -> (None, 'leads')."""
    parts = name.split(".")
    if len(parts) == 1:
        return None, name
    if len(parts) == 2 and all(parts):
        return parts[0], parts[1]
    raise ValueError(f"relation name {name!r}: expected `table` or `schema.table`")


def _value(table: str, col: str, typ: str, v):
    """One input value, checked against its column type and normalised (timestamps to UTC)."""
    if v is None:
        return None
    where = f"table {table!r}, column {col!r} ({typ})"
    if typ == "string":
        if isinstance(v, str):
            return v
    elif typ == "int":
        if isinstance(v, int) and not isinstance(v, bool):
            if not _INT64[0] <= v <= _INT64[1]:
                raise ValueError(f"{where}: {v} does not fit a BIGINT")
            return v
    elif typ == "number":
        if isinstance(v, int) and not isinstance(v, bool):
            v = decimal.Decimal(v)
        if isinstance(v, decimal.Decimal):
            if not v.is_finite():
                raise ValueError(f"{where}: {v} is not a finite number")
            q = v.quantize(_SCALE, context=_WIDE)
            if q != v or abs(q) >= _MAX_NUMBER:
                raise ValueError(f"{where}: {v} does not fit DECIMAL(28, 10) exactly")
            return q
    elif typ == "bool":
        if isinstance(v, bool):
            return v
    elif typ == "date":
        if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
            return v
    elif typ == "timestamp":
        if isinstance(v, dt.datetime):
            if v.tzinfo is None or v.utcoffset() is None:
                raise ValueError(f"{where}: naive datetime {v!r}; give an aware one")
            return v.astimezone(UTC)
    else:
        raise ValueError(f"table {table!r}, column {col!r}: unknown type {typ!r} (one of {', '.join(TYPES)})")
    raise TypeError(f"{where}: {type(v).__name__} value {v!r}")


def _checked(table: Table) -> list[tuple]:
    """The rows of `table` as tuples in column order, every value checked."""
    names = [c for c, _ in table.columns]
    if not names:
        raise ValueError(f"table {table.name!r} has no columns")
    if len(set(names)) != len(names):
        raise ValueError(f"table {table.name!r}: duplicate column names {names}")
    for c, t in table.columns:
        if t not in TYPES:
            raise ValueError(f"table {table.name!r}, column {c!r}: unknown type {t!r} (one of {', '.join(TYPES)})")
    out = []
    for i, row in enumerate(table.rows):
        extra = set(row) - set(names)
        if extra:
            raise ValueError(f"table {table.name!r}, row {i}: keys not among the columns: {sorted(extra)}")
        out.append(tuple(_value(table.name, c, t, row.get(c)) for c, t in table.columns))
    return out


def _no_case_collisions(engine: str, tables: list[Table]) -> None:
    """DuckDB and Spark fold the case of names: `Leads` and `leads` (or two such columns) are one."""
    seen: dict[str, str] = {}
    for t in tables:
        key = t.name.casefold()
        if key in seen:
            raise ValueError(f"{engine}: relations {seen[key]!r} and {t.name!r} are the same name (case-insensitive)")
        seen[key] = t.name
        cols: dict[str, str] = {}
        for c, _ in t.columns:
            if c.casefold() in cols:
                raise ValueError(f"{engine}: table {t.name!r}: columns {cols[c.casefold()]!r} and {c!r} are the same name (case-insensitive)")
            cols[c.casefold()] = c


def _arrow(table: Table, rows: list[tuple], names: list[str] | None = None):
    """A pyarrow Table of checked rows, with the engine-independent Arrow types."""
    import pyarrow as pa

    types = {
        "string": pa.string(), "int": pa.int64(), "number": pa.decimal128(28, 10), "bool": pa.bool_(),
        "date": pa.date32(), "timestamp": pa.timestamp("us", tz="UTC"),
    }
    names = names or [c for c, _ in table.columns]
    arrays = [pa.array([r[i] for r in rows], type=types[t]) for i, (_, t) in enumerate(table.columns)]
    return pa.Table.from_arrays(arrays, names=names)


def _result(names: list[str], rows, fix=None) -> list[dict]:
    if len(set(names)) != len(names):
        raise ValueError(f"the statement returns duplicate column names {names}: a dict per row would lose some")
    if fix is None:
        return [dict(zip(names, r)) for r in rows]
    return [{n: fix[i](v) if fix[i] and v is not None else v for i, (n, v) in enumerate(zip(names, r))} for r in rows]


def _aware_to_utc(v):
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.astimezone(UTC)
    return v


def _interval(v):
    """DuckDB's INTERVAL comes through Arrow as MonthDayNano: a timedelta, as psycopg and pyspark give."""
    if getattr(v, "months", 1) == 0:
        return dt.timedelta(days=v.days, microseconds=v.nanoseconds // 1000)
    return v


def scratch_dir(prefix: str) -> Path:
    """A new temporary directory, in memory (/dev/shm) where there is one: initdb, PostgreSQL's
    shutdown and Spark's parquet writes then never wait for a busy disk."""
    shm = Path("/dev/shm")
    where = str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None
    return Path(tempfile.mkdtemp(prefix=prefix, dir=where))


def _check_select(sql: str) -> None:
    head = re.sub(r"^(\s|--[^\n]*\n|/\*.*?\*/)*", "", sql, flags=re.S)[:6].upper()
    if not (head.startswith("SELECT") or head.startswith("WITH") or head.startswith("(")):
        raise ValueError(f"expected one SELECT statement (possibly starting with WITH), got: {sql[:80]!r}")


class Engine:
    """One engine, started once; `run` is the only thing a test needs."""

    name: str

    def quote(self, ident: str) -> str:
        """An identifier quoted for this engine: any name, keywords and quotes included."""
        return '"' + ident.replace('"', '""') + '"'

    def relation(self, name: str) -> str:
        schema, table = split_relation(name)
        return self.quote(table) if schema is None else f"{self.quote(schema)}.{self.quote(table)}"

    def run(self, sql: str, tables: list[Table]) -> list[dict]:
        """Create the tables (dropping old ones of the same name), load the rows, execute `sql`
        (one SELECT statement, possibly starting with WITH) and return its rows as dicts of Python
        values: None, str, int, Decimal (DECIMAL/NUMERIC), float (DOUBLE), bool, date, datetime
        (aware UTC for a zoned timestamp), timedelta (an interval of days and time)."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"


# --------------------------------------------------------------------------------------------
# DuckDB: in-process, one in-memory connection; each run is one transaction, rolled back

    def table_ddl(self, t: Table) -> list[str]:
        """The statements that make `t` an empty table: its schema, then a fresh table."""
        schema, _ = split_relation(t.name)
        rel = self.relation(t.name)
        cols = ", ".join(f"{self.quote(c)} {self._TYPES[ty]}" for c, ty in t.columns)
        first = [f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}"] if schema is not None else []
        return [*first, f"DROP TABLE IF EXISTS {rel}", f"CREATE TABLE {rel} ({cols})"]


class DuckDBEngine(Engine):
    name = "duckdb"
    _TYPES = {"string": "VARCHAR", "int": "BIGINT", "number": "DECIMAL(28, 10)", "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMPTZ"}

    def __init__(self):
        import duckdb

        self.version = duckdb.__version__
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")

    def run(self, sql: str, tables: list[Table]) -> list[dict]:
        _check_select(sql)
        _no_case_collisions(self.name, tables)
        loads = [(t, _checked(t)) for t in tables]
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            for t, rows in loads:
                for statement in self.table_ddl(t):
                    con.execute(statement)
                rel = self.relation(t.name)
                if rows:
                    data = _arrow(t, rows, names=[f"c{i}" for i in range(len(t.columns))])
                    con.register("__leadlang_load", data)
                    try:
                        con.execute(f"INSERT INTO {rel} SELECT * FROM __leadlang_load")
                    finally:
                        con.unregister("__leadlang_load")
            result = con.sql(sql)
            if result is None:
                raise ValueError("the statement returned no rows object: not a SELECT")
            types = [str(ty) for ty in result.types]
            names = list(result.columns)
            data = result.to_arrow_table()  # fetchall() would need pytz for TIMESTAMPTZ
        finally:
            con.execute("ROLLBACK")
        # Arrow carries HUGEINT (sum of BIGINT) as DECIMAL(38, 0): give it back as the int it is
        fix = [
            int if ty in ("HUGEINT", "UHUGEINT") else _aware_to_utc if ty.startswith("TIMESTAMP WITH TIME ZONE") else _interval if ty == "INTERVAL" else None
            for ty in types
        ]
        columns = [data.column(i).to_pylist() for i in range(data.num_columns)]
        return _result(names, zip(*columns) if columns else [], fix)

    def close(self) -> None:
        self.con.close()


# --------------------------------------------------------------------------------------------
# PostgreSQL: a real server from the pgserver wheel, in a temporary directory, one connection;
# each run is one transaction that is always rolled back (DDL included)


class PostgresEngine(Engine):
    name = "postgres"
    _TYPES = {"string": "TEXT", "int": "BIGINT", "number": "NUMERIC(28, 10)", "bool": "BOOLEAN", "date": "DATE", "timestamp": "TIMESTAMP WITH TIME ZONE"}
    MAX_IDENT = 63  # bytes: PostgreSQL silently truncates longer identifiers
    DATABASE = "leadlang"

    def __init__(self):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver
        import psycopg

        self._psycopg = psycopg
        self._dir = scratch_dir("leadlang-pg-")
        self._server = None
        self.con = None
        try:
            # as root, pgserver runs postgres as a system user `pgserver` it creates (useradd)
            self._server = pgserver.get_server(self._dir / "data", cleanup_mode="delete")
            self._create_database()
            self.con = psycopg.connect(self._server.get_uri(self.DATABASE), autocommit=True, options="-c TimeZone=UTC")
            self.con.execute("SET TIME ZONE 'UTC'")
            self.con.execute("SET statement_timeout = '120s'")
            self.con.execute("SET client_min_messages = warning")
            self.version = self.con.execute("SHOW server_version").fetchone()[0]
        except BaseException:
            self.close()
            raise

    def _create_database(self) -> None:
        """A database that sorts and compares text by code point, like Python and DuckDB, whatever
        locale initdb inherited (en_US.UTF-8 would put 'a' before 'B'); character classes stay UTF-8
        aware where the C.UTF-8 locale exists."""
        with self._psycopg.connect(self._server.get_uri(), autocommit=True) as admin:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):  # a throw-away server
                admin.execute(f"ALTER SYSTEM SET {setting} = off")
            admin.execute("SELECT pg_reload_conf()")
            for ctype in (" LC_CTYPE 'C.UTF-8'", ""):
                try:
                    admin.execute(f"CREATE DATABASE {self.DATABASE} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C'{ctype}")
                    return
                except self._psycopg.errors.Error:
                    if not ctype:
                        raise

    def quote(self, ident: str) -> str:
        if len(ident.encode()) > self.MAX_IDENT:
            raise ValueError(f"identifier {ident!r} is longer than PostgreSQL's {self.MAX_IDENT} bytes: it would be truncated")
        return super().quote(ident)

    def run(self, sql: str, tables: list[Table]) -> list[dict]:
        _check_select(sql)
        loads = [(t, _checked(t)) for t in tables]
        with self.con.transaction(force_rollback=True), self.con.cursor() as cur:
            for t, rows in loads:
                for statement in self.table_ddl(t):
                    cur.execute(statement)
                rel = self.relation(t.name)
                if rows:
                    with cur.copy(f"COPY {rel} FROM STDIN") as copy:
                        for r in rows:
                            copy.write_row(r)
            cur.execute(sql)
            if cur.description is None:
                raise ValueError("the statement returned no rows: not a SELECT")
            names = [d.name for d in cur.description]
            fetched = cur.fetchall()
        fix = [_aware_to_utc] * len(names)
        return _result(names, fetched, fix)

    def close(self) -> None:
        if self.con is not None:
            try:
                self.con.close()
            finally:
                self.con = None
        if self._server is not None:
            try:
                self._server.cleanup()  # stops the server and deletes its data directory
            finally:
                self._server = None
        shutil.rmtree(self._dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Spark: a local SparkSession (pyspark + Java 17), session time zone UTC. An unqualified table is
# a temporary view (any name); a schema-qualified one is a parquet table in a database of the
# session's temporary warehouse (Spark allows only letters, digits and _ in those names).


_LOG4J = """\
rootLogger.level = error
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def java_home() -> str:
    """JAVA_HOME, set from the `java` on PATH when unset; EngineUnavailable without Java 17+."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if home and not Path(java).exists():
        raise EngineUnavailable(f"Spark needs Java 17 or later: JAVA_HOME={home} has no bin/java")
    if not java:
        raise EngineUnavailable("Spark needs Java 17 or later: no `java` on PATH and no JAVA_HOME")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60).stderr
    except (OSError, subprocess.SubprocessError) as err:
        raise EngineUnavailable(f"Spark needs Java 17 or later: `{java} -version` failed: {err}") from None
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(m.group(1)) if m else 0
    if major == 1 and m and m.group(2):
        major = int(m.group(2))  # "1.8.0" is Java 8
    if major < 17:
        raise EngineUnavailable(f"Spark needs Java 17 or later, found: {out.strip().splitlines()[0] if out.strip() else java}")
    if not home:
        home = str(Path(os.path.realpath(java)).parent.parent)
        os.environ["JAVA_HOME"] = home
    return home


class SparkEngine(Engine):
    name = "spark"
    _NAME = re.compile(r"[A-Za-z0-9_]+")

    def __init__(self, master: str = "local[2]"):
        java_home()
        import logging

        from pyspark.logger import PySparkLogger
        from pyspark.sql import SparkSession
        from pyspark.sql import types as T

        self._T = T
        # pyspark logs every failed statement as a JSON stack trace before raising it
        for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
            PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only
        self._dir = scratch_dir("leadlang-spark-")
        (self._dir / "log4j2.properties").write_text(_LOG4J)
        # C1-only JIT and the serial GC: tiny queries, 2 cores; halves start-up and per-query time here.
        # One unsegmented 512 MB code cache: the suite compiles thousands of generated query classes and
        # method handles into one JVM, and the default segments ran out once ("Out of space in CodeCache
        # for method handle intrinsic"), killing the JVM for every Spark test after it.
        java_opts = (
            f"-Dlog4j2.configurationFile=file:{self._dir / 'log4j2.properties'} -Dderby.system.home={self._dir} "
            "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:-SegmentedCodeCache -XX:ReservedCodeCacheSize=512m"
        )
        self.spark = None
        self._created: list[tuple[str, str]] = []  # ("view" | "table", quoted name) of the last run
        try:
            self.spark = (
                SparkSession.builder.master(master)
                .appName("leadlang-tests")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.default.parallelism", "2")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.decimalOperations.allowPrecisionLoss", "false")  # exact products (docs/sql.md)
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.warehouse.dir", str(self._dir / "warehouse"))
                .config("spark.local.dir", str(self._dir / "local"))
                .config("spark.sql.catalogImplementation", "in-memory")
                .config("spark.driver.extraJavaOptions", java_opts)
                .config("spark.driver.memory", "1g")
                .getOrCreate()
            )
            self.spark.sparkContext.setLogLevel("ERROR")
            self.spark.conf.set("spark.sql.session.timeZone", "UTC")  # an existing session too
            self.version = self.spark.version
        except BaseException:
            self.close()
            raise

    def quote(self, ident: str) -> str:
        return "`" + ident.replace("`", "``") + "`"

    def _drop_previous(self) -> None:
        for kind, rel in self._created:
            if kind == "view":
                self.spark.sql(f"DROP VIEW IF EXISTS {rel}")
            else:
                self.spark.sql(f"DROP TABLE IF EXISTS {rel}")
        self._created = []

    def run(self, sql: str, tables: list[Table]) -> list[dict]:
        _check_select(sql)
        _no_case_collisions(self.name, tables)
        loads = [(t, _checked(t)) for t in tables]
        for t, _ in loads:
            schema, table = split_relation(t.name)
            if schema is not None and not (self._NAME.fullmatch(schema) and self._NAME.fullmatch(table)):
                raise ValueError(
                    f"relation {t.name!r}: Spark's catalog allows only letters, digits and _ in schema and "
                    "table names (an unqualified name can be anything: it becomes a temporary view)"
                )
        spark, T = self.spark, self._T
        self._drop_previous()
        types = {
            "string": T.StringType(), "int": T.LongType(), "number": T.DecimalType(28, 10), "bool": T.BooleanType(),
            "date": T.DateType(), "timestamp": T.TimestampType(),
        }
        for t, rows in loads:
            schema, _ = split_relation(t.name)
            rel = self.relation(t.name)
            struct = T.StructType([T.StructField(c, types[ty], True) for c, ty in t.columns])
            df = spark.createDataFrame(_arrow(t, rows))  # Arrow: no Python worker process, exact types
            if df.schema != struct:
                raise AssertionError(f"Spark loaded {t.name!r} as {df.schema}, expected {struct}")
            if schema is None:
                df.createOrReplaceTempView(rel)  # the name is parsed: quote it
                self._created.append(("view", rel))
            else:
                spark.sql(f"CREATE DATABASE IF NOT EXISTS {self.quote(schema)}")
                spark.sql(f"DROP TABLE IF EXISTS {rel}")
                df.write.format("parquet").saveAsTable(rel)
                self._created.append(("table", rel))
        result = spark.sql(sql)
        fields = result.schema.fields
        names = [f.name for f in fields]
        # pyspark turns a TIMESTAMP into a naive datetime in the *Python process's* local time zone
        # (datetime.fromtimestamp), whatever the session time zone: astimezone() reads it back as such.
        fix = [(lambda v: v.astimezone(UTC)) if isinstance(f.dataType, T.TimestampType) else None for f in fields]
        return _result(names, (tuple(r) for r in result.collect()), fix)

    def close(self) -> None:
        if self.spark is not None:
            try:
                self._drop_previous()
            except Exception:
                pass
            from pyspark import SparkContext

            self.spark.stop()
            self.spark = None
            gateway = SparkContext._gateway
            proc = getattr(gateway, "proc", None)
            if gateway is not None:
                try:
                    gateway.shutdown()
                except Exception:
                    pass
                SparkContext._gateway = None
                SparkContext._jvm = None
            if proc is not None:  # the JVM this engine started (by its own handle)
                try:
                    proc.stdin.close()
                    proc.wait(timeout=20)
                except Exception:
                    proc.kill()
        shutil.rmtree(self._dir, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# factories: EngineUnavailable when the engine cannot start here


def duckdb_engine() -> DuckDBEngine:
    try:
        return DuckDBEngine()
    except ImportError as err:
        raise EngineUnavailable(f"DuckDB is not installed: {err}") from err


def postgres_engine() -> PostgresEngine:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
            import pgserver  # noqa: F401
        import psycopg  # noqa: F401
    except ImportError as err:
        raise EngineUnavailable(f"PostgreSQL tests need `pip install pgserver 'psycopg[binary]'` ({err})") from err
    try:
        return PostgresEngine()
    except Exception as err:
        raise EngineUnavailable(f"PostgreSQL (pgserver) did not start: {type(err).__name__}: {err}") from err


# Spark compiles each query to Java (whole-stage codegen, Janino) before it runs: on a test's few rows
# that compilation is most of a query's time. Evaluated without codegen the results are the same (Spark
# runs its own tests both ways); tests that send many large statements (the semantics corpus, every
# aggregate) run in `interpreted(engine)`, the others keep codegen, so both paths stay covered.
_NO_CODEGEN = {"spark.sql.codegen.wholeStage": "false", "spark.sql.codegen.factoryMode": "NO_CODEGEN"}


@contextlib.contextmanager
def interpreted(engine):
    """On Spark, queries evaluated without generated code inside the block (restored after); elsewhere nothing."""
    if engine.name != "spark":
        yield engine
        return
    conf = engine.spark.conf
    saved = {k: conf.get(k, None) for k in _NO_CODEGEN}
    for k, v in _NO_CODEGEN.items():
        conf.set(k, v)
    try:
        yield engine
    finally:
        for k, v in saved.items():
            conf.unset(k) if v is None else conf.set(k, v)


def spark_engine(master: str = "local[2]") -> SparkEngine:
    try:
        import pyspark  # noqa: F401
    except ImportError as err:
        raise EngineUnavailable(f"Spark tests need `pip install pyspark` and Java 17+ ({err})") from err
    try:
        return SparkEngine(master)
    except EngineUnavailable:
        raise
    except Exception as err:
        raise EngineUnavailable(f"Spark did not start: {type(err).__name__}: {err}") from err


FACTORIES = {"duckdb": duckdb_engine, "postgres": postgres_engine, "spark": spark_engine}
