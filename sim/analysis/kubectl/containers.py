"""The pod spec part of ``kubectl describe pod``: containers, probes and volumes.

``container_lines`` is ``describeContainers`` for one container (with its status),
``volume_lines`` is ``describeVolumes``. Both print the spec as the API server
stores it, so the API token volume and its mount that ServiceAccount admission
added are there like any other volume and mount.
"""

from __future__ import annotations

import hashlib

from sim.analysis.humanize import rfc1123z
from sim.analysis.kubectl.tabwriter import indent
from sim.scenario.spec import (
    Container,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    Pod,
    Probe,
    TCPSocketAction,
    Volume,
    VolumeKind,
)
from sim.trace import ContainerStatusRecord, TerminatedRecord

# The projected volume ServiceAccount admission adds is named with this prefix;
# the model keeps its name, kubectl prints its sources.
_API_ACCESS_PREFIX = "kube-api-access-"
_API_ACCESS_SOURCES = (
    "TokenExpirationSeconds:\t3607",
    "ConfigMapName:\tkube-root-ca.crt",
    "Optional:\tfalse",
    "DownwardAPI:\ttrue",
)
_PROJECTED = (
    "Type:\tProjected (a volume that contains injected data from multiple sources)"
)


def describe_probe(probe: Probe) -> str:
    """Return a probe as ``kubectl describe`` prints it (``DescribeProbe``).

    ``exec [cat /tmp/healthy] delay=5s timeout=1s period=5s #success=1
    #failure=3``; ``http-get http://:8080/healthz ...``; ``tcp-socket :8080 ...``;
    ``grpc <pod>:9090 SERVICE ...`` (the service may be empty).
    """
    attrs = (
        f"delay={probe.initial_delay_seconds}s timeout={probe.timeout_seconds}s "
        f"period={probe.period_seconds}s #success={probe.success_threshold} "
        f"#failure={probe.failure_threshold}"
    )
    handler = probe.handler
    if isinstance(handler, ExecAction):
        return f"exec [{' '.join(handler.command)}] {attrs}"
    if isinstance(handler, HTTPGetAction):
        host = handler.host
        if ":" in host:  # net.JoinHostPort brackets IPv6 literals
            host = f"[{host}]"
        path = handler.path
        if path and not path.startswith("/"):
            path = "/" + path
        scheme = handler.scheme.value.lower()
        return f"http-get {scheme}://{host}:{handler.port}{path} {attrs}"
    if isinstance(handler, TCPSocketAction):
        return f"tcp-socket {handler.host}:{handler.port} {attrs}"
    if isinstance(handler, GRPCAction):
        return f"grpc <pod>:{handler.port} {handler.service} {attrs}"
    return f"unknown {attrs}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _image_id(image: str) -> str:
    """A repo digest in containerd's spelling (the digest itself is made up)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    if name.rfind(":") > slash:
        name = name[: name.rfind(":")]
    first = name.split("/")[0]
    if "/" not in name:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    return f"{name}@{digest or 'sha256:' + _digest(image)}"


def _container_id(model_id: str) -> str:
    """The runtime's 64-hex id, made from the model's readable instance id."""
    if not model_id:
        return ""
    runtime, _, name = model_id.partition("://")
    return f"{runtime}://{_digest(name)}"


def _state_lines(title: str, status: ContainerStatusRecord) -> list[str]:
    """``describeStatus``: a container state and its details (levels 2 and 3)."""
    if status.state == "running":
        return [
            *indent(2, f"{title}:\tRunning"),
            *indent(3, f"Started:\t{rfc1123z(status.started_at)}"),
        ]
    if status.state == "terminated":
        state = TerminatedRecord(
            status.exit_code, status.reason, status.started_at, status.finished_at
        )
        return _terminated_lines(title, state, status.message)
    reason = [f"Reason:\t{status.reason}"] if status.reason else []
    return [*indent(2, f"{title}:\tWaiting"), *indent(3, *reason)]


def _terminated_lines(
    title: str, state: TerminatedRecord, message: str = ""
) -> list[str]:
    details = [f"Reason:\t{state.reason}"] if state.reason else []
    details += [f"Message:\t{message}"] if message else []
    details += [
        f"Exit Code:\t{state.exit_code}",
        f"Started:\t{rfc1123z(state.started_at)}",
        f"Finished:\t{rfc1123z(state.finished_at)}",
    ]
    return [*indent(2, f"{title}:\tTerminated"), *indent(3, *details)]


def container_lines(
    container: Container, status: ContainerStatusRecord | None
) -> list[str]:
    """``describeContainers`` for one container (its status when it has one)."""
    lines = indent(1, f"{container.name}:")
    basic = [f"Image:\t{container.image}"]
    if status is not None:
        image_id = _image_id(container.image) if status.container_id else ""
        basic = [
            f"Container ID:\t{_container_id(status.container_id)}",
            basic[0],
            f"Image ID:\t{image_id}",
        ]
    ports = ", ".join(f"{p.container_port}/{p.protocol}" for p in container.ports)
    host_ports = ", ".join(f"{p.host_port}/{p.protocol}" for p in container.ports)
    plural = "s" if len(container.ports) > 1 else ""
    basic += [
        f"Port{plural}:\t{ports or '<none>'}",
        f"Host Port{plural}:\t{host_ports or '<none>'}",
    ]
    lines += indent(2, *basic)
    for title, words in (("Command", container.command), ("Args", container.args)):
        if words:
            lines += indent(2, f"{title}:")
            lines += indent(3, *(part for word in words for part in word.split("\n")))
    if status is not None:
        lines += _state_lines("State", status)
        if status.last_state is not None:
            lines += _terminated_lines("Last State", status.last_state)
        lines += indent(
            2,
            f"Ready:\t{'True' if status.ready else 'False'}",
            f"Restart Count:\t{status.restart_count}",
        )
    for title, probe in (
        ("Liveness", container.liveness_probe),
        ("Readiness", container.readiness_probe),
        ("Startup", container.startup_probe),
    ):
        if probe is not None:
            lines += indent(2, f"{title}:\t{describe_probe(probe)}")
    lines += _env_lines(container)
    lines += _mount_lines(container)
    return lines


def _env_lines(container: Container) -> list[str]:
    if not container.env:
        return indent(2, "Environment:\t<none>")
    lines = indent(2, "Environment:")
    for name, value in container.env:
        first, *rest = value.split("\n")
        lines += indent(3, f"{name}:\t{first}", *(f"\t{part}" for part in rest))
    return lines


def _mount_lines(container: Container) -> list[str]:
    """``describeContainerVolumes``: the mounts sorted by path."""
    if not container.volume_mounts:
        return indent(2, "Mounts:\t<none>")
    mounts = sorted(container.volume_mounts, key=lambda m: m.mount_path)
    return [
        *indent(2, "Mounts:"),
        *indent(
            3,
            *(
                f"{m.mount_path} from {m.name} ({'ro' if m.read_only else 'rw'})"
                for m in mounts
            ),
        ),
    ]


def _is_api_access(volume: Volume) -> bool:
    """Whether a volume is the API token volume ServiceAccount admission adds."""
    return (
        volume.kind is VolumeKind.PROJECTED
        and volume.name.startswith(_API_ACCESS_PREFIX)
        and not volume.secret_names
    )


def volume_lines(pod: Pod) -> list[str]:
    """``describeVolumes`` for the pod's volumes, in the order of the spec."""
    if not pod.volumes:
        return ["Volumes:\t<none>"]
    lines = ["Volumes:"]
    for volume in pod.volumes:
        lines += indent(1, f"{volume.name}:")
        if volume.kind is VolumeKind.SECRET:
            name = volume.secret_names[0] if volume.secret_names else ""
            lines += indent(2, "Type:\tSecret (a volume populated by a Secret)")
            lines += indent(2, f"SecretName:\t{name}", "Optional:\tfalse")
        elif _is_api_access(volume):
            lines += indent(2, _PROJECTED, *_API_ACCESS_SOURCES)
        elif volume.kind is VolumeKind.PROJECTED:
            lines += indent(2, _PROJECTED)
            for name in volume.secret_names:
                lines += indent(2, f"SecretName:\t{name}", "Optional:\tfalse")
        else:
            lines += indent(1, "<unknown>")
    return lines
