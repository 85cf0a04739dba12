"""Where the reader is, and how it reports: contexts, problems, did-you-mean.

A ``Ctx`` carries the file, the document label, the field path and the line of the
node being read; its helpers report problems in the API server's wording
(``Invalid value``, ``Required value``, ``Unsupported value``...) to the ``Reporter``
that collects the problems of one file.
"""

from __future__ import annotations

import difflib
import enum
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sim.scenario.errors import Problem, Severity
from sim.scenario.yamlio import is_mapping, item_line, key_line, plain


class _Sentinel(enum.Enum):
    INVALID = "invalid"
    REQUIRED = "required"


INVALID = _Sentinel.INVALID
"""What a reader returns after it reported an error."""

REQUIRED = _Sentinel.REQUIRED
"""The default of a field that must be given."""


def show(value: Any) -> str:
    """Render a YAML value the way the API server prints an invalid value."""
    value = plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return repr(value)
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."


def quoted(values: Iterable[str]) -> str:
    """Render names as ``"a", "b", "c"``."""
    return ", ".join(f'"{v}"' for v in values)


def did_you_mean(word: object, candidates: Iterable[str]) -> str | None:
    """Return the candidate closest to ``word``, or None when none is close."""
    if not isinstance(word, str):
        return None
    names = list(dict.fromkeys(candidates))
    by_lower = {name.lower(): name for name in names}
    if word.lower() in by_lower and by_lower[word.lower()] != word:
        return by_lower[word.lower()]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if close:
        return close[0]
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def hint(word: object, candidates: Iterable[str]) -> str:
    """Return ``; did you mean "x"?`` or an empty string."""
    match = did_you_mean(word, candidates)
    return f'; did you mean "{match}"?' if match else ""


class Reporter:
    """Collects the problems of one file.

    ``context`` carries facts one part of the read needs from another (the pods, for
    the references of the Scenario document).
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.error_count = 0
        self.context: Any = None

    def add(self, problem: Problem) -> None:
        """Record a problem."""
        self.problems.append(problem)
        if problem.is_error:
            self.error_count += 1

    @property
    def errors(self) -> list[Problem]:
        """The errors so far."""
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        """The warnings so far."""
        return [p for p in self.problems if not p.is_error]


@dataclass(frozen=True)
class Ctx:
    """Where the reader is: file, document, field path and line.

    Child contexts come from ``key`` (a mapping field), ``item`` (a sequence item)
    and ``entry`` (a free-form mapping key, printed as ``labels[key]``).
    """

    reporter: Reporter
    label: str = ""
    path: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        """The problem path: document label and field path."""
        if self.label and self.path:
            return f"{self.label}: {self.path}"
        return self.label or self.path

    def key(self, mapping: Any, name: object) -> Ctx:
        """Context of the value of field ``name`` of ``mapping``."""
        path = f"{self.path}.{name}" if self.path else str(name)
        present = is_mapping(mapping) and name in mapping
        line = key_line(mapping, name) if present else self.line
        return Ctx(self.reporter, self.label, path, line or self.line)

    def item(self, sequence: Any, index: int) -> Ctx:
        """Context of item ``index`` of ``sequence``."""
        line = item_line(sequence, index)
        return Ctx(
            self.reporter, self.label, f"{self.path}[{index}]", line or self.line
        )

    def entry(self, mapping: Any, key: object) -> Ctx:
        """Context of a free-form key of ``mapping`` (``files[/tmp/x]``)."""
        line = key_line(mapping, key)
        return Ctx(self.reporter, self.label, f"{self.path}[{key}]", line or self.line)

    def report(self, message: str, severity: Severity = Severity.ERROR) -> _Sentinel:
        """Record a problem at this place; return ``INVALID`` for convenience."""
        self.reporter.add(
            Problem(self.reporter.file, self.line, self.where, message, severity)
        )
        return INVALID

    def warn(self, message: str) -> None:
        """Record a warning at this place."""
        self.report(message, Severity.WARNING)

    def invalid(self, value: Any, detail: str) -> _Sentinel:
        """Report ``Invalid value: VALUE: DETAIL``."""
        return self.report(f"Invalid value: {show(value)}: {detail}")

    def required(self, detail: str = "") -> _Sentinel:
        """Report ``Required value`` (with an optional detail)."""
        return self.report("Required value" + (f": {detail}" if detail else ""))

    def unsupported(self, value: Any, supported: Sequence[str]) -> _Sentinel:
        """Report ``Unsupported value`` with the supported values and a hint."""
        return self.report(
            f"Unsupported value: {show(value)}: supported values: "
            f"{quoted(supported)}{hint(value, supported)}"
        )

    def duplicate(self, value: Any) -> _Sentinel:
        """Report ``Duplicate value``."""
        return self.report(f"Duplicate value: {show(value)}")

    def forbidden(self, detail: str) -> _Sentinel:
        """Report ``Forbidden``."""
        return self.report(f"Forbidden: {detail}")

    def not_found(self, value: Any, detail: str, candidates: Iterable[str]) -> None:
        """Report ``Not found`` with a did-you-mean among ``candidates``."""
        self.report(f"Not found: {show(value)}: {detail}{hint(value, candidates)}")
