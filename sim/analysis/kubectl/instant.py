"""What the API server holds at one instant of a run: pods, statuses and events.

The pod specs are the API server's (``result.objects.pods``: as ServiceAccount
admission stored them), the statuses the kubelet's last write before the instant,
the events those emitted up to it. ``describe`` and ``get pods`` read a pod
through ``Instant.pod``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.scenario.document import ActionKind
from sim.scenario.spec import Pod
from sim.trace import EventRecord, PodStatusRecord, Reason

if TYPE_CHECKING:
    from sim.simulation import SimulationResult

NAMESPACE = "default"
NODE_NAME = "node-1"
NODE_IP = "192.168.49.2"
NO_RESOURCES = f"No resources found in {NAMESPACE} namespace."
TERMINAL_PHASES = ("Succeeded", "Failed")

# Kubelet events that show the pod sandbox (and so the pod IP) exists.
_SANDBOX_REASONS = frozenset({"Pulling", "Pulled", "Failed", "Created"})


class PodNotFoundError(LookupError):
    """The pod does not exist in the API at that instant (kubectl's NotFound)."""

    def __init__(self, pod: str, detail: str) -> None:
        self.pod = pod
        self.detail = detail
        super().__init__(f'pods "{pod}" not found ({detail})')


@dataclass(frozen=True)
class PodView:
    """One pod at one instant: its spec, status, events and place in the API.

    ``pod`` is the spec the API server holds (the scenario's pod as submitted when
    it was never stored); ``missing`` says why a pod that does not ``exist`` is
    not there (``not created yet``, ``refused by admission``, ``deleted``).
    """

    pod: Pod
    exists: bool
    missing: str
    created_at: float | None
    status: PodStatusRecord | None
    sandbox: bool
    ip: str
    grace_seconds: int
    events: tuple[EventRecord, ...]


class Instant:
    """What the API server holds at ``at``: pods, statuses and events."""

    def __init__(self, result: SimulationResult, at: float) -> None:
        self.result = result
        self.at = at
        self.scenario = result.scenario
        records = sorted(
            (e for e in result.recorder.events if e.time <= at),
            key=lambda e: e.time,
        )
        self.events: dict[str, list[EventRecord]] = {}
        for record in records:
            self.events.setdefault(record.pod, []).append(record)
        created = [e for e in records if e.reason is Reason.SCHEDULED]
        self.ips: dict[str, str] = {}
        for record in created:
            self.ips.setdefault(record.pod, f"10.244.0.{len(self.ips) % 250 + 4}")

    def names(self) -> list[str]:
        """Names of the pods (the scenario's and those controllers made), sorted."""
        written = {pod.name for pod in self.scenario.pods}
        return sorted(written | set(self.result.objects.pods))

    def pod(self, name: str) -> PodView:
        """The view of one pod, written in the scenario or made by a controller."""
        try:
            submitted = self.scenario.pod(name)
        except KeyError:
            submitted = self.result.objects.pods[name]
        events = tuple(self.events.get(name, ()))
        created_at = None
        deleted = False
        for record in events:
            if record.reason is Reason.SCHEDULED:
                created_at, deleted = record.time, False
            elif record.reason is Reason.DELETED:
                deleted = True
        if created_at is None:
            refused = name in self.result.objects.rejected and any(
                e.reason is Reason.REJECTED for e in events
            )
            missing = "refused by admission" if refused else "not created yet"
        else:
            missing = "deleted" if deleted else ""
        status = self.result.recorder.status_at(name, self.at)
        # The status shows the sandbox (IP, PodReadyToStartContainers) once the
        # kubelet wrote one after the sandbox existed.
        sandbox = False
        if status is not None and created_at is not None:
            sandbox = any(
                e.reason.value in _SANDBOX_REASONS
                and created_at <= e.time <= status.time
                for e in events
            )
        pod = self._stored(submitted)
        return PodView(
            pod,
            exists=not missing,
            missing=missing,
            created_at=created_at,
            status=status,
            sandbox=sandbox,
            ip=self.ips.get(name, ""),
            grace_seconds=self._grace(pod, status),
            events=events,
        )

    def _stored(self, submitted: Pod) -> Pod:
        """The pod as the API server stores it at this instant.

        ``result.objects`` holds the spec at the end of the run; the images that
        ``setImage`` actions changed after this instant are put back, so that an
        instant of a longer run shows what a run stopped there would.
        """
        stored = self.result.objects.pods.get(submitted.name)
        if stored is None:
            return submitted
        images = {c.name: c.image for c in submitted.containers}
        for action in sorted(self.scenario.actions, key=lambda a: a.at_seconds):
            if (
                action.kind is ActionKind.SET_IMAGE
                and action.pod == submitted.name
                and action.at_seconds <= self.at
            ):
                images[action.container] = action.image
        containers = tuple(
            dataclasses.replace(c, image=images.get(c.name, c.image))
            for c in stored.containers
        )
        return dataclasses.replace(stored, containers=containers)

    def _grace(self, pod: Pod, status: PodStatusRecord | None) -> int:
        """The grace period of the pod's deletion: its delete action's, or the pod's."""
        deleted_at = None if status is None else status.deletion_timestamp
        requests = [
            action
            for action in self.scenario.actions
            if action.kind is ActionKind.DELETE
            and action.pod == pod.name
            and deleted_at is not None
            and action.at_seconds <= deleted_at
        ]
        if requests and requests[-1].grace_period_seconds is not None:
            return requests[-1].grace_period_seconds
        return pod.termination_grace_period_seconds
