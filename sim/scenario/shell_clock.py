"""Following a parsed shell script on a virtual clock, without running anything.

``run_script`` walks the tree of ``sim.scenario.shell`` from uptime 0 and keeps track
of what the model needs: when each file exists, when the script ends and with which
status, where the shell could run a ``trap ... TERM`` handler (the end of each
foreground ``sleep``), and every assumption taken, as notes for the user.

Time passes only in ``sleep`` (and ``wait`` for background sleeps); every other
command is instantaneous. A command this module does not understand is assumed to take
no time and succeed, except as the script's last command: a script that ends with an
unknown program (``/app/server``) is assumed to run it until the container is killed.
Endless loops are unrolled up to a horizon.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.scenario.behaviour import FileBehaviour
from sim.scenario.shell import (
    AndOr,
    ForLoop,
    FunctionDef,
    Group,
    IfClause,
    Loop,
    Node,
    Pipeline,
    Redirect,
    Sequence,
    Simple,
    Unsupported,
    parse_script,
)
from sim.scenario.shell_commands import (
    COMMANDS,
    SHELL_ONLY,
    FileTable,
    FunctionReturn,
    Halt,
    Replaced,
    ScriptExit,
    StopReason,
    TermTrap,
    show_time,
)
from sim.scenario.shell_words import Word, command_text

__all__ = [
    "HandlerRun",
    "StopReason",
    "Timeline",
    "run_argv",
    "run_handler",
    "run_script",
    "show_time",
]

MAX_WINDOWS = 10_000
"""Most file windows an unrolled loop produces before the reader stops unrolling."""
MAX_STEPS = 200_000
MAX_DEPTH = 64
_WRAPPERS = frozenset({"busybox", "command", "builtin", "nohup"})


@dataclass(frozen=True)
class Timeline:
    """What a script does on its own clock.

    ``ended_at`` is the uptime at which the script ends (None: it never does, within
    the horizon) and ``exit_code`` its status then. ``boundaries`` are the uptimes at
    which a foreground ``sleep`` ends; ``waits`` the intervals spent in ``wait``.
    ``program`` is the argv of a known program the script turns into (``exec`` it, or
    run it in the foreground) at ``program_at``. ``pid1`` names the process that
    gets SIGTERM when it is not the shell (after ``exec sleep``); ``pid1_known``
    whether its handling is known. ``complete`` is false when some command was not
    understood (it might, say, listen on a port).
    """

    files: tuple[FileBehaviour, ...]
    ended_at: float | None
    exit_code: int
    stop: StopReason | None
    boundaries: tuple[float, ...]
    waits: tuple[tuple[float, float], ...]
    trap: TermTrap | None
    program: tuple[str, ...]
    program_at: float
    program_exec: bool
    pid1: str
    pid1_known: bool
    complete: bool
    notes: tuple[str, ...]
    functions: tuple[tuple[str, Node], ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class HandlerRun:
    """A trap handler followed from the moment it starts."""

    duration: float
    exit_code: int | None
    notes: tuple[str, ...]


def run_script(
    script: str,
    horizon_seconds: float,
    *,
    errexit: bool = False,
    is_program: Callable[[tuple[str, ...]], bool] = lambda argv: False,
) -> Timeline:
    """Follow a script from uptime 0.

    Parameters
    ----------
    script
        The script text (never executed).
    horizon_seconds
        How far endless loops are unrolled.
    errexit
        The shell runs with ``-e``.
    is_program
        Whether an argv is a known long-running program (a server).

    Raises
    ------
    ShellSyntaxError
        When the script cannot be read.
    """
    runner = ScriptRunner(horizon_seconds, is_program)
    runner.errexit = errexit
    return runner.follow(parse_script(script))


def run_argv(argv: tuple[str, ...], horizon_seconds: float) -> Timeline | None:
    """Follow a utility run as PID 1 (``sleep 3600``), or None if not understood."""
    words = tuple(Word(text, text) for text in argv)
    base = argv[0].rsplit("/", 1)[-1] if argv else ""
    if base not in COMMANDS or base in SHELL_ONLY:
        return None
    runner = ScriptRunner(horizon_seconds, lambda argv: False)
    runner.pid1 = base
    return runner.follow(Sequence(((Simple(words), False),)))


def run_handler(
    handler: Sequence, functions: tuple[tuple[str, Node], ...], horizon: float
) -> HandlerRun:
    """Follow a trap handler: how long it takes and the status it exits with.

    ``exit_code`` is None when the handler does not exit (the script then goes on).
    """
    runner = ScriptRunner(horizon, lambda argv: False)
    runner.functions = dict(functions)
    code: int | None = None
    try:
        runner.sequence(handler)
    except ScriptExit as done:
        code = done.code
    except FunctionReturn:
        pass  # the handler returns: the script goes on
    except (Halt, Replaced):
        runner.clock = math.inf
    return HandlerRun(runner.clock, code, tuple(runner.notes))


@dataclass
class _Shared:
    """What a script and its background jobs share."""

    files: FileTable = field(default_factory=FileTable)
    notes: dict[str, None] = field(default_factory=dict)
    steps: int = 0
    windows: int = 0
    complete: bool = True


class ScriptRunner:
    """One shell process on the virtual clock."""

    def __init__(
        self, horizon: float, is_program: Callable[[tuple[str, ...]], bool]
    ) -> None:
        self.horizon = horizon
        self.is_program = is_program
        self.shared = _Shared()
        self.clock = 0.0
        self.status = 0
        self.functions: dict[str, Node] = {}
        self.trap: TermTrap | None = None
        self.exit_trap: Sequence | None = None
        self.boundaries: list[float] = []
        self.waits: list[tuple[float, float]] = []
        self.background: list[float] = []
        self.errexit = False
        self.condition = 0
        self.depth = 0
        self.unknown_last = ""
        self.pid1 = "the shell"
        self.pid1_known = True

    @property
    def notes(self) -> list[str]:
        """Every note so far, in order."""
        return list(self.shared.notes)

    def note(self, text: str) -> None:
        """Record an assumption or inference for the user (once)."""
        self.shared.notes.setdefault(text, None)

    # The whole script.

    def follow(self, tree: Sequence) -> Timeline:
        """Follow a whole script from uptime 0 and return what it does."""
        ended: float | None = None
        stop = None
        program: tuple[str, ...] = ()
        program_exec = False
        try:
            try:
                self.sequence(tree)
                if self.unknown_last:
                    self.shared.notes.pop(_unknown_note(self.unknown_last), None)
                    self.note(
                        f"the script ends with `{self.unknown_last}`, which is not "
                        "understood: assumed to run until the container is killed"
                    )
                    raise Halt(StopReason.BLOCKED)
            except (ScriptExit, FunctionReturn) as done:
                self.status = done.code  # `return` outside a function ends it too
            self._exit_trap()
            ended = self.clock
        except Halt as halt:
            stop = halt.reason
        except Replaced as replaced:
            program, program_exec = replaced.argv, replaced.via_exec
        if stop is StopReason.HORIZON:
            self.note(
                f"an endless loop: unrolled up to {show_time(self.horizon)} (the "
                "scenario's duration); the script never ends"
            )
        return Timeline(
            files=self.shared.files.behaviours(),
            ended_at=ended,
            exit_code=self.status,
            stop=stop,
            boundaries=tuple(sorted(set(self.boundaries))),
            waits=tuple(self.waits),
            trap=self.trap,
            program=program,
            program_at=self.clock,
            program_exec=program_exec,
            pid1=self.pid1,
            pid1_known=self.pid1_known,
            complete=self.shared.complete,
            notes=tuple(self.notes),
            functions=tuple(self.functions.items()),
        )

    def _exit_trap(self) -> None:
        if self.exit_trap is None:
            return
        handler, self.exit_trap = self.exit_trap, None
        try:
            self.sequence(handler)
        except (ScriptExit, FunctionReturn) as done:
            self.status = done.code

    # Nodes.

    def sequence(self, sequence: Sequence) -> int:
        """Follow commands in order; return the last status."""
        for node, background in sequence.items:
            if background:
                self._fork(node)
                self.status = 0
                continue
            self.status = self.node(node)
            failed = self.status != 0 and not isinstance(node, AndOr | Pipeline)
            if self.errexit and not self.condition and failed:
                raise ScriptExit(self.status)
        return self.status

    def node(self, node: Node) -> int:
        """Follow one command of any kind; return its status."""
        self.shared.steps += 1
        if self.shared.steps > MAX_STEPS:
            self.note(f"followed for {MAX_STEPS} commands only; the rest is not read")
            raise Halt(StopReason.BUDGET)
        if isinstance(node, FunctionDef):
            self.functions[node.name] = node.body
            return 0
        if isinstance(node, Unsupported):
            self.shared.complete = False
            self.note(f"`{node.text}`: not followed; assumed to take no time")
            return 0
        follow: dict[type, Callable[[Any], int]] = {
            Simple: self._simple,
            Sequence: self.sequence,
            AndOr: self._and_or,
            Pipeline: self._pipeline,
            Loop: self._loop,
            ForLoop: self._for,
            IfClause: self._if,
            Group: self._group,
        }
        return follow[type(node)](node)

    def _test(self, sequence: Sequence) -> int:
        self.condition += 1
        try:
            return self.sequence(sequence)
        finally:
            self.condition -= 1

    def _and_or(self, node: AndOr) -> int:
        self.condition += 1
        try:
            status = self.node(node.first)
        finally:
            self.condition -= 1
        for index, (op, command) in enumerate(node.rest):
            if (op == "&&") != (status == 0):
                continue
            if index < len(node.rest) - 1:
                status = self._test(Sequence(((command, False),)))
            else:
                status = self.node(command)
        return status

    def _pipeline(self, node: Pipeline) -> int:
        if len(node.commands) == 1:
            status = self._test(Sequence(((node.commands[0], False),)))
        else:
            shown = " | ".join(_shown(c) for c in node.commands)
            self.note(f"`{shown}`: pipelines are not followed; assumed to take no time")
            self.unknown_last = ""
            self.shared.complete = False
            status = 0
        return int(status == 0) if node.negated else status

    def _loop(self, node: Loop) -> int:
        status, still = 0, 0
        while True:
            if self.clock >= self.horizon:
                raise Halt(StopReason.HORIZON)
            start = self.clock
            if (self._test(node.condition) == 0) == node.until:
                return status
            status = self.sequence(node.body)
            still = still + 1 if self.clock == start else 0
            if still >= 3:
                self.note(
                    f"a loop that never sleeps spins from {show_time(self.clock)} on: "
                    "the script never ends"
                )
                raise Halt(StopReason.BUSY)

    def _for(self, node: ForLoop) -> int:
        items: tuple[Word | None, ...] = node.items
        if any(item.dynamic or item.glob for item in node.items):
            self.note(
                f"`for {node.variable} in "
                f"{command_text(node.items)}`: the list is only known when the "
                "script runs; its body is read once"
            )
            items = (None,)
        status = 0
        for _ in items:
            if self.clock >= self.horizon:
                raise Halt(StopReason.HORIZON)
            status = self.sequence(node.body)
        return status

    def _if(self, node: IfClause) -> int:
        for condition, body in node.branches:
            if self._test(condition) == 0:
                return self.sequence(body)
        return self.sequence(node.otherwise) if node.otherwise else 0

    def _group(self, node: Group) -> int:
        if not node.subshell:
            return self.sequence(node.body)
        try:
            return self.sequence(node.body)
        except ScriptExit as done:
            return done.code

    def _fork(self, node: Node) -> None:
        """Run a background job to its end; the script goes on at once."""
        child = copy.copy(self)
        child.boundaries, child.waits, child.background = [], [], []
        child.functions = dict(self.functions)
        child.unknown_last = ""
        try:
            child.node(node)
            if child.unknown_last:
                self.note(
                    f"`{child.unknown_last} &`: a background job that is not "
                    "understood is assumed to run until the container is killed"
                )
                child.clock = math.inf
                self.shared.complete = False
        except (ScriptExit, FunctionReturn):
            pass
        except Halt:
            child.clock = math.inf
        except Replaced as replaced:
            self.note(
                f"`{' '.join(replaced.argv)} &`: a program started in the background "
                "is assumed to run until the container is killed; its ports are not "
                "read"
            )
            child.clock = math.inf
        self.background.append(child.clock)

    # Simple commands.

    def _simple(self, node: Simple) -> int:
        self._redirect(node.redirects)
        if not node.words:
            if node.assignments:
                self.note(
                    f"`{command_text(node.assignments)}`: variables are not tracked"
                )
            return 0
        name = node.words[0]
        if name.dynamic:
            return self._unknown(node.words)
        if name.text in self.functions:
            return self._call(name.text)
        argv = tuple(w.text for w in node.words)
        if self.is_program(argv):
            raise Replaced(argv, False)
        base = name.text.rsplit("/", 1)[-1]
        if base in _WRAPPERS and len(node.words) > 1:
            return self._simple(Simple(node.words[1:]))
        command = COMMANDS.get(base)
        if command is None:
            return self._unknown(node.words)
        self.unknown_last = ""
        return command(self, node.words[1:])

    def _unknown(self, words: tuple[Word, ...]) -> int:
        text = command_text(words)
        self.note(_unknown_note(text))
        self.unknown_last = text
        self.shared.complete = False
        return 0

    def _call(self, name: str) -> int:
        if self.depth >= MAX_DEPTH:
            self.note(f"`{name}` calls itself too deeply; the rest is not read")
            raise Halt(StopReason.BUDGET)
        self.depth += 1
        try:
            return self.node(self.functions[name])
        except FunctionReturn as done:
            return done.code
        finally:
            self.depth -= 1

    def _redirect(self, redirects: tuple[Redirect, ...]) -> None:
        for redirect in redirects:
            if redirect.op in (">", ">>", ">|", "&>"):
                self.create(redirect.target)

    # Files.

    def set_file(self, path: str, exists: bool) -> None:
        """Record that a file appears or disappears now."""
        if path.startswith("/dev/") or path == "/dev":
            return
        if self.exists(path) is exists:
            return
        self.shared.windows += exists
        if self.shared.windows > MAX_WINDOWS:
            self.note(
                f"loop unrolled up to {show_time(self.clock)} only ({MAX_WINDOWS} "
                "file windows); after that the files keep their last state"
            )
            raise Halt(StopReason.CAP)
        self.shared.files.set(path, exists, self.clock)

    def exists(self, path: str) -> bool | None:
        """Whether the script's file exists now; None when it never touches it."""
        return self.shared.files.exists(path, self.clock)

    def create(self, word: Word) -> None:
        """Create a file named by a word (unless only known at run time)."""
        if word.dynamic or word.glob:
            self.note(f"`{word.raw}`: a file name only known at run time; not tracked")
            return
        self.set_file(word.text, True)

    # Time.

    def advance(self, seconds: float) -> None:
        """Let time pass; forever halts the script (it is blocked)."""
        if math.isinf(seconds):
            self.clock = math.inf
            raise Halt(StopReason.BLOCKED)
        self.clock = round(self.clock + seconds, 9)


def _unknown_note(text: str) -> str:
    return f"`{text}`: not understood; assumed to take no time and succeed"


def _shown(node: Node) -> str:
    if isinstance(node, Simple):
        return command_text(node.words, 30)
    return "..."
