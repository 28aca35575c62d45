"""Value semantics shared by the interpreter: three-valued logic, exact decimals, rounding."""

from __future__ import annotations

import datetime as dt
import decimal
from decimal import ROUND_HALF_UP, Decimal

# Exact decimal arithmetic: enough digits that no policy sees binary rounding.
CONTEXT = decimal.Context(prec=38, rounding=decimal.ROUND_HALF_EVEN)
CENT = Decimal("0.01")
DECAY_PLACES = Decimal("1e-10")
SECONDS_PER_DAY = 86400


def round2(value) -> Decimal:
    """Round to 2 places, half away from zero (Decimal's ROUND_HALF_UP)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP, context=CONTEXT)


def round_decayed(value) -> Decimal:
    """A decayed count or sum is a number with 10 decimal places, half away from zero.

    Decay (`0.5 ^ (age / half-life)`) is not a decimal; fixing its places makes the
    result one number that every engine reproduces, not one that depends on the
    precision of each warehouse's floating point near a rounding boundary."""
    return Decimal(value).quantize(DECAY_PLACES, rounding=ROUND_HALF_UP, context=CONTEXT)


def to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def as_timestamp(value):
    """Dates compare with timestamps as midnight UTC."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    return value


def comparable(a, b):
    """Bring two present values to one comparable form."""
    if isinstance(a, dt.date) or isinstance(b, dt.date):
        if type(a) is not type(b):
            return as_timestamp(a), as_timestamp(b)
    return a, b


def logic_and(a, b):
    if a is False or b is False:
        return False
    if a is None or b is None:
        return None
    return True


def logic_or(a, b):
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


def logic_not(a):
    return None if a is None else not a


def compare(op: str, a, b):
    if a is None or b is None:
        return None
    a, b = comparable(a, b)
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def arith(op: str, a, b):
    if a is None or b is None:
        return None
    if op == "/":
        if b == 0:
            return None
        return CONTEXT.divide(to_decimal(a), to_decimal(b))
    if isinstance(a, int) and isinstance(b, int):
        return a + b if op == "+" else a - b if op == "-" else a * b
    a, b = to_decimal(a), to_decimal(b)
    if op == "+":
        return CONTEXT.add(a, b)
    if op == "-":
        return CONTEXT.subtract(a, b)
    return CONTEXT.multiply(a, b)


def days_between(start, end: dt.datetime) -> int:
    """Whole days from `start` to `end`, rounded down."""
    seconds = (end - as_timestamp(start)).total_seconds()
    return int(seconds // SECONDS_PER_DAY)


def email_domain(email: str):
    """The lower-cased part after the last `@`; missing when there is none."""
    if "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].lower()
    return domain or None


def sql_trim(text: str) -> str:
    """SQL's TRIM: spaces only, both ends."""
    return text.strip(" ")


def show(value) -> str:
    """A value as people read it in reports: `missing`, `true`, ISO times with `Z`."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)
