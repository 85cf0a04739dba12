"""Batched requests keep each request's outcome right in distribution (R9.4).

Requests are settled in batches (``sim/kube/traffic.py``), so these tests check the
counts against rates worked out by hand, not against the simulator: routing is
uniform among the routable endpoints, a hung pod times every request it gets out,
a flaky answer fails with its probability, a latency above the client's timeout is
a timeout, and the per-second counts add up to the arrivals.
"""

from __future__ import annotations

import math

import pytest

import sim
from sim.trace import RequestOutcome

SEEDS = (1, 2, 3)


def _scenario(
    behaviour: str,
    actions: str = "",
    rate: float = 200.0,
    timeout: str = "1s",
    duration: str = "90s",
    arrivals: str = "Poisson",
) -> sim.Scenario:
    # Three pods without probes: a hung pod stays ready and routable.
    text = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: 3
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1
        ports: [{{name: http, containerPort: 8080}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{name: http, port: 80, targetPort: http}}]
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: batched}}
spec:
  duration: {duration}
  behaviours:
  - container: web
    http:
    - port: http
      responses: [{behaviour}]
  traffic:
  - service: web
    phases: [{{from: 0s, rate: 0}}, {{from: 30s, rate: {rate:g}}}]
    arrivals: {arrivals}
    timeout: {timeout}
"""
    if actions:
        text += f"  actions:\n{actions}"
    return sim.Scenario.from_yaml(text, "<batched>")


def _counts(result, since: float = 0.0) -> dict[str, int]:
    found: dict[str, int] = {}
    for count in result.recorder.requests:
        if count.second >= since:
            key = count.outcome.value
            found[key] = found.get(key, 0) + count.count
    return found


def _within(observed: int, total: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(observed - total * p) <= sigmas * math.sqrt(total * p * (1 - p)) + 1


@pytest.mark.parametrize("seed", SEEDS)
def test_one_of_three_hung_times_out_a_third(seed):
    scenario = _scenario(
        "{status: 200, latency: 10ms}",
        actions="  - {at: 40s, fault: {pod: web, container: web, hang: {for: 10m}}}\n",
    )
    result = sim.simulate(scenario, seed=seed, record="metrics")
    counts = _counts(result, since=41)
    total = sum(counts.values())
    assert total > 8000
    assert set(counts) <= {RequestOutcome.SUCCESS.value, RequestOutcome.TIMEOUT.value}
    assert _within(counts[RequestOutcome.TIMEOUT.value], total, 1 / 3)
    # Before the hang, nothing fails.
    assert set(_counts(result)) - set(counts) == set()
    before = sum(
        c.count
        for c in result.recorder.requests
        if c.second < 40 and c.outcome is not RequestOutcome.SUCCESS
    )
    assert before == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_hang_that_ends_mid_batch_stops_timeouts(seed):
    # The hang ends by the application's own clock, inside a batch.
    scenario = _scenario(
        "{status: 200, latency: 10ms}",
        actions=(
            "  - {at: 40.5s, fault: {pod: web, container: web, hang: {for: 20s}}}\n"
        ),
    )
    result = sim.simulate(scenario, seed=seed, record="metrics")
    timeouts = [
        c.second for c in result.recorder.requests if c.outcome.value == "timeout"
    ]
    assert timeouts and min(timeouts) >= 40 and max(timeouts) <= 60
    during = _counts(result, since=41)
    hung = sum(
        c.count
        for c in result.recorder.requests
        if 41 <= c.second < 60 and c.outcome.value == "timeout"
    )
    total = sum(c.count for c in result.recorder.requests if 41 <= c.second < 60)
    assert _within(hung, total, 1 / 3)
    assert during[RequestOutcome.SUCCESS.value] > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_flaky_answers_fail_at_their_rate(seed):
    result = sim.simulate(
        _scenario("{status: 200, latency: 10ms, flaky: {probability: 0.2}}"),
        seed=seed,
        record="metrics",
    )
    counts = _counts(result)
    total = sum(counts.values())
    assert set(counts) == {"success", "error"}
    assert _within(counts["error"], total, 0.2)


@pytest.mark.parametrize("seed", SEEDS)
def test_latency_above_timeout_times_out(seed):
    # Latency uniform in [0, 2) s against a 0.5 s timeout: a quarter succeed.
    result = sim.simulate(
        _scenario("{status: 200, latency: {min: 0s, max: 2s}}", timeout="0.5s"),
        seed=seed,
        record="metrics",
    )
    counts = _counts(result)
    total = sum(counts.values())
    assert set(counts) == {"success", "timeout"}
    assert _within(counts["success"], total, 0.25)


@pytest.mark.parametrize("seed", SEEDS)
def test_routing_is_uniform_and_counts_add_up(seed):
    result = sim.simulate(
        _scenario("{status: 200, latency: 10ms}", arrivals="Constant", rate=150),
        seed=seed,
        record="metrics",
    )
    per_second: dict[int, int] = {}
    per_pod: dict[str, int] = {}
    for count in result.recorder.requests:
        per_second[count.second] = per_second.get(count.second, 0) + count.count
        per_pod[count.pod] = per_pod.get(count.pod, 0) + count.count
    # Evenly spaced arrivals: the rate in every whole second (the first arrival
    # comes one gap after the phase starts, the one at the end is not sent).
    assert set(per_second) == set(range(30, 90))
    assert {per_second[s] for s in range(31, 89)} == {150}
    assert sum(per_second.values()) == 60 * 150 - 1
    total = sum(per_pod.values())
    assert len(per_pod) == 3
    for served in per_pod.values():
        assert _within(served, total, 1 / 3)


def test_crash_resets_requests_in_flight():
    # Answers take 0.5 s: a crash resets the requests of the last half second.
    scenario = _scenario(
        "{status: 200, latency: 500ms}",
        actions="  - {at: 50s, fault: {pod: web, container: web, crash: {}}}\n",
        timeout="2s",
        duration="60s",
    )
    result = sim.simulate(scenario, seed=1, record="metrics")
    counts = _counts(result)
    # 200/s over three pods, half a second in flight on the crashed one.
    assert _within(counts.get("reset", 0), 100, 1 / 3, sigmas=6)
    assert counts.get("refused", 0) > 0
