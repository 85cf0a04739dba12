"""The probe worker against R3.1-R3.12 of kubelet-semantics.md.

Most scenarios use ``probeGridPhase: Derived`` on a kubelet that has run for an hour,
with constant sandbox (200 ms) and container (500 ms) start latencies: the worker is
born at the pod's first sync at t = 0 and ticks at exactly k * P (R3.1-R3.3), the
first container starts at t = 0.7, and HTTP/TCP attempts take 1 ms, so the rows of a
tick at k * P carry the time k * P + 0.001.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest

import sim

NET = 0.001  # duration of an HTTP or TCP attempt (row time = tick + NET)
EPS = 1e-6
SLACK = 0.05  # longest ordinary attempt (exec) between a tick and its row
START0 = 0.7  # StartedAt of the first container (200 ms sandbox + 500 ms start)


def scenario(
    *probes: str,
    app: str = "",
    actions: str = "",
    ports: str = "",
    duration: float = 100,
    version: str = "1.35",
    grid: str = "Derived",
    uptime: str = "1h",
    gates: str = "{}",
    grace: int = 30,
) -> sim.Scenario:
    """A one-container pod ``p``/``app`` with the given probe lines and behaviour.

    ``probes`` are lines such as ``"livenessProbe: {tcpSocket: {port: 8080}}"``;
    ``app`` holds the behaviour's keys (``http: ...``), ``actions`` list items.
    """
    container = "\n".join(probes)
    if ports:
        container += f"\nports: {ports}"
    text = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: p}}
spec:
  terminationGracePeriodSeconds: {grace}
  containers:
  - name: app
    image: x:1
{textwrap.indent(container, "    ")}
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: s}}
spec:
  duration: {duration}s
  cluster:
    kubernetesVersion: "{version}"
    probeGridPhase: {grid}
    kubeletUptime: {uptime}
    featureGates: {gates}
    sandboxStartLatency: 200ms
    containerStartLatency: 500ms
  behaviours:
  - container: app
{textwrap.indent(app or "tcp: [{port: 8080}]", "    ")}
  actions: [{actions}]
"""
    return sim.Scenario.from_yaml(text)


def events(scn: sim.Scenario, seed: int = 1) -> pd.DataFrame:
    return sim.simulate(scn, seed=seed).events


def rows(ev: pd.DataFrame, reason: str, **match: object) -> pd.DataFrame:
    mask = ev["reason"] == reason
    for column, value in match.items():
        mask &= ev[column] == value
    return ev[mask]


def probes(ev: pd.DataFrame, probe: str, **match: object) -> pd.DataFrame:
    return rows(ev, "Probe", probe=probe, **match)


def times(frame: pd.DataFrame) -> list[float]:
    return [float(t) for t in frame["time"]]


def first(ev: pd.DataFrame, reason: str, **match: object) -> float:
    found = rows(ev, reason, **match)
    assert len(found), f"no {reason} row with {match}"
    return float(found["time"].iloc[0])


def started(ev: pd.DataFrame, instance: int) -> float:
    return first(ev, "Started", restart_count=instance)


def approx_list(values: list[float]) -> object:
    return pytest.approx(values, abs=EPS)


def phase_mod(t: float, period: float) -> float:
    """Phase of an attempt start (row time - NET) on a grid of ``period``."""
    return round((t - NET) % period, 6) % period


TCP_LIVENESS = "livenessProbe: {{tcpSocket: {{port: 8080}}, periodSeconds: {p}}}"


def http_app(*entries: tuple[str, str]) -> str:
    """Behaviour with HTTP entries on 8080 (and TCP 8080 listening)."""
    lines = [
        f"- {{port: 8080, path: {path}, responses: {resp}}}" for path, resp in entries
    ]
    return "http:\n" + "\n".join(lines) + "\ntcp: [{port: 8080}]"


# R3.1 / R3.3: one worker per pod for its whole life; the grid survives restarts.

LIVE_THEN_DIE = http_app(("/live", "[{until: 12s, status: 200}, {status: 500}]"))
FAST_EXIT = "\nsigterm: {exitAfter: 10ms, exitCode: 2}"
LIVENESS_HTTP = (
    "livenessProbe: {httpGet: {port: 8080, path: /live}, periodSeconds: 10, "
    "failureThreshold: 1}"
)


def test_r3_1_grid_continues_across_restarts_derived() -> None:
    ev = events(scenario(LIVENESS_HTTP, app=LIVE_THEN_DIE + FAST_EXIT, duration=120))
    attempts = probes(ev, "liveness")
    assert attempts["restart_count"].nunique() >= 3, "expected several instances"
    # Worker born at the first sync (t = 0): ticks at k * 10 for every instance,
    # although the containers start at 0.7, ~20.7, ~40.7 ...
    assert {phase_mod(t, 10) for t in times(attempts)} == {0.0}
    for instance in sorted(set(attempts["restart_count"]))[1:]:
        assert started(ev, instance) % 10 > 0.3  # the restarts are off the grid


@pytest.mark.parametrize("seed", range(10))
def test_r3_1_grid_continues_across_restarts_uniform(seed: int) -> None:
    scn = scenario(LIVENESS_HTTP, app=LIVE_THEN_DIE + FAST_EXIT, grid="Uniform")
    attempts = probes(events(scn, seed), "liveness")
    assert attempts["restart_count"].nunique() >= 3
    assert len({phase_mod(t, 10) for t in times(attempts)}) == 1


# R3.2: the start sleep U[0, P) only when the kubelet started less than P ago.


def _liveness_phases(uptime: str, seeds: range) -> list[float]:
    scn = scenario(TCP_LIVENESS.format(p=10), uptime=uptime, duration=60)
    phases = []
    for seed in seeds:
        found = {phase_mod(t, 10) for t in times(probes(events(scn, seed), "liveness"))}
        assert len(found) == 1, f"grid moved within one run: {found}"
        phases.append(found.pop())
    return phases


@pytest.mark.parametrize("uptime", ["1h", "30s", "10s"])
def test_r3_2_no_start_jitter_on_a_running_kubelet(uptime: str) -> None:
    assert set(_liveness_phases(uptime, range(20))) == {0.0}


@pytest.mark.parametrize("uptime", ["0s", "5s", "9s"])
def test_r3_2_start_jitter_right_after_kubelet_start(uptime: str) -> None:
    phases = _liveness_phases(uptime, range(40))
    # U[0, P): different per seed, spread over most of the period.
    assert max(phases) - min(phases) >= 8.0
    assert len(set(phases)) >= 35


@pytest.mark.parametrize("seed", range(20))
def test_r3_2_after_the_start_sleep_attempts_are_a_period_apart(seed: int) -> None:
    # The sleep may end after the container started: the attempt at once then
    # probes it, and the next comes a whole period later, even with the Uniform
    # grid phase (which would otherwise draw a first tick within the period).
    scn = scenario(TCP_LIVENESS.format(p=19), uptime="1s", duration=120, grid="Uniform")
    gaps = pd.Series(times(probes(events(scn, seed), "liveness"))).diff().dropna()
    assert len(gaps) >= 4
    assert gaps.to_list() == approx_list([19.0] * len(gaps))


# R3.3: one attempt per tick; a slow attempt is followed at once by the next.


@pytest.mark.parametrize("seed", range(10))
def test_r3_3_ticks_every_period(seed: int) -> None:
    ev = events(scenario(TCP_LIVENESS.format(p=7), grid="Uniform"), seed)
    gaps = pd.Series(times(probes(ev, "liveness"))).diff().dropna()
    assert len(gaps) >= 10
    assert gaps.to_list() == approx_list([7.0] * len(gaps))


@pytest.mark.parametrize(
    ("latency", "expected"),
    [
        # Attempt at tick 12 takes 3.5 s: the tick at 14 is kept pending, so the
        # next attempt starts at 15.5; then the grid resumes at 16.
        ("3500ms", [10 + NET, 15.5, 15.5 + NET, 16 + NET, 18 + NET]),
        # 5.5 s covers the ticks at 14 and 16: one is kept, the other dropped.
        ("5500ms", [10 + NET, 17.5, 17.5 + NET, 18 + NET]),
    ],
)
def test_r3_3_slow_attempt_is_followed_at_once(
    latency: str, expected: list[float]
) -> None:
    responses = f"[{{until: 11s}}, {{until: 12s, latency: {latency}}}, {{status: 200}}]"
    probe = (
        "livenessProbe: {httpGet: {port: 8080, path: /live}, periodSeconds: 2, "
        "timeoutSeconds: 10}"
    )
    ev = events(scenario(probe, app=http_app(("/live", responses)), duration=21))
    got = [t for t in times(probes(ev, "liveness")) if 9 < t < 19]
    assert got == approx_list(expected)


# R3.4: initialDelaySeconds from StartedAt; startup gating.

LIVENESS_D7 = (
    "livenessProbe: {httpGet: {port: 8080, path: /live}, initialDelaySeconds: 7, "
    "periodSeconds: 3, failureThreshold: 1}"
)


def test_r3_4_initial_delay_from_each_started_at() -> None:
    app = http_app(("/live", "[{until: 15s, status: 200}, {status: 500}]"))
    delays = []
    for seed in range(40):
        scn = scenario(LIVENESS_D7, app=app + FAST_EXIT, grid="Uniform", duration=60)
        ev = events(scn, seed)
        attempts = probes(ev, "liveness")
        for instance in (0, 1):
            mine = times(attempts[attempts["restart_count"] == instance])
            assert mine, f"instance {instance} never probed"
            # No attempt before StartedAt + D; the first at the first tick after.
            delay = mine[0] - NET - started(ev, instance)
            assert 7 - EPS <= delay < 7 + 3, f"instance {instance}: {delay}"
            delays.append(delay)
    assert max(delays) - min(delays) >= 0.8 * 3


STARTUP = (
    "startupProbe: {httpGet: {port: 8080, path: /started}, periodSeconds: 3, "
    "failureThreshold: 30}"
)
GATED = (
    STARTUP,
    "livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 2}",
    "readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 2}",
)
STARTS_AT_20 = http_app(("/started", "[{until: 20s, status: 500}, {status: 200}]"))


@pytest.mark.parametrize("version", ["1.31", "1.35"])
@pytest.mark.parametrize("seed", range(5))
def test_r3_4_startup_gates_liveness_and_readiness(version: str, seed: int) -> None:
    scn = scenario(*GATED, app=STARTS_AT_20, version=version, grid="Uniform")
    ev = events(scn, seed)
    success = first(ev, "Probe", probe="startup", result="success")
    assert success - started(ev, 0) >= 20
    for probe in ("liveness", "readiness"):
        assert min(times(probes(ev, probe))) > success, f"{probe} ran before startup"
    # R3.7: the startup worker does nothing once started.
    assert max(times(probes(ev, "startup"))) == success
    assert first(ev, "StartupSucceeded") == success
    # R3.10: readiness runs within milliseconds (sync + manual trigger); liveness
    # waits for its own next tick (period 2 s).
    assert first(ev, "Probe", probe="readiness") - success <= SLACK
    assert 0 < first(ev, "Probe", probe="liveness") - success <= 2 + SLACK
    assert first(ev, "PodReady") == first(ev, "Probe", probe="readiness")


# R3.5: initial values.

READY_AT_8 = http_app(("/ready", "[{until: 8s, status: 500}, {status: 200}]"))
READINESS = "readinessProbe: {{httpGet: {{port: 8080, path: /ready}}, {fields}}}"


@pytest.mark.parametrize(
    "fields", ["periodSeconds: 5", "periodSeconds: 5, initialDelaySeconds: 12"]
)
@pytest.mark.parametrize("seed", range(5))
def test_r3_5_readiness_starts_not_ready(fields: str, seed: int) -> None:
    scn = scenario(READINESS.format(fields=fields), app=READY_AT_8, grid="Uniform")
    ev = events(scn, seed)
    first_success = first(ev, "Probe", probe="readiness", result="success")
    assert first(ev, "ContainerReady") == first_success
    assert first(ev, "PodReady") == first_success
    assert first_success - started(ev, 0) >= 8


def test_r3_5_no_probes_ready_once_running() -> None:
    ev = events(scenario(), seed=3)
    # No readiness or startup probe: ready at the first status after the start
    # (the PLEG sync, within the one-second relist).
    assert 0 < first(ev, "PodReady") - started(ev, 0) <= 1.0


@pytest.mark.parametrize("seed", range(5))
def test_r3_5_startup_unknown_keeps_pod_not_ready(seed: int) -> None:
    ev = events(scenario(STARTUP, app=STARTS_AT_20, grid="Uniform"), seed)
    success = first(ev, "Probe", probe="startup", result="success")
    # No readiness probe, but not started until the startup probe passes.
    assert first(ev, "PodReady") == success
    assert rows(ev, "PodReady")["time"].min() >= success


@pytest.mark.parametrize("threshold", [1, 3, 4])
def test_r3_5_liveness_kills_only_after_f_failures(threshold: int) -> None:
    probe = (
        "livenessProbe: {httpGet: {port: 8080, path: /live}, periodSeconds: 3, "
        f"failureThreshold: {threshold}}}"
    )
    ev = events(
        scenario(probe, app=http_app(("/live", "[{status: 500}]")), duration=30)
    )
    failures = times(probes(ev, "liveness", restart_count=0, result="failure"))
    assert first(ev, "Killing") == failures[threshold - 1]
    assert len(failures) == threshold  # on hold after the kill (R3.7)


# R3.6: thresholds, with an oracle that applies the rule to the observed attempts.


def expected_flips(
    attempts: pd.DataFrame, success: int, failure: int, ready: bool
) -> list[tuple[float, bool]]:
    """Publication instants by R3.6: runs of counted results, errors skipped."""
    last, run, flips = None, 0, []
    for t, result in attempts[["time", "result"]].itertuples(index=False):
        if result == "error":
            continue
        outcome = result != "failure"  # success and warning count as success
        run = run + 1 if outcome == last else 1
        last = outcome
        if outcome and not ready and run >= success:
            ready = True
            flips.append((float(t), True))
        elif not outcome and ready and run >= failure:
            ready = False
            flips.append((float(t), False))
    return flips


def observed_flips(ev: pd.DataFrame) -> list[tuple[float, bool]]:
    found = ev[ev["reason"].isin(["ContainerReady", "ContainerNotReady"])]
    return [
        (float(t), reason == "ContainerReady")
        for t, reason in found[["time", "reason"]].itertuples(index=False)
    ]


FLAKY_READY = http_app(
    ("/ready", "[{status: 200, flaky: {probability: 0.45, status: 500}}]")
)


@pytest.mark.parametrize(("success", "failure"), [(1, 1), (2, 3), (3, 2), (2, 1)])
@pytest.mark.parametrize("version", ["1.31", "1.35"])
def test_r3_6_readiness_thresholds(success: int, failure: int, version: str) -> None:
    fields = (
        f"periodSeconds: 2, successThreshold: {success}, failureThreshold: {failure}"
    )
    scn = scenario(
        READINESS.format(fields=fields), app=FLAKY_READY, version=version, duration=200
    )
    flips_seen = 0
    for seed in range(4):
        ev = events(scn, seed)
        attempts = probes(ev, "readiness")
        expected = expected_flips(attempts, success, failure, ready=False)
        assert observed_flips(ev) == expected
        flips_seen += len(expected)
    assert flips_seen >= 8  # the flaky answers really exercise both thresholds


@pytest.mark.parametrize("threshold", [2, 3])
def test_r3_6_liveness_failure_run_resets_on_success(threshold: int) -> None:
    probe = (
        "livenessProbe: {httpGet: {port: 8080, path: /live}, periodSeconds: 2, "
        f"failureThreshold: {threshold}}}"
    )
    app = http_app(("/live", "[{status: 200, flaky: {probability: 0.5, status: 500}}]"))
    for seed in range(8):
        ev = events(scenario(probe, app=app + FAST_EXIT, duration=60), seed)
        attempts = probes(ev, "liveness", restart_count=0)
        # A liveness worker publishes Failure (the kill) at the F-th consecutive
        # failure; it starts from Success (R3.5).
        flips = expected_flips(attempts, 1, threshold, ready=True)
        kills = times(rows(ev, "Killing", restart_count=0))
        assert kills[:1] == [t for t, ok in flips[:1] if not ok]


def test_r3_6_success_threshold_two_needs_consecutive_successes() -> None:
    # 1.31 keeps the grid at k * 5; D = 3 keeps the start-up syncs' manual runs
    # out. Ticks at 5, 10, ... see uptimes 4.3, 9.3, ...: S F S F S S.
    responses = (
        "[{until: 7s, status: 200}, {until: 12s, status: 500}, "
        "{until: 17s, status: 200}, {until: 22s, status: 500}, {status: 200}]"
    )
    fields = "periodSeconds: 5, initialDelaySeconds: 3, successThreshold: 2"
    scn = scenario(
        READINESS.format(fields=fields),
        app=http_app(("/ready", responses)),
        version="1.31",
        duration=40,
    )
    ev = events(scn)
    results = probes(ev, "readiness")["result"].to_list()
    assert results[:6] == ["success", "failure"] * 2 + ["success"] * 2
    assert first(ev, "ContainerReady") == pytest.approx(30 + NET, abs=EPS)


UNKNOWN_PORT = "{{httpGet: {{port: metrics, path: /x}}, periodSeconds: 5}}"


@pytest.mark.parametrize("probe", ["readinessProbe", "livenessProbe", "startupProbe"])
def test_r3_6_errors_are_discarded(probe: str) -> None:
    # R2.4: a port name the container does not have is an error every attempt.
    line = f"{probe}: {UNKNOWN_PORT.format()}"
    ev = events(
        scenario(line, ports="[{name: web, containerPort: 8080}]", duration=120)
    )
    attempts = probes(ev, probe.removesuffix("Probe"))
    assert len(attempts) >= 20
    assert set(attempts["result"]) == {"error"}
    errored = rows(ev, "Unhealthy")["message"]
    assert errored.str.contains("probe errored").all()
    assert len(errored) == len(attempts)
    assert rows(ev, "Killing").empty  # liveness never kills
    ready = not rows(ev, "PodReady").empty
    # Readiness never Ready; startup never started (so never Ready either).
    assert ready is (probe == "livenessProbe")


def test_r3_6_error_neither_counts_nor_resets() -> None:
    # 1.34 with ExecProbeTimeout off: a command that never returns is an error
    # after T + 2 min (R4.4), tried three times back to back (R4.1). S = 2:
    # success at tick 5, an error at tick 10 (three tries over 363 s, all inside
    # the hang), and the attempt right after it is the second consecutive success
    # (its retry lands after the hang).
    probe = (
        "readinessProbe: {exec: {command: [check]}, periodSeconds: 5, "
        "initialDelaySeconds: 3, successThreshold: 2}"
    )
    app = (
        "exec:\n- command: [check]\n  responses: [{until: 6s, exitCode: 0}, "
        "{until: 400s, hang: true}, {exitCode: 0}]"
    )
    scn = scenario(
        probe,
        app=app,
        version="1.34",
        gates="{ExecProbeTimeout: false}",
        duration=1000,
    )
    ev = events(scn)
    attempts = probes(ev, "readiness")
    assert attempts["result"].iloc[:3].to_list() == ["success", "error", "success"]
    assert first(ev, "ContainerReady") == float(attempts["time"].iloc[2])


def test_r4_1_warning_counts_as_success() -> None:
    # A redirect to another host ends the attempt as a Warning: Success plus a
    # ProbeWarning event.
    moved = "[{status: 302, location: 'http://example.com/'}]"
    line = READINESS.format(fields="periodSeconds: 5")
    ev = events(scenario(line, app=http_app(("/ready", moved)), duration=30))
    attempts = probes(ev, "readiness")
    assert set(attempts["result"]) == {"warning"}
    warnings = rows(ev, "ProbeWarning")
    assert times(warnings) == times(attempts)
    assert warnings["message"].str.startswith("Readiness probe warning: ").all()
    assert first(ev, "PodReady") == times(attempts)[0]
    assert rows(ev, "Unhealthy").empty


# R3.7: hold after a decisive result.

IGNORE_TERM = "\nsigterm: ignore"


@pytest.mark.parametrize("seed", range(5))
def test_r3_7_no_liveness_attempts_while_killing(seed: int) -> None:
    scn = scenario(LIVENESS_HTTP, app=LIVE_THEN_DIE + IGNORE_TERM, grid="Uniform")
    ev = events(scn, seed)
    kill = first(ev, "Killing")
    restart = started(ev, 1)
    assert restart - kill >= 30  # the full grace period
    liveness = times(probes(ev, "liveness"))
    assert not [t for t in liveness if kill < t <= restart]
    assert [t for t in liveness if t > restart], "liveness did not resume"


def test_r3_7_startup_failure_kills_and_holds() -> None:
    probe = "startupProbe: {httpGet: {port: 8080, path: /started}, periodSeconds: 2}"
    app = http_app(("/started", "[{status: 500}]")) + IGNORE_TERM
    ev = events(scenario(probe, app=app, duration=60))
    failures = times(probes(ev, "startup", restart_count=0))
    kill = first(ev, "Killing")
    assert kill == failures[2]  # F = 3 (default)
    assert rows(ev, "Killing")["message"].iloc[0] == (
        "Container app failed startup probe, will be restarted"
    )
    restart = started(ev, 1)
    assert not [t for t in times(probes(ev, "startup")) if kill < t <= restart]


# R3.9: manual readiness runs at syncs while not ready; the 1.32+ ticker re-arm.

NEVER_READY = http_app(("/ready", "[{status: 500}]"))
SYNC_AT_33 = "{at: 33.3s, setCondition: {pod: p, type: example.com/x, status: 'True'}}"


@pytest.mark.parametrize(
    ("version", "after"),
    [
        # Before 1.32 the manual run leaves the grid at k * 10.
        ("1.31", [33.3 + NET, 40 + NET, 50 + NET]),
        # From 1.32 it re-arms the ticker: the grid follows the sync.
        ("1.32", [33.3 + NET, 43.3 + NET, 53.3 + NET]),
        ("1.35", [33.3 + NET, 43.3 + NET, 53.3 + NET]),
    ],
)
def test_r3_9_manual_trigger_and_ticker_reset(version: str, after: list[float]) -> None:
    line = READINESS.format(fields="periodSeconds: 10")
    scn = scenario(line, app=NEVER_READY, actions=SYNC_AT_33, version=version)
    attempts = times(probes(events(scn), "readiness"))
    # The pod update at 33.3 s causes a sync, whose status generation runs the
    # readiness probe of the not-ready container at once.
    assert [t for t in attempts if 33 < t < 55] == approx_list(after)


def test_r3_9_no_manual_trigger_once_ready() -> None:
    line = READINESS.format(fields="periodSeconds: 10")
    app = http_app(("/ready", "[{status: 200}]"))
    for version in ("1.31", "1.35"):
        scn = scenario(line, app=app, actions=SYNC_AT_33, version=version)
        ev = events(scn)
        assert first(ev, "PodReady") < 33
        attempts = times(probes(ev, "readiness"))
        assert not [t for t in attempts if 33.3 <= t < 33.4]
        assert len({phase_mod(t, 10) for t in attempts if t > 20}) == 1


# R3.10: startup success -> readiness at once; liveness at its own next tick.


@pytest.mark.parametrize(("delay", "first_liveness"), [(0, 24 + NET), (30, 32 + NET)])
def test_r3_10_liveness_after_startup_success(
    delay: int, first_liveness: float
) -> None:
    liveness = (
        "livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 4, "
        f"initialDelaySeconds: {delay}}}"
    )
    readiness = "readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 7}"
    ev = events(scenario(STARTUP, liveness, readiness, app=STARTS_AT_20, duration=40))
    # Startup ticks at k * 3: uptime 20 s (t = 20.7) is first seen at t = 21.
    success = first(ev, "Probe", probe="startup", result="success")
    assert success == pytest.approx(21 + NET, abs=EPS)
    assert first(ev, "Probe", probe="readiness") == pytest.approx(success + NET)
    # Liveness: next tick of its own k * 4 grid, and D counts from StartedAt.
    assert first(ev, "Probe", probe="liveness") == pytest.approx(first_liveness)


# R3.11: after a restart readiness starts at Failure until it passes.


@pytest.mark.parametrize("success", [1, 2])
@pytest.mark.parametrize("seed", range(4))
def test_r3_11_restart_starts_not_ready(success: int, seed: int) -> None:
    readiness = (
        "readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 4, "
        f"successThreshold: {success}}}"
    )
    ev = events(
        scenario(
            LIVENESS_HTTP, readiness, app=LIVE_THEN_DIE + FAST_EXIT, grid="Uniform"
        ),
        seed,
    )
    restart = started(ev, 1)
    ready_again = first(ev, "Probe", probe="readiness", restart_count=1)
    not_ready = [t for t in times(rows(ev, "PodNotReady")) if t >= restart]
    assert not_ready and not_ready[0] <= ready_again
    # The old instance stayed Ready until it was gone.
    assert not [t for t in times(rows(ev, "PodNotReady")) if t < restart]
    # Back to Ready at the new instance's first success, also with S = 2: the
    # threshold run is not reset by the container change (R3.6 edge).
    assert next(t for t in times(rows(ev, "PodReady")) if t > restart) == ready_again


def test_r3_6_liveness_run_carries_over_a_crash() -> None:
    # F = 3. Instance 0 fails at ticks 15 and 20 (D = 12), then exits by itself
    # at uptime 21: run = 2 = F - 1. The replacement is killed at its first
    # counted result if that is a Failure.
    probe = (
        "livenessProbe: {httpGet: {port: 8080, path: /live}, periodSeconds: 5, "
        "initialDelaySeconds: 12}"
    )
    app = http_app(("/live", "[{status: 500}]")) + "\nexit: {after: 21s, code: 1}"
    ev = events(scenario(probe, app=app + FAST_EXIT, duration=60))
    assert len(probes(ev, "liveness", restart_count=0)) == 2
    assert rows(ev, "Killing", restart_count=0).empty
    first_of_new = first(ev, "Probe", probe="liveness", restart_count=1)
    assert first(ev, "Killing", restart_count=1) == first_of_new


# R3.12: deletion stops liveness and startup at once; readiness runs to the end.


def test_r3_12_deletion_stops_liveness_not_readiness() -> None:
    liveness = (
        "livenessProbe: {httpGet: {port: 8080, path: /live}, periodSeconds: 2, "
        "failureThreshold: 1}"
    )
    readiness = READINESS.format(fields="periodSeconds: 2, failureThreshold: 1")
    app = http_app(
        ("/live", "[{until: 32s, status: 200}, {status: 500}]"),
        ("/ready", "[{until: 40s, status: 200}, {status: 500}]"),
    )
    delete = "{at: 30s, delete: {pod: p, gracePeriodSeconds: 20}}"
    ev = events(scenario(liveness, readiness, app=app + IGNORE_TERM, actions=delete))
    assert max(times(probes(ev, "liveness"))) <= 30 + SLACK
    kills = rows(ev, "Killing")
    assert kills["message"].to_list() == ["Stopping container app"]
    assert first(ev, "Exited") == pytest.approx(50)
    # Readiness keeps probing during the grace period and turns NotReady.
    during = [t for t in times(probes(ev, "readiness")) if 30 < t < 50]
    assert len(during) >= 9
    not_ready = first(ev, "PodNotReady")
    assert 40.7 <= not_ready <= 42.7 + SLACK
    assert max(times(rows(ev, "Probe"))) <= 50 + SLACK


def test_r3_12_deletion_stops_startup() -> None:
    ev = events(
        scenario(
            STARTUP,
            app=http_app(("/started", "[{status: 500}]")) + IGNORE_TERM,
            actions="{at: 20s, delete: {pod: p, gracePeriodSeconds: 10}}",
        )
    )
    assert len(probes(ev, "startup")) >= 5
    assert max(times(probes(ev, "startup"))) <= 20 + SLACK
    assert first(ev, "Exited") == pytest.approx(30)


# R4.2 / R4.4: a process that exits while an attempt is in flight ends the attempt
# at that moment: an HTTP connection is reset (a Failure), an exec session ends
# with an error (discarded).

SLOW_LIVE = http_app(("/live", "[{status: 200, latency: 800ms}]"))
SLOW_EXEC = (
    "exec:\n- command: [cat, /tmp/healthy]\n"
    "  responses: [{exitCode: 0, duration: 800ms}]"
)


@pytest.mark.parametrize(
    ("record", "fast_path"), [("all", False), ("metrics", False), ("metrics", True)]
)
def test_exit_during_an_http_attempt_resets_it(record: str, fast_path: bool) -> None:
    # Ticks at 10, 20, ...; the attempt begun at 10 would answer at 10.8, but the
    # process (started at 0.7) exits at uptime 9.8, at 10.5.
    probe = (
        "livenessProbe: {httpGet: {port: 8080, path: /live}, periodSeconds: 10, "
        "timeoutSeconds: 2, failureThreshold: 1}"
    )
    app = SLOW_LIVE + "\nexit: {after: 9.8s, code: 1}"
    scn = scenario(probe, app=app, duration=12)
    ev = sim.simulate(scn, seed=1, record=record, fast_path=fast_path).events
    unhealthy = rows(ev, "Unhealthy", probe="liveness")
    assert times(unhealthy) == approx_list([START0 + 9.8])
    assert "connection reset by peer" in unhealthy["message"].iloc[0]
    if record == "all":
        attempt = probes(ev, "liveness", result="failure")
        assert times(attempt) == approx_list([START0 + 9.8])
        assert "duration=0.500000s" in attempt["message"].iloc[0]


def test_exit_during_an_exec_attempt_is_an_error() -> None:
    probe = "livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 10}"
    app = SLOW_EXEC + "\nexit: {after: 9.8s, code: 1}"
    ev = events(scenario(probe, app=app, duration=12))
    attempt = probes(ev, "liveness", result="error")
    assert times(attempt) == approx_list([START0 + 9.8])
    assert "container exited during the exec" in attempt["message"].iloc[0]
    assert rows(ev, "Killing").empty
