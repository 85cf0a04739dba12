"""The results of a sweep: the tidy frame of runs, the aggregate, the files.

``runs``: one row per run and pod, with the columns ``point``, one per parameter
(named by the parameter's ``name``), ``replication``, ``seed``, ``pod``, every
metric of ``sim.analysis.metrics.pod_metrics`` (as floats) and ``error`` (empty
when the run finished; a failed run has one row, with ``pod`` empty and no
metrics).

``aggregate``: one row per point and aggregated metric, pooled over the point's
replications and pods: ``point``, the parameters, ``metric``, ``n`` (values),
``missing`` (NaN values: the thing did not happen), ``failed_runs``, ``mean``,
``ci_low``, ``ci_high`` (95 % Student t) and the quantiles ``q05``, ``q50``,
``q95`` (``sim.analysis.metrics.aggregate``).
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import sim
from sim.analysis.metrics import aggregate
from sim.output import Writer, write_atomically
from sim.scenario.resolved import dump_documents, resolved_yaml
from sim.sweeps.document import spec_document
from sim.sweeps.execute import RunOutcome
from sim.sweeps.points import FIXED_COLUMNS, Sweep, metric_names

STATISTICS = ("n", "missing", "mean", "ci_low", "ci_high", "q05", "q50", "q95")
QUANTILES = (0.05, 0.5, 0.95)
SCENARIO_FILE = "scenario.resolved.yaml"
HEADER = (
    "# Resolved by probesim: every default filled in; the scenario is\n"
    f"# {SCENARIO_FILE} beside this file. `probesim sweep` it to run again.\n"
)


@dataclass
class SweepResult:
    """What a sweep gave.

    Attributes
    ----------
    sweep
        The sweep that ran.
    runs
        One row per run and pod (module docstring).
    aggregate
        One row per point and metric (module docstring).
    simulated
        Runs simulated now (failed ones included).
    cached
        Runs taken from the cache.
    failed
        Runs that raised an error.
    """

    sweep: Sweep
    runs: pd.DataFrame
    aggregate: pd.DataFrame
    simulated: int = 0
    cached: int = 0
    failed: int = 0

    @property
    def errors(self) -> pd.DataFrame:
        """The rows of the runs that failed."""
        return self.runs[self.runs["error"] != ""]

    def write(self, directory: str | Path) -> list[Path]:
        """Write the results into ``directory``: all files, or none changes.

        ``runs.parquet`` and ``runs.csv``, ``aggregate.csv``,
        ``sweep.resolved.yaml`` (the sweep with every default explicit and, in
        ``status``, every point's values and seeds) and ``scenario.resolved.yaml``
        (the base scenario it reads).
        """
        runs, table = self.runs, self.aggregate
        return write_atomically(
            Path(directory),
            {
                "runs.parquet": lambda p: runs.to_parquet(p, index=False),
                "runs.csv": lambda p: runs.to_csv(p, index=False),
                "aggregate.csv": lambda p: table.to_csv(p, index=False),
                "sweep.resolved.yaml": _text(resolved_sweep(self.sweep)),
                SCENARIO_FILE: _text(resolved_yaml(self.sweep.base)),
            },
        )

    def table(self, max_points: int = 20, max_metrics: int = 3) -> str:
        """A short text table: each point's mean and interval of a few metrics."""
        names = [p.name for p in self.sweep.parameters]
        metrics = list(self.sweep.metrics[:max_metrics])
        shown = self.aggregate[self.aggregate["metric"].isin(metrics)]
        wide = shown.pivot(index=["point", *names], columns="metric", values="mean")
        cells = shown.set_index(["point", *names, "metric"])
        for metric in metrics:
            wide[metric] = [_interval(cells.loc[(*key, metric)]) for key in wide.index]
        wide = wide[metrics].reset_index()
        text = wide.head(max_points).to_string(index=False)
        if len(wide) > max_points:
            text += f"\n... {len(wide) - max_points} more points in aggregate.csv"
        return text


def _text(text: str) -> Writer:
    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def _interval(row: pd.Series) -> str:
    mean, low, high = row["mean"], row["ci_low"], row["ci_high"]
    if math.isnan(mean):
        return "-"
    if math.isnan(low):
        return f"{mean:.3g}"
    return f"{mean:.3g} [{low:.3g}, {high:.3g}]"


def _column(values: Sequence[Any]) -> list[Any]:
    """Parameter values for one column: numbers, booleans or strings, not a mix."""
    kinds = {
        "bool"
        if isinstance(v, bool)
        else "number"
        if isinstance(v, int | float)
        else "str"
        if isinstance(v, str)
        else "other"
        for v in values
    }
    if len(kinds) == 1 and kinds != {"other"}:
        return list(values)
    return [v if isinstance(v, str) else json.dumps(v) for v in values]


def runs_frame(
    sweep: Sweep, outcomes: Mapping[tuple[int, int], RunOutcome]
) -> pd.DataFrame:
    """The tidy frame of every run and pod, in point and replication order."""
    names = [p.name for p in sweep.parameters]
    metrics = list(metric_names(sweep.base))
    records: list[dict[str, Any]] = []
    for point in sweep.points:
        for replication in range(sweep.replications):
            outcome = outcomes[point.index, replication]
            common = {
                "point": point.index,
                "replication": replication,
                "seed": outcome.request.seed,
            }
            if outcome.error:
                records.append({**common, "pod": "", "error": outcome.error})
            for row in outcome.rows:
                records.append({**common, **row, "error": ""})
                metrics += [k for k in row if k not in metrics and k != "pod"]
    frame = pd.DataFrame.from_records(records, columns=[*FIXED_COLUMNS, *metrics])
    by_point = {p.index: p.values for p in sweep.points}
    for position, name in enumerate(names):
        values = _column([by_point[p][position] for p in frame["point"]])
        frame.insert(1 + position, name, values)
    frame[metrics] = frame[metrics].astype(float)
    columns = ["point", *names, "replication", "seed", "pod", *metrics, "error"]
    return frame[columns].astype({"point": int, "replication": int, "seed": int})


def aggregate_frame(sweep: Sweep, runs: pd.DataFrame) -> pd.DataFrame:
    """Statistics of the aggregated metrics, per point (every point, even failed)."""
    metrics = list(sweep.metrics)
    finished = runs[runs["error"] == ""]
    stats = aggregate(finished, metrics, by=["point"], quantiles=QUANTILES)
    if stats.empty:
        stats = pd.DataFrame(columns=["point", "metric", *STATISTICS])
    grid = pd.DataFrame(
        [(p.index, m) for p in sweep.points for m in metrics],
        columns=["point", "metric"],
    )
    table = grid.merge(stats, on=["point", "metric"], how="left")
    table[["n", "missing"]] = table[["n", "missing"]].fillna(0).astype(int)
    failed = runs[runs["error"] != ""].groupby("point").size()
    table.insert(4, "failed_runs", table["point"].map(failed).fillna(0).astype(int))
    names = [p.name for p in sweep.parameters]
    for position, name in enumerate(names):
        values = _column([sweep.points[p].values[position] for p in table["point"]])
        table.insert(1 + position, name, values)
    table[list(STATISTICS[2:])] = table[list(STATISTICS[2:])].astype(float)
    return table


def resolved_sweep(sweep: Sweep) -> str:
    """The sweep as YAML: every default explicit, reading ``scenario.resolved.yaml``.

    ``status`` records the probesim version, the scenario file the sweep read, and
    every point's values and run seeds.
    """
    document = spec_document(sweep.spec, SCENARIO_FILE)
    document["status"] = {
        "probesim": sim.__version__,
        "scenario": str(sweep.scenario_path),
        "points": [
            {
                "point": point.index,
                "values": {
                    p.name: copy.deepcopy(v)  # no YAML anchors to the spec's values
                    for p, v in zip(sweep.parameters, point.values, strict=True)
                },
                "seeds": [
                    sweep.seed_of(point.index, r) for r in range(sweep.replications)
                ],
            }
            for point in sweep.points
        ],
    }
    return HEADER + dump_documents([document])
