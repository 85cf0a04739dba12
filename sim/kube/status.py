"""Pod status: generation from a runtime snapshot (R7) and the status manager (R3.8).

``generate_pod_status`` builds what the kubelet reports at the start of a sync from the
runtime snapshot taken then (R11.3). The ``StatusManager`` keeps the latest status per
pod, applies readiness and startup changes at once (``set_container_readiness``), and
records the transitions a reader of the API would see.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import simpy

from sim.kube.apiserver import PodObject
from sim.kube.runtime import ContainerSnapshot, ContainerState
from sim.scenario.spec import RestartPolicy
from sim.trace import (
    ContainerStatusRecord,
    EventRecord,
    PodStatusRecord,
    Reason,
    Recorder,
    TerminatedRecord,
)


class PodPhase(enum.Enum):
    """``status.phase``."""

    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"

    @property
    def terminal(self) -> bool:
        """Whether the phase is final (R7.4)."""
        return self in (PodPhase.SUCCEEDED, PodPhase.FAILED)


@dataclass(slots=True)
class ContainerStatus:
    """One entry of ``status.containerStatuses``."""

    name: str
    container_id: str = ""
    state: ContainerState | None = None
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    started_at: float = math.nan
    finished_at: float = math.nan
    exit_code: int = 0
    terminated_reason: str = ""
    last_terminated: ContainerSnapshot | None = None
    restart_count: int = 0
    ready: bool = False
    started: bool = False

    @property
    def running(self) -> bool:
        """Whether the state is Running."""
        return self.state is ContainerState.RUNNING and not self.waiting_reason

    @property
    def terminated(self) -> bool:
        """Whether the state is Terminated."""
        return self.state is ContainerState.EXITED and not self.waiting_reason


@dataclass(slots=True)
class PodStatus:
    """``status`` of a pod: phase, containers and the two readiness conditions."""

    phase: PodPhase
    containers: dict[str, ContainerStatus] = field(default_factory=dict)
    containers_ready: bool = False
    ready: bool = False

    def copy(self) -> PodStatus:
        """A copy whose container entries can be changed independently."""
        return replace(
            self, containers={k: replace(v) for k, v in self.containers.items()}
        )


def container_status(
    name: str,
    snapshot: tuple[ContainerSnapshot, ...],
    waiting_reason: tuple[str, str] | None,
) -> ContainerStatus:
    """Build one container's status from the runtime snapshot (newest first).

    ``waiting_reason`` is the kubelet's reason cache for the container (for example
    CrashLoopBackOff after a back-off): an exited container with a cached reason is
    shown Waiting with that reason and the dead instance as its last state.
    """
    mine = [s for s in snapshot if s.name == name]
    if not mine:
        reason, message = waiting_reason or ("ContainerCreating", "")
        return ContainerStatus(name, waiting_reason=reason, waiting_message=message)
    latest = mine[0]
    previous = next((s for s in mine[1:] if s.state is ContainerState.EXITED), None)
    status = ContainerStatus(
        name,
        container_id=latest.id,
        state=latest.state,
        waiting_reason="",
        started_at=latest.started_at,
        finished_at=latest.finished_at,
        exit_code=latest.exit_code,
        terminated_reason=latest.reason,
        last_terminated=previous,
        restart_count=latest.restart_count,
    )
    if latest.state is ContainerState.EXITED and waiting_reason is not None:
        status.waiting_reason, status.waiting_message = waiting_reason
        status.last_terminated = latest
    return status


def pod_phase(pod: PodObject, containers: dict[str, ContainerStatus]) -> PodPhase:
    """R7.4 (kubelet_pods.go getPhase): the phase from the container states."""
    waiting = running = stopped = succeeded = 0
    for status in containers.values():
        if status.running:
            running += 1
        elif status.terminated:
            stopped += 1
            succeeded += status.exit_code == 0
        elif status.last_terminated is not None:
            stopped += 1
            succeeded += status.last_terminated.exit_code == 0
        else:
            waiting += 1

    if waiting > 0:
        return PodPhase.PENDING
    if running > 0:
        return PodPhase.RUNNING
    policy = pod.pod.restart_policy
    if policy is RestartPolicy.ALWAYS:
        return PodPhase.RUNNING
    if stopped == succeeded:
        return PodPhase.SUCCEEDED
    if policy is RestartPolicy.ON_FAILURE:
        return PodPhase.RUNNING
    return PodPhase.FAILED


def update_conditions(pod: PodObject, status: PodStatus) -> None:
    """R7.2: ContainersReady from every container, Ready also from readiness gates."""
    status.containers_ready = bool(status.containers) and all(
        c.ready for c in status.containers.values()
    )
    gates_ok = all(pod.gate_conditions.get(g, False) for g in pod.pod.readiness_gates)
    status.ready = status.containers_ready and gates_ok


def _state_name(status: ContainerStatus) -> str:
    if status.running:
        return "running"
    if status.terminated:
        return "terminated"
    return "waiting"


def _terminated(snapshot: ContainerSnapshot | None) -> TerminatedRecord | None:
    if snapshot is None:
        return None
    return TerminatedRecord(
        snapshot.exit_code, snapshot.reason, snapshot.started_at, snapshot.finished_at
    )


def status_record(now: float, pod: PodObject, status: PodStatus) -> PodStatusRecord:
    """The status as a trace record, for readers of the API (kubectl views)."""
    containers = tuple(
        ContainerStatusRecord(
            name=c.name,
            container_id=c.container_id,
            state=_state_name(c),
            reason=c.waiting_reason or (c.terminated_reason if c.terminated else ""),
            message=c.waiting_message,
            started_at=c.started_at,
            finished_at=c.finished_at,
            exit_code=c.exit_code,
            last_state=_terminated(c.last_terminated),
            restart_count=c.restart_count,
            ready=c.ready,
            started=c.started,
        )
        for c in status.containers.values()
    )
    return PodStatusRecord(
        time=now,
        pod=pod.name,
        phase=status.phase.value,
        ready=status.ready,
        containers_ready=status.containers_ready,
        conditions=tuple(sorted(pod.gate_conditions.items())),
        containers=containers,
        deletion_timestamp=pod.deletion_timestamp,
    )


class StatusManager:
    """The kubelet's cached pod statuses, pushed to the API server at once."""

    def __init__(
        self,
        env: simpy.Environment,
        recorder: Recorder,
        on_push: Callable[[PodObject], None] = lambda pod: None,
    ) -> None:
        self.env = env
        self.recorder = recorder
        self.on_push = on_push
        # Called after every store of a cached status, with the old and the new one
        # (the probe workers' wake-up).
        self.watchers: list[
            Callable[[PodObject, PodStatus | None, PodStatus], None]
        ] = []
        self._statuses: dict[str, PodStatus] = {}
        # The pod IP each pod's last pushed status showed.
        self._pushed_ip: dict[str, str] = {}

    def get(self, pod_uid: str) -> PodStatus | None:
        """The cached status of a pod, or None before its first sync."""
        return self._statuses.get(pod_uid)

    def set_pod_status(self, pod: PodObject, status: PodStatus) -> None:
        """Store a freshly generated status; terminal phases stay terminal (R7.4)."""
        old = self._statuses.get(pod.uid)
        if old is not None and old.phase.terminal:
            status.phase = old.phase
        update_conditions(pod, status)
        self._store(pod, old, status)

    def set_container_readiness(
        self, pod: PodObject, container_id: str, ready: bool
    ) -> None:
        """R3.8: apply a readiness result to the cached status at once."""
        self._set_flag(pod, container_id, "ready", ready)

    def set_container_startup(
        self, pod: PodObject, container_id: str, started: bool
    ) -> None:
        """R3.8: apply a startup result to the cached status at once."""
        self._set_flag(pod, container_id, "started", started)

    def _set_flag(self, pod: PodObject, container_id: str, flag: str, value: bool):
        old = self._statuses.get(pod.uid)
        if old is None:
            return
        target = next(
            (c for c in old.containers.values() if c.container_id == container_id),
            None,
        )
        # The status does not show this container yet: the next sync will.
        if target is None or getattr(target, flag) == value:
            return

        status = old.copy()
        setattr(status.containers[target.name], flag, value)
        update_conditions(pod, status)
        self._store(pod, old, status)

    def refresh_conditions(self, pod: PodObject) -> None:
        """Recompute Ready after a readiness-gate condition changed."""
        old = self._statuses.get(pod.uid)
        if old is None:
            return
        status = old.copy()
        update_conditions(pod, status)
        self._store(pod, old, status)

    def _store(self, pod: PodObject, old: PodStatus | None, new: PodStatus) -> None:
        self._statuses[pod.uid] = new
        pod.status = new
        self._record_transitions(pod, old, new)
        self.recorder.record_status(status_record(self.env.now, pod, new))
        for watcher in self.watchers:
            watcher(pod, old, new)
        # status_manager.go needsUpdate: a status equal to the last one sent (the
        # pod IP included, which the sandbox brings) is not sent again.
        if old is not None and new == old and self._pushed_ip.get(pod.uid) == pod.ip:
            return
        self._pushed_ip[pod.uid] = pod.ip
        self.on_push(pod)

    def _record_transitions(
        self, pod: PodObject, old: PodStatus | None, new: PodStatus
    ) -> None:
        now = self.env.now
        for name, c in new.containers.items():
            before = old.containers.get(name) if old else None
            newly_started = c.started and not (before and before.started)
            if newly_started and pod.pod.container(name).startup_probe is not None:
                self._record(now, pod, name, Reason.STARTUP_SUCCEEDED, c, "")
            # A new instance reported ready is recorded even when the flag itself
            # did not flip (R5.7), so each instance's readiness can be followed.
            was_ready = before.ready if before else False
            new_instance = before is not None and before.container_id != c.container_id
            if c.ready != was_ready or (c.ready and new_instance):
                reason = (
                    Reason.CONTAINER_READY if c.ready else Reason.CONTAINER_NOT_READY
                )
                self._record(now, pod, name, reason, c, "")
        was_ready = old.ready if old else False
        if new.ready != was_ready:
            reason = Reason.POD_READY if new.ready else Reason.POD_NOT_READY
            self._record(now, pod, "", reason, None, "")

    def _record(
        self,
        now: float,
        pod: PodObject,
        container: str,
        reason: Reason,
        status: ContainerStatus | None,
        message: str,
    ) -> None:
        self.recorder.record(
            EventRecord(
                now,
                pod.name,
                container,
                reason,
                restart_count=status.restart_count if status else 0,
                message=message,
            )
        )
