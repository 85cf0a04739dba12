"""One probe attempt: handler, timeout and result mapping (prober.go ``runProbe``).

``run_probe`` is a pure computation: given the probe, the application and the instance's
uptime it returns the result, how long the attempt took and the message the kubelet
would put in its event. The worker waits for that duration on the simulated clock.
"""

from __future__ import annotations

import dataclasses
import math
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from sim.kube.application import (
    Answer,
    AnswerKind,
    Application,
    own_latency,
)
from sim.kube.versions import KubeletFeatures
from sim.scenario.behaviour import (
    Distribution,
    DistributionKind,
    Phase,
    RandomSource,
)
from sim.scenario.spec import (
    Container,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    HTTPHeader,
    Probe,
    TCPSocketAction,
)
from sim.trace import SLOW_BUT_HEALTHY, ProbeResult

# prober.go maxProbeRetries: an error is retried back to back this many times.
MAX_PROBE_RETRIES = 3
# The CRI runtime request timeout added to an exec's deadline (R4.4, legacy path).
RUNTIME_REQUEST_TIMEOUT_SECONDS = 120.0
# http.go: the redirect limit trips on the tenth redirect response.
MAX_REDIRECT_RESPONSES = 10

DEFAULT_PORTS = {"http": 80, "https": 443}
GRPC_STATUS_NAMES = {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}


# NOTE: ProbeOutcome and ProbeTarget are made once per attempt, and a frozen
# dataclass costs three times as much to make; they are not frozen, but nothing
# changes one after it is made (``dataclasses.replace`` makes a new one).


@dataclass(slots=True)
class ProbeOutcome:
    """Result of one attempt, its duration and the kubelet's message for it."""

    result: ProbeResult
    duration_seconds: float
    message: str = ""


@dataclass(slots=True)
class ProbeTarget:
    """What an attempt runs against: one container instance of one pod."""

    container: Container
    pod_ip: str
    application: Application
    instance_id: str
    uptime_seconds: float
    now: float
    alive: bool = True
    rng: RandomSource | None = None


def resolve_port(port: int | str, container: Container) -> int | None:
    """Resolve a probe port: a number, a name of this container's ports, or None.

    R2.4 (pkg/probe/util.go ResolveContainerPort): a name is looked up among this
    container's ports only; failing that the string is parsed as a number.
    """
    if isinstance(port, int):
        return port if 1 <= port <= 65535 else None
    for p in container.ports:
        if p.name == port:
            return p.container_port
    if port.isdigit() and 1 <= int(port) <= 65535:
        return int(port)
    return None


def request_headers(
    action: HTTPGetAction, features: KubeletFeatures
) -> list[HTTPHeader]:
    """Headers an HTTP probe sends (R4.2, pkg/probe/http request.go).

    ``User-Agent: kube-probe/1.MINOR`` and ``Accept: */*`` unless the user set them;
    a user ``Accept`` with an empty value removes the header.
    """
    headers = list(action.http_headers)
    names = {h.name.lower() for h in headers}
    if "user-agent" not in names:
        headers.append(HTTPHeader("User-Agent", features.user_agent))
    if "accept" not in names:
        headers.append(HTTPHeader("Accept", "*/*"))
    return [h for h in headers if not (h.name.lower() == "accept" and not h.value)]


def run_probe(
    probe: Probe, target: ProbeTarget, features: KubeletFeatures
) -> ProbeOutcome:
    """Run one attempt of ``probe`` against ``target`` (R4.1).

    R4.1 (prober.go ``runProbeWithRetries``): an error is tried again at once, up to
    three tries in all; the attempt lasts as long as its tries together.
    """
    outcome = _try_once(probe, target, features)
    if outcome.result is not ProbeResult.ERROR:
        return outcome

    elapsed = outcome.duration_seconds
    for _ in range(MAX_PROBE_RETRIES - 1):
        tried = dataclasses.replace(
            target,
            uptime_seconds=target.uptime_seconds + elapsed,
            now=target.now + elapsed,
        )
        outcome = _try_once(probe, tried, features)
        elapsed += outcome.duration_seconds
        if outcome.result is not ProbeResult.ERROR:
            break
    return dataclasses.replace(outcome, duration_seconds=elapsed)


def _try_once(
    probe: Probe, target: ProbeTarget, features: KubeletFeatures
) -> ProbeOutcome:
    handler = probe.handler
    timeout = float(probe.timeout_seconds)
    if not target.alive:
        return _dead(handler, timeout, target)
    if isinstance(handler, ExecAction):
        return _exec(handler, timeout, target, features)
    if isinstance(handler, HTTPGetAction):
        return _http(handler, timeout, target)
    if isinstance(handler, TCPSocketAction):
        return _tcp(handler, timeout, target)
    return _grpc(handler, timeout, target)


def _dead(handler: object, timeout: float, target: ProbeTarget) -> ProbeOutcome:
    """An attempt against a process that has exited but is still shown running.

    The status is refreshed only at the next sync, so a worker can probe a dead
    container: the runtime refuses the exec (an error, discarded by R4.1), nothing
    listens any more for HTTP and TCP (refused at once), and the blocking gRPC dial
    fails at the timeout (R4.5).
    """
    host = target.pod_ip
    if isinstance(handler, ExecAction):
        return ProbeOutcome(
            ProbeResult.ERROR, 0.0, "container is not running: cannot exec"
        )
    if isinstance(handler, GRPCAction):
        return ProbeOutcome(
            ProbeResult.FAILURE,
            timeout,
            f'timeout: failed to connect service "{host}:{handler.port}" within '
            f"{timeout:g}s: context deadline exceeded",
        )
    port = getattr(handler, "port", "")
    return ProbeOutcome(
        ProbeResult.FAILURE,
        0.0,
        f"dial tcp {host}:{port}: connect: connection refused",
    )


def died_during(handler: object, elapsed_seconds: float) -> ProbeOutcome:
    """The outcome of an attempt whose process exited before it answered.

    The runtime ends an exec session with an error (discarded, R4.1); an HTTP, TCP
    or gRPC connection is reset, which is a Failure (R4.2, R4.5).
    """
    if isinstance(handler, ExecAction):
        return ProbeOutcome(
            ProbeResult.ERROR, elapsed_seconds, "container exited during the exec"
        )
    return ProbeOutcome(
        ProbeResult.FAILURE, elapsed_seconds, "read: connection reset by peer"
    )


def _late(answer: Answer, healthy: bool, latency: float | None = None) -> str:
    """Note on a timeout whose application was healthy, only slower than T.

    The note (``SLOW_BUT_HEALTHY``) lets analysis count restarts of healthy
    containers; a hang or an unhealthy answer gets none.
    """
    if answer.kind is not AnswerKind.ANSWER or not healthy:
        return ""
    seconds = answer.latency_seconds if latency is None else latency
    return f" ({SLOW_BUT_HEALTHY}: it answered {answer.status} after {seconds:.3f}s)"


def _port_error(port: int | str, container: Container) -> ProbeOutcome:
    # R2.4: an unresolvable port is an error, retried and then discarded.
    return ProbeOutcome(
        ProbeResult.ERROR,
        0.0,
        f"unable to resolve port {port!r}: no port of that name in container "
        f"{container.name!r}",
    )


def _exec(
    action: ExecAction, timeout: float, target: ProbeTarget, features: KubeletFeatures
) -> ProbeOutcome:
    answer = target.application.exec(
        action.command,
        target.uptime_seconds,
        target.now,
        target.instance_id,
        target.rng,
    )
    slow = answer.kind is AnswerKind.HANG or answer.latency_seconds > timeout

    # R4.4: with ExecProbeTimeout (the default) a slow command is a Failure at T.
    if slow and features.exec_probe_timeout:
        quoted = shlex.join(action.command)
        return ProbeOutcome(
            ProbeResult.FAILURE,
            timeout,
            f'command "{quoted}" timed out' + _late(answer, answer.status == 0),
        )

    # R4.4, legacy: the kubelet waits for the command, up to the CRI deadline, after
    # which the runtime call errors and the attempt is discarded.
    deadline = timeout + RUNTIME_REQUEST_TIMEOUT_SECONDS
    if answer.kind is AnswerKind.HANG or answer.latency_seconds > deadline:
        return ProbeOutcome(ProbeResult.ERROR, deadline, "context deadline exceeded")

    result = ProbeResult.SUCCESS if answer.status == 0 else ProbeResult.FAILURE
    return ProbeOutcome(result, answer.latency_seconds, answer.output)


def _http(action: HTTPGetAction, timeout: float, target: ProbeTarget) -> ProbeOutcome:
    port = resolve_port(action.port, target.container)
    if port is None:
        return _port_error(action.port, target.container)
    host = action.host or target.pod_ip
    scheme = action.scheme.value.lower()
    path = action.path
    elapsed = 0.0
    redirects = 0
    while True:
        url = f"{scheme}://{host}:{port}{path}"
        answer: Answer = target.application.http(
            port,
            urlsplit(path).path or "/",
            target.uptime_seconds + elapsed,
            target.now + elapsed,
            target.instance_id,
            target.rng,
        )

        # R4.2: connection refused is an immediate Failure.
        if answer.kind is AnswerKind.REFUSED:
            return ProbeOutcome(
                ProbeResult.FAILURE,
                elapsed + answer.latency_seconds,
                f'Get "{url}": dial tcp {host}:{port}: connect: connection refused',
            )

        # R4.2: T is the whole request's client timeout, redirects included.
        elapsed += answer.latency_seconds
        if answer.kind is AnswerKind.HANG or elapsed > timeout:
            return ProbeOutcome(
                ProbeResult.FAILURE,
                timeout,
                f'Get "{url}": context deadline exceeded '
                "(Client.Timeout exceeded while awaiting headers)"
                + _late(answer, 200 <= answer.status < 400, elapsed),
            )

        if not (300 <= answer.status < 400 and answer.location):
            break

        # R4.2: a redirect is followed only to the same hostname; the tenth redirect
        # response fails the attempt; another hostname ends it as a Warning.
        redirects += 1
        location = urlsplit(answer.location)
        if location.hostname and location.hostname != host:
            break
        if redirects >= MAX_REDIRECT_RESPONSES:
            return ProbeOutcome(
                ProbeResult.FAILURE,
                elapsed,
                f'Get "{url}": stopped after {MAX_REDIRECT_RESPONSES} redirects',
            )
        # An absolute URL without a port means its scheme's default port.
        if location.netloc:
            scheme = location.scheme or scheme
            port = location.port or DEFAULT_PORTS.get(scheme, port)
        path = location.path or "/"
        if location.query:
            path = f"{path}?{location.query}"

    # R4.2: success iff the final status is in [200, 400); a final 3xx (a redirect
    # not followed) is a Warning, which counts as a Success.
    if 300 <= answer.status < 400:
        return ProbeOutcome(
            ProbeResult.WARNING,
            elapsed,
            f"Probe terminated redirects, Response body: {answer.output}",
        )
    if 200 <= answer.status < 300:
        return ProbeOutcome(ProbeResult.SUCCESS, elapsed)
    return ProbeOutcome(
        ProbeResult.FAILURE,
        elapsed,
        f"HTTP probe failed with statuscode: {answer.status}",
    )


def _tcp(action: TCPSocketAction, timeout: float, target: ProbeTarget) -> ProbeOutcome:
    port = resolve_port(action.port, target.container)
    if port is None:
        return _port_error(action.port, target.container)
    host = action.host or target.pod_ip
    answer = target.application.tcp(port, target.uptime_seconds, target.now)

    # R4.3: any dial error is a Failure; a completed handshake a Success.
    if answer.kind is AnswerKind.REFUSED:
        return ProbeOutcome(
            ProbeResult.FAILURE,
            answer.latency_seconds,
            f"dial tcp {host}:{port}: connect: connection refused",
        )
    if answer.latency_seconds > timeout:
        return ProbeOutcome(
            ProbeResult.FAILURE,
            timeout,
            f"dial tcp {host}:{port}: i/o timeout" + _late(answer, True),
        )
    return ProbeOutcome(ProbeResult.SUCCESS, answer.latency_seconds)


def _grpc(action: GRPCAction, timeout: float, target: ProbeTarget) -> ProbeOutcome:
    host = target.pod_ip
    answer = target.application.grpc(
        action.port,
        action.service,
        target.uptime_seconds,
        target.now,
        target.instance_id,
        target.rng,
    )

    # R4.5: the dial blocks, so a closed port or a hung server fails only at T.
    if answer.kind is not AnswerKind.ANSWER or answer.latency_seconds > timeout:
        return ProbeOutcome(
            ProbeResult.FAILURE,
            timeout,
            f'timeout: failed to connect service "{host}:{action.port}" within '
            f"{timeout:g}s: context deadline exceeded"
            + _late(answer, answer.status == 1),
        )

    # R4.5: only SERVING is a Success.
    if answer.status == 1:
        return ProbeOutcome(ProbeResult.SUCCESS, answer.latency_seconds)
    name = GRPC_STATUS_NAMES.get(answer.status, str(answer.status))
    return ProbeOutcome(
        ProbeResult.FAILURE,
        answer.latency_seconds,
        f'service unhealthy (responded with "{name}")',
    )


# The steady-state fast path: which attempts can differ from the last one.


@dataclass(frozen=True, slots=True)
class AttemptDraws:
    """What decides the result of attempts while the application keeps its shape.

    ``fixed``: nothing random can change the result (it may still draw latencies
    that stay within the timeout). Otherwise ``phase`` answers, and an attempt
    succeeds when its status (the phase's, or the flake's) counts as a success
    and its ``latency`` is within the timeout. ``columns`` names the draws of one
    attempt in the order they are made: ``default`` (the handler's default
    latency), ``flake`` and ``latency`` (the phase's own). ``known`` is False when
    the model cannot say (redirects, the legacy exec deadline).
    """

    fixed: bool
    known: bool = True
    phase: Phase | None = None
    latency: Distribution | None = None
    timeout_seconds: float = 0.0
    success: Callable[[int], bool] | None = None
    columns: tuple[str, ...] = ()


FIXED = AttemptDraws(fixed=True)
UNKNOWN = AttemptDraws(fixed=False, known=False)


def attempt_draws(
    probe: Probe, target: ProbeTarget, features: KubeletFeatures
) -> AttemptDraws:
    """Classify the attempts of ``probe`` against ``target`` for the fast path."""
    handler = probe.handler
    app, timeout = target.application, float(probe.timeout_seconds)
    now, uptime, instance_id = target.now, target.uptime_seconds, target.instance_id

    # R4.3: a TCP handshake depends only on the port windows; a dead process
    # refuses or times out alike every time.
    if not target.alive or isinstance(handler, TCPSocketAction):
        return FIXED

    success: Callable[[int], bool]
    if isinstance(handler, ExecAction):
        found = app.exec_phase(handler.command, uptime, now, instance_id)
        success = _exit_zero
    elif isinstance(handler, HTTPGetAction):
        port = resolve_port(handler.port, target.container)
        if port is None:
            return FIXED
        path = urlsplit(handler.path).path or "/"
        found = app.http_phase(port, path, uptime, now, instance_id)
        success = _http_success
    else:
        found = app.grpc_phase(handler.port, handler.service, uptime, now, instance_id)
        success = _serving
    if found is None:
        return FIXED
    phase, default_latency = found
    if phase.hang:
        return FIXED

    # R4.2: a redirect starts another request; R4.4: without ExecProbeTimeout a
    # slow command errors at the CRI deadline. Neither is modelled here.
    statuses = {phase.status}
    if phase.flake is not None and phase.flake.probability > 0:
        statuses.add(phase.flake.status)
        if phase.flake.probability >= 1:
            statuses.discard(phase.status)
    if isinstance(handler, HTTPGetAction) and any(300 <= s < 400 for s in statuses):
        return UNKNOWN
    if isinstance(handler, ExecAction) and not features.exec_probe_timeout:
        return UNKNOWN

    own = own_latency(phase)
    latency = phase.latency if own else default_latency
    columns: tuple[str, ...] = ("default",) if isinstance(handler, ExecAction) else ()
    if phase.flake is not None:
        columns += ("flake",)
    if own and phase.latency.kind is not DistributionKind.CONSTANT:
        columns += ("latency",)
    on_time = _lower_bound(latency) <= timeout
    late = latency.upper_bound() > timeout
    can_succeed = on_time and any(success(s) for s in statuses)
    can_fail = late or any(not success(s) for s in statuses)
    fixed = not (can_succeed and can_fail)
    return AttemptDraws(fixed, True, phase, latency, timeout, success, columns)


def _exit_zero(status: int) -> bool:
    return status == 0


def _http_success(status: int) -> bool:
    return 200 <= status < 400


def _serving(status: int) -> bool:
    return status == 1


def _lower_bound(latency: Distribution) -> float:
    if latency.kind in (DistributionKind.CONSTANT, DistributionKind.UNIFORM):
        return latency.a
    return 0.0 if math.isfinite(latency.a) else math.inf
