"""Kubernetes feature gates the simulator knows: when each exists, is on, is locked.

The reader validates gate settings against this table (with file and line); the model
(``sim.kube.versions``) resolves them into behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Gate:
    """A feature gate: its default per release and the release that locked it."""

    name: str
    since_minor: int
    default_on_from: int | None
    locked_from: int | None
    upstream: str
    summary: str

    def default(self, minor: int) -> bool:
        """Default value of the gate in release ``1.minor``."""
        return self.default_on_from is not None and minor >= self.default_on_from


GATES: tuple[Gate, ...] = (
    Gate(
        "ExecProbeTimeout",
        20,
        20,
        35,
        "KEP-1972",
        "R4.4: exec probes fail at timeoutSeconds; off, they wait for the command",
    ),
    Gate(
        "ProbeTerminationGracePeriod",
        21,
        25,
        28,
        "KEP-2238",
        "R5.4: a liveness or startup probe's terminationGracePeriodSeconds is used",
    ),
    Gate(
        "KubeletCrashLoopBackOffMax",
        32,
        35,
        None,
        "KEP-4603",
        "R6.1: kubelet crashLoopBackOff.maxContainerRestartPeriod caps back-off",
    ),
    Gate(
        "ReduceDefaultCrashLoopBackOffDecay",
        33,
        None,
        None,
        "KEP-4603",
        "R6.1: CrashLoopBackOff starts at 1 s and is capped at 60 s",
    ),
    Gate(
        "ChangeContainerStatusOnKubeletRestart",
        35,
        None,
        None,
        "kube_features.go",
        "R3.13: readiness is reset on kubelet restart (kubelet restarts are not "
        "simulated yet, so this gate has no effect)",
    ),
    Gate(
        "SidecarContainers",
        28,
        29,
        33,
        "KEP-753",
        "R2.6: restartable init containers (init containers are not simulated yet)",
    ),
    Gate(
        "ContainerRestartRules",
        34,
        35,
        None,
        "KEP-5307",
        "R2.6: per-container restart rules (not simulated yet)",
    ),
)

GATE_NAMES = tuple(gate.name for gate in GATES)


def gate_problem(name: str, value: bool, minor: int) -> str | None:
    """What is wrong with setting gate ``name`` to ``value`` in 1.minor, or None."""
    gate = next((g for g in GATES if g.name == name), None)
    if gate is None:
        return f"unknown feature gate {name!r}"
    if minor < gate.since_minor:
        return f"feature gate {name} does not exist in 1.{minor}"
    locked = gate.locked_from is not None and minor >= gate.locked_from
    if locked and value != gate.default(minor):
        return f"feature gate {name} is locked to {gate.default(minor)} in 1.{minor}"
    return None
