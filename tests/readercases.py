"""Shared helpers for the reader's malformed-input tables.

A case is a whole scenario text with a ``#!`` marker on the line the error must
point at, the field path the error must name, and a fragment of its message.
"""

from __future__ import annotations

import pytest

from sim.scenario.errors import Problem, ScenarioError, Severity
from sim.scenario.reader import read_scenario_text

FILE = "case.yaml"


def marked_line(text: str) -> int:
    """The 1-based line carrying the ``#!`` marker."""
    for number, line in enumerate(text.splitlines(), start=1):
        if "#!" in line:
            return number
    raise AssertionError("no #! marker in the case")


def errors_of(text: str, source: str = FILE) -> tuple[Problem, ...]:
    """The errors of a text that must not read."""
    with pytest.raises(ScenarioError) as info:
        read_scenario_text(text, source)
    return info.value.problems


def assert_reported(
    text: str, path: str, fragment: str, *, prefix: bool = False, line: bool = True
) -> Problem:
    """Assert the text fails with an error at its marked line, path and message.

    ``prefix``: the message must start with the fragment, not merely contain it.
    ``line``: check the line (off for problems of the whole file).
    """
    problems = errors_of(text)
    matching = [
        p
        for p in problems
        if p.path == path
        and (p.message.startswith(fragment) if prefix else fragment in p.message)
    ]
    assert matching, "\n".join(str(p) for p in problems)
    problem = matching[0]
    assert problem.file == FILE
    if line:
        assert problem.line == marked_line(text), str(problem)
    assert problem.severity is Severity.ERROR
    return problem
