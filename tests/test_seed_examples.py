"""The seed examples in ``scenarios/`` against the reference model.

Every expectation is derived from docs/kubelet-semantics.md, not from the
simulator's output: section 12 (worked examples) for the probe timelines, R8 for
image pulls and their back-off, R10 for ServiceAccount admission. Section 12
assumes a cached image; the seed images without a tag are pulled at every start
(R2.2), so times are measured from each instance's ``Started`` row and pull time is
taken out where a restart delay is compared.

Golden files in ``tests/golden/seed/`` hold what ``probesim get pods`` and
``probesim describe`` print for each scenario at one instant (seed 1). After a
deliberate change, rewrite them with ``PROBESIM_UPDATE_GOLDEN=1`` and read the diff.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.analysis.kubectl import NO_RESOURCES, PodNotFoundError, describe_pod, get_pods
from sim.cli import main
from sim.scenario.spec import PullPolicy, VolumeKind
from sim.simulation import SimulationResult

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
GOLDEN = Path(__file__).resolve().parent / "golden" / "seed"
UPDATE = os.environ.get("PROBESIM_UPDATE_GOLDEN") == "1"
SEEDS = range(50)
GOLDEN_SEED = 1
# A probe's Unhealthy row is written when the attempt ends: exec attempts may take
# up to timeoutSeconds (R4.4), HTTP/TCP attempts about a millisecond.
EXEC_SLACK = 1.0
NET_SLACK = 0.05
# Runtime create + start of a container (section 12 header: 0.3-1 s).
START_LATENCY = 1.0
# A new restartCount reaches the API at the next status generation (R5.6, PLEG).
STATUS_LAG = 1.5
# Pod re-sync after a failed sync U[10, 15) s, picked up by the 1 s ticker (R8.2).
RESYNC_MAX = 15.0 + 1.0
TOKEN_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"


# ---------------------------------------------------------------------- helpers


@cache
def scenario(name: str, version: str | None = None) -> sim.Scenario:
    loaded = sim.load_scenario(SCENARIOS / f"{name}.yaml")
    return loaded.with_cluster(kubernetes_version=version) if version else loaded


@cache
def run(
    name: str, seed: int = GOLDEN_SEED, version: str | None = None
) -> SimulationResult:
    return sim.simulate(scenario(name, version), seed)


def runs(name: str, version: str | None = None) -> list[SimulationResult]:
    return [run(name, seed, version) for seed in SEEDS]


def rows(result: SimulationResult, reason: str, **match: object) -> pd.DataFrame:
    ev = result.events
    mask = ev["reason"] == reason
    for column, value in match.items():
        mask &= ev[column] == value
    return ev[mask]


def times(result: SimulationResult, reason: str, **match: object) -> list[float]:
    return [float(t) for t in rows(result, reason, **match)["time"]]


def first(result: SimulationResult, reason: str, **match: object) -> float | None:
    found = times(result, reason, **match)
    return found[0] if found else None


def messages(result: SimulationResult, reason: str) -> list[str]:
    return [str(m) for m in rows(result, reason)["message"]]


def check_range(
    bad: list[str], what: str, value: float, low: float, high: float
) -> None:
    """Note ``value`` in ``bad`` unless ``low <= value <= high``."""
    if not low - 1e-9 <= value <= high + 1e-9:
        bad.append(f"{what} = {value:.3f} not in [{low}, {high}]")


def first_ready_status(result: SimulationResult, pod: str) -> float | None:
    for status in result.recorder.statuses:
        if status.pod == pod and status.ready:
            return status.time
    return None


def status_column(result: SimulationResult, pod: str, at: float) -> str:
    """The STATUS column of ``get pods`` for one pod."""
    header, line = get_pods(result, at, pods=[pod]).splitlines()
    assert header.split()[:3] == ["NAME", "READY", "STATUS"]
    return line.split()[2]


def cli_output(capsys, *argv: str) -> str:
    """What the command prints, stdout then stderr (kubectl's "No resources")."""
    assert main([*argv, "--seed", str(GOLDEN_SEED)]) == 0
    captured = capsys.readouterr()
    errors = captured.err.splitlines(keepends=True)
    return captured.out + "".join(e for e in errors if not e.startswith("warning: "))


# --------------------------------------------------------- 1. every scenario


SCENARIO_FILES = sorted(SCENARIOS.glob("*.yaml"))


def test_the_readme_lists_every_scenario():
    readme = (SCENARIOS / "README.md").read_text()
    listed = set(re.findall(r"^\| `([\w-]+\.yaml)` \|", readme, re.MULTILINE))
    assert listed == {path.name for path in SCENARIO_FILES}


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda path: path.stem)
def test_scenario_validates_and_runs(path, capsys):
    assert main(["validate", str(path)]) == 0
    assert f"{path}: valid:" in capsys.readouterr().out
    for seed in (1, 2, 3):
        result = sim.simulate(sim.load_scenario(path), seed)
        assert not result.events.empty
        assert result.events["time"].is_monotonic_increasing


# ------------------------------------------------ 2. liveness-kill timelines


@dataclass(frozen=True)
class LivenessCycle:
    """One container instance's life under a failing liveness probe (section 12).

    Times are relative to the instance's ``Started`` row.
    """

    name: str
    pod: str
    first_failure: tuple[float, float]
    kill: tuple[float, float]
    exit_after_kill: tuple[float, float]
    exit_code: int


LIVENESS_CYCLES = [
    # 12.1: first failing tick >= 30 s, third failure 10 s later; sh ignores
    # SIGTERM, SIGKILL at the end of the 30 s grace period (R5.5).
    LivenessCycle(
        "liveness-exec", "liveness-exec", (30, 35 + EXEC_SLACK),
        (40, 45 + EXEC_SLACK), (30, 30), 137,
    ),
    # 12.2: first tick with uptime > 10 s, kill two periods later; a Go PID 1
    # exits at once on SIGTERM with status 2.
    LivenessCycle(
        "http-liveness", "liveness-http", (10, 13 + NET_SLACK),
        (16, 19 + NET_SLACK), (0, 1), 2,
    ),
    # The named-port pod runs the same agnhost liveness server as 12.2.
    LivenessCycle(
        "named-port", "liveness-named-port", (10, 13 + NET_SLACK),
        (16, 19 + NET_SLACK), (0, 1), 2,
    ),
]  # fmt: skip


def cycle_problems(result: SimulationResult, cycle: LivenessCycle) -> list[str]:
    """What in one run's complete container lives falls outside the ranges."""
    bad: list[str] = []
    exits = rows(result, "Exited")
    for instance in range(len(exits)):
        start = first(result, "Started", restart_count=instance)
        unhealthy = first(result, "Unhealthy", restart_count=instance)
        kill = first(result, "Killing", restart_count=instance)
        exited = exits.iloc[instance]
        if None in (start, unhealthy, kill):
            bad.append(f"instance {instance} exited without start/failure/kill")
            continue
        tag = f"seed {result.seed} instance {instance}"
        check_range(bad, f"{tag} failure", unhealthy - start, *cycle.first_failure)
        check_range(bad, f"{tag} kill", kill - start, *cycle.kill)
        check_range(bad, f"{tag} exit", exited["time"] - kill, *cycle.exit_after_kill)
        if exited["restart_count"] != instance:
            bad.append(f"{tag}: exit of instance {exited['restart_count']}")
        if exited["message"] != f"exit code {cycle.exit_code} (Error)":
            bad.append(f"{tag}: {exited['message']}")
    return bad


@pytest.mark.parametrize("cycle", LIVENESS_CYCLES, ids=lambda c: c.name)
def test_liveness_kill_cycle_timing(cycle):
    results = runs(cycle.name)
    assert all(len(rows(r, "Exited")) >= 2 for r in results)
    bad = [problem for r in results for problem in cycle_problems(r, cycle)]
    assert not bad, bad[:10]


def pull_seconds(result: SimulationResult, before: float) -> float:
    """How long the last pull that ended by ``before`` took (0 without a pull)."""
    pulled = rows(result, "Pulled")
    pulled = pulled[pulled["time"] <= before]
    found = re.search(r" in ([\d.]+)s \(", str(pulled["message"].iloc[-1]))
    return float(found[1]) if found else 0.0


def restart_count_at(result: SimulationResult, pod: str, at: float) -> int:
    status = result.recorder.status_at(pod, at)
    assert status is not None
    return status.containers[0].restart_count


@pytest.mark.parametrize("cycle", LIVENESS_CYCLES, ids=lambda c: c.name)
def test_first_kill_restarts_at_once_and_counts_one_restart(cycle):
    bad: list[str] = []
    for result in runs(cycle.name):
        exited = times(result, "Exited")[0]
        second = first(result, "Started", restart_count=1)
        # R5.2 / R6.2: the first restart is free and happens in the killing sync;
        # only the pull (policy Always) and create + start come in between.
        delay = second - exited - pull_seconds(result, second)
        check_range(bad, f"seed {result.seed} restart delay", delay, 0, START_LATENCY)
        # R5.6: the count becomes 1 with the new container, visible soon after.
        if restart_count_at(result, cycle.pod, second - 1e-6) != 0:
            bad.append(f"seed {result.seed}: restartCount > 0 before the restart")
        if restart_count_at(result, cycle.pod, second + STATUS_LAG) != 1:
            bad.append(f"seed {result.seed}: restartCount is not 1 after it")
    assert not bad, bad[:10]


@pytest.mark.parametrize("cycle", LIVENESS_CYCLES, ids=lambda c: c.name)
def test_without_readiness_probe_ready_except_in_crash_loop_back_off(cycle):
    """R5.7: a liveness kill restarts in the same sync, so no NotReady window."""
    bad: list[str] = []
    for result in runs(cycle.name):
        ready_since = first_ready_status(result, cycle.pod)
        assert ready_since is not None
        for status in result.recorder.statuses:
            if status.pod != cycle.pod or status.time < ready_since or status.ready:
                continue
            reasons = [c.reason for c in status.containers]
            if reasons != ["CrashLoopBackOff"]:
                bad.append(f"seed {result.seed} NotReady at {status.time}: {reasons}")
    assert not bad, bad[:10]


@pytest.mark.parametrize(
    ("name", "policy"),
    [
        ("liveness-exec", PullPolicy.ALWAYS),  # k8s.gcr.io/busybox: no tag
        ("http-liveness", PullPolicy.ALWAYS),  # k8s.gcr.io/liveness: no tag
        ("named-port", PullPolicy.IF_NOT_PRESENT),
        ("readiness-exec", PullPolicy.IF_NOT_PRESENT),
        ("tcp-liveness-readiness", PullPolicy.IF_NOT_PRESENT),
    ],
)
def test_pull_policy_and_a_pull_before_every_start(name, policy):
    """R2.2 defaults the policy from the tag; R8.1: Always pulls at every start."""
    result = run(name)
    (pod,) = result.objects.pods.values()
    assert pod.containers[0].image_pull_policy is policy
    ev = result.events[result.events["reason"].isin(["Pulling", "Started"])]
    sequence = "".join(reason[0] for reason in ev["reason"])
    starts = len(rows(result, "Started"))
    assert starts >= 1
    # Images are present on the node, so IfNotPresent never pulls.
    assert sequence == ("PS" * starts if policy is PullPolicy.ALWAYS else "S" * starts)


def test_liveness_exec_enters_crash_loop_back_off_at_the_sixth_kill():
    """12.1 / R6.2: kills 2-5 restart at once (each predecessor lived longer than
    the back-off); the sixth waits, as 70-80 s of life is under 80 s."""
    bad: list[str] = []
    for result in runs("liveness-exec"):
        exits = times(result, "Exited")
        back_off = first(result, "BackOff")
        if back_off is None or len(exits) < 6 or back_off != exits[5]:
            bad.append(f"seed {result.seed}: first BackOff at {back_off}")
            continue
        for instance in range(1, 6):
            start = first(result, "Started", restart_count=instance)
            delay = start - exits[instance - 1] - pull_seconds(result, start)
            check_range(
                bad, f"seed {result.seed} restart {instance}", delay, 0, START_LATENCY
            )
    assert not bad, bad[:10]


def test_tcp_readiness_on_1_35_is_ten_seconds_after_the_first_sync():
    """12.3 (>= 1.32): the readiness ticker is re-armed by the syncs right after
    the start, blocked by initialDelay 5 s, so Ready comes one period later."""
    check_tcp_readiness(None, 10, 12)


def test_tcp_readiness_on_1_31_is_the_first_tick_after_the_initial_delay():
    """12.3 (<= 1.31): Ready at the first tick >= 5 s, ticks 10 s apart."""
    check_tcp_readiness("1.31", 5, 15)


def check_tcp_readiness(version: str | None, low: float, high: float) -> None:
    bad: list[str] = []
    for result in runs("tcp-liveness-readiness", version):
        start = first(result, "Started")
        ready = first_ready_status(result, "goproxy")
        assert start is not None
        assert ready is not None
        check_range(bad, f"seed {result.seed} Ready", ready - start, low, high)
        assert not times(result, "Killing")
        assert not times(result, "PodNotReady")
        assert all(
            c.restart_count == 0
            for status in result.recorder.statuses
            for c in status.containers
        )
    assert not bad, bad[:10]


def test_named_port_resolves_to_8080():
    """R2.4: the name is looked up in the container's ports. Resolved, the probe
    reaches agnhost on 8080: 200 while uptime <= 10 s, 500 after; unresolved it
    would error (and be discarded), on a wrong port it would fail at once."""
    pod = run("named-port").objects.pods["liveness-named-port"]
    container = pod.containers[0]
    assert container.liveness_probe.handler.port == "liveness-port"
    assert [(p.name, p.container_port) for p in container.ports] == [
        ("liveness-port", 8080)
    ]
    bad: list[str] = []
    for result in runs("named-port"):
        probes = rows(result, "Probe", probe="liveness")
        assert "error" not in set(probes["result"])
        starts = dict(
            zip(
                rows(result, "Started")["restart_count"],
                times(result, "Started"),
                strict=True,
            )
        )
        uptime = probes["time"] - probes["restart_count"].map(starts)
        early = probes[uptime < 10 - NET_SLACK]
        late = probes[uptime > 10 + NET_SLACK]
        # Ticks at [3, 6) and [6, 9) of every instance that lived to be killed.
        successes = early["restart_count"].value_counts()
        killed = range(len(times(result, "Killing")))
        if set(early["result"]) != {"success"} or any(
            successes.get(instance, 0) < 2 for instance in killed
        ):
            bad.append(f"seed {result.seed}: early {list(early['result'])}")
        if set(late["result"]) != {"failure"}:
            bad.append(f"seed {result.seed}: late {list(late['result'])}")
        if not all("statuscode: 500" in m for m in late["message"]):
            bad.append(f"seed {result.seed}: late failures not HTTP 500")
    assert not bad, bad[:10]


def test_readiness_exec_turns_not_ready_and_is_never_restarted():
    """First failing readiness tick >= 30 s, NotReady at the third (F = 3, P = 5);
    readiness never kills (R3.8, R5.1)."""
    bad: list[str] = []
    for result in runs("readiness-exec"):
        start = first(result, "Started")
        ready = first_ready_status(result, "readiness-exec")
        not_ready = first(result, "PodNotReady")
        assert None not in (start, ready, not_ready), result.seed
        check_range(bad, f"seed {result.seed} Ready", ready - start, 5, 10 + 1)
        check_range(
            bad, f"seed {result.seed} NotReady", not_ready - start, 40, 45 + EXEC_SLACK
        )
        assert not times(result, "Killing")
        assert len(times(result, "Started")) == 1
        last = result.recorder.status_at("readiness-exec", math.inf)
        assert last.phase == "Running"
        assert not last.ready
        (container,) = last.containers
        assert (container.state, container.restart_count) == ("running", 0)
    assert not bad, bad[:10]


# ------------------------------------------------------------- 3. admission


def test_a_pod_naming_a_missing_service_account_is_refused(capsys):
    """R10.2: 403 Forbidden, the pod is never stored, scheduled or started."""
    result = run("service-account-missing")
    assert result.objects.rejected == ("my-pod",)
    assert "my-pod" not in result.objects.pods
    assert list(result.events["reason"]) == ["Rejected"]
    (message,) = messages(result, "Rejected")
    assert (
        'pods "my-pod" is forbidden: error looking up service account '
        'default/build-robot: serviceaccount "build-robot" not found'
    ) in message
    assert "Forbidden" in message
    assert not result.recorder.statuses
    path = str(SCENARIOS / "service-account-missing.yaml")
    assert main(["get", "pods", path, "--at", "30s"]) == 0
    # kubectl writes "No resources found" to stderr; either stream will do here.
    printed = capsys.readouterr()
    assert "my-pod" not in printed.out
    assert NO_RESOURCES in printed.out + printed.err
    with pytest.raises(PodNotFoundError, match="refused by admission"):
        describe_pod(result, "my-pod", 30)


def token_volumes(pod) -> list[str]:
    return [
        v.name
        for v in pod.volumes
        if v.name.startswith("kube-api-access-") and v.kind is VolumeKind.PROJECTED
    ]


def token_mounts(pod) -> list[tuple[str, bool]]:
    return [
        (m.name, m.read_only)
        for c in (*pod.init_containers, *pod.containers)
        for m in c.volume_mounts
        if m.mount_path == TOKEN_MOUNT
    ]


def test_the_default_service_account_and_its_token_mount():
    """R10.1: no account named -> default; R10.3: token mounted read-only."""
    result = run("service-account-default")
    pod = result.objects.pods["my-pod"]
    assert pod.service_account_name == "default"
    (volume,) = token_volumes(pod)
    assert re.fullmatch(r"kube-api-access-[a-z0-9]{5}", volume)
    assert token_mounts(pod) == [(volume, True)]
    assert first_ready_status(result, "my-pod") is not None


def test_automount_follows_the_pod_then_its_account():
    """R10.3: build-robot turns automount off; the pod's own setting wins."""
    pods = run("service-account-build-robot").objects.pods
    assert {name: pod.service_account_name for name, pod in pods.items()} == {
        "my-pod": "build-robot",
        "token-wanted": "build-robot",
    }
    assert token_volumes(pods["my-pod"]) == []
    assert token_mounts(pods["my-pod"]) == []
    (volume,) = token_volumes(pods["token-wanted"])
    assert token_mounts(pods["token-wanted"]) == [(volume, True)]


def test_changing_the_account_of_a_running_pod_is_refused():
    result = run("service-account-build-robot")
    rejected = rows(result, "Rejected")
    assert list(zip(rejected["time"], rejected["pod"], strict=True)) == [
        (30.0, "my-pod")
    ]
    (message,) = rejected["message"]
    assert 'Pod "my-pod" is invalid: spec: Forbidden: pod updates may not change' in (
        message
    )
    assert result.objects.pods["my-pod"].service_account_name == "build-robot"
    assert "Service Account:  build-robot\n" in describe_pod(result, "my-pod", 40)
    assert not times(result, "Killing")


def test_the_token_controller_fills_and_removes_token_secrets():
    objects = run("service-account-token-secret").objects
    secret = objects.secrets["build-robot-secret"]
    assert secret.type == "kubernetes.io/service-account-token"
    data = dict(secret.data)
    assert {"token", "ca.crt", "namespace"} <= set(data)
    assert data["namespace"] == b"default"
    assert all(data[key] for key in ("token", "ca.crt"))
    assert "ghost-robot-secret" in objects.removed_secrets
    assert "ghost-robot-secret" not in objects.secrets
    assert objects.pods["builder"].service_account_name == "build-robot"


def assert_pulls_and_gets_ready(result: SimulationResult, pod: str) -> None:
    (pulling,) = times(result, "Pulling")
    (pulled,) = rows(result, "Pulled")[["time", "message"]].itertuples(index=False)
    assert pulled.message.startswith("Successfully pulled image ")
    # The stated pull time is the time between Pulling and Pulled.
    found = re.search(r" in ([\d.]+)s \(([\d.]+)s including waiting\)$", pulled.message)
    assert found, pulled.message
    assert float(found[1]) == pytest.approx(pulled.time - pulling, abs=1e-3)
    assert not times(result, "Failed")
    assert not times(result, "FailedToRetrieveImagePullSecret")
    ready = first_ready_status(result, pod)
    assert ready is not None
    assert ready > pulled.time


def test_pull_secrets_of_the_default_account_are_added_and_used():
    """R10.4: a pod listing no pull secrets gets the account's."""
    for seed in SEEDS[:10]:
        result = run("image-pull-secret-default-account", seed)
        pod = result.objects.pods["my-pod"]
        assert pod.service_account_name == "default"
        assert pod.image_pull_secrets == ("myregistrykey",)
        assert_pulls_and_gets_ready(result, "my-pod")


# ------------------------------------------------------ 4. private registry


def test_private_registry_pull_with_regcred():
    for seed in SEEDS[:10]:
        result = run("private-reg", seed)
        assert result.objects.pods["private-reg"].image_pull_secrets == ("regcred",)
        assert "regcred" in result.objects.secrets
        assert_pulls_and_gets_ready(result, "private-reg")


PRIVATE_IMAGE = "yourprivateregistry.com/janedoe/jdoe-private:v1"


def test_missing_pull_secret_warns_then_the_pull_is_refused():
    """R10 (kubelet side) and R8.1: warn, pull anyway, ErrImagePull, back off."""
    result = run("private-reg-missing-secret")
    warning = first(result, "FailedToRetrieveImagePullSecret")
    assert warning is not None
    assert warning <= times(result, "Pulling")[0]
    assert "(regcred)" in messages(result, "FailedToRetrieveImagePullSecret")[0]
    failed = messages(result, "Failed")
    assert failed[0].startswith(f'Failed to pull image "{PRIVATE_IMAGE}": ')
    assert "401 Unauthorized" in failed[0]
    assert failed[1] == "Error: ErrImagePull"
    assert "Error: ImagePullBackOff" in failed
    assert f'Back-off pulling image "{PRIVATE_IMAGE}"' in messages(result, "BackOff")


def test_missing_pull_secret_pod_never_starts():
    for result in runs("private-reg-missing-secret"):
        assert not times(result, "Created")
        assert not times(result, "Started")
        statuses = [s for s in result.recorder.statuses if s.pod == "private-reg"]
        assert statuses
        assert {s.phase for s in statuses} == {"Pending"}
        assert not any(s.ready for s in statuses)
        assert not any(c.started for s in statuses for c in s.containers)


def image_back_off(failures: int) -> float:
    """R8.1: 10 s after the first failure, doubling, capped at 300 s."""
    return min(10.0 * 2 ** (failures - 1), 300.0)


def pull_attempts(result: SimulationResult) -> list[tuple[float, float]]:
    """(start, end) of every pull: Pulling to its ``Failed to pull`` row."""
    starts = times(result, "Pulling")
    failed = rows(result, "Failed")
    ends = failed[failed["message"].str.startswith("Failed to pull image")]["time"]
    assert len(starts) == len(ends)
    return list(zip(starts, (float(t) for t in ends), strict=True))


def test_image_pull_retries_follow_the_back_off():
    """R8.1/R8.2: no pull before the back-off has passed since the end of the last
    failed pull; the pull comes at the first re-sync after it (U[10, 15) s + 1 s
    ticker)."""
    bad: list[str] = []
    for result in runs("private-reg-missing-secret"):
        attempts = pull_attempts(result)
        assert len(attempts) >= 5, f"seed {result.seed}: {len(attempts)} pulls"
        for n, ((_, end), (start, _)) in enumerate(pairwise(attempts), start=1):
            wait = image_back_off(n)
            check_range(
                bad, f"seed {result.seed} gap after pull {n}", start - end,
                wait, wait + RESYNC_MAX,
            )  # fmt: skip
    assert not bad, bad[:10]


def test_get_pods_shows_err_image_pull_then_image_pull_back_off():
    bad: list[str] = []
    for result in runs("private-reg-missing-secret"):
        attempts = pull_attempts(result)
        # Right after the second failed pull; the next sync is >= 10 s away.
        err_at = attempts[1][1] + 1
        # A back-off sync whose previous sync was a back-off too: the status
        # shows ImagePullBackOff whether it is written before or after the sync.
        ev = result.events
        syncs = ev[ev["reason"].isin(["Pulling", "BackOff"])]
        kinds, sync_times = list(syncs["reason"]), list(syncs["time"])
        index = next(
            i for i in range(1, len(kinds)) if kinds[i - 1] == kinds[i] == "BackOff"
        )
        back_off_at = float(sync_times[index]) + 5
        for at, expected in (
            (err_at, "ErrImagePull"),
            (back_off_at, "ImagePullBackOff"),
        ):
            shown = status_column(result, "private-reg", at)
            if shown != expected:
                bad.append(f"seed {result.seed} at {at:.1f}: {shown} != {expected}")
        assert "0/1" in get_pods(result, back_off_at)
    assert not bad, bad[:10]


# ----------------------------------------------------------------- 5. goldens


@dataclass(frozen=True)
class View:
    """One scenario's ``get pods`` and ``describe`` at one instant (seed 1)."""

    name: str
    pod: str | None
    at: int

    def path(self, kind: str) -> Path:
        return GOLDEN / f"{self.name}-{kind}-{self.at}s.txt"


VIEWS = [
    View("liveness-exec", "liveness-exec", 500),  # waiting in CrashLoopBackOff
    View("http-liveness", "liveness-http", 90),  # waiting in CrashLoopBackOff
    View("tcp-liveness-readiness", "goproxy", 60),
    View("named-port", "liveness-named-port", 30),  # after the first restart
    View("readiness-exec", "readiness-exec", 60),  # Running, NotReady
    View("service-account-default", "my-pod", 30),
    View("service-account-build-robot", "my-pod", 40),  # after the refused update
    View("service-account-missing", None, 30),  # refused: nothing to describe
    View("service-account-token-secret", "builder", 30),
    View("image-pull-secret-default-account", "my-pod", 30),
    View("private-reg", "private-reg", 30),
    View("private-reg-missing-secret", "private-reg", 70),  # ImagePullBackOff
    # The traffic scenarios: pods made by Deployments, get pods only.
    View("rolling-update", None, 62),  # in the middle of the rollout
    View("rolling-update-prestop", None, 62),
    View("hung-replica", None, 90),  # the hung replica restarted
    View("cascade-aggressive", None, 150),  # the restart storm
    View("cascade-tolerant", None, 150),
]


def test_every_scenario_has_a_view():
    names = [view.name for view in VIEWS]
    assert sorted(names) == sorted(p.stem for p in SCENARIO_FILES)


def assert_golden(path: Path, text: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}; set PROBESIM_UPDATE_GOLDEN=1"
    assert text == path.read_text()


@pytest.mark.parametrize("view", VIEWS, ids=lambda view: view.name)
def test_get_pods_golden(view, capsys):
    path = str(SCENARIOS / f"{view.name}.yaml")
    text = cli_output(capsys, "get", "pods", path, "--at", f"{view.at}s")
    assert_golden(view.path("get-pods"), text)


@pytest.mark.parametrize(
    "view", [v for v in VIEWS if v.pod], ids=lambda view: view.name
)
def test_describe_golden(view, capsys):
    path = str(SCENARIOS / f"{view.name}.yaml")
    argv = ("describe", path, "--at", f"{view.at}s", "--pod", view.pod)
    assert_golden(view.path("describe"), cli_output(capsys, *argv))


def test_describe_shows_the_host_port_of_the_manifest():
    """kubectl prints ``Host Port: <hostPort>/<protocol>``; the named-port
    manifest sets hostPort 8080 (kubectl shows 0/TCP only when it is unset)."""
    text = describe_pod(run("named-port"), "liveness-named-port", 30)
    assert re.search(r"\n    Port: +8080/TCP\n", text)
    assert re.search(r"\n    Host Port: +8080/TCP\n", text)
