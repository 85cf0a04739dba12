"""``kubectl describe pod``: ``describePod`` over the pod at one instant.

The spec (service account, containers, mounts, volumes) is the one the API server
stores (``Instant.pod``), the status the kubelet's last write, the Events what the
event recorder left (``fold_events``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sim.analysis.humanize import api_seconds, human_duration, rfc1123z
from sim.analysis.kubectl.containers import container_lines, volume_lines
from sim.analysis.kubectl.events_table import event_lines, fold_events
from sim.analysis.kubectl.instant import (
    NO_RESOURCES,
    NODE_IP,
    NODE_NAME,
    TERMINAL_PHASES,
    Instant,
    PodNotFoundError,
    PodView,
)
from sim.analysis.kubectl.tabwriter import described, indent

if TYPE_CHECKING:
    from sim.simulation import SimulationResult

_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_MAX_ANNOTATION_LEN = 140
_DEFAULT_TOLERATIONS = (
    "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s",
    "node.kubernetes.io/unreachable:NoExecute op=Exists for 300s",
)


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


def _conditions(view: PodView) -> list[tuple[str, str]]:
    """The pod's conditions in the order the kubelet writes them.

    Conditions set by others (readiness gates) first, then the kubelet's own.
    """
    status = view.status
    if status is None:
        return [("PodScheduled", "True")]
    kubelet = [
        (
            "PodReadyToStartContainers",
            view.sandbox and status.phase not in TERMINAL_PHASES,
        ),
        ("Initialized", True),
        ("Ready", status.ready),
        ("ContainersReady", status.containers_ready),
        ("PodScheduled", True),
    ]
    return [
        (name, "True" if value else "False")
        for name, value in (*status.conditions, *kubelet)
    ]


def _header_lines(view: PodView, instant: Instant) -> list[str]:
    """From ``Name`` to ``IPs``: metadata, account, node, status, addresses."""
    pod, status, at = view.pod, view.status, instant.at
    lines = [
        f"Name:\t{pod.name}",
        f"Namespace:\t{pod.metadata.namespace}",
        "Priority:\t0",
    ]
    if pod.service_account_name:
        lines.append(f"Service Account:\t{pod.service_account_name}")
    lines.append(f"Node:\t{NODE_NAME}/{NODE_IP}")
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
        and phase not in TERMINAL_PHASES
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
    lines += ["IPs:", *indent(1, f"IP:\t{ip}")] if ip else ["IPs:\t<none>"]
    return lines


def _describe(view: PodView, instant: Instant) -> str:
    """The text of ``kubectl describe pod`` for a pod that exists."""
    pod, status, at = view.pod, view.status, instant.at
    lines = _header_lines(view, instant)
    statuses = {c.name: c for c in status.containers} if status is not None else {}
    lines.append("Containers:")
    for container in pod.containers:
        lines += container_lines(container, statuses.get(container.name))
    conditions = _conditions(view)
    if pod.readiness_gates:
        held = dict(conditions)
        lines += ["Readiness Gates:", *indent(1, "Type\tStatus")]
        gates = (f"{g} \t{held.get(g, '<none>')} " for g in pod.readiness_gates)
        lines += indent(1, *gates)
    lines += ["Conditions:", *indent(1, "Type\tStatus")]
    lines += indent(1, *(f"{name} \t{value} " for name, value in conditions))
    lines += volume_lines(pod)
    lines += ["QoS Class:\tBestEffort", "Node-Selectors:\t<none>"]
    lines += _multiline("Tolerations", list(_DEFAULT_TOLERATIONS))
    lines += event_lines(fold_events(view.events, at), at)
    return described(lines)


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
        When the pod does not exist at that instant (not created yet, refused by
        admission, deleted) and left no events.
    """
    instant = Instant(result, at_seconds)
    view = instant.pod(pod_name)
    if view.exists:
        return _describe(view, instant)
    events = fold_events(view.events, at_seconds)
    if not events:
        raise PodNotFoundError(pod_name, view.missing)
    lines = [
        f"Pod '{pod_name}': error 'pods \"{pod_name}\" not found', but found events.",
        *event_lines(events, at_seconds),
    ]
    return described(lines)


def describe_pods(result: SimulationResult, at_seconds: float) -> str:
    r"""Return what ``kubectl describe pods`` prints: every pod that exists.

    Descriptions are separated as kubectl separates them (``"\n\n"`` after
    each one's final newline); with no pod, kubectl's ``No resources found``.
    """
    instant = Instant(result, at_seconds)
    views = [instant.pod(name) for name in instant.names()]
    texts = [_describe(view, instant) for view in views if view.exists]
    return "\n\n".join(texts) if texts else NO_RESOURCES + "\n"
