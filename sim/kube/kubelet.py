"""The kubelet: pod workers, sync triggers, SyncPod and SyncTerminatingPod.

A pod worker runs one sync at a time (R11.1). A sync is triggered at once by a pod
update from the API server, a PLEG event, a liveness Failure or any readiness or
startup change (R3.8); otherwise the pod is due again after the re-queue delay of
R11.2, picked up by the one-second main-loop ticker.
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np
import simpy

from sim.kube.apiserver import ApiServer, PodObject
from sim.kube.application import Application
from sim.kube.images import ImageManager
from sim.kube.kuberuntime import (
    Kill,
    KubeGenericRuntimeManager,
    SyncOutcome,
    SyncResult,
)
from sim.kube.log import SimLogger
from sim.kube.prober.manager import ProbeManager
from sim.kube.prober.results import Result, Update
from sim.kube.runtime import (
    PLEG,
    ContainerInstance,
    ContainerRuntime,
    ContainerState,
)
from sim.kube.status import (
    PodStatus,
    StatusManager,
    container_status,
    pod_phase,
)
from sim.kube.streams import Streams
from sim.kube.versions import KubeletFeatures
from sim.scenario.document import Scenario
from sim.scenario.spec import ProbeType
from sim.trace import KillCause, Recorder

# kubelet.go syncLoop ticker: due pod work is picked up once a second.
SYNC_TICKER_PERIOD_SECONDS = 1.0
# pod_workers.go / kubelet.go backOffPeriod: retry after a failed sync.
ERROR_RETRY_SECONDS = 10.0
# wait.Jitter factor used for every re-queue (R11.2).
JITTER_FACTOR = 0.5


_UPDATE = "update"
_WAKE = "wake"


class PodWorker:
    """Serialises the syncs of one pod and re-queues it after each (R11).

    Fast path: after a sync that found nothing to do, with every container
    running, started and ready, the periodic re-syncs (R11.2) would only repeat
    it. The worker then sleeps until something asks for a sync (a pod update, a
    PLEG event, a probe result) and accounts for the periodic syncs it skipped by
    drawing their jitters from its own stream, so its schedule goes on exactly as
    if they had run.
    """

    def __init__(self, kubelet: Kubelet, pod: PodObject) -> None:
        self.kubelet = kubelet
        self.env = kubelet.env
        self.pod = pod
        # R11.2's jitters come from a stream of their own: skipped syncs would
        # otherwise shift every later draw of the pod.
        self.rng = kubelet.streams.stream(f"pod-worker/{pod.name}")
        self._pending = True
        self._sleeping = False
        self._idle = False
        self.process = self.env.process(self.run())

    def update(self) -> None:
        """Ask for a sync now, or right after the one in progress (UpdatePod)."""
        if self._sleeping:
            self._sleeping = False
            self.process.interrupt(_UPDATE)
            return
        self._pending = True

    def wake(self) -> None:
        """The runtime changed under an idle pod: periodic syncs matter again.

        A container that exits is seen by the next periodic sync even before the
        PLEG reports it, so the skipped schedule resumes (no sync now).
        """
        if self._sleeping and self._idle:
            self._sleeping = False
            self.process.interrupt(_WAKE)

    def run(self) -> Generator[simpy.Event, object, None]:
        """The worker's process: wait for work, sync, re-queue, repeat."""
        env = self.env
        kubelet = self.kubelet
        due_at = env.now
        while True:
            if not self._pending and self._idle:
                due_at, cause = yield from self._sleep_through_idle_syncs(due_at)
                self._idle = False
                if cause == _WAKE:
                    continue
            elif not self._pending:
                self._sleeping = True
                try:
                    yield env.timeout(kubelet.ticker_at_or_after(due_at) - env.now)
                    self._sleeping = False
                except simpy.Interrupt:
                    pass
            self._pending = False

            began, events = env.now, kubelet.events_recorded()
            result = yield from kubelet.sync(self.pod)
            if result.outcome is SyncOutcome.DONE:
                return
            due_at = env.now + kubelet.requeue_delay(self.pod, result, self.rng)
            self._idle = (
                kubelet.fast_path
                and result.outcome is SyncOutcome.OK
                and result.idle
                and env.now == began
                and kubelet.events_recorded() == events
                and kubelet.pod_is_steady(self.pod)
            )

    def _sleep_through_idle_syncs(
        self, due_at: float
    ) -> Generator[simpy.Event, object, tuple[float, str]]:
        """Sleep until ``update`` or ``wake``; return when the next sync is due."""
        env = self.env
        kubelet = self.kubelet
        self._sleeping = True
        cause = _UPDATE
        try:
            yield env.event()  # never triggered: only an interrupt ends the sleep
        except simpy.Interrupt as interrupt:
            cause = str(interrupt.cause)
        # R11.2: every periodic sync due up to now ran, found nothing to do and
        # re-queued itself. One due at this very instant came first: its timer was
        # set long before whatever asked for this sync.
        ok = SyncResult(SyncOutcome.OK)
        at = kubelet.ticker_at_or_after(due_at)
        while at <= env.now:
            due_at = at + kubelet.requeue_delay(self.pod, ok, self.rng)
            at = kubelet.ticker_at_or_after(due_at)
        return due_at, cause


class Kubelet:
    """One node's kubelet, with its runtime, prober and status manager."""

    def __init__(
        self,
        env: simpy.Environment,
        scenario: Scenario,
        features: KubeletFeatures,
        apiserver: ApiServer,
        streams: Streams,
        recorder: Recorder,
        fast_path: bool | None = None,
    ) -> None:
        self.env = env
        self.scenario = scenario
        self.cluster = scenario.cluster
        self.features = features
        self.apiserver = apiserver
        self.recorder = recorder
        self.log = SimLogger(env, "kubelet")
        self.streams = streams
        rng = streams.stream("kubelet")

        # The kubelet started before the scenario; its tickers have random phases.
        self.started_at = -self.cluster.kubelet_uptime_seconds
        self.ticker_phase = float(rng.uniform(0.0, SYNC_TICKER_PERIOD_SECONDS))
        self.pleg = PLEG(env, float(rng.uniform(0.0, 1.0)), self._on_pleg_event)
        self.runtime = ContainerRuntime(env, recorder, self.pleg.container_changed)
        self.status_manager = StatusManager(env, recorder, apiserver.status_changed)
        self.probe_manager = ProbeManager(
            env,
            features,
            self.status_manager,
            self.runtime,
            recorder,
            self._on_probe_update,
            self.started_at,
            self.cluster.probe_grid_phase,
            fast_path,
        )
        # The fast path of the pod workers follows the prober's (see PodWorker).
        self.fast_path = self.probe_manager.fast_path
        self.applications: dict[tuple[str, str], Application] = {}
        self.images = ImageManager(env, self.cluster, scenario.registries, recorder)
        self.runtime_manager = KubeGenericRuntimeManager(
            env,
            features,
            self.cluster,
            self.runtime,
            self.probe_manager.results,
            recorder,
            self.applications,
            self.images,
        )
        self.workers: dict[str, PodWorker] = {}
        self.runtime.exit_listeners.append(self._on_exit)
        self.pods: dict[str, PodObject] = {}
        apiserver.watch(self._on_pod_change)

    # Timing of the work queue.

    def ticker_at_or_after(self, t: float) -> float:
        """First main-loop tick at or after ``t`` (due work waits for it)."""
        k = math.ceil((t - self.ticker_phase) / SYNC_TICKER_PERIOD_SECONDS)
        return self.ticker_phase + k * SYNC_TICKER_PERIOD_SECONDS

    def requeue_delay(
        self, pod: PodObject, result: SyncResult, rng: np.random.Generator
    ) -> float:
        """R11.2: delay before a pod is due again after a sync."""
        # R6.3 (1.35+): a back-off error re-queues at the expiry, jittered.
        if (
            result.outcome is SyncOutcome.BACKOFF
            and self.features.crashloop_retry_at_expiry
        ):
            remaining = min(
                max(0.0, result.backoff_expiry - self.env.now),
                self.cluster.sync_frequency_seconds,
            )
            return remaining * (1.0 + JITTER_FACTOR * rng.random())

        # R11.2: any error (back-off before 1.35 included) retries in U[10, 15) s.
        if result.outcome is not SyncOutcome.OK:
            return ERROR_RETRY_SECONDS * (1.0 + JITTER_FACTOR * rng.random())

        # R11.2: a successful sync is due again in U[60, 90) s.
        frequency = self.cluster.sync_frequency_seconds
        return frequency * (1.0 + JITTER_FACTOR * rng.random())

    def events_recorded(self) -> int:
        """How many events the log holds (to tell that a sync recorded none)."""
        return len(getattr(self.recorder, "events", ()))

    def pod_is_steady(self, pod: PodObject) -> bool:
        """Whether a sync now would find every container running, started and ready.

        A periodic sync of such a pod stores the same status and starts, kills and
        triggers nothing (R3.9 triggers readiness only for a container not ready).
        """
        if pod.deletion_timestamp is not None:
            return False
        status = self.status_manager.get(pod.uid)
        if status is None or status.phase.terminal:
            return False
        return all(
            c.running and c.started and c.ready for c in status.containers.values()
        )

    # Triggers.

    def _on_pod_change(self, pod: PodObject) -> None:
        if pod.deleted:
            return
        if pod.uid not in self.workers:
            self.pods[pod.uid] = pod
            for container in pod.pod.containers:
                self.applications[(pod.uid, container.name)] = Application(
                    container,
                    self.scenario.behaviour_for(pod.name, container.name, pod.owner),
                    pod.rng,
                )
            self.workers[pod.uid] = PodWorker(self, pod)
            return
        self.status_manager.refresh_conditions(pod)
        self.workers[pod.uid].update()

    def _on_exit(self, instance: ContainerInstance) -> None:
        worker = self.workers.get(instance.pod_uid)
        if worker is not None:
            worker.wake()

    def _on_pleg_event(self, pod_uid: str) -> None:
        worker = self.workers.get(pod_uid)
        if worker is not None:
            worker.update()

    def _on_probe_update(self, update: Update) -> None:
        """R3.8: how the main loop reacts to a changed probe result."""
        pod: PodObject = update.pod
        worker = self.workers.get(pod.uid)
        if worker is None:
            return

        # R3.8: liveness: only a Failure matters, and it triggers a sync.
        if update.probe_type is ProbeType.LIVENESS:
            if update.result is Result.FAILURE:
                worker.update()
            return

        # R3.8: readiness and startup are written to the status at once, then sync.
        value = update.result is Result.SUCCESS
        if update.probe_type is ProbeType.READINESS:
            self.status_manager.set_container_readiness(pod, update.container_id, value)
        else:
            self.status_manager.set_container_startup(pod, update.container_id, value)
        worker.update()

    # Syncs.

    def generate_status(self, pod: PodObject) -> PodStatus:
        """R11.3: the status at the start of a sync, from the runtime snapshot."""
        snapshot = self.runtime.snapshot(pod.uid)
        reasons = self.runtime_manager.reasons
        containers = {
            c.name: container_status(c.name, snapshot, reasons.get((pod.uid, c.name)))
            for c in pod.pod.containers
        }
        status = PodStatus(pod_phase(pod, containers), containers)
        self.probe_manager.update_pod_status(pod, status)
        return status

    def sync(self, pod: PodObject) -> Generator[simpy.Event, object, SyncResult]:
        """One sync of a pod: terminating if it is being deleted, else SyncPod."""
        if pod.deletion_timestamp is not None:
            result = yield from self.sync_terminating_pod(pod)
            return result
        result = yield from self.sync_pod(pod)
        return result

    def sync_pod(self, pod: PodObject) -> Generator[simpy.Event, object, SyncResult]:
        """kubelet.go SyncPod: status, probe workers, then the runtime's actions."""
        snapshot = self.runtime.snapshot(pod.uid)
        status = self.generate_status(pod)
        self.status_manager.set_pod_status(pod, status)
        self.log.trace("sync", pod=pod.name, phase=status.phase.value)

        # R7.4: a terminal pod is not started again.
        if status.phase.terminal:
            return SyncResult(SyncOutcome.OK)

        # R3.1: workers are created at the first sync, before any container starts.
        self.probe_manager.add_pod(pod)
        credentials = self.images.pull_credentials(pod, self.apiserver.secrets)
        result = yield from self.runtime_manager.sync_pod(pod, snapshot, credentials)
        return result

    def sync_terminating_pod(
        self, pod: PodObject
    ) -> Generator[simpy.Event, object, SyncResult]:
        """R3.12: stop liveness and startup, kill every container, then remove."""
        status = self.generate_status(pod)
        self.status_manager.set_pod_status(pod, status)
        self.probe_manager.stop_liveness_and_startup(pod)

        kills = [
            Kill(s, KillCause.DELETION, f"Stopping container {s.name}")
            for s in self.runtime.snapshot(pod.uid)
            if s.state is ContainerState.RUNNING
        ]
        yield from self.runtime_manager.kill_containers(pod, kills)

        # SyncTerminatedPod: every container stopped; readiness stops too.
        self.probe_manager.remove_pod(pod)
        final = self.generate_status(pod)
        self.status_manager.set_pod_status(pod, final)
        self.apiserver.finish_deletion(pod)
        return SyncResult(SyncOutcome.DONE)
