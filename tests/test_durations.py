"""Durations: Go/Kubernetes strings and numbers of seconds, both ways."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.scenario.durations import DurationError, format_duration, parse_duration

VALID = [
    ("90s", 90.0),
    ("1m30s", 90.0),
    ("500ms", 0.5),
    ("1h", 3600.0),
    ("2.5s", 2.5),
    ("1h2m3s", 3723.0),
    ("250us", 0.00025),
    ("250µs", 0.00025),
    ("250μs", 0.00025),
    ("100ns", 1e-7),
    ("0", 0.0),
    ("0s", 0.0),
    ("1.5h", 5400.0),
    (".5s", 0.5),
    ("5.s", 5.0),
    ("+3s", 3.0),
    ("1m0.1s", 60.1),
    ("0.1s", 0.1),
    (0, 0.0),
    (30, 30.0),
    (2.5, 2.5),
    (0.001, 0.001),
]


@pytest.mark.parametrize(("text", "seconds"), VALID)
def test_parse_valid(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


INVALID = [
    ("10 seconds", "must be a duration such as 90s"),
    ("-5s", "must not be negative"),
    (-1, "must not be negative"),
    (-0.5, "must not be negative"),
    ("5x", 'unknown unit "x"'),
    ("5sec", 'unknown unit "sec"'),
    ("30", "missing unit"),
    ("1m30", "missing unit after 30"),
    ("", "must be a duration"),
    ("abc", "must be a duration"),
    ("1.5.5s", "missing unit after 1.5"),
    ("1m 30s", "must be a duration"),
    (" 5s", "must be a duration"),
    ("5s ", "must be a duration"),
    (True, "must be a duration"),
    (None, "must be a duration"),
    ([5], "must be a duration"),
    (float("nan"), "must be a number"),
    (float("inf"), "must be finite"),
    ("inf", "must be a duration"),
]


@pytest.mark.parametrize(("value", "fragment"), INVALID)
def test_parse_invalid(value: object, fragment: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(value)
    assert fragment in str(info.value)
    assert isinstance(info.value, ValueError)


def test_error_names_the_value() -> None:
    with pytest.raises(ValueError, match='invalid duration "5x"'):
        parse_duration("5x")


@pytest.mark.parametrize("word", ["inf", "forever", math.inf])
def test_infinite_only_when_allowed(word: object) -> None:
    assert parse_duration(word, allow_infinite=True) == math.inf


FORMATS = [
    (90.0, "1m30s"),
    (0.5, "500ms"),
    (30, "30s"),
    (3600, "1h"),
    (3661, "1h1m1s"),
    (7200.5, "2h0.5s"),
    (0, "0s"),
    (0.00025, "250us"),
    (1e-9, "1ns"),
    (0.0015, "1.5ms"),
    (90.5, "1m30.5s"),
    (600, "10m"),
    (math.inf, "inf"),
]


@pytest.mark.parametrize(("seconds", "text"), FORMATS)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("bad", [-1.0, float("nan")])
def test_format_rejects(bad: float) -> None:
    with pytest.raises(ValueError):
        format_duration(bad)


@given(st.integers(min_value=0, max_value=10**15))
def test_round_trip_whole_nanoseconds(nanos: int) -> None:
    seconds = nanos / 1e9
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.integers(min_value=0, max_value=10**6))
def test_round_trip_milliseconds(millis: int) -> None:
    seconds = millis / 1000
    text = format_duration(seconds)
    assert parse_duration(text) == seconds
    assert len(text) <= len(f"{seconds}s") + 4
