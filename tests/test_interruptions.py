"""Interrupted runs and sweeps: complete files or none, and a rerun goes on.

``probesim`` turns Ctrl-C (SIGINT) and SIGTERM into one line on stderr and the exit
codes 130 and 143; outputs are written under temporary names and renamed together
(``sim.output.write_atomically``), and a sweep keeps every finished run in its cache
(``docs/sweeps.md``), so that running the same command again simulates only the
rest. A killed pool worker fails the runs not yet finished, which a rerun does.

The subprocesses start through ``LAUNCH``, which runs ``sim.cli.main`` like the
``probesim`` script and says on stderr when probesim is imported: a signal sent
during Python's own start-up is Python's to report, not the command's.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import matplotlib.image
import pandas as pd
import pytest
from ruamel.yaml import YAML

import sim.output
import sim.simulation
import sim.sweeps.cache
from sim.cli import main
from sim.sweep import load_sweep

ROOT = Path(__file__).resolve().parents[1]
LIVENESS_EXEC = ROOT / "scenarios" / "liveness-exec.yaml"
HANG_DETECTION = ROOT / "scenarios" / "sweeps" / "hang-detection.scenario.yaml"
STARTED = "probesim-started"
# The cache keys hold a fingerprint of probesim's source: pinned here and in the
# subprocesses, so that an edit of the working tree during the tests changes nothing.
FINGERPRINT = "interruption-tests"
LAUNCH = textwrap.dedent(
    f"""\
    import sys
    import sim.sweeps.cache
    from sim.cli import main
    sim.sweeps.cache.model_fingerprint = lambda: {FINGERPRINT!r}
    print({STARTED!r}, file=sys.stderr, flush=True)
    sys.exit(main(sys.argv[1:]))
    """
)
# 4 points x 4 replications of a 200-hour run (its liveness probe's latency tail
# keeps the fast path busy: a few tenths of a second a run): seconds on two workers.
SWEEP = textwrap.dedent(
    f"""\
    apiVersion: probesim/v1alpha1
    kind: Sweep
    metadata: {{name: interrupted}}
    spec:
      scenario: {HANG_DETECTION}
      seed: 11
      replications: 4
      parameters:
      - path: pods[web].containers[app].livenessProbe.periodSeconds
        name: period
        values: [2, 4, 6, 8]
      - path: duration
        values: [200h]
      metrics: [fault_to_kill_seconds, restarts]
    """
)
RUNS = 16
REPORT = re.compile(r"(\d+) simulated, (\d+) from the cache, (\d+) failed")


def start(*argv: str) -> subprocess.Popen[str]:
    """``probesim ARGV...`` in its own process group, once probesim is imported."""
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    assert line.strip() == STARTED, line + process.communicate()[1]
    return process


def stop(process: subprocess.Popen[str], number: int) -> tuple[int, str]:
    """Send a signal to the process group, as a terminal's Ctrl-C does."""
    os.killpg(process.pid, number)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    return process.returncode, err


def assert_complete(directory: Path) -> None:
    """Every file under ``directory`` reads whole; no temporary file is left."""
    for path in directory.rglob("*"):
        if path.is_dir():
            continue
        assert not path.name.startswith("."), path
        assert not path.name.endswith(".tmp"), path
        if path.suffix == ".parquet":
            pd.read_parquet(path)
        elif path.suffix == ".csv":
            pd.read_csv(path)
        elif path.suffix == ".json":
            data = json.loads(path.read_text())
            if path.parent.parent.name == "cache":
                assert data["key"] == path.stem and data["rows"], path
        elif path.suffix == ".yaml":
            list(YAML(typ="safe").load_all(path.read_text()))
        elif path.suffix == ".png":
            matplotlib.image.imread(path)
        else:
            pytest.fail(f"unexpected file {path}")


def files_in(directory: Path) -> dict[str, bytes]:
    """Every file of a folder (hidden ones included), by name."""
    if not directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def cache_entries(directory: Path) -> list[Path]:
    return sorted((directory / "cache").rglob("*.json"))


def report(out: str) -> tuple[int, int, int]:
    """Simulated, from the cache, failed: the counts ``probesim sweep`` prints."""
    found = REPORT.search(out)
    assert found, out
    simulated, cached, failed = (int(n) for n in found.groups())
    return simulated, cached, failed


# probesim run ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["SIGINT", "SIGTERM"],
)
# At once: while the command imports numpy, pandas and matplotlib (``import sim``
# loads none of them); after a second: while it simulates.
@pytest.mark.parametrize("delay", [0.0, 1.0], ids=["importing", "simulating"])
def test_a_signalled_run_exits_cleanly_and_writes_nothing(
    tmp_path, number, code, word, delay
):
    out = tmp_path / "out"
    # 30 days of a liveness probe every 5 s: minutes of simulation.
    process = start("run", str(LIVENESS_EXEC), "--duration", "720h", "--out", str(out))
    time.sleep(delay)
    returncode, err = stop(process, number)
    assert returncode == code, err
    assert "Traceback" not in err
    assert err.splitlines() == [f"probesim: {word}; no file is left half-written"]
    assert_complete(out)
    assert files_in(out) == {}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """The files of an uninterrupted ``run --seed 3`` of liveness-exec."""
    out = tmp_path_factory.mktemp("reference") / "out"
    assert main(["run", str(LIVENESS_EXEC), "--seed", "3", "--out", str(out)]) == 0
    return files_in(out)


def test_interrupted_writing_keeps_the_earlier_files_and_a_rerun_completes(
    tmp_path, capsys, monkeypatch, reference
):
    out = tmp_path / "out"
    run = ["run", str(LIVENESS_EXEC), "--out", str(out)]
    assert main([*run, "--seed", "4"]) == 0  # an earlier run, complete
    earlier = files_in(out)
    real = sim.output.write_atomically
    written = []

    def interrupted_third(directory, files):
        writers = list(files.items())
        name, write = writers[2]

        def half_then_interrupt(path):
            write(path)
            written.append(name)
            path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
            raise KeyboardInterrupt

        writers[2] = (name, half_then_interrupt)
        return real(directory, dict(writers))

    monkeypatch.setattr(sim.output, "write_atomically", interrupted_third)
    capsys.readouterr()
    assert main([*run, "--seed", "3"]) == 130
    assert written == ["timeline.csv"]
    assert capsys.readouterr().err == (
        "probesim: interrupted; no file is left half-written\n"
    )
    assert files_in(out) == earlier  # untouched, no temporary file left
    monkeypatch.undo()
    assert main([*run, "--seed", "3"]) == 0
    assert_complete(out)
    assert files_in(out) == reference


def test_ctrl_c_during_the_renames_waits_until_all_are_done(
    tmp_path, capsys, monkeypatch, reference
):
    out = tmp_path / "out"
    real = os.replace
    renames = []

    def replace(source, target):
        renames.append(target)
        if len(renames) == 2:
            signal.raise_signal(signal.SIGINT)
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    code = main(["run", str(LIVENESS_EXEC), "--seed", "3", "--out", str(out)])
    monkeypatch.undo()
    assert code == 130, capsys.readouterr().err
    assert len(renames) == len(reference)
    assert files_in(out) == reference


# probesim sweep --------------------------------------------------------------------


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "sweep.yaml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def uninterrupted(sweep_file, tmp_path_factory) -> Path:
    """The results of the sweep run in one go, in one process, without the cache."""
    out = tmp_path_factory.mktemp("uninterrupted")
    argv = ["sweep", str(sweep_file), "--out", str(out), "--workers", "1"]
    assert main([*argv, "--no-cache"]) == 0
    return out


@pytest.fixture
def pinned(monkeypatch) -> None:
    monkeypatch.setattr(sim.sweeps.cache, "model_fingerprint", lambda: FINGERPRINT)


def assert_same_results(out: Path, uninterrupted: Path) -> None:
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "runs.parquet"),
        pd.read_parquet(uninterrupted / "runs.parquet"),
    )
    for name in ("runs.csv", "aggregate.csv"):
        assert (out / name).read_bytes() == (uninterrupted / name).read_bytes()


def test_an_interrupted_sweep_keeps_its_finished_runs(
    tmp_path, capsys, sweep_file, uninterrupted, pinned
):
    out = tmp_path / "out"
    argv = ["sweep", str(sweep_file), "--out", str(out), "--workers", "2"]
    process = start(*argv)
    deadline = time.monotonic() + 60
    while len(cache_entries(out)) < 3 and process.poll() is None:
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.02)
    code, err = stop(process, signal.SIGINT)  # to the workers too, as Ctrl-C does
    assert code == 130, err
    assert err.splitlines() == [
        f"probesim: interrupted; the finished runs are kept in {out / 'cache'}/: "
        "run the same command again to go on"
    ]
    assert_complete(out)
    kept = len(cache_entries(out))
    assert 3 <= kept < RUNS
    assert {p.name for p in out.iterdir()} == {"cache"}  # no results, no half
    capsys.readouterr()
    assert main(argv) == 0
    assert report(capsys.readouterr().out) == (RUNS - kept, kept, 0)
    assert_complete(out)
    assert_same_results(out, uninterrupted)


def test_a_killed_worker_fails_its_runs_and_a_rerun_does_them(
    tmp_path, capsys, monkeypatch, sweep_file, uninterrupted, pinned
):
    # The pool forks this process: its workers run this simulate, which kills the
    # worker at the sweep's last run (never the main process, which runs the first).
    sweep = load_sweep(sweep_file)
    last = sweep.seed_of(len(sweep.points) - 1, sweep.replications - 1)
    main_process = os.getpid()
    simulate = sim.simulation.simulate

    def killing(scenario, seed=None, **kwargs):
        if seed == last and os.getpid() != main_process:
            os.kill(os.getpid(), signal.SIGKILL)
        return simulate(scenario, seed, **kwargs)

    monkeypatch.setattr(sim.simulation, "simulate", killing)
    out = tmp_path / "out"
    argv = ["sweep", str(sweep_file), "--out", str(out), "--workers", "2"]
    # Failed runs do not stop a sweep (docs/sweeps.md, Running): exit 0, the count
    # in the printed line, the error column and a warning.
    assert main(argv) == 0
    printed = capsys.readouterr()
    simulated, cached, failed = report(printed.out)
    assert (simulated, cached) == (RUNS, 0) and 1 <= failed < RUNS
    assert "Traceback" not in printed.err
    assert f"warning: {failed} of {RUNS} runs of sweep interrupted failed" in (
        printed.err
    )
    assert "BrokenProcessPool: A process in the process pool was terminated" in (
        printed.err
    )
    runs = pd.read_parquet(out / "runs.parquet")
    assert runs["error"].ne("").sum() == failed
    assert_complete(out)
    assert len(cache_entries(out)) == RUNS - failed  # the finished runs
    monkeypatch.setattr(sim.simulation, "simulate", simulate)
    assert main(argv) == 0
    assert report(capsys.readouterr().out) == (failed, RUNS - failed, 0)
    assert_same_results(out, uninterrupted)
