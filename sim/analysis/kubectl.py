"""What ``kubectl`` would show at any instant of a simulated run.

``describe_pod``, ``get_pods``, ``get_serviceaccounts`` and ``get_secrets`` read a
``SimulationResult`` (the pod statuses the API server held, the event log, the
scenario) and print what the same ``kubectl`` command prints at ``at_seconds``, with
kubectl's own layout: its tab-aligned columns (``tabwrite``), its human ages, its
probe lines, its status column, and the Events table as the kubelet's event
recorder leaves it in the API (``fold_events``).

Only the events Kubernetes itself records are shown; the simulator's own reasons
(``Probe``, ``Exited``, ``ContainerReady``, ...) are not. ``docs/kubectl-views.md``
lists what is approximated.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.analysis.humanize import api_seconds, human_duration, rfc1123z, since
from sim.scenario.document import ActionKind
from sim.scenario.spec import (
    Container,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    Pod,
    Probe,
    TCPSocketAction,
)
from sim.trace import (
    ContainerStatusRecord,
    EventRecord,
    PodStatusRecord,
    Reason,
    TerminatedRecord,
)

if TYPE_CHECKING:
    from sim.simulation import SimulationResult

NAMESPACE = "default"
NODE_NAME = "node-1"
NODE_IP = "192.168.49.2"
NO_RESOURCES = f"No resources found in {NAMESPACE} namespace."

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
_TERMINAL = ("Succeeded", "Failed")
# Kubelet events that show the pod sandbox (and so the pod IP) exists.
_SANDBOX_REASONS = frozenset({"Pulling", "Pulled", "Failed", "Created"})

# text/tabwriter settings: kubectl describe (tabbedString) and kubectl get
# (cli-runtime printers.GetNewTabWriter).
_DESCRIBE_LAYOUT = {"min_width": 0, "padding": 2}
_GET_LAYOUT = {"min_width": 6, "padding": 3}

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_MAX_ANNOTATION_LEN = 140
_TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
_TOKEN_VOLUME_PREFIX = "kube-api-access-"
_TOKEN_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_TOKEN_SECRET_TYPE = "kubernetes.io/service-account-token"
_TOKEN_SECRET_KEYS = frozenset({"ca.crt", "namespace", "token"})
_ACCOUNT_ANNOTATION = "kubernetes.io/service-account.name"
_PROJECTED = (
    "Type:\tProjected (a volume that contains injected data from multiple sources)"
)
_DEFAULT_TOLERATIONS = (
    "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s",
    "node.kubernetes.io/unreachable:NoExecute op=Exists for 300s",
)


class PodNotFoundError(LookupError):
    """The pod does not exist in the API at that instant (kubectl's NotFound)."""

    def __init__(self, pod: str, detail: str) -> None:
        self.pod = pod
        self.detail = detail
        super().__init__(f'pods "{pod}" not found ({detail})')


# --------------------------------------------------------------------- columns


def tabwrite(text: str, *, min_width: int = 0, padding: int = 2) -> str:
    r"""Align tab-terminated cells as Go's ``text/tabwriter`` does.

    Every ``\t`` ends a cell; the text after a line's last tab is not aligned.
    A column is aligned over each run of consecutive lines that have a cell in it
    (a line with fewer cells ends the run), at the widest cell plus ``padding``
    but at least ``min_width``; cells are padded with spaces, flags are none.

    Parameters
    ----------
    text
        Lines separated by ``\n``, cells terminated by ``\t``.
    min_width
        Minimal width of a column, padding included.
    padding
        Spaces added to the widest cell of a column.
    """
    rows = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    _format_block(rows, [], 0, len(rows), out, min_width, padding)
    return "\n".join(out)


def _format_block(
    rows: list[list[str]],
    widths: list[int],
    line0: int,
    line1: int,
    out: list[str],
    min_width: int,
    padding: int,
) -> None:
    """``tabwriter.format``: find the blocks of column ``len(widths)``, recurse."""
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(rows[this]) - 1:
            this += 1
            continue
        _write_lines(rows, widths, line0, this, out)
        line0 = this
        width = min_width
        while this < line1 and column < len(rows[this]) - 1:
            width = max(width, len(rows[this][column]) + padding)
            this += 1
        _format_block(rows, [*widths, width], line0, this, out, min_width, padding)
        line0 = this
    _write_lines(rows, widths, line0, line1, out)


def _write_lines(
    rows: list[list[str]], widths: list[int], line0: int, line1: int, out: list[str]
) -> None:
    for cells in rows[line0:line1]:
        out.append(
            "".join(
                cell.ljust(widths[j]) if j < len(widths) else cell
                for j, cell in enumerate(cells)
            )
        )


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A ``kubectl get`` table, or kubectl's message when there are no rows."""
    lines = ["\t".join(row) for row in rows]
    if not lines:
        return NO_RESOURCES + "\n"
    return tabwrite("\n".join(["\t".join(header), *lines, ""]), **_GET_LAYOUT)


# ---------------------------------------------------------------------- events


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


# ------------------------------------------------------------------ the instant


@dataclass(frozen=True)
class _PodView:
    """One pod at one instant: its spec, status, events and place in the API."""

    pod: Pod
    exists: bool
    missing: str
    created_at: float | None
    status: PodStatusRecord | None
    sandbox: bool
    ip: str
    grace_seconds: int
    events: tuple[EventRecord, ...]


class _Instant:
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
        """Names of the scenario's pods, as the API sorts them."""
        return sorted(pod.name for pod in self.scenario.pods)

    def pod(self, name: str) -> _PodView:
        """The view of one pod of the scenario."""
        pod = self.scenario.pod(name)
        events = tuple(self.events.get(name, ()))
        created_at = None
        deleted = False
        for record in events:
            if record.reason is Reason.SCHEDULED:
                created_at, deleted = record.time, False
            elif record.reason is Reason.DELETED:
                deleted = True
        if created_at is None:
            refused = any(e.reason is Reason.REJECTED for e in events)
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
        return _PodView(
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


# ------------------------------------------------------------------- describe


def _lines(level: int, *texts: str) -> list[str]:
    """Lines at an indentation level of ``kubectl describe`` (2 spaces each)."""
    return ["  " * level + text for text in texts]


def describe_probe(probe: Probe) -> str:
    """Return a probe as ``kubectl describe`` prints it (``DescribeProbe``).

    ``exec [cat /tmp/healthy] delay=5s timeout=1s period=5s #success=1
    #failure=3``; ``http-get http://:8080/healthz ...``; ``tcp-socket :8080 ...``;
    ``grpc <pod>:9090 SERVICE ...`` (the service may be empty).
    """
    attrs = (
        f"delay={probe.initial_delay_seconds}s timeout={probe.timeout_seconds}s "
        f"period={probe.period_seconds}s #success={probe.success_threshold} "
        f"#failure={probe.failure_threshold}"
    )
    handler = probe.handler
    if isinstance(handler, ExecAction):
        return f"exec [{' '.join(handler.command)}] {attrs}"
    if isinstance(handler, HTTPGetAction):
        host = handler.host
        if ":" in host:  # net.JoinHostPort brackets IPv6 literals
            host = f"[{host}]"
        path = handler.path
        if path and not path.startswith("/"):
            path = "/" + path
        scheme = handler.scheme.value.lower()
        return f"http-get {scheme}://{host}:{handler.port}{path} {attrs}"
    if isinstance(handler, TCPSocketAction):
        return f"tcp-socket {handler.host}:{handler.port} {attrs}"
    if isinstance(handler, GRPCAction):
        return f"grpc <pod>:{handler.port} {handler.service} {attrs}"
    return f"unknown {attrs}"


def _multiline(title: str, entries: Sequence[str]) -> list[str]:
    r"""``printLabelsMultiline``: ``Title:\tfirst`` then ``\tnext`` lines."""
    if not entries:
        return [f"{title}:\t<none>"]
    return [f"{title}:\t{entries[0]}", *(f"\t{entry}" for entry in entries[1:])]


def _annotation_lines(annotations: Iterable[tuple[str, str]]) -> list[str]:
    """``printAnnotationsMultiline``: long or multi-line values get own lines."""
    entries: list[str] = []
    for key, raw in sorted(a for a in annotations if a[0] != _LAST_APPLIED):
        value = raw.removesuffix("\n")
        if len(value) + len(key) + 2 > _MAX_ANNOTATION_LEN or "\n" in value:
            entries.append(f"{key}:")
            limit = _MAX_ANNOTATION_LEN - 2
            entries.extend(
                part if len(part) <= limit else part[:limit] + "..."
                for part in value.split("\n")
            )
        else:
            entries.append(f"{key}: {value}")
    return _multiline("Annotations", entries)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _image_id(image: str) -> str:
    """A repo digest in containerd's spelling (the digest itself is made up)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    if name.rfind(":") > slash:
        name = name[: name.rfind(":")]
    first = name.split("/")[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    return f"{name}@{digest or 'sha256:' + _digest(image)}"


def _container_id(model_id: str) -> str:
    """The runtime's 64-hex id, made from the model's readable instance id."""
    if not model_id:
        return ""
    runtime, _, name = model_id.partition("://")
    return f"{runtime}://{_digest(name)}"


def _state_lines(title: str, status: ContainerStatusRecord) -> list[str]:
    """``describeStatus``: a container state and its details (levels 2 and 3)."""
    if status.state == "running":
        return [
            *_lines(2, f"{title}:\tRunning"),
            *_lines(3, f"Started:\t{rfc1123z(status.started_at)}"),
        ]
    if status.state == "terminated":
        state = TerminatedRecord(
            status.exit_code, status.reason, status.started_at, status.finished_at
        )
        return _terminated_lines(title, state, status.message)
    reason = [f"Reason:\t{status.reason}"] if status.reason else []
    return [*_lines(2, f"{title}:\tWaiting"), *_lines(3, *reason)]


def _terminated_lines(
    title: str, state: TerminatedRecord, message: str = ""
) -> list[str]:
    details = [f"Reason:\t{state.reason}"] if state.reason else []
    details += [f"Message:\t{message}"] if message else []
    details += [
        f"Exit Code:\t{state.exit_code}",
        f"Started:\t{rfc1123z(state.started_at)}",
        f"Finished:\t{rfc1123z(state.finished_at)}",
    ]
    return [*_lines(2, f"{title}:\tTerminated"), *_lines(3, *details)]


def _token_volume(pod: Pod, scenario: Any) -> str:
    """The API token volume ServiceAccount admission adds, or "" when it adds none.

    None is added when the pod, else its account, turns automounting off, or when
    the manifest already has one. Its real suffix is random; a hash of the pod's
    uid keeps it reproducible.
    """
    if any(v.name.startswith(_TOKEN_VOLUME_PREFIX) for v in _volumes(pod)):
        return ""
    automount = getattr(pod, "automount_service_account_token", None)
    if automount is None:
        account = _service_accounts(scenario).get(_account_name(pod))
        automount = None if account is None else account.automount
    if automount is False:
        return ""
    digest = hashlib.sha256(pod.metadata.uid.encode()).digest()
    alphabet = _TOKEN_SUFFIX_ALPHABET
    return _TOKEN_VOLUME_PREFIX + "".join(
        alphabet[b % len(alphabet)] for b in digest[:5]
    )


def _volumes(pod: Pod) -> tuple[Any, ...]:
    """The pod's declared volumes (none before the spec had any)."""
    return tuple(getattr(pod, "volumes", ()))


def _account_name(pod: Pod) -> str:
    return pod.service_account_name or "default"


def _container_lines(
    container: Container, status: ContainerStatusRecord | None, token: str
) -> list[str]:
    """``describeContainers`` for one container."""
    lines = _lines(1, f"{container.name}:")
    basic = [f"Image:\t{container.image}"]
    if status is not None:
        image_id = _image_id(container.image) if status.container_id else ""
        basic = [
            f"Container ID:\t{_container_id(status.container_id)}",
            basic[0],
            f"Image ID:\t{image_id}",
        ]
    ports = ", ".join(f"{p.container_port}/{p.protocol}" for p in container.ports)
    host_ports = ", ".join(f"0/{p.protocol}" for p in container.ports)
    plural = "s" if len(container.ports) > 1 else ""
    basic += [
        f"Port{plural}:\t{ports or '<none>'}",
        f"Host Port{plural}:\t{host_ports or '<none>'}",
    ]
    lines += _lines(2, *basic)
    for title, words in (("Command", container.command), ("Args", container.args)):
        if words:
            lines += _lines(2, f"{title}:")
            lines += _lines(3, *(part for word in words for part in word.split("\n")))
    if status is not None:
        lines += _state_lines("State", status)
        if status.last_state is not None:
            lines += _terminated_lines("Last State", status.last_state)
        lines += _lines(
            2,
            f"Ready:\t{'True' if status.ready else 'False'}",
            f"Restart Count:\t{status.restart_count}",
        )
    for title, probe in (
        ("Liveness", container.liveness_probe),
        ("Readiness", container.readiness_probe),
        ("Startup", container.startup_probe),
    ):
        if probe is not None:
            lines += _lines(2, f"{title}:\t{describe_probe(probe)}")
    lines += _env_lines(container)
    lines += _mount_lines(container, token)
    return lines


def _env_lines(container: Container) -> list[str]:
    if not container.env:
        return _lines(2, "Environment:\t<none>")
    lines = _lines(2, "Environment:")
    for name, value in container.env:
        first, *rest = value.split("\n")
        lines += _lines(3, f"{name}:\t{first}", *(f"\t{part}" for part in rest))
    return lines


def _mount_lines(container: Container, token: str) -> list[str]:
    mounts = [
        (m.mount_path, m.name, m.read_only)
        for m in getattr(container, "volume_mounts", ())
    ]
    if token and not any(path == _TOKEN_MOUNT_PATH for path, _, _ in mounts):
        mounts.append((_TOKEN_MOUNT_PATH, token, True))
    if not mounts:
        return _lines(2, "Mounts:\t<none>")
    return [
        *_lines(2, "Mounts:"),
        *_lines(
            3,
            *(
                f"{path} from {name} ({'ro' if read_only else 'rw'})"
                for path, name, read_only in sorted(mounts)
            ),
        ),
    ]


def _volume_lines(pod: Pod, token: str) -> list[str]:
    """``describeVolumes`` for the pod's volumes, the API token volume last."""
    volumes = _volumes(pod)
    if not volumes and not token:
        return ["Volumes:\t<none>"]
    lines = ["Volumes:"]
    for volume in volumes:
        kind = getattr(getattr(volume, "kind", None), "value", "other")
        secrets = getattr(volume, "secret_names", ())
        lines += _lines(1, f"{volume.name}:")
        if kind == "secret":
            name = secrets[0] if secrets else ""
            lines += _lines(2, "Type:\tSecret (a volume populated by a Secret)")
            lines += _lines(2, f"SecretName:\t{name}", "Optional:\tfalse")
        elif kind == "projected":
            lines += _lines(2, _PROJECTED)
            for name in secrets:
                lines += _lines(2, f"SecretName:\t{name}", "Optional:\tfalse")
        else:
            lines += _lines(1, "<unknown>")
    if token:
        lines += _lines(1, f"{token}:")
        lines += _lines(
            2,
            _PROJECTED,
            "TokenExpirationSeconds:\t3607",
            "ConfigMapName:\tkube-root-ca.crt",
            "Optional:\tfalse",
            "DownwardAPI:\ttrue",
        )
    return lines


def _conditions(view: _PodView) -> list[tuple[str, str]]:
    """The pod's conditions in the order the kubelet writes them.

    Conditions set by others (readiness gates) first, then the kubelet's own.
    """
    status = view.status
    if status is None:
        return [("PodScheduled", "True")]
    kubelet = [
        ("PodReadyToStartContainers", view.sandbox and status.phase not in _TERMINAL),
        ("Initialized", True),
        ("Ready", status.ready),
        ("ContainersReady", status.containers_ready),
        ("PodScheduled", True),
    ]
    return [
        (name, "True" if value else "False")
        for name, value in (*status.conditions, *kubelet)
    ]


def _event_lines(events: Sequence[KubeEvent], now: float) -> list[str]:
    r"""``DescribeEvents``: the Events table, or ``Events:\t<none>``."""
    if not events:
        return ["Events:\t<none>"]
    return [
        "Events:",
        *_lines(1, "Type\tReason\tAge\tFrom\tMessage"),
        *_lines(1, "----\t------\t----\t----\t-------"),
        *_lines(
            1,
            *(
                f"{e.type}\t{e.reason}\t{e.age(now)}\t{e.source}\t{e.message.strip()}"
                for e in events
            ),
        ),
    ]


def _describe(view: _PodView, instant: _Instant) -> str:
    """The text of ``kubectl describe pod`` for a pod that exists."""
    pod, status, at = view.pod, view.status, instant.at
    lines = [
        f"Name:\t{pod.name}",
        f"Namespace:\t{pod.metadata.namespace}",
        "Priority:\t0",
        f"Service Account:\t{_account_name(pod)}",
        f"Node:\t{NODE_NAME}/{NODE_IP}",
    ]
    first_status = next(
        (s for s in instant.result.recorder.statuses if s.pod == pod.name), None
    )
    if status is not None and first_status is not None:
        lines.append(f"Start Time:\t{rfc1123z(first_status.time)}")
    lines += _multiline("Labels", [f"{k}={v}" for k, v in sorted(pod.metadata.labels)])
    lines += _annotation_lines(pod.metadata.annotations)
    phase = status.phase if status is not None else "Pending"
    if (
        status is not None
        and status.deletion_timestamp is not None
        and phase not in _TERMINAL
    ):
        deletion = api_seconds(status.deletion_timestamp) + view.grace_seconds
        lines += [
            f"Status:\tTerminating (lasts {human_duration(at - deletion)})",
            f"Termination Grace Period:\t{view.grace_seconds}s",
        ]
    else:
        lines.append(f"Status:\t{phase}")
    ip = view.ip if view.sandbox else ""
    lines.append(f"IP:\t{ip}")
    lines += ["IPs:", *_lines(1, f"IP:\t{ip}")] if ip else ["IPs:\t<none>"]

    token = _token_volume(pod, instant.scenario)
    statuses = {c.name: c for c in status.containers} if status is not None else {}
    lines.append("Containers:")
    for container in pod.containers:
        lines += _container_lines(container, statuses.get(container.name), token)
    conditions = _conditions(view)
    if pod.readiness_gates:
        held = dict(conditions)
        lines += ["Readiness Gates:", *_lines(1, "Type\tStatus")]
        gates = (f"{g} \t{held.get(g, '<none>')} " for g in pod.readiness_gates)
        lines += _lines(1, *gates)
    lines += ["Conditions:", *_lines(1, "Type\tStatus")]
    lines += _lines(1, *(f"{name} \t{value} " for name, value in conditions))
    lines += _volume_lines(pod, token)
    lines += ["QoS Class:\tBestEffort", "Node-Selectors:\t<none>"]
    lines += _multiline("Tolerations", list(_DEFAULT_TOLERATIONS))
    lines += _event_lines(fold_events(view.events, at), at)
    return tabwrite("\n".join([*lines, ""]), **_DESCRIBE_LAYOUT)


def describe_pod(result: SimulationResult, pod_name: str, at_seconds: float) -> str:
    """Return what ``kubectl describe pod POD`` prints at ``at_seconds``.

    Parameters
    ----------
    result
        A finished run that reached ``at_seconds``.
    pod_name
        A pod of the scenario.
    at_seconds
        The instant, on the scenario clock; events at exactly that time count.

    Returns
    -------
    str
        The description; for a pod already deleted whose events remain, kubectl's
        ``Pod 'NAME': error 'pods "NAME" not found', but found events.`` and them.

    Raises
    ------
    KeyError
        When the scenario has no such pod.
    PodNotFoundError
        When the pod does not exist at that instant and left no events.
    """
    instant = _Instant(result, at_seconds)
    view = instant.pod(pod_name)
    if view.exists:
        return _describe(view, instant)
    events = fold_events(view.events, at_seconds)
    if not events:
        raise PodNotFoundError(pod_name, view.missing)
    lines = [
        f"Pod '{pod_name}': error 'pods \"{pod_name}\" not found', but found events.",
        *_event_lines(events, at_seconds),
    ]
    return tabwrite("\n".join([*lines, ""]), **_DESCRIBE_LAYOUT)


def describe_pods(result: SimulationResult, at_seconds: float) -> str:
    r"""Return what ``kubectl describe pods`` prints: every pod that exists.

    Descriptions are separated as kubectl separates them (``"\n\n"`` after
    each one's final newline); with no pod, kubectl's ``No resources found``.
    """
    instant = _Instant(result, at_seconds)
    views = [instant.pod(name) for name in instant.names()]
    texts = [_describe(view, instant) for view in views if view.exists]
    return "\n\n".join(texts) if texts else NO_RESOURCES + "\n"


# ------------------------------------------------------------------------ get


def _pod_row(view: _PodView, at: float) -> list[str]:
    """One row of ``kubectl get pods`` (the printer's ``printPod``)."""
    status = view.status
    total = len(view.pod.containers)
    phase = status.phase if status is not None else "Pending"
    reason = phase
    ready = restarts = 0
    last_restart: float | None = None
    has_running = False
    for container in reversed(status.containers if status is not None else ()):
        restarts += container.restart_count
        if container.last_state is not None:
            finished = container.last_state.finished_at
            last_restart = max(finished, last_restart or finished)
        if container.state in ("waiting", "terminated") and container.reason:
            reason = container.reason
        elif container.state == "terminated":
            reason = f"ExitCode:{container.exit_code}"
        elif container.ready and container.state == "running":
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        reason = "Running" if status is not None and status.ready else "NotReady"
    deleting = status is not None and status.deletion_timestamp is not None
    if deleting and phase not in _TERMINAL:
        reason = "Terminating"
    restart_text = str(restarts)
    if restarts and last_restart is not None:
        restart_text = f"{restarts} ({since(at, last_restart)} ago)"
    age = since(at, view.created_at or 0.0)
    return [view.pod.name, f"{ready}/{total}", reason, restart_text, age]


def get_pods(
    result: SimulationResult, at_seconds: float, pods: Sequence[str] | None = None
) -> str:
    """Return what ``kubectl get pods`` prints at ``at_seconds``.

    Parameters
    ----------
    result
        A finished run that reached ``at_seconds``.
    at_seconds
        The instant, on the scenario clock.
    pods
        Only these pods (all when None); pods that do not exist at that instant
        (not created yet, refused, deleted) are never listed.
    """
    instant = _Instant(result, at_seconds)
    wanted = instant.names() if pods is None else sorted(pods)
    views = [instant.pod(name) for name in wanted]
    rows = [_pod_row(view, at_seconds) for view in views if view.exists]
    return _table(("NAME", "READY", "STATUS", "RESTARTS", "AGE"), rows)


@dataclass(frozen=True)
class _Account:
    name: str
    secrets: int
    automount: bool | None


def _service_accounts(scenario: Any) -> dict[str, _Account]:
    """The namespace's ServiceAccounts: ``default`` plus the scenario's."""
    accounts = {"default": _Account("default", 0, None)}
    for obj in scenario.other_objects:
        if obj.kind == "ServiceAccount":
            body = obj.body or {}
            accounts[obj.name] = _Account(
                obj.name,
                len(body.get("secrets") or ()),
                body.get("automountServiceAccountToken"),
            )
    for account in getattr(scenario, "service_accounts", ()):
        accounts[account.name] = _Account(
            account.name,
            len(account.secrets),
            account.automount_service_account_token,
        )
    return accounts


def _secrets(scenario: Any) -> dict[str, tuple[str, int]]:
    """The namespace's Secrets: name to (type, number of data keys).

    The token controller fills a service-account token secret whose account
    exists with ``ca.crt``, ``namespace`` and ``token``, and deletes the others.
    """
    found: dict[str, tuple[str, set[str], str | None]] = {}
    for obj in scenario.other_objects:
        if obj.kind == "Secret":
            body = obj.body or {}
            keys = set(body.get("data") or {}) | set(body.get("stringData") or {})
            annotations = (body.get("metadata") or {}).get("annotations") or {}
            account = annotations.get(_ACCOUNT_ANNOTATION)
            found[obj.name] = (body.get("type") or "Opaque", keys, account)
    for secret in getattr(scenario, "secrets", ()):
        account = dict(secret.metadata.annotations).get(_ACCOUNT_ANNOTATION)
        keys = {key for key, _ in secret.data}
        found[secret.name] = (secret.type or "Opaque", keys, account)
    accounts = _service_accounts(scenario)
    secrets: dict[str, tuple[str, int]] = {}
    for name, (kind, keys, account) in found.items():
        if kind == _TOKEN_SECRET_TYPE:
            if account not in accounts:
                continue
            keys = keys | _TOKEN_SECRET_KEYS
        secrets[name] = (kind, len(keys))
    return secrets


def get_serviceaccounts(result: SimulationResult, at_seconds: float) -> str:
    """Return what ``kubectl get serviceaccounts`` prints at ``at_seconds``.

    ``default`` is always there; SECRETS counts an account's ``secrets`` list.
    Every object exists from t = 0.
    """
    age = since(at_seconds, 0.0)
    accounts = _service_accounts(result.scenario)
    rows = [[a.name, str(a.secrets), age] for _, a in sorted(accounts.items())]
    return _table(("NAME", "SECRETS", "AGE"), rows)


def get_secrets(result: SimulationResult, at_seconds: float) -> str:
    """Return what ``kubectl get secrets`` prints at ``at_seconds``.

    TYPE defaults to ``Opaque``; DATA counts the keys of ``data`` and
    ``stringData`` together. Every object exists from t = 0.
    """
    age = since(at_seconds, 0.0)
    secrets = _secrets(result.scenario)
    rows = [[name, kind, str(n), age] for name, (kind, n) in sorted(secrets.items())]
    return _table(("NAME", "TYPE", "DATA", "AGE"), rows)
