"""The application inside a container: what it answers, when, and how it dies.

``Application`` answers one request from the prober as a pure function of the
behaviour, the instance's uptime, the scenario time (for faults) and draws from the
pod's random stream. It knows nothing of probes, thresholds or the kubelet.

Where the behaviour says nothing about a handler type (no ``http`` entries at all for an
HTTP probe, say), the application is assumed healthy: it answers at once with success.
The reader reports that assumption. Where the behaviour lists entries of that type but
none for the port asked, the port is closed.
"""

from __future__ import annotations

import bisect
import enum
import math
import shlex
from collections import deque
from dataclasses import dataclass

import numpy as np

from sim.scenario.behaviour import (
    Behaviour,
    Distribution,
    DistributionKind,
    ExecBehaviour,
    ExitBehaviour,
    GRPCBehaviour,
    HTTPBehaviour,
    Phase,
    RandomSource,
    SigtermBehaviour,
    phase_at,
)
from sim.scenario.document import Fault, FaultKind
from sim.scenario.spec import Container

# Typical durations when the behaviour gives none (kubelet-semantics.md section 12).
EXEC_LATENCY = Distribution(DistributionKind.UNIFORM, 0.005, 0.03)
NETWORK_LATENCY_SECONDS = 0.001


class AnswerKind(enum.Enum):
    """What came back from the application."""

    ANSWER = "answer"
    REFUSED = "refused"
    HANG = "hang"


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer: a status after a latency, a refusal, or nothing at all."""

    kind: AnswerKind
    status: int = 0
    latency_seconds: float = 0.0
    location: str = ""
    output: str = ""


REFUSED = Answer(AnswerKind.REFUSED, latency_seconds=NETWORK_LATENCY_SECONDS)
# A completed TCP handshake (R4.3).
ACCEPTED = Answer(AnswerKind.ANSWER, 0, NETWORK_LATENCY_SECONDS)
HANG = Answer(AnswerKind.HANG, latency_seconds=math.inf)

_SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/bash", "ash"})
_FILE_TESTS = frozenset({"-f", "-e", "-s", "-r"})


def checked_file(command: tuple[str, ...]) -> str | None:
    """Return the file a simple existence check reads, or None.

    Understands ``cat F``, ``ls F``, ``test -f F``, ``[ -f F ]`` and the same wrapped
    in ``sh -c``. Nothing is executed.
    """
    words = list(command)
    if len(words) == 3 and words[0] in _SHELLS and words[1] == "-c":
        try:
            words = shlex.split(words[2])
        except ValueError:
            return None
    if len(words) == 2 and words[0] in ("cat", "ls", "/bin/cat"):
        return words[1]
    if len(words) == 3 and words[0] == "test" and words[1] in _FILE_TESTS:
        return words[2]
    if len(words) == 4 and words[0] == "[" and words[1] in _FILE_TESTS:
        return words[2] if words[3] == "]" else None
    return None


class Application:
    """The application of one container of one pod, across its instances."""

    def __init__(
        self,
        container: Container,
        behaviour: Behaviour | None,
        rng: np.random.Generator,
    ) -> None:
        self.container = container
        self.behaviour = behaviour or Behaviour(container=container.name)
        self.rng = rng
        self._ports = {p.name: p.container_port for p in container.ports if p.name}
        # (instance, start, end): requests begun in [start, end) get no answer.
        self._hang: tuple[str, float, float] | None = None
        self._slow: list[tuple[float, float, Distribution]] = []
        self._arrivals: deque[float] = deque()
        self._boundaries = _uptime_boundaries(self.behaviour)

    # Faults on the scenario clock.

    def apply_fault(self, fault: Fault, now: float, instance_id: str) -> None:
        """Start a hang or slow-down, or end them (``recover``)."""
        if fault.kind is FaultKind.HANG:
            self._hang = (instance_id, now, now + fault.for_seconds)
            return

        if fault.kind is FaultKind.SLOW:
            self._slow.append((now, now + fault.for_seconds, fault.latency))
            return

        # A request begun before the recovery still saw the hang (an attempt the
        # fast path replays from its start asks about that earlier time).
        if fault.kind is FaultKind.RECOVER:
            if self._hang is not None:
                instance, start, end = self._hang
                self._hang = (instance, start, min(end, now))
            self._slow = [(start, now, lat) for start, end, lat in self._slow]

    def hung(self, instance_id: str, now: float) -> bool:
        """Whether the given instance is hung at ``now``."""
        return (
            self._hang is not None
            and self._hang[0] == instance_id
            and self._hang[1] <= now < self._hang[2]
        )

    def _extra_latency(self, now: float, rng: RandomSource | None = None) -> float:
        rng = rng or self.rng
        return sum(
            lat.sample(rng) for start, end, lat in self._slow if start <= now < end
        )

    def steady_until(self, uptime: float, now: float) -> tuple[float, float] | None:
        """How long every answer keeps its shape: (uptime, scenario time) horizons.

        Until the first of the two, each handler answers from the same phase, file
        and port windows and fault state as now, so its result changes only through
        draws. None when answers also depend on something else: the load carried
        (``load``), or a slow-down in force. Faults applied later are announced to
        the prober separately.
        """
        if self.behaviour.load is not None:
            return None
        if any(start <= now < end for start, end, _ in self._slow):
            return None
        after = bisect.bisect_right(self._boundaries, uptime)
        uptime_horizon = (
            self._boundaries[after] if after < len(self._boundaries) else math.inf
        )
        time_horizon = math.inf
        if self._hang is not None and now < self._hang[2]:
            time_horizon = self._hang[2]
        return uptime_horizon, time_horizon

    # Load (issue: load-coupled latency).

    def note_request(self, now: float) -> None:
        """Count a request arriving now towards the application's load."""
        if self.behaviour.load is not None:
            self._arrivals.append(now)

    def utilisation(self, now: float) -> float:
        """Requests per second over the load window, as a fraction of capacity."""
        load = self.behaviour.load
        if load is None:
            return 0.0
        while self._arrivals and self._arrivals[0] < now - load.window_seconds:
            self._arrivals.popleft()
        return len(self._arrivals) / (load.window_seconds * load.capacity_per_second)

    def _loaded(
        self, latency: float, now: float, rng: RandomSource | None = None
    ) -> float:
        # A single-server queue: latency grows as 1 / (1 - u); at or past
        # capacity the backlog adds the saturated latency.
        load = self.behaviour.load
        if load is None:
            return latency
        u = self.utilisation(now)
        if u >= 1.0:
            return latency + load.saturated_latency.sample(rng or self.rng)
        return latency / (1.0 - u)

    def _port_number(self, port: int | str) -> int | None:
        if isinstance(port, int):
            return port
        return self._ports.get(port)

    def _answer(
        self,
        phase: Phase | None,
        now: float,
        default_latency: float,
        rng: RandomSource,
    ) -> Answer:
        if phase is None:
            return REFUSED
        if phase.hang:
            return HANG
        status = phase.status
        if phase.flake is not None and rng.random() < phase.flake.probability:
            status = phase.flake.status
        latency = phase.latency.sample(rng) if own_latency(phase) else default_latency
        return Answer(
            AnswerKind.ANSWER,
            status=status,
            latency_seconds=self._loaded(latency, now, rng)
            + self._extra_latency(now, rng),
            location=phase.location,
            output=phase.output,
        )

    # Handlers.

    def exec(
        self,
        command: tuple[str, ...],
        uptime: float,
        now: float,
        instance_id: str,
        rng: RandomSource | None = None,
    ) -> Answer:
        """Run a command in the container: exit status as ``status``.

        ``rng`` is the stream to draw from (the pod's by default).
        """
        b = self.behaviour
        rng = rng or self.rng
        entry = self._exec_entry(command)
        if entry is not None:
            if self.hung(instance_id, now):
                return HANG
            default = EXEC_LATENCY.sample(rng)
            return self._answer(phase_at(entry.phases, uptime), now, default, rng)

        path = checked_file(command)
        latency = EXEC_LATENCY.sample(rng) + self._extra_latency(now, rng)
        if path is not None and b.files:
            for f in b.files:
                if f.path == path and f.exists(uptime):
                    return Answer(AnswerKind.ANSWER, 0, latency)
            return Answer(
                AnswerKind.ANSWER,
                1,
                latency,
                output=f"{command_name(command, path)}: can't open '{path}': "
                "No such file or directory",
            )

        # Nothing describes this command: assumed to succeed (reported by validate).
        return Answer(AnswerKind.ANSWER, 0, latency)

    def http(
        self,
        port: int,
        path: str,
        uptime: float,
        now: float,
        instance_id: str,
        rng: RandomSource | None = None,
    ) -> Answer:
        """Answer an HTTP request: status code as ``status`` (``rng``: see exec)."""
        b = self.behaviour
        rng = rng or self.rng
        if not b.http and not b.tcp and not b.grpc:
            latency = self._loaded(NETWORK_LATENCY_SECONDS, now, rng)
            return Answer(AnswerKind.ANSWER, 200, latency)
        candidates = [e for e in b.http if self._port_number(e.port) == port]
        if not candidates:
            return REFUSED
        if self.hung(instance_id, now):
            return HANG
        entry = _http_entry(candidates, path)
        if entry is None:
            return Answer(AnswerKind.ANSWER, 404, NETWORK_LATENCY_SECONDS)
        return self._answer(
            phase_at(entry.phases, uptime), now, NETWORK_LATENCY_SECONDS, rng
        )

    def tcp(self, port: int, uptime: float, now: float) -> Answer:
        """Accept or refuse a TCP connection.

        A hung or slow process still has its listening socket, and the kernel
        completes the handshake without the application (R4.3): hangs and
        slow-downs do not affect TCP.
        """
        b = self.behaviour
        if not b.http and not b.tcp and not b.grpc:
            return ACCEPTED
        for entry in b.tcp:
            if self._port_number(entry.port) != port:
                continue
            for window in entry.windows:
                if window.contains(uptime):
                    return ACCEPTED
            return REFUSED
        served = [e.port for e in b.http] + [e.port for e in b.grpc]
        if any(self._port_number(p) == port for p in served):
            return ACCEPTED
        return REFUSED

    def grpc(
        self,
        port: int,
        service: str,
        uptime: float,
        now: float,
        instance_id: str,
        rng: RandomSource | None = None,
    ) -> Answer:
        """Answer a grpc.health.v1 Check: serving status as ``status`` (see exec)."""
        b = self.behaviour
        if not b.http and not b.tcp and not b.grpc:
            return Answer(AnswerKind.ANSWER, 1, NETWORK_LATENCY_SECONDS)
        entry = self._grpc_entry(port, service)
        if entry is None:
            return REFUSED
        if self.hung(instance_id, now):
            return HANG
        return self._answer(
            phase_at(entry.phases, uptime),
            now,
            NETWORK_LATENCY_SECONDS,
            rng or self.rng,
        )

    # Which phase answers (for the probe worker's fast path).

    def _exec_entry(self, command: tuple[str, ...]) -> ExecBehaviour | None:
        for entry in self.behaviour.exec:
            if not entry.command or entry.command == command:
                return entry
        return None

    def _grpc_entry(self, port: int, service: str) -> GRPCBehaviour | None:
        for entry in self.behaviour.grpc:
            if self._port_number(entry.port) != port:
                continue
            if entry.service is not None and entry.service != service:
                continue
            return entry
        return None

    def exec_phase(
        self, command: tuple[str, ...], uptime: float, now: float, instance_id: str
    ) -> tuple[Phase, Distribution] | None:
        """The phase answering ``exec`` now and its default latency, if one does.

        None means the answer takes no draw that can change its result (a hang, a
        file check, an undescribed command).
        """
        entry = self._exec_entry(command)
        if entry is None or self.hung(instance_id, now):
            return None
        phase = phase_at(entry.phases, uptime)
        return None if phase is None else (phase, EXEC_LATENCY)

    def http_phase(
        self, port: int, path: str, uptime: float, now: float, instance_id: str
    ) -> tuple[Phase, Distribution] | None:
        """The phase answering ``http`` now and its default latency (see exec_phase)."""
        b = self.behaviour
        if not b.http and not b.tcp and not b.grpc:
            return None
        candidates = [e for e in b.http if self._port_number(e.port) == port]
        if not candidates or self.hung(instance_id, now):
            return None
        entry = _http_entry(candidates, path)
        phase = None if entry is None else phase_at(entry.phases, uptime)
        return None if phase is None else (phase, _NETWORK_LATENCY)

    def grpc_phase(
        self, port: int, service: str, uptime: float, now: float, instance_id: str
    ) -> tuple[Phase, Distribution] | None:
        """The phase answering ``grpc`` now and its default latency (see exec_phase)."""
        b = self.behaviour
        if not b.http and not b.tcp and not b.grpc:
            return None
        entry = self._grpc_entry(port, service)
        if entry is None or self.hung(instance_id, now):
            return None
        phase = phase_at(entry.phases, uptime)
        return None if phase is None else (phase, _NETWORK_LATENCY)

    # Process life.

    def draw_exit(self) -> tuple[float, int] | None:
        """Draw when a new instance ends by itself: (uptime seconds, exit code)."""
        exit_spec: ExitBehaviour | None = self.behaviour.exit
        if exit_spec is None:
            return None
        return exit_spec.after.sample(self.rng), exit_spec.exit_code

    @property
    def sigterm(self) -> SigtermBehaviour:
        """How PID 1 answers SIGTERM (R5.5)."""
        return self.behaviour.sigterm


_NETWORK_LATENCY = Distribution.constant(NETWORK_LATENCY_SECONDS)


def own_latency(phase: Phase) -> bool:
    """Whether a phase sets its own latency (else the handler's default applies)."""
    return phase.latency.kind is not DistributionKind.CONSTANT or bool(phase.latency.a)


def _http_entry(candidates: list[HTTPBehaviour], path: str) -> HTTPBehaviour | None:
    # An entry for the exact path wins over one for every path (empty path).
    exact = [e for e in candidates if e.path == path]
    for entry in exact or [e for e in candidates if not e.path]:
        return entry
    return None


def _uptime_boundaries(behaviour: Behaviour) -> list[float]:
    """Every uptime at which some answer of the behaviour may change, sorted."""
    edges: set[float] = set()
    for phases in (
        *(entry.phases for entry in behaviour.exec),
        *(entry.phases for entry in behaviour.http),
        *(entry.phases for entry in behaviour.grpc),
    ):
        edges.update(phase.until_seconds for phase in phases)
    for windows in (
        *(entry.windows for entry in behaviour.files),
        *(entry.windows for entry in behaviour.tcp),
    ):
        for window in windows:
            edges.update((window.from_seconds, window.until_seconds))
    return sorted(edge for edge in edges if math.isfinite(edge))


def command_name(command: tuple[str, ...], path: str) -> str:
    """Name of the program that reported a missing file, as busybox prints it."""
    for word in command:
        for token in word.split():
            if token in ("cat", "ls", "test", "["):
                return token
    return command[0] if command else "sh"
