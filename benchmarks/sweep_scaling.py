"""Speed-up of a parameter sweep on 2 processes over 1.

The sweep: ``scenarios/tcp-liveness-readiness.yaml`` (2 simulated minutes), a grid
of K settings (the readiness probe's periodSeconds times the liveness probe's),
R replications of each; every run computes its per-pod metrics, as a sweep does.
The issue's full size is K = 1,000 and R = 20 (20,000 runs); the target is a
speed-up of at least 1.8× on 2 processes.

The grid is cut into blocks (by readiness period), and each block runs on 1 and on
2 processes in turn, the order alternating from block to block, so that a drift of
the machine's speed during the minutes this takes falls on both alike. The wall
times of the blocks are added up.

Engine ``sweep`` uses ``sim.sweep.run_sweep`` (cache off, no progress bar):
``workers=1`` runs in this process, ``workers=2`` on a process pool, with tasks
sized from a pilot run. Engine ``pool`` (the fallback when ``sim.sweep`` is not
importable) runs ``sim.simulate`` at record level ``metrics`` and
``result.metrics`` in chunks, in this process or on a
``concurrent.futures.ProcessPoolExecutor``. Both check that 1 and 2 processes give
the same metrics.

    .venv/bin/python benchmarks/sweep_scaling.py [--quick] [--engine pool]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from functools import cache, partial

import pandas as pd
from _common import SCENARIOS, header, load_text, parser, summary, table, timed

import sim

SCENARIO = "tcp-liveness-readiness.yaml"
POD = CONTAINER = "goproxy"
TARGET_SPEEDUP = 1.8
WORKERS = (1, 2)

Runner = Callable[[int], pd.DataFrame]


def grid_shape(settings: int) -> tuple[int, int]:
    """Split K settings into readiness × liveness periods, as square as possible."""
    rows = max(d for d in range(1, math.isqrt(settings) + 1) if settings % d == 0)
    return settings // rows, rows


def split(values: Sequence[int], parts: int) -> list[list[int]]:
    """``values`` in ``parts`` consecutive pieces of nearly equal size."""
    parts = max(1, min(parts, len(values)))
    size, extra = divmod(len(values), parts)
    pieces, start = [], 0
    for index in range(parts):
        end = start + size + (index < extra)
        pieces.append(list(values[start:end]))
        start = end
    return pieces


def sweep_yaml(readiness: list[int], liveness: list[int], replications: int) -> str:
    """A Sweep document over the given readiness and liveness periods."""
    path = f"pods[{POD}].containers[{CONTAINER}]"
    return f"""\
apiVersion: probesim/v1alpha1
kind: Sweep
metadata: {{name: bench-sweep-scaling}}
spec:
  scenario: {SCENARIO}
  seed: 1
  replications: {replications}
  parameters:
  - path: {path}.readinessProbe.periodSeconds
    name: readinessPeriod
    values: {readiness}
  - path: {path}.livenessProbe.periodSeconds
    name: livenessPeriod
    values: {liveness}
"""


def run_with_sweep(
    readiness: list[int], liveness: list[int], replications: int
) -> tuple[Runner, float]:
    """The ``sim.sweep`` engine: a function of the worker count, and the read time."""
    from sim.sweep import read_sweep_text, run_sweep

    sweep, read = timed(
        lambda: read_sweep_text(
            sweep_yaml(readiness, liveness, replications), "<benchmark>", SCENARIOS
        )
    )

    def run(workers: int) -> pd.DataFrame:
        result = run_sweep(sweep, workers=workers, progress=False, use_cache=False)
        if result.failed:
            raise RuntimeError(f"{result.failed} runs failed")
        return result.runs

    return run, read.best


@cache
def base_scenario() -> sim.Scenario:
    """The scenario of the sweep, read once per process."""
    return sim.load_scenario(SCENARIOS / SCENARIO)


def run_chunk(runs: Sequence[tuple[int, int, int]]) -> list[dict]:
    """Simulate (readiness period, liveness period, seed) runs; their metric rows."""
    rows: list[dict] = []
    for readiness, liveness, seed in runs:
        scenario = (
            base_scenario()
            .with_probe(CONTAINER, "readiness", periodSeconds=readiness)
            .with_probe(CONTAINER, "liveness", periodSeconds=liveness)
        )
        result = sim.simulate(scenario, seed=seed, record="metrics")
        point = {"readinessPeriod": readiness, "livenessPeriod": liveness}
        rows.extend({**point, **row} for row in result.metrics.to_dict("records"))
    return rows


def run_with_pool(
    readiness: list[int], liveness: list[int], replications: int
) -> tuple[Runner, float]:
    """The fallback engine over ``sim.simulate``; no reading step (0 s)."""
    runs = [
        (r, v, seed)
        for r in readiness
        for v in liveness
        for seed in range(1, replications + 1)
    ]

    def run(workers: int) -> pd.DataFrame:
        if workers == 1:
            return pd.DataFrame(run_chunk(runs))
        size = max(1, math.ceil(len(runs) / (workers * 8)))
        chunks = [runs[i : i + size] for i in range(0, len(runs), size)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            rows = [row for part in pool.map(run_chunk, chunks) for row in part]
        return pd.DataFrame(rows)

    return run, 0.0


def sweep_available() -> bool:
    """Whether ``sim.sweep`` can be imported."""
    try:
        import sim.sweep  # noqa: F401
    except ImportError:
        return False
    return True


def run_blocks(
    runners: list[Runner], runs: list[int]
) -> tuple[dict[int, float], dict[int, float], bool]:
    """Each block on 1 and 2 processes, order alternating; summed wall and CPU.

    Returns the wall and CPU (this process) seconds per worker count, and whether
    both worker counts gave the same metrics in every block.
    """
    walls = dict.fromkeys(WORKERS, 0.0)
    cpus = dict.fromkeys(WORKERS, 0.0)
    same = True
    for index, run in enumerate(runners):
        order = WORKERS if index % 2 == 0 else WORKERS[::-1]
        frames, line = {}, []
        for workers in order:
            frames[workers], timing = timed(partial(run, workers))
            walls[workers] += timing.best
            cpus[workers] += timing.cpu
            line.append(f"{workers} process(es) {timing.best:.1f} s")
        same = same and _comparable(frames[1]).equals(_comparable(frames[2]))
        print(
            f"block {index + 1}/{len(runners)} ({runs[index]:,} runs): "
            f"{', '.join(line)} ({load_text()})",
            flush=True,
        )
    return walls, cpus, same


def main() -> None:
    """Run the sweep on 1 and 2 processes and print the speed-up."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument(
        "--settings", type=int, help="K (default 1000; 20 with --quick)"
    )
    arguments.add_argument(
        "--replications", type=int, help="R (default 20; 3 with --quick)"
    )
    arguments.add_argument(
        "--blocks",
        type=int,
        help="blocks of the grid, each timed on 1 and 2 processes in turn "
        "(default 4; 2 with --quick)",
    )
    arguments.add_argument(
        "--engine",
        choices=("auto", "sweep", "pool"),
        default="auto",
        help="sim.sweep, or the ProcessPoolExecutor fallback (auto: sim.sweep "
        "when importable)",
    )
    args = arguments.parse_args()
    settings = args.settings or (20 if args.quick else 1000)
    replications = args.replications or (3 if args.quick else 20)
    blocks = args.blocks or (2 if args.quick else 4)
    engine = args.engine
    if engine == "auto":
        engine = "sweep" if sweep_available() else "pool"
    header("Sweep scaling")
    readiness, liveness = grid_shape(settings)
    pieces = split(range(1, readiness + 1), blocks)
    print(
        f"{settings} settings ({readiness} readiness × {liveness} liveness periods) "
        f"× {replications} replications = {settings * replications:,} runs of "
        f"{SCENARIO}, in {len(pieces)} blocks; engine: {engine}"
    )

    prepare = run_with_sweep if engine == "sweep" else run_with_pool
    liveness_values = list(range(1, liveness + 1))
    prepared = [prepare(piece, liveness_values, replications) for piece in pieces]
    if engine == "sweep":
        read = sum(seconds for _, seconds in prepared)
        print(f"reading the sweeps (applying every point): {read:.1f} s")
    runs = [len(piece) * liveness * replications for piece in pieces]
    walls, cpus, same = run_blocks([run for run, _ in prepared], runs)

    total = settings * replications
    rows = [
        (
            workers,
            f"{walls[workers]:.1f}",
            f"{cpus[workers]:.1f}",
            f"{walls[workers] / total * 1000:.2f}",
        )
        for workers in WORKERS
    ]
    print()
    print(table(rows, ("processes", "wall s", "CPU s (this process)", "ms per run")))
    print(f"same metrics on 1 and 2 processes: {same}")

    speedup = walls[1] / walls[2]
    verdict = "met" if speedup >= TARGET_SPEEDUP else "not met"
    print(f"speed-up: {speedup:.2f}× (target ≥ {TARGET_SPEEDUP:g}×: {verdict})")
    summary(
        "sweep_scaling",
        f"{settings}×{replications} runs ({engine}): 1 process {walls[1]:.1f} s, "
        f"2 processes {walls[2]:.1f} s, speed-up {speedup:.2f}× (target ≥ "
        f"{TARGET_SPEEDUP:g}×, {verdict})",
    )


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame in a canonical row order, without timing columns."""
    frame = frame.drop(columns=["seconds"], errors="ignore")
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


if __name__ == "__main__":
    main()
