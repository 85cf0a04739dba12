"""Helpers shared by the benchmark scripts: timing, memory, load and the machine.

Every script prints plain text: its figures, then one line starting with
``SUMMARY`` (see ``summary``). Timings are wall-clock (``time.perf_counter``); each
figure is printed with the load average of the moment, since the machine may be
shared with other work. On a virtual machine the host may also take the CPU away
(steal time), which the guest's load average does not show: the header and the
summary therefore also give the speed of a bare SimPy loop (``reference_speed``)
and the share of steal time since the script started.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Generator, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "scenarios"


@dataclass(frozen=True)
class Timing:
    """Wall and CPU times of repeated calls of one function, in seconds.

    The CPU time is this process's (``time.process_time``): on a busy machine it
    stays close to the work done while the wall time grows with the competition.
    """

    walls: tuple[float, ...]
    cpus: tuple[float, ...]

    @property
    def best(self) -> float:
        """The fastest wall time (the least disturbed by other processes)."""
        return min(self.walls)

    @property
    def median(self) -> float:
        """The median wall time."""
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        """The CPU time of the call with the best wall time."""
        return self.cpus[self.walls.index(self.best)]

    def describe(self) -> str:
        """Best (and median) wall time and the CPU time, as text."""
        if len(self.walls) == 1:
            return f"{self.best:.3f} s wall, {self.cpu:.3f} s CPU"
        return (
            f"best {self.best:.3f} s wall ({self.cpu:.3f} s CPU), "
            f"median {self.median:.3f} s of {len(self.walls)}"
        )


def timed(function: Callable[[], Any]) -> tuple[Any, Timing]:
    """Call ``function`` once; return its value and its timing."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function()
    return value, Timing((time.perf_counter() - wall,), (time.process_time() - cpu,))


def repeat(function: Callable[[], Any], times: int) -> Timing:
    """Call ``function`` ``times`` times (at least once) and keep every timing."""
    timings = [timed(function)[1] for _ in range(max(1, times))]
    return Timing(tuple(t.walls[0] for t in timings), tuple(t.cpus[0] for t in timings))


Name = TypeVar("Name", bound=Hashable)


def interleaved(
    functions: dict[Name, Callable[[], Any]],
    rounds: int,
    per_round: dict[Name, int] | None = None,
) -> dict[Name, Timing]:
    """Time several functions in alternation, so that a drift of the machine's
    speed falls on all of them alike; ``per_round`` calls of each in each round.
    """
    walls: dict[Name, list[float]] = {name: [] for name in functions}
    cpus: dict[Name, list[float]] = {name: [] for name in functions}
    for _ in range(max(1, rounds)):
        for name, function in functions.items():
            timing = repeat(function, (per_round or {}).get(name, 1))
            walls[name].extend(timing.walls)
            cpus[name].extend(timing.cpus)
    return {name: Timing(tuple(walls[name]), tuple(cpus[name])) for name in functions}


def load_average() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages (``os.getloadavg``)."""
    return os.getloadavg()


def load_text() -> str:
    """The load averages as ``load 1.02/0.98/0.95`` (1, 5, 15 minutes)."""
    one, five, fifteen = load_average()
    return f"load {one:.2f}/{five:.2f}/{fifteen:.2f}"


def bare_loop(iterations: int) -> None:
    """Run a SimPy process that does ``iterations`` timeouts of 1 s."""
    import simpy

    def loop(env: simpy.Environment) -> Generator[simpy.Event, object, None]:
        for _ in range(iterations):
            yield env.timeout(1)

    env = simpy.Environment()
    env.process(loop(env))
    env.run()


def reference_speed(iterations: int = 200_000) -> float:
    """µs per iteration of ``bare_loop`` now (best of 3): how fast the machine is."""
    return repeat(lambda: bare_loop(iterations), 3).best / iterations * 1e6


def cpu_ticks() -> tuple[int, int]:
    """All and stolen CPU ticks of the machine so far (``/proc/stat``; 0, 0 elsewhere).

    Steal is time the hypervisor gave this virtual machine's CPUs to someone else.
    """
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0, 0
    numbers = [int(f) for f in fields]
    return sum(numbers[:8]), numbers[7] if len(numbers) > 7 else 0


_START_TICKS = cpu_ticks()


def steal_text() -> str:
    """The share of CPU time stolen by the hypervisor since the script started."""
    total, steal = cpu_ticks()
    spent = total - _START_TICKS[0]
    share = (steal - _START_TICKS[1]) / spent if spent > 0 else 0.0
    return f"steal {share:.0%}"


def peak_rss_kib() -> int:
    """Peak resident set size of this process so far, in KiB (Linux ``ru_maxrss``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (the platform's name elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    """CPU, cores, Python and library versions, for the header of each script."""
    import numpy
    import pandas
    import simpy

    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "simpy": simpy.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
    }


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the ``--quick`` flag every script takes."""
    result = argparse.ArgumentParser(description=description)
    result.add_argument(
        "--quick",
        action="store_true",
        help="small sizes that finish in seconds (a smoke test)",
    )
    return result


def header(title: str) -> None:
    """Print the benchmark's title, the machine and the load average."""
    print(title)
    print("=" * len(title))
    info = machine()
    print(
        f"{info['cpu']}, {info['cores']} cores; Python {info['python']}, "
        f"simpy {info['simpy']}, numpy {info['numpy']}, pandas {info['pandas']}"
    )
    print(f"start: {load_text()}; bare SimPy iteration {reference_speed():.3f} µs")
    print()


def table(rows: Sequence[Sequence[object]], headings: Sequence[str]) -> str:
    """Rows as a plain-text table with left-aligned columns."""
    cells = [list(map(str, headings))] + [list(map(str, row)) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headings))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def summary(name: str, text: str) -> None:
    """Print the final one-line summary of a script, with the state of the machine."""
    print()
    print(
        f"SUMMARY {name}: {text} ({load_text()}; {steal_text()}; bare SimPy "
        f"iteration {reference_speed():.3f} µs at the end)"
    )


def run_isolated(script: Path, arguments: Sequence[str]) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter and read the JSON it prints last.

    A fresh process gives each measurement its own peak RSS, free of what earlier
    measurements left behind.
    """
    completed = subprocess.run(
        [sys.executable, str(script), *arguments],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def seconds_text(seconds: float) -> str:
    """A duration as the scenario format writes it (``1h``, ``720h``, ``2m``, ``90s``).

    The format has no unit above hours: 30 days is ``720h``.
    """
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
