"""Parameter sweeps: many points of a scenario, each run several times, at scale.

A sweep file (``docs/sweeps.md``) names a scenario, the fields to vary and how
(a grid, random samples or a Latin hypercube), and how many replications each
point gets. ``load_sweep`` reads it and applies every point to the scenario,
checking each as the scenario reader checks a file; ``run_sweep`` runs every run
in this process, a process pool or on Dask, reusing the runs of earlier sweeps
from the cache, and returns tidy frames::

    from sim.sweep import load_sweep, run_sweep

    sweep = load_sweep("scenarios/sweeps/liveness-period.yaml")
    result = run_sweep(sweep, workers=4)
    result.runs  # one row per run and pod: parameters, seed, metrics, error
    result.aggregate  # one row per point and metric: mean, CI, quantiles
    result.write("results/liveness-period")

Run ``r`` of point ``p`` uses the seed ``run_seed(seed, p, r)``, derived with
NumPy's ``SeedSequence`` from the sweep's seed, so a rerun gives the same results
whatever the executor and the number of workers.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sim.sweeps.cache import RunCache, run_key
from sim.sweeps.design import run_seed
from sim.sweeps.document import Design, DesignType, Parameter, Range, SweepSpec
from sim.sweeps.execute import (
    Executor,
    RunOutcome,
    SchedulerError,
    available_cores,
    backend,
    execute,
)
from sim.sweeps.points import Point, Sweep, load_sweep, read_sweep_text
from sim.sweeps.results import SweepResult, aggregate_frame, runs_frame

__all__ = [
    "Design",
    "DesignType",
    "Parameter",
    "Point",
    "Range",
    "SchedulerError",
    "Sweep",
    "SweepResult",
    "SweepSpec",
    "SweepWarning",
    "available_cores",
    "default_cache_dir",
    "load_sweep",
    "read_sweep_text",
    "run_key",
    "run_seed",
    "run_sweep",
]

# How many failed runs the warning lists one by one.
_LISTED_FAILURES = 5


class SweepWarning(UserWarning):
    """Some runs of a sweep failed; the ``error`` column of ``runs`` says why."""


def default_cache_dir(sweep: Sweep) -> Path:
    """``results/<sweep name>/cache``: where finished runs are kept by default."""
    return Path("results") / sweep.name / "cache"


def run_sweep(
    sweep: Sweep | str | Path,
    executor: Executor = "local",
    workers: int | None = None,
    scheduler: Any = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    *,
    use_cache: bool = True,
) -> SweepResult:
    """Run every replication of every point of a sweep.

    Parameters
    ----------
    sweep
        A sweep (``load_sweep``), or the path of a sweep file.
    executor
        ``"local"``: a process pool of ``workers`` processes on this machine (one
        worker runs in this process, without a pool). ``"dask"``: a Dask cluster,
        the one at ``scheduler``, or a new local one of ``workers`` processes.
    workers
        Processes; default every core this process may use.
    scheduler
        Address of a Dask scheduler (``tcp://host:8786``), or a
        ``distributed.Client``; implies the Dask executor.
    cache_dir
        Folder of the run cache (default ``results/<sweep name>/cache``).
    progress
        Show a progress bar (a widget in notebooks).
    use_cache
        Reuse and keep finished runs in ``cache_dir``.

    Returns
    -------
    SweepResult
        ``runs`` and ``aggregate`` frames, and how many runs were simulated,
        taken from the cache or failed.

    Raises
    ------
    ScenarioError
        When ``sweep`` is a path to a file with errors.
    SchedulerError
        When Dask is missing or the scheduler cannot be reached.

    Warns
    -----
    SweepWarning
        When runs failed: they are listed with their parameters and seeds; the
        other runs are complete.
    """
    if not isinstance(sweep, Sweep):
        sweep = load_sweep(sweep)
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    directory = Path(cache_dir) if cache_dir is not None else default_cache_dir(sweep)
    cache = RunCache(directory if use_cache else None)
    bar = _progress_bar()(
        total=sweep.run_count,
        desc=sweep.name,
        unit="run",
        disable=not progress,
        leave=True,
    )
    failures = 0

    def done(outcomes: Iterable[RunOutcome]) -> None:
        nonlocal failures
        outcomes = list(outcomes)
        failures += sum(bool(o.error) for o in outcomes)
        bar.update(len(outcomes))
        if failures:
            bar.set_postfix(failed=failures)

    try:
        with backend(executor, workers, scheduler) as (run_backend, slots):
            outcomes = execute(sweep, cache, run_backend, slots, done)
    finally:
        bar.close()
    runs = runs_frame(sweep, outcomes)
    cached = sum(o.cached for o in outcomes.values())
    failed = sum(bool(o.error) for o in outcomes.values())
    result = SweepResult(
        sweep,
        runs,
        aggregate_frame(sweep, runs),
        simulated=len(outcomes) - cached,
        cached=cached,
        failed=failed,
    )
    if failed:
        warnings.warn(_failures(sweep, outcomes.values()), SweepWarning, stacklevel=2)
    return result


def _failures(sweep: Sweep, outcomes: Iterable[RunOutcome]) -> str:
    """The warning about failed runs: how many, and the first few in full."""
    failed = sorted(
        (o for o in outcomes if o.error),
        key=lambda o: (o.request.point, o.request.replication),
    )
    lines = [
        f"{len(failed)} of {sweep.run_count} runs of sweep {sweep.name} failed "
        "(the error column of the runs says why); the others are complete:"
    ]
    for outcome in failed[:_LISTED_FAILURES]:
        request = outcome.request
        lines.append(
            f"  point {request.point} ({sweep.describe(request.point)}), "
            f"replication {request.replication}, seed {request.seed}: "
            f"{outcome.error}"
        )
    if len(failed) > _LISTED_FAILURES:
        lines.append(f"  ... and {len(failed) - _LISTED_FAILURES} more")
    return "\n".join(lines)


def _progress_bar() -> type:
    """The progress-bar class of tqdm for this environment, imported when needed.

    ``tqdm.auto`` picks a notebook widget when ipywidgets is there and warns when it
    is not; importing it lazily keeps ``import sim`` silent.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm
    return tqdm
