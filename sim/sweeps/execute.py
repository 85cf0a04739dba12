"""Running the runs of a sweep: in this process, in a process pool, or on Dask.

Runs are sent in tasks of several runs each, so that a task takes at least about
``TARGET_TASK_SECONDS`` and the cost of sending it is small beside its work. The
size comes from one pilot run timed in this process (whose result counts like any
other), and is capped so that every worker gets work. A task carries each of its
points' scenarios once; the worker runs them with ``sim.simulation.simulate`` and
returns each run's metric rows, or the error it raised. A run that raises does not
stop the others.

Interruptions: pool workers ignore SIGINT (Ctrl-C reaches every process of the
terminal's group) and leave it to this process, which stops the workers when the
sweep is interrupted, so that no worker prints a traceback or goes on running. A
worker that dies (killed, out of memory) breaks the pool: the runs not finished by
then fail with ``BrokenProcessPool``, those finished stay in the cache.
"""

from __future__ import annotations

import math
import os
import signal
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import closing, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from sim import simulation
from sim.scenario.document import Scenario
from sim.sweeps.cache import Rows, RunCache, run_key
from sim.trace import RecordLevel

if TYPE_CHECKING:
    from sim.sweeps.points import Sweep

Executor = Literal["local", "dask"]
TARGET_TASK_SECONDS = 0.5
# Seconds to wait for a Dask scheduler to answer.
CONNECT_TIMEOUT = "10s"


class SchedulerError(RuntimeError):
    """Dask is missing, or its scheduler cannot be reached."""


@dataclass(frozen=True)
class RunRequest:
    """One run to do: which point, which replication, its seed and cache key."""

    point: int
    replication: int
    seed: int
    key: str


@dataclass(frozen=True)
class Task:
    """Runs sent to a worker together, with the scenario of each of their points."""

    scenarios: tuple[tuple[int, Scenario], ...]
    runs: tuple[RunRequest, ...]


@dataclass(frozen=True)
class RunOutcome:
    """What one run gave: metric rows (one per pod), or an error message.

    ``cached`` runs come from the cache and were not simulated now.
    """

    request: RunRequest
    rows: Rows
    error: str = ""
    seconds: float = 0.0
    cached: bool = False


def metric_rows(metrics: pd.DataFrame) -> Rows:
    """A run's metrics frame as plain records, without ``run`` and ``seed``."""
    frame = metrics.drop(columns=["run", "seed"], errors="ignore")
    return [
        {str(k): v.item() if isinstance(v, np.generic) else v for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def run_task(task: Task) -> list[RunOutcome]:
    """Run every run of a task (in a worker); errors are caught per run."""
    scenarios = dict(task.scenarios)
    outcomes = []
    for request in task.runs:
        started = time.perf_counter()
        try:
            # Metrics are the same at every record level; `metrics` keeps no log
            # and lets probe workers skip steady ticks (the fast path).
            result = simulation.simulate(
                scenarios[request.point],
                request.seed,
                run=request.replication,
                record=RecordLevel.METRICS,
            )
            rows, error = metric_rows(result.metrics), ""
        except Exception as exc:  # reported in the results, the others go on
            rows, error = [], f"{type(exc).__name__}: {exc}"
        outcomes.append(RunOutcome(request, rows, error, time.perf_counter() - started))
    return outcomes


def requests(sweep: Sweep) -> list[RunRequest]:
    """Every run of a sweep, point by point, replications in order."""
    return [
        RunRequest(point.index, r, seed, run_key(point.resolved, seed))
        for point in sweep.points
        for r in range(sweep.replications)
        for seed in (sweep.seed_of(point.index, r),)
    ]


def make_tasks(sweep: Sweep, runs: Sequence[RunRequest], size: int) -> list[Task]:
    """Consecutive runs in tasks of ``size``, each with its points' scenarios."""
    tasks = []
    for start in range(0, len(runs), size):
        chunk = tuple(runs[start : start + size])
        points = dict.fromkeys(r.point for r in chunk)
        scenarios = tuple((p, sweep.points[p].scenario) for p in points)
        tasks.append(Task(scenarios, chunk))
    return tasks


def chunk_size(pending: int, workers: int, seconds_per_run: float) -> int:
    """Runs per task: about ``TARGET_TASK_SECONDS`` of work, every worker busy."""
    by_time = math.ceil(TARGET_TASK_SECONDS / max(seconds_per_run, 1e-3))
    balanced = math.ceil(pending / max(workers, 1))
    return max(1, min(by_time, balanced))


def available_cores() -> int:
    """Cores this process may use (its CPU affinity where the system has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


# Backends: each maps run_task over tasks and yields (task, outcomes or error). ---

Finished = tuple[Task, "list[RunOutcome] | BaseException"]
Backend = Callable[[Sequence[Task]], Generator[Finished, None, None]]


def _serial(tasks: Sequence[Task]) -> Generator[Finished, None, None]:
    for task in tasks:
        yield task, run_task(task)


def _worker_signals() -> None:
    """Initializer of pool workers: SIGINT is for the sweep's own process.

    SIGTERM gets its default action back (a forked worker inherits the handlers of
    ``probesim``), so that stopping a worker ends it at once.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers now, their tasks unfinished (SIGTERM)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()


def _pool(workers: int) -> Backend:
    def run(tasks: Sequence[Task]) -> Generator[Finished, None, None]:
        pool = ProcessPoolExecutor(
            max_workers=min(workers, len(tasks)), initializer=_worker_signals
        )
        complete = False
        try:
            futures = {pool.submit(run_task, task): task for task in tasks}
            for future in as_completed(futures):
                try:
                    yield futures[future], future.result()
                except Exception as exc:  # a worker died: its task's runs fail
                    yield futures[future], exc
            complete = True
        finally:
            if not complete:  # interrupted: the results would not be used
                _stop_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)

    return run


def _dask(client: Any) -> Backend:
    def run(tasks: Sequence[Task]) -> Generator[Finished, None, None]:
        from distributed import as_completed as dask_completed

        futures = client.map(run_task, list(tasks), pure=False)
        by_key = {future.key: task for future, task in zip(futures, tasks, strict=True)}
        try:
            for future in dask_completed(futures):
                try:
                    yield by_key[future.key], future.result()
                except Exception as exc:  # a worker was lost: its task's runs fail
                    yield by_key[future.key], exc
        finally:
            client.cancel(futures)

    return run


@contextmanager
def dask_client(scheduler: Any, workers: int) -> Iterator[Any]:
    """A Dask client: of ``scheduler`` (an address or a Client), or a local cluster.

    Raises
    ------
    SchedulerError
        When Dask is not installed or the scheduler cannot be reached.
    """
    try:
        import distributed
    except ImportError:
        raise SchedulerError(
            "Dask is not installed: pip install 'probesim[dask]'"
        ) from None
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if scheduler is None:
        with (
            distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                host="127.0.0.1",
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(scheduler, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError) as error:
        raise SchedulerError(
            f"cannot connect to the Dask scheduler at {scheduler}: {error}"
        ) from None
    with client:
        yield client


@contextmanager
def backend(
    executor: Executor, workers: int | None, scheduler: Any
) -> Iterator[tuple[Backend, int]]:
    """The backend of an executor and how many runs it does at once."""
    if executor == "dask" or scheduler is not None:
        with dask_client(scheduler, workers or available_cores()) as client:
            slots = sum(client.nthreads().values()) or 1
            yield _dask(client), slots
        return
    if executor != "local":
        raise ValueError(f'executor must be "local" or "dask", not {executor!r}')
    workers = workers or available_cores()
    yield (_serial if workers == 1 else _pool(workers)), workers


def execute(
    sweep: Sweep,
    cache: RunCache,
    run_backend: Backend,
    slots: int,
    on_done: Callable[[Iterable[RunOutcome]], None],
) -> dict[tuple[int, int], RunOutcome]:
    """Every run's outcome, from the cache or run now; ``on_done`` sees each batch.

    Finished runs go into the cache as they arrive, so an interrupted sweep keeps
    them; an interruption stops the backend's work at once.
    """
    outcomes: dict[tuple[int, int], RunOutcome] = {}

    def record(done: Iterable[RunOutcome]) -> None:
        done = list(done)
        for outcome in done:
            request = outcome.request
            outcomes[request.point, request.replication] = outcome
            if not outcome.error and not outcome.cached:
                cache.put(request.key, request.seed, outcome.rows)
        on_done(done)

    pending, cached = [], []
    for request in requests(sweep):
        rows = cache.get(request.key)
        if rows is None:
            pending.append(request)
        else:
            cached.append(RunOutcome(request, rows, cached=True))
    record(cached)
    if not pending:
        return outcomes
    size = 1
    if run_backend is not _serial:  # time one run here to size the tasks
        pilot = run_task(make_tasks(sweep, pending[:1], 1)[0])
        record(pilot)
        pending = pending[1:]
        size = chunk_size(len(pending), slots, pilot[0].seconds)
    if not pending:
        return outcomes
    tasks = make_tasks(sweep, pending, size)
    with closing(run_backend(tasks)) as finished:
        for task, done in finished:
            if isinstance(done, BaseException):
                message = f"{type(done).__name__}: {done}"
                done = [RunOutcome(request, [], message) for request in task.runs]
            record(done)
    return outcomes
