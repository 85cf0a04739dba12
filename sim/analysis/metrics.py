"""Summary metrics of one run: time to first Ready, restarts, kills by cause."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sim.scenario.document import ActionKind, Scenario
from sim.trace import KillCause, Reason

_CAUSE_BY_MESSAGE = (
    ("failed liveness probe", KillCause.LIVENESS),
    ("failed startup probe", KillCause.STARTUP),
    ("definition changed", KillCause.SPEC_CHANGED),
)


def kill_cause(message: str, pod_deleting: bool) -> KillCause:
    """Cause of a ``Killing`` event, from its message."""
    for fragment, cause in _CAUSE_BY_MESSAGE:
        if fragment in message:
            return cause
    return KillCause.DELETION if pod_deleting else KillCause.POD_KILL


def summarize(events: pd.DataFrame, scenario: Scenario, seed: int) -> dict[str, Any]:
    """Metrics per pod and in total, as plain JSON-ready values."""
    pods: dict[str, Any] = {}
    for pod in scenario.pods:
        rows = events[events["pod"] == pod.name]
        ready = rows[rows["reason"] == Reason.POD_READY.value]["time"]
        started = rows[rows["reason"] == Reason.STARTED.value]
        kills = rows[rows["reason"] == Reason.KILLING.value]
        deleted_at = _first(rows, Reason.DELETED)
        deletions = [
            a.at_seconds
            for a in scenario.actions
            if a.pod == pod.name and a.kind is ActionKind.DELETE
        ]
        causes: dict[str, int] = {c.value: 0 for c in KillCause}
        for time, message in kills[["time", "message"]].itertuples(index=False):
            deleting = any(at <= time for at in deletions)
            causes[kill_cause(str(message), deleting).value] += 1
        restarts = {
            c.name: int(started[started["container"] == c.name]["restart_count"].max())
            if (started["container"] == c.name).any()
            else 0
            for c in pod.containers
        }
        pods[pod.name] = {
            "time_to_first_ready_seconds": _num(
                ready.min() if len(ready) else math.nan
            ),
            "ready_transitions": len(ready),
            "restarts": restarts,
            "kills_by_cause": causes,
            "crash_loop_back_offs": int(
                (rows["reason"] == Reason.BACK_OFF.value).sum()
            ),
            "unhealthy_events": int((rows["reason"] == Reason.UNHEALTHY.value).sum()),
            "deleted_at_seconds": _num(deleted_at),
        }
    return {
        "scenario": scenario.name,
        "seed": seed,
        "duration_seconds": scenario.duration_seconds,
        "kubernetes_version": scenario.cluster.kubernetes_version,
        "pods": pods,
        "total_restarts": sum(sum(p["restarts"].values()) for p in pods.values()),
    }


def _first(rows: pd.DataFrame, reason: Reason) -> float:
    times = rows[rows["reason"] == reason.value]["time"]
    return float(times.min()) if len(times) else math.nan


def _num(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, 6)
