"""The steady-state fast path against the tick-by-tick model.

At the record levels ``changes`` and ``metrics`` a probe worker may jump over
attempts that cannot change anything (see ``docs/performance.md``). These tests run
randomised corpora of scenarios both ways (``fast_path=True`` and ``False``) and
compare what they produce:

- deterministic behaviour: the event logs (every state transition the level keeps),
  metrics, request outcomes and summaries are identical;
- random behaviour (flaky answers, log-normal and exponential latencies): a skipped
  attempt consumes the same draws it would have made, so per seed the two paths
  are identical too; and, over disjoint seed sets, the distributions of detection
  and restart metrics agree by a two-sample Kolmogorov-Smirnov test.

``AttemptStream.consume`` and ``peek``, on which the skipping rests, are checked
against drawing one by one.
"""

from __future__ import annotations

import logging
import math
import textwrap

import numpy as np
import pandas as pd
import pytest
import simpy
from simpy.events import URGENT

import sim
from sim.kube.clock import At
from sim.kube.streams import AttemptStream, attempt_stream

IMAGE = "registry.example.com/app:1"
WEB_POD = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  containers:
  - name: app
    image: {IMAGE}
"""


# --- the attempt stream --------------------------------------------------------

PATTERNS = [("u",), ("u", "u"), ("n",), ("e",), ("u", "n"), ("n", "u", "e")]


def _stream(seed: int = 7) -> AttemptStream:
    return attempt_stream(np.random.default_rng(seed), "app/liveness")


def _draw_one_by_one(stream: AttemptStream, pattern: tuple[str, ...], n: int):
    one = {
        "u": stream.random,
        "n": stream.standard_normal,
        "e": lambda: stream.exponential(1.0),
    }
    return np.array([[one[kind]() for kind in pattern] for _ in range(n)])


@pytest.mark.parametrize("pattern", PATTERNS, ids="".join)
def test_consume_moves_the_stream_as_drawing_would(pattern):
    drawn, skipped = _stream(), _stream()
    _draw_one_by_one(drawn, pattern, 37)
    skipped.consume(pattern, 37)
    assert drawn.random() == skipped.random()
    assert drawn.standard_normal() == skipped.standard_normal()


@pytest.mark.parametrize("pattern", PATTERNS, ids="".join)
def test_peek_shows_the_next_draws_without_moving_the_stream(pattern):
    stream, reference = _stream(), _stream()
    peeked = stream.peek(pattern, 50)
    again = stream.peek(pattern, 50)
    expected = _draw_one_by_one(reference, pattern, 50)
    np.testing.assert_array_equal(peeked, again)
    np.testing.assert_array_equal(peeked, expected)
    assert stream.kinds == []  # peeking records no draw


def test_each_worker_has_its_own_stream():
    pod = np.random.default_rng(3)
    first = attempt_stream(pod, "app/liveness").random()
    assert attempt_stream(pod, "app/liveness").random() == first
    assert attempt_stream(pod, "app/readiness").random() != first


# --- randomised scenario corpora -----------------------------------------------


def _duration(seconds: float) -> str:
    return f"{round(seconds * 1000)}ms"


def _probe(rng: np.random.Generator, kind: str, allow_latency: bool) -> str:
    if kind == "exec":
        handler = "exec: {command: [check]}"
    elif kind == "http":
        handler = "httpGet: {path: /healthz, port: 8080}"
    else:
        handler = "tcpSocket: {port: 8080}"
    period = int(rng.choice([1, 2, 3, 5, 10]))
    fields = [
        handler,
        f"periodSeconds: {period}",
        f"failureThreshold: {int(rng.integers(1, 5))}",
        f"timeoutSeconds: {int(rng.integers(1, 3)) if allow_latency else 1}",
        f"initialDelaySeconds: {int(rng.integers(0, 15))}",
    ]
    return "{" + ", ".join(fields) + "}"


def _phases(rng: np.random.Generator, good: str, bad: str, extra: str) -> str:
    """Alternating good and bad phases with strictly growing ``until``."""
    count = int(rng.integers(1, 5))
    until = 0.0
    phases = []
    for index in range(count):
        until += float(rng.uniform(5, 120))
        answer = good if index % 2 == 0 else bad
        phases.append(f"{{until: {_duration(until)}, {answer}{extra}}}")
    last = good if rng.random() < 0.7 else bad
    phases.append(f"{{{last}{extra}}}")
    return "[" + ", ".join(phases) + "]"


def _latency(rng: np.random.Generator, random: bool) -> str:
    if not random:
        return f"{round(float(rng.uniform(0.001, 0.4)) * 1000)}ms"
    if rng.random() < 0.5:
        median = float(rng.uniform(0.005, 0.2))
        p99 = median * float(rng.uniform(1.5, 20))
        return f"{{median: {_duration(median)}, p99: {_duration(p99)}}}"
    return f"{{mean: {_duration(float(rng.uniform(0.01, 0.6)))}}}"


def _flaky(rng: np.random.Generator, random: bool, what: str) -> str:
    if not random or rng.random() < 0.3:
        return ""
    return f", flaky: {{probability: {float(rng.uniform(0.01, 0.4)):.3f}}}"


def _behaviour(rng: np.random.Generator, pod: str, random: bool) -> list[str]:
    lines = ["  - container: app", f"    pod: {pod}"]
    lines.append("    exec:")
    exec_extra = f", duration: {_latency(rng, random)}" if not random else ""
    exec_extra += _flaky(rng, random, "exec")
    lines.append(
        "    - responses: " + _phases(rng, "exitCode: 0", "exitCode: 1", exec_extra)
    )
    lines.append("    http:")
    lines.append("    - port: 8080")
    lines.append(f"      latency: {_latency(rng, random)}")
    http_extra = _flaky(rng, random, "http")
    lines.append(
        "      responses: " + _phases(rng, "status: 200", "status: 500", http_extra)
    )
    if rng.random() < 0.5:
        start = float(rng.uniform(0, 60))
        end = start + float(rng.uniform(10, 200))
        lines.append("    tcp:")
        lines.append("    - port: 8080")
        lines.append(
            f"      listening: [{{from: {_duration(start)}, until: {_duration(end)}}}]"
        )
    if rng.random() < 0.3:
        lines.append(f"    exit: {{after: {_duration(float(rng.uniform(30, 400)))}}}")
    lines.append("    sigterm: {exitAfter: 500ms}")
    return lines


def _actions(rng: np.random.Generator, pods: list[str], duration: float) -> list[str]:
    lines: list[str] = []
    for _ in range(int(rng.integers(0, 4))):
        at = _duration(float(rng.uniform(5, duration)))
        pod = str(rng.choice(pods))
        verb = int(rng.integers(0, 5))
        if verb == 0:
            hang = _duration(float(rng.uniform(5, 120)))
            fault = f"{{pod: {pod}, container: app, hang: {{for: {hang}}}}}"
        elif verb == 1:
            fault = f"{{pod: {pod}, container: app, crash: {{exitCode: 3}}}}"
        elif verb == 2:
            slow = _duration(float(rng.uniform(0.2, 2.5)))
            lasting = _duration(float(rng.uniform(5, 90)))
            fault = (
                f"{{pod: {pod}, container: app, slow: {{latency: {slow}, "
                f"for: {lasting}}}}}"
            )
        elif verb == 3:
            fault = f"{{pod: {pod}, container: app, recover: {{}}}}"
        else:
            lines.append(f"  - {{at: {at}, delete: {{pod: {pod}}}}}")
            continue
        lines.append(f"  - {{at: {at}, fault: {fault}}}")
    return lines


def random_scenario(index: int, random: bool) -> sim.Scenario:
    """A scenario of 1-3 pods with random probes, behaviours, faults and deletes."""
    rng = np.random.default_rng([index, int(random)])
    pods = [f"p{n}" for n in range(int(rng.integers(1, 4)))]
    duration = float(rng.uniform(120, 900))
    documents = []
    for pod in pods:
        probes = []
        for probe_type in ("startupProbe", "livenessProbe", "readinessProbe"):
            if rng.random() < 0.6:
                kind = str(rng.choice(["exec", "http", "tcp"]))
                probes.append(f"      {probe_type}: {_probe(rng, kind, random)}")
        if not probes:
            probes.append(f"      livenessProbe: {_probe(rng, 'exec', random)}")
        documents.append(
            "\n".join(
                [
                    "apiVersion: v1",
                    "kind: Pod",
                    f"metadata: {{name: {pod}, labels: {{app: web}}}}",
                    "spec:",
                    f"  terminationGracePeriodSeconds: {int(rng.integers(1, 30))}",
                    "  containers:",
                    "    - name: app",
                    f"      image: {IMAGE}",
                    "      ports: [{containerPort: 8080}]",
                    *probes,
                ]
            )
        )
    documents.append(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]"
    )
    scenario = [
        "apiVersion: probesim/v1alpha1",
        "kind: Scenario",
        f"metadata: {{name: corpus-{index}}}",
        "spec:",
        f"  duration: {_duration(duration)}",
        "  behaviours:",
    ]
    for pod in pods:
        scenario += _behaviour(rng, pod, random)
    if rng.random() < 0.5:
        scenario += ["  traffic:", "  - {service: web, rate: 5, timeout: 1s}"]
    actions = _actions(rng, pods, duration)
    if actions:
        scenario += ["  actions:", *actions]
    documents.append("\n".join(scenario))
    return sim.Scenario.from_yaml("\n---\n".join(documents) + "\n")


def _assert_same_run(fast: sim.SimulationResult, ticks: sim.SimulationResult) -> None:
    # Exact: the same instants to the last bit, not within a tolerance.
    pd.testing.assert_frame_equal(fast.events, ticks.events, check_exact=True)
    pd.testing.assert_frame_equal(fast.metrics, ticks.metrics, check_exact=True)
    pd.testing.assert_frame_equal(fast.requests, ticks.requests, check_exact=True)
    assert fast.summary == ticks.summary


# A startup probe first due after ticks the fast path skips (initial delay): the
# tick it wakes at, reached as now + delay, could miss the tick's own time by one
# rounding step (about 1e-15 s) on some seeds (5, 12, 28, 45, 46 here), so the
# logs differed in the last bit. Found by tests/test_fuzz_model.py.
EXACT_TICKS = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: {IMAGE}
    startupProbe:
      exec: {{command: [test, -f, /tmp/started]}}
      initialDelaySeconds: 1
      periodSeconds: 6
      failureThreshold: 1
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: exact-ticks}}
spec:
  duration: 60s
  cluster: {{kubernetesVersion: '1.35'}}
"""


def test_skipped_ticks_are_reached_at_their_exact_instants():
    scenario = sim.Scenario.from_yaml(EXACT_TICKS)
    for seed in range(50):
        fast = sim.simulate(scenario, seed=seed, record="changes", fast_path=True)
        ticks = sim.simulate(scenario, seed=seed, record="changes", fast_path=False)
        assert fast.events.to_csv() == ticks.events.to_csv(), seed


# Two replicas created together, with the Derived grid phase, tick at the same
# instants, and their attempts (constant latency) end together. Ticks due at one
# instant ran in the order they were scheduled, which the fast path changes (a
# worker sleeping over skipped ticks schedules its wake early): the two pods'
# events came out in the other order. Found by tests/test_fuzz_model.py.
def _web_deployment(replicas: int, probe: str) -> str:
    """A Deployment ``web`` of one container ``app`` on port 8080 with ``probe``."""
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: app
        image: {IMAGE}
        ports: [{{name: http, containerPort: 8080}}]
{textwrap.indent(textwrap.dedent(probe), " " * 8)}"""


TIED_TICKS = (
    _web_deployment(
        2,
        """\
    startupProbe:
      httpGet: {path: /startup, port: 8080}
      initialDelaySeconds: 13
      periodSeconds: 11
      failureThreshold: 1
    """,
    )
    + """\
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: tied-ticks}
spec:
  duration: 300s
  cluster: {probeGridPhase: Derived}
  behaviours:
  - container: app
    pod: web
    http:
    - {port: http, path: /startup, latency: 400ms, responses: [{status: 500}]}
"""
)


def test_ticks_due_together_keep_their_order_with_the_fast_path():
    scenario = sim.Scenario.from_yaml(TIED_TICKS)
    for seed in range(6):
        fast = sim.simulate(scenario, seed=seed, record="changes", fast_path=True)
        ticks = sim.simulate(scenario, seed=seed, record="changes", fast_path=False)
        kills = ticks.events[ticks.events["reason"] == "Killing"]
        assert kills["time"].duplicated().any()  # the two pods do tie
        assert fast.events.to_csv() == ticks.events.to_csv(), seed


# kube-proxy with minSyncPeriod equal to syncPeriod: a resync tick can fall a
# rounding step inside minSyncPeriod of the previous sync, which then begins a
# little after its tick, and the next one after that. The fast path took every
# skipped resync to begin on its tick, so routing changes came a rounding step
# apart (0.827 against 0.8270000000000006). Found by tests/test_fuzz_model.py.
DRAGGED_SYNCS = (
    _web_deployment(
        3,
        """\
    readinessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 3
      failureThreshold: 1
    """,
    )
    + """\
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: dragged-syncs}
spec:
  duration: 120s
  behaviours:
  - container: app
    pod: web
    http:
    - port: http
      responses: [{status: 200, flaky: {probability: 0.3}}]
  endpoints:
    controllerDelay: 0ms
    proxyMinSyncPeriod: %s
    proxySyncPeriod: %s
    proxyApplyLatency: %s
"""
)


@pytest.mark.parametrize(
    ("min_sync", "sync", "apply"),
    [
        ("0.011s", "0.011s", "2ms"),  # the fuzzed case
        ("0.1s", "0.1s", "150ms"),  # programming outlasts the period
        ("5ms", "11ms", "30ms"),
        ("0s", "0.5s", "1ms"),
    ],
)
def test_skipped_proxy_resyncs_begin_when_the_ticks_would_have(min_sync, sync, apply):
    scenario = sim.Scenario.from_yaml(DRAGGED_SYNCS % (min_sync, sync, apply))
    for seed in range(8):
        fast = sim.simulate(scenario, seed=seed, record="changes", fast_path=True)
        ticks = sim.simulate(scenario, seed=seed, record="changes", fast_path=False)
        assert (ticks.events["reason"] == "ProxyRouting").sum() > 2
        _assert_same_run(fast, ticks)


def test_kube_proxy_sleeps_while_its_rules_match_the_slices(monkeypatch):
    """Resyncs between slice changes are skipped, not only those before the first."""
    from sim.kube.proxy import KubeProxy

    syncs = {"count": 0}
    original = KubeProxy._sync

    def counted(self):
        syncs["count"] += 1
        return original(self)

    monkeypatch.setattr(KubeProxy, "_sync", counted)
    text = DRAGGED_SYNCS % ("1s", "30s", "50ms")
    text = text.replace("120s", "1h").replace("probability: 0.3", "probability: 0.001")
    scenario = sim.Scenario.from_yaml(text)
    fast = sim.simulate(scenario, seed=3, record="metrics", fast_path=True)
    fast_syncs, syncs["count"] = syncs["count"], 0
    ticks = sim.simulate(scenario, seed=3, record="metrics", fast_path=False)
    assert syncs["count"] >= 120, syncs  # a resync every 30 s for an hour
    assert fast_syncs < syncs["count"] / 2, (fast_syncs, syncs["count"])
    _assert_same_run(fast, ticks)


def test_a_wait_ends_at_its_own_instant_where_no_delay_reaches_it():
    # 2.669247386311507 + d is never 7.4353296877090065 (the sum rounds to even).
    env = simpy.Environment(initial_time=2.669247386311507)
    at = 1.4353296877090063 + 6.0
    delay = at - env.now
    nearest = (np.nextafter(delay, 0), delay, np.nextafter(delay, 9))
    assert all(env.now + d != at for d in nearest)
    env.run(At(env, at, URGENT))
    assert env.now == at


DETERMINISTIC = range(24)


@pytest.mark.parametrize("index", DETERMINISTIC)
def test_deterministic_corpus_fast_path_gives_identical_transitions(index):
    scenario = random_scenario(index, random=False)
    fast = sim.simulate(scenario, seed=index, record="changes", fast_path=True)
    ticks = sim.simulate(scenario, seed=index, record="changes", fast_path=False)
    _assert_same_run(fast, ticks)


@pytest.mark.parametrize("index", range(8))
def test_random_corpus_fast_path_is_identical_per_seed(index):
    scenario = random_scenario(index, random=True)
    for seed in (1, 2):
        fast = sim.simulate(scenario, seed=seed, record="metrics", fast_path=True)
        ticks = sim.simulate(scenario, seed=seed, record="metrics", fast_path=False)
        _assert_same_run(fast, ticks)


STEADY = (
    WEB_POD
    + """\
    livenessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 5}
    readinessProbe: {exec: {command: [check]}, periodSeconds: 2}
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: steady}
spec:
  duration: 1h
  behaviours:
  - container: app
    exec:
    - responses: [{exitCode: 0%s}]
    http:
    - port: 8080
      latency: {median: 20ms, p99: 300ms}
      responses: [{status: 200%s}]
"""
)


def _attempts_run(caplog, scenario: sim.Scenario, fast_path: bool) -> int:
    """How many attempts a run makes, counted from its ``probe`` trace lines."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="sim.kube.prober"):
        sim.simulate(scenario, seed=0, record="changes", fast_path=fast_path)
    return sum(record.getMessage().startswith("probe ") for record in caplog.records)


@pytest.mark.parametrize(
    ("flaky", "at_most"),
    [("", 0.01), (", flaky: {probability: 0.02}", 0.1)],
    ids=["steady", "flaky"],
)
def test_the_fast_path_skips_attempts(caplog, flaky, at_most):
    """A healthy hour: a handful of attempts run, or only the flaky ones and theirs."""
    scenario = sim.Scenario.from_yaml(STEADY % (flaky, flaky))
    fast = _attempts_run(caplog, scenario, fast_path=True)
    ticks = _attempts_run(caplog, scenario, fast_path=False)
    assert ticks > 2500
    assert 0 < fast <= at_most * ticks


# --- distributions of random behaviour ------------------------------------------

FLAKY = (
    WEB_POD
    + """\
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 2
      failureThreshold: 2
      timeoutSeconds: 1
    readinessProbe:
      exec: {command: [check]}
      periodSeconds: 1
      failureThreshold: 1
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: flaky}
spec:
  duration: 10m
  behaviours:
  - container: app
    exec:
    - responses: [{exitCode: 0, flaky: {probability: 0.08}}]
    http:
    - port: 8080
      latency: {median: 80ms, p99: 1500ms}
      responses: [{status: 200, flaky: {probability: 0.15}}]
"""
)


def _ks_p_value(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov test: asymptotic p-value of the statistic."""
    points = np.union1d(a, b)
    cdf_a = np.searchsorted(np.sort(a), points, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), points, side="right") / len(b)
    statistic = float(np.max(np.abs(cdf_a - cdf_b)))
    effective = math.sqrt(len(a) * len(b) / (len(a) + len(b)))
    lam = (effective + 0.12 + 0.11 / effective) * statistic
    if lam == 0:
        return 1.0
    total = sum(
        2 * (-1) ** (k - 1) * math.exp(-2 * k * k * lam * lam) for k in range(1, 101)
    )
    return min(1.0, max(0.0, total))


def test_ks_helper_tells_different_distributions_apart():
    rng = np.random.default_rng(0)
    same = _ks_p_value(rng.normal(size=200), rng.normal(size=200))
    shifted = _ks_p_value(rng.normal(size=200), rng.normal(0.5, size=200))
    assert same > 0.01
    assert shifted < 0.001


def _flaky_metrics(seeds: range, fast_path: bool) -> pd.DataFrame:
    scenario = sim.Scenario.from_yaml(FLAKY)
    rows = []
    for seed in seeds:
        result = sim.simulate(
            scenario, seed=seed, record="metrics", fast_path=fast_path
        )
        events = result.events
        unready = events[(events["reason"] == "Unhealthy")]
        kills = events[events["reason"] == "Killing"]
        rows.append(
            {
                "restarts": len(kills),
                "first_kill": kills["time"].min() if len(kills) else math.inf,
                "unhealthy": len(unready),
            }
        )
    return pd.DataFrame(rows)


def test_random_behaviour_metric_distributions_agree():
    """Fast path on seeds 0-49 against tick-by-tick on seeds 50-99."""
    fast = _flaky_metrics(range(50), fast_path=True)
    ticks = _flaky_metrics(range(50, 100), fast_path=False)
    assert fast["restarts"].mean() > 1  # the scenario restarts: the test has power
    for column in fast.columns:
        finite_fast = fast[column][np.isfinite(fast[column])].to_numpy(float)
        finite_ticks = ticks[column][np.isfinite(ticks[column])].to_numpy(float)
        p_value = _ks_p_value(finite_fast, finite_ticks)
        assert p_value > 0.001, (column, p_value)


HANG_MID_ATTEMPT = (
    WEB_POD
    + """\
    livenessProbe:
      httpGet: {path: /healthz, port: 8080}
      periodSeconds: 2
      timeoutSeconds: 1
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: hang-mid-attempt}
spec:
  duration: 6m
  behaviours:
  - container: app
    http:
    - port: 8080
      latency: {median: 50ms, p99: 800ms}
      responses: [{status: 200}]
  actions:
  - {at: 3m, fault: {pod: web, container: app, hang: {for: 30s}}}
  - {at: %s, fault: {pod: web, container: app, recover: {}}}
"""
)


@pytest.mark.parametrize("recover", ["200s", "200100ms"])
def test_a_fault_during_a_skipped_attempt_does_not_reach_back(recover):
    """An attempt begun before a hang (or a recovery) is answered as of its start.

    The fault wakes the worker while a skipped attempt would still be in flight;
    replayed from its start time, it must not see the fault that came after it.
    """
    scenario = sim.Scenario.from_yaml(HANG_MID_ATTEMPT % recover)
    for seed in range(12):
        fast = sim.simulate(scenario, seed=seed, record="changes", fast_path=True)
        ticks = sim.simulate(scenario, seed=seed, record="changes", fast_path=False)
        _assert_same_run(fast, ticks)
