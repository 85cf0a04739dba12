"""Images and programs whose behaviour is known without a Scenario behaviour.

``IMAGES`` says what a known image runs when the container does not say it (its
ENTRYPOINT and CMD); ``PROGRAMS`` says what a known program does once it runs: the
ports it answers on, what it answers, and how it takes SIGTERM (R5.5). Images are
matched on the last part of their repository, registry and tag ignored: ``agnhost``
for ``registry.k8s.io/e2e-test-images/agnhost:2.40``. Agnhost's programs are keyed
``agnhost SUBCOMMAND``.

The values come from the programs' documented defaults; what a program's
configuration could change (nginx's sites, a file server's files) is assumed and
said so in the notes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sim.scenario.behaviour import (
    ZERO,
    Distribution,
    GRPCBehaviour,
    HTTPBehaviour,
    Phase,
    SigtermBehaviour,
    SigtermKind,
)
from sim.scenario.spec import Container, HTTPGetAction, ProbeType


@dataclass(frozen=True)
class KnownImage:
    """What an image runs when the container does not say (ENTRYPOINT and CMD)."""

    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()


IMAGES: dict[str, KnownImage] = {
    "busybox": KnownImage(cmd=("sh",)),
    "alpine": KnownImage(cmd=("/bin/sh",)),
    "ubuntu": KnownImage(cmd=("/bin/bash",)),
    "debian": KnownImage(cmd=("bash",)),
    "agnhost": KnownImage(entrypoint=("/agnhost",), cmd=("pause",)),
    "liveness": KnownImage(cmd=("/server",)),
    "goproxy": KnownImage(cmd=("/goproxy",)),
    "pause": KnownImage(entrypoint=("/pause",)),
    "nginx": KnownImage(("/docker-entrypoint.sh",), ("nginx", "-g", "daemon off;")),
}
"""Known images by the last part of their repository."""

WRAPPERS = frozenset({"docker-entrypoint.sh", "busybox"})
"""Entrypoints that run their arguments as the program (``exec "$@"``)."""

GO_SIGTERM = SigtermBehaviour(SigtermKind.EXIT, ZERO, 2)


@dataclass(frozen=True)
class Server:
    """What a known program serves, how it takes SIGTERM, and what was assumed.

    ``serves`` describes the ports and answers, ``on_sigterm`` the SIGTERM handling,
    both worded for the user.
    """

    http: tuple[HTTPBehaviour, ...] = ()
    grpc: tuple[GRPCBehaviour, ...] = ()
    sigterm: SigtermBehaviour = GO_SIGTERM
    serves: str = ""
    on_sigterm: str = "a Go program: the Go runtime ends it at once on SIGTERM, exit 2"


_PAUSE = Server(
    sigterm=SigtermBehaviour(SigtermKind.EXIT, ZERO, 0),
    serves="listens on no port",
    on_sigterm="it handles SIGTERM: exits at once with 0",
)


def _every_path(port: int, status: int = 200) -> tuple[HTTPBehaviour, ...]:
    return (HTTPBehaviour(port, "", (Phase(status),)),)


def _liveness(args: tuple[str, ...], container: Container) -> Server:
    """The liveness test server: healthy for 10 s, then 500 (port 8080)."""
    http = [
        HTTPBehaviour(8080, "/healthz", (Phase(200, until_seconds=10.0), Phase(500))),
        HTTPBehaviour(8080, "/started", (Phase(200),)),
    ]
    for path in probe_paths(container, 8080):
        url = urlsplit(path)
        if url.path == "/redirect":
            location = parse_qs(url.query).get("loc", [""])[0]
            http.append(HTTPBehaviour(8080, path, (Phase(302, location=location),)))
    return Server(
        http=tuple(http),
        serves="HTTP on 8080: /healthz answers 200 for the first 10s of uptime, then "
        "500; /started 200; /redirect?loc=X answers 302 to X (for the paths the "
        "probes ask); other paths 404",
    )


def _webserver(args: tuple[str, ...], container: Container) -> Server:
    port = flag(args, "port", 80)
    return Server(
        http=_every_path(port),
        serves=f"HTTP on {port}: a file server; every path assumed to answer 200",
    )


def _netexec_server(args: tuple[str, ...], container: Container) -> Server:
    port = flag(args, "http-port", 8080)
    return Server(
        http=_every_path(port),
        serves=f"HTTP on {port}: every path assumed to answer 200 (its /exit and "
        "/shutdown endpoints are not modelled; UDP is ignored)",
    )


def _grpc_health(args: tuple[str, ...], container: Container) -> Server:
    port, http_port = flag(args, "port", 5000), flag(args, "http-port", 8080)
    return Server(
        http=_every_path(http_port),
        grpc=(GRPCBehaviour(port, None, (Phase(1),)),),
        serves=f"gRPC health on {port} answers SERVING for every service; HTTP on "
        f"{http_port} answers 200",
    )


def _goproxy(args: tuple[str, ...], container: Container) -> Server:
    return Server(
        http=_every_path(8080, 500),
        serves="an HTTP proxy on 8080: TCP connections succeed; plain HTTP requests "
        "(not proxy requests) answer 500",
    )


def _nginx(args: tuple[str, ...], container: Container) -> Server:
    return Server(
        http=_every_path(80),
        sigterm=SigtermBehaviour(SigtermKind.EXIT, Distribution.constant(0.1), 0),
        serves="HTTP on 80; its configuration is not known, so every path is "
        "assumed to answer 200 (the default site answers 404 except on /)",
        on_sigterm="SIGTERM starts a fast shutdown: exit 0 after 100ms",
    )


PROGRAMS: dict[str, Callable[[tuple[str, ...], Container], Server]] = {
    "liveness": _liveness,
    "agnhost liveness": _liveness,
    "agnhost test-webserver": _webserver,
    "agnhost netexec": _netexec_server,
    "agnhost grpc-health-checking": _grpc_health,
    "agnhost pause": lambda args, container: _PAUSE,
    "pause": lambda args, container: _PAUSE,
    "goproxy": _goproxy,
    "nginx": _nginx,
}
"""Known programs: a function of the program's arguments and the container."""


def image_name(image: str) -> str:
    """Return the last part of an image's repository, without registry or tag."""
    repository = image.split("@", 1)[0]
    return repository.rsplit("/", 1)[-1].split(":", 1)[0]


def program_key(argv: tuple[str, ...], image: str) -> tuple[str, tuple[str, ...]]:
    """Return the ``PROGRAMS`` key of an argv (maybe not in the table) and its args.

    The liveness image's ``/server`` is ``liveness``; agnhost is keyed with its
    subcommand (``agnhost netexec``).
    """
    base = basename(argv[0]) if argv else ""
    if base == "agnhost":
        return f"agnhost {argv[1] if len(argv) > 1 else ''}".strip(), argv[2:]
    if base == "server" and image == "liveness":
        return "liveness", argv[1:]
    return base, argv[1:]


def flag(args: tuple[str, ...], name: str, default: int) -> int:
    """Read ``--name=N`` or ``--name N`` (one dash works too, as with Go flags)."""
    for index, arg in enumerate(args):
        key, equals, value = arg.lstrip("-").partition("=")
        if key != name or not arg.startswith("-"):
            continue
        if not equals:
            value = args[index + 1] if index + 1 < len(args) else ""
        if value.isdigit():
            return int(value)
    return default


def basename(word: str) -> str:
    """Return the last part of a path (``sh`` for ``/bin/sh``)."""
    return word.rsplit("/", 1)[-1]


def port_number(container: Container, port: int | str) -> int | None:
    """Return a port number, looking a port name up in the container's ports."""
    if isinstance(port, int):
        return port
    return next((p.container_port for p in container.ports if p.name == port), None)


def probe_paths(container: Container, port: int) -> list[str]:
    """Return the paths the container's HTTP probes ask on ``port``."""
    probes = (container.probe(probe_type) for probe_type in ProbeType)
    handlers = [probe.handler for probe in probes if probe is not None]
    return [
        h.path
        for h in handlers
        if isinstance(h, HTTPGetAction) and port_number(container, h.port) == port
    ]
