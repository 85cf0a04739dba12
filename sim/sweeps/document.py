"""Reading the Sweep document: which scenario, which parameters, which design.

A sweep file holds one YAML document (``apiVersion: probesim/v1alpha1``,
``kind: Sweep``). It is read with the scenario reader's field tables, so its
problems look like a scenario's (``FILE:LINE: Sweep "x": spec.seed: Invalid
value: -1: must be greater than or equal to 0``) and every one is reported.
``read_sweep_spec`` returns a ``SweepSpec``; applying it to the scenario is the
job of ``sim.sweeps.points``.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace
from typing import Any

from sim.scenario.context import INVALID, REQUIRED, Ctx, Reporter
from sim.scenario.durations import DurationError, parse_duration
from sim.scenario.errors import Problem, ScenarioError
from sim.scenario.fields import Choice, Custom, Field, Int, ListOf, Obj, Str, Values
from sim.scenario.names import DNS_SUBDOMAIN_PATTERN, dns_subdomain
from sim.scenario.yamlio import document_label, load_documents, plain
from sim.sweeps.paths import PathError, parse_path

API_VERSION = "probesim/v1alpha1"
KIND = "Sweep"
DEFAULT_SEED = 1
# Sampled durations are rounded to this many decimals of a second (milliseconds).
DURATION_DECIMALS = 3


class DesignType(enum.Enum):
    """How the points of a sweep are chosen."""

    GRID = "grid"
    RANDOM = "random"
    LATIN_HYPERCUBE = "latinHypercube"


@dataclass(frozen=True)
class Design:
    """The design: a grid of every combination, or ``samples`` drawn points."""

    type: DesignType = DesignType.GRID
    samples: int | None = None


class RangeKind(enum.Enum):
    """What a range holds: integers, real numbers, or durations (in seconds)."""

    INT = "int"
    FLOAT = "float"
    DURATION = "duration"


@dataclass(frozen=True)
class Range:
    """A closed interval ``[low, high]``, optionally stepped.

    ``raw`` keeps the bounds as the file wrote them (``1m``), for the resolved
    sweep.
    """

    low: float
    high: float
    kind: RangeKind
    step: float | None = None
    raw: tuple[tuple[str, Any], ...] = ()

    def at(self, u: float) -> int | float:
        """The value at the fraction ``u`` in [0, 1) of the interval.

        Integers are uniform over ``low..high`` (each the same share of [0, 1));
        durations are rounded to the millisecond.
        """
        if self.kind is RangeKind.INT:
            count = int(self.high - self.low) + 1
            return int(self.low) + min(math.floor(u * count), count - 1)
        value = self.low + u * (self.high - self.low)
        if self.kind is RangeKind.DURATION:
            return round(value, DURATION_DECIMALS)
        return value

    def lattice(self) -> tuple[int | float, ...]:
        """``low, low + step, ...`` up to ``high`` (needs a step)."""
        assert self.step is not None
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        if self.kind is RangeKind.INT:
            return tuple(int(self.low + k * self.step) for k in range(count))
        return tuple(round(self.low + k * self.step, 12) for k in range(count))


@dataclass(frozen=True)
class Parameter:
    """One field of the scenario that the sweep varies.

    Attributes
    ----------
    path
        The field, in the scenario file's spelling (``sim.sweeps.paths``).
    name
        The column name in the results: the path unless ``name`` was given.
    values
        The values given, or the values of a stepped range; empty for a range
        without step, which is sampled.
    range
        The range, when one was given.
    """

    path: str
    name: str
    values: tuple[Any, ...] = ()
    range: Range | None = None
    line: int = field(default=0, compare=False)
    path_line: int = field(default=0, compare=False)
    value_lines: tuple[int, ...] = field(default=(), compare=False)
    range_line: int = field(default=0, compare=False)

    def at(self, u: float) -> Any:
        """The value at the fraction ``u`` in [0, 1): of the values, or the range."""
        if self.values:
            count = len(self.values)
            return self.values[min(math.floor(u * count), count - 1)]
        assert self.range is not None
        return self.range.at(u)

    def where(self, value: Any) -> tuple[str, int]:
        """The field (``values[2]`` or ``range``) and line a value comes from."""
        if self.range is None:
            for index, given in enumerate(self.values):
                if given == value and type(given) is type(value):
                    return f".values[{index}]", self.value_lines[index]
        return ".range", self.range_line or self.line


@dataclass(frozen=True)
class SweepSpec:
    """A Sweep document as read: nothing applied to the scenario yet."""

    name: str
    scenario: str
    parameters: tuple[Parameter, ...]
    seed: int = DEFAULT_SEED
    replications: int = 1
    design: Design = Design()
    metrics: tuple[str, ...] = ()
    source: str = field(default="<string>", compare=False)
    scenario_line: int = field(default=0, compare=False)
    parameters_line: int = field(default=0, compare=False)
    metric_lines: tuple[int, ...] = field(default=(), compare=False)

    @property
    def label(self) -> str:
        """How problems name the document: ``Sweep "name"``."""
        return f'{KIND} "{self.name}"'

    def problem(self, line: int, path: str, message: str) -> Problem:
        """A problem of this sweep file at ``line`` and field ``path``."""
        return Problem(self.source, line, f"{self.label}: {path}", message)


# Reading -------------------------------------------------------------------------


def _any_value(ctx: Ctx, value: Any) -> Any:
    return plain(value)


def _bound(ctx: Ctx, value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return ctx.invalid(value, "must be a number or a duration (90s, 1m30s)")
    if isinstance(value, float) and not math.isfinite(value):
        return ctx.invalid(value, "must be a finite number")
    return plain(value)


_BOUND_SCHEMA = {"anyOf": [{"type": "number"}, {"type": "string"}]}


def _read_range(values: Values) -> Range | Any:
    """Build a range: kind from the bounds, then check order and step."""
    if not values.ok("min", "max", "step"):
        return INVALID
    names = [n for n in ("min", "max", "step") if values[n] is not None]
    raw = {n: values[n] for n in names}
    if any(isinstance(v, str) for v in raw.values()):
        kind = RangeKind.DURATION
    elif all(isinstance(v, int) for v in raw.values()):
        kind = RangeKind.INT
    else:
        kind = RangeKind.FLOAT
    numbers: dict[str, float] = {}
    for name, value in raw.items():
        try:
            numbers[name] = (
                parse_duration(value) if kind is RangeKind.DURATION else value
            )
        except DurationError as error:
            values.at(name).invalid(value, error.detail)
    if len(numbers) < len(raw):
        return INVALID
    if numbers["min"] > numbers["max"]:
        return values.at("max").invalid(raw["max"], "must not be less than min")
    step = numbers.get("step")
    if step is not None and step <= 0:
        return values.at("step").invalid(raw["step"], "must be greater than 0")
    return Range(numbers["min"], numbers["max"], kind, step, tuple(raw.items()))


RANGE = Obj(
    (
        Field("min", Custom(_bound, _BOUND_SCHEMA), REQUIRED, "Lowest value."),
        Field("max", Custom(_bound, _BOUND_SCHEMA), REQUIRED, "Highest value."),
        Field("step", Custom(_bound, _BOUND_SCHEMA), None, "Spacing for a grid."),
    ),
    build=_read_range,
)


def _check_parameter(values: Values) -> None:
    path = values["path"]
    if isinstance(path, str):
        try:
            parse_path(path)
        except PathError as error:
            values.at("path").invalid(path, error.detail)
    if "values" in values.given and values["values"] == ():
        values.at("values").required("give at least one value")


def _build_parameter(values: Values) -> Parameter:
    node = values.node
    given = node.get("values") or []
    here = values.at("values")
    bounds: Range | None = values["range"]
    chosen = values["values"] or (bounds.lattice() if bounds and bounds.step else ())
    return Parameter(
        path=values["path"],
        name=values["name"] or values["path"],
        values=tuple(chosen),
        range=bounds,
        line=values.ctx.line,
        path_line=values.at("path").line,
        value_lines=tuple(here.item(given, i).line for i in range(len(given))),
        range_line=values.at("range").line,
    )


PARAMETER = Obj(
    (
        Field("path", Str(), REQUIRED, "The scenario field to vary."),
        Field("name", Str(), "", "Column name in the results (default: the path)."),
        Field("values", ListOf(Custom(_any_value, {})), None, "The values."),
        Field("range", RANGE, None, "An interval, sampled or stepped."),
    ),
    check=_check_parameter,
    build=_build_parameter,
    exactly_one=("values", "range"),
)


def _check_design(values: Values) -> None:
    kind = values["type"]
    if kind is INVALID:
        return
    if kind is DesignType.GRID and values["samples"] is not None:
        values.at("samples").forbidden(
            "a grid runs every combination of the values; samples is for the "
            "random and latinHypercube designs"
        )
    if kind is not DesignType.GRID and values["samples"] is None:
        values.at("samples").required(f"the {kind.value} design draws samples points")


DESIGN = Obj(
    (
        Field("type", Choice.of(DesignType), DesignType.GRID, "How points are chosen."),
        Field("samples", Int(minimum=1), None, "Points drawn (random designs)."),
    ),
    check=_check_design,
    build=lambda v: Design(v["type"], v["samples"]),
)


def _read_design(ctx: Ctx, value: Any) -> Any:
    """A design, as a mapping or as the short form ``design: grid``."""
    return DESIGN.read(ctx, {"type": value} if isinstance(value, str) else value)


def _check_spec(values: Values) -> None:
    parameters = values["parameters"]
    if parameters is INVALID:
        return
    items = values.node.get("parameters")
    design = values["design"]
    seen: set[str] = set()
    for index, parameter in enumerate(parameters):
        here = values.at("parameters").item(items, index)
        if parameter.name in seen:
            field_name = "name" if "name" in items[index] else "path"
            here.key(items[index], field_name).duplicate(parameter.name)
        seen.add(parameter.name)
        grid = design is not INVALID and design.type is DesignType.GRID
        if grid and not parameter.values:
            here.key(items[index], "range").key(items[index]["range"], "step").required(
                "a grid runs every value of a range, so the range needs a step "
                "(or use the random or latinHypercube design)"
            )
    metrics = values["metrics"]
    if metrics is not INVALID:
        nodes = values.node.get("metrics")
        for index, name in enumerate(metrics):
            if name in metrics[:index]:
                values.at("metrics").item(nodes, index).duplicate(name)


def _build_spec(values: Values) -> SweepSpec:
    metrics = values.node.get("metrics") or []
    return SweepSpec(
        name="",
        scenario=values["scenario"],
        parameters=values["parameters"],
        seed=values["seed"],
        replications=values["replications"],
        design=values["design"],
        metrics=values["metrics"],
        scenario_line=values.at("scenario").line,
        parameters_line=values.at("parameters").line,
        metric_lines=tuple(
            values.at("metrics").item(metrics, i).line for i in range(len(metrics))
        ),
    )


SPEC = Obj(
    (
        Field("scenario", Str(), REQUIRED, "The scenario file, relative to this one."),
        Field("seed", Int(minimum=0, bits=None), DEFAULT_SEED, "Seed of every draw."),
        Field("replications", Int(minimum=1), 1, "Runs per point."),
        Field("design", Custom(_read_design, {}), Design(), "grid, random or LHS."),
        Field("parameters", ListOf(PARAMETER), REQUIRED, "The fields varied."),
        Field("metrics", ListOf(Str()), (), "Metrics to aggregate (default all)."),
    ),
    check=_check_spec,
    build=_build_spec,
)
METADATA = Obj(
    (Field("name", Str(dns_subdomain, DNS_SUBDOMAIN_PATTERN), REQUIRED, "Name."),),
    ignored=("labels", "annotations"),
    build=lambda v: v["name"],
)
DOCUMENT = Obj(
    (
        Field("apiVersion", Choice((API_VERSION,)), REQUIRED, "API version."),
        Field("kind", Choice((KIND,)), REQUIRED, "Sweep."),
        Field("metadata", METADATA, REQUIRED, "Name of the sweep."),
        Field("spec", SPEC, REQUIRED, "What to sweep."),
    ),
    ignored=("status",),
)


def read_sweep_spec(text: str, source: str = "<string>") -> SweepSpec:
    """Read a Sweep document from YAML text.

    Parameters
    ----------
    text
        The sweep file's text: one document.
    source
        File name used in problems.

    Raises
    ------
    ScenarioError
        Listing every problem of the document, each with file, line and field.
    """
    reporter = Reporter(source)
    documents, problems = load_documents(text, source)
    for problem in problems:
        reporter.add(problem)
    if not documents and not problems:
        reporter.add(Problem(source, 0, "", f"no {KIND} document: the file is empty"))
    for extra in documents[1:]:
        label = document_label(extra.data, extra.number)
        reporter.add(
            Problem(source, extra.line, label, f"a sweep file holds one {KIND} only")
        )
    spec: Any = INVALID
    if documents:
        first = documents[0]
        ctx = Ctx(reporter, document_label(first.data, first.number), "", first.line)
        values = DOCUMENT.read(ctx, first.data)
        if values is not INVALID:
            spec = replace(values["spec"], name=values["metadata"], source=source)
    if reporter.error_count or spec is INVALID:
        errors = sorted(reporter.errors, key=lambda p: p.line)
        raise ScenarioError(errors, reporter.warnings)
    return spec


# Writing -------------------------------------------------------------------------


def spec_document(spec: SweepSpec, scenario: str) -> dict[str, Any]:
    """The Sweep document with every default explicit, reading ``scenario``."""
    design: dict[str, Any] = {"type": spec.design.type.value}
    if spec.design.samples is not None:
        design["samples"] = spec.design.samples
    parameters = []
    for parameter in spec.parameters:
        entry: dict[str, Any] = {"path": parameter.path, "name": parameter.name}
        if parameter.range is not None:
            entry["range"] = dict(parameter.range.raw)
        else:
            entry["values"] = list(parameter.values)
        parameters.append(entry)
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": spec.name},
        "spec": {
            "scenario": scenario,
            "seed": spec.seed,
            "replications": spec.replications,
            "design": design,
            "parameters": parameters,
            "metrics": list(spec.metrics),
        },
    }
