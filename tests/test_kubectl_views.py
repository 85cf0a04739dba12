"""What ``kubectl describe`` and ``kubectl get`` show at an instant of a run.

Golden files in ``tests/golden/`` hold the exact text (checked by hand against what
kubectl prints in those situations). After a deliberate change of the model or
the views, rewrite them with ``PROBESIM_UPDATE_GOLDEN=1 pytest tests/...`` and
read the diff.
"""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

import sim
from sim.analysis.humanize import human_duration, rfc1123z
from sim.analysis.kubectl import (
    EVENT_TTL_SECONDS,
    NO_RESOURCES,
    PodNotFoundError,
    describe_pod,
    describe_pods,
    describe_probe,
    fold_events,
    get_pods,
    get_secrets,
    get_serviceaccounts,
    tabwrite,
)
from sim.cli import main
from sim.scenario.document import Scenario
from sim.scenario.spec import (
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    Probe,
    TCPSocketAction,
    URIScheme,
)
from sim.simulation import SimulationResult
from sim.trace import (
    ContainerStatusRecord,
    EventRecord,
    ListRecorder,
    PodStatusRecord,
    Reason,
    TerminatedRecord,
)

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).resolve().parent / "golden"
SCENARIOS = ROOT / "scenarios"
SEED = 1
UPDATE = os.environ.get("PROBESIM_UPDATE_GOLDEN") == "1"


def run_until(name: str, at: float, seed: int = SEED) -> SimulationResult:
    """Simulate a shipped scenario just past ``at`` (as the CLI does)."""
    scenario = sim.load_scenario(SCENARIOS / f"{name}.yaml")
    return sim.simulate(scenario.with_duration(at + 1e-6), seed)


def assert_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``tests/golden/NAME`` exactly."""
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text)
    assert path.is_file(), f"missing golden file {path}; set PROBESIM_UPDATE_GOLDEN=1"
    assert text == path.read_text()


@pytest.fixture(scope="module")
def liveness_exec() -> SimulationResult:
    return run_until("liveness-exec", 80)


@pytest.fixture(scope="module")
def http_liveness() -> SimulationResult:
    return run_until("http-liveness", 80)


# ------------------------------------------------------------------- goldens


def test_liveness_exec_describe_while_healthy(liveness_exec):
    assert_golden(
        "liveness-exec-describe-35s.txt",
        describe_pod(liveness_exec, "liveness-exec", 35),
    )


def test_liveness_exec_describe_after_the_first_restart(liveness_exec):
    text = describe_pod(liveness_exec, "liveness-exec", 80)
    assert_golden("liveness-exec-describe-80s.txt", text)
    assert "Warning  Unhealthy  34s (x3 over 44s)" in text
    assert "Last State:     Terminated" in text


def test_liveness_exec_get_pods_after_the_first_restart(liveness_exec):
    assert_golden("liveness-exec-get-pods-80s.txt", get_pods(liveness_exec, 80))


def test_goproxy_describe():
    result = run_until("tcp-liveness-readiness", 20)
    assert_golden(
        "tcp-liveness-readiness-describe-20s.txt", describe_pod(result, "goproxy", 20)
    )


def test_http_liveness_in_crash_loop_back_off(http_liveness):
    text = get_pods(http_liveness, 80)
    assert_golden("http-liveness-get-pods-80s.txt", text)
    assert "CrashLoopBackOff" in text
    assert_golden(
        "http-liveness-describe-80s.txt",
        describe_pod(http_liveness, "liveness-http", 80),
    )


def test_an_earlier_instant_of_a_longer_run_is_the_same(liveness_exec):
    shorter = run_until("liveness-exec", 35)
    assert describe_pod(shorter, "liveness-exec", 35) == describe_pod(
        liveness_exec, "liveness-exec", 35
    )


# ------------------------------------------------------------ human durations


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "<invalid>"),
        (-1.5, "0s"),
        (0, "0s"),
        (0.9, "0s"),
        (45, "45s"),
        (119.99, "119s"),
        (120, "2m"),
        (147, "2m27s"),
        (300, "5m"),
        (599, "9m59s"),
        (600, "10m"),
        (5700, "95m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 600, "3h10m"),
        (8 * 3600 - 1, "7h59m"),
        (8 * 3600, "8h"),
        (20 * 3600 + 59 * 60, "20h"),
        (48 * 3600, "2d"),
        (76 * 3600 + 5, "3d4h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (731 * 86400, "2y1d"),
        (8 * 365 * 86400, "8y"),
    ],
)
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_timestamps_start_at_the_epoch_and_are_cut_to_the_second():
    assert rfc1123z(0) == "Thu, 01 Jan 2026 00:00:00 +0000"
    assert rfc1123z(79.99) == "Thu, 01 Jan 2026 00:01:19 +0000"
    assert rfc1123z(86400 * 31 + 3600) == "Sun, 01 Feb 2026 01:00:00 +0000"


# --------------------------------------------------------------- tab columns


def test_tabwrite_aligns_each_run_of_lines_separately():
    text = "Name:\tweb\nNamespace:\tdefault\nContainers:\n  a:\tb\n"
    assert tabwrite(text) == (
        "Name:       web\nNamespace:  default\nContainers:\n  a:  b\n"
    )


def test_tabwrite_nested_columns_and_minimum_width():
    text = "NAME\tREADY\tAGE\nweb\t1/1\t5s\n"
    assert tabwrite(text, min_width=6, padding=3) == (
        "NAME   READY   AGE\nweb    1/1     5s\n"
    )
    # A line with fewer cells ends the second column's run, not the first's.
    assert tabwrite("a\tb\tc\nlonger\td\nx\tyyyyyy\tz\n") == (
        "a       b  c\nlonger  d\nx       yyyyyy  z\n"
    )


# ------------------------------------------------------------ event folding


def event(time, reason, message="", container="app", pod="web"):
    return EventRecord(time, pod, container, reason, message=message)


def test_identical_events_fold_into_one_with_a_count():
    unhealthy = "Liveness probe failed: boom"
    records = [
        event(0.0, Reason.SCHEDULED, "Successfully assigned default/web to node-1", ""),
        event(1.2, Reason.STARTED, "Started container app"),
        event(12.5, Reason.PROBE, "duration=0.001000s"),
        event(12.5, Reason.UNHEALTHY, unhealthy),
        event(17.5, Reason.UNHEALTHY, unhealthy),
        event(22.9, Reason.UNHEALTHY, unhealthy),
        event(22.9, Reason.CONTAINER_NOT_READY),
        event(22.9, Reason.EXITED, "exit code 137 (Error)"),
    ]
    events = fold_events(records)
    assert [(e.type, e.reason, e.source, e.count) for e in events] == [
        ("Normal", "Scheduled", "default-scheduler", 1),
        ("Normal", "Started", "kubelet", 1),
        ("Warning", "Unhealthy", "kubelet", 3),
    ]
    assert events[-1].age(34.5) == "12s (x3 over 22s)"
    assert events[1].age(34.5) == "33s"


def test_same_reason_and_message_of_another_container_is_another_event():
    records = [
        event(1, Reason.STARTED, "Started", container="a"),
        event(2, Reason.STARTED, "Started", container="b"),
    ]
    assert [e.count for e in fold_events(records)] == [1, 1]


def test_the_tenth_distinct_message_of_a_reason_is_combined():
    records = [event(i, Reason.PULLED, f"pulled in {i}s") for i in range(12)]
    events = fold_events(records)
    assert len(events) == 10
    combined = events[-1]
    assert combined.message == "(combined from similar events): pulled in 11s"
    assert combined.count == 3
    assert combined.first_timestamp == 9


def test_similar_messages_ten_minutes_apart_are_not_combined():
    records = [event(i * 601, Reason.PULLED, f"pulled {i}") for i in range(12)]
    assert all("combined" not in e.message for e in fold_events(records))


def test_spam_filter_drops_after_25_events_and_counts_what_it_dropped():
    records = [event(i, Reason.UNHEALTHY, f"failure {i}") for i in range(5)]
    records += [
        event(10 + i, Reason.KILLING, "Stopping container app") for i in range(25)
    ]
    records.append(event(400, Reason.KILLING, "Stopping container app"))
    killing = [e for e in fold_events(records) if e.reason == "Killing"]
    assert len(killing) == 1
    # 20 written (5 + 20 = the burst of 25), 5 dropped, then one more after a
    # token came back: the count jumps to 26.
    assert killing[0].count == 26
    assert killing[0].last_timestamp == 400
    assert killing[0].first_timestamp == 10


def test_events_expire_an_hour_after_their_last_write():
    records = [event(10, Reason.STARTED, "Started container app")]
    assert fold_events(records, now=10 + EVENT_TTL_SECONDS)
    assert not fold_events(records, now=11 + EVENT_TTL_SECONDS)


def test_events_are_sorted_by_last_timestamp_then_creation():
    records = [
        event(1.0, Reason.PULLING, "Pulling image"),
        event(2.0, Reason.CREATED, "Created container: app"),
        event(50.2, Reason.PULLING, "Pulling image"),
        event(50.7, Reason.PULLED, "Pulled in 0.5s"),
        event(50.9, Reason.CREATED, "Created container: app"),
    ]
    assert [e.reason for e in fold_events(records)] == [
        "Pulling",
        "Created",
        "Pulled",
    ]


def test_image_pull_back_off_is_normal_container_back_off_a_warning():
    records = [
        event(1, Reason.BACK_OFF, 'Back-off pulling image "nginx:nope"'),
        event(2, Reason.BACK_OFF, "Back-off restarting failed container app in pod"),
    ]
    assert [e.type for e in fold_events(records)] == ["Normal", "Warning"]


# -------------------------------------------------------------------- probes


@pytest.mark.parametrize(
    ("handler", "text"),
    [
        (ExecAction(("cat", "/tmp/healthy")), "exec [cat /tmp/healthy]"),
        (HTTPGetAction(8080, "/healthz"), "http-get http://:8080/healthz"),
        (
            HTTPGetAction("http", "/", "10.0.0.1", URIScheme.HTTPS),
            "http-get https://10.0.0.1:http/",
        ),
        (HTTPGetAction(80, "/", "::1"), "http-get http://[::1]:80/"),
        (TCPSocketAction(8080), "tcp-socket :8080"),
        (GRPCAction(9090), "grpc <pod>:9090 "),
        (GRPCAction(9090, "health"), "grpc <pod>:9090 health"),
    ],
)
def test_describe_probe(handler, text):
    probe = Probe(handler, initial_delay_seconds=5, period_seconds=5)
    attrs = "delay=5s timeout=1s period=5s #success=1 #failure=3"
    assert describe_probe(probe) == f"{text} {attrs}"


# ------------------------------------------------- synthetic pod statuses


POD = """\
apiVersion: v1
kind: Pod
metadata: {name: NAME}
spec:
  containers:
  - {name: app, image: busybox}
  - {name: side, image: busybox}
---
"""
SCENARIO = """\
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: synthetic}
spec:
  duration: 10m
  actions:
  - {at: 50s, delete: {pod: gone, gracePeriodSeconds: 10}}
"""


def container(name="app", state="running", reason="", **fields):
    values = {
        "container_id": f"containerd://x-{name}-0",
        "message": "",
        "started_at": 2.0,
        "finished_at": float("nan"),
        "exit_code": 0,
        "last_state": None,
        "restart_count": 0,
        "ready": state == "running",
        "started": state != "waiting",
    }
    values.update(fields)
    return ContainerStatusRecord(name=name, state=state, reason=reason, **values)


def status(pod, *containers, phase="Running", time=3.0, deleting=None):
    ready = all(c.ready for c in containers)
    return PodStatusRecord(
        time, pod, phase, ready, ready, (), tuple(containers), deleting
    )


@pytest.fixture
def synthetic() -> SimulationResult:
    """A hand-made run: pods in the states kubectl's printer distinguishes."""
    names = ("web", "crash", "done", "gone", "later")
    scenario = Scenario.from_yaml(
        "".join(POD.replace("NAME", n) for n in names) + SCENARIO
    )
    recorder = ListRecorder()
    for name in names[:-1]:
        recorder.record(event(0.0, Reason.SCHEDULED, "Successfully", "", pod=name))
        recorder.record(event(0.5, Reason.PULLED, "present", pod=name))
    last = TerminatedRecord(1, "Error", 2.0, 30.4)
    for record in (
        status("web", container(), container("side")),
        status(
            "crash",
            container(
                "app", "waiting", "CrashLoopBackOff", last_state=last, restart_count=2
            ),
            container("side", "terminated", exit_code=3, finished_at=20.0),
        ),
        status(
            "done",
            container(state="terminated", reason="Completed", finished_at=9.0),
            container("side"),
        ),
        status("gone", container(), container("side"), deleting=50.0, time=50.0),
    ):
        recorder.record_status(record)
    recorder.record(event(50.0, Reason.KILLING, "Stopping container app", pod="gone"))
    recorder.record(event(70.0, Reason.DELETED, "pod gone deleted", "", pod="gone"))
    return SimulationResult(scenario, SEED, recorder=recorder)


def test_get_pods_status_column(synthetic):
    assert get_pods(synthetic, 60) == textwrap.dedent("""\
        NAME    READY   STATUS             RESTARTS      AGE
        crash   0/2     CrashLoopBackOff   2 (30s ago)   60s
        done    1/2     NotReady           0             60s
        gone    2/2     Terminating        0             60s
        web     2/2     Running            0             60s
        """)


def test_get_pods_leaves_out_deleted_and_not_yet_created_pods(synthetic):
    assert "gone" not in get_pods(synthetic, 70)
    assert "later" not in get_pods(synthetic, 70)
    assert get_pods(synthetic, 70, pods=["gone", "later"]) == NO_RESOURCES + "\n"


def test_exit_code_when_a_terminated_container_has_no_reason(synthetic):
    # The first container's state wins: printPod walks them from the last.
    assert "CrashLoopBackOff" in get_pods(synthetic, 60, pods=["crash"])
    synthetic.recorder.statuses[1] = status(
        "crash", container(state="terminated", exit_code=3, finished_at=20.0)
    )
    assert "ExitCode:3" in get_pods(synthetic, 60, pods=["crash"])


def test_describe_a_terminating_pod(synthetic):
    text = describe_pod(synthetic, "gone", 55)
    # deletionTimestamp is the request time plus the grace period: kubectl
    # prints a negative age as <invalid> until the grace period is over.
    assert "Status:                    Terminating (lasts <invalid>)" in text
    assert "Termination Grace Period:  10s" in text
    assert "Terminating (lasts 5s)" in describe_pod(synthetic, "gone", 65)


def test_describe_a_deleted_pod_shows_its_events(synthetic):
    text = describe_pod(synthetic, "gone", 80)
    assert text.startswith(
        "Pod 'gone': error 'pods \"gone\" not found', but found events.\nEvents:\n"
    )
    assert "Stopping container app" in text


def test_describe_a_pod_not_created_yet(synthetic):
    with pytest.raises(PodNotFoundError, match="not created yet"):
        describe_pod(synthetic, "later", 10)
    with pytest.raises(KeyError):
        describe_pod(synthetic, "nope", 10)


def test_describe_pods_separates_pods_as_kubectl_does(synthetic):
    text = describe_pods(synthetic, 80)
    assert text.count("\n\n\nName:") == 2  # crash, done, web
    assert "Name:             gone" not in text


def test_service_accounts_and_secrets_are_the_api_servers():
    scenario = Scenario.from_yaml(
        textwrap.dedent("""\
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: build-robot}
        secrets: [{name: a}, {name: b}]
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: app-config}
        data: {user: YWRtaW4=}
        stringData: {password: s3cret, user: admin}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {name: tls}
        type: kubernetes.io/tls
        data: {tls.crt: YQ==, tls.key: Yg==}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: web}
        spec:
          containers: [{name: web, image: nginx}]
        ---
        apiVersion: probesim/v1alpha1
        kind: Scenario
        metadata: {name: objects}
        spec: {duration: 1m}
        """)
    )
    result = sim.simulate(scenario, SEED)
    assert get_serviceaccounts(result, 30) == textwrap.dedent("""\
        NAME          SECRETS   AGE
        build-robot   2         30s
        default       0         30s
        """)
    assert get_secrets(result, 7200) == textwrap.dedent("""\
        NAME         TYPE                DATA   AGE
        app-config   Opaque              2      120m
        tls          kubernetes.io/tls   2      120m
        """)
    # A result nobody simulated holds no API objects at all.
    empty = SimulationResult(scenario, SEED)
    assert get_serviceaccounts(empty, 30) == NO_RESOURCES + "\n"
    assert get_secrets(empty, 30) == NO_RESOURCES + "\n"


def test_get_secrets_after_the_token_controller():
    result = run_until("service-account-token-secret", 30)
    assert "ghost-robot-secret" in result.objects.removed_secrets
    assert get_secrets(result, 30) == textwrap.dedent("""\
        NAME                 TYPE                                  DATA   AGE
        build-robot-secret   kubernetes.io/service-account-token   3      30s
        """)


def test_token_mount_follows_the_pod_then_its_account():
    result = run_until("service-account-build-robot", 40)
    opted_out = describe_pod(result, "my-pod", 40)
    assert "Service Account:  build-robot\n" in opted_out
    assert "    Mounts:         <none>\n" in opted_out
    assert "\nVolumes:                      <none>\n" in opted_out
    assert "kube-api-access-" not in opted_out

    wanted = describe_pod(result, "token-wanted", 40)
    volume = result.objects.pods["token-wanted"].volumes[-1].name
    assert volume.startswith("kube-api-access-")
    mount = f"/var/run/secrets/kubernetes.io/serviceaccount from {volume} (ro)"
    assert f"    Mounts:\n      {mount}\n" in wanted
    assert f"\nVolumes:\n  {volume}:\n" in wanted
    assert "    TokenExpirationSeconds:  3607\n" in wanted


def test_a_pod_refused_by_admission_is_not_found():
    result = run_until("service-account-missing", 30)
    assert result.objects.rejected == ("my-pod",)
    with pytest.raises(PodNotFoundError, match="refused by admission"):
        describe_pod(result, "my-pod", 30)
    assert get_pods(result, 30) == NO_RESOURCES + "\n"
    assert describe_pods(result, 30) == NO_RESOURCES + "\n"


def test_an_earlier_instant_shows_the_image_before_set_image():
    text = (SCENARIOS / "liveness-exec.yaml").read_text()
    set_image = (
        "  seed: 1\n  actions:\n"
        "  - {at: 50s, setImage: {pod: liveness-exec, container: liveness,"
        " image: registry.k8s.io/busybox:1.37}}\n"
    )
    scenario = Scenario.from_yaml(text.replace("  seed: 1\n", set_image))
    longer = sim.simulate(scenario.with_duration(80.000001), SEED)
    shorter = sim.simulate(scenario.with_duration(30.000001), SEED)
    before = describe_pod(longer, "liveness-exec", 30)
    assert before == describe_pod(shorter, "liveness-exec", 30)
    assert "registry.k8s.io/busybox:1.37" not in before
    after = describe_pod(longer, "liveness-exec", 80)
    assert re.search(r"\n    Image: +registry\.k8s\.io/busybox:1\.37\n", after)


# ----------------------------------------------------------------------- CLI


def test_cli_describe_matches_the_golden_file(capsys):
    argv = ["describe", str(SCENARIOS / "liveness-exec.yaml"), "--at", "80s"]
    assert main([*argv, "--seed", str(SEED)]) == 0
    golden = GOLDEN / "liveness-exec-describe-80s.txt"
    assert capsys.readouterr().out == golden.read_text()


def test_cli_get_pods_matches_the_golden_file(capsys):
    argv = ["get", "pods", str(SCENARIOS / "http-liveness.yaml"), "--at", "80s"]
    assert main([*argv, "--seed", str(SEED)]) == 0
    golden = GOLDEN / "http-liveness-get-pods-80s.txt"
    assert capsys.readouterr().out == golden.read_text()


def test_cli_get_accepts_kubectl_short_names(capsys):
    path = str(SCENARIOS / "liveness-exec.yaml")
    assert main(["get", "sa", path, "--at", "1m"]) == 0
    accounts = "NAME      SECRETS   AGE\ndefault   0         60s\n"
    assert capsys.readouterr().out == accounts
    assert main(["get", "po", path, "--at", "0"]) == 0
    assert "ContainerCreating" in capsys.readouterr().out
    assert main(["describe", path, "--at", "10s", "--pod", "liveness-exec"]) == 0
    assert capsys.readouterr().out.startswith("Name:             liveness-exec\n")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["get", "pods", "{path}", "--at", "5x"], 'unknown unit "x"'),
        (["get", "pods", "{path}", "--at=-5s"], "must not be negative"),
        (["get", "pdos", "{path}", "--at", "5s"], 'did you mean "pods"?'),
        (
            ["describe", "{path}", "--pod", "liveness-exce"],
            'did you mean "liveness-exec"?',
        ),
        (["describe", "{path}", "--seed", "-1"], "--seed must be 0 or more"),
        (["describe", "{missing}"], "missing.yaml"),
    ],
)
def test_cli_invalid_input_exits_2(capsys, argv, message):
    paths = {
        "path": str(SCENARIOS / "liveness-exec.yaml"),
        "missing": str(SCENARIOS / "missing.yaml"),
    }
    assert main([arg.format(**paths) for arg in argv]) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert "Traceback" not in captured.err
    assert captured.out == ""


def test_cli_describe_a_pod_that_does_not_exist_then(capsys, tmp_path):
    scenario = tmp_path / "later.yaml"
    text = (SCENARIOS / "liveness-exec.yaml").read_text()
    created_later = (
        "  seed: 1\n  actions:\n  - {at: 1m, create: {pod: liveness-exec}}\n"
    )
    scenario.write_text(text.replace("  seed: 1\n", created_later))
    assert (
        main(["describe", str(scenario), "--at", "30s", "--pod", "liveness-exec"]) == 2
    )
    assert 'pods "liveness-exec" not found at 30s (not created yet)' in (
        capsys.readouterr().err
    )
    assert main(["get", "pods", str(scenario), "--at", "30s"]) == 0
    # As kubectl does, the "no resources" line goes to stderr.
    assert capsys.readouterr().err == NO_RESOURCES + "\n"


def test_cli_describe_a_pod_refused_by_admission_exits_2(capsys):
    path = str(SCENARIOS / "service-account-missing.yaml")
    assert main(["describe", path, "--at", "30s", "--pod", "my-pod"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        'Error from server (NotFound): pods "my-pod" not found at 30s '
        "(refused by admission)"
    ) in captured.err
