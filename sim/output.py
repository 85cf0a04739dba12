"""Writing a finished run to a folder, all files or none.

Every file is first written under a temporary name in the target folder, and only when
all of them are complete are they renamed into place; Ctrl-C or SIGTERM during the
renames takes effect once they are all done. An interrupted or failed run leaves no
half-written file behind (at worst, after a hard kill, hidden temporary files that
the next write removes).
"""

from __future__ import annotations

import json
import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from sim.scenario.resolved import dump_documents, pod_manifest, resolved_yaml
from sim.simulation import SimulationResult

Writer = Callable[[Path], None]


def write_atomically(directory: Path, files: dict[str, Writer]) -> list[Path]:
    """Write several files into ``directory``: all appear, or none changes.

    Parameters
    ----------
    directory
        Target folder, created if missing.
    files
        File name to a function that writes the content to the path it is given.

    Returns
    -------
    list of Path
        The final paths, in the order given.
    """
    directory.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    for stale in directory.glob(".probesim-*.tmp"):
        stale.unlink(missing_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, write in files.items():
            handle, made = tempfile.mkstemp(
                prefix=".probesim-", suffix=".tmp", dir=directory
            )
            os.close(handle)
            staged.append((Path(made), directory / name))
            write(Path(made))
            os.chmod(made, 0o666 & ~umask)
        with _signals_deferred():
            for temporary, final in staged:
                os.replace(temporary, final)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    return [final for _, final in staged]


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back until the block ends, then deliver them.

    The renames of ``write_atomically`` then all happen or none does. Only the main
    thread can set signal handlers, and only Python's handlers can be put back:
    otherwise the block runs unprotected.
    """
    numbers = (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread() or any(
        signal.getsignal(number) is None for number in numbers
    ):
        yield
        return
    received: list[int] = []
    previous = {
        number: signal.signal(number, lambda got, _: received.append(got))
        for number in numbers
    }
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for got in dict.fromkeys(received):
            signal.raise_signal(got)


def _json(data: Any) -> Writer:
    def write(path: Path) -> None:
        path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")

    return write


def _text(text: str) -> Writer:
    def write(path: Path) -> None:
        path.write_text(text)

    return write


def _stored_pods(result: SimulationResult) -> str:
    """The pods as the API server stored them, after admission (R10)."""
    header = (
        "# The pods as the API server stored them: service account defaulted,\n"
        "# API token volume and pull secrets added by admission.\n"
    )
    pods = [pod_manifest(pod) for pod in result.objects.pods.values()]
    return header + (dump_documents(pods) if pods else "")


def _title(result: SimulationResult) -> str:
    cluster = result.scenario.cluster
    return (
        f"{result.scenario.name}: Kubernetes {cluster.kubernetes_version}, "
        f"seed {result.seed}"
    )


def plot_run(directory: Path) -> Path:
    """Draw ``timeline.png`` again from a finished run's files in ``directory``."""
    from sim.plot import save_timeline  # matplotlib: only when drawing

    events = pd.read_parquet(directory / "events.parquet")
    timeline = pd.read_csv(directory / "timeline.csv", keep_default_na=False)
    for flag in ("ready", "started"):
        timeline[flag] = timeline[flag].astype(str) == "True"
    title = directory.name
    return write_atomically(
        directory,
        {"timeline.png": lambda p: save_timeline(events, timeline, p, title=title)},
    )[0]


def write_run(directory: Path, results: Sequence[SimulationResult]) -> list[Path]:
    """Write the outputs of one or more replications of a scenario.

    ``events.parquet`` and ``events.csv`` (the event log of every run, ``run``
    column), ``timeline.csv``, ``summary.json``, ``scenario.resolved.yaml`` (with
    the seed of the first run recorded), ``pods.yaml`` (the pods as admitted),
    ``timeline.png`` (the first run) and, where the scenario sends traffic,
    ``requests.parquet`` and ``requests.csv`` (counts per second and outcome).
    """
    from sim.plot import save_timeline  # matplotlib: only when drawing

    first = results[0]
    events = pd.concat([r.events for r in results], ignore_index=True)
    timelines = []
    for r in results:
        frame = r.timeline.copy()
        frame.insert(0, "run", r.run)
        timelines.append(frame)
    timeline = pd.concat(timelines, ignore_index=True)
    summary: dict[str, Any] = (
        first.summary
        if len(results) == 1
        else {
            "scenario": first.scenario.name,
            "runs": [dict(r.summary, run=r.run) for r in results],
        }
    )
    resolved = resolved_yaml(first.scenario.with_seed(first.seed))
    requests = pd.concat([r.requests for r in results], ignore_index=True)
    traffic: dict[str, Writer] = {}
    if len(requests):
        traffic = {
            "requests.parquet": lambda p: requests.to_parquet(p, index=False),
            "requests.csv": lambda p: requests.to_csv(p, index=False),
        }
    return write_atomically(
        directory,
        {
            "events.parquet": lambda p: events.to_parquet(p, index=False),
            "events.csv": lambda p: events.to_csv(p, index=False, float_format="%.6f"),
            "timeline.csv": lambda p: timeline.to_csv(
                p, index=False, float_format="%.6f"
            ),
            "summary.json": _json(summary),
            "scenario.resolved.yaml": _text(resolved),
            "pods.yaml": _text(_stored_pods(first)),
            "timeline.png": lambda p: save_timeline(
                first.events,
                first.timeline,
                p,
                title=_title(first),
                requests=first.requests,
            ),
            **traffic,
        },
    )
