"""Traffic metrics: failed requests, error rate over time, time without endpoints."""

from __future__ import annotations

from typing import Any

import pandas as pd

from sim.trace import Reason, RequestOutcome


def error_rate(requests: pd.DataFrame, service: str | None = None) -> pd.DataFrame:
    """Per second: requests, failed requests and the failed fraction.

    Every outcome but ``success`` counts as failed.
    """
    rows = requests if service is None else requests[requests["service"] == service]
    total = rows.groupby("second")["count"].sum()
    failed = (
        rows[rows["outcome"] != RequestOutcome.SUCCESS.value]
        .groupby("second")["count"]
        .sum()
    )
    frame = pd.DataFrame({"requests": total}).join(pd.DataFrame({"failed": failed}))
    frame["failed"] = frame["failed"].fillna(0).astype("int64")
    frame["error_rate"] = frame["failed"] / frame["requests"]
    return frame.reset_index()


def routable_intervals(events: pd.DataFrame, end_seconds: float) -> pd.DataFrame:
    """Intervals during which kube-proxy routed to each pod, per service.

    Columns: ``service``, ``pod``, ``start``, ``end``.
    """
    marks = events[
        events["reason"].isin(
            [Reason.PROXY_ROUTING.value, Reason.PROXY_NOT_ROUTING.value]
        )
    ]
    rows = []
    opened: dict[tuple[str, str], float] = {}
    for time, pod, reason, message in marks[
        ["time", "pod", "reason", "message"]
    ].itertuples(index=False):
        service = str(message).removeprefix("service=")
        key = (service, str(pod))
        if reason == Reason.PROXY_ROUTING.value:
            opened.setdefault(key, float(time))
        elif key in opened:
            rows.append((*key, opened.pop(key), float(time)))
    rows += [(*key, start, end_seconds) for key, start in opened.items()]
    return pd.DataFrame(rows, columns=["service", "pod", "start", "end"])


def seconds_without_endpoints(
    events: pd.DataFrame, service: str, start: float, end: float
) -> float:
    """Time in [start, end) when kube-proxy had no endpoint to route the service to."""
    intervals = routable_intervals(events, end)
    intervals = intervals[intervals["service"] == service]
    points = sorted(
        [(float(s), 1) for s in intervals["start"]]
        + [(float(e), -1) for e in intervals["end"]]
    )
    empty, count, last = 0.0, 0, start
    for time, delta in points:
        time = min(max(time, start), end)
        if count == 0:
            empty += time - last
        count += delta
        last = time
    if count == 0:
        empty += end - last
    return empty


def traffic_summary(
    requests: pd.DataFrame, events: pd.DataFrame, duration_seconds: float
) -> dict[str, Any]:
    """Per service: requests, failed requests by outcome, time without endpoints."""
    out: dict[str, Any] = {}
    for service in sorted(set(requests["service"])):
        rows = requests[requests["service"] == service]
        by_outcome = rows.groupby("outcome")["count"].sum()
        total = int(by_outcome.sum())
        failed = total - int(by_outcome.get(RequestOutcome.SUCCESS.value, 0))
        out[service] = {
            "requests": total,
            "failed_requests": failed,
            "failed_by_outcome": {
                o.value: int(by_outcome.get(o.value, 0))
                for o in RequestOutcome
                if o is not RequestOutcome.SUCCESS
            },
            "error_rate": failed / total if total else 0.0,
            "seconds_without_endpoints": round(
                seconds_without_endpoints(events, service, 0.0, duration_seconds), 6
            ),
        }
    return out
