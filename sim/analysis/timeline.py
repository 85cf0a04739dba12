"""State intervals per container instance and per pod, derived from the event log.

Each row is one interval: ``pod``, ``container`` (empty for the pod's own Ready lane),
``restart_count`` (which instance), ``state`` (Waiting, Running, Terminating,
Terminated for containers; Ready or NotReady for pods), ``reason`` (the Waiting or
Terminated reason), ``ready``, ``started``, ``start`` and ``end`` in seconds.

Container rows show what the runtime does (the process runs, is being stopped, has
exited); ``ready`` is what the kubelet reports for that instance, and ends when the
instance exits. The pod rows show the pod's Ready condition as the API reports it,
which can stay True across a restart (R5.7). Where Services exist, a lane named
``service/<name>`` per pod shows when kube-proxy routes the Service to it (state
Routing or NotRouting).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.trace import Reason

# Lanes named "service/<name>" hold whether kube-proxy routes the service to the pod.
SERVICE_LANE_PREFIX = "service/"

TIMELINE_COLUMNS = (
    "pod",
    "container",
    "restart_count",
    "state",
    "reason",
    "ready",
    "started",
    "start",
    "end",
)


@dataclass
class _Lane:
    pod: str
    container: str
    restart_count: int
    state: str
    reason: str
    ready: bool
    started: bool
    start: float


class _Builder:
    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.open: dict[tuple[str, str], _Lane] = {}

    def change(self, time: float, pod: str, container: str, **fields) -> None:
        key = (pod, container)
        lane = self.open.get(key)
        if lane is not None:
            new = {**lane.__dict__, **fields}
            if all(getattr(lane, k) == v for k, v in fields.items()):
                return
            self.close(key, time)
            new["start"] = time
            self.open[key] = _Lane(**new)
            return
        base: dict[str, Any] = dict(
            pod=pod,
            container=container,
            restart_count=0,
            state="Waiting",
            reason="",
            ready=False,
            started=False,
            start=time,
        )
        base.update(fields)
        self.open[key] = _Lane(**base)

    def close(self, key: tuple[str, str], time: float) -> None:
        lane = self.open.pop(key)
        if time > lane.start:
            self.rows.append(
                (
                    lane.pod,
                    lane.container,
                    lane.restart_count,
                    lane.state,
                    lane.reason,
                    lane.ready,
                    lane.started,
                    lane.start,
                    time,
                )
            )


def timeline_frame(
    events: pd.DataFrame,
    end_seconds: float,
    startup_probed: Collection[tuple[str, str]] = (),
) -> pd.DataFrame:
    """Build the interval frame from an event log that runs to ``end_seconds``.

    ``startup_probed`` names the (pod, container) pairs with a startup probe: they
    are ``started`` only from their ``StartupSucceeded`` event, the others as soon
    as they run (R7.1).
    """
    b = _Builder()
    columns = ("time", "pod", "container", "reason", "restart_count", "message")
    for time, pod, container, reason, count, message in events[
        list(columns)
    ].itertuples(index=False):
        r = Reason(reason)
        if r is Reason.SCHEDULED:
            b.change(time, pod, "", state="NotReady", ready=False)
        elif r is Reason.POD_READY:
            b.change(time, pod, "", state="Ready", ready=True)
        elif r is Reason.POD_NOT_READY:
            b.change(time, pod, "", state="NotReady", ready=False)
        elif r is Reason.PULLED or r is Reason.PULLING:
            if (pod, container) not in b.open:
                b.change(time, pod, container, reason="ContainerCreating")
        elif r is Reason.BACK_OFF:
            pulling = str(message).startswith("Back-off pulling image")
            waiting = "ImagePullBackOff" if pulling else "CrashLoopBackOff"
            b.change(time, pod, container, state="Waiting", reason=waiting)
        elif r is Reason.FAILED and str(message) == "Error: ErrImagePull":
            b.change(time, pod, container, state="Waiting", reason="ErrImagePull")
        elif r is Reason.STARTED:
            b.change(
                time,
                pod,
                container,
                state="Running",
                reason="",
                restart_count=int(count),
                ready=False,
                started=(pod, container) not in startup_probed,
            )
        elif r is Reason.STARTUP_SUCCEEDED:
            b.change(time, pod, container, started=True)
        elif r is Reason.CONTAINER_READY:
            b.change(time, pod, container, ready=True)
        elif r is Reason.CONTAINER_NOT_READY:
            b.change(time, pod, container, ready=False)
        elif r is Reason.KILLING:
            b.change(time, pod, container, state="Terminating")
        elif r is Reason.EXITED:
            exit_reason = "Completed" if "(Completed)" in message else "Error"
            b.change(
                time,
                pod,
                container,
                state="Terminated",
                reason=exit_reason,
                ready=False,
                started=False,
            )
        elif r is Reason.PROXY_ROUTING or r is Reason.PROXY_NOT_ROUTING:
            routing = r is Reason.PROXY_ROUTING
            lane = SERVICE_LANE_PREFIX + str(message).removeprefix("service=")
            b.change(
                time, pod, lane, state="Routing" if routing else "NotRouting",
                ready=routing,
            )  # fmt: skip
        elif r is Reason.DELETED:
            for key in [k for k in b.open if k[0] == pod]:
                b.close(key, time)
    for key in list(b.open):
        b.close(key, end_seconds)
    frame = pd.DataFrame(b.rows, columns=list(TIMELINE_COLUMNS))
    return frame.sort_values(["pod", "container", "start"], kind="stable").reset_index(
        drop=True
    )
