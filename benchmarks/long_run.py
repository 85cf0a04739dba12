"""Wall time of one healthy pod simulated for 1 hour and for 30 days.

The pod has a TCP readiness and a TCP liveness probe of period 10 s (the
Kubernetes default) on a port that always listens, so nothing happens after it
is Ready but probe attempts and the kubelet's periodic syncs. Record level
``metrics``. The one-hour runs (5 at a time) and the long run alternate, best of
each kept, so that a drift of the machine's speed does not enter the ratio. The
issue's target is a 30-day run at most 2× the 1-hour one. At level ``metrics`` the
fast path is on: probe workers, pod workers and kube-proxy sleep over the ticks and
periodic syncs of a steady pod, so the cost no longer grows with the duration.

    .venv/bin/python benchmarks/long_run.py [--quick]
"""

from __future__ import annotations

from functools import partial

from _common import (
    header,
    interleaved,
    load_text,
    parser,
    peak_rss_kib,
    seconds_text,
    summary,
    table,
)
from _scenarios import healthy_pod

import sim

PERIODS = {"readiness": 10, "liveness": 10}
HOUR = 3600.0
TARGET_RATIO = 2.0


def main() -> None:
    """Time the short and the long run and print their ratio."""
    arguments = parser(__doc__.splitlines()[0])
    arguments.add_argument(
        "--long-hours",
        type=float,
        help="simulated hours of the long run (default 720 = 30 days; 24 with --quick)",
    )
    arguments.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds of 5 one-hour runs and 1 long run, alternating (best is kept)",
    )
    args = arguments.parse_args()
    long_seconds = (args.long_hours or (24.0 if args.quick else 720.0)) * HOUR
    header("Long run: one healthy pod")

    durations = (HOUR, long_seconds)
    scenarios = {seconds: healthy_pod(PERIODS, seconds) for seconds in durations}
    timings = interleaved(
        {
            seconds: partial(sim.simulate, scenario, seed=1, record="metrics")
            for seconds, scenario in scenarios.items()
        },
        args.rounds,
        {HOUR: 5, long_seconds: 1},
    )
    rows = [
        (
            seconds_text(seconds),
            f"{timings[seconds].best:.3f}",
            f"{timings[seconds].cpu:.3f}",
            f"{timings[seconds].best / (seconds / HOUR) * 1000:.2f}",
            len(timings[seconds].walls),
        )
        for seconds in durations
    ]
    print(
        table(
            rows,
            ("simulated", "best wall s", "CPU s", "ms per simulated hour", "runs"),
        )
    )
    print(f"({load_text()})")
    print(f"peak RSS of the process: {peak_rss_kib() / 1024:.0f} MiB")

    ratio = timings[long_seconds].best / timings[HOUR].best
    median_ratio = timings[long_seconds].median / timings[HOUR].median
    duration_ratio = long_seconds / HOUR
    verdict = "met" if ratio <= TARGET_RATIO else "not met"
    print()
    print(
        f"ratio {seconds_text(long_seconds)} / 1h: {ratio:.1f}× for "
        f"{duration_ratio:.0f}× the simulated time (target ≤ {TARGET_RATIO:g}×: "
        f"{verdict}; {median_ratio:.1f}× from the medians), fast path"
    )
    summary(
        "long_run",
        f"1h {timings[HOUR].best:.3f} s, {seconds_text(long_seconds)} "
        f"{timings[long_seconds].best:.3f} s, ratio {ratio:.1f}× (target ≤ "
        f"{TARGET_RATIO:g}×, {verdict}, fast path)",
    )


if __name__ == "__main__":
    main()
