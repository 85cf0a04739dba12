"""The kubelet's generic runtime manager (kuberuntime_manager.go, _container.go).

``compute_pod_actions`` decides what a sync does (R5.1, R5.3); ``sync_pod`` kills, then
starts, inside the same sync (R5.2), each start first passing ``do_backoff`` (R6.2);
``kill_container`` picks the grace period and runs preStop (R5.4).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Generator
from dataclasses import dataclass, field

import simpy

from sim.kube.apiserver import PodObject
from sim.kube.application import AnswerKind, Application
from sim.kube.backoff import Backoff
from sim.kube.images import ImageManager
from sim.kube.log import SimLogger
from sim.kube.prober.results import Result, ResultsManager
from sim.kube.runtime import (
    ContainerInstance,
    ContainerRuntime,
    ContainerSnapshot,
    ContainerState,
)
from sim.kube.versions import KubeletFeatures
from sim.scenario.document import ClusterSpec
from sim.scenario.spec import (
    Container,
    ExecAction,
    HTTPGetAction,
    ProbeType,
    RegistryCredential,
    RestartPolicy,
    SleepAction,
)
from sim.trace import EventRecord, KillCause, Reason, Recorder

# kuberuntime_manager.go minimumGracePeriodInSeconds.
MINIMUM_GRACE_PERIOD_SECONDS = 2


class SyncOutcome(enum.Enum):
    """How a sync ended, for the pod worker's re-queue (R11.2)."""

    OK = "ok"
    ERROR = "error"
    BACKOFF = "backoff"
    DONE = "done"


@dataclass(frozen=True)
class SyncResult:
    """A sync's outcome; ``backoff_expiry`` is set for a CrashLoopBackOff error."""

    outcome: SyncOutcome
    backoff_expiry: float = math.inf
    # Nothing to kill or start: the sync changed nothing in the runtime.
    idle: bool = False


@dataclass(frozen=True)
class Kill:
    """A container to kill, why, and the event message."""

    snapshot: ContainerSnapshot
    cause: KillCause
    message: str


@dataclass
class PodActions:
    """What one sync will do (computePodActions)."""

    kill_pod: bool = False
    kill: list[Kill] = field(default_factory=list)
    start: list[Container] = field(default_factory=list)


def should_restart(
    latest: ContainerSnapshot | None, policy: RestartPolicy, deleting: bool
) -> bool:
    """R5.1 (ShouldContainerBeRestarted): whether to start a stopped container."""
    if deleting:
        return False
    if latest is None or latest.state is not ContainerState.EXITED:
        return True
    if policy is RestartPolicy.NEVER:
        return False
    if policy is RestartPolicy.ON_FAILURE:
        return latest.exit_code != 0
    return True


def compute_pod_actions(
    pod: PodObject,
    snapshot: tuple[ContainerSnapshot, ...],
    liveness: ResultsManager,
    startup: ResultsManager,
) -> PodActions:
    """R5.1 and R5.3 (computePodActions): kills and starts of one sync."""
    spec = pod.pod
    actions = PodActions()
    restart_on_failure = spec.restart_policy is not RestartPolicy.NEVER
    keep = 0
    for container in spec.containers:
        latest = next((s for s in snapshot if s.name == container.name), None)

        # R5.1: a container that is not running is started if the policy says so.
        if latest is None or latest.state is not ContainerState.RUNNING:
            if should_restart(latest, spec.restart_policy, deleting=False):
                actions.start.append(container)
            continue

        # R5.1 (1): a changed spec always restarts, whatever the policy.
        name = container.name
        if latest.spec_hash != container.spec_hash:
            message = f"Container {name} definition changed, will be restarted"
            actions.kill.append(Kill(latest, KillCause.SPEC_CHANGED, message))
            actions.start.append(container)
            continue

        # R5.1 (2, 3): a liveness, then a startup, Failure kills.
        cause = None
        if liveness.get(latest.id) is Result.FAILURE:
            cause, what = KillCause.LIVENESS, "liveness"
        elif startup.get(latest.id) is Result.FAILURE:
            cause, what = KillCause.STARTUP, "startup"
        if cause is None:
            keep += 1
            continue
        message = f"Container {name} failed {what} probe"
        if restart_on_failure:
            message += ", will be restarted"
            actions.start.append(container)
        actions.kill.append(Kill(latest, cause, message))

    # R5.3: nothing kept and nothing to start: kill the whole pod instead, with the
    # pod's grace period and the generic message.
    if keep == 0 and not actions.start:
        actions.kill_pod = True
        actions.kill = [
            Kill(
                k.snapshot, KillCause.POD_KILL, f"Stopping container {k.snapshot.name}"
            )
            for k in actions.kill
        ]
    return actions


class KubeGenericRuntimeManager:
    """Kills, starts and back-off for the pods of one node."""

    def __init__(
        self,
        env: simpy.Environment,
        features: KubeletFeatures,
        cluster: ClusterSpec,
        runtime: ContainerRuntime,
        results: dict[ProbeType, ResultsManager],
        recorder: Recorder,
        applications: dict[tuple[str, str], Application],
        images: ImageManager,
    ) -> None:
        self.env = env
        self.features = features
        self.cluster = cluster
        self.runtime = runtime
        self.results = results
        self.recorder = recorder
        self.applications = applications
        self.images = images
        self.log = SimLogger(env, "kuberuntime")
        self.backoff = Backoff(
            features.crashloop_initial_seconds,
            features.crashloop_max_seconds,
            features.backoff_reset_seconds,
        )
        # kubelet reasonCache: why a container could not start, per (uid, name).
        self.reasons: dict[tuple[str, str], tuple[str, str]] = {}
        self._sandboxes: set[str] = set()

    def _event(
        self, pod: PodObject, container: str, reason: Reason, count: int, message: str
    ) -> None:
        self.recorder.record(
            EventRecord(
                self.env.now,
                pod.name,
                container,
                reason,
                restart_count=count,
                message=message,
            )
        )

    # SyncPod.

    def sync_pod(
        self,
        pod: PodObject,
        snapshot: tuple[ContainerSnapshot, ...],
        credentials: tuple[RegistryCredential, ...] = (),
    ) -> Generator[simpy.Event, object, SyncResult]:
        """R5.2: kill what must die, then start what must run, in one sync."""
        actions = compute_pod_actions(
            pod,
            snapshot,
            self.results[ProbeType.LIVENESS],
            self.results[ProbeType.STARTUP],
        )

        if not (actions.kill_pod or actions.kill or actions.start):
            return SyncResult(SyncOutcome.OK, idle=True)

        # R5.3: the whole pod goes, with the pod-level grace period.
        if actions.kill_pod:
            yield from self.kill_containers(pod, actions.kill)
            return SyncResult(SyncOutcome.OK)

        # R5.2: kills are sequential, each blocking until the container exited.
        for kill in actions.kill:
            yield from self.kill_container(pod, kill)

        # The sandbox is made once, before the pod's first container starts.
        if actions.start and pod.uid not in self._sandboxes:
            yield self.env.timeout(self.cluster.sandbox_start_latency.sample(pod.rng))
            self._sandboxes.add(pod.uid)
            pod.ip = pod.planned_ip

        result = SyncResult(SyncOutcome.OK)
        for container in actions.start:
            started = yield from self.start_container(
                pod, container, snapshot, credentials
            )
            if started.outcome is not SyncOutcome.OK:
                result = started
        return result

    # Back-off.

    def do_backoff(
        self,
        pod: PodObject,
        container: Container,
        snapshot: tuple[ContainerSnapshot, ...],
    ) -> tuple[bool, float]:
        """R6.2 (doBackOff): whether the container is in back-off, and until when."""
        now = self.env.now

        # R6.2 (1): the most recent exited instance of the sync's snapshot; none
        # means start now without touching the entry (the free first restart).
        exited = next(
            (
                s
                for s in snapshot
                if s.name == container.name and s.state is ContainerState.EXITED
            ),
            None,
        )
        if exited is None:
            return False, 0.0

        # R6.2 (2, 3): keyed by the spec hash; in back-off while now - FinishedAt is
        # below the entry's back-off.
        key = (pod.uid, container.name, container.spec_hash)
        finished = exited.finished_at
        if self.backoff.is_in_backoff_since(key, finished, now):
            return True, finished + self.backoff.get(key)

        # R6.2 (4): advance the entry and start.
        self.backoff.next(key, finished, now)
        return False, 0.0

    # Start.

    def start_container(
        self,
        pod: PodObject,
        container: Container,
        snapshot: tuple[ContainerSnapshot, ...],
        credentials: tuple[RegistryCredential, ...] = (),
    ) -> Generator[simpy.Event, object, SyncResult]:
        """Back-off check, image, create and start one container (startContainer)."""
        name = container.name
        latest = next((s for s in snapshot if s.name == name), None)
        # The event log's restart count is the container's count after the event:
        # the current instance's until the new one is created (R5.6).
        current = latest.restart_count if latest else 0
        restart_count = latest.restart_count + 1 if latest else 0

        in_backoff, expiry = self.do_backoff(pod, container, snapshot)
        if in_backoff:
            # R6.2 (3), R6.4: CrashLoopBackOff, with kubectl's wording.
            seconds = self.backoff.get((pod.uid, name, container.spec_hash))
            self.reasons[(pod.uid, name)] = (
                "CrashLoopBackOff",
                f"back-off {_go_duration(seconds)} restarting failed "
                f"container={name} pod={pod.full_name}",
            )
            self._event(
                pod,
                name,
                Reason.BACK_OFF,
                current,
                f"Back-off restarting failed container {name} in pod {pod.full_name}",
            )
            return SyncResult(SyncOutcome.BACKOFF, expiry)

        # EnsureImageExists: policy, registry, pull secrets and the pull back-off.
        pulled = yield from self.images.ensure_image_exists(
            pod, container, current, credentials
        )
        if pulled.error is not None:
            self.reasons[(pod.uid, name)] = (pulled.error.value, pulled.message)
            return SyncResult(SyncOutcome.ERROR)

        # Create and start: the runtime latency, then the process runs.
        yield self.env.timeout(self.cluster.container_start_latency.sample(pod.rng))
        application = self.applications[(pod.uid, name)]
        instance = ContainerInstance(
            id=f"containerd://{pod.name}-{name}-{restart_count}",
            pod_uid=pod.uid,
            pod_name=pod.name,
            name=name,
            restart_count=restart_count,
            spec_hash=container.spec_hash,
            image=container.image,
            created_at=self.env.now,
            application=application,
        )
        self._event(
            pod, name, Reason.CREATED, restart_count, f"Created container: {name}"
        )
        self.runtime.start(instance)
        self._event(
            pod, name, Reason.STARTED, restart_count, f"Started container {name}"
        )
        self.reasons.pop((pod.uid, name), None)
        return SyncResult(SyncOutcome.OK)

    # Kill.

    def grace_period(
        self, pod: PodObject, cause: KillCause, container: Container
    ) -> int:
        """R5.4 (setTerminationGracePeriod): the grace period before preStop."""
        # R5.4 (1): a pod being deleted uses its deletion grace period.
        if pod.deletion_grace_seconds is not None:
            return pod.deletion_grace_seconds

        # R5.4 (2): a probe kill uses the probe's own grace period when it has one.
        if self.features.probe_termination_grace_period:
            probe = None
            if cause is KillCause.LIVENESS:
                probe = container.liveness_probe
            elif cause is KillCause.STARTUP:
                probe = container.startup_probe
            if probe is not None and probe.termination_grace_period_seconds:
                return probe.termination_grace_period_seconds

        # R5.4 (3): the pod's terminationGracePeriodSeconds.
        return pod.pod.termination_grace_period_seconds

    def kill_container(
        self, pod: PodObject, kill: Kill
    ) -> Generator[simpy.Event, object, None]:
        """R5.4: Killing event, preStop, then stop with the remaining grace (>= 2 s)."""
        instance = self.runtime.instance(pod.uid, kill.snapshot.id)
        if instance.state is not ContainerState.RUNNING:
            return
        container = _spec_for(pod, kill.snapshot.name)
        grace = self.grace_period(pod, kill.cause, container)
        self._event(
            pod,
            kill.snapshot.name,
            Reason.KILLING,
            instance.restart_count,
            kill.message,
        )
        self.log.trace(
            "kill",
            pod=pod.name,
            container=instance.name,
            cause=kill.cause.value,
            grace=f"{grace}s",
        )

        # R5.4: preStop runs first, bounded by the grace period; its whole seconds
        # are subtracted, and the rest floored at the 2 s minimum.
        if container.pre_stop is not None:
            took = min(self._hook_seconds(container, instance), float(grace))
            if took > 0:
                yield self.env.timeout(took)
            grace -= int(took)
        grace = max(grace, MINIMUM_GRACE_PERIOD_SECONDS)
        yield from self.runtime.stop(instance, float(grace))

    def kill_containers(
        self, pod: PodObject, kills: list[Kill]
    ) -> Generator[simpy.Event, object, None]:
        """Kill several containers in parallel (killPodWithSyncResult)."""
        processes = [self.env.process(self.kill_container(pod, k)) for k in kills]
        if processes:
            yield self.env.all_of(processes)

    def _hook_seconds(self, container: Container, instance: ContainerInstance) -> float:
        hook = container.pre_stop
        now = self.env.now
        uptime = instance.uptime(now)
        app = instance.application
        if isinstance(hook, SleepAction):
            return float(hook.seconds)
        if isinstance(hook, ExecAction):
            answer = app.exec(hook.command, uptime, now, instance.id)
        elif isinstance(hook, HTTPGetAction):
            port = hook.port if isinstance(hook.port, int) else 0
            answer = app.http(port, hook.path, uptime, now, instance.id)
        else:
            return 0.0
        if answer.kind is AnswerKind.REFUSED:
            return 0.0
        return answer.latency_seconds


def _spec_for(pod: PodObject, name: str) -> Container:
    return pod.pod.container(name)


def _go_duration(seconds: float) -> str:
    """Format seconds as Go prints a duration (``5m0s``, ``40s``)."""
    whole = int(seconds)
    if whole >= 60:
        return f"{whole // 60}m{whole % 60}s"
    if seconds == whole:
        return f"{whole}s"
    return f"{seconds:g}s"
