"""Invariants that hold for any probe settings, behaviour and seed (Hypothesis).

Generated: liveness settings (period 1-20, initialDelay 0-20, failureThreshold 1-5,
timeout 1-3), an optional readiness and startup probe, when the checked files exist,
whether and how the process exits by itself, how it answers SIGTERM, the restart
policy, the grace period, an optional deletion, the release and the seed. Each
property names the rule of docs/kubelet-semantics.md it follows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.document import Scenario
from sim.simulation import SimulationResult, simulate

DURATION_SECONDS = 240
EPS = 1e-6
PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Case:
    """One generated scenario and what the checks need to know about it."""

    scenario: Scenario
    seed: int
    delay: int
    period: int
    failure_threshold: int
    has_startup: bool
    delete_at: float | None


def _window(draw, low: int, high: int) -> dict:
    start = draw(st.integers(low, high))
    until = draw(st.one_of(st.none(), st.integers(start + 1, high + 60)))
    window = {"from": f"{start}s"}
    if until is not None:
        window["until"] = f"{until}s"
    return window


def _probe(draw, path: str, **fields) -> dict:
    return {
        "exec": {"command": ["cat", path]},
        "initialDelaySeconds": draw(st.integers(0, 20)),
        "periodSeconds": draw(st.integers(1, 20)),
        "failureThreshold": draw(st.integers(1, 5)),
        "timeoutSeconds": draw(st.integers(1, 3)),
        **fields,
    }


@st.composite
def cases(draw) -> Case:
    """A pod with one probed container, its behaviour, maybe a deletion, a seed."""
    liveness = _probe(draw, "/tmp/healthy")
    fields = {"livenessProbe": liveness}
    files = {"/tmp/healthy": _window(draw, 0, 60)}
    if draw(st.booleans()):
        fields["readinessProbe"] = _probe(draw, "/tmp/ready")
        files["/tmp/ready"] = _window(draw, 0, 40)
    has_startup = draw(st.booleans())
    if has_startup:
        fields["startupProbe"] = _probe(draw, "/tmp/started", initialDelaySeconds=0)
        files["/tmp/started"] = _window(draw, 0, 30)

    behaviour = {"container": "app", "files": files}
    if draw(st.booleans()):
        behaviour["sigterm"] = "ignore"
    else:
        exit_after = draw(st.integers(0, 5000))
        behaviour["sigterm"] = {"exitAfter": f"{exit_after}ms", "exitCode": 143}
    if draw(st.booleans()):
        after = draw(st.integers(0, 120_000))
        code = draw(st.sampled_from([0, 1]))
        behaviour["exit"] = {"after": f"{after}ms", "code": code}

    delete_at = draw(st.one_of(st.none(), st.integers(5, DURATION_SECONDS - 10)))
    actions = []
    if delete_at is not None:
        delete = {"pod": "p"}
        if draw(st.booleans()):
            delete["gracePeriodSeconds"] = draw(st.integers(0, 40))
        actions.append({"at": f"{delete_at}s", "delete": delete})

    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {
            "restartPolicy": draw(st.sampled_from(["Always", "OnFailure", "Never"])),
            "terminationGracePeriodSeconds": draw(st.integers(1, 30)),
            "containers": [{"name": "app", "image": "x:1", **fields}],
        },
    }
    document = {
        "apiVersion": "probesim/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "property"},
        "spec": {
            "duration": f"{DURATION_SECONDS}s",
            "cluster": {"kubernetesVersion": draw(st.sampled_from(["1.31", "1.35"]))},
            "behaviours": [behaviour],
            "actions": actions,
        },
    }
    text = "\n---\n".join(json.dumps(d) for d in (pod, document))
    return Case(
        scenario=Scenario.from_yaml(text),
        seed=draw(st.integers(0, 2**31 - 1)),
        delay=liveness["initialDelaySeconds"],
        period=liveness["periodSeconds"],
        failure_threshold=liveness["failureThreshold"],
        has_startup=has_startup,
        delete_at=None if delete_at is None else float(delete_at),
    )


def simulated(case: Case) -> SimulationResult:
    """Run a generated case."""
    return simulate(case.scenario, seed=case.seed)


def app_rows(events: pd.DataFrame, reason: str) -> pd.DataFrame:
    """Rows of one reason for container ``app``."""
    return events[(events["reason"] == reason) & (events["container"] == "app")]


def is_probe_kill(message: str) -> bool:
    """Whether a Killing message names a liveness or startup failure (R5.1)."""
    return "failed liveness probe" in message or "failed startup probe" in message


# R5.6: the restart count of a container never falls ----------------------------------


@PROPERTY_SETTINGS
@given(cases())
def test_restart_count_never_falls(case):
    events = simulated(case).events
    app = events[events["container"] == "app"]
    counts = list(app["restart_count"])
    assert counts == sorted(counts)
    started = list(app_rows(events, "Started")["restart_count"])
    assert started == list(range(len(started)))


# R7.1: Ready only while running and started ------------------------------------------


@PROPERTY_SETTINGS
@given(cases())
def test_ready_only_while_running_and_started(case):
    result = simulated(case)
    timeline = result.timeline
    lanes = timeline[(timeline["container"] == "app") & timeline["ready"]]
    # "Terminating" is a container still running while it is being stopped; R5.7
    # keeps it Ready through its kill window.
    assert set(lanes["state"]) <= {"Running", "Terminating"}, lanes
    if not case.has_startup:
        return
    succeeded = (
        app_rows(result.events, "StartupSucceeded")
        .groupby("restart_count")["time"]
        .min()
    )
    for _, lane in lanes.iterrows():
        instance = int(lane["restart_count"])
        assert instance in succeeded.index, lane
        assert lane["start"] >= succeeded[instance] - EPS, lane


# R3.4 (8), R3.6, R3.7: no liveness kill before D + (F - 1) * P ----------------------


def carried_failures(events: pd.DataFrame, threshold: int) -> dict[int, int]:
    """Consecutive counted liveness failures a worker holds as each instance starts.

    R3.6: the run is not reset on a container change, only by a Success or when a
    Failure is published (R3.7); errors are discarded.
    """
    run = 0
    carried: dict[int, int] = {}
    for row in events[events["container"] == "app"].itertuples(index=False):
        if row.reason == "Started":
            carried[int(row.restart_count)] = run
        elif row.reason == "Probe" and row.probe == "liveness":
            if row.result == "failure":
                run += 1
                if run >= threshold:
                    run = 0
            elif row.result in ("success", "warning"):
                run = 0
    return carried


@PROPERTY_SETTINGS
@given(cases())
def test_no_liveness_kill_before_the_first_possible_detection(case):
    events = simulated(case).events
    started = app_rows(events, "Started").groupby("restart_count")["time"].min()
    carried = carried_failures(events, case.failure_threshold)
    for kill in app_rows(events, "Killing").itertuples(index=False):
        if "failed liveness probe" not in kill.message:
            continue
        instance = int(kill.restart_count)
        # Without carried failures: D, then F - 1 more periods (R3.4 (8), R3.6).
        missing = max(0, case.failure_threshold - 1 - carried[instance])
        earliest = started[instance] + case.delay + missing * case.period
        assert kill.time >= earliest - EPS, (instance, kill.time, earliest)


# R3.12: liveness and startup stop when the pod starts terminating --------------------


@PROPERTY_SETTINGS
@given(cases())
def test_no_probe_kill_after_deletion(case):
    if case.delete_at is None:
        return
    events = simulated(case).events
    late = app_rows(events, "Killing")
    late = late[late["time"] > case.delete_at + EPS]
    assert not any(is_probe_kill(m) for m in late["message"]), late
    # Only the deletion's own kill: at most one Killing per instance after it.
    assert not late["restart_count"].duplicated().any(), late

    # The terminating sync begins with the first "Stopping container" kill (or the
    # removal, when nothing runs): from then on no liveness or startup attempt.
    since = events[events["time"] >= case.delete_at - EPS]
    stops = since[
        (since["reason"] == "Killing")
        & since["message"].str.startswith("Stopping container")
    ]
    begins = [*stops["time"], *since[since["reason"] == "Deleted"]["time"]]
    if not begins:
        return
    probes = app_rows(events, "Probe")
    after = probes[
        (probes["time"] > min(begins) + EPS)
        & probes["probe"].isin(["liveness", "startup"])
    ]
    assert after.empty, after


# Determinism -------------------------------------------------------------------


@settings(max_examples=15, deadline=None)
@given(cases())
def test_same_seed_gives_identical_events(case):
    first = simulated(case)
    second = simulated(case)
    pd.testing.assert_frame_equal(first.events, second.events)
    pd.testing.assert_frame_equal(first.timeline, second.timeline)
    assert first.summary == second.summary
