"""The probe manager (prober_manager.go): owns the workers and the results caches.

``add_pod`` creates a worker per (container, probe type) once, at the pod's first sync
(R3.1). ``update_pod_status`` fills ``started`` and ``ready`` into a generated status
and sends the manual readiness trigger (R7.1, R3.9). ``stop_liveness_and_startup``
and ``remove_pod`` follow pod termination (R3.12). ``wake_pod`` tells a pod's workers
that something their attempts read has changed (their fast path, see worker.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import simpy

from sim.kube.apiserver import PodObject
from sim.kube.log import SimLogger
from sim.kube.prober.results import Result, ResultsManager, Update
from sim.kube.prober.worker import ProbeWorker
from sim.kube.runtime import ContainerRuntime
from sim.kube.status import PodStatus, StatusManager
from sim.kube.versions import KubeletFeatures
from sim.scenario.document import ProbeGridPhase
from sim.scenario.spec import ProbeType, RestartPolicy
from sim.trace import Recorder, RecordLevel

WorkerKey = tuple[str, str, ProbeType]


class ProbeManager:
    """Probe workers of every pod on the node, and the three results caches."""

    def __init__(
        self,
        env: simpy.Environment,
        features: KubeletFeatures,
        status_manager: StatusManager,
        runtime: ContainerRuntime,
        recorder: Recorder,
        on_update: Callable[[Update], None],
        kubelet_started_at: float,
        grid_phase: ProbeGridPhase,
        fast_path: bool | None = None,
    ) -> None:
        self.env = env
        self.features = features
        self.status_manager = status_manager
        self.runtime = runtime
        self.recorder = recorder
        self.kubelet_started_at = kubelet_started_at
        self.grid_phase = grid_phase
        self.log = SimLogger(env, "prober")
        self.results = {t: ResultsManager(t, on_update) for t in ProbeType}
        self.workers: dict[WorkerKey, ProbeWorker] = {}
        # Workers made so far: each one's ordinal orders ticks due at one instant.
        self.workers_made = 0
        self._pod_workers: dict[str, list[ProbeWorker]] = {}

        # The fast path skips attempts, so it is off when the log keeps them all.
        self.record_level: RecordLevel = getattr(recorder, "level", RecordLevel.ALL)
        if fast_path is None:
            fast_path = self.record_level is not RecordLevel.ALL
        self.fast_path = fast_path
        status_manager.watchers.append(self._status_stored)
        runtime.exit_listeners.append(lambda instance: self.wake_pod(instance.pod_uid))

    def start_jitter(self, period_seconds: float) -> bool:
        """R3.2: a new worker sleeps U[0, P) if the kubelet started < P ago."""
        return self.env.now - self.kubelet_started_at < period_seconds

    def first_tick_delay(
        self, period_seconds: float, rng: np.random.Generator
    ) -> float:
        """Delay from a worker's first attempt to its first tick (R3.3).

        A Go ticker ticks one period after it is made. With the ``Uniform`` grid
        phase (the default) the first tick falls at a uniform point of the first
        period instead, standing in for the node-to-node spread of the sandbox,
        network and image latencies that put the container start at a random point
        of the worker's grid. The worker stays awake meanwhile, so manual readiness
        triggers act as they do on a long-running kubelet.
        """
        if self.grid_phase is ProbeGridPhase.UNIFORM:
            return float(rng.uniform(0.0, period_seconds))
        return period_seconds

    def add_pod(self, pod: PodObject) -> None:
        """R3.1: make sure every probe of the pod has a worker (idempotent).

        A worker ends once its container has terminated under ``restartPolicy:
        Never`` (R3.4 (6)). SyncPod calls AddPod at every sync, and upstream makes a
        new worker, which stores Failure for the dead container and ends at its
        first attempt; a liveness Failure asks for another sync. The real pod
        worker waits for a newer PLEG cache first (a relist, about a second), but
        probesim syncs at once ("Left out" in docs/fidelity.md), so this would loop
        forever at one instant. Such a worker would change nothing: it is not made.
        """
        status = self.status_manager.get(pod.uid)
        never = pod.pod.restart_policy is RestartPolicy.NEVER
        for container in pod.pod.containers:
            c = status.containers.get(container.name) if status else None
            if never and c is not None and c.terminated:
                continue
            for probe_type in ProbeType:
                probe = container.probe(probe_type)
                key = (pod.uid, container.name, probe_type)
                if probe is None or key in self.workers:
                    continue
                self.workers_made += 1
                worker = ProbeWorker(self, pod, container, probe_type, probe)
                self.workers[key] = worker
                self._pod_workers.setdefault(pod.uid, []).append(worker)

    def _status_stored(
        self, pod: PodObject, old: PodStatus | None, new: PodStatus
    ) -> None:
        # The periodic sync stores a status every minute or so; only a change of
        # what the workers' guards read (R3.4) wakes them.
        if old is None or _guarded_view(old) != _guarded_view(new):
            self.wake_pod(pod.uid)

    def wake_pod(self, pod_uid: str) -> None:
        """Something the pod's probe attempts read has changed: wake its workers."""
        for worker in self._pod_workers.get(pod_uid, ()):
            worker.wake()

    def worker_done(self, worker: ProbeWorker) -> None:
        """Forget a worker that has ended."""
        key = (worker.pod.uid, worker.container.name, worker.probe_type)
        if self.workers.get(key) is worker:
            del self.workers[key]
        siblings = self._pod_workers.get(worker.pod.uid, [])
        if worker in siblings:
            siblings.remove(worker)
        if not siblings:
            self._pod_workers.pop(worker.pod.uid, None)

    def stop_liveness_and_startup(self, pod: PodObject) -> None:
        """R3.12: a terminating pod is no longer probed for liveness or startup."""
        for worker in list(self._pod_workers.get(pod.uid, ())):
            if worker.probe_type is not ProbeType.READINESS:
                worker.stop()

    def remove_pod(self, pod: PodObject) -> None:
        """R3.12: every container stopped: stop all of the pod's workers."""
        for worker in list(self._pod_workers.get(pod.uid, ())):
            worker.stop()

    def update_pod_status(self, pod: PodObject, status: PodStatus) -> None:
        """R7.1: fill ``started`` and ``ready``; R3.9: trigger readiness if unready."""
        for c in status.containers.values():
            c.started = False
            c.ready = False
            if not c.running:
                continue

            # R7.1: started from the startup result, else from whether a startup
            # worker exists.
            started = self.results[ProbeType.STARTUP].get(c.container_id)
            if started is not None:
                c.started = started is Result.SUCCESS
            else:
                c.started = (pod.uid, c.name, ProbeType.STARTUP) not in self.workers
            if not c.started:
                continue

            # R7.1: ready from the readiness result; no readiness probe means ready.
            ready = self.results[ProbeType.READINESS].get(c.container_id)
            if ready is Result.SUCCESS:
                c.ready = True
                continue
            worker = self.workers.get((pod.uid, c.name, ProbeType.READINESS))
            if worker is None:
                c.ready = True
                continue

            # R3.9: not ready yet: ask the readiness worker for an attempt now.
            worker.manual_trigger()


def _guarded_view(status: PodStatus) -> tuple[object, ...]:
    """What a probe worker's guards (R3.4) read of a pod status."""
    return (
        status.phase,
        tuple(
            (
                name,
                c.container_id,
                c.state,
                c.running,
                c.started,
                c.started_at if c.running else None,
            )
            for name, c in status.containers.items()
        ),
    )
