"""One probe attempt (``run_probe``) against R2.4 and R4.1-R4.5.

Each test builds a container, an ``Application`` from a behaviour, and runs one
attempt at a fixed uptime; the outcome is a result, a duration and a message.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.kube.application import Application
from sim.kube.prober.prober import (
    ProbeOutcome,
    ProbeTarget,
    request_headers,
    resolve_port,
    run_probe,
)
from sim.kube.versions import VersionError, resolve
from sim.scenario.behaviour import (
    Behaviour,
    Distribution,
    ExecBehaviour,
    FileBehaviour,
    GRPCBehaviour,
    HTTPBehaviour,
    Phase,
    TCPBehaviour,
    Window,
)
from sim.scenario.document import ClusterSpec, Fault, FaultKind
from sim.scenario.spec import (
    Container,
    ContainerPort,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    HTTPHeader,
    Probe,
    TCPSocketAction,
)
from sim.trace import ProbeResult

POD_IP = "10.244.0.9"
INSTANCE = "containerd://p-app-0"
NOW = 100.0
FAST = 0.01  # "immediate": refused connections, handshakes
S, F, W, E = (
    ProbeResult.SUCCESS,
    ProbeResult.FAILURE,
    ProbeResult.WARNING,
    ProbeResult.ERROR,
)


def attempt(
    handler: object,
    behaviour: Behaviour,
    *,
    timeout: int = 1,
    ports: tuple[ContainerPort, ...] = (),
    version: str = "1.35",
    gates: tuple[tuple[str, bool], ...] = (),
    hang: bool = False,
) -> ProbeOutcome:
    """Run one attempt of a probe with ``handler`` at uptime 5 s."""
    container = Container("app", "x:1", ports=ports)
    app = Application(container, behaviour, np.random.default_rng(0))
    if hang:
        app.apply_fault(Fault(FaultKind.HANG, "p", "app"), NOW - 1, INSTANCE)
    features = resolve(ClusterSpec(kubernetes_version=version, feature_gates=gates))
    probe = Probe(handler, timeout_seconds=timeout)  # type: ignore[arg-type]
    target = ProbeTarget(container, POD_IP, app, INSTANCE, 5.0, NOW)
    return run_probe(probe, target, features)


def answer(status: int = 200, latency: float | None = None, **fields: object) -> Phase:
    if latency is not None:
        fields["latency"] = Distribution.constant(latency)
    return Phase(status, **fields)  # type: ignore[arg-type]


def web(*entries: tuple[int, str, Phase]) -> Behaviour:
    """An application answering HTTP (port, path) with one phase each."""
    return Behaviour(
        "app",
        http=tuple(HTTPBehaviour(port, path, (ph,)) for port, path, ph in entries),
    )


def get(path: str = "/h", port: int | str = 8080, **fields: object) -> HTTPGetAction:
    return HTTPGetAction(port, path, **fields)  # type: ignore[arg-type]


# R4.2 HTTP: status mapping, refused, timeouts.


@pytest.mark.parametrize(
    ("status", "result"),
    [(200, S), (201, S), (204, S), (299, S), (400, F), (404, F), (500, F), (503, F)],
)
def test_http_status_mapping(status: int, result: ProbeResult) -> None:
    out = attempt(get(), web((8080, "/h", answer(status))))
    assert out.result is result
    if result is F:
        assert out.message == f"HTTP probe failed with statuscode: {status}"


@pytest.mark.parametrize("status", [304, 399])
def test_http_other_3xx_counts_as_success(status: int) -> None:
    # [200, 400) succeeds; a 3xx that is not followed may come back as a Warning,
    # which counts as a Success (R4.1).
    out = attempt(get(), web((8080, "/h", answer(status))))
    assert out.result in (S, W)


def test_http_refused_fails_at_once() -> None:
    out = attempt(get(port=9090), web((8080, "/h", answer())))
    assert out.result is F
    assert out.duration_seconds <= FAST
    assert "connection refused" in out.message


@pytest.mark.parametrize(
    ("phase", "timeout"),
    [
        (answer(200, latency=2.0), 1),
        (answer(200, latency=5.0), 3),
        (answer(500, latency=4.0), 2),
        (answer(200, hang=True), 1),
        (answer(200, hang=True), 4),
    ],
)
def test_http_slow_or_hung_fails_at_timeout(phase: Phase, timeout: int) -> None:
    out = attempt(get(), web((8080, "/h", phase)), timeout=timeout)
    assert out.result is F
    assert out.duration_seconds == pytest.approx(timeout)


def test_http_answer_within_timeout_takes_its_latency() -> None:
    out = attempt(get(), web((8080, "/h", answer(200, latency=0.4))))
    assert (out.result, out.duration_seconds) == (S, pytest.approx(0.4))


def test_http_hang_fault_fails_at_timeout() -> None:
    out = attempt(get(), web((8080, "/h", answer())), timeout=2, hang=True)
    assert (out.result, out.duration_seconds) == (F, pytest.approx(2))


def test_http_timeout_covers_the_redirects() -> None:
    # T bounds the whole request: two 0.6 s answers exceed T = 1 s.
    app = web(
        (8080, "/h", answer(302, latency=0.6, location="/b")),
        (8080, "/b", answer(200, latency=0.6)),
    )
    out = attempt(get(), app)
    assert (out.result, out.duration_seconds) == (F, pytest.approx(1.0))


# R4.2 redirects.


@pytest.mark.parametrize(
    ("location", "result"),
    [
        ("/b", F),  # relative: same host, followed to /b (500)
        (f"http://{POD_IP}:8080/b", F),  # absolute, same host
        (f"http://{POD_IP}:9090/b", S),  # same host, other port: followed
        (f"https://{POD_IP}:9090/b", S),  # scheme change: followed
    ],
)
def test_same_host_redirect_is_followed(location: str, result: ProbeResult) -> None:
    app = web(
        (8080, "/h", answer(302, location=location)),
        (8080, "/b", answer(500)),
        (9090, "/b", answer(200)),
    )
    out = attempt(get(), app)
    assert out.result is result
    if result is F:
        assert out.message == "HTTP probe failed with statuscode: 500"


def test_same_host_redirect_without_port_uses_the_scheme_default() -> None:
    # The redirect goes where its URL says: no port in an http URL means 80.
    app = web(
        (8080, "/h", answer(302, location=f"http://{POD_IP}/b")),
        (8080, "/b", answer(500)),
        (80, "/b", answer(200)),
    )
    assert attempt(get(), app).result is S


def test_foreign_host_redirect_is_a_warning() -> None:
    app = web(
        (8080, "/h", answer(302, location="http://example.com/login", output="moved")),
        (8080, "/login", answer(500)),
    )
    out = attempt(get(), app)
    assert out.result is W
    assert out.message.startswith("Probe terminated redirects, Response body: ")


@pytest.mark.parametrize(("redirects", "result"), [(1, S), (9, S), (10, F), (12, F)])
def test_redirect_limit(redirects: int, result: ProbeResult) -> None:
    # /r0 -> /r1 -> ... -> /rN answering 200: at most 9 redirects are followed.
    chain = [
        (8080, f"/r{i}", answer(301, location=f"/r{i + 1}")) for i in range(redirects)
    ]
    app = web(*chain, (8080, f"/r{redirects}", answer(200)))
    assert attempt(get("/r0"), app).result is result


# R4.2 default headers.


def _headers(*user: tuple[str, str], version: str = "1.35") -> list[tuple[str, str]]:
    action = get(http_headers=tuple(HTTPHeader(n, v) for n, v in user))
    features = resolve(ClusterSpec(kubernetes_version=version))
    return sorted((h.name.lower(), h.value) for h in request_headers(action, features))


@pytest.mark.parametrize("version", ["1.27", "1.31", "1.35"])
def test_default_headers(version: str) -> None:
    agent = f"kube-probe/1.{version.split('.')[1]}"
    assert _headers(version=version) == [("accept", "*/*"), ("user-agent", agent)]


def test_user_headers_win_and_are_kept() -> None:
    assert _headers(("User-Agent", "mine"), ("accept", "text/plain"), ("X-A", "1")) == [
        ("accept", "text/plain"),
        ("user-agent", "mine"),
        ("x-a", "1"),
    ]


def test_empty_accept_removes_the_header() -> None:
    assert _headers(("Accept", "")) == [("user-agent", "kube-probe/1.35")]


# R4.3 TCP.

LISTENING = Behaviour("app", tcp=(TCPBehaviour(8080, (Window(),)),))


def test_tcp_connect_succeeds() -> None:
    out = attempt(TCPSocketAction(8080), LISTENING)
    assert out.result is S
    assert out.duration_seconds <= FAST


def test_tcp_passes_on_a_hung_application() -> None:
    # The kernel completes the handshake without the process.
    assert attempt(TCPSocketAction(8080), LISTENING, hang=True).result is S
    # ... while HTTP on the same hung process times out.
    app = Behaviour("app", http=(HTTPBehaviour(8080, "/h", (answer(),)),))
    assert attempt(get(), app, hang=True).result is F


@pytest.mark.parametrize(
    "behaviour",
    [
        Behaviour("app", tcp=(TCPBehaviour(8080, (Window(0, 3),)),)),  # closed at 5 s
        Behaviour("app", tcp=(TCPBehaviour(9090, (Window(),)),)),  # other port
    ],
)
def test_tcp_refused_fails_at_once(behaviour: Behaviour) -> None:
    out = attempt(TCPSocketAction(8080), behaviour, timeout=5)
    assert out.result is F
    assert out.duration_seconds <= FAST


# R4.4 exec.


def _exec(code: int = 0, latency: float | None = None, **kw: object) -> Behaviour:
    phase = answer(code, latency=latency, **kw)
    return Behaviour("app", exec=(ExecBehaviour(("check",), (phase,)),))


@pytest.mark.parametrize(
    ("code", "result"), [(0, S), (1, F), (2, F), (126, F), (137, F)]
)
def test_exec_exit_code_mapping(code: int, result: ProbeResult) -> None:
    assert attempt(ExecAction(("check",)), _exec(code)).result is result


def test_exec_missing_file() -> None:
    app = Behaviour("app", files=(FileBehaviour("/tmp/ok", (Window(0, 3),)),))
    out = attempt(ExecAction(("cat", "/tmp/ok")), app)
    assert out.result is F
    assert out.message == "cat: can't open '/tmp/ok': No such file or directory"
    app = Behaviour("app", files=(FileBehaviour("/tmp/ok", (Window(0, 30),)),))
    assert attempt(ExecAction(("cat", "/tmp/ok")), app).result is S


@pytest.mark.parametrize("version", ["1.27", "1.34", "1.35"])
@pytest.mark.parametrize("behaviour", [_exec(0, latency=3.0), _exec(0, hang=True)])
def test_exec_timeout_fails_at_t(version: str, behaviour: Behaviour) -> None:
    # ExecProbeTimeout on (default since 1.20, locked in 1.35): Failure at T.
    out = attempt(ExecAction(("check",)), behaviour, timeout=2, version=version)
    assert (out.result, out.duration_seconds) == (F, pytest.approx(2))


def test_exec_hang_fault_fails_at_t() -> None:
    out = attempt(ExecAction(("check",)), _exec(0), timeout=2, hang=True)
    assert (out.result, out.duration_seconds) == (F, pytest.approx(2))


GATE_OFF = (("ExecProbeTimeout", False),)


@pytest.mark.parametrize(("code", "result"), [(0, S), (1, F)])
def test_exec_without_timeout_gate_waits_for_the_command(
    code: int, result: ProbeResult
) -> None:
    out = attempt(
        ExecAction(("check",)),
        _exec(code, latency=30.0),
        version="1.34",
        gates=GATE_OFF,
    )
    assert (out.result, out.duration_seconds) == (result, pytest.approx(30.0))


def test_exec_without_timeout_gate_errors_at_the_cri_deadline() -> None:
    # The runtime call gives up at T + 2 min with an error (R4.4); an error is
    # retried back to back up to 3 times (R4.1, maxProbeRetries) and discarded.
    out = attempt(
        ExecAction(("check",)), _exec(0, hang=True), version="1.34", gates=GATE_OFF
    )
    assert out.result is E
    assert out.duration_seconds == pytest.approx(3 * (1 + 120))


def test_exec_timeout_gate_is_locked_in_1_35() -> None:
    with pytest.raises(VersionError):
        resolve(ClusterSpec(kubernetes_version="1.35", feature_gates=GATE_OFF))


# R4.5 gRPC.


def _grpc(*phases: Phase, port: int = 9000) -> Behaviour:
    return Behaviour("app", grpc=(GRPCBehaviour(port, None, phases),))


@pytest.mark.parametrize(("status", "result"), [(1, S), (2, F), (0, F), (3, F)])
def test_grpc_serving_status(status: int, result: ProbeResult) -> None:
    out = attempt(GRPCAction(9000), _grpc(answer(status)), timeout=3)
    assert out.result is result
    assert out.duration_seconds <= FAST


@pytest.mark.parametrize(
    ("behaviour", "hang"),
    [
        (_grpc(answer(1), port=9001), False),  # nothing listens on 9000
        (_grpc(answer(1, hang=True)), False),
        (_grpc(answer(1)), True),  # hang fault
        (_grpc(answer(1, latency=5.0)), False),
    ],
)
def test_grpc_fails_only_at_timeout(behaviour: Behaviour, hang: bool) -> None:
    # The dial blocks: a closed port is reported after the full T (unlike TCP).
    out = attempt(GRPCAction(9000), behaviour, timeout=3, hang=hang)
    assert (out.result, out.duration_seconds) == (F, pytest.approx(3))


# R2.4 named ports.

NAMED = (ContainerPort(8080, "web"), ContainerPort(9090, "admin"))


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        (8080, 8080),
        ("web", 8080),
        ("admin", 9090),
        ("8080", 8080),  # not a name of this container: parsed as a number
        ("metrics", None),
        ("0", None),
        ("65536", None),
        (70000, None),
    ],
)
def test_resolve_port(port: int | str, expected: int | None) -> None:
    assert resolve_port(port, Container("app", "x:1", ports=NAMED)) == expected


def test_port_name_of_another_container_is_not_resolved() -> None:
    # Only the probing container's own ports are searched.
    assert resolve_port("web", Container("sidecar", "y:1")) is None


@pytest.mark.parametrize(
    ("handler", "behaviour"),
    [
        (get(port="web"), web((8080, "/h", answer()))),
        (TCPSocketAction("web"), LISTENING),
    ],
)
def test_named_port_probes(handler: object, behaviour: Behaviour) -> None:
    assert attempt(handler, behaviour, ports=NAMED).result is S


@pytest.mark.parametrize(
    ("handler", "behaviour"),
    [
        (get(port="metrics"), web((8080, "/h", answer()))),
        (TCPSocketAction("metrics"), LISTENING),
    ],
)
def test_unknown_port_name_is_an_error(handler: object, behaviour: Behaviour) -> None:
    out = attempt(handler, behaviour, ports=NAMED)
    assert out.result is E
    assert math.isfinite(out.duration_seconds)
    assert out.duration_seconds <= FAST


def test_tcp_handshake_ignores_a_slow_application() -> None:
    # R4.3: the kernel answers the handshake; the application's speed is not
    # involved, as for a hung process.
    container = Container("app", "x:1")
    app = Application(container, LISTENING, np.random.default_rng(0))
    slow = Fault(FaultKind.SLOW, "p", "app", latency=Distribution.constant(2.0))
    app.apply_fault(slow, NOW - 1, INSTANCE)
    features = resolve(ClusterSpec())
    target = ProbeTarget(container, POD_IP, app, INSTANCE, 5.0, NOW)
    out = run_probe(Probe(TCPSocketAction(8080)), target, features)
    assert out.result is S
    assert out.duration_seconds <= FAST


# An exited process still shown Running (the status is refreshed at the next sync).


@pytest.mark.parametrize(
    ("handler", "result", "duration"),
    [
        (ExecAction(("check",)), E, 0.0),  # the runtime refuses: error (R4.4)
        (get(), F, 0.0),  # nothing listens: refused at once (R4.2)
        (TCPSocketAction(8080), F, 0.0),  # refused at once (R4.3)
        (GRPCAction(9000), F, 3.0),  # the blocking dial waits for T (R4.5)
    ],
)
def test_attempt_against_an_exited_process(
    handler: object, result: ProbeResult, duration: float
) -> None:
    container = Container("app", "x:1")
    app = Application(container, Behaviour("app"), np.random.default_rng(0))
    target = ProbeTarget(container, POD_IP, app, INSTANCE, 5.0, NOW, alive=False)
    probe = Probe(handler, timeout_seconds=3)  # type: ignore[arg-type]
    out = run_probe(probe, target, resolve(ClusterSpec()))
    assert out.result is result
    assert out.duration_seconds == pytest.approx(duration, abs=FAST)
