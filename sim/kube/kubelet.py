"""The kubelet: pod workers, sync triggers, SyncPod and SyncTerminatingPod.

A pod worker runs one sync at a time (R11.1). A sync is triggered at once by a pod
update from the API server, a PLEG event, a liveness Failure or any readiness or
startup change (R3.8); otherwise the pod is due again after the re-queue delay of
R11.2, picked up by the one-second main-loop ticker.
"""

from __future__ import annotations

import math
from collections.abc import Generator

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
from sim.kube.runtime import PLEG, ContainerRuntime, ContainerState
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


class PodWorker:
    """Serialises the syncs of one pod and re-queues it after each (R11)."""

    def __init__(self, kubelet: Kubelet, pod: PodObject) -> None:
        self.kubelet = kubelet
        self.env = kubelet.env
        self.pod = pod
        self._pending = True
        self._sleeping = False
        self.process = self.env.process(self.run())

    def update(self) -> None:
        """Ask for a sync now, or right after the one in progress (UpdatePod)."""
        if self._sleeping:
            self._sleeping = False
            self.process.interrupt()
            return
        self._pending = True

    def run(self) -> Generator[simpy.Event, object, None]:
        """The worker's process: wait for work, sync, re-queue, repeat."""
        env = self.env
        due_at = env.now
        while True:
            if not self._pending:
                self._sleeping = True
                try:
                    yield env.timeout(self.kubelet.ticker_at_or_after(due_at) - env.now)
                    self._sleeping = False
                except simpy.Interrupt:
                    pass
            self._pending = False

            result = yield from self.kubelet.sync(self.pod)
            if result.outcome is SyncOutcome.DONE:
                return
            due_at = env.now + self.kubelet.requeue_delay(self.pod, result)


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
        self.pods: dict[str, PodObject] = {}
        apiserver.watch(self._on_pod_change)

    # Timing of the work queue.

    def ticker_at_or_after(self, t: float) -> float:
        """First main-loop tick at or after ``t`` (due work waits for it)."""
        k = math.ceil((t - self.ticker_phase) / SYNC_TICKER_PERIOD_SECONDS)
        return self.ticker_phase + k * SYNC_TICKER_PERIOD_SECONDS

    def requeue_delay(self, pod: PodObject, result: SyncResult) -> float:
        """R11.2: delay before a pod is due again after a sync."""
        rng = pod.rng

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
