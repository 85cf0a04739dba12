"""Behaviour switches per Kubernetes release and feature gate, in one place.

"What changes in 1.35" is one read of ``SWITCHES`` here and of ``GATES`` in
``sim.scenario.gates`` (kept with the reader, which validates gate settings). Each
entry is named after the upstream pull request or gate it follows; ``resolve``
turns a cluster's version and explicit gate settings into the flat
``KubeletFeatures`` the model reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.scenario.document import ClusterSpec, ReducedDecayReading
from sim.scenario.gates import GATE_NAMES, GATES, Gate, gate_problem

__all__ = ["GATES", "GATE_NAMES", "SWITCHES", "Gate", "KubeletFeatures", "resolve"]

SUPPORTED_MINORS = range(27, 36)


@dataclass(frozen=True)
class Switch:
    """A behaviour that changed in one release, with no gate to turn it off."""

    name: str
    since_minor: int
    upstream: str
    summary: str


# Releases in which a behaviour changed without a gate (fidelity.md, R3 and R6).
SWITCHES: tuple[Switch, ...] = (
    Switch(
        "readiness_ticker_reset",
        32,
        "PR #119089",
        "R3.9: the manual readiness trigger re-arms the readiness ticker",
    ),
    Switch(
        "startup_hold_after_success",
        32,
        "PR #121206",
        "R3.7: the startup worker goes on hold after publishing Success",
    ),
    Switch(
        "backoff_reset_fixed",
        32,
        "KEP-4603",
        "R6.1: a CrashLoopBackOff entry expires 600 s after its last update "
        "(before: 2 x max back-off)",
    ),
    Switch(
        "crashloop_retry_at_expiry",
        35,
        "PR #133066",
        "R6.3: in back-off the pod worker re-queues at the back-off expiry "
        "instead of the 10-15 s error grid",
    ),
)

# CrashLoopBackOff constants (kubelet.go initialCrashLoopBackOff, MaxCrashLoopBackOff).
CRASHLOOP_INITIAL_SECONDS = 10.0
CRASHLOOP_MAX_SECONDS = 300.0
REDUCED_CRASHLOOP_INITIAL_SECONDS = 1.0
REDUCED_CRASHLOOP_MAX_SECONDS = 60.0
BACKOFF_RESET_SECONDS = 600.0


class VersionError(ValueError):
    """A cluster setting that the chosen release does not allow."""


@dataclass(frozen=True)
class KubeletFeatures:
    """Every version-dependent behaviour, resolved for one cluster."""

    minor: int
    readiness_ticker_reset: bool
    startup_hold_after_success: bool
    crashloop_retry_at_expiry: bool
    exec_probe_timeout: bool
    probe_termination_grace_period: bool
    crashloop_initial_seconds: float
    crashloop_max_seconds: float
    backoff_reset_seconds: float

    @property
    def user_agent(self) -> str:
        """``User-Agent`` header of HTTP probes (R4.2)."""
        return f"kube-probe/1.{self.minor}"


def problems(cluster: ClusterSpec) -> list[str]:
    """List what is wrong with a cluster's version and gate settings."""
    found: list[str] = []
    try:
        minor = cluster.version_minor
    except (IndexError, ValueError):
        return [f"kubernetesVersion {cluster.kubernetes_version!r} is not 1.MINOR"]
    if minor not in SUPPORTED_MINORS:
        found.append(
            f"kubernetesVersion {cluster.kubernetes_version!r} is not supported: "
            f"supported values are 1.{SUPPORTED_MINORS[0]} to 1.{SUPPORTED_MINORS[-1]}"
        )
        return found
    for name, value in cluster.feature_gates:
        problem = gate_problem(name, value, minor)
        if problem is not None:
            found.append(problem)
    return found


def resolve(cluster: ClusterSpec) -> KubeletFeatures:
    """Resolve a cluster's version and gates into ``KubeletFeatures``.

    Raises
    ------
    VersionError
        When the version is unsupported or a gate setting is not allowed.
    """
    found = problems(cluster)
    if found:
        raise VersionError("; ".join(found))
    minor = cluster.version_minor

    def gate(name: str) -> bool:
        explicit = cluster.gate(name)
        if explicit is not None:
            return explicit
        return next(g for g in GATES if g.name == name).default(minor)

    def switch(name: str) -> bool:
        return minor >= next(s for s in SWITCHES if s.name == name).since_minor

    initial, maximum = _crashloop_bounds(cluster, minor, gate)
    reset = BACKOFF_RESET_SECONDS if switch("backoff_reset_fixed") else 2 * maximum
    return KubeletFeatures(
        minor=minor,
        readiness_ticker_reset=switch("readiness_ticker_reset"),
        startup_hold_after_success=switch("startup_hold_after_success"),
        crashloop_retry_at_expiry=switch("crashloop_retry_at_expiry"),
        exec_probe_timeout=gate("ExecProbeTimeout"),
        probe_termination_grace_period=gate("ProbeTerminationGracePeriod"),
        crashloop_initial_seconds=initial,
        crashloop_max_seconds=maximum,
        backoff_reset_seconds=reset,
    )


def _crashloop_bounds(cluster: ClusterSpec, minor: int, gate) -> tuple[float, float]:
    # R6.1: the default is 10 s doubling to 300 s.
    initial, maximum = CRASHLOOP_INITIAL_SECONDS, CRASHLOOP_MAX_SECONDS

    # R6.1: the reduced decay lowers both, as designed.
    reduced = minor >= 33 and gate("ReduceDefaultCrashLoopBackOffDecay")
    if reduced:
        initial, maximum = (
            REDUCED_CRASHLOOP_INITIAL_SECONDS,
            REDUCED_CRASHLOOP_MAX_SECONDS,
        )

    # R6.1: with KubeletCrashLoopBackOffMax the kubelet setting is the maximum, and
    # it defaults to 300 s when unset. The literal reading of the 1.35 code applies
    # that default even over the reduced 60 s maximum.
    if minor >= 32 and gate("KubeletCrashLoopBackOffMax"):
        configured = cluster.max_container_restart_period_seconds
        if configured is not None:
            maximum = configured
        elif (
            not reduced or cluster.reduced_decay_reading is ReducedDecayReading.LITERAL
        ):
            maximum = CRASHLOOP_MAX_SECONDS
        initial = min(initial, maximum)
    return initial, maximum
