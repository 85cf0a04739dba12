"""Cost of one probe attempt of the model against a bare SimPy loop.

The model: one healthy pod with one TCP liveness probe of period 1 s (the port
always listens, so every attempt succeeds), simulated for a long time at record
level ``metrics`` tick by tick (``fast_path=False``: every attempt runs); the wall
time divided by the number of attempts. The same run with the fast path (the
default at this level), which skips the attempts that cannot change anything, is
shown beside it per simulated attempt; the target is held against the tick-by-tick
figure. The attempts
are counted on a shorter run at level ``all`` (``Probe`` events per simulated
second), and checked against the period. The per-attempt figure includes the
kubelet's own periodic work (pod syncs, status), spread over the attempts.

The baseline: a SimPy process in this interpreter doing one ``env.timeout(1)`` per
iteration. Baseline and model runs alternate (best of each is kept), so that a
change of the machine's speed during the script does not enter the ratio. The
issue's target is a model attempt at most 3× a bare iteration.

    .venv/bin/python benchmarks/probe_attempt_cost.py [--quick]
"""

from __future__ import annotations

from _common import (
    bare_loop,
    header,
    interleaved,
    load_text,
    parser,
    seconds_text,
    summary,
)
from _scenarios import healthy_pod

import sim
from sim.trace import Reason

PERIOD_SECONDS = 1
TARGET_RATIO = 3.0


def attempts_per_second(duration_seconds: float) -> float:
    """Probe attempts per simulated second, counted at record level ``all``."""
    scenario = healthy_pod({"liveness": PERIOD_SECONDS}, duration_seconds)
    result = sim.simulate(scenario, seed=1, record="all")
    attempts = sum(e.reason is Reason.PROBE for e in result.recorder.events)
    return attempts / duration_seconds


def main() -> None:
    """Measure both costs and print them with their ratio."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument(
        "--duration",
        type=float,
        help="simulated seconds of the model run (default 86400; 3600 with --quick)",
    )
    arguments.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="rounds of timed runs, bare loop and model alternating (best is kept)",
    )
    args = arguments.parse_args()
    duration = args.duration or (3600.0 if args.quick else 86400.0)
    iterations = 100_000 if args.quick else 1_000_000
    header("Probe attempt cost")

    rate = attempts_per_second(600.0 if args.quick else 3600.0)
    attempts = rate * duration
    print(
        f"attempts counted at level all: {rate:.4f} per simulated second "
        f"(period {PERIOD_SECONDS} s gives {1 / PERIOD_SECONDS:.4f}), so "
        f"~{attempts:,.0f} in {seconds_text(duration)}"
    )
    print()

    # Bare loop and model alternate, so a drift of the machine's speed between
    # them does not enter the ratio.
    scenario = healthy_pod({"liveness": PERIOD_SECONDS}, duration)
    timings = interleaved(
        {
            "bare": lambda: bare_loop(iterations),
            "metrics": lambda: sim.simulate(
                scenario, seed=1, record="metrics", fast_path=False
            ),
            "all": lambda: sim.simulate(scenario, seed=1, record="all"),
            "fast": lambda: sim.simulate(scenario, seed=1, record="metrics"),
        },
        args.repeat,
    )
    bare = timings["bare"]
    bare_us = bare.best / iterations * 1e6
    print(f"bare SimPy loop, {iterations:,} timeouts: {bare.describe()}")
    print(f"  {bare_us:.3f} µs per iteration")
    results = {}
    labels = {
        "metrics": "record=metrics, tick by tick",
        "all": "record=all (tick by tick)",
        "fast": "record=metrics, fast path (per simulated attempt)",
    }
    for level, label in labels.items():
        timing = timings[level]
        results[level] = timing.best / attempts * 1e6
        simulated = seconds_text(duration)
        print(f"model, {label}, {simulated} simulated: {timing.describe()}")
        print(
            f"  {results[level]:.2f} µs per attempt "
            f"({timing.cpu / attempts * 1e6:.2f} µs CPU)"
        )
    print(f"({load_text()})")

    ratio = results["metrics"] / bare_us
    median_ratio = timings["metrics"].median / bare.median * iterations / attempts
    verdict = "met" if ratio <= TARGET_RATIO else "not met"
    print()
    print(
        f"ratio model (metrics) / bare loop: {ratio:.1f}× "
        f"(target ≤ {TARGET_RATIO:g}×: {verdict}; {median_ratio:.1f}× from the "
        "medians)"
    )
    summary(
        "probe_attempt_cost",
        f"{results['metrics']:.2f} µs per attempt tick by tick vs {bare_us:.3f} µs "
        f"per bare iteration = {ratio:.1f}× (target ≤ {TARGET_RATIO:g}×, "
        f"{verdict}); fast path {results['fast']:.3f} µs per simulated attempt",
    )


if __name__ == "__main__":
    main()
