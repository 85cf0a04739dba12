"""The event log: typed records the model emits, and sinks that keep them.

The model writes each event to a ``Recorder``; it never builds a DataFrame itself, and
does not know whether anyone keeps what it writes. ``ListRecorder`` keeps every row and
turns them into the DataFrame of the event-log contract; ``NullRecorder`` keeps nothing.

Order: rows are sorted by time, and events at the same instant keep the order in which
the model emitted them (a sequence number), which follows causality: a probe attempt,
then its ``Unhealthy`` event, then the result's consequences (``ContainerNotReady``,
``PodNotReady``, ``Killing``), then what the runtime does. Independent processes due at
the same instant run in the order they were scheduled, which is deterministic.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np
import pandas as pd


class Reason(enum.Enum):
    """Reason of an event-log row (strings as ``kubectl`` shows them)."""

    SCHEDULED = "Scheduled"
    PULLING = "Pulling"
    PULLED = "Pulled"
    FAILED = "Failed"
    BACK_OFF = "BackOff"
    CREATED = "Created"
    STARTED = "Started"
    PROBE = "Probe"
    UNHEALTHY = "Unhealthy"
    PROBE_WARNING = "ProbeWarning"
    STARTUP_SUCCEEDED = "StartupSucceeded"
    CONTAINER_READY = "ContainerReady"
    CONTAINER_NOT_READY = "ContainerNotReady"
    POD_READY = "PodReady"
    POD_NOT_READY = "PodNotReady"
    KILLING = "Killing"
    EXITED = "Exited"
    DELETED = "Deleted"
    REJECTED = "Rejected"
    FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET = "FailedToRetrieveImagePullSecret"
    FAULT = "Fault"
    CONDITION_SET = "ConditionSet"
    ENDPOINT_READY = "EndpointReady"
    ENDPOINT_NOT_READY = "EndpointNotReady"
    ENDPOINT_REMOVED = "EndpointRemoved"
    # The Deployment controller (object: the Deployment) and the ReplicaSet
    # controller (object: the ReplicaSet), in kubectl's wording.
    SCALING_REPLICA_SET = "ScalingReplicaSet"
    PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"
    SUCCESSFUL_CREATE = "SuccessfulCreate"
    SUCCESSFUL_DELETE = "SuccessfulDelete"
    FAILED_CREATE = "FailedCreate"
    PROXY_ROUTING = "ProxyRouting"
    PROXY_NOT_ROUTING = "ProxyNotRouting"
    REQUEST = "Request"


# Written into the message of a timed-out probe attempt whose application was
# healthy and only slower than the timeout (analysis counts such restarts).
SLOW_BUT_HEALTHY = "healthy but slower than the timeout"


class ProbeResult(enum.Enum):
    """Outcome of one probe attempt, as the prober reports it (R4.1)."""

    SUCCESS = "success"
    FAILURE = "failure"
    WARNING = "warning"
    ERROR = "error"


class RequestOutcome(enum.Enum):
    """How a request to a Service ended."""

    SUCCESS = "success"
    ERROR = "error"
    REFUSED = "refused"
    RESET = "reset"
    TIMEOUT = "timeout"
    NO_ENDPOINTS = "no-endpoints"


class KillCause(enum.Enum):
    """Why the kubelet killed a container (summary metrics)."""

    LIVENESS = "liveness"
    STARTUP = "startup"
    SPEC_CHANGED = "spec-changed"
    DELETION = "deletion"
    POD_KILL = "pod-kill"


EVENT_COLUMNS = (
    "time",
    "run",
    "pod",
    "container",
    "reason",
    "probe",
    "result",
    "restart_count",
    "message",
)


@dataclass(frozen=True, slots=True)
class EventRecord:
    """One row of the event log."""

    time: float
    pod: str
    container: str
    reason: Reason
    probe: str = ""
    result: str = ""
    restart_count: int = 0
    message: str = ""


@dataclass(frozen=True, slots=True)
class TerminatedRecord:
    """A terminated container instance as the pod status shows it."""

    exit_code: int
    reason: str
    started_at: float
    finished_at: float


@dataclass(frozen=True, slots=True)
class ContainerStatusRecord:
    """One container's entry of the pod status, as the API server has it.

    ``state`` is ``waiting``, ``running`` or ``terminated``; ``reason`` and
    ``message`` belong to a waiting or terminated state; ``last_state`` is the
    previous instance's termination.
    """

    name: str
    container_id: str
    state: str
    reason: str
    message: str
    started_at: float
    finished_at: float
    exit_code: int
    last_state: TerminatedRecord | None
    restart_count: int
    ready: bool
    started: bool


@dataclass(frozen=True, slots=True)
class PodStatusRecord:
    """The pod status the API server holds from ``time`` until the next record."""

    time: float
    pod: str
    phase: str
    ready: bool
    containers_ready: bool
    conditions: tuple[tuple[str, bool], ...]
    containers: tuple[ContainerStatusRecord, ...]
    deletion_timestamp: float | None


@dataclass(frozen=True, slots=True)
class RequestCount:
    """How many requests that arrived in one second ended one way, per pod."""

    second: int
    service: str
    pod: str
    outcome: RequestOutcome
    count: int


@dataclass(frozen=True, eq=False)
class RequestCounts:
    """The request counts of one Service, column by column.

    Row i: ``counts[i]`` requests to ``service`` that arrived in second
    ``seconds[i]``, went to pod ``pods[i]`` ("" when there was no endpoint) and
    ended as ``outcomes[i]`` (a ``RequestOutcome`` value). A run at scale has
    millions of rows, which would be as many ``RequestCount`` objects.
    """

    service: str
    seconds: np.ndarray  # int64
    pods: np.ndarray  # object: str
    outcomes: np.ndarray  # object: str, RequestOutcome values
    counts: np.ndarray  # int64

    def rows(self) -> list[RequestCount]:
        """The counts as one ``RequestCount`` per row."""
        return [
            RequestCount(second, self.service, pod, RequestOutcome(outcome), count)
            for second, pod, outcome, count in zip(
                self.seconds.tolist(),
                self.pods.tolist(),
                self.outcomes.tolist(),
                self.counts.tolist(),
                strict=True,
            )
        ]


# Events that happen once per probe attempt or per request.
_PER_ATTEMPT = frozenset({Reason.PROBE, Reason.REQUEST})

REQUEST_COLUMNS = ("run", "second", "service", "pod", "outcome", "count")


class Recorder(Protocol):
    """Where the model writes its events and pod statuses."""

    def record(self, event: EventRecord) -> None:
        """Keep (or drop) one event."""

    def record_status(self, status: PodStatusRecord) -> None:
        """Keep (or drop) one pod status as the API server now has it."""

    def record_requests(self, counts: RequestCounts) -> None:
        """Keep (or drop) one Service's request counts (once, at the end of a run)."""


class NullRecorder:
    """A sink that keeps nothing (for runs where only metrics matter)."""

    def record(self, event: EventRecord) -> None:
        """Drop the event."""

    def record_status(self, status: PodStatusRecord) -> None:
        """Drop the status."""

    def record_requests(self, counts: RequestCounts) -> None:
        """Drop the counts."""


class RecordLevel(enum.Enum):
    """How much of the event log a run keeps.

    ``all``: every event; ``changes``: probe attempts only when their result differs
    from the previous attempt of the same probe (every other event kept);
    ``metrics``: no probe attempts and no per-request events, only what the metrics
    and summaries read.
    """

    ALL = "all"
    CHANGES = "changes"
    METRICS = "metrics"

    def drops(self, reason: Reason) -> bool:
        """Whether every event of this reason is left out at this level."""
        return self is RecordLevel.METRICS and reason in _PER_ATTEMPT


class ListRecorder:
    """A sink that keeps every event and pod status in emission order."""

    def __init__(self, level: RecordLevel = RecordLevel.ALL) -> None:
        self.level = level
        self.events: list[EventRecord] = []
        self.statuses: list[PodStatusRecord] = []
        self.request_blocks: list[RequestCounts] = []
        self._last_probe: dict[tuple[str, str, str], str] = {}

    def record(self, event: EventRecord) -> None:
        """Append the event, unless the record level leaves it out."""
        if self.level.drops(event.reason):
            return
        if self.level is RecordLevel.CHANGES and event.reason is Reason.PROBE:
            key = (event.pod, event.container, event.probe)
            if self._last_probe.get(key) == event.result:
                return
            self._last_probe[key] = event.result
        self.events.append(event)

    def record_status(self, status: PodStatusRecord) -> None:
        """Append the status."""
        self.statuses.append(status)

    def record_requests(self, counts: RequestCounts) -> None:
        """Keep the counts."""
        self.request_blocks.append(counts)
        self.__dict__.pop("requests", None)

    @cached_property
    def requests(self) -> list[RequestCount]:
        """Every request count, one object per row (in the order recorded)."""
        return [row for block in self.request_blocks for row in block.rows()]

    def requests_frame(self, run: int = 0) -> pd.DataFrame:
        """Request counts per second, service, pod and outcome."""
        blocks = self.request_blocks
        n = sum(len(b.seconds) for b in blocks)

        def column(name: str, dtype: type) -> np.ndarray:
            parts = [getattr(b, name) for b in blocks]
            return np.concatenate(parts) if parts else np.empty(0, dtype=dtype)

        services = np.repeat(
            np.array([b.service for b in blocks], dtype=object),
            [len(b.seconds) for b in blocks],
        )
        frame = pd.DataFrame(
            {
                "run": pd.Series(np.full(n, run, np.int64), dtype="int64"),
                "second": pd.Series(column("seconds", np.int64), dtype="int64"),
                "service": pd.Series(services, dtype="string"),
                "pod": pd.Series(column("pods", object), dtype="string"),
                "outcome": pd.Series(column("outcomes", object), dtype="string"),
                "count": pd.Series(column("counts", np.int64), dtype="int64"),
            },
            columns=list(REQUEST_COLUMNS),
        )
        frame = frame.sort_values(
            ["second", "service", "pod", "outcome"], kind="mergesort"
        )
        return frame.reset_index(drop=True)

    def status_at(self, pod: str, time: float) -> PodStatusRecord | None:
        """The status of ``pod`` the API server held at ``time`` (None before)."""
        found = None
        for status in self.statuses:
            if status.time > time:
                break
            if status.pod == pod:
                found = status
        return found

    def to_frame(self, run: int = 0) -> pd.DataFrame:
        """Return the event log as the contract's DataFrame, sorted by time."""
        return events_frame(self.events, run)


def events_frame(events: list[EventRecord], run: int = 0) -> pd.DataFrame:
    """Build the event-log DataFrame from records in emission order.

    The sort is stable, so events at one instant keep their emission order.
    """
    frame = pd.DataFrame(
        {
            "time": pd.Series([e.time for e in events], dtype="float64"),
            "run": pd.Series([run] * len(events), dtype="int64"),
            "pod": pd.Series([e.pod for e in events], dtype="string"),
            "container": pd.Series([e.container for e in events], dtype="string"),
            "reason": pd.Series([e.reason.value for e in events], dtype="string"),
            "probe": pd.Series([e.probe for e in events], dtype="string"),
            "result": pd.Series([e.result for e in events], dtype="string"),
            "restart_count": pd.Series(
                [e.restart_count for e in events], dtype="int64"
            ),
            "message": pd.Series([e.message for e in events], dtype="string"),
        },
        columns=list(EVENT_COLUMNS),
    )
    return frame.sort_values("time", kind="stable").reset_index(drop=True)
