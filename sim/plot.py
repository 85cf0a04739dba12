"""Timeline figures from an event log and its state intervals (matplotlib).

``plot_timeline`` draws, per pod, one lane per container and one for the pod's Ready
condition: container state bars (Waiting, Running, Terminating, Terminated, with
CrashLoopBackOff waits hatched), a band where the kubelet reports the container ready,
every probe attempt as a tick coloured by result with one row per probe type, and
markers for kills and starts. The time axis is in seconds or minutes as the span
suits.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Protocol, cast

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from sim.analysis.timeline import SERVICE_LANE_PREFIX
from sim.analysis.traffic import error_rate
from sim.trace import Reason

STATE_COLOURS = {
    "Waiting": "#c7c7c7",
    "Running": "#4c9f70",
    "Terminating": "#f0a030",
    "Terminated": "#c44e52",
}
RESULT_COLOURS = {
    "success": "#2b7bb9",
    "failure": "#d62728",
    "warning": "#ff9f1c",
    "error": "#7f7f7f",
}
PROBE_ROWS = ("startup", "liveness", "readiness")
BACK_OFF_REASONS = ("CrashLoopBackOff", "ImagePullBackOff")
READY_COLOUR = "#8fd3ff"
ROUTING_COLOUR = "#b39ddb"

_BAR_HEIGHT = 0.34
_READY_HEIGHT = 0.12
_TICK_SPACING = 0.1


def _time_scale(span_seconds: float) -> tuple[float, str]:
    if span_seconds > 1800:
        return 3600.0, "h"
    if span_seconds > 300:
        return 60.0, "min"
    return 1.0, "s"


def _lanes(timeline: pd.DataFrame) -> list[tuple[str, str]]:
    keys = timeline[["pod", "container"]].drop_duplicates()
    lanes: list[tuple[str, str]] = []
    for pod in dict.fromkeys(keys["pod"]):
        names = list(keys[keys["pod"] == pod]["container"])
        containers = [c for c in names if c and not c.startswith(SERVICE_LANE_PREFIX)]
        services = [c for c in names if c.startswith(SERVICE_LANE_PREFIX)]
        lanes.extend((pod, c) for c in containers)
        lanes.append((pod, ""))
        lanes.extend((pod, c) for c in services)
    return lanes


def plot_timeline(
    events: pd.DataFrame,
    timeline: pd.DataFrame,
    *,
    title: str = "",
    pods: Sequence[str] | None = None,
    requests: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the timeline of one run (and its failed-request strip with traffic).

    Parameters
    ----------
    events
        The run's event log (``result.events``).
    timeline
        The run's state intervals (``result.timeline``).
    title
        Figure title.
    pods
        Pods to draw (all when None).
    requests
        The run's request counts (``result.requests``); when given and not empty,
        a strip below the lanes shows the fraction of failed requests per second.
    ax
        Axes to draw into; a new figure when None (the strip needs a new figure).

    Returns
    -------
    Figure
        The figure drawn into.
    """
    if "run" in timeline.columns:
        timeline = timeline[timeline["run"] == timeline["run"].min()]
    if pods is not None:
        timeline = timeline[timeline["pod"].isin(pods)]
        events = events[events["pod"].isin(pods)]
    lanes = _lanes(timeline)
    strip = requests is not None and len(requests) > 0 and ax is None
    strip_ax = None
    if ax is None:
        height = 1.2 + 0.75 * len(lanes) + (1.0 if strip else 0.0)
        if strip:
            fig, (ax, strip_ax) = plt.subplots(
                2,
                1,
                figsize=(12, height),
                layout="constrained",
                sharex=True,
                height_ratios=(max(len(lanes), 1), 1.2),
            )
        else:
            fig, ax = plt.subplots(figsize=(12, height), layout="constrained")
    else:
        fig = ax.figure  # type: ignore[assignment]
    end = float(timeline["end"].max()) if len(timeline) else 1.0
    scale, unit = _time_scale(end)
    y_of = {lane: len(lanes) - 1 - i for i, lane in enumerate(lanes)}

    _draw_states(ax, timeline, y_of, scale)
    _draw_events(ax, events, y_of, scale)

    ax.set_yticks(list(y_of.values()))
    ax.set_yticklabels([_lane_label(pod, c) for pod, c in y_of], fontsize=8)
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(0, end / scale)
    if strip_ax is not None and requests is not None:
        _draw_error_rate(strip_ax, requests, scale, unit)
    else:
        ax.set_xlabel(f"time since scenario start ({unit})")
    ax.grid(axis="x", color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    ax.legend(
        handles=_legend_handles(),
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=7,
        frameon=False,
    )
    return fig


def _lane_label(pod: str, lane: str) -> str:
    if not lane:
        return f"{pod}\nPod Ready"
    if lane.startswith(SERVICE_LANE_PREFIX):
        return f"{pod}\nkube-proxy: {lane.removeprefix(SERVICE_LANE_PREFIX)}"
    return f"{pod}\n{lane}"


def _draw_error_rate(ax: Axes, requests: pd.DataFrame, scale: float, unit: str) -> None:
    rate = error_rate(requests)
    ax.fill_between(
        rate["second"] / scale, rate["error_rate"], step="post", color="#d62728", lw=0
    )
    ax.set_ylim(0, 1)
    ax.set_ylabel("failed\nrequests", fontsize=8)
    ax.set_xlabel(f"time since scenario start ({unit})")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


class _TimelineRow(Protocol):
    """The columns of a ``timeline_frame`` row that the state bars read."""

    pod: str
    container: str
    state: str
    reason: str
    ready: bool
    start: float
    end: float


def _draw_states(
    ax: Axes, timeline: pd.DataFrame, y_of: dict[tuple[str, str], int], scale: float
) -> None:
    rows = cast(Iterable[_TimelineRow], timeline.itertuples(index=False))
    for row in rows:
        y = y_of.get((row.pod, row.container))
        if y is None:
            continue
        start, width = row.start / scale, (row.end - row.start) / scale
        if row.container.startswith(SERVICE_LANE_PREFIX):
            colour = ROUTING_COLOUR if row.ready else "#f2f2f2"
            ax.broken_barh([(start, width)], (y - 0.15, 0.3), color=colour, lw=0)
            continue
        if not row.container:
            colour = READY_COLOUR if row.ready else "#f2f2f2"
            ax.broken_barh([(start, width)], (y - 0.2, 0.4), color=colour, lw=0)
            continue
        hatch = "///" if row.reason in BACK_OFF_REASONS else None
        ax.broken_barh(
            [(start, width)],
            (y - _BAR_HEIGHT / 2, _BAR_HEIGHT),
            facecolor=STATE_COLOURS.get(row.state, "#999999"),
            edgecolor="white" if hatch else "none",
            hatch=hatch,
            lw=0,
        )
        if row.ready:
            ax.broken_barh(
                [(start, width)],
                (y + _BAR_HEIGHT / 2, _READY_HEIGHT),
                color=READY_COLOUR,
                lw=0,
            )


def _draw_events(
    ax: Axes, events: pd.DataFrame, y_of: dict[tuple[str, str], int], scale: float
) -> None:
    probes = events[events["reason"] == Reason.PROBE.value]
    for key, group in probes.groupby(
        ["pod", "container", "probe", "result"], sort=False
    ):
        pod, container, probe, result = cast(tuple[str, str, str, str], key)
        y = y_of.get((pod, container))
        if y is None:
            continue
        offset = _TICK_SPACING * (PROBE_ROWS.index(probe) - 1)
        ax.plot(
            group["time"] / scale,
            [y - _BAR_HEIGHT / 2 - 0.14 + offset] * len(group),
            linestyle="none",
            marker="|",
            markersize=6,
            color=RESULT_COLOURS.get(result, "black"),
        )
    for reason, marker, colour in (
        (Reason.KILLING.value, "x", "black"),
        (Reason.STARTED.value, "^", "#1b5e20"),
    ):
        rows = events[events["reason"] == reason]
        for lane, group in rows.groupby(["pod", "container"], sort=False):
            y = y_of.get(cast(tuple[str, str], lane))
            if y is None:
                continue
            ax.plot(
                group["time"] / scale,
                [y] * len(group),
                linestyle="none",
                marker=marker,
                markersize=5,
                color=colour,
            )


def _legend_handles() -> list:
    handles: list = [Patch(color=c, label=s) for s, c in STATE_COLOURS.items()]
    handles.append(
        Patch(facecolor="#c7c7c7", hatch="///", edgecolor="white", label="back-off")
    )
    handles.append(Patch(color=READY_COLOUR, label="ready"))
    handles.append(Patch(color=ROUTING_COLOUR, label="kube-proxy routes"))
    handles += [
        Line2D([], [], color=c, marker="|", linestyle="none", label=f"probe {r}")
        for r, c in RESULT_COLOURS.items()
    ]
    handles.append(
        Line2D([], [], color="black", marker="x", linestyle="none", label="kill")
    )
    handles.append(
        Line2D([], [], color="#1b5e20", marker="^", linestyle="none", label="start")
    )
    return handles


def save_timeline(
    events: pd.DataFrame,
    timeline: pd.DataFrame,
    path: str | Path,
    title: str = "",
    requests: pd.DataFrame | None = None,
) -> None:
    """Draw the timeline and save it as a PNG image."""
    fig = plot_timeline(events, timeline, title=title, requests=requests)
    fig.savefig(path, dpi=120, format="png", metadata={"Software": None})
    plt.close(fig)


def plot_distribution(
    values: Sequence[float] | pd.Series,
    *,
    label: str,
    unit: str = "s",
    ax: Axes | None = None,
) -> Figure:
    """Histogram and empirical CDF of one metric over many runs.

    NaN values (the thing did not happen in that run) are left out and counted in
    the title.
    """
    series = pd.Series(values, dtype=float)
    finite = series[series.notna()].sort_values()
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    else:
        fig = ax.figure  # type: ignore[assignment]
    ax.hist(finite, bins=min(40, max(5, len(finite) // 5)), color="#9ecae1", lw=0)
    ax.set_xlabel(f"{label} ({unit})" if unit else label)
    ax.set_ylabel("runs")
    ecdf = ax.twinx()
    if len(finite):
        ecdf.step(
            finite, (pd.RangeIndex(len(finite)) + 1) / len(finite), color="#08519c"
        )
    ecdf.set_ylim(0, 1.02)
    ecdf.set_ylabel("fraction of runs at or below")
    missing = len(series) - len(finite)
    note = f", {missing} without" if missing else ""
    ax.set_title(f"{label}: {len(finite)} runs{note}", loc="left", fontsize=10)
    for side in ("top",):
        ax.spines[side].set_visible(False)
    return fig


def plot_metric_vs_parameter(
    aggregated: pd.DataFrame,
    *,
    parameter: str,
    metric: str,
    series: str | None = None,
    unit: str = "s",
    ax: Axes | None = None,
) -> Figure:
    """Mean of a metric against a parameter, with its confidence band.

    ``aggregated`` is the output of ``sim.analysis.metrics.aggregate`` grouped by
    ``parameter`` (and ``series``, drawn as one line each).
    """
    data = aggregated[aggregated["metric"] == metric].sort_values(parameter)
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    else:
        fig = ax.figure  # type: ignore[assignment]
    groups: Iterable[tuple[Hashable, pd.DataFrame]] = (
        data.groupby(series, sort=True) if series else [(None, data)]
    )
    for key, group in groups:
        name = f"{series}={key}" if series else metric
        line = ax.plot(group[parameter], group["mean"], marker="o", label=name)[0]
        ax.fill_between(
            group[parameter],
            group["ci_low"],
            group["ci_high"],
            color=line.get_color(),
            alpha=0.2,
            lw=0,
        )
    ax.set_xlabel(parameter)
    ax.set_ylabel(f"{metric} ({unit})" if unit else metric)
    ax.grid(color="#e6e6e6", linewidth=0.6)
    if series:
        ax.legend(fontsize=8, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig
