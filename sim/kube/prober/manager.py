"""The probe manager (prober_manager.go): owns the workers and the results caches.

``add_pod`` creates a worker per (container, probe type) once, at the pod's first sync
(R3.1). ``update_pod_status`` fills ``started`` and ``ready`` into a generated status
and sends the manual readiness trigger (R7.1, R3.9). ``stop_liveness_and_startup``
and ``remove_pod`` follow pod termination (R3.12).
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
from sim.scenario.spec import ProbeType
from sim.trace import Recorder

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
        """R3.1: make sure every probe of the pod has a worker (idempotent)."""
        for container in pod.pod.containers:
            for probe_type in ProbeType:
                probe = container.probe(probe_type)
                key = (pod.uid, container.name, probe_type)
                if probe is None or key in self.workers:
                    continue
                self.workers[key] = ProbeWorker(self, pod, container, probe_type, probe)

    def worker_done(self, worker: ProbeWorker) -> None:
        """Forget a worker that has ended."""
        key = (worker.pod.uid, worker.container.name, worker.probe_type)
        if self.workers.get(key) is worker:
            del self.workers[key]

    def stop_liveness_and_startup(self, pod: PodObject) -> None:
        """R3.12: a terminating pod is no longer probed for liveness or startup."""
        for (uid, _, probe_type), worker in list(self.workers.items()):
            if uid == pod.uid and probe_type is not ProbeType.READINESS:
                worker.stop()

    def remove_pod(self, pod: PodObject) -> None:
        """R3.12: every container stopped: stop all of the pod's workers."""
        for (uid, _, _), worker in list(self.workers.items()):
            if uid == pod.uid:
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
