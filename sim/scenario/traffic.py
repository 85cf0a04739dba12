"""Reading traffic, endpoint delays and load of the Scenario document (R9).

``spec.traffic`` sends requests to a port of a Service of the file, at a rate that
may change over the scenario clock; kube-proxy's view of the Service's endpoints
routes them (R9.4). ``spec.endpoints`` says how long a pod's readiness takes to
reach that view: the EndpointSlice controller's delay (R9.3), kube-proxy's
``minSyncPeriod`` and ``syncPeriod``, and the time to apply the rules. A
behaviour's ``load`` says how the application slows down with the requests it
carries.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.behaviour import LoadBehaviour
from sim.scenario.context import INVALID, REQUIRED, Ctx, hint, quoted, show
from sim.scenario.distributions import DISTRIBUTION, distribution_yaml
from sim.scenario.document import Arrivals, EndpointsSpec, TrafficPhase, TrafficSpec
from sim.scenario.durations import format_duration
from sim.scenario.fields import (
    Bool,
    Choice,
    Duration,
    Field,
    ListOf,
    Number,
    Obj,
    Str,
    Values,
    ValueType,
)
from sim.scenario.pods import PORT
from sim.scenario.services import EXTERNAL_NAME, NO_SELECTOR
from sim.scenario.spec import Service
from sim.scenario.workloads import workloads_of

DEFAULT_TIMEOUT_SECONDS = 10.0
_DEFAULT_ENDPOINTS = EndpointsSpec()
_DEFAULT_LOAD = LoadBehaviour(capacity_per_second=1.0)
RATE = Number(minimum=0.0)


# Traffic ---------------------------------------------------------------------------

TRAFFIC_PHASE = Obj(
    (
        Field("from", Duration(), REQUIRED, "Scenario time from which the rate holds."),
        Field("rate", RATE, REQUIRED, "Requests per second (>= 0)."),
    ),
    build=lambda v: TrafficPhase(v["from"], v["rate"]),
    description="A request rate from a scenario time on.",
    schema_name="trafficPhase",
)


class TrafficPhases(ValueType):
    """A non-empty list of rates whose ``from`` starts at 0s and increases."""

    items = ListOf(TRAFFIC_PHASE)

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Read the phases, then check their order."""
        phases = self.items.read(ctx, value)
        if phases is INVALID:
            return INVALID
        if not phases:
            return ctx.required("at least one phase")
        previous = -1.0
        for index, phase in enumerate(phases):
            at = ctx.item(value, index).key(value[index], "from")
            raw = value[index].get("from")
            if index == 0 and phase.from_seconds != 0:
                return at.invalid(raw, "the first phase must start at 0s")
            if phase.from_seconds <= previous:
                return at.invalid(
                    raw,
                    "must be after the previous phase's from "
                    f"({format_duration(previous)})",
                )
            previous = phase.from_seconds
        return phases

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Array of phases."""
        schema = self.items.json_schema(defs)
        schema["minItems"] = 1
        return schema


def _service_port(service: Service, port: int | str) -> bool:
    """Whether ``port`` is the number or the name of a port of the Service."""
    return any(p.port == port or (p.name and p.name == port) for p in service.ports)


def _ports_text(service: Service) -> str:
    return ", ".join(
        f'{p.port} "{p.name}"' if p.name else str(p.port) for p in service.ports
    )


def _check_traffic(values: Values) -> None:
    """The Service exists and has the port; the port defaults to its only one."""
    workloads = workloads_of(values)
    name = values["service"]
    if workloads is None or name is INVALID:
        return
    service = workloads.service(name)
    if service is None:
        if name not in workloads.service_names:
            values.at("service").not_found(
                name, "no Service of that name", workloads.service_names
            )
        return
    if service.type == EXTERNAL_NAME:
        values.at("service").warn(
            f'Service "{name}" is of type ExternalName: it has no endpoints, every '
            "request fails"
        )
    elif not service.selector:
        values.at("service").warn(
            f'Service "{name}" {NO_SELECTOR}; every request fails'
        )
    port = values["port"]
    if port is INVALID:
        return
    if port is None:
        if len(service.ports) == 1:
            values.data["port"] = service.ports[0].port
        elif not service.ports:
            values.at("service").invalid(name, f'Service "{name}" has no ports')
        else:
            names = quoted(p.name for p in service.ports)
            values.at("port").required(
                f'Service "{name}" has {len(service.ports)} ports: name one of them '
                f"({names})"
            )
        return
    if not _service_port(service, port):
        port_names = [p.name for p in service.ports if p.name]
        values.at("port").report(
            f'Not found: {show(port)}: Service "{name}" has no port of that number '
            f"or name (its ports: {_ports_text(service)}){hint(port, port_names)}"
        )


def _build_traffic(values: Values) -> TrafficSpec:
    if "rate" in values.given:
        phases: tuple[TrafficPhase, ...] = (TrafficPhase(0.0, values["rate"]),)
    else:
        phases = values["phases"]
    return TrafficSpec(
        service=values["service"],
        port=values["port"],
        phases=phases,
        arrivals=values["arrivals"],
        path=values["path"],
        timeout_seconds=values["timeout"],
        record_requests=values["recordRequests"],
    )


def _request_path(path: str) -> str | None:
    return None if path.startswith("/") else "must start with '/'"


TRAFFIC = Obj(
    (
        Field("service", Str(), REQUIRED, "Name of a Service of the file."),
        Field(
            "port",
            PORT,
            None,
            "A port number or port name of the Service; its only port when left out.",
        ),
        Field("rate", RATE, None, "Requests per second from 0s on."),
        Field("phases", TrafficPhases(), None, "Rates over the scenario clock."),
        Field(
            "arrivals",
            Choice.of(Arrivals),
            Arrivals.POISSON,
            "Constant: evenly spaced; Poisson: a Poisson process.",
            Arrivals.POISSON.value,
        ),
        Field("path", Str(_request_path), "/", "Path requested on the pod.", "/"),
        Field(
            "timeout",
            Duration(exclusive_minimum=True),
            DEFAULT_TIMEOUT_SECONDS,
            "A request taking longer fails.",
            format_duration(DEFAULT_TIMEOUT_SECONDS),
        ),
        Field(
            "recordRequests",
            Bool(),
            False,
            "One event per request; otherwise counts per second and outcome.",
            False,
        ),
    ),
    check=_check_traffic,
    build=_build_traffic,
    description="Requests sent to a Service port: exactly one of rate, phases.",
    schema_name="traffic",
    exactly_one=("rate", "phases"),
)


# Endpoint delays -------------------------------------------------------------------


def _check_endpoints(values: Values) -> None:
    low, high = values["proxyMinSyncPeriod"], values["proxySyncPeriod"]
    if values.ok("proxyMinSyncPeriod", "proxySyncPeriod") and high < low:
        values.at("proxySyncPeriod").invalid(
            values.node.get("proxySyncPeriod"),
            "must be greater than or equal to proxyMinSyncPeriod",
        )


ENDPOINTS = Obj(
    (
        Field(
            "controllerDelay",
            DISTRIBUTION,
            _DEFAULT_ENDPOINTS.controller_delay,
            "From a pod's status change to its EndpointSlice update (R9.3).",
            distribution_yaml(_DEFAULT_ENDPOINTS.controller_delay),
        ),
        Field(
            "proxyMinSyncPeriod",
            Duration(),
            _DEFAULT_ENDPOINTS.proxy_min_sync_seconds,
            "kube-proxy programs rules no more often than this (R9.4).",
            format_duration(_DEFAULT_ENDPOINTS.proxy_min_sync_seconds),
        ),
        Field(
            "proxySyncPeriod",
            Duration(exclusive_minimum=True),
            _DEFAULT_ENDPOINTS.proxy_sync_seconds,
            "kube-proxy's full resync period.",
            format_duration(_DEFAULT_ENDPOINTS.proxy_sync_seconds),
        ),
        Field(
            "proxyApplyLatency",
            DISTRIBUTION,
            _DEFAULT_ENDPOINTS.proxy_apply_latency,
            "Time to apply the rules once a sync starts.",
            distribution_yaml(_DEFAULT_ENDPOINTS.proxy_apply_latency),
        ),
    ),
    check=_check_endpoints,
    build=lambda v: EndpointsSpec(
        controller_delay=v["controllerDelay"],
        proxy_min_sync_seconds=v["proxyMinSyncPeriod"],
        proxy_sync_seconds=v["proxySyncPeriod"],
        proxy_apply_latency=v["proxyApplyLatency"],
    ),
    description="Delays between a pod's readiness and the dataplane.",
    schema_name="endpoints",
)


# Load ------------------------------------------------------------------------------

LOAD = Obj(
    (
        Field(
            "capacity",
            Number(minimum=0.0, exclusive_minimum=True),
            REQUIRED,
            "Requests per second one pod serves (> 0).",
        ),
        Field(
            "window",
            Duration(exclusive_minimum=True),
            _DEFAULT_LOAD.window_seconds,
            "How far back the request rate is measured.",
            format_duration(_DEFAULT_LOAD.window_seconds),
        ),
        Field(
            "saturatedLatency",
            DISTRIBUTION,
            _DEFAULT_LOAD.saturated_latency,
            "Extra time of every answer at or above capacity.",
            distribution_yaml(_DEFAULT_LOAD.saturated_latency),
        ),
    ),
    build=lambda v: LoadBehaviour(v["capacity"], v["window"], v["saturatedLatency"]),
    description="How answers slow down with the requests a pod carries.",
    schema_name="loadBehaviour",
)
