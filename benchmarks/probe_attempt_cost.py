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

The floor: the least an attempt run at its tick can cost. One SimPy process wakes
at each tick (a ``clock.At``, as the worker's ticker), walks the guards of R3.4 on
a real pod status, asks the model's ``Application`` for the TCP answer, counts the
result (R3.6) and publishes it to a real ``ResultsManager``; all inlined in one
loop, with no event for the end of the attempt, no log record and no fast-path
bookkeeping. A model that runs each attempt's guards and probe at its tick does
at least this much. The same loop without the guard walk is shown beside it.

    .venv/bin/python benchmarks/probe_attempt_cost.py [--quick]
"""

from __future__ import annotations

import math
from collections.abc import Generator

import numpy as np
import simpy
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
from simpy.events import URGENT

import sim
from sim.kube.application import AnswerKind, Application
from sim.kube.clock import At
from sim.kube.prober.results import Result, ResultsManager
from sim.kube.runtime import ContainerState
from sim.kube.status import ContainerStatus, PodPhase, PodStatus
from sim.scenario.spec import ProbeType
from sim.trace import Reason

PERIOD_SECONDS = 1
TARGET_RATIO = 3.0


def attempts_per_second(duration_seconds: float) -> float:
    """Probe attempts per simulated second, counted at record level ``all``."""
    scenario = healthy_pod({"liveness": PERIOD_SECONDS}, duration_seconds)
    result = sim.simulate(scenario, seed=1, record="all")
    attempts = sum(e.reason is Reason.PROBE for e in result.recorder.events)
    return attempts / duration_seconds


def floor_loop(iterations: int, guards: bool = True) -> None:
    """Run ``iterations`` attempts of the floor (see the module docstring).

    ``guards=False`` leaves out the walk through R3.4, as a worker could only if it
    knew that nothing the guards read had changed since its last attempt.
    """
    scenario = healthy_pod({"liveness": PERIOD_SECONDS}, 60.0)
    pod = scenario.pods[0]
    container = pod.containers[0]
    probe = container.liveness_probe
    assert probe is not None
    behaviour = scenario.behaviour_for(pod.name, container.name)
    application = Application(container, behaviour, np.random.default_rng(1))
    running = ContainerStatus(
        container.name,
        container_id="containerd://1",
        state=ContainerState.RUNNING,
        waiting_reason="",
        started_at=0.0,
        started=True,
    )
    statuses = {"uid": PodStatus(PodPhase.RUNNING, {container.name: running})}
    results = ResultsManager(ProbeType.LIVENESS, lambda update: None)
    env = simpy.Environment()

    def worker() -> Generator[simpy.Event, object, None]:
        period = float(PERIOD_SECONDS)
        timeout = float(probe.timeout_seconds)
        container_id, on_hold = running.container_id, False
        last, run = Result.SUCCESS, 0
        for tick in range(1, iterations + 1):
            yield At(env, tick * period, URGENT - 1)
            now = env.now
            uptime = now - running.started_at
            if guards:
                status = statuses.get("uid")
                if status is None:
                    continue
                if status.phase.terminal:
                    return
                c = status.containers.get(container.name)
                if c is None or not c.container_id:
                    continue
                if c.container_id != container_id:
                    container_id, on_hold = c.container_id, False
                if on_hold or not c.running:
                    continue
                uptime = now - c.started_at
                if math.floor(uptime) < probe.initial_delay_seconds or not c.started:
                    continue
            answer = application.tcp(8080, uptime, now)
            ok = answer.kind is AnswerKind.ANSWER and answer.latency_seconds <= timeout
            result = Result.SUCCESS if ok else Result.FAILURE
            if result is last:
                run += 1
            else:
                last, run = result, 1
            if result is Result.FAILURE and run < probe.failure_threshold:
                continue
            if result is Result.SUCCESS and run < probe.success_threshold:
                continue
            results.set(container_id, result, None)

    env.process(worker())
    env.run()


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
            "floor": lambda: floor_loop(iterations),
            "floor without guards": lambda: floor_loop(iterations, guards=False),
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
    floors = {}
    for name in ("floor", "floor without guards"):
        floors[name] = timings[name].best / iterations * 1e6
        print(f"{name}, {iterations:,} attempts inlined: {timings[name].describe()}")
        print(
            f"  {floors[name]:.3f} µs per attempt = "
            f"{floors[name] / bare_us:.1f}× the bare loop"
        )
    floor_us = floors["floor"]
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
        f"{verdict}); floor {floor_us / bare_us:.1f}×; fast path "
        f"{results['fast']:.3f} µs per simulated attempt",
    )


if __name__ == "__main__":
    main()
