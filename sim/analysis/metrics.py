"""Metrics of runs: time to Ready, detection times after a fault, restarts by cause.

``pod_metrics`` gives one flat record per pod of one run (numbers only, NaN where a
thing did not happen), ``metrics_frame`` stacks them for many runs, ``aggregate``
reduces a column to mean, quantiles and a confidence interval, and ``summarize``
builds the nested ``summary.json`` of a run.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.analysis.traffic import traffic_summary
from sim.scenario.document import ActionKind, Scenario
from sim.scenario.spec import Pod, ProbeType
from sim.trace import SLOW_BUT_HEALTHY, KillCause, Reason

if TYPE_CHECKING:
    from sim.simulation import SimulationResult

# BackOff events of the two kinds of back-off, told apart by their messages.
CRASH_LOOP_BACK_OFF_MESSAGE = "Back-off restarting failed container"
IMAGE_PULL_BACK_OFF_MESSAGE = "Back-off pulling image"

_CAUSE_BY_MESSAGE = (
    ("failed liveness probe", KillCause.LIVENESS),
    ("failed startup probe", KillCause.STARTUP),
    ("definition changed", KillCause.SPEC_CHANGED),
)

# Two-sided 95 % Student t quantiles for 1 to 30 degrees of freedom.
_T95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
_Z95 = 1.959964


def kill_cause(message: str, pod_deleting: bool) -> KillCause:
    """Cause of a ``Killing`` event, from its message."""
    for fragment, cause in _CAUSE_BY_MESSAGE:
        if fragment in message:
            return cause
    return KillCause.DELETION if pod_deleting else KillCause.POD_KILL


# The reasons whose events the metrics count or time.
_COUNTED = (
    Reason.KILLING,
    Reason.POD_READY,
    Reason.POD_NOT_READY,
    Reason.STARTED,
    Reason.UNHEALTHY,
    Reason.BACK_OFF,
    Reason.DELETED,
)

_NO_ROWS = slice(0, 0)


def _split(pods: pd.Series) -> tuple[np.ndarray, dict[str, slice]]:
    """Return a row order putting each pod's rows together, and each pod's slice.

    The sort is stable, so a pod's rows keep their order in the frame; rows without
    a pod belong to no slice.
    """
    codes, names = pd.factorize(pods)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    ends = np.cumsum(counts) + int((codes < 0).sum())
    return order, {
        str(name): slice(int(end - count), int(end))
        for name, count, end in zip(names, counts, ends, strict=True)
    }


def _flags(mask: pd.Series) -> np.ndarray:
    """A boolean column as a NumPy array, missing values as False."""
    return mask.to_numpy(dtype=bool, na_value=False)


class _EventLog:
    """The columns of an event log that the metrics read, split by pod once.

    Every array holds the rows of one pod together (``spans`` gives each pod's
    slice), in their order in the log. Per-pod pandas operations on a fleet cost
    milliseconds each; slices of these arrays cost microseconds.
    """

    def __init__(self, events: pd.DataFrame) -> None:
        order, self.spans = _split(events["pod"])
        self.time = events["time"].to_numpy(dtype=float)[order]
        self.restart_count = events["restart_count"].to_numpy()[order]
        # Objects as the frame holds them: a missing container or message stays
        # missing, and a container is named only when present (as groupby has it).
        self.container = events["container"].to_numpy(dtype=object)[order]
        self.message = events["message"].to_numpy(dtype=object)[order]
        self.named = ~events["container"].isna().to_numpy()[order]
        reason = events["reason"]
        self.reason = {r: _flags(reason == r.value)[order] for r in _COUNTED}

        # Failed liveness attempts, and whether only slowness failed them.
        liveness = _flags(events["probe"] == ProbeType.LIVENESS.value)[order]
        self.liveness_failed = self.reason[Reason.UNHEALTHY] & liveness & self.named
        message = events["message"].str
        self.slow = _flags(message.contains(SLOW_BUT_HEALTHY, regex=False))[order]

        # Back-offs of either kind, told apart by their messages.
        back_off = self.reason[Reason.BACK_OFF]
        crash_loop = _flags(message.startswith(CRASH_LOOP_BACK_OFF_MESSAGE))
        image_pull = _flags(message.startswith(IMAGE_PULL_BACK_OFF_MESSAGE))
        self.crash_loop = back_off & crash_loop[order]
        self.image_pull = back_off & image_pull[order]

    def rows(self, pod: str) -> slice:
        """The slice of the pod's rows (empty for a pod without events)."""
        return self.spans.get(pod, _NO_ROWS)

    def where(self, rows: slice, mask: np.ndarray) -> np.ndarray:
        """Positions of the rows of a slice where a mask holds, in log order."""
        return np.flatnonzero(mask[rows]) + rows.start

    def times(self, rows: slice, reason: Reason) -> np.ndarray:
        """Times of a slice's events of one reason, in log order."""
        return self.time[rows][self.reason[reason][rows]]

    def count(self, rows: slice, mask: np.ndarray) -> int:
        """How many rows of a slice a mask holds for."""
        return int(np.count_nonzero(mask[rows]))

    def highest_restart_counts(self, rows: slice) -> dict[str, int]:
        """Per named container of a slice: the highest restart count of its starts."""
        highest: dict[str, int] = {}
        at = self.where(rows, self.reason[Reason.STARTED] & self.named)
        for name, count in zip(
            self.container[at].tolist(), self.restart_count[at].tolist(), strict=True
        ):
            highest[name] = max(highest.get(name, count), count)
        return highest

    def liveness_failures(
        self, rows: slice
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per container: times of failed liveness attempts, and which were slow."""
        at = self.where(rows, self.liveness_failed)
        names = self.container[at]
        out = {}
        for name in dict.fromkeys(names.tolist()):
            mine = at[names == name]
            out[str(name)] = (self.time[mine], self.slow[mine])
        return out


class _Lanes:
    """The Ready intervals of each pod's timeline lane, split by pod once."""

    def __init__(self, timeline: pd.DataFrame) -> None:
        order, self.spans = _split(timeline["pod"])
        # Only the pod's own lane (container "") counts, while Ready; the lengths
        # are summed with NaN as 0, as pandas sums them.
        lengths = (timeline["end"] - timeline["start"]).to_numpy(dtype=float)
        self.length = np.where(np.isnan(lengths), 0.0, lengths)[order]
        ready = timeline["ready"].astype(bool).to_numpy(dtype=bool)
        self.ready = (_flags(timeline["container"] == "") & ready)[order]

    def ready_seconds(self, pod: str) -> float:
        """Seconds the pod was Ready, summed in the timeline's row order."""
        rows = self.spans.get(pod, _NO_ROWS)
        return float(self.length[rows][self.ready[rows]].sum())


class _Actions:
    """The times of the scenario's deletions and faults, per pod."""

    def __init__(self, scenario: Scenario) -> None:
        self.deletions: dict[str, list[float]] = {}
        self.faults: dict[str, list[float]] = {}
        for a in scenario.actions:
            if a.kind is ActionKind.DELETE:
                self.deletions.setdefault(a.pod, []).append(a.at_seconds)
            elif a.kind is ActionKind.FAULT:
                self.faults.setdefault(a.pod, []).append(a.at_seconds)


def _first_after(times: np.ndarray, t: float) -> float:
    later = times[times >= t]
    return float(later.min()) if len(later) else math.nan


def _unnecessary(
    failures: dict[str, tuple[np.ndarray, np.ndarray]],
    pod: Pod,
    kill_time: float,
    name: str,
) -> bool:
    """Whether a liveness kill followed failures of a healthy but slow application.

    The deciding failures are the last ``failureThreshold`` failed liveness
    attempts of the container before the kill; the kill was unnecessary when every
    one of them timed out on an application that would have answered well.
    """
    probe = pod.container(name).liveness_probe
    if probe is None or name not in failures:
        return False
    times, slow = failures[name]
    end = int(np.searchsorted(times, kill_time, side="right"))
    if end < probe.failure_threshold:
        return False
    return bool(slow[end - probe.failure_threshold : end].all())


def pod_metrics(
    events: pd.DataFrame,
    timeline: pd.DataFrame,
    scenario: Scenario,
    pod: Pod,
) -> dict[str, float]:
    """Flat metrics of one pod in one run; NaN where the thing did not happen.

    Keys: ``time_to_first_ready_seconds``, ``ready_fraction``, ``restarts``,
    ``kills_<cause>`` for every ``KillCause``, ``unnecessary_restarts`` (liveness
    kills of a healthy application whose answers were only slower than the
    timeout), ``crash_loop_back_offs``, ``image_pull_back_offs``,
    ``unhealthy_events`` and, measured from the
    pod's first fault action, ``fault_to_first_failure_seconds``,
    ``fault_to_not_ready_seconds``, ``fault_to_kill_seconds`` and
    ``fault_to_restart_seconds``.
    """
    return _pod_metrics(
        _EventLog(events), _Lanes(timeline), _Actions(scenario), scenario, pod
    )


def _pod_metrics(
    log: _EventLog,
    lanes: _Lanes,
    actions: _Actions,
    scenario: Scenario,
    pod: Pod,
) -> dict[str, float]:
    """``pod_metrics`` of one pod, from a log and lanes split once for every pod."""
    rows = log.rows(pod.name)
    deletions = actions.deletions.get(pod.name, [])

    # Kills by cause; a liveness kill may have been unnecessary.
    out: dict[str, float] = {f"kills_{c.value.replace('-', '_')}": 0 for c in KillCause}
    unnecessary = 0
    failures = log.liveness_failures(rows)
    kills = log.where(rows, log.reason[Reason.KILLING])
    for time, name, message in zip(
        log.time[kills].tolist(),
        log.container[kills].tolist(),
        log.message[kills].tolist(),
        strict=True,
    ):
        deleting = any(at <= time for at in deletions)
        cause = kill_cause(str(message), deleting)
        out[f"kills_{cause.value.replace('-', '_')}"] += 1
        if cause is KillCause.LIVENESS:
            unnecessary += _unnecessary(failures, pod, float(time), str(name))

    # Readiness, restarts (the highest count of each container) and back-offs.
    ready = log.times(rows, Reason.POD_READY)
    out["time_to_first_ready_seconds"] = float(ready.min()) if len(ready) else math.nan
    out["ready_fraction"] = lanes.ready_seconds(pod.name) / max(
        scenario.duration_seconds, 1e-9
    )
    out["restarts"] = float(sum(log.highest_restart_counts(rows).values()))
    out["unnecessary_restarts"] = float(unnecessary)
    out["crash_loop_back_offs"] = float(log.count(rows, log.crash_loop))
    out["image_pull_back_offs"] = float(log.count(rows, log.image_pull))
    out["unhealthy_events"] = float(log.count(rows, log.reason[Reason.UNHEALTHY]))
    out.update(_fault_metrics(log, rows, actions.faults.get(pod.name, [])))
    return out


def _fault_metrics(
    log: _EventLog, rows: slice, faults: list[float]
) -> dict[str, float]:
    names = (
        "fault_to_first_failure_seconds",
        "fault_to_not_ready_seconds",
        "fault_to_kill_seconds",
        "fault_to_restart_seconds",
    )
    if not faults:
        return dict.fromkeys(names, math.nan)
    at = min(faults)
    kill = _first_after(log.times(rows, Reason.KILLING), at)
    restart = (
        _first_after(log.times(rows, Reason.STARTED), kill) if kill == kill else kill
    )
    marks = (
        _first_after(log.times(rows, Reason.UNHEALTHY), at),
        _first_after(log.times(rows, Reason.POD_NOT_READY), at),
        kill,
        restart,
    )
    return {name: mark - at for name, mark in zip(names, marks, strict=True)}


def _pods_of(result: SimulationResult) -> list[Pod]:
    """Every pod of the run: as stored by the API server, or the scenario's."""
    stored = list(result.objects.pods.values())
    return stored or list(result.scenario.pods)


def run_metrics(result: SimulationResult) -> pd.DataFrame:
    """One row per pod of one run: ``run``, ``seed``, ``pod`` and the metrics.

    Pods made by Deployments are included; pods refused at admission are not.
    """
    # The log and the timeline are split by pod once, into arrays.
    log, lanes = _EventLog(result.events), _Lanes(result.timeline)
    actions = _Actions(result.scenario)
    records = []
    for pod in _pods_of(result):
        record: dict[str, Any] = {
            "run": result.run,
            "seed": result.seed,
            "pod": pod.name,
        }
        record.update(_pod_metrics(log, lanes, actions, result.scenario, pod))
        records.append(record)
    return pd.DataFrame.from_records(records)


def metrics_frame(results: Iterable[SimulationResult]) -> pd.DataFrame:
    """Metrics of many runs stacked: one row per (run, pod)."""
    frames = [run_metrics(r) for r in results]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def mean_interval(values: Sequence[float] | np.ndarray) -> tuple[float, float, float]:
    """Mean and 95 % confidence interval (Student t) of the finite values."""
    data = np.asarray(values, dtype=float)
    data = data[np.isfinite(data)]
    n = len(data)
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(data.mean())
    if n == 1:
        return mean, math.nan, math.nan
    t = _T95[n - 2] if n - 1 <= len(_T95) else _Z95
    half = t * float(data.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def proportion_interval(successes: int, n: int) -> tuple[float, float, float]:
    """A proportion and its 95 % Wilson score interval."""
    if n == 0:
        return math.nan, math.nan, math.nan
    p = successes / n
    z2 = _Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return p, max(0.0, centre - half), min(1.0, centre + half)


def aggregate(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    by: Sequence[str] = (),
    quantiles: Sequence[float] = (0.05, 0.5, 0.95),
) -> pd.DataFrame:
    """Mean, confidence interval, quantiles and counts of metrics, per group.

    Returns one row per group and metric with ``metric``, ``n`` (finite values),
    ``missing`` (NaN values: the thing did not happen), ``mean``, ``ci_low``,
    ``ci_high`` and ``q<percent>`` columns.
    """
    groups = frame.groupby(list(by), sort=True) if by else [((), frame)]
    rows = []
    for key, group in groups:
        key = key if isinstance(key, tuple) else (key,)
        for metric in metrics:
            values = group[metric].to_numpy(dtype=float)
            finite = values[np.isfinite(values)]
            mean, low, high = mean_interval(finite)
            row: dict[str, Any] = dict(zip(by, key, strict=True))
            row.update(
                metric=metric,
                n=len(finite),
                missing=len(values) - len(finite),
                mean=mean,
                ci_low=low,
                ci_high=high,
            )
            for q in quantiles:
                row[f"q{round(q * 100):02d}"] = (
                    float(np.quantile(finite, q)) if len(finite) else math.nan
                )
            rows.append(row)
    return pd.DataFrame.from_records(rows)


def summarize(
    events: pd.DataFrame,
    scenario: Scenario,
    seed: int,
    timeline: pd.DataFrame,
    requests: pd.DataFrame | None = None,
    pods_run: Sequence[Pod] | None = None,
) -> dict[str, Any]:
    """The nested ``summary.json`` of one run (JSON-ready values, null for NaN).

    ``pods_run`` are the pods the run created (Deployments' pods included); the
    scenario's pods when None.
    """
    pods: dict[str, Any] = {}
    log, lanes, actions = _EventLog(events), _Lanes(timeline), _Actions(scenario)
    for pod in scenario.pods if pods_run is None else pods_run:
        rows = log.rows(pod.name)
        flat = _pod_metrics(log, lanes, actions, scenario, pod)
        highest = log.highest_restart_counts(rows)
        pods[pod.name] = {
            "time_to_first_ready_seconds": _num(flat["time_to_first_ready_seconds"]),
            "ready_fraction": _num(flat["ready_fraction"]),
            "ready_transitions": log.count(rows, log.reason[Reason.POD_READY]),
            "restarts": {c.name: highest.get(c.name, 0) for c in pod.containers},
            "kills_by_cause": {
                c.value: int(flat[f"kills_{c.value.replace('-', '_')}"])
                for c in KillCause
            },
            "unnecessary_restarts": int(flat["unnecessary_restarts"]),
            "crash_loop_back_offs": int(flat["crash_loop_back_offs"]),
            "image_pull_back_offs": int(flat["image_pull_back_offs"]),
            "unhealthy_events": int(flat["unhealthy_events"]),
            "after_first_fault": {
                k.removeprefix("fault_to_"): _num(flat[k])
                for k in flat
                if k.startswith("fault_to_")
            },
            "deleted_at_seconds": _num(
                _first_after(log.times(rows, Reason.DELETED), 0.0)
            ),
        }
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "seed": seed,
        "duration_seconds": scenario.duration_seconds,
        "kubernetes_version": scenario.cluster.kubernetes_version,
        "pods": pods,
        "total_restarts": sum(sum(p["restarts"].values()) for p in pods.values()),
    }
    if requests is not None and len(requests):
        summary["services"] = traffic_summary(
            requests, events, scenario.duration_seconds
        )
    return summary


def _num(value: float) -> float | None:
    value = float(value)
    return None if math.isnan(value) else round(value, 6)
