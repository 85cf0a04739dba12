"""The ``probesim`` command.

Exit codes: 0 success; 2 invalid input (every problem listed, with file, line and
field); 1 an internal error, which is a bug in probesim and says so; 130 interrupted
(Ctrl-C, SIGINT) and 143 terminated (SIGTERM), after one line on stderr and without
leaving a half-written file.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.scenario.document import Scenario
    from sim.scenario.errors import Problem
    from sim.simulation import SimulationResult

EXIT_OK = 0
EXIT_BUG = 1
EXIT_INVALID = 2
# 128 + the signal's number, as a shell reports a command that a signal ended.
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM


class _UsageError(Exception):
    """A command-line argument that cannot be used."""


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so that it unwinds like Ctrl-C."""


def _on_sigterm(number: int, frame: object) -> None:
    raise _Terminated


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INVALID)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="probesim",
        description="Simulate what the kubelet does with your probes.",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print the simulation's trace"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    run.add_argument("--out", type=Path, help="output folder (results/<name>/)")
    run.add_argument("--seed", type=int, help="seed of the first run")
    run.add_argument("--duration", help="how long to simulate (90s, 10m, 1h)")
    run.add_argument("--runs", type=int, default=1, help="replications (seed+i)")
    run.add_argument(
        "--record",
        choices=["all", "changes", "metrics"],
        default="all",
        help="how much of the event log to keep (docs/event-log.md); the metrics "
        "and summary are the same at every level",
    )

    validate = commands.add_parser("validate", help="check a scenario file")
    validate.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")

    plot = commands.add_parser("plot", help="draw timeline.png of a finished run")
    plot.add_argument("directory", type=Path, metavar="DIR")

    commands.add_parser("schema", help="print the JSON Schema of the Scenario document")

    describe = commands.add_parser(
        "describe", help="what `kubectl describe pod` shows at an instant"
    )
    describe.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    _add_instant_arguments(describe)
    describe.add_argument("--pod", help="only this pod (every pod when absent)")

    get = commands.add_parser("get", help="what `kubectl get` shows at an instant")
    get.add_argument("resource", metavar="RESOURCE", help=", ".join(_GET_RESOURCES))
    get.add_argument("scenario", type=Path, metavar="SCENARIO.yaml")
    _add_instant_arguments(get)

    sweep = commands.add_parser("sweep", help="run a parameter sweep (docs/sweeps.md)")
    sweep.add_argument("sweep", type=Path, metavar="SWEEP.yaml")
    sweep.add_argument("--out", type=Path, help="output folder (results/<name>/)")
    sweep.add_argument("--workers", type=int, help="processes (default: every core)")
    sweep.add_argument(
        "--scheduler", metavar="ADDRESS", help="run on this Dask cluster"
    )
    sweep.add_argument("--no-cache", action="store_true", help="simulate every run")
    return parser


# kubectl's names of the resources `get` shows (plural, singular, short).
_GET_RESOURCES = {
    "pods": ("pods", "pod", "po"),
    "serviceaccounts": ("serviceaccounts", "serviceaccount", "sa"),
    "secrets": ("secrets", "secret"),
}
# A run reaches just past --at, so that events at exactly --at have happened.
_PAST_INSTANT = 1e-6


def _add_instant_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--at", help="the instant on the scenario clock (35s, 2m); default the end"
    )
    parser.add_argument("--seed", type=int, help="seed of the run")


def _configure_logging(verbose: bool) -> None:
    if not verbose:
        logging.getLogger("sim").setLevel(logging.WARNING)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(simtime)s %(name)s %(message)s"))
    logger = logging.getLogger("sim")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


def _print_problems(problems: Sequence[Problem]) -> None:
    for problem in problems:
        prefix = "" if problem.is_error else "warning: "
        print(f"{prefix}{problem}", file=sys.stderr)


def _cmd_validate(args: argparse.Namespace) -> int:
    from sim.kube.versions import problems as version_problems
    from sim.scenario.reader import validate_file

    problems = validate_file(args.scenario)
    errors = [p for p in problems if p.is_error]
    _print_problems(problems)
    if not errors:
        from sim.scenario.reader import load_scenario

        scenario = load_scenario(args.scenario)
        found = version_problems(scenario.cluster)
        for text in found:
            print(f"{args.scenario}: spec.cluster: {text}", file=sys.stderr)
        if found:
            return EXIT_INVALID
        print(
            f"{args.scenario}: valid: {len(scenario.pods)} pod(s), "
            f"{len(scenario.actions)} action(s)"
        )
        return EXIT_OK
    return EXIT_INVALID


def _load_checked(args: argparse.Namespace) -> Scenario:
    """Check ``--seed``, load the scenario, print its warnings, check its version."""
    from sim.kube.versions import VersionError, resolve
    from sim.scenario.reader import load_scenario

    if args.seed is not None and args.seed < 0:
        raise _UsageError(f"--seed must be 0 or more, not {args.seed}")
    scenario = load_scenario(args.scenario)
    for warning in scenario.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    try:
        resolve(scenario.cluster)
    except VersionError as error:
        raise _UsageError(f"{args.scenario}: spec.cluster: {error}") from None
    return scenario


def _duration_option(name: str, value: str) -> float:
    """Seconds of a duration option, or a usage error naming the option."""
    from sim.scenario.durations import parse_duration

    try:
        return parse_duration(value)
    except ValueError as error:
        raise _UsageError(f"{name}: {error}") from None


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    """``; did you mean "x"?`` for the closest choice, or "" when none is close."""
    close = difflib.get_close_matches(word, choices, n=1)
    return f'; did you mean "{close[0]}"?' if close else ""


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.output import write_run
    from sim.simulation import simulate

    if args.runs < 1:
        raise _UsageError(f"--runs must be at least 1, not {args.runs}")
    scenario = _load_checked(args)
    if args.duration is not None:
        seconds = _duration_option("--duration", args.duration)
        if seconds <= 0:
            raise _UsageError("--duration must be more than 0")
        scenario = scenario.with_duration(seconds)

    seed = scenario.seed if args.seed is None else args.seed
    results = [
        simulate(scenario, seed + i, run=i, record=args.record)
        for i in range(args.runs)
    ]
    out = args.out or Path("results") / scenario.name
    paths = write_run(out, results)
    print(f"wrote {len(paths)} files to {out}/ (seed {seed}, {args.runs} run(s))")
    for path in paths:
        print(f"  {path}")
    return EXIT_OK


def _cmd_plot(args: argparse.Namespace) -> int:
    from sim.output import plot_run

    directory: Path = args.directory
    missing = [
        name
        for name in ("events.parquet", "timeline.csv")
        if not (directory / name).is_file()
    ]
    if missing:
        raise _UsageError(
            f"{directory}: not a finished run (missing {', '.join(missing)}); "
            "make one with `probesim run SCENARIO.yaml --out DIR`"
        )
    print(f"wrote {plot_run(directory)}")
    return EXIT_OK


def _load_instant(args: argparse.Namespace) -> tuple[Scenario, float]:
    """The scenario to show and the instant ``--at`` (default: its end)."""
    scenario = _load_checked(args)
    if args.at is None:
        return scenario, scenario.duration_seconds
    return scenario, _duration_option("--at", args.at)


def _simulate_to(
    scenario: Scenario, at: float, args: argparse.Namespace
) -> SimulationResult:
    """Run the scenario just past ``at``, so that events at ``at`` have happened."""
    from sim.simulation import simulate

    seed = scenario.seed if args.seed is None else args.seed
    return simulate(scenario.with_duration(at + _PAST_INSTANT), seed)


def _cmd_describe(args: argparse.Namespace) -> int:
    from sim.analysis.kubectl import PodNotFoundError, describe_pod, describe_pods
    from sim.scenario.durations import format_duration

    scenario, at = _load_instant(args)
    if args.pod is None:
        _print_view(describe_pods(_simulate_to(scenario, at, args), at))
        return EXIT_OK
    names = [pod.name for pod in scenario.pods]
    if args.pod not in names:
        raise _UsageError(
            f'{args.scenario} has no pod "{args.pod}" (pods: {", ".join(names)})'
            + _did_you_mean(args.pod, names)
        )
    try:
        print(describe_pod(_simulate_to(scenario, at, args), args.pod, at), end="")
    except PodNotFoundError as error:
        raise _UsageError(
            f'Error from server (NotFound): pods "{error.pod}" not found at '
            f"{format_duration(at)} ({error.detail})"
        ) from None
    return EXIT_OK


def _cmd_get(args: argparse.Namespace) -> int:
    from sim.analysis.kubectl import get_pods, get_secrets, get_serviceaccounts

    views = {
        "pods": get_pods,
        "serviceaccounts": get_serviceaccounts,
        "secrets": get_secrets,
    }
    aliases = {name: kind for kind, names in _GET_RESOURCES.items() for name in names}
    kind = aliases.get(args.resource.lower())
    if kind is None:
        raise _UsageError(
            f'the server doesn\'t have a resource type "{args.resource}" '
            f"(probesim shows {', '.join(_GET_RESOURCES)})"
            + _did_you_mean(args.resource.lower(), list(aliases))
        )
    scenario, at = _load_instant(args)
    _print_view(views[kind](_simulate_to(scenario, at, args), at))
    return EXIT_OK


def _print_view(text: str) -> None:
    """Print a kubectl view; like kubectl, "No resources found" goes to stderr."""
    from sim.analysis.kubectl import NO_RESOURCES

    stream = sys.stderr if text.startswith(NO_RESOURCES) else sys.stdout
    print(text, end="", file=stream)


def _cmd_sweep(args: argparse.Namespace) -> int:
    import warnings

    from sim.sweep import SchedulerError, SweepWarning, load_sweep, run_sweep

    if args.workers is not None and args.workers < 1:
        raise _UsageError(f"--workers must be at least 1, not {args.workers}")
    sweep = load_sweep(args.sweep)
    for warning in sweep.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out = args.out or Path("results") / sweep.name
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SweepWarning)
        try:
            result = run_sweep(
                sweep,
                executor="dask" if args.scheduler else "local",
                workers=args.workers,
                scheduler=args.scheduler,
                cache_dir=out / "cache",
                progress=sys.stderr.isatty(),
                use_cache=not args.no_cache,
            )
        except SchedulerError as error:
            raise _UsageError(str(error)) from None
        except KeyboardInterrupt as interrupt:
            if not args.no_cache:
                interrupt.args = (
                    f"the finished runs are kept in {out / 'cache'}/: "
                    "run the same command again to go on",
                )
            raise
    paths = result.write(out)
    print(
        f"wrote {len(paths)} files to {out}/ ({len(sweep.points)} points x "
        f"{sweep.replications} replications: {result.simulated} simulated, "
        f"{result.cached} from the cache, {result.failed} failed)"
    )
    for path in paths:
        print(f"  {path}")
    print(result.table())
    for failures in caught:
        print(f"warning: {failures.message}", file=sys.stderr)
    return EXIT_OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from sim.scenario.schema import scenario_json_schema

    print(json.dumps(scenario_json_schema(), indent=2))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    SIGTERM is handled like Ctrl-C for the duration of the call.
    """
    # Only the main thread may set handlers; one set by the caller stays.
    catch_sigterm = (
        threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    )
    if catch_sigterm:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    except KeyboardInterrupt as interrupt:
        terminated = isinstance(interrupt, _Terminated)
        detail = interrupt.args[0] if interrupt.args else "no file is left half-written"
        print(
            f"probesim: {'terminated' if terminated else 'interrupted'}; {detail}",
            file=sys.stderr,
        )
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    finally:
        if catch_sigterm:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _main(argv: Sequence[str] | None) -> int:
    import matplotlib

    from sim.scenario.errors import ScenarioError

    # The command line draws only into files, never on a screen.
    matplotlib.use("Agg")

    try:
        args = _parser().parse_args(argv)
    except SystemExit as usage:  # argparse has printed the problem or the help
        return int(usage.code or 0)
    _configure_logging(args.verbose)
    handlers = {
        "run": _cmd_run,
        "validate": _cmd_validate,
        "plot": _cmd_plot,
        "schema": _cmd_schema,
        "describe": _cmd_describe,
        "get": _cmd_get,
        "sweep": _cmd_sweep,
    }
    try:
        return handlers[args.command](args)
    except ScenarioError as error:
        _print_problems(error.problems)
        return EXIT_INVALID
    except _UsageError as error:
        print(f"probesim: error: {error}", file=sys.stderr)
        return EXIT_INVALID
    except Exception as error:  # a bug: say so, without a traceback unless -v
        if args.verbose:
            raise
        print(
            f"probesim: internal error (a bug in probesim, please report it): "
            f"{type(error).__name__}: {error}",
            file=sys.stderr,
        )
        return EXIT_BUG


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
