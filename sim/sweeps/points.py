"""A sweep applied to its scenario: every point, read and checked before any run.

A parameter is applied by editing the documents of the resolved base scenario
(``resolved_yaml``, loaded as plain YAML values) at the parameter's path and
reading the text back with ``read_scenario_text``, so a point gets every check a
scenario file gets. A point that the reader refuses is reported against the
parameter (and value) that causes it, found by applying each value alone; when
only the combination fails, against the point.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from sim.analysis.metrics import pod_metrics
from sim.analysis.timeline import timeline_frame
from sim.kube.versions import problems as version_problems
from sim.scenario.context import Ctx, Reporter, show
from sim.scenario.document import DEFAULT_SEED, Scenario
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.reader import load_scenario, read_scenario_text
from sim.scenario.resolved import dump_documents, resolved_yaml
from sim.sweeps.design import design_points, run_seed
from sim.sweeps.document import Design, Parameter, SweepSpec, read_sweep_spec
from sim.sweeps.paths import Location, PathError, assign, locate
from sim.trace import ListRecorder

_SUGGESTION = re.compile(r'did you mean "([^"]+)"\?')
# Columns of the results that are not parameters (the metrics are not either).
FIXED_COLUMNS = ("point", "replication", "seed", "pod", "error")


@dataclass(frozen=True)
class Point:
    """One combination of parameter values, applied to the base scenario.

    Attributes
    ----------
    index
        Position in the sweep, from 0.
    values
        One value per parameter, in the parameters' order.
    scenario
        The base scenario with the values applied.
    resolved
        ``resolved_yaml`` of ``scenario`` with its own seed set to the default,
        which no run uses: what the cache key is made of.
    """

    index: int
    values: tuple[Any, ...]
    scenario: Scenario = field(repr=False, compare=False)
    resolved: str = field(repr=False, compare=False)


@dataclass(frozen=True)
class Sweep:
    """A sweep ready to run: the document, its base scenario and every point."""

    spec: SweepSpec
    base: Scenario = field(repr=False)
    scenario_path: Path
    points: tuple[Point, ...] = field(repr=False)
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def name(self) -> str:
        """``metadata.name``: names the results folder."""
        return self.spec.name

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """The parameters, in the file's order."""
        return self.spec.parameters

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metrics aggregated (every metric when the file names none)."""
        return self.spec.metrics

    @property
    def design(self) -> Design:
        """The design of the points."""
        return self.spec.design

    @property
    def replications(self) -> int:
        """Runs per point."""
        return self.spec.replications

    @property
    def run_count(self) -> int:
        """Points times replications."""
        return len(self.points) * self.spec.replications

    def seed_of(self, point: int, replication: int) -> int:
        """The seed of one run (``sim.sweeps.design.run_seed``)."""
        return run_seed(self.spec.seed, point, replication)

    def describe(self, point: int) -> str:
        """``name=value, ...`` of a point, for messages."""
        values = self.points[point].values
        return _describe(self.parameters, values)


def _describe(parameters: Sequence[Parameter], values: Sequence[Any]) -> str:
    return ", ".join(
        f"{p.name}={show(v)}" for p, v in zip(parameters, values, strict=True)
    )


def metric_names(scenario: Scenario) -> tuple[str, ...]:
    """The per-pod metric columns of a run (``sim.analysis.metrics.pod_metrics``)."""
    events = ListRecorder().to_frame(0)
    timeline = timeline_frame(events, scenario.duration_seconds)
    pod = scenario.pods[0] if scenario.pods else scenario.deployments[0].template
    return tuple(pod_metrics(events, timeline, scenario, pod))


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file and apply it to its scenario.

    Raises
    ------
    ScenarioError
        When the sweep file, its scenario or one of its points has errors: each
        problem with file, line and field.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise ScenarioError(
            [Problem(str(path), 0, "", f"cannot read the sweep: {reason}")]
        ) from None
    return read_sweep_text(text, str(path), path.parent)


def read_sweep_text(
    text: str, source: str = "<string>", base_dir: str | Path | None = None
) -> Sweep:
    """Read a sweep from YAML text and apply it to its scenario.

    Parameters
    ----------
    text
        The Sweep document.
    source
        File name used in problems.
    base_dir
        Folder that ``spec.scenario`` is relative to (default: the current one).

    Raises
    ------
    ScenarioError
        As ``load_sweep``.
    """
    spec = read_sweep_spec(text, source)
    scenario_path = Path(base_dir or ".") / spec.scenario
    if not scenario_path.is_file():
        raise ScenarioError(
            [
                spec.problem(
                    spec.scenario_line,
                    "spec.scenario",
                    f'Not found: "{spec.scenario}": no such file ({scenario_path})',
                )
            ]
        )
    return _Builder(spec, load_scenario(scenario_path)).build(scenario_path)


class _Builder:
    """Applies a sweep to its base scenario and collects the problems."""

    def __init__(self, spec: SweepSpec, base: Scenario) -> None:
        self.spec = spec
        self.base = base
        self.reporter = Reporter(spec.source)
        self.documents = list(YAML(typ="safe").load_all(resolved_yaml(base)))
        self.locations: list[Location] = []
        self.alone: dict[tuple[int, str], list[Problem]] = {}
        self.reported: set[tuple[int, str, str]] = set()

    def ctx(self, path: str, line: int) -> Ctx:
        return Ctx(self.reporter, self.spec.label, path, line)

    def build(self, scenario_path: Path) -> Sweep:
        spec = replace(self.spec, metrics=self._metrics())
        taken = (*FIXED_COLUMNS, *metric_names(self.base))
        for index, parameter in enumerate(spec.parameters):
            if parameter.name in taken:
                self.ctx(f"spec.parameters[{index}]", parameter.line).invalid(
                    parameter.name,
                    "the results have a column of that name: give the parameter "
                    "another name",
                )
            location = self._locate(index, parameter)
            if location is not None:
                self.locations.append(location)
        self._raise_errors()  # so every parameter has its location
        points: list[Point] = []
        warnings: dict[str, list[int]] = {}
        base_warnings = {_strip(w, self.base.source) for w in self.base.warnings}
        for index, values in enumerate(
            design_points(spec.design, spec.parameters, spec.seed)
        ):
            source = f"{spec.source} point {index}"
            read = self._read(list(zip(self.locations, values, strict=True)), source)
            if isinstance(read, Scenario):
                resolved = resolved_yaml(read.with_seed(DEFAULT_SEED))
                points.append(Point(index, values, read, resolved))
                for warning in read.warnings:
                    if _strip(warning, source) not in base_warnings:
                        warnings.setdefault(_strip(warning, source), []).append(index)
            else:
                self._report_point(index, values, read)
        self._raise_errors()
        return Sweep(
            spec,
            self.base,
            scenario_path,
            tuple(points),
            (*self.base.warnings, *_point_warnings(warnings)),
        )

    def _raise_errors(self) -> None:
        if self.reporter.error_count:
            errors = sorted(self.reporter.errors, key=lambda p: p.line)
            raise ScenarioError(errors, self.reporter.warnings)

    def _metrics(self) -> tuple[str, ...]:
        names = metric_names(self.base)
        for index, name in enumerate(self.spec.metrics):
            if name not in names:
                line = self.spec.metric_lines[index]
                self.ctx(f"spec.metrics[{index}]", line).unsupported(name, names)
        return self.spec.metrics or names

    def _locate(self, index: int, parameter: Parameter) -> Location | None:
        """Find a parameter's field; check a field that is created with the reader."""
        here = self.ctx(f"spec.parameters[{index}].path", parameter.path_line)
        try:
            location = locate(self.documents, parameter.path)
        except PathError as error:
            here.report(f'Not found: "{parameter.path}": {error}')
            return None
        if location.exists:
            return location
        last = str(location.field)
        for problem in self._alone(index, parameter.at(0.0), location):
            unknown = problem.message.startswith("unknown field")
            if unknown and problem.path.endswith((f".{last}", f"[{last}]")):
                found = _SUGGESTION.search(problem.message)
                hint = f'; did you mean "{found.group(1)}"?' if found else ""
                here.report(
                    f'Not found: "{parameter.path}": the scenario has no field '
                    f'"{last}" there{hint}'
                )
                return None
        return location

    def _read(
        self, edits: Sequence[tuple[Location, Any]], source: str
    ) -> Scenario | list[Problem]:
        """The base with values set at locations, or the reader's errors."""
        documents = copy.deepcopy(self.documents)
        for location, value in edits:
            try:
                assign(documents, location, value)
            except PathError as error:
                return [Problem("", 0, "", str(error))]
        try:
            scenario = read_scenario_text(dump_documents(documents), source)
        except ScenarioError as error:
            return [replace(p, file="", line=0) for p in error.problems]
        found = version_problems(scenario.cluster)
        return [Problem("", 0, "spec.cluster", text) for text in found] or scenario

    def _alone(
        self, index: int, value: Any, location: Location | None = None
    ) -> list[Problem]:
        """The errors of one parameter's value applied alone (memoised)."""
        key = (index, repr(value))
        if key not in self.alone:
            location = location or self.locations[index]
            source = f"{self.spec.source} parameter {index}"
            read = self._read([(location, value)], source)
            self.alone[key] = [] if isinstance(read, Scenario) else read
        return self.alone[key]

    def _report_point(
        self, point: int, values: Sequence[Any], problems: list[Problem]
    ) -> None:
        """Report a refused point against the values that cause its errors.

        A value causes an error of the point when applying it alone to the base
        scenario gives the same error; the errors no single value explains are
        reported against the combination.
        """
        unexplained = {_where(p) for p in problems}
        for index, value in enumerate(values):
            caused = {_where(p) for p in self._alone(index, value)} & unexplained
            parameter = self.spec.parameters[index]
            where, line = parameter.where(value)
            for message in sorted(caused):
                self._add(
                    line,
                    f"spec.parameters[{index}]{where}",
                    f"{parameter.path} = {show(value)}: {message}",
                )
            unexplained -= caused
        described = _describe(self.spec.parameters, values)
        for message in sorted(unexplained):
            self._add(
                self.spec.parameters_line,
                "spec.parameters",
                f"point {point} ({described}): {message}",
            )

    def _add(self, line: int, path: str, message: str) -> None:
        if (line, path, message) not in self.reported:
            self.reported.add((line, path, message))
            self.ctx(path, line).report(message)


def _where(problem: Problem) -> str:
    """``PATH: MESSAGE`` of a problem, without its (generated) file and line."""
    return f"{problem.path}: {problem.message}" if problem.path else problem.message


def _strip(warning: str, source: str) -> str:
    """A rendered problem without its file name and line."""
    return re.sub(rf"^{re.escape(source)}(:\d+)?: ", "", warning, count=1)


def _point_warnings(warnings: dict[str, list[int]]) -> list[str]:
    out = []
    for message, points in warnings.items():
        shown = ", ".join(str(p) for p in points[:10])
        more = f" and {len(points) - 10} more" if len(points) > 10 else ""
        out.append(f"point(s) {shown}{more}: {message}")
    return out
