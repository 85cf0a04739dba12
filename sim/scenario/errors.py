"""Problems found while reading a scenario file, and the exception that carries them.

A ``Problem`` points at a file, a line and a field path, and renders the way a
compiler does (``FILE:LINE: PATH: MESSAGE``), so editors can jump to it. The reader
collects every problem of a file before it gives up: ``ScenarioError`` holds them all.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass


class Severity(enum.Enum):
    """How bad a problem is: errors stop the read, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with (or worth knowing about) a scenario file.

    Attributes
    ----------
    file
        The file name as given to the reader (``<string>`` for text).
    line
        1-based line of the offending node, 0 when unknown.
    path
        The document and field, as the API server prints it, e.g.
        ``Pod "web": spec.containers[0].livenessProbe.periodSeconds``. Empty when
        the problem concerns the whole file (broken YAML, missing file).
    message
        What is wrong, e.g. ``Invalid value: -1: must be greater than or equal to 0``.
    severity
        ``Severity.ERROR`` or ``Severity.WARNING``.
    """

    file: str
    line: int
    path: str
    message: str
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        """Render as ``FILE:LINE: PATH: MESSAGE`` (parts that are unknown left out)."""
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"

    @property
    def is_error(self) -> bool:
        """Whether this problem stops the read."""
        return self.severity is Severity.ERROR


class ScenarioError(Exception):
    """A scenario file could not be read; ``problems`` lists every error found.

    Parameters
    ----------
    problems
        The errors (at least one). Warnings found along the way are kept apart in
        ``warnings`` and are not part of the message.
    warnings
        Warnings found in the same read.
    """

    def __init__(
        self, problems: Iterable[Problem], warnings: Iterable[Problem] = ()
    ) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        super().__init__(self.render())

    def render(self) -> str:
        """Return every error, one per line."""
        return "\n".join(str(problem) for problem in self.problems)

    def __str__(self) -> str:
        """Render every error, one per line."""
        return self.render()
