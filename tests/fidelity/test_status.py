"""Pod status: Started, Ready, conditions and phase (R7.1-R7.4, with R5.7).

Expected values come from docs/kubelet-semantics.md. Readiness is read from the
``ContainerReady``/``PodReady`` rows of the event log (and their ``Not`` forms); the
phase, which the event log does not carry, from the pod object the simulated API
server holds at the end of the run.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import simpy

from sim.kube.apiserver import PodObject
from sim.kube.cluster import Cluster
from sim.kube.runtime import ContainerSnapshot, ContainerState
from sim.kube.status import (
    ContainerStatus,
    PodPhase,
    PodStatus,
    StatusManager,
    pod_phase,
)
from sim.scenario.document import Scenario
from sim.scenario.spec import Container, ObjectMeta, Pod, RestartPolicy
from sim.trace import ListRecorder

START_LATENCY = (0.3, 0.7)  # container create + start, U[0.3, 0.7)
PLEG_SECONDS = 1.0  # a start or an exit is seen at the next relist
EPS = 1e-6

LIVENESS = {
    "exec": {"command": ["cat", "/tmp/healthy"]},
    "initialDelaySeconds": 5,
    "periodSeconds": 5,
}
HEALTHY_30S = {"/tmp/healthy": {"from": "0s", "until": "30s"}}
GATE = "example.com/gate"


# Scenario building and running -----------------------------------------------------


def container(name: str = "app", image: str = "x:1", **fields) -> dict:
    """A container manifest."""
    return {"name": name, "image": image, **fields}


def pod(*containers: dict, **spec) -> dict:
    """Pod ``p`` (one container ``app`` by default)."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p"},
        "spec": {"containers": list(containers) or [container()], **spec},
    }


def load(pod_doc: dict, duration: str = "2m", **spec) -> Scenario:
    """Read a Pod and a Scenario document through the YAML reader."""
    scenario_doc = {
        "apiVersion": "probesim/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "s"},
        "spec": {"duration": duration, **spec},
    }
    return Scenario.from_yaml(
        "\n---\n".join(json.dumps(d) for d in (pod_doc, scenario_doc))
    )


def run(pod_doc: dict, seed: int = 1, **spec) -> tuple[pd.DataFrame, PodObject]:
    """Simulate; return the event log and the pod as the API server ends with it."""
    recorder = ListRecorder()
    cluster = Cluster(load(pod_doc, **spec), seed, recorder)
    cluster.run()
    return recorder.to_frame(), cluster.apiserver.pods["p"]


def set_condition(at: str, status: str = "True", kind: str = GATE) -> dict:
    """A setCondition action on pod ``p``."""
    return {"at": at, "setCondition": {"pod": "p", "type": kind, "status": status}}


def times(events: pd.DataFrame, reason: str, name: str = "app") -> list[float]:
    """Times of the rows of one reason (``name`` "" for pod-level rows)."""
    found = events[(events["reason"] == reason) & (events["container"] == name)]
    return [float(t) for t in found["time"]]


def by_instance(events: pd.DataFrame, reason: str, name: str = "app") -> dict:
    """Time of the first row of a reason per container instance."""
    found = events[(events["reason"] == reason) & (events["container"] == name)]
    return found.groupby("restart_count")["time"].min().to_dict()


def pod_ready(events: pd.DataFrame) -> list[float]:
    """Times the pod became Ready."""
    return times(events, "PodReady", "")


def pod_not_ready(events: pd.DataFrame) -> list[float]:
    """Times the pod became NotReady."""
    return times(events, "PodNotReady", "")


# R7.1: no readiness probe: ready once running and started ---------------------------


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_r7_1_no_readiness_probe_is_ready_at_the_first_status_after_start(seed):
    events, _ = run(pod(), seed=seed, duration="20s")
    started = by_instance(events, "Started")[0]
    container_ready = times(events, "ContainerReady")
    assert len(container_ready) == 1
    # The PLEG reports the start at its next relist; that sync's status is Ready.
    assert started < container_ready[0] <= started + PLEG_SECONDS + EPS
    assert pod_ready(events) == container_ready
    assert pod_not_ready(events) == []


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_r7_1_an_exited_instance_is_never_reported_ready(seed):
    # The readiness answer takes 2 s; the process exits 1.5 s after it started, in
    # the middle of the first attempt. The connection dies with the process (a
    # Failure, R4.2), and in any case ready requires running (R7.1).
    readiness = {"httpGet": {"port": 8080, "path": "/ready"}, "periodSeconds": 5,
                 "timeoutSeconds": 3}  # fmt: skip
    slow = {"port": 8080, "path": "/ready", "latency": "2s", "responses": [{}]}
    events, _ = run(
        pod(container(readinessProbe=readiness)),
        seed=seed,
        duration="30s",
        behaviours=[{"container": "app", "http": [slow],
                     "exit": {"after": "1500ms", "code": 1}}],
    )  # fmt: skip
    started = by_instance(events, "Started")
    exited = by_instance(events, "Exited")
    ready = events[
        (events["reason"] == "ContainerReady") & (events["container"] == "app")
    ]
    late = [
        (int(n), float(t))
        for n, t in zip(ready["restart_count"], ready["time"], strict=True)
        if not started[n] <= t < exited.get(n, math.inf)
    ]
    assert late == [], f"ContainerReady outside the instance's life: {late}"


def test_r7_1_startup_probe_holds_ready_until_started():
    startup = {"exec": {"command": ["cat", "/tmp/started"]}, "periodSeconds": 2,
               "failureThreshold": 30}  # fmt: skip
    events, _ = run(
        pod(container(startupProbe=startup)),
        duration="40s",
        behaviours=[{"container": "app", "files": {"/tmp/started": {"from": "10s"}}}],
    )
    started = by_instance(events, "Started")[0]
    startup_succeeded = times(events, "StartupSucceeded")
    assert len(startup_succeeded) == 1
    assert startup_succeeded[0] >= started + 10.0
    # R3.8: the startup result triggers a sync at once, whose status is Ready.
    ready = pod_ready(events)
    assert len(ready) == 1
    assert startup_succeeded[0] <= ready[0] <= startup_succeeded[0] + 0.1


# R7.2: ContainersReady and readiness gates -----------------------------------------


def test_r7_2_pod_ready_needs_every_container_ready():
    readiness = {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 2}
    events, _ = run(
        pod(container(), container("slow", "y:1", readinessProbe=readiness)),
        duration="40s",
        behaviours=[{"container": "slow", "files": {"/tmp/ready": {"from": "15s"}}}],
    )
    fast = times(events, "ContainerReady")
    slow = times(events, "ContainerReady", "slow")
    assert len(fast) == 1
    assert len(slow) == 1
    assert fast[0] < slow[0]
    assert pod_ready(events) == [slow[0]]


def test_r7_2_readiness_gate_holds_pod_ready_until_the_condition_is_true():
    events, _ = run(
        pod(readinessGates=[{"conditionType": GATE}]),
        duration="2m",
        actions=[
            set_condition("30s"),
            set_condition("60s", "False"),
            set_condition("90s"),
        ],
    )
    # The container itself is ready at its first status; only the pod waits.
    assert times(events, "ContainerReady")[0] < 2.0
    assert pod_ready(events) == [
        pytest.approx(30.0, abs=0.1),
        pytest.approx(90.0, abs=0.1),
    ]
    assert pod_not_ready(events) == [pytest.approx(60.0, abs=0.1)]


def test_r7_2_every_readiness_gate_must_be_true():
    other = "example.com/other"
    events, _ = run(
        pod(readinessGates=[{"conditionType": GATE}, {"conditionType": other}]),
        duration="1m",
        actions=[set_condition("10s"), set_condition("40s", kind=other)],
    )
    assert pod_ready(events) == [pytest.approx(40.0, abs=0.1)]


def test_r7_2_gate_true_before_the_container_is_ready():
    events, _ = run(
        pod(readinessGates=[{"conditionType": GATE}]),
        duration="20s",
        actions=[set_condition("0s")],
    )
    container_ready = times(events, "ContainerReady")
    assert pod_ready(events) == container_ready


def test_r7_2_gate_without_condition_never_ready():
    events, _ = run(pod(readinessGates=[{"conditionType": GATE}]), duration="1m")
    assert times(events, "ContainerReady")
    assert pod_ready(events) == []


# R7.4: phase -------------------------------------------------------------------------

READINESS_TRUE = {"exec": {"command": ["true"]}, "periodSeconds": 2}


@pytest.mark.parametrize(
    ("policy", "code", "phase"),
    [
        ("Never", 0, PodPhase.SUCCEEDED),
        ("Never", 1, PodPhase.FAILED),
        ("OnFailure", 0, PodPhase.SUCCEEDED),
        ("OnFailure", 1, PodPhase.RUNNING),
        ("Always", 0, PodPhase.RUNNING),
        ("Always", 1, PodPhase.RUNNING),
    ],
)
def test_r7_4_phase_after_the_process_exits(policy, code, phase):
    events, obj = run(
        pod(container(readinessProbe=READINESS_TRUE), restartPolicy=policy),
        duration="60s",
        behaviours=[{"container": "app", "exit": {"after": "20s", "code": code}}],
    )
    assert obj.status is not None
    assert obj.status.phase is phase
    death = by_instance(events, "Exited")[0]
    probes = times(events, "Probe")
    if phase.terminal:
        # R3.4 (2): workers exit once the phase is terminal; the status that makes
        # it terminal comes from the PLEG sync after the exit.
        assert max(probes) <= death + PLEG_SECONDS + EPS
        assert pod_not_ready(events)
        assert death < pod_not_ready(events)[0] <= death + PLEG_SECONDS + EPS
        assert list(by_instance(events, "Started")) == [0]
    else:
        assert max(probes) > death + 10.0


def test_r7_4_pending_while_the_image_is_pulled():
    _, obj = run(pod(), duration="1s", cluster={"imagesPresent": False})
    assert obj.status is not None
    assert obj.status.phase is PodPhase.PENDING


def go_duration(seconds: int) -> str:
    """A whole number of seconds as Go prints a time.Duration (2m40s, 10s)."""
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def test_r6_4_crash_loop_stays_running_and_shows_crash_loop_back_off():
    events, obj = run(
        pod(),
        duration="5m",
        behaviours=[{"container": "app", "exit": {"after": "0s", "code": 1}}],
    )
    assert obj.status is not None
    assert obj.status.phase is PodPhase.RUNNING
    # The run ends in a long wait with at least two back-off syncs after the last
    # death: the status of the second (generated at its start, R11.3) carries the
    # reason the first cached. Restart n (n = the instances so far) waits
    # 10 * 2**(n - 2) s (R6.2).
    last_death = max(by_instance(events, "Exited").values())
    assert len([t for t in times(events, "BackOff") if t > last_death]) >= 2
    n = len(by_instance(events, "Started"))
    backoff = min(10 * 2 ** (n - 2), 300)
    status = obj.status.containers["app"]
    assert status.waiting_reason == "CrashLoopBackOff"
    assert status.waiting_message.startswith(
        f"back-off {go_duration(backoff)} restarting failed container=app pod=p_"
    )
    assert status.last_terminated is not None
    assert status.last_terminated.exit_code == 1


def test_r7_4_never_pod_killed_by_liveness_fails():
    events, obj = run(
        pod(container(livenessProbe=LIVENESS), restartPolicy="Never"),
        duration="100s",
        behaviours=[{"container": "app", "files": HEALTHY_30S, "sigterm": "ignore"}],
    )
    assert times(events, "Killing")
    assert obj.status is not None
    assert obj.status.phase is PodPhase.FAILED


# R5.7: readiness around restarts -----------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_r5_7_crash_exit_gives_a_short_not_ready_window(seed):
    events, _ = run(
        pod(),
        seed=seed,
        duration="60s",
        behaviours=[{"container": "app", "exit": {"after": "20s", "code": 1}}],
    )
    death = by_instance(events, "Exited")[0]
    restarted = by_instance(events, "Started")[1]
    not_ready = pod_not_ready(events)
    ready = pod_ready(events)
    # The status generated from the "exited" snapshot is NotReady; the restart in
    # the same (free) sync is seen at the next relist and is Ready again.
    assert len(not_ready) >= 1
    assert len(ready) >= 2
    assert death < not_ready[0] <= death + PLEG_SECONDS + EPS
    assert restarted < ready[1] <= restarted + PLEG_SECONDS + EPS
    assert ready[1] - not_ready[0] <= PLEG_SECONDS + START_LATENCY[1] + PLEG_SECONDS


@pytest.mark.parametrize(
    "sigterm", ["ignore", {"exitAfter": "2s", "exitCode": 143}], ids=["ignore", "2s"]
)
def test_r5_7_liveness_kills_without_readiness_probe_keep_the_pod_ready(sigterm):
    # Four minutes stay before the first CrashLoopBackOff (R6.2): every restart
    # happens in the kill's own sync.
    events, _ = run(
        pod(container(livenessProbe=LIVENESS)),
        duration="4m",
        behaviours=[{"container": "app", "files": HEALTHY_30S, "sigterm": sigterm}],
    )
    assert times(events, "BackOff") == []
    assert len(times(events, "Killing")) >= 3
    assert len(pod_ready(events)) == 1
    assert pod_not_ready(events) == []
    assert times(events, "ContainerNotReady") == []


def test_r5_7_with_a_readiness_probe_the_new_container_starts_not_ready():
    readiness = {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 2}
    events, _ = run(
        pod(container(livenessProbe=LIVENESS, readinessProbe=readiness)),
        duration="100s",
        behaviours=[
            {
                "container": "app",
                "files": {**HEALTHY_30S, "/tmp/ready": {}},
                "sigterm": "ignore",
            }
        ],
    )
    kill = times(events, "Killing")[0]
    restarted = by_instance(events, "Started")[1]
    not_ready = pod_not_ready(events)
    # The old container stays Ready through its 30 s kill window.
    assert not [t for t in not_ready if t < restarted]
    assert restarted >= kill + 30.0
    # R3.5: the new container's readiness starts at Failure.
    assert not_ready
    assert restarted <= not_ready[0] <= restarted + PLEG_SECONDS + EPS
    assert [t for t in pod_ready(events) if t > not_ready[0]]


# Unit: pod_phase (kubelet_pods.go getPhase) and sticky terminal phases ----------------


def _snapshot(code: int) -> ContainerSnapshot:
    return ContainerSnapshot(
        "id-old", "c", ContainerState.EXITED, 0, "h", "x:1", 0.0, 1.0, code,
        "Completed" if code == 0 else "Error",
    )  # fmt: skip


def creating() -> ContainerStatus:
    """Waiting, never started."""
    return ContainerStatus("c")


def running() -> ContainerStatus:
    """Running."""
    return ContainerStatus(
        "c", "id", ContainerState.RUNNING, waiting_reason="", started_at=0.0
    )


def terminated(code: int) -> ContainerStatus:
    """Terminated with ``code``."""
    return ContainerStatus(
        "c", "id", ContainerState.EXITED, waiting_reason="", exit_code=code,
        finished_at=1.0,
    )  # fmt: skip


def back_off(code: int) -> ContainerStatus:
    """Waiting in CrashLoopBackOff after an exit with ``code``."""
    return ContainerStatus(
        "c", "id", ContainerState.EXITED, waiting_reason="CrashLoopBackOff",
        last_terminated=_snapshot(code),
    )  # fmt: skip


def _pod_object(policy: RestartPolicy = RestartPolicy.ALWAYS) -> PodObject:
    spec = Pod(ObjectMeta("p"), (Container("c", "x:1"),), restart_policy=policy)
    return PodObject(spec, "uid", "10.0.0.1", 0.0, np.random.default_rng(0))


ALWAYS, ON_FAILURE, NEVER = (
    RestartPolicy.ALWAYS,
    RestartPolicy.ON_FAILURE,
    RestartPolicy.NEVER,
)


@pytest.mark.parametrize(
    ("policy", "statuses", "phase"),
    [
        (ALWAYS, [creating()], PodPhase.PENDING),
        (ALWAYS, [running()], PodPhase.RUNNING),
        (NEVER, [running(), creating()], PodPhase.PENDING),
        (NEVER, [running(), terminated(1)], PodPhase.RUNNING),
        (ALWAYS, [terminated(0)], PodPhase.RUNNING),
        (ALWAYS, [terminated(1)], PodPhase.RUNNING),
        (ON_FAILURE, [terminated(0)], PodPhase.SUCCEEDED),
        (ON_FAILURE, [terminated(1)], PodPhase.RUNNING),
        (NEVER, [terminated(0)], PodPhase.SUCCEEDED),
        (NEVER, [terminated(1)], PodPhase.FAILED),
        (NEVER, [terminated(0), terminated(0)], PodPhase.SUCCEEDED),
        (NEVER, [terminated(0), terminated(1)], PodPhase.FAILED),
        (ON_FAILURE, [terminated(0), terminated(1)], PodPhase.RUNNING),
        (ALWAYS, [back_off(1)], PodPhase.RUNNING),
        (ON_FAILURE, [back_off(1)], PodPhase.RUNNING),
        (ON_FAILURE, [back_off(1), terminated(0)], PodPhase.RUNNING),
        (ALWAYS, [back_off(1), creating()], PodPhase.PENDING),
    ],
)
def test_pod_phase_table(policy, statuses, phase):
    containers = {f"c{i}": s for i, s in enumerate(statuses)}
    assert pod_phase(_pod_object(policy), containers) is phase


@pytest.mark.parametrize("terminal", [PodPhase.SUCCEEDED, PodPhase.FAILED])
def test_terminal_phase_is_sticky(terminal):
    manager = StatusManager(simpy.Environment(), ListRecorder())
    obj = _pod_object(RestartPolicy.NEVER)
    manager.set_pod_status(obj, PodStatus(terminal, {"c": terminated(0)}))
    manager.set_pod_status(obj, PodStatus(PodPhase.RUNNING, {"c": running()}))
    status = manager.get("uid")
    assert status is not None
    assert status.phase is terminal
    assert PodPhase.RUNNING.terminal is False
    assert math.isfinite(status.containers["c"].started_at)
