"""Times as ``kubectl`` prints them: human durations and RFC 1123 timestamps.

The scenario clock starts at ``EPOCH`` (t = 0 is that wall-clock instant). The API
server stores timestamps (``metav1.Time``) to the whole second, truncated, so every
timestamp is cut to the second before it is printed or subtracted.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

#: The wall clock at scenario time 0.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

# Go's names, whatever the locale Python runs in.
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
_NANOS = 1_000_000_000
_MINUTE = 60
_HOUR = 60 * _MINUTE


def _go_div(a: int, b: int) -> int:
    """Integer division truncated toward zero, as Go divides ``int`` values."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def human_duration(seconds: float) -> str:
    """Return ``duration.HumanDuration`` of a duration given in seconds.

    A port of ``k8s.io/apimachinery/pkg/util/duration.HumanDuration``, which
    ``kubectl`` uses for every age: whole seconds below 2 minutes (``119s``),
    minutes and seconds below 10 minutes (``2m27s``, ``5m``), minutes below
    3 hours (``95m``), hours and minutes below 8 hours (``3h10m``), hours below
    2 days (``20h``), days and hours below 8 days (``3d4h``), days below 2 years,
    then years and days below 8 years, then years. Every step truncates. A
    duration of at most 2 s in the future reads ``0s``; further ahead,
    ``<invalid>``.
    """
    nanos = round(seconds * _NANOS)
    whole = _go_div(nanos, _NANOS)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 2 * _MINUTE:
        return f"{whole}s"
    minutes = whole // _MINUTE
    if minutes < 10:
        rest = whole % _MINUTE
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 3 * 60:
        return f"{minutes}m"
    hours = whole // _HOUR
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    days = hours // 24
    if days < 365 * 2:
        return f"{days}d"
    if days < 365 * 8:
        rest = days % 365
        return f"{days // 365}y{rest}d" if rest else f"{days // 365}y"
    return f"{days // 365}y"


def api_seconds(seconds: float) -> int:
    """Return a scenario time as the API server stores it: cut to the second."""
    return math.floor(seconds)


def since(now: float, timestamp: float) -> str:
    """Return the age ``kubectl`` prints for a stored timestamp, seen at ``now``."""
    return human_duration(now - api_seconds(timestamp))


def rfc1123z(seconds: float) -> str:
    """Return a stored timestamp in Go's RFC 1123 layout with a numeric zone.

    ``0`` gives ``Thu, 01 Jan 2026 00:00:00 +0000`` (``kubectl describe``'s
    ``Start Time``, ``Started`` and ``Finished``).
    """
    moment = EPOCH + timedelta(seconds=api_seconds(seconds))
    day = _DAYS[moment.weekday()]
    month = _MONTHS[moment.month - 1]
    return f"{day}, {moment:%d} {month} {moment:%Y %H:%M:%S} +0000"
