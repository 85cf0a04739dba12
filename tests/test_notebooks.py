"""The notebooks run from top to bottom and find what their text says they find.

Each notebook is executed once (module fixtures) with its small default sizes, in a
kernel of this interpreter, from the ``notebooks/`` folder as Jupyter would. A cell
appended at the end prints the notebook's key variables as JSON, which the tests
check against the kubelet's timing rules. Committed notebooks carry no outputs.
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ("readiness-timeline", "tune-liveness", "startup-budget")
CELL_TIMEOUT = 120  # seconds, per cell
MARK = "@@notebook-variables@@"


def execute(name: str, variables: str) -> tuple[Any, dict[str, Any]]:
    """Run a notebook, then print ``variables`` (a Python expression) as JSON."""
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json as _json\n"
            "import sys as _sys\n\n"
            f"_vars = {variables}\n"
            "_vars['python_prefix'] = _sys.prefix\n"
            f"print({MARK!r} + _json.dumps(_vars, default=float))"
        )
    )
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    text = "".join(out.get("text", "") for out in nb.cells[-1].outputs if "text" in out)
    return nb, json.loads(text.split(MARK, 1)[1])


def output_text(nb: Any) -> str:
    """Everything the notebook printed or displayed as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def figure_count(nb: Any) -> int:
    return sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        for out in cell.get("outputs", [])
    )


# Committed form ---------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_notebook_exists(name: str) -> None:
    assert (NOTEBOOKS / f"{name}.ipynb").is_file()


COMMITTED = sorted(NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.name for p in COMMITTED])
def test_committed_without_outputs(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [], f"{path.name} cell {index} has outputs"
        assert cell.execution_count is None, f"{path.name} cell {index} was executed"


# readiness-timeline -----------------------------------------------------------------


@pytest.fixture(scope="module")
def timeline_run() -> tuple[Any, dict[str, Any]]:
    return execute(
        "readiness-timeline",
        "{'summary': SUMMARY, 'exec_life': exec_life.to_dict('records'), "
        "'delays': {k: [float(x) for x in v] for k, v in delays.items()}, "
        "'pull_waits': pull_table['wait_before_next_pull_s'].dropna().tolist()}",
    )


def test_kernel_is_this_interpreter(timeline_run: tuple[Any, dict[str, Any]]) -> None:
    _, data = timeline_run
    assert data["python_prefix"] == sys.prefix


def test_timeline_figures_are_drawn(timeline_run: tuple[Any, dict[str, Any]]) -> None:
    nb, _ = timeline_run
    # Five timelines and the version comparison.
    assert figure_count(nb) >= 6


def test_liveness_exec_steps(timeline_run: tuple[Any, dict[str, Any]]) -> None:
    _, data = timeline_run
    first = data["exec_life"][0]
    # /tmp/healthy goes at uptime 30 s; three failures 5 s apart, the first within
    # one period of that; SIGTERM ignored, so the full 30 s grace period.
    assert 40 <= first["killed"] - first["started"] <= 46
    assert data["summary"]["liveness_exec_grace_s"] == pytest.approx(30, abs=0.05)
    assert data["summary"]["liveness_exec_kills"] >= 5


def test_http_liveness_lifetimes(timeline_run: tuple[Any, dict[str, Any]]) -> None:
    _, data = timeline_run
    lived = data["summary"]["http_liveness_lived_s"]
    assert len(lived) >= 5
    assert all(15.5 <= t <= 19.5 for t in lived)


def test_goproxy_ready_delay_by_version(
    timeline_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = timeline_run
    old, new = data["delays"]["1.31"], data["delays"]["1.35"]
    # 1.31: the first grid tick after the 5 s delay, anywhere in [5, 15) s;
    # 1.35: 10 s after the first sync, which follows the start within a second.
    assert all(5 <= t <= 15.5 for t in old)
    assert min(old) < 8 and max(old) > 12
    assert all(10 <= t <= 11.5 for t in new)


def test_readiness_exec_never_restarts(
    timeline_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = timeline_run
    assert data["summary"]["readiness_exec_restarts"] == 0
    assert 35 <= data["summary"]["readiness_exec_not_ready_s"] <= 47


def test_image_pull_back_off_doubles(
    timeline_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = timeline_run
    waits = data["pull_waits"]
    assert len(waits) >= 4
    for wait, delay in zip(waits, (10, 20, 40, 80, 160), strict=False):
        assert delay <= wait <= delay + 16


# tune-liveness ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tune_run() -> tuple[Any, dict[str, Any]]:
    return execute(
        "tune-liveness",
        "{'results': RESULTS, 'recommendation': RECOMMENDATION, "
        "'accepted': ACCEPTED_PER_HOUR, "
        "'size': RUNS * len(PERIODS) * len(THRESHOLDS) * len(TIMEOUTS), "
        "'sweep': {'points': len(sweep.points), 'runs': sweep.run_count, "
        "'simulated': result.simulated, 'failed': result.failed, "
        "'seeds': [sweep.seed_of(p, 0) for p in range(len(sweep.points))]}, "
        "'table': table.reset_index().to_dict('records'), "
        "'runs': runs[['point', 'draw', 'seed', *GRID, 'fault_to_kill_seconds']]"
        ".to_dict('records')}",
    )


def _key(row: dict[str, Any]) -> tuple[int, int, int]:
    return (
        int(row["periodSeconds"]),
        int(row["failureThreshold"]),
        int(row["timeoutSeconds"]),
    )


def test_tune_sweep_size_and_figures(tune_run: tuple[Any, dict[str, Any]]) -> None:
    nb, data = tune_run
    assert data["results"]["runs"] == data["size"] == len(data["runs"])
    # One run per point (a setting on one draw of pauses), all simulated now.
    sweep = data["sweep"]
    assert sweep["points"] == sweep["runs"] == sweep["simulated"] == data["size"]
    assert sweep["failed"] == 0
    assert figure_count(nb) >= 3


def test_tune_settings_share_the_pause_draws(
    tune_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = tune_run
    draws: dict[tuple[int, int, int], list[int]] = {}
    for row in data["runs"]:
        draws.setdefault(_key(row), []).append(row["draw"])
        # Each run has the seed the sweep derives for its point.
        assert row["seed"] == data["sweep"]["seeds"][row["point"]]
    runs = data["size"] // len(draws)
    assert all(sorted(d) == list(range(runs)) for d in draws.values())


def test_hang_detection_follows_the_probe_arithmetic(
    tune_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = tune_run
    early = 0
    for row in data["runs"]:
        period, threshold, timeout = _key(row)
        # The first attempt after the hang starts within a period; then F attempts,
        # spaced by the period, or by the timeout when attempts overrun the period.
        spacing = max(period, timeout)
        base = (threshold - 1) * spacing + timeout
        kill = row["fault_to_kill_seconds"]
        if base - 0.5 <= kill <= base + period + 0.5:
            continue
        # Otherwise the streak began before the hang: the last j < F attempts before
        # it timed out on the latency tail, and the kill comes j spacings sooner.
        early += 1
        assert any(
            base - j * spacing - 0.5 <= kill <= base - j * spacing + period + 0.5
            for j in range(1, threshold)
        ), row
    # A slow answer just before the hang is rare (p99 of the latency: 0.8 s).
    assert early <= 0.05 * len(data["runs"])


def test_pareto_front_is_right(tune_run: tuple[Any, dict[str, Any]]) -> None:
    _, data = tune_run
    points = {
        _key(r): (r["detection_s"], r["unnecessary_per_hour"]) for r in data["table"]
    }
    front = {tuple(k) for k in data["results"]["pareto"]}

    def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return a[0] <= b[0] and a[1] <= b[1] and a != b

    assert front
    for key, point in points.items():
        beaten = any(dominates(other, point) for other in points.values())
        assert beaten == (key not in front), key


def test_threshold_reduces_unnecessary_restarts(
    tune_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = tune_run
    rate = {_key(r): r["unnecessary_per_hour"] for r in data["table"]}
    for (period, threshold, timeout), value in rate.items():
        if threshold == 1:
            assert value >= rate[(period, 5, timeout)]
    # The eagerest setting restarts healthy containers; the most patient never did.
    assert max(rate.values()) > 1
    assert min(rate.values()) == 0


def test_recommendation_is_computed(tune_run: tuple[Any, dict[str, Any]]) -> None:
    nb, data = tune_run
    results = data["results"]
    best = tuple(results["recommended"])
    assert best in {tuple(k) for k in results["pareto"]}
    assert results["recommended_unnecessary_per_hour"] <= data["accepted"]
    acceptable = [
        r["detection_s"]
        for r in data["table"]
        if r["unnecessary_per_hour"] <= data["accepted"]
    ]
    assert results["recommended_detection_s"] == pytest.approx(min(acceptable), 0.01)
    period, threshold, timeout = best
    line = (
        f"Recommendation: periodSeconds={period}, failureThreshold={threshold}, "
        f"timeoutSeconds={timeout}."
    )
    assert data["recommendation"].startswith(line)
    assert line in output_text(nb)


# startup-budget ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def startup_run() -> tuple[Any, dict[str, Any]]:
    return execute(
        "startup-budget",
        "{'results': RESULTS, 'conclusion': CONCLUSION, 'n': RUNS, "
        "'options': len(DELAYS) + len(STARTUP_THRESHOLDS), "
        "'boots': BOOTS.tolist(), 'replications': REPLICATIONS, "
        "'kills': kills.to_dict('records'), "
        "'summary': summary.reset_index().to_dict('records'), "
        "'frame': frame[['strategy', 'setting', 'budget_s', 'boot_s', 'killed']]"
        ".to_dict('records')}",
    )


def test_startup_sweep_size_and_figures(
    startup_run: tuple[Any, dict[str, Any]],
) -> None:
    nb, data = startup_run
    assert data["results"]["runs"] == data["n"] * data["options"] == len(data["frame"])
    assert data["n"] == len(data["boots"]) * data["replications"]
    assert figure_count(nb) >= 5


def test_every_budget_meets_every_boot(
    startup_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = startup_run
    boots: dict[tuple[str, int], list[float]] = {}
    for row in data["frame"]:
        boots.setdefault((row["strategy"], row["setting"]), []).append(row["boot_s"])
    assert len(boots) == data["options"]
    expected = sorted(data["boots"] * data["replications"])
    assert all(sorted(b) == pytest.approx(expected) for b in boots.values())


def test_kill_during_boot_follows_the_budget(
    startup_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = startup_run
    for row in data["frame"]:
        # The deciding attempt comes at an uptime in [budget - period, budget).
        if row["killed"]:
            assert row["boot_s"] > row["budget_s"] - 10 - 1, row
        else:
            assert row["boot_s"] < row["budget_s"] + 1, row


def test_kill_probabilities_and_intervals(
    startup_run: tuple[Any, dict[str, Any]],
) -> None:
    _, data = startup_run
    by_strategy: dict[str, list[dict[str, Any]]] = {}
    for row in data["kills"]:
        assert row["low"] <= row["p_killed"] <= row["high"]
        by_strategy.setdefault(row["strategy"], []).append(row)
    assert len(by_strategy) == 2
    curves = []
    for rows in by_strategy.values():
        rows.sort(key=lambda r: r["budget_s"])
        p = [r["p_killed"] for r in rows]
        assert all(a >= b - 1 / data["n"] for a, b in itertools.pairwise(p))
        assert p[0] > 0.2 and p[-1] == 0
        curves.append(p)
    # The same budget protects the boot about equally under both strategies.
    for a, b in zip(*curves, strict=True):
        assert math.isclose(a, b, abs_tol=0.15)


def test_startup_probe_trades_ready_time_for_watching(
    startup_run: tuple[Any, dict[str, Any]],
) -> None:
    nb, data = startup_run
    rows = [r for r in data["summary"] if r["p_killed"] == 0]
    delay = [r for r in rows if r["strategy"].startswith("(a)")]
    startup = [r for r in rows if r["strategy"].startswith("(b)")]
    assert delay and startup
    # Ready after the boot: a readiness period (5 s) without a startup probe, a
    # startup period (10 s) with one; liveness starts within two startup periods.
    assert all(r["ready_after_boot_s"] <= 5.5 for r in delay)
    assert all(r["ready_after_boot_s"] <= 10.5 for r in startup)
    assert all(r["blind_mean_s"] <= 20 for r in startup)
    longest = max(delay, key=lambda r: r["budget_s"])
    assert longest["blind_mean_s"] > max(r["blind_mean_s"] for r in startup)
    assert "(b) startup probe: budget" in data["conclusion"]
    assert data["conclusion"].splitlines()[0] in output_text(nb)
