"""Behaviour inferred from the manifest: scripts, utilities, known images, the reader.

Table-driven: each script case gives the script, the files windows, the exit and the
SIGTERM handling expected; each image case the ports, answers and SIGTERM handling.
Nothing is ever run: the last tests check that by construction.
"""

from __future__ import annotations

import dataclasses
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

import sim
from sim.scenario import read_scenario_text
from sim.scenario.behaviour import Behaviour, SigtermKind
from sim.scenario.inference import NOTHING_INFERRED, Inference, infer_behaviour
from sim.scenario.known_images import image_name
from sim.scenario.reader import no_behaviour_warning, validate_file
from sim.scenario.resolved import resolved_yaml
from sim.scenario.shell_clock import MAX_WINDOWS
from sim.scenario.spec import (
    Container,
    ContainerPort,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    ObjectMeta,
    Pod,
    Probe,
    TCPSocketAction,
)

INF = math.inf
POD = Pod(ObjectMeta("p"), ())
LIVENESS_EXEC = "touch /tmp/healthy; sleep 30; rm -rf /tmp/healthy; sleep 600"


def infer(
    image: str = "busybox",
    command: tuple[str, ...] = (),
    args: tuple[str, ...] = (),
    horizon: float = 600.0,
    **fields: Any,
) -> Inference:
    container = Container("c", image, command=command, args=args, **fields)
    return infer_behaviour(POD, container, horizon)


def script(text: str, horizon: float = 600.0, **fields: Any) -> Inference:
    return infer(command=("sh", "-c", text), horizon=horizon, **fields)


def windows(behaviour: Behaviour) -> dict[str, list[tuple[float, float]]]:
    return {
        f.path: [(w.from_seconds, w.until_seconds) for w in f.windows]
        for f in behaviour.files
    }


def exit_of(behaviour: Behaviour) -> tuple[float, int] | None:
    if behaviour.exit is None:
        return None
    return behaviour.exit.after.a, behaviour.exit.exit_code


def sigterm_of(behaviour: Behaviour) -> tuple[Any, ...]:
    s = behaviour.sigterm
    return s.kind, s.exit_after.a, s.exit_code, s.boundaries, s.repeat_every


def notes_text(inference: Inference) -> str:
    return "\n".join(inference.notes)


IGNORE = (SigtermKind.IGNORE, 0.0, 143, (), 0.0)
# Sleep ends of `sleep 2; sleep 3` in a loop, up to a 60 s horizon.
TWO_SLEEPS = tuple(float(5 * k + d) for k in range(12) for d in (2, 5))

# Scripts ---------------------------------------------------------------------------

# (id, script, files windows, (exit after, code) or None, SIGTERM, note fragment)
SCRIPTS: list[tuple[str, str, dict, tuple | None, tuple, str]] = [
    (
        "liveness-exec",
        LIVENESS_EXEC,
        {"/tmp/healthy": [(0.0, 30.0)]},
        (630.0, 0),
        IGNORE,
        "/tmp/healthy exists from 0s to 30s; it ends at 10m30s with status 0; the "
        "shell is PID 1 without a TERM trap, so SIGTERM is ignored",
    ),
    (
        "exit-after-sleep",
        "sleep 2; exit 3",
        {},
        (2.0, 3),
        IGNORE,
        "it ends at 2s with status 3",
    ),
    (
        "busybox-sleep-forms",
        "sleep 5s; sleep 1m; sleep 0.5; sleep 1 2",
        {},
        (68.5, 0),
        IGNORE,
        "",
    ),
    (
        "echo-redirections",
        "echo ok > /tmp/a; sleep 1; echo more >> /tmp/b; mkdir /tmp/d; sleep 1; "
        "rm -f /tmp/a /tmp/nothing; rm -r /tmp/d; rm /tmp/b",
        {"/tmp/a": [(0.0, 2.0)], "/tmp/b": [(1.0, 2.0)], "/tmp/d": [(1.0, 2.0)]},
        (2.0, 0),
        IGNORE,
        "",
    ),
    (
        "instant-commands",
        "true; :; date; env; echo hi; printf 'x\\n'; cat /tmp/x; touch /tmp/x; "
        "cat /tmp/x",
        {"/tmp/x": [(0.0, INF)]},
        (0.0, 0),
        IGNORE,
        "/tmp/x exists from 0s on",
    ),
    (
        "last-status",
        "sleep 1; false",
        {},
        (1.0, 1),
        IGNORE,
        "",
    ),
    (
        "exit-without-code",
        "false; exit",
        {},
        (0.0, 1),
        IGNORE,
        "",
    ),
    (
        "and-or",
        "false && touch /tmp/a || touch /tmp/b; true || touch /tmp/c",
        {"/tmp/b": [(0.0, INF)]},
        (0.0, 0),
        IGNORE,
        "",
    ),
    (
        "newlines-and-comments",
        "# make it healthy\ntouch /tmp/h   # now\nsleep 10\n\nrm /tmp/h\nsleep 5\n",
        {"/tmp/h": [(0.0, 10.0)]},
        (15.0, 0),
        IGNORE,
        "",
    ),
    (
        "for-loop",
        "for i in 1 2 3; do touch /tmp/f; sleep 1; rm /tmp/f; done; exit 4",
        {"/tmp/f": [(0.0, 3.0)]},  # the windows of the iterations touch: merged
        (3.0, 4),
        IGNORE,
        "",
    ),
    (
        "function",
        "up() { touch /tmp/u; sleep 2; rm /tmp/u; }\nup; sleep 1; up",
        {"/tmp/u": [(0.0, 2.0), (3.0, 5.0)]},
        (5.0, 0),
        IGNORE,
        "",
    ),
    (
        "if",
        "if [ -f /tmp/x ]; then exit 1; fi; touch /tmp/x; "
        "if test -f /tmp/x; then sleep 1; exit 2; else exit 5; fi",
        {"/tmp/x": [(0.0, INF)]},
        (1.0, 2),
        IGNORE,
        "",
    ),
    (
        "errexit",
        "set -e; sleep 1; false; sleep 5",
        {},
        (1.0, 1),
        IGNORE,
        "",
    ),
    (
        "while-loop",
        "while true; do touch /tmp/a; sleep 5; rm /tmp/a; sleep 5; done",
        {"/tmp/a": [(t, t + 5.0) for t in range(0, 60, 10)]},
        None,
        IGNORE,
        "it never ends",
    ),
    (
        "while-colon",
        "while :; do sleep 2; done",
        {},
        None,
        IGNORE,
        "an endless loop: unrolled up to 1m",
    ),
    (
        "background-job",
        "(sleep 5; touch /tmp/ready) & sleep 600",
        {"/tmp/ready": [(5.0, INF)]},
        (600.0, 0),
        IGNORE,
        "/tmp/ready exists from 5s on",
    ),
    (
        "trap-loop",
        "trap 'exit 0' TERM; while true; do sleep 1; done",
        {},
        None,
        (SigtermKind.TRAP, 0.0, 0, (1.0,), 1.0),
        "the shell runs its TERM trap `exit 0` only when the current sleep ends "
        "(1s, then every 1s); the trap takes 0s, then exits with 0",
    ),
    (
        "trap-handler-sleeps",
        'trap "sleep 3; exit 7" TERM; sleep 600',
        {},
        (600.0, 0),
        (SigtermKind.TRAP, 3.0, 7, (600.0,), 0.0),
        "the trap takes 3s, then exits with 7",
    ),
    (
        "trap-sigterm-name",
        "trap 'exit 1' SIGTERM; sleep 10; sleep 20",
        {},
        (30.0, 0),
        (SigtermKind.TRAP, 0.0, 1, (10.0, 30.0), 0.0),
        "",
    ),
    (
        "trap-number-and-exit",
        "trap 'exit 9' EXIT 15; sleep 10",
        {},
        (10.0, 9),
        (SigtermKind.TRAP, 0.0, 9, (10.0,), 0.0),
        "",
    ),
    (
        "trap-two-sleeps-per-loop",
        "trap 'exit 0' TERM; while true; do sleep 2; sleep 3; done",
        {},
        None,
        (SigtermKind.TRAP, 0.0, 0, TWO_SLEEPS, 3.0),
        "",
    ),
    (
        "trap-without-exit",
        "trap 'echo bye' TERM; sleep 100",
        {},
        (100.0, 0),
        IGNORE,
        "the TERM trap `echo bye` does not exit: the script goes on after it, so "
        "SIGTERM does not end it",
    ),
    (
        "trap-ignore",
        "trap '' TERM; sleep 100",
        {},
        (100.0, 0),
        IGNORE,
        "`trap '' TERM`: the shell ignores SIGTERM",
    ),
    (
        "trap-then-wait",
        "trap 'exit 0' TERM; sleep infinity & wait",
        {},
        None,
        (SigtermKind.EXIT, 0.0, 0, (), 0.0),
        "the shell is in `wait`, so its TERM trap `exit 0` runs at once",
    ),
    (
        "trap-sleep-infinity",
        "trap 'exit 0' TERM; sleep infinity",
        {},
        None,
        (SigtermKind.TRAP, 0.0, 0, (), 0.0),
        "only when the current sleep ends (never)",
    ),
    (
        "exec-sleep",
        "touch /tmp/s; exec sleep 10",
        {"/tmp/s": [(0.0, INF)]},
        (10.0, 0),
        IGNORE,
        "sleep is PID 1 with no TERM handler, so SIGTERM is ignored",
    ),
    (
        "tail-f",
        "touch /tmp/t; tail -f /dev/null",
        {"/tmp/t": [(0.0, INF)]},
        None,
        IGNORE,
        "it never ends",
    ),
    (
        "busy-loop",
        "while true; do :; done",
        {},
        None,
        IGNORE,
        "a loop that never sleeps spins from 0s on",
    ),
]


@pytest.mark.parametrize(
    ("text", "files", "exit_at", "sigterm", "note"),
    [case[1:] for case in SCRIPTS],
    ids=[case[0] for case in SCRIPTS],
)
def test_script(
    text: str, files: dict, exit_at: tuple | None, sigterm: tuple, note: str
) -> None:
    inference = script(text, horizon=60.0)
    behaviour = inference.behaviour
    assert behaviour is not None
    assert windows(behaviour) == files
    assert exit_of(behaviour) == exit_at
    assert sigterm_of(behaviour) == sigterm
    assert note in notes_text(inference)


def test_trap_boundaries_match_the_shell() -> None:
    # Two sleeps per iteration: every sleep end within the horizon is listed.
    behaviour = script("trap 'exit 0' TERM; while true; do sleep 2; sleep 3; done")
    sigterm = behaviour.behaviour.sigterm  # type: ignore[union-attr]
    assert sigterm.next_boundary(0.5) == 2.0
    assert sigterm.next_boundary(2.5) == 5.0
    assert sigterm.next_boundary(5.5) == 7.0
    assert sigterm.next_boundary(598.0) == 600.0


# Constructs that are skipped, each with a note -------------------------------------

# (id, script, note fragment, (exit after, code) or None)
SKIPPED = [
    (
        "unknown-command",
        "foo --bar; sleep 1",
        "`foo --bar`: not understood; assumed to take no time and succeed",
        (1.0, 0),
    ),
    ("variable", "X=5; sleep $X", "`X=5`: variables are not tracked", (0.0, 0)),
    ("variable-sleep", "sleep $T", "`sleep $T`: duration not known", (0.0, 0)),
    ("pipe", "echo hi | tee /tmp/a", "pipelines are not followed", (0.0, 0)),
    ("command-substitution", "sleep $(cat /etc/t)", "`sleep $(cat /etc/t)`", (0, 0)),
    ("case", "case $1 in a) sleep 9;; esac", "`case $1 in ... esac`", (0.0, 0)),
    (
        "dynamic-for",
        "for f in /tmp/*; do sleep 1; done",
        "its body is read once",
        (1.0, 0),
    ),
    (
        "dynamic-file",
        "touch /tmp/$HOSTNAME",
        "a file name only known at run time",
        (0.0, 0),
    ),
    (
        "unknown-last",
        "touch /tmp/up; /app/server --port 80",
        "the script ends with `/app/server --port 80`, which is not understood: "
        "assumed to run until the container is killed",
        None,
    ),
    (
        "unknown-background",
        "/app/worker & wait",
        "a background job that is not "
        "understood is assumed to run until the container is killed",
        None,
    ),
    (
        "untouched-file",
        "cat /etc/config && touch /tmp/ok",
        "/etc/config: a file the script does not create; assumed present",
        (0.0, 0),
    ),
]


@pytest.mark.parametrize(
    ("text", "note", "exit_at"),
    [case[1:] for case in SKIPPED],
    ids=[case[0] for case in SKIPPED],
)
def test_skipped_constructs_are_noted(
    text: str, note: str, exit_at: tuple | None
) -> None:
    inference = script(text)
    assert inference.behaviour is not None
    assert note in notes_text(inference)
    assert exit_of(inference.behaviour) == exit_at


def test_unreadable_script() -> None:
    inference = script('echo "unclosed')
    assert inference.behaviour is None
    assert "the sh -c script cannot be read" in notes_text(inference)
    assert NOTHING_INFERRED in notes_text(inference)


def test_endless_loop_is_capped() -> None:
    text = "while true; do touch /tmp/a; sleep 0.001; rm /tmp/a; sleep 0.001; done"
    inference = script(text, horizon=3600.0)
    behaviour = inference.behaviour
    assert behaviour is not None
    assert len(behaviour.files[0].windows) == MAX_WINDOWS
    assert f"({MAX_WINDOWS} file windows)" in notes_text(inference)
    assert behaviour.exit is None


def test_loop_unrolled_to_the_horizon() -> None:
    text = "while true; do touch /tmp/a; sleep 5; rm /tmp/a; sleep 5; done"
    assert len(script(text, horizon=600.0).behaviour.files[0].windows) == 60  # type: ignore[union-attr]
    assert len(script(text, horizon=100.0).behaviour.files[0].windows) == 10  # type: ignore[union-attr]


# How the process is found: command, args, image defaults ---------------------------

# (id, image, command, args, (exit after, code) or None, note fragment)
PROCESSES = [
    (
        "args-replace-cmd",
        "k8s.gcr.io/busybox",
        (),
        ("/bin/sh", "-c", LIVENESS_EXEC),
        (630.0, 0),
        "read the sh -c script",
    ),
    (
        "command-and-args",
        "busybox",
        ("sh", "-c"),
        (LIVENESS_EXEC,),
        (630.0, 0),
        "read the sh -c script",
    ),
    (
        "command-only",
        "alpine:3.20",
        ("/bin/bash", "-c", "sleep 4"),
        (),
        (4.0, 0),
        "read the bash -c script",
    ),
    (
        "shell-then-args",
        "busybox",
        ("sh",),
        ("-c", "sleep 3; exit 1"),
        (3.0, 1),
        "",
    ),
    ("ash-errexit", "busybox", ("ash", "-ec", "false; sleep 3"), (), (0.0, 1), ""),
    (
        "busybox-wrapper",
        "busybox",
        ("busybox", "sh", "-c", "sleep 1"),
        (),
        (1.0, 0),
        "",
    ),
    (
        "unknown-image-args",
        "example.com/app:1",
        (),
        ("sh", "-c", "sleep 1"),
        (1.0, 0),
        'image "example.com/app:1" is not known: assumed to have no ENTRYPOINT',
    ),
    (
        "busybox-no-command",
        "busybox:1.36",
        (),
        (),
        (0.0, 0),
        "sh with no command reads its standard input, which a container does not "
        "attach: it exits at once with status 0",
    ),
    ("ubuntu-no-command", "ubuntu:24.04", (), (), (0.0, 0), "bash with no command"),
    (
        "sleep-as-pid-1",
        "busybox",
        ("sleep", "3600"),
        (),
        (3600.0, 0),
        "sleep is PID 1 with no TERM handler, so SIGTERM is ignored",
    ),
    (
        "nginx-image-running-a-script",
        "nginx",
        (),
        ("sh", "-c", "sleep 7"),
        (7.0, 0),
        "",
    ),
]


@pytest.mark.parametrize(
    ("image", "command", "args", "exit_at", "note"),
    [case[1:] for case in PROCESSES],
    ids=[case[0] for case in PROCESSES],
)
def test_process(
    image: str,
    command: tuple[str, ...],
    args: tuple[str, ...],
    exit_at: tuple | None,
    note: str,
) -> None:
    inference = infer(image, command, args)
    assert inference.behaviour is not None
    assert exit_of(inference.behaviour) == exit_at
    assert note in notes_text(inference)


# Known images ----------------------------------------------------------------------

GO = (SigtermKind.EXIT, 0.0, 2, (), 0.0)

# (id, image, command, args, http {(port, path): statuses}, grpc ports, SIGTERM, note)
IMAGES = [
    (
        "http-liveness",
        "k8s.gcr.io/liveness",
        (),
        ("/server",),
        {(8080, "/healthz"): [200, 500], (8080, "/started"): [200]},
        [],
        GO,
        "/healthz answers 200 for the first 10s of uptime, then 500",
    ),
    (
        "agnhost-liveness",
        "registry.k8s.io/e2e-test-images/agnhost:2.40",
        (),
        ("liveness",),
        {(8080, "/healthz"): [200, 500], (8080, "/started"): [200]},
        [],
        GO,
        "runs agnhost liveness",
    ),
    (
        "agnhost-test-webserver",
        "agnhost:2.40",
        (),
        ("test-webserver",),
        {(80, ""): [200]},
        [],
        GO,
        "a file server",
    ),
    (
        "agnhost-test-webserver-port",
        "agnhost:2.40",
        (),
        ("test-webserver", "--port=8000"),
        {(8000, ""): [200]},
        [],
        GO,
        "",
    ),
    (
        "agnhost-netexec",
        "agnhost:2.40",
        (),
        ("netexec",),
        {(8080, ""): [200]},
        [],
        GO,
        "UDP is ignored",
    ),
    (
        "agnhost-netexec-port",
        "agnhost:2.40",
        ("/agnhost",),
        ("netexec", "--http-port", "9376"),
        {(9376, ""): [200]},
        [],
        GO,
        "",
    ),
    (
        "agnhost-grpc",
        "agnhost:2.40",
        (),
        ("grpc-health-checking",),
        {(8080, ""): [200]},
        [5000],
        GO,
        "answers SERVING for every service",
    ),
    (
        "agnhost-grpc-ports",
        "agnhost:2.40",
        (),
        ("grpc-health-checking", "--port=9000", "--http-port", "9001"),
        {(9001, ""): [200]},
        [9000],
        GO,
        "",
    ),
    (
        "agnhost-pause",
        "agnhost:2.40",
        (),
        ("pause",),
        {},
        [],
        (SigtermKind.EXIT, 0.0, 0, (), 0.0),
        "listens on no port",
    ),
    (
        "pause",
        "registry.k8s.io/pause:3.10",
        (),
        (),
        {},
        [],
        (SigtermKind.EXIT, 0.0, 0, (), 0.0),
        "exits at once with 0",
    ),
    (
        "goproxy",
        "k8s.gcr.io/goproxy:0.1",
        (),
        (),
        {(8080, ""): [500]},
        [],
        GO,
        "TCP connections succeed",
    ),
    (
        "nginx",
        "docker.io/library/nginx:1.27",
        (),
        (),
        {(80, ""): [200]},
        [],
        (SigtermKind.EXIT, 0.1, 0, (), 0.0),
        "every path is assumed to answer 200",
    ),
    (
        "nginx-command",
        "nginx@sha256:0123",
        ("nginx", "-g", "daemon off;"),
        (),
        {(80, ""): [200]},
        [],
        (SigtermKind.EXIT, 0.1, 0, (), 0.0),
        "",
    ),
]


@pytest.mark.parametrize(
    ("image", "command", "args", "http", "grpc", "sigterm", "note"),
    [case[1:] for case in IMAGES],
    ids=[case[0] for case in IMAGES],
)
def test_known_image(
    image: str,
    command: tuple[str, ...],
    args: tuple[str, ...],
    http: dict,
    grpc: list,
    sigterm: tuple,
    note: str,
) -> None:
    inference = infer(image, command, args)
    behaviour = inference.behaviour
    assert behaviour is not None
    found = {(e.port, e.path): [p.status for p in e.phases] for e in behaviour.http}
    assert found == http
    assert [e.port for e in behaviour.grpc] == grpc
    assert sigterm_of(behaviour) == sigterm
    assert behaviour.exit is None
    assert note in notes_text(inference)


def test_liveness_healthz_phases() -> None:
    behaviour = infer("k8s.gcr.io/liveness", args=("/server",)).behaviour
    assert behaviour is not None
    healthz = behaviour.http[0]
    assert [p.until_seconds for p in healthz.phases] == [10.0, INF]


def test_liveness_redirect_location_from_the_probe() -> None:
    probe = Probe(HTTPGetAction(8080, "/redirect?loc=%2Fhealthz"))
    behaviour = infer("agnhost", args=("liveness",), liveness_probe=probe).behaviour
    assert behaviour is not None
    redirect = [e for e in behaviour.http if e.path.startswith("/redirect")]
    assert len(redirect) == 1
    assert redirect[0].path == "/redirect?loc=%2Fhealthz"
    assert (redirect[0].phases[0].status, redirect[0].phases[0].location) == (
        302,
        "/healthz",
    )


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("registry.k8s.io/e2e-test-images/agnhost:2.40", "agnhost"),
        ("k8s.gcr.io/liveness", "liveness"),
        ("localhost:5000/busybox:1.36", "busybox"),
        ("nginx@sha256:abcd", "nginx"),
        ("nginx", "nginx"),
    ],
)
def test_image_name(image: str, name: str) -> None:
    assert image_name(image) == name


@pytest.mark.parametrize(
    ("image", "command", "args", "note"),
    [
        ("x:1", (), (), 'image "x:1" is not known: ' + NOTHING_INFERRED),
        ("x:1", ("/app",), ("--port=80",), "`/app --port=80` is not a known program"),
        (
            "agnhost",
            (),
            ("serve-hostname",),
            "`/agnhost serve-hostname` is not a known program",
        ),
        (
            "busybox",
            ("sh", "/run.sh"),
            (),
            "sh runs the script file /run.sh, which cannot be read",
        ),
    ],
)
def test_nothing_inferred(
    image: str, command: tuple[str, ...], args: tuple[str, ...], note: str
) -> None:
    inference = infer(image, command, args)
    assert inference.behaviour is None
    assert note in notes_text(inference)
    assert NOTHING_INFERRED in notes_text(inference)


# Ports the probes ask --------------------------------------------------------------


def test_probe_on_a_port_the_program_does_not_serve() -> None:
    probe = Probe(HTTPGetAction(8080, "/"))
    inference = infer("nginx:1.27", liveness_probe=probe)
    assert "the liveness probe asks port 8080, where nothing listens: it will be " in (
        notes_text(inference)
    )


def test_named_probe_port_is_resolved() -> None:
    probe = Probe(TCPSocketAction("web"))
    ports = (ContainerPort(80, "web"),)
    inference = infer("nginx:1.27", liveness_probe=probe, ports=ports)
    assert "nothing listens" not in notes_text(inference)


def test_a_script_understood_in_full_listens_on_no_port() -> None:
    inference = infer(
        command=("sleep", "3600"),
        readiness_probe=Probe(TCPSocketAction(80)),
        liveness_probe=Probe(GRPCAction(9000)),
    )
    behaviour = inference.behaviour
    assert behaviour is not None
    assert [(e.port, e.windows) for e in behaviour.tcp] == [(9000, ()), (80, ())]
    assert (
        "nothing in `sleep 3600` listens on port 80: the readiness probe will be "
        "refused"
    ) in notes_text(inference)


def test_a_script_not_understood_may_listen() -> None:
    probe = Probe(HTTPGetAction(8080, "/"))
    behaviour = script("httpd -f -p 8080", liveness_probe=probe).behaviour
    assert behaviour is not None
    assert behaviour.tcp == ()


def test_exec_probes_leave_ports_alone() -> None:
    probe = Probe(ExecAction(("cat", "/tmp/healthy")))
    behaviour = script(LIVENESS_EXEC, liveness_probe=probe).behaviour
    assert behaviour is not None
    assert behaviour.tcp == ()


def test_a_script_that_runs_a_known_server() -> None:
    inference = infer("nginx", ("sh", "-c", "sleep 5; exec nginx -g 'daemon off;'"))
    behaviour = inference.behaviour
    assert behaviour is not None
    assert [(e.port, e.path) for e in behaviour.http] == [(80, "")]
    assert sigterm_of(behaviour) == (SigtermKind.EXIT, 0.1, 0, (), 0.0)
    assert "at 5s it execs nginx" in notes_text(inference)


# Every note, and the value --------------------------------------------------------


def test_every_note_names_the_container() -> None:
    for text in (LIVENESS_EXEC, "foo; while :; do sleep 1; done", "sleep $X"):
        inference = script(text)
        assert inference.notes
        assert all(note.startswith('container "c": ') for note in inference.notes)


def test_inference_is_a_deterministic_value() -> None:
    text = "trap 'exit 0' TERM; (sleep 3; touch /tmp/r) & while true; do sleep 2; done"
    first, second = script(text), script(text)
    assert first == second
    assert first.behaviour is not None and first.behaviour.pod == "p"
    assert first.behaviour.container == "c"
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.notes = ()  # type: ignore[misc]


# Nothing is ever run ---------------------------------------------------------------

MODULES = [
    "inference",
    "known_images",
    "shell",
    "shell_clock",
    "shell_commands",
    "shell_words",
]


@pytest.mark.parametrize("module", MODULES)
def test_modules_cannot_run_anything(module: str) -> None:
    source = (Path(sim.__file__).parent / "scenario" / f"{module}.py").read_text()
    for forbidden in ("subprocess", "os.system", "eval(", "exec(", "import os"):
        assert forbidden not in source, (module, forbidden)


def test_a_destructive_script_is_only_read(tmp_path: Path) -> None:
    target = tmp_path / "made-by-the-script"
    keep = tmp_path / "keep"
    keep.write_text("still here")
    inference = script(f"touch {target}; rm -rf {tmp_path} /; sleep 1")
    assert not target.exists()
    assert keep.read_text() == "still here"
    assert inference.behaviour is not None
    assert windows(inference.behaviour) == {}  # created, then removed at once


# The reader ------------------------------------------------------------------------


def pod_yaml(container: str, name: str = "p") -> str:
    return (
        f"apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n"
        "  containers:\n" + textwrap.indent(textwrap.dedent(container), "  ")
    )


LIVENESS_EXEC_POD = pod_yaml(
    f"""\
    - name: liveness
      image: registry.k8s.io/busybox:1.27.2
      args: [/bin/sh, -c, "{LIVENESS_EXEC}"]
      livenessProbe:
        exec: {{command: [cat, /tmp/healthy]}}
        initialDelaySeconds: 5
        periodSeconds: 5
    """,
    name="liveness-exec",
)


def test_reader_adds_the_inferred_behaviour() -> None:
    s = read_scenario_text(LIVENESS_EXEC_POD, "case.yaml")
    (behaviour,) = s.behaviours
    assert (behaviour.pod, behaviour.container) == ("liveness-exec", "liveness")
    assert windows(behaviour) == {"/tmp/healthy": [(0.0, 30.0)]}
    assert behaviour.sigterm.kind is SigtermKind.IGNORE
    assert s.behaviour_for("liveness-exec", "liveness") == behaviour
    heading = no_behaviour_warning("liveness-exec", "liveness")
    assert f"case.yaml:6: {heading}" in s.warnings
    assert any(
        w.startswith(
            'case.yaml:6: Pod "liveness-exec" container "liveness": read the '
            "sh -c script: /tmp/healthy exists from 0s to 30s"
        )
        for w in s.warnings
    )


def test_validate_lists_the_notes(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(pod_yaml("- {name: app, image: busybox, command: [sh, -c, 'f']}\n"))
    messages = [p.message for p in validate_file(path) if p.line == 6]
    assert any("`f`" in m and "not understood" in m for m in messages)


def test_an_explicit_behaviour_wins() -> None:
    text = LIVENESS_EXEC_POD + textwrap.dedent("""\
        ---
        apiVersion: probesim/v1alpha1
        kind: Scenario
        metadata: {name: s}
        spec:
          behaviours:
          - {container: liveness, sigterm: {exitAfter: 1s}}
        """)
    s = read_scenario_text(text)
    (behaviour,) = s.behaviours
    assert behaviour.pod == ""
    assert behaviour.files == ()
    assert not any("read the sh -c script" in w for w in s.warnings)


def test_unknown_image_with_probes_is_reported() -> None:
    s = read_scenario_text(
        pod_yaml("- {name: app, image: 'x:1', livenessProbe: {tcpSocket: {port: 80}}}")
    )
    assert s.behaviours == ()
    assert any(NOTHING_INFERRED in w for w in s.warnings)
    assert any(no_behaviour_warning("p", "app") in w for w in s.warnings)


def test_unknown_image_without_probes_needs_nothing() -> None:
    s = read_scenario_text(pod_yaml("- {name: app, image: 'x:1'}"))
    assert s.behaviours == ()
    assert not any('container "app"' in w for w in s.warnings)


def test_horizon_is_the_scenario_duration() -> None:
    text = (
        pod_yaml(
            "- {name: app, image: busybox, command: [sh, -c, "
            "'while true; do touch /tmp/a; sleep 5; rm /tmp/a; sleep 5; done']}\n"
        )
        + "---\napiVersion: probesim/v1alpha1\nkind: Scenario\nmetadata: {name: s}\n"
    )
    text += "spec: {duration: 2m}\n"
    (behaviour,) = read_scenario_text(text).behaviours
    assert len(behaviour.files[0].windows) == 12


def _without_lines(s: sim.Scenario) -> sim.Scenario:
    return dataclasses.replace(
        s,
        pods=tuple(dataclasses.replace(p, source_line=0) for p in s.pods),
        behaviours=tuple(dataclasses.replace(b, source_line=0) for b in s.behaviours),
    )


ROUND_TRIP = {
    "liveness-exec": LIVENESS_EXEC_POD,
    "loop": pod_yaml(
        "- {name: app, image: busybox, command: [sh, -c, "
        "'while true; do touch /tmp/a; sleep 0.1; rm /tmp/a; sleep 0.2; done']}\n"
    ),
    "liveness-redirect": pod_yaml(
        "- name: app\n  image: k8s.gcr.io/liveness\n  args: [/server]\n"
        "  livenessProbe: {httpGet: {port: 8080, path: '/redirect?loc=%2Fhealthz'}}\n"
    ),
    "nginx-wrong-port": pod_yaml(
        "- {name: app, image: nginx, livenessProbe: {httpGet: {port: 8080}}}\n"
    ),
    "closed-port": pod_yaml(
        "- {name: app, image: busybox, command: [sleep, '3600'],\n"
        "   readinessProbe: {tcpSocket: {port: 80}}}\n"
    ),
    "grpc": pod_yaml("- {name: app, image: agnhost, args: [grpc-health-checking]}\n"),
}


@pytest.mark.parametrize("name", list(ROUND_TRIP))
def test_inferred_behaviours_round_trip(name: str) -> None:
    original = read_scenario_text(ROUND_TRIP[name])
    assert original.behaviours
    text = resolved_yaml(original)
    again = read_scenario_text(text)
    assert _without_lines(again) == _without_lines(original)
    assert resolved_yaml(again) == text


def test_inferred_trap_round_trips() -> None:
    original = read_scenario_text(
        pod_yaml(
            "- {name: app, image: busybox, command: [sh, -c, "
            "'trap \"sleep 3; exit 7\" TERM; sleep 600']}\n"
        )
    )
    assert original.behaviours[0].sigterm.kind is SigtermKind.TRAP
    again = read_scenario_text(resolved_yaml(original))
    assert _without_lines(again) == _without_lines(original)


# End to end ------------------------------------------------------------------------


def _times(events: Any, reason: str, count: int = 0) -> list[float]:
    rows = events[(events["reason"] == reason) & (events["restart_count"] == count)]
    return [float(t) for t in rows["time"]]


def test_liveness_exec_without_a_scenario_document(tmp_path: Path) -> None:
    path = tmp_path / "liveness-exec.yaml"
    path.write_text(LIVENESS_EXEC_POD)
    events = sim.simulate(sim.load_scenario(path), seed=1).events
    started = _times(events, "Started")[0]
    first_failure = _times(events, "Unhealthy")[0]
    assert 30.0 <= first_failure - started < 35.0
    killing = _times(events, "Killing")[0]
    exited = events[(events["reason"] == "Exited") & (events["restart_count"] == 0)]
    assert float(exited["time"].iloc[0]) == pytest.approx(killing + 30.0)
    assert re.search(r"\b137\b", exited["message"].iloc[0])
