"""Run a scenario: ``simulate(scenario, seed)`` returns events, timeline and summary."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from sim.analysis.metrics import run_metrics, summarize
from sim.analysis.timeline import timeline_frame
from sim.kube.cluster import Cluster
from sim.scenario.document import Scenario
from sim.scenario.spec import Pod, Secret, ServiceAccount
from sim.trace import ListRecorder, RecordLevel


@dataclass(frozen=True)
class ApiObjects:
    """What the API server stored by the end of a run.

    ``pods`` are the pods as admitted (service account defaulted, token volume and
    pull secrets added: R10), every pod ever created, deleted ones included;
    ``rejected`` names the pods admission refused. ``secrets`` are after the token
    controller: account tokens filled in, ``removed_secrets`` deleted.
    """

    pods: dict[str, Pod] = field(default_factory=dict)
    rejected: tuple[str, ...] = ()
    service_accounts: dict[str, ServiceAccount] = field(default_factory=dict)
    secrets: dict[str, Secret] = field(default_factory=dict)
    removed_secrets: tuple[str, ...] = ()


@dataclass
class SimulationResult:
    """What one run produced. Frames are built on first access."""

    scenario: Scenario
    seed: int
    run: int = 0
    recorder: ListRecorder = field(default_factory=ListRecorder, repr=False)
    objects: ApiObjects = field(default_factory=ApiObjects, repr=False)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log (one row per event, sorted by time)."""
        return self.recorder.to_frame(self.run)

    @cached_property
    def requests(self) -> pd.DataFrame:
        """Request counts per second, service, pod and outcome (traffic)."""
        return self.recorder.requests_frame(self.run)

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """State intervals per pod and container instance."""
        pods = list(self.objects.pods.values()) or list(self.scenario.pods)
        probed = {
            (pod.name, c.name)
            for pod in pods
            for c in pod.containers
            if c.startup_probe
        }
        return timeline_frame(self.events, self.scenario.duration_seconds, probed)

    @cached_property
    def metrics(self) -> pd.DataFrame:
        """Flat metrics, one row per pod (``sim.analysis.metrics.pod_metrics``)."""
        return run_metrics(self)

    @cached_property
    def summary(self) -> dict[str, Any]:
        """Metrics of the run (time to first Ready, restarts, kills by cause)."""
        return summarize(
            self.events,
            self.scenario,
            self.seed,
            self.timeline,
            self.requests,
            list(self.objects.pods.values()) or None,
        )


def simulate(
    scenario: Scenario,
    seed: int | None = None,
    *,
    duration_seconds: float | None = None,
    run: int = 0,
    record: RecordLevel | str = RecordLevel.ALL,
    fast_path: bool | None = None,
) -> SimulationResult:
    """Simulate a scenario once; the same seed gives the same result.

    Parameters
    ----------
    scenario
        A resolved scenario (``sim.load_scenario``).
    seed
        Seed of the run's random generator; the scenario's own seed when None.
    duration_seconds
        Override of the scenario's duration.
    run
        Replication index written into the ``run`` column.
    record
        How much of the event log to keep (``all``, ``changes``, ``metrics``); the
        metrics and summary are the same at every level.
    fast_path
        Whether probe workers may skip attempts that cannot change anything (see
        ``docs/performance.md``). By default on at levels ``changes`` and
        ``metrics``, off at ``all``, which keeps every attempt.
    """
    if duration_seconds is not None:
        scenario = scenario.with_duration(duration_seconds)
    seed = scenario.seed if seed is None else int(seed)
    result = SimulationResult(
        scenario, seed, run, recorder=ListRecorder(RecordLevel(record))
    )
    with _rare_collections():
        cluster = Cluster(scenario, seed, result.recorder, fast_path)
        cluster.run()
    api = cluster.apiserver
    result.objects = ApiObjects(
        pods={name: obj.pod for name, obj in api.pods.items()},
        rejected=tuple(
            p.name
            for p in scenario.pods
            if p.name not in api.pods and p.name in cluster.create_attempted
        ),
        service_accounts=dict(api.service_accounts),
        secrets=dict(api.secrets),
        removed_secrets=tuple(api.removed_secrets),
    )
    return result


# Young objects the cycle collector may see pile up before it runs, while a run
# goes (Python's default is 700).
_RUN_GC_THRESHOLD = 50_000


@contextlib.contextmanager
def _rare_collections() -> Iterator[None]:
    """Run the cycle collector less often while a simulation runs.

    A run allocates events, records and closures by the million and frees them by
    reference counting; hardly any form cycles (an interrupted process's
    traceback does). At the default threshold the collector walks the young
    objects every 700 allocations, about a fifth of the time of 10,000 pods. The
    caller's thresholds are restored afterwards.
    """
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], _RUN_GC_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
