"""The commands a script may run, as seen on the virtual clock of ``shell_clock``.

``COMMANDS`` maps a command name to a function of the runner and the operands that
returns the command's status: ``sleep`` moves the clock, ``touch``/``rm``/``mv``/
``cp``/``mkdir`` and ``>`` change which files exist, ``cat``/``ls``/``test`` read
them, ``trap`` sets the TERM handler, ``exit``/``return``/``exec`` end the script or
the function. Everything else that only prints or sets shell state is instantaneous.
Nothing is executed.
"""

from __future__ import annotations

import bisect
import enum
import fnmatch
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sim.scenario.behaviour import FileBehaviour, Window
from sim.scenario.durations import format_duration
from sim.scenario.shell import Sequence, ShellSyntaxError, parse_script
from sim.scenario.shell_words import Word, command_text

if TYPE_CHECKING:
    from sim.scenario.shell_clock import ScriptRunner

_RUNTIME_DIRS = ("/tmp/", "/run/", "/var/run/", "/dev/shm/")
_SLEEP = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIGNALS = {"0": "EXIT", "1": "HUP", "2": "INT", "3": "QUIT", "9": "KILL", "15": "TERM"}
_INSTANT = frozenset(
    {
        "echo", "printf", "date", "env", "printenv", "hostname", "id", "whoami",
        "pwd", "uname", "cd", "export", "unset", "umask", "ulimit", "readonly",
        "local", "shift", "chmod", "chown", "sync", "ps", "df", "free", "uptime",
        "nproc", "which", "type", "hash", "logger",
    }
)  # fmt: skip


def show_time(seconds: float) -> str:
    """Render an uptime for notes (``30s``, ``10m30s``, ``forever``)."""
    return "forever" if math.isinf(seconds) else format_duration(seconds)


def sleep_seconds(text: str) -> float | None:
    """Seconds of a busybox ``sleep`` operand (``5``, ``1.5``, ``2m``, ``inf``)."""
    if text.lower() in ("inf", "infinity"):
        return math.inf
    match = _SLEEP.match(text)
    return float(match[1]) * _UNITS[match[2]] if match else None


class StopReason(enum.Enum):
    """Why the script was followed no further."""

    BLOCKED = "blocked"
    HORIZON = "horizon"
    CAP = "cap"
    BUSY = "busy"
    BUDGET = "budget"


@dataclass(frozen=True)
class TermTrap:
    """The ``trap ... TERM`` in effect: its text, parsed commands (None: ignored)."""

    text: str
    handler: Sequence | None
    set_at: float


class ScriptExit(Exception):
    """The script (or a subshell) exits with ``code``."""

    def __init__(self, code: int) -> None:
        self.code = code


class FunctionReturn(Exception):
    """A function returns with ``code``."""

    def __init__(self, code: int) -> None:
        self.code = code


class Halt(Exception):
    """The script is followed no further."""

    def __init__(self, reason: StopReason) -> None:
        self.reason = reason


class Replaced(Exception):
    """The script turns into a known program (``argv``)."""

    def __init__(self, argv: tuple[str, ...], via_exec: bool) -> None:
        self.argv = argv
        self.via_exec = via_exec


class FileTable:
    """When each file a script touches exists, as events on the virtual clock.

    Background jobs add events ahead of the script's own clock, so the events of
    each path are kept sorted by (time, order of arrival).
    """

    def __init__(self) -> None:
        self._events: dict[str, list[tuple[float, int, bool]]] = {}
        self._order = itertools.count()

    def paths(self) -> list[str]:
        """Every path the script touched."""
        return list(self._events)

    def exists(self, path: str, clock: float) -> bool | None:
        """Whether a file exists at ``clock``; None when the script never touches it."""
        events = self._events.get(path)
        if events is None:
            return None
        index = bisect.bisect_right(events, (clock, math.inf, True))
        return events[index - 1][2] if index else False

    def set(self, path: str, exists: bool, clock: float) -> None:
        """Record that a file appears (or disappears) at ``clock``."""
        events = self._events.setdefault(path, [])
        bisect.insort(events, (clock, next(self._order), exists))

    def behaviours(self) -> tuple[FileBehaviour, ...]:
        """The windows of every file that exists at some time."""
        found = []
        for path, events in self._events.items():
            windows: list[Window] = []
            since: float | None = None
            for time, _, exists in [*events, (math.inf, 0, False)]:
                if exists and since is None:
                    since = time
                elif not exists and since is not None and time > since:
                    if windows and windows[-1].until_seconds == since:
                        since = windows.pop().from_seconds
                    windows.append(Window(since, time))
                    since = None
                elif not exists:
                    since = None
            if windows:
                found.append(FileBehaviour(path, tuple(windows)))
        return tuple(found)


def present(run: ScriptRunner, word: Word) -> bool:
    """Whether a file the script reads exists (assumption noted if unknown)."""
    known = None if word.dynamic else run.exists(word.text)
    if known is not None:
        return known
    absent = word.text.startswith(_RUNTIME_DIRS)
    run.note(
        f"{word.raw}: a file the script does not create; assumed "
        + ("absent" if absent else "present (part of the image)")
    )
    return not absent


def _sleep(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    total = 0.0
    for arg in args:
        seconds = None if arg.dynamic else sleep_seconds(arg.text)
        if seconds is None:
            run.note(
                f"`sleep {arg.raw}`: duration not known before the script runs; "
                "assumed 0s"
            )
            continue
        total += seconds
    if total > 0:
        run.advance(total)
        run.boundaries.append(run.clock)
    return 0


def _operands(args: tuple[Word, ...]) -> tuple[list[Word], str]:
    """Split operands from single-letter options (``-rf``)."""
    operands: list[Word] = []
    flags = ""
    for arg in args:
        if arg.text.startswith("-") and len(arg.text) > 1 and not operands:
            flags += arg.text.lstrip("-")
        else:
            operands.append(arg)
    return operands, flags


def _touch(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    operands, flags = _operands(args)
    if "c" not in flags:
        for word in operands:
            run.create(word)
    return 0


def _rm(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    operands, flags = _operands(args)
    recursive = "r" in flags.lower() or "recursive" in flags
    force = "f" in flags or "force" in flags
    status = 0
    for word in operands:
        if word.dynamic:
            run.note(f"`rm {word.raw}`: a file name only known at run time; ignored")
            continue
        pattern = word.text.rstrip("/") or "/"
        hits = [
            path
            for path in run.shared.files.paths()
            if run.exists(path)
            and (
                (fnmatch.fnmatchcase(path, pattern) if word.glob else path == pattern)
                or (recursive and path.startswith(pattern.rstrip("/") + "/"))
            )
        ]
        for path in hits:
            run.set_file(path, False)
        if not hits and run.exists(pattern) is False and not force:
            status = 1
    return status


def _mv(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    operands, _ = _operands(args)
    if len(operands) >= 2:
        for word in operands[:-1]:
            if not (word.dynamic or word.glob) and run.exists(word.text):
                run.set_file(word.text, False)
    return _cp(run, args)


def _cp(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    operands, _ = _operands(args)
    if len(operands) >= 2:
        run.create(operands[-1])
    return 0


def _read_files(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    operands, _ = _operands(args)
    return 0 if all(present(run, word) for word in operands) else 1


def _test(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    words = [w for w in args]
    if words and words[-1].text == "]":
        words = words[:-1]
    negate = bool(words) and words[0].text == "!"
    words = words[negate:]
    if len(words) == 2 and words[0].text in ("-f", "-e", "-d", "-s", "-r", "-x"):
        status = 0 if present(run, words[1]) else 1
    else:
        run.note(f"`test {command_text(tuple(args))}`: not understood; assumed true")
        status = 0
    return int(status == 0) if negate else status


def _exit(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    raise ScriptExit(_status_operand(run, args))


def _return(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    raise FunctionReturn(_status_operand(run, args))


def _status_operand(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    if args and not args[0].dynamic and args[0].text.lstrip("-").isdigit():
        return int(args[0].text) % 256
    if args:
        run.note(f"`exit {args[0].raw}`: status not known; assumed 0")
        return 0
    return run.status


def _trap(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    words = list(args)
    if not words or words[0].text in ("-p", "-l"):
        return 0
    action: Word | None = words[0]
    signals = words[1:]
    if len(words) == 1 or words[0].text.isdigit():
        action, signals = None, words  # only signals: reset them
    names = {_signal(w.text) for w in signals}
    if action is None or action.text == "-":
        if "TERM" in names:
            run.trap = None
        return 0
    handler = None
    if action.text:
        try:
            handler = parse_script(action.text)
        except ShellSyntaxError as error:
            run.note(f"the trap's commands cannot be read ({error}); ignored")
            return 0
    if "TERM" in names:
        run.trap = TermTrap(action.text, handler, run.clock)
    if "EXIT" in names and handler is not None:
        run.exit_trap = handler
    return 0


def _signal(name: str) -> str:
    name = name.upper()
    return _SIGNALS.get(name, name.removeprefix("SIG"))


def _wait(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    if not run.background:
        return 0
    end, start = max(run.background), run.clock
    run.background.clear()
    if end > start:
        run.waits.append((start, end))
        run.advance(end - start)
    return 0


def _replace_shell(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    if not args:
        return 0
    argv = tuple(w.text for w in args)
    if run.is_program(argv):
        raise Replaced(argv, True)
    base = args[0].text.rsplit("/", 1)[-1]
    run.pid1 = base
    run.trap = run.trap if run.trap and run.trap.handler is None else None
    if base in COMMANDS and base not in SHELL_ONLY:
        raise ScriptExit(COMMANDS[base](run, args[1:]))
    run.pid1_known = False
    run.shared.complete = False
    run.note(
        f"`exec {command_text(args)}`: the shell becomes a program that is not "
        "understood; assumed to run until the container is killed"
    )
    raise Halt(StopReason.BLOCKED)


def _set_options(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    texts = [w.text for w in args]
    for index, text in enumerate(texts):
        if text.startswith(("-", "+")) and "e" in text and not text.startswith("-o"):
            run.errexit = text.startswith("-")
        if text in ("-o", "+o") and texts[index + 1 : index + 2] == ["errexit"]:
            run.errexit = text == "-o"
    return 0


def _tail(run: ScriptRunner, args: tuple[Word, ...]) -> int:
    _, flags = _operands(args)
    if "f" in flags.lower() or "follow" in flags:
        run.advance(math.inf)
    return 0


COMMANDS: dict[str, Callable[[ScriptRunner, tuple[Word, ...]], int]] = {
    "sleep": _sleep,
    "touch": _touch,
    "rm": _rm,
    "mkdir": _touch,
    "cp": _cp,
    "mv": _mv,
    "ln": _cp,
    "cat": _read_files,
    "ls": _read_files,
    "test": _test,
    "[": _test,
    "true": lambda run, args: 0,
    ":": lambda run, args: 0,
    "false": lambda run, args: 1,
    "read": lambda run, args: 1,
    "exit": _exit,
    "return": _return,
    "trap": _trap,
    "wait": _wait,
    "exec": _replace_shell,
    "set": _set_options,
    "tail": _tail,
    **{name: (lambda run, args: 0) for name in _INSTANT},
}
SHELL_ONLY = frozenset(
    {"exit", "return", "trap", "wait", "exec", "set", ":", "read", "cd", "export"}
)
