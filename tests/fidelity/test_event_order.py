"""Order of the event log: time-sorted, causal at one instant, reproducible."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest

import sim

SCENARIOS = Path(__file__).parent / "scenarios"
SEEDS = range(20)

FLAPPING_READINESS = """\
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: x:1
    startupProbe: {httpGet: {port: 8080, path: /started}, periodSeconds: 2,
                   failureThreshold: 20}
    readinessProbe: {httpGet: {port: 8080, path: /ready}, periodSeconds: 3,
                     failureThreshold: 1}
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: flapping}
spec:
  duration: 90s
  behaviours:
  - container: app
    http:
    - {port: 8080, path: /started, responses: [{until: 6s, status: 500}, {}]}
    - port: 8080
      path: /ready
      responses:
      - {until: 20s, status: 200}
      - {until: 30s, status: 500}
      - {status: 200}
"""


@cache
def example(name: str, seed: int, duration: float = 200.0) -> pd.DataFrame:
    scenario = sim.load_scenario(SCENARIOS / f"{name}.yaml")
    return sim.simulate(scenario, seed=seed, duration_seconds=duration).events


@cache
def flapping(seed: int) -> pd.DataFrame:
    return sim.simulate(sim.Scenario.from_yaml(FLAPPING_READINESS), seed=seed).events


EXAMPLES = ("example-12-1-exec-liveness", "example-12-2-http-liveness")


def at(ev: pd.DataFrame, time: float) -> list[str]:
    """Reasons of the rows at one instant, in log order."""
    return ev.loc[ev["time"] == time, "reason"].to_list()


def times_of(ev: pd.DataFrame, reason: str, **match: object) -> list[float]:
    mask = ev["reason"] == reason
    for column, value in match.items():
        mask &= ev[column] == value
    return [float(t) for t in ev.loc[mask, "time"]]


def before(reasons: list[str], earlier: str, later: str) -> bool:
    return reasons.index(earlier) < reasons.index(later)


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("seed", SEEDS)
def test_deciding_liveness_attempt_then_killing(name: str, seed: int) -> None:
    ev = example(name, seed)
    kills = times_of(ev, "Killing")
    assert kills
    for kill in kills:
        assert at(ev, kill) == ["Probe", "Unhealthy", "Killing"]


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("seed", SEEDS)
def test_exit_then_restart(name: str, seed: int) -> None:
    ev = example(name, seed)
    for instance in range(1, 3):
        died = times_of(ev, "Exited", restart_count=instance - 1)[0]
        # Pulled still carries the old count: the new instance does not exist yet.
        pulled = times_of(ev, "Pulled", restart_count=instance - 1)[-1]
        created = times_of(ev, "Created", restart_count=instance)[0]
        started = times_of(ev, "Started", restart_count=instance)[0]
        # The restart is in the sync that killed: the image check at the death.
        assert died == pulled
        assert before(at(ev, died), "Exited", "Pulled")
        assert pulled < created == started
        assert at(ev, started)[:2] == ["Created", "Started"]
        kill = times_of(ev, "Killing", restart_count=instance - 1)[0]
        assert kill < died


@pytest.mark.parametrize("seed", SEEDS)
def test_readiness_transitions(seed: int) -> None:
    ev = flapping(seed)
    ready = times_of(ev, "PodReady")
    not_ready = times_of(ev, "PodNotReady")
    assert len(ready) == 2
    assert len(not_ready) == 1
    for t in ready:
        assert at(ev, t) == ["Probe", "ContainerReady", "PodReady"]
    assert at(ev, not_ready[0]) == [
        "Probe",
        "Unhealthy",
        "ContainerNotReady",
        "PodNotReady",
    ]


@pytest.mark.parametrize("seed", SEEDS)
def test_startup_success_then_readiness(seed: int) -> None:
    ev = flapping(seed)
    success = times_of(ev, "StartupSucceeded")
    assert len(success) == 1
    assert at(ev, success[0]) == ["Probe", "StartupSucceeded"]
    probes = ev[ev["reason"] == "Probe"]
    after = probes[probes["time"] > success[0]]
    assert after["probe"].iloc[0] == "readiness"


@pytest.mark.parametrize("seed", SEEDS)
def test_pod_lifecycle_begins_with_scheduling(seed: int) -> None:
    ev = example(EXAMPLES[0], seed)
    assert ev["reason"].iloc[:4].to_list() == [
        "Scheduled",
        "Pulled",
        "Created",
        "Started",
    ]
    assert ev["time"].iloc[0] == 0.0


@pytest.mark.parametrize("seed", SEEDS)
def test_sorted_by_time(seed: int) -> None:
    for ev in (example(EXAMPLES[0], seed), example(EXAMPLES[1], seed), flapping(seed)):
        assert ev["time"].is_monotonic_increasing
        assert ev.index.equals(pd.RangeIndex(len(ev)))


@pytest.mark.parametrize("name", EXAMPLES)
def test_same_seed_same_log(name: str) -> None:
    scenario = sim.load_scenario(SCENARIOS / f"{name}.yaml")
    one = sim.simulate(scenario, seed=7, duration_seconds=200).events
    two = sim.simulate(scenario, seed=7, duration_seconds=200).events
    pd.testing.assert_frame_equal(one, two)


@pytest.mark.parametrize("name", EXAMPLES)
def test_different_seed_different_times(name: str) -> None:
    scenario = sim.load_scenario(SCENARIOS / f"{name}.yaml")
    one = sim.simulate(scenario, seed=7, duration_seconds=200).events
    two = sim.simulate(scenario, seed=8, duration_seconds=200).events
    assert one["reason"].iloc[:4].equals(two["reason"].iloc[:4])
    assert (
        not one["time"]
        .iloc[1:]
        .reset_index(drop=True)
        .equals(two["time"].iloc[1:].reset_index(drop=True))
    )
    started = [times_of(ev, "Started")[0] for ev in (one, two)]
    assert started[0] != started[1]


def test_run_column_and_scenario_seed() -> None:
    scenario = sim.load_scenario(SCENARIOS / "example-12-1-exec-liveness.yaml")
    result = sim.simulate(scenario, duration_seconds=60, run=3)
    assert set(result.events["run"]) == {3}
    # No seed given: the scenario's own seed (1 in the file).
    again = sim.simulate(scenario, seed=1, duration_seconds=60, run=3).events
    pd.testing.assert_frame_equal(result.events, again)
