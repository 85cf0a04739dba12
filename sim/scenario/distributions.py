"""Random durations: how the Scenario document writes them, read and written back.

A ``Distribution`` is written as a duration (constant), ``{min, max}`` (uniform),
``{median, p99}`` (log-normal) or ``{mean}`` (exponential). ``DISTRIBUTION`` reads
that YAML; ``distribution_yaml`` and ``duration_yaml`` write values back in the form
that reads the same. Behaviours, cluster settings, actions, registries, traffic and
endpoint delays share them.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.behaviour import Distribution, DistributionKind
from sim.scenario.context import INVALID, REQUIRED, Ctx
from sim.scenario.durations import format_duration, parse_duration
from sim.scenario.fields import Custom, Duration, Field, Obj, Values
from sim.scenario.yamlio import is_mapping, is_sequence

DISTRIBUTION_FORMS = "a duration, {min, max}, {median, p99} or {mean}"


def _check_uniform(values: Values) -> None:
    if values.ok("min", "max") and values["min"] > values["max"]:
        values.at("max").invalid(values.node["max"], "must not be less than min")


def _check_lognormal(values: Values) -> None:
    if values.ok("median", "p99") and values["p99"] < values["median"]:
        values.at("p99").invalid(values.node["p99"], "must not be less than median")


_UNIFORM = Obj(
    (
        Field("min", Duration(), REQUIRED, "Smallest value."),
        Field("max", Duration(), REQUIRED, "Largest value."),
    ),
    check=_check_uniform,
    build=lambda v: Distribution(DistributionKind.UNIFORM, v["min"], v["max"]),
    description="Uniform between min and max.",
)
_LOGNORMAL = Obj(
    (
        Field("median", Duration(exclusive_minimum=True), REQUIRED, "Median."),
        Field("p99", Duration(), REQUIRED, "99th percentile."),
    ),
    check=_check_lognormal,
    build=lambda v: Distribution(DistributionKind.LOGNORMAL, v["median"], v["p99"]),
    description="Log-normal from its median and 99th percentile.",
)
_EXPONENTIAL = Obj(
    (Field("mean", Duration(exclusive_minimum=True), REQUIRED, "Mean."),),
    build=lambda v: Distribution(DistributionKind.EXPONENTIAL, v["mean"], v["mean"]),
    description="Exponential with this mean.",
)
_FORMS = (
    ("min", _UNIFORM),
    ("max", _UNIFORM),
    ("median", _LOGNORMAL),
    ("p99", _LOGNORMAL),
    ("mean", _EXPONENTIAL),
)
_CONSTANT = Duration()


def _read_distribution(ctx: Ctx, value: Any) -> Any:
    if not is_mapping(value):
        if is_sequence(value) or isinstance(value, bool):
            return ctx.invalid(value, f"must be {DISTRIBUTION_FORMS}")
        seconds = _CONSTANT.read(ctx, value)
        return INVALID if seconds is INVALID else Distribution.constant(seconds)
    for key, table in _FORMS:
        if key in value:
            return table.read(ctx, value)
    return ctx.invalid(value, f"must be {DISTRIBUTION_FORMS}")


DISTRIBUTION = Custom(
    _read_distribution,
    lambda defs: {
        "description": f"A random duration: {DISTRIBUTION_FORMS}.",
        "oneOf": [
            _CONSTANT.json_schema(defs),
            _UNIFORM.json_schema(defs),
            _LOGNORMAL.json_schema(defs),
            _EXPONENTIAL.json_schema(defs),
        ],
    },
    name="distribution",
)


def distribution_yaml(dist: Distribution) -> Any:
    """Write a distribution back as YAML (the inverse of ``DISTRIBUTION``)."""
    if dist.kind is DistributionKind.CONSTANT:
        return duration_yaml(dist.a)
    if dist.kind is DistributionKind.UNIFORM:
        return {"min": duration_yaml(dist.a), "max": duration_yaml(dist.b)}
    if dist.kind is DistributionKind.LOGNORMAL:
        return {"median": duration_yaml(dist.a), "p99": duration_yaml(dist.b)}
    return {"mean": duration_yaml(dist.a)}


def duration_yaml(seconds: float) -> str | float:
    """Write seconds as a Go duration when that is exact, as a number otherwise."""
    text = format_duration(seconds)
    return text if parse_duration(text, allow_infinite=True) == seconds else seconds
