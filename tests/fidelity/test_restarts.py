"""Restarts, kills, grace periods and CrashLoopBackOff: R5.1-R5.6 and R6.1-R6.3.

Every expected value is derived from docs/kubelet-semantics.md (the reference model),
never from what the simulator printed. Times come from the event log: a container
instance starts at its ``Started`` row and dies at its ``Exited`` row, the
``restart_count`` column names the instance, and the kubelet's sync that starts an
instance is the instant of its ``Pulled`` row (the image is on the node, so nothing
happens between the back-off check and that row).

Model conventions used below: container create+start takes U[0.3, 0.7) s, the PLEG
relists every second, due pod work is picked up by a 1 s ticker.
"""

from __future__ import annotations

import itertools
import json
from types import SimpleNamespace

import pandas as pd
import pytest

from sim.kube import versions
from sim.kube.backoff import Backoff
from sim.kube.kuberuntime import KubeGenericRuntimeManager
from sim.scenario.document import ClusterSpec, ReducedDecayReading, Scenario
from sim.scenario.spec import Container, ExecAction, ObjectMeta, Pod, Probe
from sim.simulation import simulate
from sim.trace import KillCause

START_LATENCY = (0.3, 0.7)  # container create + start, U[0.3, 0.7)
PLEG_SECONDS = 1.0  # a start or exit is seen at the next relist, <= 1 s later
TICK_SECONDS = 1.0  # due pod work waits for the main-loop ticker
ERROR_RETRY = (10.0, 15.0)  # R11.2: re-queue after a failed sync, U[10, 15)
SYNC_FREQUENCY = 60.0  # R6.3: cap of the 1.35 back-off re-queue
EPS = 1e-6

# The liveness-exec example (R12.1): the file exists for the first 30 s of uptime.
LIVENESS = {
    "exec": {"command": ["cat", "/tmp/healthy"]},
    "initialDelaySeconds": 5,
    "periodSeconds": 5,
}
HEALTHY_30S = {"/tmp/healthy": {"from": "0s", "until": "30s"}}
CRASH_AT_ONCE = {"after": "0s", "code": 1}


# Scenario building ------------------------------------------------------------------


def container(name: str = "app", image: str = "x:1", **fields) -> dict:
    """A container manifest."""
    return {"name": name, "image": image, **fields}


def pod(*containers: dict, name: str = "p", **spec) -> dict:
    """A Pod manifest (one container ``app`` by default)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def behaviour(files=None, sigterm="ignore", **fields) -> dict:
    """A behaviour of container ``app``."""
    entry = {"container": "app", "sigterm": sigterm, **fields}
    if files is not None:
        entry["files"] = files
    return entry


def load(pod_doc: dict, duration: str = "3m", **spec) -> Scenario:
    """Read a Pod and a Scenario document through the YAML reader."""
    scenario_doc = {
        "apiVersion": "probesim/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "s"},
        "spec": {"duration": duration, **spec},
    }
    # JSON is YAML: the documents go through the same reader as a file.
    return Scenario.from_yaml(
        "\n---\n".join(json.dumps(d) for d in (pod_doc, scenario_doc))
    )


def run(pod_doc: dict, seed: int = 1, **spec) -> pd.DataFrame:
    """Simulate and return the event log."""
    return simulate(load(pod_doc, **spec), seed=seed).events


# Reading the event log ------------------------------------------------------------


def rows(events: pd.DataFrame, reason: str, name: str = "app") -> pd.DataFrame:
    """Rows of one reason for one container."""
    return events[(events["reason"] == reason) & (events["container"] == name)]


def by_instance(events: pd.DataFrame, reason: str, name: str = "app") -> dict:
    """Time of the first row of a reason per instance (restart_count)."""
    found = rows(events, reason, name)
    return found.groupby("restart_count")["time"].min().to_dict()


def pulls(events: pd.DataFrame, name: str = "app") -> dict[int, float]:
    """Time of each image check per instance started (the k-th starts instance k).

    ``Pulled`` rows carry the count before the new instance exists (contract 3),
    so they are matched to instances by order.
    """
    return dict(enumerate(times(events, "Pulled", name)))


def times(events: pd.DataFrame, reason: str, name: str = "app") -> list[float]:
    """Times of every row of a reason for one container."""
    return [float(t) for t in rows(events, reason, name)["time"]]


def only(values: list) -> object:
    """The single element of a list."""
    assert len(values) == 1, values
    return values[0]


def killing(events: pd.DataFrame, name: str = "app") -> pd.DataFrame:
    """The Killing rows of a container."""
    return rows(events, "Killing", name)


def exit_message(events: pd.DataFrame, instance: int) -> str:
    """The Exited message of one instance."""
    found = rows(events, "Exited")
    return str(only(list(found[found["restart_count"] == instance]["message"])))


# R5.1: what a sync does with a container that exited or failed liveness ----------


@pytest.mark.parametrize(
    ("policy", "code", "restarted"),
    [
        ("Always", 0, True),
        ("Always", 1, True),
        ("OnFailure", 0, False),
        ("OnFailure", 1, True),
        ("Never", 0, False),
        ("Never", 1, False),
    ],
)
def test_r5_1_self_exit_follows_restart_policy(policy, code, restarted):
    events = run(
        pod(restartPolicy=policy),
        duration="60s",
        behaviours=[behaviour(exit={"after": "5s", "code": code})],
    )
    started = by_instance(events, "Started")
    exited = by_instance(events, "Exited")
    assert f"exit code {code}" in exit_message(events, 0)
    assert exited[0] == pytest.approx(started[0] + 5.0)
    if not restarted:
        assert list(started) == [0]
        return
    # The first restart is free (R6.2): the PLEG sync after the exit starts it.
    assert 1 in started
    delay = started[1] - exited[0]
    assert START_LATENCY[0] - EPS <= delay <= PLEG_SECONDS + START_LATENCY[1] + EPS


def test_r5_1_liveness_kill_restarts_under_on_failure_whatever_the_exit_code():
    # The killed process exits 0 on SIGTERM; OnFailure still restarts it, because
    # the decision is taken at kill time, not from the exit code.
    events = run(
        pod(container(livenessProbe=LIVENESS), restartPolicy="OnFailure"),
        duration="100s",
        behaviours=[behaviour(HEALTHY_30S, sigterm={"exitAfter": "1s", "exitCode": 0})],
    )
    kill = killing(events)
    assert kill["message"].iloc[0] == (
        "Container app failed liveness probe, will be restarted"
    )
    assert "exit code 0" in exit_message(events, 0)
    assert 1 in by_instance(events, "Started")


def test_r5_1_never_with_another_container_kept_kills_without_restart():
    # Another container is kept, so this is no whole-pod kill (R5.3): the message
    # has no ", will be restarted", and the probe's own grace period applies (R5.4).
    probe = dict(LIVENESS, terminationGracePeriodSeconds=7)
    events = run(
        pod(
            container(livenessProbe=probe),
            container("side", "y:1"),
            restartPolicy="Never",
            terminationGracePeriodSeconds=20,
        ),
        duration="120s",
        behaviours=[behaviour(HEALTHY_30S)],
    )
    kill = killing(events)
    assert list(kill["message"]) == ["Container app failed liveness probe"]
    exited = by_instance(events, "Exited")
    assert exited[0] - float(kill["time"].iloc[0]) == pytest.approx(7.0)
    assert list(by_instance(events, "Started")) == [0]
    assert killing(events, "side").empty


# R5.2: kill and restart inside one sync --------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_r5_2_restart_follows_the_kill_in_the_same_sync(seed):
    events = run(
        pod(container(livenessProbe=LIVENESS)),
        seed=seed,
        duration="100s",
        behaviours=[
            behaviour(HEALTHY_30S, sigterm={"exitAfter": "2s", "exitCode": 143})
        ],
    )
    third_failure = times(events, "Unhealthy")[2]
    kill_time = float(killing(events)["time"].iloc[0])
    exited = by_instance(events, "Exited")
    pulled = pulls(events)
    started = by_instance(events, "Started")

    # R3.8: the liveness Failure triggers the sync at once.
    assert kill_time == pytest.approx(third_failure)
    # R5.5: the handler ends the process 2 s after SIGTERM.
    assert exited[0] == pytest.approx(kill_time + 2.0)
    # R5.2: the same sync goes on to start the new instance, no PLEG hop between.
    assert pulled[1] == pytest.approx(exited[0])
    delay = started[1] - exited[0]
    assert START_LATENCY[0] - EPS <= delay < START_LATENCY[1] + EPS
    assert rows(events, "BackOff").empty


# R5.3: restartPolicy Never with a single container kills the whole pod ----------


def test_r5_3_never_single_container_uses_pod_grace_and_generic_message():
    probe = dict(LIVENESS, terminationGracePeriodSeconds=5)
    events = run(
        pod(
            container(livenessProbe=probe),
            restartPolicy="Never",
            terminationGracePeriodSeconds=20,
        ),
        duration="120s",
        behaviours=[behaviour(HEALTHY_30S)],
    )
    kill = killing(events)
    assert list(kill["message"]) == ["Stopping container app"]
    kill_time = float(kill["time"].iloc[0])
    assert kill_time == pytest.approx(times(events, "Unhealthy")[2])
    assert by_instance(events, "Exited")[0] == pytest.approx(kill_time + 20.0)
    assert "exit code 137" in exit_message(events, 0)
    assert list(by_instance(events, "Started")) == [0]


# R5.4: grace period selection, preStop, 2 s floor ----------------------------------

DRAIN = {"port": 8080, "path": "/drain"}


@pytest.mark.parametrize(
    ("pod_fields", "probe_fields", "hook", "extra", "grace"),
    [
        pytest.param({}, {}, None, {}, 30.0, id="pod-default-30"),
        pytest.param({"terminationGracePeriodSeconds": 12}, {}, None, {}, 12.0,
                     id="pod-12"),
        pytest.param({}, {"terminationGracePeriodSeconds": 7}, None, {}, 7.0,
                     id="probe-7-over-pod-30"),
        pytest.param({"terminationGracePeriodSeconds": 5},
                     {"terminationGracePeriodSeconds": 12}, None, {}, 12.0,
                     id="probe-12-larger-than-pod-5"),
        pytest.param({"terminationGracePeriodSeconds": 1}, {}, None, {}, 2.0,
                     id="pod-1-floored-to-2"),
        pytest.param({}, {"terminationGracePeriodSeconds": 1}, None, {}, 2.0,
                     id="probe-1-floored-to-2"),
        pytest.param({"terminationGracePeriodSeconds": 10}, {},
                     {"sleep": {"seconds": 3}}, {}, 10.0,
                     id="prestop-sleep-3-of-10"),
        pytest.param({"terminationGracePeriodSeconds": 10}, {},
                     {"sleep": {"seconds": 9}}, {}, 11.0,
                     id="prestop-sleep-9-leaves-1-floored-to-2"),
        pytest.param({"terminationGracePeriodSeconds": 10}, {},
                     {"sleep": {"seconds": 15}}, {}, 12.0,
                     id="prestop-bounded-by-grace-then-floor"),
        pytest.param({"terminationGracePeriodSeconds": 10}, {}, {"httpGet": DRAIN},
                     {"http": [dict(DRAIN, latency="2500ms",
                                    responses=[{"status": 200}])]},
                     10.5, id="prestop-2.5s-subtracts-whole-2"),
    ],
)  # fmt: skip
def test_r5_4_grace_period_of_a_liveness_kill(
    pod_fields, probe_fields, hook, extra, grace
):
    fields = {"livenessProbe": dict(LIVENESS, **probe_fields)}
    if hook is not None:
        fields["lifecycle"] = {"preStop": hook}
    events = run(
        pod(container(**fields), **pod_fields),
        duration="150s",
        behaviours=[behaviour(HEALTHY_30S, **extra)],
    )
    kill_time = float(killing(events)["time"].iloc[0])
    assert by_instance(events, "Exited")[0] - kill_time == pytest.approx(grace)
    assert "exit code 137" in exit_message(events, 0)


def test_r5_4_startup_kill_uses_the_startup_probe_grace():
    startup = {
        "exec": {"command": ["cat", "/tmp/started"]},
        "periodSeconds": 2,
        "failureThreshold": 3,
        "terminationGracePeriodSeconds": 4,
    }
    liveness = dict(LIVENESS, terminationGracePeriodSeconds=9)
    events = run(
        pod(container(startupProbe=startup, livenessProbe=liveness)),
        duration="40s",
        behaviours=[behaviour({"/tmp/started": {"from": "1h"}})],
    )
    kill = killing(events).iloc[0]
    assert kill["message"] == "Container app failed startup probe, will be restarted"
    assert by_instance(events, "Exited")[0] - kill["time"] == pytest.approx(4.0)


def test_r5_4_probe_grace_ignored_with_gate_off_on_1_27():
    probe = dict(LIVENESS, terminationGracePeriodSeconds=7)
    events = run(
        pod(container(livenessProbe=probe)),
        duration="100s",
        cluster={
            "kubernetesVersion": "1.27",
            "featureGates": {"ProbeTerminationGracePeriod": False},
        },
        behaviours=[behaviour(HEALTHY_30S)],
    )
    kill_time = float(killing(events)["time"].iloc[0])
    assert by_instance(events, "Exited")[0] - kill_time == pytest.approx(30.0)


@pytest.mark.parametrize(
    ("delete", "grace"),
    [({"gracePeriodSeconds": 10}, 10.0), ({}, 30.0), ({"gracePeriodSeconds": 0}, 2.0)],
)
def test_r5_4_deletion_grace_wins_over_probe_grace(delete, grace):
    probe = dict(LIVENESS, terminationGracePeriodSeconds=7)
    events = run(
        pod(container(livenessProbe=probe)),
        duration="90s",
        behaviours=[behaviour(HEALTHY_30S)],
        actions=[{"at": "20s", "delete": {"pod": "p", **delete}}],
    )
    kill = killing(events)
    assert list(kill["message"]) == ["Stopping container app"]
    assert float(kill["time"].iloc[0]) == pytest.approx(20.0)
    assert by_instance(events, "Exited")[0] == pytest.approx(20.0 + grace)


def _grace(
    cause, *, deletion=None, pod_grace=30, liveness=None, startup=None, gate=True
):
    probe = Probe(ExecAction(("true",)), termination_grace_period_seconds=liveness)
    start = Probe(ExecAction(("true",)), termination_grace_period_seconds=startup)
    spec = Container("app", "x:1", liveness_probe=probe, startup_probe=start)
    pod_object = SimpleNamespace(
        deletion_grace_seconds=deletion,
        pod=Pod(ObjectMeta("p"), (spec,), termination_grace_period_seconds=pod_grace),
    )
    manager = SimpleNamespace(
        features=SimpleNamespace(probe_termination_grace_period=gate)
    )
    return KubeGenericRuntimeManager.grace_period(manager, pod_object, cause, spec)


@pytest.mark.parametrize(
    ("cause", "kwargs", "expected"),
    [
        (KillCause.LIVENESS, {"deletion": 10, "liveness": 7}, 10),
        (KillCause.DELETION, {"deletion": 10, "liveness": 7}, 10),
        (KillCause.LIVENESS, {"liveness": 7}, 7),
        (KillCause.LIVENESS, {"liveness": 45}, 45),
        (KillCause.LIVENESS, {}, 30),
        (KillCause.LIVENESS, {"liveness": 7, "gate": False}, 30),
        (KillCause.STARTUP, {"liveness": 7, "startup": 4}, 4),
        (KillCause.STARTUP, {"liveness": 7}, 30),
        (KillCause.SPEC_CHANGED, {"liveness": 7, "startup": 4}, 30),
        (KillCause.POD_KILL, {"liveness": 7, "pod_grace": 20}, 20),
    ],
)
def test_r5_4_grace_period_selection_table(cause, kwargs, expected):
    assert _grace(cause, **kwargs) == expected


# R5.5: what the runtime does with the stop timeout ---------------------------------


@pytest.mark.parametrize(
    ("sigterm", "after", "code"),
    [
        ("ignore", 30.0, 137),
        ({"exitAfter": "2s", "exitCode": 143}, 2.0, 143),
        ({"exitAfter": "2s", "exitCode": 0}, 2.0, 0),
        ({"exitAfter": "45s", "exitCode": 143}, 30.0, 137),
    ],
)
def test_r5_5_sigterm_behaviour(sigterm, after, code):
    events = run(
        pod(),
        duration="90s",
        behaviours=[behaviour(sigterm=sigterm)],
        actions=[{"at": "10s", "delete": {"pod": "p"}}],
    )
    assert by_instance(events, "Exited")[0] == pytest.approx(10.0 + after)
    assert f"exit code {code}" in exit_message(events, 0)


# R5.6: restartCount ------------------------------------------------------------------


def test_r5_6_restart_count_increments_on_the_new_container():
    events = run(
        pod(container(livenessProbe=LIVENESS)),
        duration="8m",
        behaviours=[behaviour(HEALTHY_30S)],
    )
    counts = list(rows(events, "Started")["restart_count"])
    assert len(counts) >= 5
    assert counts == list(range(len(counts)))
    started = by_instance(events, "Started")
    exited = by_instance(events, "Exited")
    for kill in killing(events).itertuples(index=False):
        instance = int(kill.restart_count)
        # The killed instance keeps its count; its successor has count + 1.
        assert started[instance] < kill.time < exited[instance]
        if instance + 1 in started:
            assert started[instance + 1] > exited[instance]


# R6: CrashLoopBackOff --------------------------------------------------------------


def crash_loop_backoff(n: int, initial: float = 10.0, maximum: float = 300.0) -> float:
    """R6.2: back-off before restart ``n`` of a pure crash loop (0 for the first)."""
    if n <= 1:
        return 0.0
    return min(initial * 2 ** (n - 2), maximum)


def waits(events: pd.DataFrame):
    """Per restart n: (death of instance n-1, back-off sync times, start sync of n).

    A sync that finds the container in back-off leaves a ``BackOff`` row; the sync
    that starts instance n leaves its ``Pulled`` row.
    """
    exited = by_instance(events, "Exited")
    pulled = pulls(events)
    backoffs = times(events, "BackOff")
    for n in sorted(pulled):
        if n == 0:
            continue
        death, start = exited[n - 1], pulled[n]
        yield n, death, [t for t in backoffs if death <= t < start], start


def check_backoff_schedule(events, backoff_of, retry_at_expiry: bool, min_restarts):
    """Check every restart of a crash loop against R6.2 and R6.3."""
    checked = 0
    for n, death, in_backoff, start in waits(events):
        backoff = backoff_of(n)
        expiry = death + backoff
        where = f"restart {n}: death {death:.3f}, back-off {backoff}s"
        # R6.2: never before the back-off has passed; every sync before it waits.
        assert start >= expiry - EPS, where
        assert all(t < expiry for t in in_backoff), where
        syncs = [*in_backoff, start]
        # R11.1: the container's death triggers a sync at the next PLEG relist.
        assert 0 < syncs[0] - death <= PLEG_SECONDS + EPS, where
        for before, after in itertools.pairwise(syncs):
            gap = after - before
            if retry_at_expiry:
                # R6.3 (1.35): re-queued at the expiry, jittered x[1, 1.5), capped
                # at syncFrequency, then picked up by the 1 s ticker.
                remaining = min(expiry - before, SYNC_FREQUENCY)
                low, high = remaining, 1.5 * remaining + TICK_SECONDS
            else:
                # R6.3 (before 1.35): the 10-15 s error grid plus the ticker.
                low, high = ERROR_RETRY[0], ERROR_RETRY[1] + TICK_SECONDS
            assert low - EPS <= gap <= high + EPS, f"{where}: sync gap {gap:.3f}"
        checked += 1
    assert checked >= min_restarts


CRASH_LOOP = [behaviour(sigterm="ignore", exit=CRASH_AT_ONCE)]


@pytest.mark.parametrize("seed", [1, 7])
def test_r6_3_pure_crash_loop_before_1_35_retries_on_the_error_grid(seed):
    events = run(
        pod(),
        seed=seed,
        duration="12m",
        cluster={"kubernetesVersion": "1.34"},
        behaviours=CRASH_LOOP,
    )
    check_backoff_schedule(events, crash_loop_backoff, False, min_restarts=7)
    # The worked example: starts ~11-16, ~21-31, ~40-60, ~80-95 s after the death
    # before them (the 10-15 s grid, 1 s ticker and start latency widen each end).
    started = by_instance(events, "Started")
    exited = by_instance(events, "Exited")
    for n, (low, high) in {2: (10, 17.7), 3: (20, 33.7), 4: (40, 57.7)}.items():
        assert low <= started[n] - exited[n - 1] <= high, n
    assert 80 <= started[5] - exited[4] <= 97.7


@pytest.mark.parametrize("seed", [1, 7])
def test_r6_3_pure_crash_loop_on_1_35_retries_at_expiry(seed):
    events = run(pod(), seed=seed, duration="15m", behaviours=CRASH_LOOP)
    # Reaches the 300 s cap at restart 7 (10 * 2**5 = 320 > 300).
    check_backoff_schedule(events, crash_loop_backoff, True, min_restarts=7)


def test_r6_2_back_off_event_message():
    events = run(pod(), duration="1m", behaviours=CRASH_LOOP)
    messages = list(rows(events, "BackOff")["message"])
    assert messages
    assert all(
        m.startswith("Back-off restarting failed container app in pod p")
        for m in messages
    )


@pytest.mark.parametrize(
    ("cluster", "initial", "maximum"),
    [
        # R6.1: on 1.35 the literal reading keeps the 300 s maximum.
        ({"featureGates": {"ReduceDefaultCrashLoopBackOffDecay": True}}, 1.0, 300.0),
        (
            {
                "featureGates": {"ReduceDefaultCrashLoopBackOffDecay": True},
                "reducedDecayReading": "Designed",
            },
            1.0,
            60.0,
        ),
        ({"crashLoopBackOff": {"maxContainerRestartPeriod": "30s"}}, 10.0, 30.0),
        (
            {
                "featureGates": {"ReduceDefaultCrashLoopBackOffDecay": True},
                "crashLoopBackOff": {"maxContainerRestartPeriod": "20s"},
            },
            1.0,
            20.0,
        ),
    ],
)
def test_r6_1_back_off_configuration_on_1_35(cluster, initial, maximum):
    events = run(pod(), duration="10m", cluster=cluster, behaviours=CRASH_LOOP)

    def backoff_of(n):
        return crash_loop_backoff(n, initial, maximum)

    check_backoff_schedule(events, backoff_of, True, min_restarts=8)


def test_r6_1_reduced_decay_on_1_34_is_1s_to_60s_on_the_error_grid():
    events = run(
        pod(),
        duration="10m",
        cluster={
            "kubernetesVersion": "1.34",
            "featureGates": {"ReduceDefaultCrashLoopBackOffDecay": True},
        },
        behaviours=CRASH_LOOP,
    )

    def backoff_of(n):
        return crash_loop_backoff(n, 1.0, 60.0)

    check_backoff_schedule(events, backoff_of, False, min_restarts=10)


def _crash_at(*seconds: int) -> list[dict]:
    fault = {"pod": "p", "container": "app", "crash": {"exitCode": 1}}
    return [{"at": f"{s}s", "fault": fault} for s in seconds]


def test_r6_1_back_off_resets_after_600s_of_stable_running():
    # Crashes at 10 s (restart free, entry 10 s) and 20 s (waits 10 s, entry 20 s,
    # updated at the restart near 30-37 s). The third instance then runs until
    # 700 s: more than 600 s after the entry's last update, so the entry has
    # expired: the restart is free again and the entry starts over at 10 s.
    events = run(pod(), duration="13m", actions=_crash_at(10, 20, 700, 720))
    pulled = pulls(events)
    assert 700 < pulled[3] <= 700 + PLEG_SECONDS + EPS
    assert 730 - EPS <= pulled[4] <= 720 + PLEG_SECONDS + 1.5 * 10 + TICK_SECONDS


def test_r6_1_back_off_kept_when_not_stable_for_600s():
    # Control: the same crashes with the third at 300 s keep the entry (20 s,
    # then 40 s).
    events = run(pod(), duration="13m", actions=_crash_at(10, 20, 300, 720))
    pulled = pulls(events)
    assert pulled[3] >= 300 + 20 - EPS
    assert pulled[4] >= 720 + 40 - EPS


def test_r6_2_liveness_kills_restart_at_once_until_lives_are_shorter_than_back_off():
    # R12.1: each container lives ~70-75 s including its 30 s kill. After a
    # liveness kill the sync's snapshot shows the killed container running, so
    # the check uses the previous death: kills 1-5 restart at once (entries 10,
    # 20, 40, 80 s), kill 6 finds the previous death ~70-75 s old, below 80 s:
    # CrashLoopBackOff, restart ~80-95 s after the death of the killed container.
    events = run(
        pod(container(livenessProbe=LIVENESS)),
        duration="10m",
        cluster={"kubernetesVersion": "1.34"},
        behaviours=[behaviour(HEALTHY_30S)],
    )
    exited = by_instance(events, "Exited")
    pulled = pulls(events)
    started = by_instance(events, "Started")
    for n in range(1, 6):
        assert pulled[n] == pytest.approx(exited[n - 1]), n
    assert not [t for t in times(events, "BackOff") if t < exited[5] - EPS]
    assert times(events, "BackOff")
    assert 80 <= started[6] - exited[5] <= 80 + ERROR_RETRY[1] + 2 + START_LATENCY[1]


def test_r6_2_new_image_gets_a_fresh_back_off_key():
    # A crash loop on 1.35; at 200 s (restart 5 waits 80 s, restart 6 160 s) the
    # image changes. The spec hash changes, so the key is new: the pod update's
    # sync starts the container at once, and the next wait is the initial 10 s.
    events = run(
        pod(),
        duration="5m",
        behaviours=CRASH_LOOP,
        actions=[
            {"at": "200s", "setImage": {"pod": "p", "container": "app", "image": "x:2"}}
        ],
    )
    pulled = rows(events, "Pulled").reset_index(drop=True)
    fresh = pulled[pulled["message"].str.contains('"x:2"')]
    first = int(fresh.index.min())
    assert float(fresh["time"].min()) == pytest.approx(200.0)
    exited = by_instance(events, "Exited")
    second = pulls(events)[first + 1]
    death = exited[first]
    assert death + 10 - EPS <= second <= death + PLEG_SECONDS + 1.5 * 10 + TICK_SECONDS


@pytest.mark.parametrize("policy", ["Always", "Never"])
def test_r5_1_spec_change_kills_and_always_restarts(policy):
    events = run(
        pod(restartPolicy=policy),
        duration="60s",
        behaviours=[behaviour(sigterm={"exitAfter": "1s", "exitCode": 0})],
        actions=[
            {"at": "30s", "setImage": {"pod": "p", "container": "app", "image": "x:2"}}
        ],
    )
    kill = killing(events)
    assert list(kill["message"]) == [
        "Container app definition changed, will be restarted"
    ]
    assert float(kill["time"].iloc[0]) == pytest.approx(30.0)
    pulled = rows(events, "Pulled")
    new = pulled[pulled["message"].str.contains('"x:2"')]
    assert list(new["time"]) == [pytest.approx(31.0)]
    assert '"x:2"' in str(new["message"].iloc[0])
    assert 1 in by_instance(events, "Started")


# Unit: the back-off table (client-go flowcontrol.Backoff) --------------------------


def test_backoff_first_next_creates_the_initial_entry():
    backoff = Backoff(10.0, 300.0, 600.0)
    assert backoff.get("k") == 0.0
    assert not backoff.is_in_backoff_since("k", 0.0, 1.0)
    backoff.next("k", 0.0, 1.0)
    assert backoff.get("k") == 10.0


def test_backoff_doubles_up_to_the_maximum():
    backoff = Backoff(10.0, 300.0, 600.0)
    seen = []
    now = 0.0
    for _ in range(8):
        now += 1.0
        backoff.next("k", now - 0.5, now)
        seen.append(backoff.get("k"))
    assert seen == [10, 20, 40, 80, 160, 300, 300, 300]


def test_backoff_window_is_measured_from_the_event_time():
    backoff = Backoff(10.0, 300.0, 600.0)
    backoff.next("k", 0.0, 0.0)
    assert backoff.is_in_backoff_since("k", 5.0, 14.999)
    assert not backoff.is_in_backoff_since("k", 5.0, 15.0)
    assert not backoff.is_in_backoff_since("other", 5.0, 6.0)


def test_backoff_expires_when_the_event_is_over_reset_after_the_last_update():
    # A maximum of 400 s keeps the 2 x max garbage collection out of the way.
    backoff = Backoff(10.0, 400.0, 600.0)
    backoff.next("k", 0.0, 100.0)
    backoff.next("k", 100.0, 110.0)
    assert backoff.get("k") == 20.0
    # Event exactly 600 s after the last update: not yet expired.
    assert backoff.is_in_backoff_since("k", 710.0, 715.0)
    # Over 600 s: expired, no back-off, and the next advance starts over.
    assert not backoff.is_in_backoff_since("k", 710.5, 715.0)
    backoff.next("k", 710.5, 715.0)
    assert backoff.get("k") == 10.0


@pytest.mark.parametrize(("unused", "expected"), [(59.5, 30.0), (60.5, 10.0)])
def test_backoff_entries_unused_for_twice_the_maximum_are_forgotten(unused, expected):
    backoff = Backoff(10.0, 30.0, 600.0)
    backoff.next("k", 0.0, 0.0)
    backoff.next("k", 0.5, 1.0)
    backoff.next("k", 1.0 + unused, 1.0 + unused)
    assert backoff.get("k") == expected


def test_backoff_keys_are_independent():
    backoff = Backoff(1.0, 60.0, 600.0)
    backoff.next(("uid", "app", "hash-1"), 0.0, 0.0)
    backoff.next(("uid", "app", "hash-1"), 0.0, 1.0)
    assert backoff.get(("uid", "app", "hash-1")) == 2.0
    assert backoff.get(("uid", "app", "hash-2")) == 0.0


# Unit: versions.resolve and versions.problems ----------------------------------------


def cluster(version: str, gates: dict | None = None, **fields) -> ClusterSpec:
    """A ClusterSpec with explicit gate settings."""
    return ClusterSpec(
        kubernetes_version=version,
        feature_gates=tuple(sorted((gates or {}).items())),
        **fields,
    )


@pytest.mark.parametrize("minor", range(27, 36))
def test_resolve_defaults_per_release(minor):
    features = versions.resolve(cluster(f"1.{minor}"))
    assert features.minor == minor
    # R3.9 (PR #119089) and R3.7 (PR #121206): both first shipped in 1.32.
    assert features.readiness_ticker_reset is (minor >= 32)
    assert features.startup_hold_after_success is (minor >= 32)
    # R6.3: the retry at back-off expiry is treated as 1.35.
    assert features.crashloop_retry_at_expiry is (minor >= 35)
    # R4.4: ExecProbeTimeout GA since 1.20; R5.4: probe TGPS on by default from 1.25.
    assert features.exec_probe_timeout is True
    assert features.probe_termination_grace_period is True
    # R6.1: 10 s doubling to 300 s; reset after 600 s (2 x 300 before 1.32).
    assert (features.crashloop_initial_seconds, features.crashloop_max_seconds) == (
        10.0,
        300.0,
    )
    assert features.backoff_reset_seconds == 600.0
    assert features.user_agent == f"kube-probe/1.{minor}"


@pytest.mark.parametrize(
    ("version", "gates", "fields", "expected"),
    [
        ("1.35", {"ReduceDefaultCrashLoopBackOffDecay": True}, {}, (1.0, 300.0)),
        (
            "1.35",
            {"ReduceDefaultCrashLoopBackOffDecay": True},
            {"reduced_decay_reading": ReducedDecayReading.DESIGNED},
            (1.0, 60.0),
        ),
        ("1.34", {"ReduceDefaultCrashLoopBackOffDecay": True}, {}, (1.0, 60.0)),
        ("1.33", {"ReduceDefaultCrashLoopBackOffDecay": True}, {}, (1.0, 60.0)),
        (
            "1.35",
            {
                "ReduceDefaultCrashLoopBackOffDecay": True,
                "KubeletCrashLoopBackOffMax": False,
            },
            {},
            (1.0, 60.0),
        ),
        ("1.35", {}, {"max_container_restart_period_seconds": 30.0}, (10.0, 30.0)),
        ("1.35", {}, {"max_container_restart_period_seconds": 5.0}, (5.0, 5.0)),
        (
            "1.35",
            {"ReduceDefaultCrashLoopBackOffDecay": True},
            {"max_container_restart_period_seconds": 30.0},
            (1.0, 30.0),
        ),
        (
            "1.35",
            {"KubeletCrashLoopBackOffMax": False},
            {"max_container_restart_period_seconds": 30.0},
            (10.0, 300.0),
        ),
        (
            "1.33",
            {"KubeletCrashLoopBackOffMax": True},
            {"max_container_restart_period_seconds": 30.0},
            (10.0, 30.0),
        ),
        ("1.34", {}, {"max_container_restart_period_seconds": 30.0}, (10.0, 300.0)),
    ],
)
def test_resolve_crash_loop_bounds(version, gates, fields, expected):
    features = versions.resolve(cluster(version, gates, **fields))
    assert (features.crashloop_initial_seconds, features.crashloop_max_seconds) == (
        expected
    )
    # R6.1: from 1.32 the reset is 600 s whatever the maximum.
    assert features.backoff_reset_seconds == 600.0


@pytest.mark.parametrize(
    ("version", "gates", "attribute", "expected"),
    [
        ("1.27", {"ProbeTerminationGracePeriod": False}, "grace", False),
        ("1.34", {"ExecProbeTimeout": False}, "exec_timeout", False),
        ("1.35", {"ExecProbeTimeout": True}, "exec_timeout", True),
    ],
)
def test_resolve_explicit_gates(version, gates, attribute, expected):
    features = versions.resolve(cluster(version, gates))
    value = {
        "grace": features.probe_termination_grace_period,
        "exec_timeout": features.exec_probe_timeout,
    }[attribute]
    assert value is expected


@pytest.mark.parametrize(
    ("version", "gates", "fragment"),
    [
        ("1.26", {}, "not supported"),
        ("1.36", {}, "not supported"),
        ("banana", {}, "not 1.MINOR"),
        ("1.35", {"NoSuchGate": True}, "unknown feature gate"),
        ("1.35", {"ExecProbeTimeout": False}, "locked to True"),
        ("1.28", {"ProbeTerminationGracePeriod": False}, "locked to True"),
        ("1.33", {"SidecarContainers": False}, "locked to True"),
        ("1.32", {"ReduceDefaultCrashLoopBackOffDecay": True}, "does not exist"),
        ("1.31", {"KubeletCrashLoopBackOffMax": True}, "does not exist"),
    ],
)
def test_problems_and_resolve_errors(version, gates, fragment):
    spec = cluster(version, gates)
    found = versions.problems(spec)
    assert any(fragment in text for text in found), found
    with pytest.raises(versions.VersionError):
        versions.resolve(spec)


@pytest.mark.parametrize(
    ("version", "gates"),
    [
        ("1.35", {"ExecProbeTimeout": True}),
        ("1.27", {"ProbeTerminationGracePeriod": False}),
        ("1.33", {"ReduceDefaultCrashLoopBackOffDecay": True}),
        ("1.32", {"KubeletCrashLoopBackOffMax": True}),
    ],
)
def test_problems_accept_allowed_settings(version, gates):
    assert versions.problems(cluster(version, gates)) == []
