"""Value semantics shared by the interpreter: three-valued logic, exact decimals, rounding."""

from __future__ import annotations

import datetime as dt
import decimal
import math
import operator
from decimal import ROUND_HALF_UP, Decimal
from typing import Callable

from leadlang.builtins import as_timestamp

# Exact decimal arithmetic: enough digits that no policy sees binary rounding.
CONTEXT = decimal.Context(prec=38, rounding=decimal.ROUND_HALF_EVEN)
CENT = Decimal("0.01")
PLACES = Decimal("1e-10")  # a number has at most 10 decimal places: SQL's DECIMAL(28, 10)
DECAY_PLACES = PLACES
NUMBER_LIMIT = Decimal(10) ** 18  # and at most 18 digits before the point
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # an int is 64-bit
_WIDE = decimal.Context(prec=80, rounding=ROUND_HALF_UP, traps=[decimal.InvalidOperation])


class OutOfRange(ArithmeticError):
    """A value outside the range every engine holds: ints are 64-bit, numbers below 10^18."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind  # "int" or "number"


def number(value) -> Decimal:
    """A number value: beyond 10 decimal places rounded half away from zero; OutOfRange
    when the exact value reaches 10^18 (before rounding, as a SQL engine's overflow does).

    Values with 10 places or fewer keep their form (`3.5` stays `3.5`)."""
    d = value if type(value) is Decimal else to_decimal(value)
    if not d.is_finite() or (d and d.adjusted() >= 18):  # a nonzero value's leading digit at 10^18 or above
        raise OutOfRange("number")
    if _over_10_places(d):
        try:
            d = d.quantize(PLACES, context=_WIDE)
        except decimal.InvalidOperation:
            raise OutOfRange("number") from None
        if abs(d) >= NUMBER_LIMIT:  # rounded up to 10^18
            raise OutOfRange("number")
    return d


def _over_10_places(d: Decimal) -> bool:
    """Whether a finite decimal's exponent is below -10 (more than 10 places, zeros included). Its text
    shows the places unless it is in exponent form, which only a tiny or a positive exponent takes:
    reading the text is several times faster than `as_tuple()`."""
    text = str(d)
    if "E" in text:
        return d.as_tuple().exponent < -10
    dot = text.find(".")
    return dot >= 0 and len(text) - dot > 11


def total(values) -> Decimal:
    """The exact sum of numbers (ints and Decimals), however many digits it needs."""
    result, add = Decimal(0), _WIDE.add
    for v in values:
        result = add(result, Decimal(repr(v)) if isinstance(v, float) else v)  # ints and Decimals as they are
    return result


def fits(d: Decimal) -> bool:
    """Whether `d` is a number value as it is (`number(d)` would return it unchanged)."""
    return d.is_finite() and abs(d) < NUMBER_LIMIT and not _over_10_places(d)


exact_add = _WIDE.add  # the exact sum of two numbers (80 digits hold any two), unchecked


def add_numbers(a: Decimal, b: Decimal) -> Decimal:
    """`arith("+", a, b)` for two values that `fit`: their exact sum fits too unless it reaches 10^18."""
    result = _WIDE.add(a, b)
    if result and result.adjusted() >= 18:  # its leading digit at 10^18 or above
        raise OutOfRange("number")
    return result


def scale(points: Decimal, n: int) -> Decimal:
    """`arith("*", points, n)` for `points` that `fit` and an int `n`: the exact product keeps the points'
    places, so only its range is left to check."""
    result = _WIDE.multiply(points, n)
    if result and result.adjusted() >= 18:
        raise OutOfRange("number")
    return result


def whole(value: int) -> int:
    """An int value; OutOfRange outside 64 bits."""
    if not INT_MIN <= value <= INT_MAX:
        raise OutOfRange("int")
    return value


def round2(value) -> Decimal:
    """Round to 2 places, half away from zero (Decimal's ROUND_HALF_UP)."""
    return (value if type(value) is Decimal else Decimal(value)).quantize(CENT, rounding=ROUND_HALF_UP, context=CONTEXT)


def round_decayed(value) -> Decimal:
    """A decayed sum of ten-billionths (`decay_weight` times values, exact) as a number with
    10 decimal places, half away from zero (OutOfRange from 10^18)."""
    try:
        return number(Decimal(value).quantize(DECAY_PLACES, context=_WIDE))
    except decimal.InvalidOperation:
        raise OutOfRange("number") from None


TWO_60 = 2.0 ** 60
TEN_10 = 10 ** 10


def decay_weight(age_us: int, half_life_us: float) -> int:
    """An event's decay weight in ten-billionths (0 .. 10^10), the rule of language.md §10, for an age in
    whole microseconds and the half-life in microseconds (as a double: `float(seconds * 1_000_000)`).

    `x = age_us / half_life_us` and `f = 0.5 ^ x` are binary64 doubles; `K = floor(f * 2^60)` is
    exact (a power of two scales a double exactly); the weight is `K / 2^60` to 10 places, half
    up: an integer computed the same way by every engine."""
    k = math.floor(0.5 ** (age_us / half_life_us) * TWO_60)
    return (k * 9765625 + 2 ** 49) >> 50  # round(K * 10^10 / 2^60) = round(K * 5^10 / 2^50)


def decayed_count(weights) -> Decimal:
    """The sum of the events' weights: exact, 10 places."""
    return number(Decimal(sum(weights)).scaleb(-10, context=_WIDE))


def decayed_sum(pairs) -> Decimal:
    """The exact sum of value x weight over `(value, weight)` pairs, rounded once to 10 places."""
    units = total(_WIDE.multiply(to_decimal(v), w) for v, w in pairs)
    return round_decayed(units.scaleb(-10, context=_WIDE))


def to_decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


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
    """`a op b` exactly, then as a value (`number`, `whole`): OutOfRange when it does not fit."""
    return ARITHMETIC[op](a, b)


def _divide(a, b):
    """`a / b`: missing when either is or `b` is 0; a number."""
    if a is None or b is None:
        return None
    if b == 0:
        return None
    return number(_WIDE.divide(to_decimal(a), to_decimal(b)))


def _exact(ints: Callable[[int, int], int], decimals: Callable[[Decimal, Decimal], Decimal]) -> Callable:
    """`a op b` for one of `+ - *`: exact on two ints (a 64-bit `whole`), else on two decimals (a `number`);
    missing when either is."""
    def op(a, b):
        if a is None or b is None:
            return None
        if type(a) is int and type(b) is int or isinstance(a, int) and isinstance(b, int):
            return whole(ints(a, b))
        return number(decimals(a if type(a) is Decimal else to_decimal(a), b if type(b) is Decimal else to_decimal(b)))
    return op


# each operator's closure, picked once when an expression is compiled
ARITHMETIC: dict[str, Callable] = {"+": _exact(operator.add, _WIDE.add), "-": _exact(operator.sub, _WIDE.subtract),
                                   "*": _exact(operator.mul, _WIDE.multiply), "/": _divide}


def show(value) -> str:
    """A value as people read it in reports: `missing`, `true`, ISO times with `Z`."""
    if value is None:
        return "missing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)
