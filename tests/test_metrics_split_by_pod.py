"""Per-pod metrics from a hand-made event log whose answers are known.

``run_metrics`` and ``summarize`` split the log and the timeline by pod once into
arrays; the log here interleaves the rows of two pods, so each figure also checks
that no row lands with the wrong pod. A run's ``metrics`` must equal
``pod_metrics`` called pod by pod on the whole frames.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import sim
from sim.analysis.metrics import pod_metrics, summarize
from sim.analysis.timeline import timeline_frame
from sim.trace import SLOW_BUT_HEALTHY, EventRecord, Reason, events_frame

SCENARIO = """\
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1
    livenessProbe:
      httpGet: {port: 8080, path: /healthz}
      periodSeconds: 10
      failureThreshold: 2
  - name: side
    image: registry.example.com/side:1
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1
---
apiVersion: v1
kind: Pod
metadata: {name: c}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: hand-made}
spec:
  duration: 10m
  behaviours:
  - pod: a
    container: app
    http: [{port: 8080, responses: [{status: 200}]}]
  actions:
  - {at: 100s, fault: {pod: a, container: app, hang: {for: 1m}}}
  - {at: 300s, delete: {pod: b}}
"""

SLOW = f"Liveness probe failed: timeout ({SLOW_BUT_HEALTHY})"
ERROR = "Liveness probe failed: HTTP probe failed with statuscode: 500"
LIVENESS_KILL = "Container app failed liveness probe, will be restarted"


def _event(time, pod, reason, container="", probe="", count=0, message=""):
    return EventRecord(time, pod, container, reason, probe, "", count, message)


# Pod a: two liveness kills (the first after slow answers only), three starts of
# app and two of side, a crash-loop back-off, Ready 5-120 s, 130-211 s and from
# 260 s. Pod b: a kill before its deletion and one at it, an image-pull back-off,
# Ready from 4 s until deleted at 305 s. Pod c has no event at all.
EVENTS = [
    _event(1.0, "a", Reason.SCHEDULED),
    _event(1.5, "b", Reason.SCHEDULED),
    _event(2.0, "a", Reason.STARTED, "app"),
    _event(2.0, "a", Reason.STARTED, "side"),
    _event(3.0, "b", Reason.STARTED, "app"),
    _event(4.0, "b", Reason.POD_READY),
    _event(5.0, "a", Reason.POD_READY),
    _event(50.0, "b", Reason.KILLING, "app", message="Stopping container app"),
    _event(51.0, "b", Reason.BACK_OFF, "app", message='Back-off pulling image "x"'),
    _event(52.0, "b", Reason.STARTED, "app", count=1),
    _event(110.0, "a", Reason.UNHEALTHY, "app", "liveness", message=SLOW),
    _event(120.0, "a", Reason.UNHEALTHY, "app", "liveness", message=SLOW),
    _event(120.0, "a", Reason.POD_NOT_READY),
    _event(121.0, "a", Reason.KILLING, "app", message=LIVENESS_KILL),
    _event(125.0, "a", Reason.STARTED, "app", count=1),
    _event(130.0, "a", Reason.POD_READY),
    _event(200.0, "a", Reason.UNHEALTHY, "app", "liveness", message=ERROR),
    _event(210.0, "a", Reason.UNHEALTHY, "app", "liveness", message=SLOW),
    _event(211.0, "a", Reason.POD_NOT_READY),
    _event(211.0, "a", Reason.KILLING, "app", message=LIVENESS_KILL),
    _event(
        215.0,
        "a",
        Reason.BACK_OFF,
        "app",
        message="Back-off restarting failed container app in pod a",
    ),
    _event(240.0, "a", Reason.STARTED, "app", count=2),
    _event(250.0, "a", Reason.STARTED, "side", count=1),
    _event(260.0, "a", Reason.POD_READY),
    _event(300.0, "b", Reason.KILLING, "app", message="Stopping container app"),
    _event(305.0, "b", Reason.DELETED),
]

NAN = math.nan
EXPECTED = {
    "a": {
        "kills_liveness": 2,
        "kills_startup": 0,
        "kills_spec_changed": 0,
        "kills_deletion": 0,
        "kills_pod_kill": 0,
        "time_to_first_ready_seconds": 5.0,
        "ready_fraction": (115.0 + 81.0 + 340.0) / 600.0,
        "restarts": 3.0,
        "unnecessary_restarts": 1.0,
        "crash_loop_back_offs": 1.0,
        "image_pull_back_offs": 0.0,
        "unhealthy_events": 4.0,
        "fault_to_first_failure_seconds": 10.0,
        "fault_to_not_ready_seconds": 20.0,
        "fault_to_kill_seconds": 21.0,
        "fault_to_restart_seconds": 25.0,
    },
    "b": {
        "kills_liveness": 0,
        "kills_startup": 0,
        "kills_spec_changed": 0,
        "kills_deletion": 1,
        "kills_pod_kill": 1,
        "time_to_first_ready_seconds": 4.0,
        "ready_fraction": 301.0 / 600.0,
        "restarts": 1.0,
        "unnecessary_restarts": 0.0,
        "crash_loop_back_offs": 0.0,
        "image_pull_back_offs": 1.0,
        "unhealthy_events": 0.0,
        "fault_to_first_failure_seconds": NAN,
        "fault_to_not_ready_seconds": NAN,
        "fault_to_kill_seconds": NAN,
        "fault_to_restart_seconds": NAN,
    },
    "c": {
        "kills_liveness": 0,
        "kills_startup": 0,
        "kills_spec_changed": 0,
        "kills_deletion": 0,
        "kills_pod_kill": 0,
        "time_to_first_ready_seconds": NAN,
        "ready_fraction": 0.0,
        "restarts": 0.0,
        "unnecessary_restarts": 0.0,
        "crash_loop_back_offs": 0.0,
        "image_pull_back_offs": 0.0,
        "unhealthy_events": 0.0,
        "fault_to_first_failure_seconds": NAN,
        "fault_to_not_ready_seconds": NAN,
        "fault_to_kill_seconds": NAN,
        "fault_to_restart_seconds": NAN,
    },
}


@pytest.fixture(scope="module")
def hand_made() -> tuple[sim.Scenario, pd.DataFrame, pd.DataFrame]:
    scenario = sim.Scenario.from_yaml(SCENARIO)
    events = events_frame(EVENTS)
    return scenario, events, timeline_frame(events, scenario.duration_seconds)


def _same(got: dict, expected: dict) -> bool:
    return list(got) == list(expected) and all(
        (math.isnan(e) and math.isnan(g)) or (g == e and type(g) is type(e))
        for g, e in zip(got.values(), expected.values(), strict=True)
    )


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_pod_metrics_of_a_hand_made_log(hand_made, name):
    scenario, events, timeline = hand_made
    pod = next(p for p in scenario.pods if p.name == name)
    got = pod_metrics(events, timeline, scenario, pod)
    assert _same(got, EXPECTED[name]), got


def test_summary_of_a_hand_made_log(hand_made):
    scenario, events, timeline = hand_made
    pods = summarize(events, scenario, 0, timeline)["pods"]
    assert pods["a"]["restarts"] == {"app": 2, "side": 1}
    assert pods["b"]["restarts"] == {"app": 1}
    assert pods["c"]["restarts"] == {"app": 0}
    assert [pods[p]["ready_transitions"] for p in "abc"] == [3, 1, 0]
    assert [pods[p]["deleted_at_seconds"] for p in "abc"] == [None, 305.0, None]
    assert pods["a"]["kills_by_cause"]["liveness"] == 2
    assert pods["a"]["unnecessary_restarts"] == 1
    assert pods["a"]["after_first_fault"] == {
        "first_failure_seconds": 10.0,
        "not_ready_seconds": 20.0,
        "kill_seconds": 21.0,
        "restart_seconds": 25.0,
    }


def test_run_metrics_equal_pod_metrics_pod_by_pod():
    scenario = sim.load_scenario("scenarios/hung-replica.yaml")
    result = sim.simulate(scenario, seed=3)
    pods = list(result.objects.pods.values()) or list(scenario.pods)
    rows = [
        {
            "run": result.run,
            "seed": result.seed,
            "pod": pod.name,
            **pod_metrics(result.events, result.timeline, scenario, pod),
        }
        for pod in pods
    ]
    assert len(rows) > 1
    assert result.metrics.to_csv() == pd.DataFrame.from_records(rows).to_csv()
