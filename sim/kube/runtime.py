"""The container runtime (CRI) and the pod lifecycle event generator (PLEG).

The runtime owns container instances: it creates and starts them, delivers SIGTERM and
SIGKILL (R5.5), and lets processes end by themselves. The PLEG relists every second and
tells the kubelet which pods changed, so the kubelet learns of a start or an exit at
the first relist after it (R11.1).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass, field

import simpy

from sim.kube.application import Application
from sim.kube.log import SimLogger
from sim.scenario.behaviour import SigtermKind
from sim.trace import EventRecord, Reason, Recorder

# kubelet.go genericPlegRelistPeriod.
PLEG_RELIST_PERIOD_SECONDS = 1.0
# Exit status of a process killed by SIGKILL.
SIGKILL_EXIT_CODE = 137


class ContainerState(enum.Enum):
    """Runtime state of a container instance."""

    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"


@dataclass(eq=False)
class ContainerInstance:
    """One container instance: created once, started once, exits once."""

    id: str
    pod_uid: str
    pod_name: str
    name: str
    restart_count: int
    spec_hash: str
    image: str
    created_at: float
    application: Application
    started_at: float = math.nan
    finished_at: float = math.nan
    exit_code: int = 0
    reason: str = ""
    state: ContainerState = ContainerState.CREATED
    exited: simpy.Event | None = field(default=None, repr=False)

    def uptime(self, now: float) -> float:
        """Seconds since the instance started."""
        return now - self.started_at


@dataclass(frozen=True, slots=True)
class ContainerSnapshot:
    """An instance as the runtime reported it at one instant (``GetPodStatus``)."""

    id: str
    name: str
    state: ContainerState
    restart_count: int
    spec_hash: str
    image: str
    started_at: float
    finished_at: float
    exit_code: int
    reason: str


class ContainerRuntime:
    """Container instances of every pod on the node, and their processes."""

    def __init__(
        self,
        env: simpy.Environment,
        recorder: Recorder,
        on_change: Callable[[str], None],
    ) -> None:
        self.env = env
        self.recorder = recorder
        self.on_change = on_change
        self.log = SimLogger(env, "runtime")
        self._instances: dict[str, list[ContainerInstance]] = {}
        self.exit_listeners: list[Callable[[ContainerInstance], None]] = []
        # Called just before an instance starts or exits (batched traffic settles
        # the requests that arrived while it was as before).
        self.before_change: list[Callable[[ContainerInstance], None]] = []

    def instances(self, pod_uid: str) -> list[ContainerInstance]:
        """Every instance of a pod, oldest first."""
        return self._instances.get(pod_uid, [])

    def instance(self, pod_uid: str, container_id: str) -> ContainerInstance:
        """The instance with the given ID."""
        for instance in reversed(self.instances(pod_uid)):
            if instance.id == container_id:
                return instance
        raise KeyError(container_id)

    def restart_count(self, pod_uid: str, name: str) -> int:
        """The container's restart count: that of its newest instance (R5.6)."""
        for instance in reversed(self.instances(pod_uid)):
            if instance.name == name:
                return instance.restart_count
        return 0

    def running(self, pod_uid: str, name: str) -> ContainerInstance | None:
        """The running instance of a container, if any."""
        for instance in reversed(self.instances(pod_uid)):
            if instance.name == name and instance.state is ContainerState.RUNNING:
                return instance
        return None

    def snapshot(self, pod_uid: str) -> tuple[ContainerSnapshot, ...]:
        """The pod's instances as they are now, newest first."""
        return tuple(
            ContainerSnapshot(
                i.id,
                i.name,
                i.state,
                i.restart_count,
                i.spec_hash,
                i.image,
                i.started_at,
                i.finished_at,
                i.exit_code,
                i.reason,
            )
            for i in reversed(self.instances(pod_uid))
        )

    def start(self, instance: ContainerInstance) -> None:
        """Start a created instance now, and arm its own end if it has one."""
        for before in self.before_change:
            before(instance)
        instance.state = ContainerState.RUNNING
        instance.started_at = self.env.now
        instance.exited = self.env.event()
        instances = self._instances.setdefault(instance.pod_uid, [])
        instances.append(instance)
        _collect_garbage(instances, instance.name)
        self.log.trace(
            "started", pod=instance.pod_name, container=instance.name, id=instance.id
        )
        self.on_change(instance.pod_uid)

        own_end = instance.application.draw_exit()
        if own_end is not None:
            self.env.process(self._exit_later(instance, *own_end))

    def _exit_later(
        self, instance: ContainerInstance, after_seconds: float, code: int
    ) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(after_seconds)
        self.exit(instance, code)

    def exit(self, instance: ContainerInstance, code: int) -> None:
        """End a running instance's process with ``code`` (no-op if already gone)."""
        if instance.state is not ContainerState.RUNNING:
            return
        for before in self.before_change:
            before(instance)
        instance.state = ContainerState.EXITED
        instance.finished_at = self.env.now
        instance.exit_code = code
        instance.reason = "Completed" if code == 0 else "Error"
        self.recorder.record(
            EventRecord(
                self.env.now,
                instance.pod_name,
                instance.name,
                Reason.EXITED,
                restart_count=instance.restart_count,
                message=f"exit code {code} ({instance.reason})",
            )
        )
        self.log.trace(
            "exited", pod=instance.pod_name, container=instance.name, code=code
        )
        assert instance.exited is not None
        instance.exited.succeed()
        for listener in self.exit_listeners:
            listener(instance)
        self.on_change(instance.pod_uid)

    def stop(
        self, instance: ContainerInstance, timeout_seconds: float
    ) -> Generator[simpy.Event, object, None]:
        """Stop an instance: SIGTERM, up to ``timeout_seconds``, then SIGKILL (R5.5).

        Blocks until the instance has exited, as the CRI StopContainer call does.
        """
        if instance.state is not ContainerState.RUNNING:
            return
        assert instance.exited is not None
        sigterm = instance.application.sigterm

        # R5.5: a PID 1 without a SIGTERM handler ignores it: SIGKILL at the timeout.
        if sigterm.kind is SigtermKind.IGNORE:
            yield instance.exited | self.env.timeout(timeout_seconds)
            self.exit(instance, SIGKILL_EXIT_CODE)
            return

        # R5.5: a handler ends the process after its own delay, unless the timeout
        # strikes first. A shell runs its trap only when the foreground command
        # it is waiting for ends.
        delay = sigterm.exit_after.sample(instance.application.rng)
        if sigterm.kind is SigtermKind.TRAP:
            uptime = instance.uptime(self.env.now)
            delay += sigterm.next_boundary(uptime) - uptime
        if delay >= timeout_seconds:
            yield instance.exited | self.env.timeout(timeout_seconds)
            self.exit(instance, SIGKILL_EXIT_CODE)
            return
        yield instance.exited | self.env.timeout(delay)
        self.exit(instance, sigterm.exit_code)


class PLEG:
    """Generic PLEG: relists every second and reports pods whose containers changed.

    A change at time t is reported at the first relist instant after t. Relist
    instants are ``phase + k`` seconds with a phase drawn once per kubelet.
    """

    def __init__(
        self, env: simpy.Environment, phase: float, notify: Callable[[str], None]
    ) -> None:
        self.env = env
        self.phase = phase
        self.notify = notify
        self._due: dict[str, float] = {}

    def next_relist(self, now: float) -> float:
        """First relist instant strictly after ``now``."""
        period = PLEG_RELIST_PERIOD_SECONDS
        k = math.floor((now - self.phase) / period) + 1
        return self.phase + k * period

    def container_changed(self, pod_uid: str) -> None:
        """Note a change; the kubelet hears of it at the next relist."""
        at = self.next_relist(self.env.now)
        if self._due.get(pod_uid) == at:
            return
        self._due[pod_uid] = at
        self.env.process(self._report(pod_uid, at))

    def _report(self, pod_uid: str, at: float) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(at - self.env.now)
        if self._due.get(pod_uid) == at:
            del self._due[pod_uid]
        self.notify(pod_uid)


DEAD_KEPT_PER_CONTAINER = 2
"""Exited instances kept per container name; older ones are forgotten."""


def _collect_garbage(instances: list[ContainerInstance], name: str) -> None:
    """Forget the oldest exited instances of a container (container GC).

    The kubelet's container garbage collector (kuberuntime_gc.go, at most
    ``MaxPerPodContainer`` dead containers per container, 1 by default) removes
    old exited containers; status and restarts read only the newest instance and
    the last terminated one. Keeping every instance made each sync cost grow with
    the number of restarts, so a month of CrashLoopBackOff ran in quadratic time.
    Two exited instances are kept, one more than the kubelet's default.
    """
    dead = [i for i in instances if i.name == name and i.state is ContainerState.EXITED]
    for old in dead[:-DEAD_KEPT_PER_CONTAINER]:
        instances.remove(old)
