"""Wall time and peak memory of N pods behind Services for one simulated hour.

The pods are Deployments of 100 replicas, each behind its own Service
(``_scenarios.fleet``): an HTTP readiness probe (period 5 s) and an HTTP liveness
probe (period 10 s) per pod, 20 requests per second of Poisson traffic per Service
from 30 s on, and every 10 minutes (staggered) the oldest pod of each Deployment
hangs for 2 minutes, so readiness takes it out and liveness restarts it. Record
level ``metrics``.

Each size runs in a fresh interpreter, so that its peak RSS (``ru_maxrss``) is its
own; the peak includes the interpreter with numpy, pandas and the model loaded
(shown as "base"). "simulate" is ``sim.simulate``; "metrics" is computing
``result.metrics`` (one row per pod) afterwards.

When the largest size would take longer than ``--budget`` seconds (estimated from
the smaller sizes, with their scaling exponent), it is run for two shorter
simulated durations, D and D/2, where D (whole minutes) should take about half the
budget; its simulate wall time, CPU time and peak RSS are then extrapolated
linearly in the simulated duration to the full one. The issue's target: 10,000
pods for one hour in under 60 s and 2 GiB, checked against "simulate" and the
peak RSS after it.

    .venv/bin/python benchmarks/many_pods.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

from _common import (
    header,
    load_text,
    parser,
    peak_rss_kib,
    run_isolated,
    seconds_text,
    summary,
    table,
    timed,
)

TARGET_SECONDS = 60.0
TARGET_GIB = 2.0
TARGET_PODS = 10_000


def measure_one(pods: int, duration_seconds: float) -> dict[str, Any]:
    """Simulate one fleet in this process and return what it took (the child)."""
    from _scenarios import fleet

    import sim

    base_kib = peak_rss_kib()
    scenario, read = timed(lambda: fleet(pods, duration_seconds))
    result, run = timed(lambda: sim.simulate(scenario, seed=1, record="metrics"))
    simulate_kib = peak_rss_kib()
    frame, metrics = timed(lambda: result.metrics)
    requests: dict[str, int] = {}
    for block in result.recorder.request_blocks:
        for outcome, count in zip(block.outcomes, block.counts.tolist(), strict=True):
            requests[outcome] = requests.get(outcome, 0) + count
    return {
        "pods": pods,
        "duration": duration_seconds,
        "read_s": read.best,
        "simulate_s": run.best,
        "simulate_cpu_s": run.cpu,
        "metrics_s": metrics.best,
        "base_kib": base_kib,
        "simulate_kib": simulate_kib,
        "peak_kib": peak_rss_kib(),
        "pods_created": len(result.objects.pods),
        "restarts": int(frame["restarts"].sum()),
        "requests": requests,
        "events_kept": len(result.recorder.events),
        "load": load_text(),
    }


def extrapolate(short: dict[str, Any], longer: dict[str, Any], to: float) -> dict:
    """Extend the simulate wall time, CPU time and RSS of two runs to ``to`` seconds.

    Linear in the simulated duration; the metrics step is not extrapolated.
    """
    span = longer["duration"] - short["duration"]
    result = dict(longer, duration=to, extrapolated=True)
    for key in ("simulate_s", "simulate_cpu_s", "simulate_kib"):
        slope = (longer[key] - short[key]) / span
        result[key] = longer[key] + slope * (to - longer["duration"])
    result["requests"] = {}
    result["metrics_s"] = result["peak_kib"] = math.nan
    result["load"] = f"{short['load']} / {longer['load']}"
    return result


def estimate(done: list[dict[str, Any]], pods: int) -> float:
    """The simulate time of ``pods`` pods, from the scaling of the sizes done."""
    last = done[-1]
    exponent = 1.0
    if len(done) >= 2:
        before = done[-2]
        exponent = math.log(last["simulate_s"] / before["simulate_s"]) / math.log(
            last["pods"] / before["pods"]
        )
    return last["simulate_s"] * (pods / last["pods"]) ** max(exponent, 1.0)


def shortened(duration: float, guess: float, budget: float) -> float:
    """A duration (whole minutes, at least 2) whose run takes about half the budget."""
    minutes = math.floor(duration * budget / 2 / guess / 60)
    return 60.0 * max(2, minutes)


def row(measured: dict[str, Any]) -> tuple[str, ...]:
    """One line of the results table."""
    requests = sum(measured["requests"].values())
    failed = requests - measured["requests"].get("success", 0)
    return (
        f"{measured['pods']:,}",
        seconds_text(measured["duration"])
        + (" (extrapolated)" if measured.get("extrapolated") else ""),
        f"{measured['simulate_s']:.1f}",
        f"{measured['simulate_cpu_s']:.1f}",
        _number(measured["metrics_s"], ".1f"),
        f"{measured['base_kib'] / 1024:.0f}",
        f"{measured['simulate_kib'] / 1024:.0f}",
        _number(measured["peak_kib"] / 1024, ".0f"),
        f"{requests:,} ({failed:,} failed)" if requests else "",
        measured["load"],
    )


def _number(value: float, spec: str) -> str:
    """A number formatted with ``spec``, or ``n/a`` when it is NaN."""
    return "n/a" if math.isnan(value) else format(value, spec)


HEADINGS = (
    "pods",
    "simulated",
    "simulate s",
    "CPU s",
    "metrics s",
    "base MiB",
    "peak MiB after simulate",
    "peak MiB after metrics",
    "requests",
    "load (end of run)",
)


def main() -> None:
    """Run each size in a child process and print the table."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument(
        "--sizes",
        type=lambda text: [int(n) for n in text.split(",")],
        help="pod counts, comma-separated (default 100,1000,10000; --quick: "
        "100,1000 for 2 minutes)",
    )
    arguments.add_argument(
        "--duration", type=float, help="simulated seconds (default 3600)"
    )
    arguments.add_argument(
        "--budget",
        type=float,
        default=600.0,
        help="longest wall time in seconds for one run before the duration is "
        "shortened and the result extrapolated",
    )
    arguments.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = arguments.parse_args()
    duration = args.duration or (120.0 if args.quick else 3600.0)
    if args.one is not None:
        print(json.dumps(measure_one(args.one, duration)))
        return
    sizes = args.sizes or ([100, 1000] if args.quick else [100, 1000, TARGET_PODS])
    header("Many pods behind Services")

    script = Path(__file__)
    done: list[dict[str, Any]] = []
    shown: list[dict[str, Any]] = []
    for pods in sizes:
        guess = estimate(done, pods) if done else 0.0
        if guess <= args.budget:
            measured = run_isolated(
                script, ["--one", str(pods), "--duration", str(duration)]
            )
            done.append(measured)
            shown.append(measured)
        else:
            short = shortened(duration, guess, args.budget)
            print(
                f"{pods:,} pods for {seconds_text(duration)}: estimated "
                f"{guess:.0f} s > budget {args.budget:.0f} s; running "
                f"{seconds_text(short / 2)} and {seconds_text(short)} and "
                "extrapolating linearly in the simulated duration",
                flush=True,
            )
            runs = [
                run_isolated(script, ["--one", str(pods), "--duration", str(d)])
                for d in (short / 2, short)
            ]
            shown.extend([*runs, extrapolate(runs[0], runs[1], duration)])
            done.append(shown[-1])
        print(
            f"{pods:,} pods: simulate {done[-1]['simulate_s']:.1f} s "
            f"({done[-1]['load']})",
            flush=True,
        )
    print()
    print(table([row(m) for m in shown], HEADINGS))

    largest = done[-1]
    gib = largest["simulate_kib"] / 1024**2
    how = "extrapolated" if largest.get("extrapolated") else "measured"
    verdict = (
        "met"
        if largest["simulate_s"] < TARGET_SECONDS and gib < TARGET_GIB
        else "not met"
    )
    if largest["pods"] != TARGET_PODS or largest["duration"] != 3600.0:
        verdict = "not measured at the target size"
    summary(
        "many_pods",
        f"{largest['pods']:,} pods for {seconds_text(largest['duration'])}: "
        f"{largest['simulate_s']:.0f} s, {gib:.2f} GiB peak RSS ({how}; target < "
        f"{TARGET_SECONDS:g} s and < {TARGET_GIB:g} GiB for {TARGET_PODS:,} pods "
        f"1h: {verdict})",
    )


if __name__ == "__main__":
    main()
