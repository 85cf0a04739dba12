"""Parameter sweeps (docs/sweeps.md): the Sweep file, designs, seeds, execution.

Small sweeps over ``scenarios/sweeps/hang-detection.scenario.yaml`` (a pod whose
server hangs at 2m) run in this process, in a process pool and on a local Dask
cluster bound to the loopback address; every executor must give the same frames.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ruamel.yaml import YAML

import sim.simulation
import sim.sweeps.execute
from sim.cli import main
from sim.scenario.errors import ScenarioError
from sim.sweep import (
    DesignType,
    SweepWarning,
    load_sweep,
    read_sweep_text,
    run_key,
    run_seed,
    run_sweep,
)
from sim.sweeps.paths import PathError, Token, parse_path

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
SWEEPS = SCENARIOS / "sweeps"
EXAMPLE = SWEEPS / "liveness-period.yaml"
PROBE = "pods[web].containers[app].livenessProbe"
OUTPUTS = {
    "runs.parquet",
    "runs.csv",
    "aggregate.csv",
    "sweep.resolved.yaml",
    "scenario.resolved.yaml",
}


def sweep_text(
    parameters: str,
    *,
    scenario: str = "sweeps/hang-detection.scenario.yaml",
    extra: str = "",
    replications: int = 2,
) -> str:
    """A Sweep document over a scenario of ``scenarios/`` (paths relative to it)."""
    return textwrap.dedent(
        """\
        apiVersion: probesim/v1alpha1
        kind: Sweep
        metadata: {name: test-sweep}
        spec:
          scenario: %s
          seed: 7
          replications: %d
        %s  parameters:
        %s"""
    ) % (
        scenario,
        replications,
        textwrap.indent(textwrap.dedent(extra), "  "),
        textwrap.indent(textwrap.dedent(parameters), "  "),
    )


def sweep_of(parameters: str, **kwargs):
    """Read a sweep from text, relative to ``scenarios/``."""
    return read_sweep_text(sweep_text(parameters, **kwargs), "test.yaml", SCENARIOS)


def problems_of(text: str) -> list[str]:
    """The rendered problems of a sweep that does not read."""
    with pytest.raises(ScenarioError) as caught:
        read_sweep_text(text, "test.yaml", SCENARIOS)
    return [str(p) for p in caught.value.problems]


# Small and quick: 2 points x 2 replications of a 3-minute run.
SMALL = f"""\
- path: {PROBE}.periodSeconds
  name: period
  values: [2, 10]
- path: duration
  values: [3m]
"""


# Paths -----------------------------------------------------------------------------


def test_parse_path_splits_fields_and_selectors():
    assert parse_path("pods[web].containers[0].files[/tmp/x.y]") == (
        Token("pods"),
        Token("web", selector=True),
        Token("containers"),
        Token("0", selector=True),
        Token("files"),
        Token("/tmp/x.y", selector=True),
    )
    for bad in ("", "a..b", "a.", ".a", "a[b", "a[]", "[0]", "a]b"):
        with pytest.raises(PathError):
            parse_path(bad)


# The grid and how parameters apply -------------------------------------------------


def test_grid_is_the_cartesian_product_in_order():
    sweep = sweep_of(
        f"""\
        - path: {PROBE}.periodSeconds
          values: [2, 5, 10]
        - path: {PROBE}.failureThreshold
          values: [1, 3]
        """
    )
    assert sweep.design.type is DesignType.GRID
    assert [p.values for p in sweep.points] == [
        (2, 1), (2, 3), (5, 1), (5, 3), (10, 1), (10, 3),
    ]  # fmt: skip
    for point in sweep.points:
        probe = point.scenario.pod("web").containers[0].liveness_probe
        assert (probe.period_seconds, probe.failure_threshold) == point.values
    assert sweep.run_count == 12


def test_parameters_apply_to_probe_behaviour_and_cluster_fields():
    sweep = sweep_of(
        """\
        - path: deployments[api].template.containers[api].readinessProbe.timeoutSeconds
          values: [4]
        - path: behaviours[0].load.capacity
          values: [80]
        - path: cluster.kubernetesVersion
          values: ["1.30"]
        - path: cluster.featureGates[ExecProbeTimeout]
          values: [false]
        - path: duration
          values: [90s]
        """,
        scenario="cascade-aggressive.yaml",
    )
    (point,) = sweep.points
    scenario = point.scenario
    template = scenario.deployments[0].template
    assert template.containers[0].readiness_probe.timeout_seconds == 4
    assert scenario.behaviours[0].load.capacity_per_second == 80
    assert scenario.cluster.kubernetes_version == "1.30"
    assert scenario.cluster.gate("ExecProbeTimeout") is False
    assert scenario.duration_seconds == 90
    assert sweep.base.cluster.kubernetes_version == "1.35"  # the base is untouched


def test_a_range_with_a_step_is_a_list_of_values():
    sweep = sweep_of(
        f"""\
        - path: {PROBE}.periodSeconds
          range: {{min: 2, max: 10, step: 4}}
        """
    )
    assert [p.values for p in sweep.points] == [(2,), (6,), (10,)]


def test_a_path_that_names_nothing_is_an_error_with_a_suggestion():
    problems = problems_of(
        sweep_text(
            f"""\
            - path: {PROBE}.periodSecond
              values: [5]
            - path: pods[wbe].containers[app].image
              values: [x]
            - path: clustr.kubernetesVersion
              values: ["1.30"]
            - path: pods[web].containers[ap].image
              values: [x]
            """
        )
    )
    assert problems == [
        f'test.yaml:9: Sweep "test-sweep": spec.parameters[0].path: Not found: '
        f'"{PROBE}.periodSecond": the scenario has no field "periodSecond" there; '
        'did you mean "periodSeconds"?',
        'test.yaml:11: Sweep "test-sweep": spec.parameters[1].path: Not found: '
        '"pods[wbe].containers[app].image": the scenario has no Pod "wbe"; '
        'did you mean "web"?',
        'test.yaml:13: Sweep "test-sweep": spec.parameters[2].path: Not found: '
        '"clustr.kubernetesVersion": the Scenario document has no field '
        '"clustr"; did you mean "cluster"?',
        'test.yaml:15: Sweep "test-sweep": spec.parameters[3].path: Not found: '
        '"pods[web].containers[ap].image": pods[web].containers has no item '
        'named "ap"; did you mean "app"?',
    ]


def test_an_invalid_value_is_reported_at_its_line_by_the_scenario_reader():
    problems = problems_of(
        sweep_text(
            f"""\
            - path: {PROBE}.periodSeconds
              values: [5, -1]
            - path: cluster.kubernetesVersion
              values: ["1.30", "1.99"]
            """
        )
    )
    assert len(problems) == 2
    assert problems[0].startswith(
        'test.yaml:10: Sweep "test-sweep": spec.parameters[0].values[1]: '
        f'{PROBE}.periodSeconds = -1: Pod "web": '
        "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1"
    )
    assert problems[1].startswith(
        'test.yaml:12: Sweep "test-sweep": spec.parameters[1].values[1]: '
        'cluster.kubernetesVersion = "1.99": '
    )


def test_problems_of_the_sweep_document_have_file_line_and_field():
    text = sweep_text(
        f"""\
        - path: {PROBE}.periodSeconds
          range: {{min: 1, max: 5}}
        """,
        extra="""\
        design: {type: random}
        replicatons: 2
        metrics: [restart]
        """,
    )
    problems = problems_of(text.replace("seed: 7", "seed: -1"))
    assert problems == [
        'test.yaml:6: Sweep "test-sweep": spec.seed: Invalid value: -1: must be '
        "greater than or equal to 0",
        'test.yaml:8: Sweep "test-sweep": spec.design.samples: Required value: the '
        "random design draws samples points",
        'test.yaml:9: Sweep "test-sweep": spec.replicatons: unknown field '
        '"spec.replicatons"; did you mean "replications"?',
    ]
    grid = problems_of(
        sweep_text(f"- {{path: '{PROBE}.periodSeconds', range: {{min: 1, max: 5}}}}")
    )
    assert "range.step: Required value: a grid runs every value" in grid[0]
    metrics = problems_of(sweep_text(SMALL, extra="metrics: [restart]\n"))
    assert 'spec.metrics[0]: Unsupported value: "restart"' in metrics[0]
    assert metrics[0].endswith('did you mean "restarts"?')


# Random designs and seeds ----------------------------------------------------------


def test_random_design_draws_from_ranges_and_values_reproducibly():
    parameters = f"""\
        - path: {PROBE}.periodSeconds
          range: {{min: 1, max: 30}}
        - path: {PROBE}.failureThreshold
          values: [1, 3, 5]
        - path: behaviours[0].http[0].responses[0].latency.median
          range: {{min: 10ms, max: 90ms}}
        """
    extra = "design: {type: random, samples: 12}\n"
    sweep = sweep_of(parameters, extra=extra)
    assert len(sweep.points) == 12
    periods, thresholds, medians = zip(*(p.values for p in sweep.points), strict=True)
    assert all(isinstance(v, int) and 1 <= v <= 30 for v in periods)
    assert set(thresholds) <= {1, 3, 5}
    assert all(0.01 <= v <= 0.09 for v in medians)
    assert len(set(periods)) > 3
    again = sweep_of(parameters, extra=extra)
    assert [p.values for p in again.points] == [p.values for p in sweep.points]


def test_latin_hypercube_puts_one_sample_in_each_stratum():
    samples = 10
    sweep = sweep_of(
        """\
        - path: behaviours[0].http[0].responses[0].latency.median
          range: {min: 0.01, max: 0.5}
        - path: behaviours[0].http[0].responses[0].latency.p99
          range: {min: 1.0, max: 3.0}
        """,
        extra=f"design: {{type: latinHypercube, samples: {samples}}}\n",
    )
    medians, tails = (
        np.array(column)
        for column in zip(*(p.values for p in sweep.points), strict=True)
    )
    for values, low, high in ((medians, 0.01, 0.5), (tails, 1.0, 3.0)):
        strata = np.floor((values - low) / (high - low) * samples).astype(int)
        assert sorted(strata) == list(range(samples))
    assert not np.array_equal(np.argsort(medians), np.argsort(tails))


def test_run_seeds_are_spawned_from_the_sweep_seed_and_all_distinct():
    seeds = {run_seed(7, p, r) for p in range(30) for r in range(30)}
    assert len(seeds) == 900
    child = np.random.SeedSequence(7).spawn(4)[3].spawn(6)[5]
    assert run_seed(7, 3, 5) == int(child.generate_state(1)[0])
    assert run_seed(7, 3, 5) == run_seed(7, 3, 5) != run_seed(8, 3, 5)
    sweep = sweep_of(SMALL)
    assert sweep.seed_of(1, 1) == run_seed(7, 1, 1)


# Running ---------------------------------------------------------------------------


def test_two_workers_give_the_frames_of_one(tmp_path):
    sweep = sweep_of(SMALL, replications=3)
    one = run_sweep(sweep, workers=1, use_cache=False, progress=False)
    two = run_sweep(sweep, workers=2, use_cache=False, progress=False)
    pd.testing.assert_frame_equal(one.runs, two.runs)
    pd.testing.assert_frame_equal(one.aggregate, two.aggregate)
    runs = one.runs
    assert list(runs.columns[:6]) == [
        "point",
        "period",
        "duration",
        "replication",
        "seed",
        "pod",
    ]
    assert runs["error"].eq("").all() and len(runs) == 6
    assert runs["seed"].tolist() == [
        run_seed(7, p, r) for p in (0, 1) for r in (0, 1, 2)
    ]
    row = runs.iloc[4]
    direct = sim.simulation.simulate(sweep.points[1].scenario, int(row["seed"]), run=1)
    assert row["fault_to_kill_seconds"] == direct.metrics["fault_to_kill_seconds"][0]
    aggregate = one.aggregate
    assert len(aggregate) == 2 * len(sweep.metrics)
    kill = aggregate[aggregate["metric"] == "fault_to_kill_seconds"]
    assert kill["n"].tolist() == [3, 3]
    assert (kill["ci_low"] <= kill["mean"]).all() and (
        kill["mean"] <= kill["ci_high"]
    ).all()
    assert {"q05", "q50", "q95", "failed_runs"} <= set(aggregate.columns)


def test_a_failing_run_is_reported_and_the_others_complete(monkeypatch):
    sweep = sweep_of(SMALL)
    bad_seed = sweep.seed_of(1, 0)
    simulate = sim.simulation.simulate

    def failing(scenario, seed=None, **kwargs):
        if seed == bad_seed:
            raise RuntimeError("the model refused")
        return simulate(scenario, seed, **kwargs)

    monkeypatch.setattr(sim.simulation, "simulate", failing)
    with pytest.warns(SweepWarning) as caught:
        result = run_sweep(sweep, workers=1, use_cache=False, progress=False)
    assert result.failed == 1 and result.simulated == 4
    errors = result.errors
    assert errors[["point", "replication", "seed", "period"]].values.tolist() == [
        [1, 0, bad_seed, 10]
    ]
    assert errors["error"].tolist() == ["RuntimeError: the model refused"]
    assert result.runs["error"].eq("").sum() == 3
    message = str(caught[0].message)
    assert "1 of 4 runs" in message
    assert (
        f'point 1 (period=10, duration="3m"), replication 0, seed {bad_seed}' in message
    )
    kill = result.aggregate[result.aggregate["metric"] == "restarts"]
    assert kill["failed_runs"].tolist() == [0, 1] and kill["n"].tolist() == [2, 1]


def test_finished_runs_come_from_the_cache(tmp_path, monkeypatch):
    sweep = sweep_of(SMALL)
    first = run_sweep(sweep, workers=1, cache_dir=tmp_path, progress=False)
    assert (first.simulated, first.cached) == (4, 0)
    assert len(list(tmp_path.rglob("*.json"))) == 4
    calls = []
    simulate = sim.simulation.simulate

    def counting(*args, **kwargs):
        calls.append(args)
        return simulate(*args, **kwargs)

    monkeypatch.setattr(sim.simulation, "simulate", counting)
    second = run_sweep(sweep, workers=1, cache_dir=tmp_path, progress=True)
    assert (second.simulated, second.cached, calls) == (0, 4, [])
    pd.testing.assert_frame_equal(first.runs, second.runs)
    pd.testing.assert_frame_equal(first.aggregate, second.aggregate)
    # One more value: only its runs are simulated.
    wider = sweep_of(SMALL.replace("[2, 10]", "[2, 10, 5]"))
    third = run_sweep(wider, workers=1, cache_dir=tmp_path, progress=False)
    assert (third.simulated, third.cached, len(calls)) == (2, 4, 2)


def test_cache_keys_follow_scenario_seed_and_version(monkeypatch):
    sweep = sweep_of(SMALL)
    text = sweep.points[0].resolved
    key = run_key(text, 1)
    assert key == run_key(text, 1) != run_key(text, 2)
    assert key != run_key(sweep.points[1].resolved, 1)
    monkeypatch.setattr(sim, "__version__", "9.9.9")
    assert run_key(text, 1) != key


def test_dask_cluster_gives_the_frames_of_the_local_executor():
    distributed = pytest.importorskip("distributed")
    sweep = sweep_of(SMALL)
    local = run_sweep(sweep, workers=1, use_cache=False, progress=False)
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        host="127.0.0.1",
    ) as cluster:
        on_dask = run_sweep(
            sweep,
            executor="dask",
            scheduler=cluster.scheduler_address,
            use_cache=False,
            progress=False,
        )
    pd.testing.assert_frame_equal(local.runs, on_dask.runs)
    pd.testing.assert_frame_equal(local.aggregate, on_dask.aggregate)


# The command line ------------------------------------------------------------------


def test_cli_sweep_writes_results_and_reuses_them(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["sweep", str(EXAMPLE), "--out", str(out), "--workers", "2"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert {p.name for p in out.iterdir()} >= OUTPUTS
    assert "9 points x 5 replications: 45 simulated, 0 from the cache" in printed.out
    assert "fault_to_kill_seconds" in printed.out  # the short table
    runs = pd.read_parquet(out / "runs.parquet")
    assert len(runs) == 45 and set(runs["periodSeconds"]) == {2, 5, 10}
    csv = pd.read_csv(out / "runs.csv", keep_default_na=False)
    assert csv["seed"].tolist() == runs["seed"].tolist()
    aggregate = pd.read_csv(out / "aggregate.csv")
    assert len(aggregate) == 9 * 4
    resolved = list(
        YAML(typ="safe").load_all((out / "sweep.resolved.yaml").read_text())
    )
    assert resolved[0]["spec"]["scenario"] == "scenario.resolved.yaml"
    assert resolved[0]["status"]["points"][0]["seeds"] == runs["seed"].tolist()[:5]
    # The resolved sweep reads back as the same sweep: every run is in the cache.
    code = main(["sweep", str(out / "sweep.resolved.yaml"), "--out", str(out)])
    assert code == 0
    assert "0 simulated, 45 from the cache" in capsys.readouterr().out
    code = main(
        ["sweep", str(EXAMPLE), "--out", str(out), "--no-cache", "--workers", "1"]
    )
    assert code == 0
    assert "45 simulated, 0 from the cache" in capsys.readouterr().out


def test_cli_sweep_exit_codes(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        sweep_text(f"- {{path: '{PROBE}.periodSecond', values: [5]}}").replace(
            "sweeps/", str(SWEEPS) + "/"
        )
    )
    assert main(["sweep", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:9: " in err and 'did you mean "periodSeconds"?' in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()
    assert main(["sweep", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read the sweep" in capsys.readouterr().err
    assert main(["sweep", str(EXAMPLE), "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    scenario = tmp_path / "s.yaml"
    scenario.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")
    bad.write_text(sweep_text(SMALL, scenario="s.yaml"))
    assert main(["sweep", str(bad)]) == 2
    assert f"{scenario}:" in capsys.readouterr().err
    bad.write_text(sweep_text(SMALL, scenario="nope.yaml"))
    assert main(["sweep", str(bad)]) == 2
    assert 'spec.scenario: Not found: "nope.yaml"' in capsys.readouterr().err


def test_cli_sweep_unreachable_scheduler_is_a_usage_error(
    tmp_path, capsys, monkeypatch
):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sim.sweeps.execute, "CONNECT_TIMEOUT", "1s")
    code = main(
        [
            "sweep",
            str(EXAMPLE),
            "--out",
            str(tmp_path),
            "--scheduler",
            "tcp://127.0.0.1:9",
        ]
    )
    assert code == 2
    assert "cannot connect to the Dask scheduler" in capsys.readouterr().err


def test_example_sweep_reads():
    sweep = load_sweep(EXAMPLE)
    assert len(sweep.points) == 9 and sweep.replications == 5
    assert sweep.metrics[0] == "fault_to_kill_seconds"
