"""Durations as scenario files write them: Go/Kubernetes strings or numbers of seconds.

``parse_duration`` accepts what ``time.ParseDuration`` accepts (``90s``, ``1m30s``,
``500ms``, ``1h2m3s``, ``2.5s``, ``250us``, ``0``) without a sign, plus plain
non-negative numbers of seconds. ``format_duration`` writes the shortest such string.
Both work in exact decimal arithmetic, so ``parse_duration(format_duration(x)) == x``
for every value that is a whole number of nanoseconds.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

# Nanoseconds per unit, as Go's time package spells the units.
_UNITS: dict[str, int] = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign
    "μs": 1_000,  # U+03BC Greek small letter mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)"
_TERM = re.compile(rf"({_NUMBER})([^\d.]*)")
_UNIT_NAMES = "h, m, s, ms, us, ns"
EXAMPLES = "such as 90s, 1m30s or 500ms, or a number of seconds"

# A regular expression for JSON Schema: a Go duration without a sign, or "0".
DURATION_PATTERN = r"^(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$"
INFINITY_WORDS = ("inf", "forever")
_NANOS_PER_SECOND = Decimal(1_000_000_000)


class DurationError(ValueError):
    """A value that is not a duration; ``detail`` says why without the value."""

    def __init__(self, value: object, detail: str) -> None:
        self.value = value
        self.detail = detail
        super().__init__(f"invalid duration {_show(value)}: {detail}")


def _show(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def parse_duration(value: object, *, allow_infinite: bool = False) -> float:
    """Return a duration in seconds.

    Parameters
    ----------
    value
        A non-negative int or float (seconds), or a Go duration string such as
        ``"1m30s"``, ``"500ms"`` or ``"0"``.
    allow_infinite
        Also accept ``inf`` (number or the words ``inf``/``forever``) as "never".

    Returns
    -------
    float
        Seconds.

    Raises
    ------
    DurationError
        (a ``ValueError``) when the value is not a non-negative duration.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DurationError(value, f"must be a duration {EXAMPLES}")
    if isinstance(value, int | float):
        return _check_number(value, float(value), allow_infinite)
    text = value
    if allow_infinite and text in INFINITY_WORDS:
        return math.inf
    if text.startswith("-"):
        raise DurationError(value, "must not be negative")
    if text.startswith("+"):
        text = text[1:]
    if text == "0":
        return 0.0
    if not text:
        raise DurationError(value, f"must be a duration {EXAMPLES}")
    nanos = Decimal(0)
    position = 0
    while position < len(text):
        match = _TERM.match(text, position)
        if match is None:
            raise DurationError(value, f"must be a duration {EXAMPLES}")
        number, unit = match.groups()
        if not unit:
            if position == 0 and match.end() == len(text):
                raise DurationError(
                    value,
                    "missing unit (write 30s, or a plain number of seconds "
                    "without quotes)",
                )
            raise DurationError(value, f"missing unit after {number}")
        if unit not in _UNITS:
            if unit.strip() != unit or " " in unit:
                raise DurationError(value, f"must be a duration {EXAMPLES}")
            raise DurationError(value, f'unknown unit "{unit}" (units: {_UNIT_NAMES})')
        nanos += Decimal(number) * _UNITS[unit]
        position = match.end()
    return float(nanos / _NANOS_PER_SECOND)


def _check_number(value: object, seconds: float, allow_infinite: bool) -> float:
    if math.isnan(seconds):
        raise DurationError(value, "must be a number")
    if seconds < 0:
        raise DurationError(value, "must not be negative")
    if math.isinf(seconds) and not allow_infinite:
        raise DurationError(value, "must be finite")
    return seconds


def format_duration(seconds: float) -> str:
    """Return the shortest Go-style string for a duration in seconds.

    ``90`` gives ``1m30s``, ``0.5`` gives ``500ms``, ``3600`` gives ``1h``,
    ``0`` gives ``0s`` and ``inf`` gives ``inf``. Values are rounded to whole
    nanoseconds.

    Raises
    ------
    ValueError
        For negative or NaN values.
    """
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"cannot format {seconds!r} as a duration")
    if math.isinf(seconds):
        return "inf"
    nanos = int((Decimal(seconds) * _NANOS_PER_SECOND).to_integral_value())
    if nanos == 0:
        return "0s"
    if nanos < _UNITS["s"]:
        for unit in ("ms", "us", "ns"):
            if nanos >= _UNITS[unit]:
                return _decimal(nanos, _UNITS[unit]) + unit
    hours, rest = divmod(nanos, _UNITS["h"])
    minutes, rest = divmod(rest, _UNITS["m"])
    parts = []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    if rest:
        parts.append(_decimal(rest, _UNITS["s"]) + "s")
    return "".join(parts)


def _decimal(nanos: int, per_unit: int) -> str:
    """Write ``nanos / per_unit`` as a decimal without trailing zeros."""
    whole, fraction = divmod(nanos, per_unit)
    if not fraction:
        return str(whole)
    digits = len(str(per_unit)) - 1
    return f"{whole}.{fraction:0{digits}d}".rstrip("0")
