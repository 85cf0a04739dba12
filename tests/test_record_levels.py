"""Record levels keep less of the event log, never different metrics."""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim import RecordLevel

SCENARIOS = ["liveness-exec", "tcp-liveness-readiness", "hung-replica"]


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("level", [RecordLevel.CHANGES, RecordLevel.METRICS])
def test_metrics_and_summary_do_not_depend_on_the_record_level(name, level):
    scenario = sim.load_scenario(f"scenarios/{name}.yaml")
    full = sim.simulate(scenario, seed=4)
    lean = sim.simulate(scenario, seed=4, record=level)
    pd.testing.assert_frame_equal(full.metrics, lean.metrics)
    assert full.summary == lean.summary
    pd.testing.assert_frame_equal(full.requests, lean.requests)
    kept = lean.events[lean.events["reason"] != "Probe"].reset_index(drop=True)
    others = full.events[full.events["reason"] != "Probe"].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, others)


def test_changes_keeps_an_attempt_only_when_its_result_changes():
    scenario = sim.load_scenario("scenarios/liveness-exec.yaml")
    full = sim.simulate(scenario, seed=2).events
    lean = sim.simulate(scenario, seed=2, record="changes").events
    probes = full[full["reason"] == "Probe"]
    expected = []
    for _, rows in probes.groupby(["pod", "container", "probe"], sort=False):
        changed = (rows["result"] != rows["result"].shift()).fillna(True)
        expected.append(rows[changed])
    want = pd.concat(expected).sort_values("time", kind="stable")
    got = lean[lean["reason"] == "Probe"]
    assert list(got["time"]) == list(want["time"])
    assert len(got) < len(probes)


def test_metrics_level_keeps_no_attempt():
    scenario = sim.load_scenario("scenarios/liveness-exec.yaml")
    events = sim.simulate(scenario, seed=2, record="metrics").events
    assert not (events["reason"] == "Probe").any()
    assert (events["reason"] == "Unhealthy").any()
