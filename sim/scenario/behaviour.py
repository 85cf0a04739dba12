"""How an application behaves, on the clock of one container instance.

Kubernetes cannot know when a file exists, what ``/healthz`` answers or how the process
reacts to SIGTERM; the Scenario document says it. Every time here is seconds of the
instance's uptime (``t = 0`` at the instance's ``StartedAt``): a restart starts the
behaviour over. Scenario-clock faults (``sim.scenario.document.Fault``) override it.

A probe outcome is a pure function of (behaviour, uptime, scenario time, one random
draw), so the model can later jump over ticks where nothing can change.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np


class DistributionKind(enum.Enum):
    """Shape of a random duration."""

    CONSTANT = "constant"
    UNIFORM = "uniform"
    LOGNORMAL = "lognormal"
    EXPONENTIAL = "exponential"


class RandomSource(Protocol):
    """The draws a behaviour makes: a numpy ``Generator`` or a counting wrapper."""

    def random(self) -> float:
        """Draw U[0, 1)."""
        ...

    def uniform(self, low: float, high: float) -> float:
        """Draw U[low, high)."""
        ...

    def exponential(self, scale: float) -> float:
        """Draw an exponential with mean ``scale``."""
        ...

    def standard_normal(self) -> float:
        """Draw N(0, 1)."""
        ...


# The 99th percentile of the standard normal distribution.
_Z99 = 2.3263478740408408


@dataclass(frozen=True)
class Distribution:
    """A non-negative random duration in seconds.

    Written in YAML as a duration (constant), ``{min, max}`` (uniform),
    ``{median, p99}`` (log-normal) or ``{mean}`` (exponential).
    """

    kind: DistributionKind = DistributionKind.CONSTANT
    a: float = 0.0
    b: float = 0.0

    @classmethod
    def constant(cls, seconds: float) -> Distribution:
        """Return a distribution that always gives ``seconds``."""
        return cls(DistributionKind.CONSTANT, seconds, seconds)

    def sample(self, rng: RandomSource | np.random.Generator) -> float:
        """Draw one value in seconds."""
        if self.kind is DistributionKind.CONSTANT:
            return self.a
        if self.kind is DistributionKind.UNIFORM:
            return float(rng.uniform(self.a, self.b))
        if self.kind is DistributionKind.EXPONENTIAL:
            return float(rng.exponential(self.a))
        return float(self.a * math.exp(self.log_sigma * rng.standard_normal()))

    def samples(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values at once (equal in distribution to ``sample``)."""
        if self.kind is DistributionKind.CONSTANT:
            return np.full(n, self.a)
        if self.kind is DistributionKind.UNIFORM:
            return rng.uniform(self.a, self.b, size=n)
        if self.kind is DistributionKind.EXPONENTIAL:
            return rng.exponential(self.a, size=n)
        return self.a * np.exp(self.log_sigma * rng.standard_normal(n))

    @property
    def log_sigma(self) -> float:
        """The log-normal's sigma, from the median (a) and the 99th percentile (b)."""
        return math.log(self.b / self.a) / _Z99 if self.b > self.a else 0.0

    @property
    def is_random(self) -> bool:
        """Whether a draw is needed."""
        return self.kind is not DistributionKind.CONSTANT and self.b != self.a

    def upper_bound(self) -> float:
        """Largest value (infinite for unbounded shapes)."""
        if self.kind in (DistributionKind.CONSTANT, DistributionKind.UNIFORM):
            return self.b
        return math.inf


ZERO = Distribution.constant(0.0)


@dataclass(frozen=True)
class Window:
    """A half-open interval ``[from_seconds, until_seconds)`` of instance uptime."""

    from_seconds: float = 0.0
    until_seconds: float = math.inf

    def contains(self, uptime_seconds: float) -> bool:
        """Whether the uptime falls inside the window."""
        return self.from_seconds <= uptime_seconds < self.until_seconds


@dataclass(frozen=True)
class Flake:
    """Random failures inside a phase: each attempt fails with ``probability``."""

    probability: float
    status: int


@dataclass(frozen=True)
class Phase:
    """One step of a piecewise answer over uptime, valid while uptime < until.

    ``status`` is an HTTP status code, an exec exit code or a gRPC serving status code
    (1 SERVING, 2 NOT_SERVING, 0 UNKNOWN) depending on where the phase is used.
    ``hang`` means no answer at all (the caller's timeout fires).
    """

    status: int
    until_seconds: float = math.inf
    latency: Distribution = ZERO
    location: str = ""
    flake: Flake | None = None
    hang: bool = False
    output: str = ""


def phase_at(phases: tuple[Phase, ...], uptime_seconds: float) -> Phase | None:
    """Return the first phase whose ``until`` lies after the uptime."""
    for phase in phases:
        if uptime_seconds < phase.until_seconds:
            return phase
    return None


@dataclass(frozen=True)
class FileBehaviour:
    """When a file exists, for exec probes such as ``cat FILE`` or ``test -f FILE``."""

    path: str
    windows: tuple[Window, ...]

    def exists(self, uptime_seconds: float) -> bool:
        """Whether the file exists at this uptime."""
        return any(w.contains(uptime_seconds) for w in self.windows)


@dataclass(frozen=True)
class ExecBehaviour:
    """Exit codes of a command over uptime. An empty command matches any command."""

    command: tuple[str, ...]
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class HTTPBehaviour:
    """Responses of one port (and path; empty matches every path) over uptime."""

    port: int | str
    path: str
    phases: tuple[Phase, ...]


@dataclass(frozen=True)
class TCPBehaviour:
    """When a port accepts connections."""

    port: int | str
    windows: tuple[Window, ...]


@dataclass(frozen=True)
class GRPCBehaviour:
    """grpc.health.v1 answers of one port (and service; None matches all)."""

    port: int | str
    service: str | None
    phases: tuple[Phase, ...]


class SigtermKind(enum.Enum):
    """How PID 1 answers SIGTERM (R5.5)."""

    IGNORE = "ignore"
    EXIT = "exit"
    TRAP = "trap"


@dataclass(frozen=True)
class SigtermBehaviour:
    """SIGTERM handling: ignore it, exit ``exit_after`` later, or a shell trap.

    ``TRAP`` is a shell's ``trap ... TERM``: the shell runs the handler only when its
    current foreground command ends. ``boundaries`` are the uptimes at which a
    foreground command ends (sorted); after the last one they repeat every
    ``repeat_every`` seconds (a loop), or never (0). The handler then takes
    ``exit_after`` and the process exits with ``exit_code``.
    """

    kind: SigtermKind = SigtermKind.EXIT
    exit_after: Distribution = ZERO
    exit_code: int = 143
    boundaries: tuple[float, ...] = ()
    repeat_every: float = 0.0

    def next_boundary(self, uptime_seconds: float) -> float:
        """First foreground-command end at or after ``uptime_seconds`` (TRAP)."""
        for boundary in self.boundaries:
            if boundary >= uptime_seconds:
                return boundary
        if self.repeat_every <= 0:
            return math.inf
        last = self.boundaries[-1] if self.boundaries else 0.0
        periods = math.ceil((uptime_seconds - last) / self.repeat_every)
        return last + max(periods, 1) * self.repeat_every


@dataclass(frozen=True)
class ExitBehaviour:
    """The process ends by itself ``after`` seconds of uptime with ``exit_code``."""

    after: Distribution
    exit_code: int = 1


@dataclass(frozen=True)
class LoadBehaviour:
    """How the application's answers slow down with the load it carries.

    Each pod serves up to ``capacity_per_second`` requests per second. At a
    utilisation u (requests per second over capacity, measured over the last
    ``window_seconds``), every answer (requests and probes alike) takes
    ``1 / (1 - u)`` times its usual latency, as in a single-server queue; at or
    above capacity answers take ``saturated_latency`` more, so probes with short
    timeouts fail and liveness may restart a healthy but overloaded pod.
    """

    capacity_per_second: float
    window_seconds: float = 5.0
    saturated_latency: Distribution = Distribution.constant(30.0)


@dataclass(frozen=True)
class Behaviour:
    """Everything the model needs to know about one container's application.

    ``pod`` empty means every pod with a container of that name. ``assumed`` lists
    what the reader had to assume because nothing said it (reported by validate).
    """

    container: str
    pod: str = ""
    files: tuple[FileBehaviour, ...] = ()
    exec: tuple[ExecBehaviour, ...] = ()
    http: tuple[HTTPBehaviour, ...] = ()
    tcp: tuple[TCPBehaviour, ...] = ()
    grpc: tuple[GRPCBehaviour, ...] = ()
    exit: ExitBehaviour | None = None
    sigterm: SigtermBehaviour = SigtermBehaviour()
    load: LoadBehaviour | None = None
    assumed: tuple[str, ...] = ()
    source_line: int = field(default=0, compare=False)
