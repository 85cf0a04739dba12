"""Reading ``spec.behaviours`` of the Scenario document, and random durations.

A behaviour says what Kubernetes cannot know about a container's application: when
files exist, what each port answers over the instance's uptime, when the process
exits by itself, how it takes SIGTERM and how it slows down under load. The tables
here turn that YAML into ``sim.scenario.behaviour.Behaviour``; random durations are
read by ``sim.scenario.distributions`` (re-exported here).
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Callable
from typing import Any

from sim.scenario.behaviour import (
    ZERO,
    Behaviour,
    Distribution,
    ExecBehaviour,
    ExitBehaviour,
    FileBehaviour,
    Flake,
    GRPCBehaviour,
    HTTPBehaviour,
    Phase,
    SigtermBehaviour,
    SigtermKind,
    TCPBehaviour,
    Window,
)
from sim.scenario.context import INVALID, REQUIRED, Ctx
from sim.scenario.distributions import DISTRIBUTION
from sim.scenario.distributions import DISTRIBUTION_FORMS as DISTRIBUTION_FORMS
from sim.scenario.distributions import distribution_yaml as distribution_yaml
from sim.scenario.distributions import duration_yaml as duration_yaml
from sim.scenario.durations import format_duration
from sim.scenario.fields import (
    Bool,
    Choice,
    Custom,
    Duration,
    Field,
    Int,
    ListOf,
    MapOf,
    Number,
    Obj,
    Str,
    Values,
    ValueType,
)
from sim.scenario.pods import PORT, STRINGS
from sim.scenario.traffic import LOAD
from sim.scenario.yamlio import is_mapping


class GrpcStatus(enum.IntEnum):
    """grpc.health.v1 ``ServingStatus`` codes."""

    UNKNOWN = 0
    SERVING = 1
    NOT_SERVING = 2
    SERVICE_UNKNOWN = 3


# Windows ---------------------------------------------------------------------------


def _check_window(values: Values) -> None:
    if values.ok("from", "until") and values["from"] >= values["until"]:
        values.at("until").invalid(values.node.get("until"), "must be after from")


WINDOW = Obj(
    (
        Field("from", Duration(), 0.0, "Start (uptime).", "0s"),
        Field("until", Duration(allow_infinite=True), math.inf, "End; forever."),
    ),
    check=_check_window,
    build=lambda v: Window(v["from"], v["until"]),
    description="A half-open interval [from, until) of the instance's uptime.",
    schema_name="window",
)
_WINDOW_LIST = ListOf(WINDOW)


def _read_windows(ctx: Ctx, value: Any) -> Any:
    if is_mapping(value):
        window = WINDOW.read(ctx, value)
        return INVALID if window is INVALID else (window,)
    return _WINDOW_LIST.read(ctx, value)


WINDOWS = Custom(
    _read_windows,
    lambda defs: {
        "description": "One window, or a list of windows.",
        "oneOf": [WINDOW.json_schema(defs), _WINDOW_LIST.json_schema(defs)],
    },
    name="windows",
)


# Phases ----------------------------------------------------------------------------


def _read_grpc_status(ctx: Ctx, value: Any) -> Any:
    if not isinstance(value, str) or value not in GrpcStatus.__members__:
        return ctx.unsupported(value, tuple(GrpcStatus.__members__))
    return int(GrpcStatus[value])


GRPC_STATUS = Custom(
    _read_grpc_status,
    {"type": "string", "enum": list(GrpcStatus.__members__)},
)
EXIT_CODE = Int(0, 255)


class PhaseKind(enum.Enum):
    """Where a list of phases is used: what ``status`` means there."""

    EXEC = "exec"
    HTTP = "http"
    GRPC = "grpc"


# Per kind: (status field, status type, default status, default flaky status,
# latency field name).
_PHASE_STATUS: dict[PhaseKind, tuple[str, ValueType, int, int, str]] = {
    PhaseKind.EXEC: ("exitCode", EXIT_CODE, 0, 1, "duration"),
    PhaseKind.HTTP: ("status", Int(100, 599), 200, 503, "latency"),
    PhaseKind.GRPC: ("status", GRPC_STATUS, 1, 2, "latency"),
}


def _phase_table(kind: PhaseKind) -> Obj:
    status_name, status_type, status_default, flaky_default, latency_name = (
        _PHASE_STATUS[kind]
    )
    shown = GrpcStatus(status_default).name if kind is PhaseKind.GRPC else None
    flaky = Obj(
        (
            Field("probability", Number(0.0, 1.0), REQUIRED, "Chance per attempt."),
            Field(status_name, status_type, flaky_default, "Status of a failure."),
        ),
        build=lambda v: Flake(v["probability"], v[status_name]),
        description="Random failures inside the phase.",
    )
    fields = [
        Field(
            "until",
            Duration(exclusive_minimum=True),
            math.inf,
            "The phase lasts while uptime < until; forever when left out.",
        ),
        Field(status_name, status_type, status_default, "Answer.", shown),
        Field(latency_name, DISTRIBUTION, None, "Time to answer."),
        Field("hang", Bool(), False, "No answer at all (the timeout fires).", False),
        Field("flaky", flaky, None, "Random failures."),
    ]
    if kind is PhaseKind.HTTP:
        fields.append(Field("location", Str(), "", "Location of a 3xx redirect."))
    if kind is PhaseKind.EXEC:
        fields.append(Field("output", Str(), "", "Output of the command."))

    def check(values: Values) -> None:
        status = values[status_name]
        if not values.ok("location", status_name) or not values["location"]:
            return
        if not 300 <= status < 400:
            values.at("location").invalid(
                values["location"], "only used with a redirect status (3xx)"
            )

    def build(values: Values) -> tuple[Phase, bool]:
        phase = Phase(
            status=values[status_name],
            until_seconds=values["until"],
            latency=values[latency_name] or ZERO,
            location=values.data.get("location", ""),
            flake=values["flaky"],
            hang=values["hang"],
            output=values.data.get("output", ""),
        )
        return phase, latency_name in values.given

    return Obj(
        tuple(fields),
        check=check if kind is PhaseKind.HTTP else None,
        build=build,
        description=f"One step of the {kind.value} answers over uptime.",
        schema_name=f"{kind.value}Phase",
    )


class Phases(ValueType):
    """A list of phases whose ``until`` increases strictly; only the last is open.

    Reads into a tuple of ``(Phase, latency_given)``, so the entry can fill in its
    default latency.
    """

    def __init__(self, kind: PhaseKind) -> None:
        self.items = ListOf(_phase_table(kind))

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Read the phases, then check their order."""
        phases = self.items.read(ctx, value)
        if phases is INVALID:
            return INVALID
        previous = 0.0
        for index, (phase, _) in enumerate(phases):
            here = ctx.item(value, index)
            if math.isinf(previous):
                return here.invalid(
                    value[index],
                    "unreachable: the phase before it has no until, so it lasts "
                    "forever",
                )
            if phase.until_seconds <= previous:
                return here.key(value[index], "until").invalid(
                    value[index].get("until"),
                    f"must be after the previous phase's until "
                    f"({format_duration(previous)})",
                )
            previous = phase.until_seconds
        return phases

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Array of phases."""
        schema = self.items.json_schema(defs)
        schema["minItems"] = 1
        return schema


def _with_latency(phases: Any, latency: Distribution | None) -> tuple[Phase, ...]:
    """Give the entry's default latency to the phases that set none."""
    return tuple(
        phase
        if given or latency is None
        else dataclasses.replace(phase, latency=latency)
        for phase, given in phases
    )


# Behaviour entries -----------------------------------------------------------------

EXEC_ENTRY = Obj(
    (
        Field("command", STRINGS, (), "The command; empty matches any command."),
        Field("responses", Phases(PhaseKind.EXEC), REQUIRED, "Answers over uptime."),
    ),
    build=lambda v: ExecBehaviour(v["command"], _with_latency(v["responses"], None)),
    schema_name="execBehaviour",
)
HTTP_ENTRY = Obj(
    (
        Field("port", PORT, REQUIRED, "Port number or container port name."),
        Field("path", Str(), "", "Request path; empty matches every path."),
        Field("responses", Phases(PhaseKind.HTTP), REQUIRED, "Answers over uptime."),
        Field("latency", DISTRIBUTION, None, "Latency of phases that give none."),
    ),
    build=lambda v: HTTPBehaviour(
        v["port"], v["path"], _with_latency(v["responses"], v["latency"])
    ),
    schema_name="httpBehaviour",
)
TCP_ENTRY = Obj(
    (
        Field("port", PORT, REQUIRED, "Port number or container port name."),
        Field("listening", WINDOWS, (Window(),), "When the port accepts; always."),
    ),
    build=lambda v: TCPBehaviour(v["port"], v["listening"]),
    schema_name="tcpBehaviour",
)
GRPC_ENTRY = Obj(
    (
        Field("port", PORT, REQUIRED, "Port number or container port name."),
        Field("service", Str(), None, "Service name; left out matches all."),
        Field("responses", Phases(PhaseKind.GRPC), REQUIRED, "Answers over uptime."),
        Field("latency", DISTRIBUTION, None, "Latency of phases that give none."),
    ),
    build=lambda v: GRPCBehaviour(
        v["port"], v["service"], _with_latency(v["responses"], v["latency"])
    ),
    schema_name="grpcBehaviour",
)
EXIT = Obj(
    (
        Field("after", DISTRIBUTION, REQUIRED, "Uptime at which the process exits."),
        Field("code", EXIT_CODE, 1, "Exit code.", 1),
    ),
    build=lambda v: ExitBehaviour(v["after"], v["code"]),
    schema_name="exitBehaviour",
)
_TRAP = Obj(
    (
        Field(
            "commandsEndAt",
            ListOf(Duration()),
            (),
            "Uptimes at which the shell's foreground commands end (sorted).",
        ),
        Field(
            "repeatEvery",
            Duration(),
            0.0,
            "After the last of them, a command ends this often (a loop); 0: never.",
            "0s",
        ),
    ),
    check=lambda v: _check_trap(v),
    description=(
        "A shell's TERM trap: the handler runs only when the current foreground "
        "command ends."
    ),
    schema_name="sigtermTrap",
)


def _check_trap(values: Values) -> None:
    ends = values["commandsEndAt"]
    if values.ok("commandsEndAt") and list(ends) != sorted(ends):
        values.at("commandsEndAt").invalid(list(ends), "must be in increasing order")


def _build_sigterm(values: Values) -> SigtermBehaviour:
    trap = values["trap"]
    if trap is None:
        return SigtermBehaviour(
            SigtermKind.EXIT, values["exitAfter"], values["exitCode"]
        )
    return SigtermBehaviour(
        SigtermKind.TRAP,
        values["exitAfter"],
        values["exitCode"],
        boundaries=tuple(trap["commandsEndAt"]),
        repeat_every=trap["repeatEvery"],
    )


_SIGTERM_EXIT = Obj(
    (
        Field("exitAfter", DISTRIBUTION, ZERO, "Delay before exiting.", "0s"),
        Field("exitCode", EXIT_CODE, 143, "Exit code.", 143),
        Field("trap", _TRAP, None, "Run as a shell trap (see sigtermTrap)."),
    ),
    build=_build_sigterm,
)
_SIGTERM_WORDS = Choice(("ignore", "exit"))


def _read_sigterm(ctx: Ctx, value: Any) -> Any:
    if is_mapping(value):
        return _SIGTERM_EXIT.read(ctx, value)
    word = _SIGTERM_WORDS.read(ctx, value)
    if word is INVALID:
        return INVALID
    return SigtermBehaviour(
        SigtermKind.IGNORE if word == "ignore" else SigtermKind.EXIT
    )


SIGTERM = Custom(
    _read_sigterm,
    lambda defs: {
        "description": "ignore, exit (at once, 143), or {exitAfter, exitCode}.",
        "oneOf": [_SIGTERM_WORDS.json_schema(defs), _SIGTERM_EXIT.json_schema(defs)],
    },
    name="sigterm",
)


def _build_behaviour(values: Values) -> Behaviour:
    return Behaviour(
        container=values["container"],
        pod=values["pod"],
        files=tuple(FileBehaviour(path, windows) for path, windows in values["files"]),
        exec=values["exec"],
        http=values["http"],
        tcp=values["tcp"],
        grpc=values["grpc"],
        exit=values["exit"],
        sigterm=values["sigterm"],
        load=values["load"],
        source_line=values.ctx.line,
    )


def behaviour_table(check: Callable[[Values], None] | None = None) -> Obj:
    """Return the behaviour table, with a reference check from the caller."""
    return Obj(
        (
            Field("container", Str(), REQUIRED, "Container name."),
            Field(
                "pod",
                Str(),
                "",
                "Pod or Deployment name; left out: every pod with the container.",
            ),
            Field("files", MapOf(WINDOWS), (), "Path to when the file exists."),
            Field("exec", ListOf(EXEC_ENTRY), (), "Exit codes of commands."),
            Field("http", ListOf(HTTP_ENTRY), (), "HTTP answers per port and path."),
            Field("tcp", ListOf(TCP_ENTRY), (), "When ports accept connections."),
            Field("grpc", ListOf(GRPC_ENTRY), (), "gRPC health answers per port."),
            Field("exit", EXIT, None, "The process exits by itself."),
            Field(
                "sigterm",
                SIGTERM,
                SigtermBehaviour(),
                "How PID 1 takes SIGTERM; exits at once with 143 when left out.",
                "exit",
            ),
            Field("load", LOAD, None, "How answers slow down with the load."),
        ),
        check=check,
        build=_build_behaviour,
        description="What the application in one container does.",
        schema_name="behaviour",
    )
