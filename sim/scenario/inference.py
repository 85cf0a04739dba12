"""A container's behaviour read from its manifest, when the Scenario gives none.

``infer_behaviour`` works out which process a container runs (its ``command`` and
``args`` over the image's ENTRYPOINT and CMD, for the images of
``sim.scenario.known_images``) and reads what that process does, without running
anything:

* a shell script (``sh -c SCRIPT``, ``bash -c``...) is followed on a virtual clock
  (``sim.scenario.shell_clock``): which files exist when, when the script ends, and
  how PID 1 takes SIGTERM (ignored without a ``trap ... TERM``, R5.5);
* a utility run as PID 1 (``sleep 3600``, ``tail -f /dev/null``) likewise;
* a known program (the liveness server, agnhost's subcommands, nginx, goproxy,
  pause) answers on its well-known ports.

Every inference and every assumption becomes a note worded for the user; what cannot
be inferred is said so, never guessed silently.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

from sim.scenario.behaviour import (
    ZERO,
    Behaviour,
    Distribution,
    ExitBehaviour,
    FileBehaviour,
    GRPCBehaviour,
    HTTPBehaviour,
    Phase,
    SigtermBehaviour,
    SigtermKind,
    TCPBehaviour,
)
from sim.scenario.known_images import (
    IMAGES,
    PROGRAMS,
    WRAPPERS,
    basename,
    image_name,
    port_number,
    program_key,
)
from sim.scenario.shell import ShellSyntaxError
from sim.scenario.shell_clock import (
    StopReason,
    Timeline,
    run_argv,
    run_handler,
    run_script,
    show_time,
)
from sim.scenario.spec import (
    Container,
    GRPCAction,
    HTTPGetAction,
    Pod,
    ProbeType,
    TCPSocketAction,
)

NOTHING_INFERRED = (
    "no behaviour given or inferred; assuming every probe succeeds at once and "
    "SIGTERM ends the process at once"
)
SHELLS = frozenset({"sh", "bash", "ash", "dash"})
_IGNORED = SigtermBehaviour(SigtermKind.IGNORE)
_KILLED = "SIGKILL at the end of the grace period, exit 137"


@dataclass(frozen=True)
class Inference:
    """What was inferred about one container, and the notes that explain it."""

    behaviour: Behaviour | None
    notes: tuple[str, ...]


def infer_behaviour(
    pod: Pod, container: Container, horizon_seconds: float
) -> Inference:
    """Infer a container's behaviour from its manifest, without running anything.

    Parameters
    ----------
    pod
        The pod of the container (its name goes into ``Behaviour.pod``).
    container
        The container: its image, ``command``, ``args`` and probes are read.
    horizon_seconds
        How far an endless loop of a script is unrolled (the scenario's duration).

    Returns
    -------
    Inference
        The behaviour (None when nothing could be inferred) and the notes, each
        starting with ``container "NAME":``.
    """
    image = image_name(container.image)
    argv, guessed = _process(image, container)
    notes: list[str] = []
    behaviour = _read_process(argv, image, container, horizon_seconds, notes)
    if behaviour is not None:
        if guessed:
            notes.append(
                f'image "{container.image}" is not known: assumed to have no '
                "ENTRYPOINT, so args are the command"
            )
        behaviour = dataclasses.replace(
            behaviour, container=container.name, pod=pod.name
        )
        _check_ports(behaviour, container, notes)
    who = f'container "{container.name}": '
    return Inference(behaviour, tuple(who + note for note in notes))


def _process(image: str, container: Container) -> tuple[tuple[str, ...], bool]:
    """Return the argv of PID 1, and whether the image's ENTRYPOINT was guessed."""
    known = IMAGES.get(image)
    if container.command:
        argv = container.command + container.args
    elif known is not None:
        argv = known.entrypoint + (container.args or known.cmd)
    else:
        argv = container.args
    while argv and basename(argv[0]) in WRAPPERS:
        argv = argv[1:]
    return argv, known is None and not container.command and bool(argv)


def _read_process(
    argv: tuple[str, ...],
    image: str,
    container: Container,
    horizon: float,
    notes: list[str],
) -> Behaviour | None:
    """Read what PID 1 does; None (with a note) when it is not understood."""
    if not argv:
        notes.append(f'image "{container.image}" is not known: {NOTHING_INFERRED}')
        return None
    if basename(argv[0]) in SHELLS:
        return _read_shell(argv, image, container, horizon, notes)
    key, args = program_key(argv, image)
    if key in PROGRAMS:
        server = PROGRAMS[key](args, container)
        notes.append(f"runs {key}: {server.serves}; {server.on_sigterm}")
        return Behaviour(
            container.name, http=server.http, grpc=server.grpc, sigterm=server.sigterm
        )
    timeline = run_argv(argv, horizon)
    shown = f"`{' '.join(argv)}`"
    if timeline is None:
        notes.append(f"{shown} is not a known program: {NOTHING_INFERRED}")
        return None
    return _from_timeline(timeline, shown, container, horizon, notes)


def _read_shell(
    argv: tuple[str, ...],
    image: str,
    container: Container,
    horizon: float,
    notes: list[str],
) -> Behaviour | None:
    shell = basename(argv[0])
    script, errexit, operands = _shell_options(argv[1:])
    if script is None and operands:
        notes.append(
            f"{shell} runs the script file {operands[0]}, which cannot be read: "
            + NOTHING_INFERRED
        )
        return None
    if script is None:
        notes.append(
            f"{shell} with no command reads its standard input, which a container "
            "does not attach: it exits at once with status 0"
        )
        return Behaviour(container.name, exit=ExitBehaviour(ZERO, 0))
    what = f"the {shell} -c script"
    try:
        timeline = run_script(
            script,
            horizon,
            errexit=errexit,
            is_program=lambda words: program_key(words, image)[0] in PROGRAMS,
        )
    except ShellSyntaxError as error:
        notes.append(f"{what} cannot be read ({error}): {NOTHING_INFERRED}")
        return None
    return _from_timeline(timeline, what, container, horizon, notes)


def _shell_options(args: tuple[str, ...]) -> tuple[str | None, bool, tuple[str, ...]]:
    """Return the ``-c`` script, whether ``-e`` is set, and the other operands."""
    errexit = has_c = False
    index = 0
    while index < len(args) and args[index][:1] in ("-", "+") and args[index] != "-":
        option = args[index]
        index += 1
        if option == "--":
            break
        if option in ("-o", "+o"):
            errexit |= option == "-o" and args[index : index + 1] == ("errexit",)
            index += 1
        elif not option.startswith("--"):
            errexit |= option.startswith("-") and "e" in option
            has_c |= "c" in option
    operands = args[index:]
    if has_c:
        return (operands[0] if operands else ""), errexit, operands[1:]
    return None, errexit, operands


def _from_timeline(
    timeline: Timeline,
    what: str,
    container: Container,
    horizon: float,
    notes: list[str],
) -> Behaviour:
    """Turn what a script or utility does into a Behaviour, with notes."""
    parts = [_describe_file(f) for f in timeline.files]
    exit_behaviour = None
    if timeline.ended_at is not None:
        exit_behaviour = ExitBehaviour(
            Distribution.constant(timeline.ended_at), timeline.exit_code
        )
        parts.append(
            f"it ends at {show_time(timeline.ended_at)} with status "
            f"{timeline.exit_code}"
        )
    elif not timeline.program:
        parts.append("it never ends")
    behaviour = Behaviour(container.name, files=timeline.files, exit=exit_behaviour)
    details: list[str] = []
    if timeline.program:
        behaviour = _with_program(behaviour, timeline, container, parts)
    else:
        sigterm, (summary, *details) = _sigterm(timeline, horizon)
        behaviour = dataclasses.replace(behaviour, sigterm=sigterm)
        parts.append(summary)
    notes.append(f"read {what}: " + "; ".join(parts))
    notes.extend(details)
    notes.extend(f"in {what}, {note}" for note in timeline.notes)
    if not timeline.complete or timeline.program:
        return behaviour
    return _closed_ports(behaviour, container, what, notes)


def _with_program(
    behaviour: Behaviour, timeline: Timeline, container: Container, parts: list[str]
) -> Behaviour:
    """The script execs, or runs in the foreground, a known program (a server)."""
    key, args = program_key(timeline.program, image_name(container.image))
    server = PROGRAMS[key](args, container)
    start = timeline.program_at
    how = "execs" if timeline.program_exec else "runs in the foreground"
    parts.append(f"at {show_time(start)} it {how} {key}: {server.serves}")
    if start > 0:
        parts.append(f"its ports are assumed to answer from 0s, not {show_time(start)}")
    http = tuple(
        dataclasses.replace(e, phases=_shifted(e.phases, start)) for e in server.http
    )
    grpc = tuple(
        dataclasses.replace(e, phases=_shifted(e.phases, start)) for e in server.grpc
    )
    if timeline.program_exec:
        sigterm, said = server.sigterm, server.on_sigterm
    else:
        sigterm, said = (
            _IGNORED,
            (
                f"the shell stays PID 1 and has no TERM trap, so SIGTERM is ignored "
                f"({_KILLED})"
            ),
        )
        if timeline.trap is not None:
            said += "; its TERM trap runs only when the program ends, never"
    parts.append(said)
    return dataclasses.replace(behaviour, http=http, grpc=grpc, sigterm=sigterm)


def _shifted(phases: tuple[Phase, ...], seconds: float) -> tuple[Phase, ...]:
    return tuple(
        dataclasses.replace(p, until_seconds=p.until_seconds + seconds) for p in phases
    )


def _sigterm(timeline: Timeline, horizon: float) -> tuple[SigtermBehaviour, list[str]]:
    """How PID 1 takes SIGTERM (R5.5): the behaviour, a summary, then details."""
    if timeline.pid1 != "the shell":
        if not timeline.pid1_known:
            return SigtermBehaviour(), [
                f"{timeline.pid1} is PID 1: assumed to exit at once on SIGTERM"
            ]
        return _IGNORED, [
            f"{timeline.pid1} is PID 1 with no TERM handler, so SIGTERM is ignored "
            f"({_KILLED})"
        ]
    trap = timeline.trap
    if trap is None:
        return _IGNORED, [
            f"the shell is PID 1 without a TERM trap, so SIGTERM is ignored ({_KILLED})"
        ]
    if trap.handler is None:
        return _IGNORED, [f"`trap '' TERM`: the shell ignores SIGTERM ({_KILLED})"]
    details = []
    if trap.set_at > 0:
        details.append(
            f"the TERM trap is set at {show_time(trap.set_at)}; assumed set from 0s"
        )
    handler = run_handler(trap.handler, timeline.functions, horizon)
    details.extend(f"in the TERM trap, {note}" for note in handler.notes)
    if handler.exit_code is None or math.isinf(handler.duration):
        return _IGNORED, [
            f"the TERM trap `{trap.text}` does not exit: the script goes on after it, "
            f"so SIGTERM does not end it ({_KILLED})",
            *details,
        ]
    after = Distribution.constant(handler.duration)
    code = handler.exit_code
    does = f"takes {show_time(handler.duration)}, then exits with {code}"
    if timeline.stop is StopReason.BUSY or (timeline.waits and not timeline.boundaries):
        where = "in `wait`" if timeline.waits else "in a loop that never sleeps"
        return SigtermBehaviour(SigtermKind.EXIT, after, code), [
            f"the shell is {where}, so its TERM trap `{trap.text}` runs at once: it "
            + does,
            *details,
        ]
    boundaries, repeat = _boundaries(timeline)
    if timeline.waits:
        details.append(
            "SIGTERM during `wait` is taken at the end of the wait (the shell "
            "would run the trap at once)"
        )
    shown = ", ".join(show_time(b) for b in boundaries[:3])
    shown += "..." if len(boundaries) > 3 else ""
    shown += f", then every {show_time(repeat)}" if repeat else ""
    return SigtermBehaviour(SigtermKind.TRAP, after, code, boundaries, repeat), [
        f"the shell runs its TERM trap `{trap.text}` only when the current sleep ends "
        f"({shown or 'never'}); the trap {does}",
        *details,
    ]


def _boundaries(timeline: Timeline) -> tuple[tuple[float, ...], float]:
    """Ends of foreground sleeps; a regular loop as its first end and a period."""
    ends = sorted({*timeline.boundaries, *(e for _, e in timeline.waits)} - {math.inf})
    looping = (StopReason.HORIZON, StopReason.CAP, StopReason.BUDGET)
    if timeline.stop not in looping or len(ends) < 2:
        return tuple(ends), 0.0
    steps = [round(b - a, 9) for a, b in itertools.pairwise(ends)]
    start = len(steps)
    while start > 0 and steps[start - 1] == steps[-1]:
        start -= 1
    if start == 0 or len(steps) - start >= 2:
        return tuple(ends[: start + 1]), steps[-1]
    return tuple(ends), steps[-1]


def _describe_file(file: FileBehaviour) -> str:
    spans = [
        f"from {show_time(w.from_seconds)} on"
        if math.isinf(w.until_seconds)
        else f"from {show_time(w.from_seconds)} to {show_time(w.until_seconds)}"
        for w in file.windows
    ]
    if len(spans) > 3:
        return f"{file.path} exists {len(spans)} times, {', '.join(spans[:2])}, ..."
    return f"{file.path} exists " + " and ".join(spans)


def _probe_ports(container: Container) -> list[tuple[ProbeType, int | str]]:
    """The port of every network probe of the container."""
    found = []
    for probe_type in ProbeType:
        probe = container.probe(probe_type)
        handler = probe.handler if probe is not None else None
        if isinstance(handler, HTTPGetAction | TCPSocketAction | GRPCAction):
            found.append((probe_type, handler.port))
    return found


def _check_ports(behaviour: Behaviour, container: Container, notes: list[str]) -> None:
    """Say which probes ask a port the program does not listen on."""
    entries: tuple[HTTPBehaviour | GRPCBehaviour | TCPBehaviour, ...] = (
        *behaviour.http,
        *behaviour.grpc,
        *(e for e in behaviour.tcp if e.windows),
    )
    served = {port_number(container, e.port) for e in entries}
    if not served:
        return
    for probe_type, port in _probe_ports(container):
        if port_number(container, port) not in served:
            notes.append(
                f"the {probe_type.value} probe asks port {port}, where nothing "
                "listens: it will be refused"
            )


def _closed_ports(
    behaviour: Behaviour, container: Container, what: str, notes: list[str]
) -> Behaviour:
    """A script understood in full listens on no port: its network probes fail."""
    closed: list[int | str] = []
    for probe_type, port in _probe_ports(container):
        notes.append(
            f"nothing in {what} listens on port {port}: the {probe_type.value} "
            "probe will be refused"
        )
        if port not in closed:
            closed.append(port)
    tcp = tuple(TCPBehaviour(port, ()) for port in closed)
    return dataclasses.replace(behaviour, tcp=tcp)
