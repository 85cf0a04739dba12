"""The ``probesim`` command line (architecture.md, contract 1).

``sim.cli.main(argv)`` returns the exit code: 0 success, 2 invalid input (every
problem as ``FILE:LINE: PATH: MESSAGE``, allowed values listed, a suggestion for a
misspelt field), 1 an internal error. ``run`` writes events.parquet, events.csv,
timeline.csv, summary.json and scenario.resolved.yaml, all or none.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from ruamel.yaml import YAML

import sim.output
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
LIVENESS_EXEC = ROOT / "scenarios" / "liveness-exec.yaml"
OUTPUTS = (
    "events.parquet",
    "events.csv",
    "timeline.csv",
    "summary.json",
    "scenario.resolved.yaml",
)


def call(argv: list[str]) -> int:
    """Run ``main``; an argparse usage error exits through SystemExit: its code."""
    try:
        return main(argv)
    except SystemExit as error:
        return int(error.code or 0)


def run_cli(tmp_path: Path, *extra: str, out: str = "out") -> tuple[int, Path]:
    """``probesim run scenarios/liveness-exec.yaml --out DIR --duration 2m ...``."""
    directory = tmp_path / out
    argv = ["run", str(LIVENESS_EXEC), "--out", str(directory), "--duration", "2m"]
    return call([*argv, *extra]), directory


def files_in(directory: Path) -> dict[str, bytes]:
    """Every file of a folder (hidden ones included), by name."""
    if not directory.exists():
        return {}
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def read_yaml(path: Path):
    """The documents of a YAML file."""
    return list(YAML(typ="safe").load_all(path.read_text()))


# run -------------------------------------------------------------------------------


def test_run_writes_every_output(tmp_path, capsys):
    code, out = run_cli(tmp_path)
    assert code == 0, capsys.readouterr().err
    written = files_in(out)
    assert set(OUTPUTS) <= set(written)
    assert not [name for name in written if name.startswith(".")]
    assert all(written[name] for name in OUTPUTS)


def test_run_parquet_and_csv_agree(tmp_path):
    code, out = run_cli(tmp_path)
    assert code == 0
    parquet = pd.read_parquet(out / "events.parquet")
    csv = pd.read_csv(out / "events.csv", keep_default_na=False)
    expected_columns = [
        "time", "run", "pod", "container", "reason", "probe", "result",
        "restart_count", "message",
    ]  # fmt: skip
    assert list(parquet.columns) == expected_columns
    assert list(csv.columns) == expected_columns
    assert len(parquet) == len(csv) > 0
    pd.testing.assert_series_equal(parquet["time"], csv["time"], atol=1e-6, rtol=0)
    for column in expected_columns[1:]:
        assert list(parquet[column].astype(str)) == list(csv[column].astype(str)), (
            column
        )
    # The event log is sorted by time, and its last event lies inside the 2m run.
    assert parquet["time"].is_monotonic_increasing
    assert parquet["time"].max() <= 120.0


def test_run_summary_has_the_metrics_and_the_seed(tmp_path):
    code, out = run_cli(tmp_path)
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 1  # the scenario's own seed
    assert summary["duration_seconds"] == 120.0
    pod = summary["pods"]["liveness-exec"]
    # R12.1 (the image has no tag, so every start pulls for 1-3 s): Ready a few
    # seconds after creation, the first liveness kill 40-45 s after the start, the
    # restart after the 30 s grace (~72-83 s). The second kill may fall before
    # 2m; its restart (30 s later) cannot.
    assert 0 < pod["time_to_first_ready_seconds"] < 10
    assert pod["restarts"] == {"liveness": 1}
    assert 1 <= pod["kills_by_cause"]["liveness"] <= 2
    assert sum(pod["kills_by_cause"].values()) == pod["kills_by_cause"]["liveness"]
    assert summary["total_restarts"] == 1


def test_run_seed_is_recorded_in_the_resolved_scenario(tmp_path):
    code, out = run_cli(tmp_path, "--seed", "7")
    assert code == 0
    documents = read_yaml(out / "scenario.resolved.yaml")
    scenario = next(d for d in documents if d and d.get("kind") == "Scenario")
    assert scenario["spec"]["seed"] == 7
    assert scenario["spec"]["duration"] in ("2m", "2m0s", "120s", 120)
    assert json.loads((out / "summary.json").read_text())["seed"] == 7


def test_resolved_scenario_reproduces_the_run(tmp_path):
    code, out = run_cli(tmp_path, "--seed", "7")
    assert code == 0
    again = tmp_path / "again"
    resolved = out / "scenario.resolved.yaml"
    assert main(["run", str(resolved), "--out", str(again)]) == 0
    first = pd.read_parquet(out / "events.parquet")
    second = pd.read_parquet(again / "events.parquet")
    pd.testing.assert_frame_equal(first, second)


def test_run_twice_with_one_seed_gives_identical_files(tmp_path):
    first_code, first = run_cli(tmp_path, "--seed", "3", out="a")
    second_code, second = run_cli(tmp_path, "--seed", "3", out="b")
    assert first_code == second_code == 0
    a, b = files_in(first), files_in(second)
    assert set(a) == set(b)
    different = sorted(name for name in a if a[name] != b[name])
    assert different == []


def test_run_different_seeds_differ(tmp_path):
    assert run_cli(tmp_path, "--seed", "3", out="a")[0] == 0
    assert run_cli(tmp_path, "--seed", "4", out="b")[0] == 0
    a = (tmp_path / "a" / "events.csv").read_bytes()
    b = (tmp_path / "b" / "events.csv").read_bytes()
    assert a != b


def test_run_replications(tmp_path):
    code, out = run_cli(tmp_path, "--runs", "3", "--seed", "5")
    assert code == 0
    events = pd.read_parquet(out / "events.parquet")
    assert sorted(events["run"].unique()) == [0, 1, 2]
    timeline = pd.read_csv(out / "timeline.csv", keep_default_na=False)
    assert sorted(timeline["run"].unique()) == [0, 1, 2]
    summary = json.loads((out / "summary.json").read_text())
    runs = summary["runs"]
    assert [r["run"] for r in runs] == [0, 1, 2]
    assert [r["seed"] for r in runs] == [5, 6, 7]
    # Each run is sorted by time on its own.
    for _, frame in events.groupby("run"):
        assert frame["time"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--duration", "10 seconds"], "--duration"),
        (["--duration=-5s"], "--duration"),
        (["--duration", "0s"], "--duration"),
        (["--runs", "0"], "--runs"),
        (["--seed", "-1"], "--seed"),
        (["--seed", "abc"], "--seed"),
    ],
)
def test_run_bad_arguments_exit_2_without_traceback(tmp_path, capsys, argv, fragment):
    out = tmp_path / "out"
    code = call(["run", str(LIVENESS_EXEC), "--out", str(out), *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert fragment in err
    assert "Traceback" not in err
    assert files_in(out) == {}


def test_run_internal_failure_leaves_no_files(tmp_path, capsys, monkeypatch):
    calls = []
    real = sim.output._json

    def failing_json(data):
        write = real(data)

        def write_then_fail(path):
            write(path)
            calls.append(path)
            raise RuntimeError("disk on fire")

        return write_then_fail

    # summary.json is written after the event logs and the timeline: those are
    # complete on disk (under temporary names) when the failure strikes.
    monkeypatch.setattr(sim.output, "_json", failing_json)
    code, out = run_cli(tmp_path)
    err = capsys.readouterr().err
    assert calls, "the patched writer was never used"
    assert code == 1
    assert "internal error" in err
    assert "disk on fire" in err
    assert "Traceback" not in err
    assert files_in(out) == {}


def test_run_internal_failure_keeps_earlier_results(tmp_path, monkeypatch):
    code, out = run_cli(tmp_path)
    assert code == 0
    before = files_in(out)

    def fail(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    code, _ = run_cli(tmp_path, "--seed", "9")
    assert code == 1
    assert files_in(out) == before


# validate and schema --------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_validate_accepts_every_shipped_scenario(path, capsys):
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert "valid" in capsys.readouterr().out


def test_there_are_shipped_scenarios():
    assert LIVENESS_EXEC in SCENARIOS


def test_schema_prints_json(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert isinstance(schema, dict)
    text = json.dumps(schema)
    for name in ("behaviours", "actions", "cluster", "kubernetesVersion", "duration"):
        assert name in text


def test_validate_missing_file(tmp_path, capsys):
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 2
    err = capsys.readouterr().err
    assert str(missing) in err
    assert "Traceback" not in err


# Malformed scenario files ----------------------------------------------------------

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.25
    ports:
    - containerPort: 8080
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8080
      periodSeconds: 5
"""

SCENARIO = """\
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata:
  name: broken
spec:
  duration: 2m
  behaviours:
  - container: app
    http:
    - port: 8080
      path: /healthz
      responses:
      - status: 200
"""

VALID = POD + SCENARIO


@dataclass(frozen=True)
class Broken:
    """A malformed file: the text, the line it must name, the field path, fragments.

    ``anchor`` is a substring of the offending line (its first occurrence gives the
    line number); None for problems of the whole file, which have no line.
    """

    name: str
    text: str
    anchor: str | None
    path: str
    fragments: tuple[str, ...]


def edit(old: str, new: str, text: str = VALID) -> str:
    """Replace one exact piece of the valid file."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def add_to_spec(lines: str) -> str:
    """Append lines (indented two spaces) to the Scenario document's spec."""
    return VALID + textwrap.indent(textwrap.dedent(lines), "  ")


def add_to_container(lines: str) -> str:
    """Append fields (indented four spaces) to the container, before livenessProbe."""
    fields = textwrap.indent(textwrap.dedent(lines), "    ")
    return edit("    livenessProbe:\n", fields + "    livenessProbe:\n")


def _handlers() -> str:
    return edit(
        "      httpGet:\n", '      exec:\n        command: ["true"]\n      httpGet:\n'
    )


BROKEN = [
    Broken(
        "misspelt-field",
        edit("periodSeconds: 5", "initialDelaySecond: 5"),
        "initialDelaySecond:",
        "spec.containers[0].livenessProbe.initialDelaySecond",
        ("unknown field", 'did you mean "initialDelaySeconds"'),
    ),
    Broken(
        "liveness-success-threshold",
        edit("periodSeconds: 5", "periodSeconds: 5\n      successThreshold: 2"),
        "successThreshold: 2",
        "spec.containers[0].livenessProbe.successThreshold",
        ("must be 1",),
    ),
    Broken(
        "negative-period",
        edit("periodSeconds: 5", "periodSeconds: -1"),
        "periodSeconds: -1",
        "spec.containers[0].livenessProbe.periodSeconds",
        ("-1", "must be greater than or equal to 0"),
    ),
    Broken(
        "negative-initial-delay",
        edit("periodSeconds: 5", "initialDelaySeconds: -3"),
        "initialDelaySeconds: -3",
        "spec.containers[0].livenessProbe.initialDelaySeconds",
        ("must be greater than or equal to 0",),
    ),
    Broken(
        "readiness-grace",
        add_to_container(
            """\
            readinessProbe:
              tcpSocket: {port: 8080}
              terminationGracePeriodSeconds: 10
            """
        ),
        "terminationGracePeriodSeconds: 10",
        "spec.containers[0].readinessProbe.terminationGracePeriodSeconds",
        ("must not be set for readinessProbes",),
    ),
    Broken(
        "two-handlers",
        _handlers(),
        "httpGet:",
        "spec.containers[0].livenessProbe",
        ("may not specify more than 1 handler type",),
    ),
    Broken(
        "port-out-of-range",
        edit("port: 8080\n      periodSeconds", "port: 70000\n      periodSeconds"),
        "port: 70000",
        "spec.containers[0].livenessProbe.httpGet.port",
        ("70000", "must be between 1 and 65535, inclusive"),
    ),
    Broken(
        "restart-policy",
        edit(
            "spec:\n  containers:", "spec:\n  restartPolicy: Sometimes\n  containers:"
        ),
        "restartPolicy: Sometimes",
        "spec.restartPolicy",
        ('Unsupported value: "Sometimes"', '"Always", "OnFailure", "Never"'),
    ),
    Broken(
        "duplicate-container",
        edit(
            "    livenessProbe:",
            "  - name: app\n    image: busybox:1.36\n    livenessProbe:",
        ),
        "  - name: app\n    image: busybox",
        "spec.containers[1].name",
        ('Duplicate value: "app"',),
    ),
    Broken(
        "missing-image",
        edit("    image: nginx:1.25\n", ""),
        "  - name: app",
        "spec.containers[0].image",
        ("Required value",),
    ),
    Broken(
        "http-scheme",
        edit("        port: 8080\n", "        port: 8080\n        scheme: FTP\n"),
        "scheme: FTP",
        "spec.containers[0].livenessProbe.httpGet.scheme",
        ('Unsupported value: "FTP"', '"HTTP", "HTTPS"'),
    ),
    Broken(
        "threshold-not-integer",
        edit("periodSeconds: 5", "failureThreshold: three"),
        "failureThreshold: three",
        "spec.containers[0].livenessProbe.failureThreshold",
        ("three", "must be an integer"),
    ),
    Broken(
        "exec-without-command",
        edit(
            "      httpGet:\n        path: /healthz\n        port: 8080\n",
            "      exec:\n        command: []\n",
        ),
        "command: []",
        "spec.containers[0].livenessProbe.exec.command",
        ("Required value",),
    ),
    Broken(
        "bad-duration",
        edit("duration: 2m", "duration: 10 seconds"),
        "duration: 10 seconds",
        "spec.duration",
        ("10 seconds", "must be a duration"),
    ),
    Broken(
        "negative-seed",
        add_to_spec("seed: -1\n"),
        "seed: -1",
        "spec.seed",
        ("must be greater than or equal to 0",),
    ),
    Broken(
        "unknown-feature-gate",
        add_to_spec(
            """\
            cluster:
              featureGates:
                ReduceDefaultCrashLoopBackoffDecay: true
            """
        ),
        "ReduceDefaultCrashLoopBackoffDecay",
        "spec.cluster.featureGates",
        ("unknown feature gate", 'did you mean "ReduceDefaultCrashLoopBackOffDecay"'),
    ),
    Broken(
        "unsupported-version",
        add_to_spec('cluster: {kubernetesVersion: "1.99"}\n'),
        "kubernetesVersion",
        "spec.cluster.kubernetesVersion",
        ('Unsupported value: "1.99"', '"1.27"', '"1.35"'),
    ),
    Broken(
        "locked-feature-gate",
        add_to_spec(
            """\
            cluster:
              kubernetesVersion: "1.35"
              featureGates:
                ExecProbeTimeout: false
            """
        ),
        "ExecProbeTimeout",
        "spec.cluster.featureGates",
        ("ExecProbeTimeout", "locked"),
    ),
    Broken(
        "restart-period-too-long",
        add_to_spec("cluster: {crashLoopBackOff: {maxContainerRestartPeriod: 10m}}\n"),
        "maxContainerRestartPeriod",
        "spec.cluster.crashLoopBackOff.maxContainerRestartPeriod",
        ("must be between",),
    ),
    Broken(
        "behaviour-for-unknown-container",
        edit("  - container: app", "  - container: ghost"),
        "container: ghost",
        "spec.behaviours[0].container",
        ('"ghost"', "no container"),
    ),
    Broken(
        "sigterm-choice",
        edit("  - container: app\n", "  - container: app\n    sigterm: maybe\n"),
        "sigterm: maybe",
        "spec.behaviours[0].sigterm",
        ("maybe", "ignore"),
    ),
    Broken(
        "action-for-unknown-pod",
        add_to_spec("actions:\n- {at: 30s, delete: {pod: nope}}\n"),
        "pod: nope",
        "spec.actions[0].delete.pod",
        ('"nope"', "no pod"),
    ),
    Broken(
        "action-without-verb",
        add_to_spec("actions:\n- {at: 30s}\n"),
        "at: 30s",
        "spec.actions[0]",
        ("must specify one",),
    ),
    Broken(
        "fault-with-two-verbs",
        add_to_spec(
            """\
            actions:
            - at: 30s
              fault:
                pod: web
                container: app
                hang: {for: 10s}
                crash: {exitCode: 1}
            """
        ),
        "crash: {exitCode: 1}",
        "spec.actions[0].fault",
        ("may not specify more than",),
    ),
    Broken(
        "set-condition-status",
        add_to_spec(
            "actions:\n"
            "- {at: 30s, setCondition: {pod: web, type: x.io/g, status: Maybe}}\n"
        ),
        "status: Maybe",
        "spec.actions[0].setCondition.status",
        ('Unsupported value: "Maybe"', '"True", "False"'),
    ),
    Broken(
        "broken-yaml",
        edit("periodSeconds: 5", "periodSeconds: 5: 6"),
        "periodSeconds: 5: 6",
        "",
        ("mapping values are not allowed",),
    ),
    Broken(
        "unclosed-flow",
        # The parser notices at the end of the file; the message names the line
        # where the sequence opened.
        edit(
            "      responses:\n      - status: 200\n",
            "      responses: [{status: 200}\n",
        ),
        None,
        "",
        ("line 28",),
    ),
    Broken(
        "two-scenario-documents",
        VALID + SCENARIO.replace("name: broken", "name: again"),
        "apiVersion: probesim/v1alpha1\nkind: Scenario\nmetadata:\n  name: again",
        "",
        ("Scenario",),
    ),
    Broken(
        "no-pods",
        SCENARIO.replace("  behaviours:\n", "").split("  - container")[0],
        None,
        "",
        ("Pod",),
    ),
    Broken(
        "unknown-kind",
        edit("kind: Pod", "kind: Deploymnet"),
        "kind: Deploymnet",
        "kind",
        ('Unsupported value: "Deploymnet"', 'did you mean "Deployment"'),
    ),
]


def _line_of(text: str, anchor: str) -> int:
    index = text.index(anchor)
    # The anchor may start with the line's indentation: count from its first
    # non-blank character.
    index += len(anchor) - len(anchor.lstrip())
    return text.count("\n", 0, index) + 1


def check_problem(err: str, path: Path, case: Broken) -> None:
    """One stderr line names the file, line, field path and every fragment."""
    assert "Traceback" not in err
    where = f"{path}:{_line_of(case.text, case.anchor)}:" if case.anchor else str(path)
    matches = [
        line
        for line in err.splitlines()
        if line.startswith(where)
        and case.path in line
        and all(fragment in line for fragment in case.fragments)
    ]
    assert matches, f"expected {where} {case.path} {case.fragments} in:\n{err}"


def test_the_base_file_is_valid(tmp_path, capsys):
    path = tmp_path / "valid.yaml"
    path.write_text(VALID)
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


def test_there_are_at_least_20_broken_files():
    assert len({case.name for case in BROKEN}) == len(BROKEN) >= 20


@pytest.mark.parametrize("case", BROKEN, ids=[case.name for case in BROKEN])
def test_validate_broken_file(tmp_path, capsys, case):
    path = tmp_path / f"{case.name}.yaml"
    path.write_text(case.text)
    code = call(["validate", str(path)])
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    check_problem(captured.err, path, case)


@pytest.mark.parametrize("case", BROKEN, ids=[case.name for case in BROKEN])
def test_run_broken_file(tmp_path, capsys, case):
    path = tmp_path / f"{case.name}.yaml"
    path.write_text(case.text)
    out = tmp_path / "out"
    code = call(["run", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    check_problem(captured.err, path, case)
    assert files_in(out) == {}
