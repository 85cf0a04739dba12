"""Metrics, aggregates, timelines and the figures drawn from them."""

from __future__ import annotations

import math

import matplotlib.collections as mcoll
import numpy as np
import pandas as pd
import pytest

import sim
from sim.analysis.metrics import (
    aggregate,
    mean_interval,
    metrics_frame,
    proportion_interval,
)
from sim.plot import plot_distribution, plot_metric_vs_parameter, plot_timeline

POD = """\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  containers:
  - name: app
    image: example/app:1
    livenessProbe:
      httpGet: {{port: 8080, path: /healthz}}
      periodSeconds: 5
      timeoutSeconds: 1
      failureThreshold: 2
    readinessProbe:
      httpGet: {{port: 8080, path: /healthz}}
      periodSeconds: 5
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: web}}
spec:
  duration: {duration}
  behaviours:
  - container: app
    http:
    - port: 8080
      responses: [{{status: 200, latency: {latency}}}]
    sigterm: {{exitAfter: 100ms}}
  actions: {actions}
"""


def scenario(latency: str = "5ms", actions: str = "[]", duration: str = "5m"):
    text = POD.format(latency=latency, actions=actions, duration=duration)
    return sim.Scenario.from_yaml(text)


def metrics(scn, seed: int = 1) -> dict:
    return sim.simulate(scn, seed=seed).metrics.iloc[0].to_dict()


def test_healthy_pod_metrics():
    m = metrics(scenario())
    assert 0 < m["time_to_first_ready_seconds"] < 10
    assert m["restarts"] == 0
    assert m["kills_liveness"] == 0
    # Ready from the first Ready to the end of the run.
    assert m["ready_fraction"] == pytest.approx(
        1 - m["time_to_first_ready_seconds"] / 300, abs=1e-6
    )
    for name in ("fault_to_kill_seconds", "fault_to_first_failure_seconds"):
        assert math.isnan(m[name])


def test_a_slow_but_healthy_application_is_restarted_unnecessarily():
    # Every answer takes 1.5 s against a 1 s timeout: liveness kills a container
    # whose application is fine.
    m = metrics(scenario(latency="1500ms", duration="2m"))
    assert m["kills_liveness"] >= 1
    assert m["unnecessary_restarts"] == m["kills_liveness"]


def test_a_hang_is_a_necessary_restart_with_detection_times():
    actions = "[{at: 100s, fault: {pod: web, container: app, hang: {for: 10m}}}]"
    result = sim.simulate(scenario(actions=actions), seed=1)
    m = result.metrics.iloc[0].to_dict()
    assert m["unnecessary_restarts"] == 0
    assert m["kills_liveness"] >= 1
    # The first failure (of either probe) within a period plus the 1 s timeout;
    # the kill at the second consecutive liveness failure, one period later.
    assert 1 <= m["fault_to_first_failure_seconds"] <= 5 + 1 + 0.01
    ev = result.events
    liveness = ev[(ev["reason"] == "Unhealthy") & (ev["probe"] == "liveness")]
    first = float(liveness["time"].min()) - 100
    assert m["fault_to_kill_seconds"] == pytest.approx(first + 5, abs=0.01)
    assert m["fault_to_restart_seconds"] > m["fault_to_kill_seconds"]
    assert m["fault_to_not_ready_seconds"] > m["fault_to_first_failure_seconds"]


def test_metrics_frame_and_aggregate_over_runs():
    scn = scenario(actions="[{at: 60s, fault: {pod: web, container: app, hang: {}}}]")
    frame = metrics_frame(sim.simulate(scn, seed=s, run=s) for s in range(12))
    assert list(frame["run"]) == list(range(12))
    agg = aggregate(frame, ["fault_to_kill_seconds", "unnecessary_restarts"])
    row = agg[agg["metric"] == "fault_to_kill_seconds"].iloc[0]
    assert row["n"] == 12 and row["missing"] == 0
    assert row["ci_low"] < row["mean"] < row["ci_high"]
    assert row["q05"] <= row["q50"] <= row["q95"]
    assert row["mean"] == pytest.approx(frame["fault_to_kill_seconds"].mean())


def test_aggregate_groups_and_counts_missing():
    frame = pd.DataFrame({"p": [1, 1, 2, 2, 2], "m": [1.0, 3.0, math.nan, 4.0, 6.0]})
    agg = aggregate(frame, ["m"], by=["p"]).set_index("p")
    assert agg.loc[1, "mean"] == 2.0 and agg.loc[1, "missing"] == 0
    assert agg.loc[2, "mean"] == 5.0 and agg.loc[2, "missing"] == 1


@pytest.mark.parametrize(
    ("values", "half"),
    [
        ([1.0, 3.0], 12.706 * math.sqrt(2) / math.sqrt(2)),
        ([2.0, 2.0, 2.0], 0.0),
    ],
)
def test_mean_interval_uses_student_t(values, half):
    mean, low, high = mean_interval(values)
    assert mean == pytest.approx(np.mean(values))
    assert high - mean == pytest.approx(half, rel=1e-3)
    assert mean - low == pytest.approx(half, rel=1e-3)


def test_mean_interval_of_one_or_no_value():
    assert math.isnan(mean_interval([])[0])
    mean, low, high = mean_interval([4.0, math.nan])
    assert mean == 4.0 and math.isnan(low) and math.isnan(high)


def test_proportion_interval_is_wilson():
    p, low, high = proportion_interval(0, 20)
    assert p == 0 and low == 0 and 0.15 < high < 0.17
    p, low, high = proportion_interval(10, 20)
    assert low == pytest.approx(1 - high)


def test_timeline_lanes_are_contiguous_and_ready_only_while_alive():
    result = sim.simulate(sim.load_scenario("scenarios/liveness-exec.yaml"), seed=3)
    tl = result.timeline
    for (_pod, container), lane in tl.groupby(["pod", "container"]):
        lane = lane.sort_values("start")
        assert (lane["end"] > lane["start"]).all()
        assert (
            lane["start"].iloc[1:].to_numpy() >= lane["end"].iloc[:-1].to_numpy()
        ).all()
        if container:
            ready = lane[lane["ready"]]
            assert set(ready["state"]) <= {"Running", "Terminating"}
    restarts = tl[(tl["container"] == "liveness") & (tl["state"] == "Running")]
    assert restarts["restart_count"].max() == result.summary["total_restarts"]


def test_timeline_figure_draws_its_data():
    result = sim.simulate(sim.load_scenario("scenarios/liveness-exec.yaml"), seed=3)
    fig = plot_timeline(result.events, result.timeline, title="t")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["liveness-exec\nliveness", "liveness-exec\nPod Ready"]
    bars = [c for c in ax.collections if isinstance(c, mcoll.PolyCollection)]
    # One bar per container interval, one per pod interval, one band per ready
    # container interval.
    tl = result.timeline
    expected = len(tl) + int((tl["ready"] & (tl["container"] != "")).sum())
    assert len(bars) == expected
    probe_ticks = sum(
        len(line.get_xdata()) for line in ax.lines if line.get_marker() == "|"
    )
    assert probe_ticks == int((result.events["reason"] == "Probe").sum())
    kills = sum(len(line.get_xdata()) for line in ax.lines if line.get_marker() == "x")
    assert kills == int((result.events["reason"] == "Killing").sum())
    assert ax.get_xlabel() == "time since scenario start (min)"


def test_distribution_and_parameter_figures_draw_their_data():
    values = pd.Series([1.0, 2.0, 2.5, math.nan])
    fig = plot_distribution(values, label="detection")
    hist, ecdf = fig.axes
    assert sum(p.get_height() for p in hist.patches) == 3
    assert "1 without" in hist.get_title(loc="left")
    assert list(ecdf.lines[0].get_ydata())[-1] == pytest.approx(1.0)

    agg = pd.DataFrame(
        {
            "p": [1, 2, 1, 2],
            "s": ["a", "a", "b", "b"],
            "metric": ["m"] * 4,
            "mean": [1.0, 2.0, 3.0, 4.0],
            "ci_low": [0.5, 1.5, 2.5, 3.5],
            "ci_high": [1.5, 2.5, 3.5, 4.5],
        }
    )
    fig = plot_metric_vs_parameter(agg, parameter="p", metric="m", series="s")
    ax = fig.axes[0]
    assert [list(line.get_ydata()) for line in ax.lines] == [[1.0, 2.0], [3.0, 4.0]]
    assert len(ax.collections) == 2  # one confidence band per line


STARTUP = """\
apiVersion: v1
kind: Pod
metadata: {name: slow-boot}
spec:
  containers:
  - name: app
    image: example/app:1
    startupProbe:
      exec: {command: [cat, /tmp/started]}
      periodSeconds: 2
      failureThreshold: 30
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: slow-boot}
spec:
  duration: 1m
  behaviours:
  - container: app
    files: {/tmp/started: {from: 12s}}
"""


def test_timeline_started_follows_the_startup_probe():
    result = sim.simulate(sim.Scenario.from_yaml(STARTUP), seed=2)
    lane = result.timeline[result.timeline["container"] == "app"]
    running = lane[lane["state"] == "Running"]
    begun = float(running["start"].min())
    started = running[running["started"]]
    first_started = float(started["start"].min())
    # Not started before the file appears (12 s of uptime), started after it.
    assert first_started >= begun + 12
    assert first_started == pytest.approx(
        float(result.events.query("reason == 'StartupSucceeded'")["time"].min())
    )
    assert not lane[lane["start"] < first_started]["started"].any()
    # Ready only once started.
    assert (lane[lane["ready"]]["started"]).all()
