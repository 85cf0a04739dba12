r"""The Events a pod's event-log rows leave in the API, and describe's Events table.

The scheduler records through the events.k8s.io API, one object per occurrence;
the kubelet through client-go's ``EventCorrelator`` (``_Correlator``): similar
events aggregated, identical ones counted, the rest rate-limited by a spam filter.
``fold_events`` returns the Event objects; ``event_lines`` prints them as
``DescribeEvents`` does.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from sim.analysis.humanize import api_seconds, human_duration
from sim.analysis.kubectl.tabwriter import indent
from sim.trace import EventRecord, Reason

KUBELET = "kubelet"
SCHEDULER = "default-scheduler"
NORMAL = "Normal"
WARNING = "Warning"

# client-go tools/record: the kubelet's EventCorrelator with its defaults.
AGGREGATE_MAX_EVENTS = 10
AGGREGATE_INTERVAL_SECONDS = 600.0
SPAM_BURST = 25
SPAM_QPS = 1.0 / 300.0
# kube-apiserver --event-ttl: an Event object lives 1 h after its last write.
EVENT_TTL_SECONDS = 3600.0

# The events Kubernetes records, by reason: (type, component that records them).
_KUBE_EVENTS: dict[str, tuple[str, str]] = {
    "Scheduled": (NORMAL, SCHEDULER),
    "Pulling": (NORMAL, KUBELET),
    "Pulled": (NORMAL, KUBELET),
    "Created": (NORMAL, KUBELET),
    "Started": (NORMAL, KUBELET),
    "Killing": (NORMAL, KUBELET),
    "Unhealthy": (WARNING, KUBELET),
    "ProbeWarning": (WARNING, KUBELET),
    "BackOff": (WARNING, KUBELET),
    "Failed": (WARNING, KUBELET),
    "FailedToRetrieveImagePullSecret": (WARNING, KUBELET),
}
# The image manager records its pull back-off as a Normal event.
_PULL_BACK_OFF_PREFIX = "Back-off pulling image"


@dataclass
class KubeEvent:
    """One Event object as the API server holds it (the core/v1 view).

    ``first_timestamp`` and ``last_timestamp`` are the stored times (the kubelet's
    are cut to the second; the scheduler's ``eventTime`` keeps microseconds).
    ``count`` is the count of the last write, which includes occurrences the
    spam filter dropped in between.
    """

    type: str
    reason: str
    message: str
    source: str
    field_path: str
    first_timestamp: float
    last_timestamp: float
    count: int
    order: int = 0

    def age(self, now: float) -> str:
        """The Age column of ``kubectl describe``: ``12s (x3 over 22s)``."""
        first = human_duration(now - self.first_timestamp)
        if self.count > 1:
            last = human_duration(now - self.last_timestamp)
            return f"{last} (x{self.count} over {first})"
        return first


@dataclass
class _Observation:
    """The event logger's cache entry for one event key, and what was written."""

    order: int
    first_seen: float
    count: int = 0
    written: KubeEvent | None = None


@dataclass
class _Similar:
    """The aggregator's record of events differing only by message."""

    last_seen: float
    messages: dict[str, None] = field(default_factory=dict)


class _Correlator:
    """client-go's ``EventCorrelator`` for one source and one pod.

    In order: the aggregator turns the 10th distinct message of one reason
    within 10 minutes of each other into ``(combined from similar events): …``;
    the logger counts identical events (same reason, message and container) into
    one object; the spam filter lets 25 writes through, then one per 5 minutes.
    A dropped occurrence still counts, so the next write jumps the count.
    """

    def __init__(self, source: str, orders: Iterator[int]) -> None:
        self.source = source
        self.orders = orders
        self.similar: dict[tuple[str, str], _Similar] = {}
        self.observed: dict[tuple[str, ...], _Observation] = {}
        self.tokens = float(SPAM_BURST)
        self.refilled_at: float | None = None

    def add(self, time: float, kind: str, reason: str, message: str, path: str) -> None:
        """Correlate one event emitted at ``time``."""
        key: tuple[str, ...] = ("event", kind, reason, message, path)
        similar = self.similar.get((kind, reason))
        if similar is None or time - similar.last_seen > AGGREGATE_INTERVAL_SECONDS:
            similar = self.similar[(kind, reason)] = _Similar(time)
        similar.messages[message] = None
        similar.last_seen = time
        if len(similar.messages) >= AGGREGATE_MAX_EVENTS:
            # Go pops any element of its set; popping the oldest is one outcome.
            del similar.messages[next(iter(similar.messages))]
            key = ("aggregate", kind, reason)
            message = f"(combined from similar events): {message}"

        observation = self.observed.get(key)
        if observation is None:
            observation = self.observed[key] = _Observation(next(self.orders), time)
        observation.count += 1
        if not self._accept(time):
            return
        observation.written = KubeEvent(
            kind,
            reason,
            message,
            self.source,
            path,
            first_timestamp=api_seconds(observation.first_seen),
            last_timestamp=api_seconds(time),
            count=observation.count,
            order=observation.order,
        )

    def _accept(self, time: float) -> bool:
        """The token bucket of the spam filter (``golang.org/x/time/rate``)."""
        if self.refilled_at is not None:
            elapsed = time - self.refilled_at
            self.tokens = min(float(SPAM_BURST), self.tokens + elapsed * SPAM_QPS)
        self.refilled_at = time
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True

    def events(self) -> list[KubeEvent]:
        """The Event objects written so far."""
        return [o.written for o in self.observed.values() if o.written is not None]


def _event_type(record: EventRecord) -> tuple[str, str] | None:
    """(type, source) of an event Kubernetes records, or None for the model's own."""
    found = _KUBE_EVENTS.get(record.reason.value)
    if found is None:
        return None
    if record.reason is Reason.BACK_OFF and record.message.startswith(
        _PULL_BACK_OFF_PREFIX
    ):
        return NORMAL, KUBELET
    return found


def _field_path(container: str) -> str:
    return f"spec.containers{{{container}}}" if container else ""


def fold_events(
    records: Iterable[EventRecord], now: float | None = None
) -> list[KubeEvent]:
    """Return the Event objects the API holds for the given event-log rows.

    Parameters
    ----------
    records
        Event-log rows of one pod, in emission order; the simulator's own reasons
        are skipped.
    now
        When given, Events whose last write is more than ``EVENT_TTL_SECONDS``
        old are gone.

    Returns
    -------
    list[KubeEvent]
        In ``kubectl describe`` order: by last timestamp, ties in creation order.
        The scheduler records through the events.k8s.io API (one object per
        occurrence, microsecond ``eventTime``); the kubelet through client-go's
        correlator (``_Correlator``).
    """
    orders = itertools.count()
    kubelet = _Correlator(KUBELET, orders)
    direct: list[KubeEvent] = []
    for record in records:
        found = _event_type(record)
        if found is None:
            continue
        kind, source = found
        path = _field_path(record.container)
        if source != KUBELET:
            stamp = int(record.time * 1_000_000) / 1_000_000
            direct.append(
                KubeEvent(
                    kind,
                    record.reason.value,
                    record.message,
                    source,
                    path,
                    first_timestamp=stamp,
                    last_timestamp=stamp,
                    count=1,
                    order=next(orders),
                )
            )
            continue
        kubelet.add(record.time, kind, record.reason.value, record.message, path)
    events = direct + kubelet.events()
    if now is not None:
        events = [e for e in events if now - e.last_timestamp <= EVENT_TTL_SECONDS]
    return sorted(events, key=lambda e: (e.last_timestamp, e.order))


def event_lines(events: Sequence[KubeEvent], now: float) -> list[str]:
    r"""``DescribeEvents``: the Events table, or ``Events:\t<none>``."""
    if not events:
        return ["Events:\t<none>"]
    return [
        "Events:",
        *indent(1, "Type\tReason\tAge\tFrom\tMessage"),
        *indent(1, "----\t------\t----\t----\t-------"),
        *indent(
            1,
            *(
                f"{e.type}\t{e.reason}\t{e.age(now)}\t{e.source}\t{e.message.strip()}"
                for e in events
            ),
        ),
    ]
