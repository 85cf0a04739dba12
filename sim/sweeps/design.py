"""Points of a design, and the seed of every run.

A grid is the cartesian product of the parameters' values, in the order the
parameters are written (the last one varies fastest). The random and Latin
hypercube designs draw ``samples`` points: each parameter gets a fraction ``u`` in
[0, 1) per point, which ``Parameter.at`` turns into a value (uniform over a range,
integers included, or over the listed values). A Latin hypercube cuts [0, 1) into
``samples`` equal strata and puts exactly one point in each, per parameter, in an
independent random order.

Every draw comes from NumPy's ``SeedSequence`` of the sweep's seed: the design's
from the child ``spawn_key=(DESIGN_STREAM,)``, and replication ``r`` of point ``p``
runs with the seed ``SeedSequence(seed, spawn_key=(p, r)).generate_state(1)[0]``,
which is the ``r``-th child of the ``p``-th child of ``SeedSequence(seed)``.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.sweeps.document import Design, DesignType, Parameter

# The design's draws use this child of the sweep's SeedSequence; the runs' seeds
# use children (point, replication), keys of another length.
DESIGN_STREAM = 2**32 - 1


def run_seed(seed: int, point: int, replication: int) -> int:
    """The seed of replication ``replication`` of point ``point`` of a sweep.

    Parameters
    ----------
    seed
        The sweep's seed (``spec.seed``).
    point, replication
        Indices from 0.

    Returns
    -------
    int
        A 32-bit seed, the same on every machine and every rerun.
    """
    sequence = np.random.SeedSequence(seed, spawn_key=(point, replication))
    return int(sequence.generate_state(1)[0])


def unit_samples(design: Design, dimensions: int, seed: int) -> np.ndarray:
    """Fractions in [0, 1) of a random design: ``samples`` rows, one per point.

    Raises
    ------
    ValueError
        For a grid, which draws nothing.
    """
    if design.type is DesignType.GRID or design.samples is None:
        raise ValueError("a grid design draws no samples")
    n = design.samples
    rng = np.random.default_rng(
        np.random.SeedSequence(seed, spawn_key=(DESIGN_STREAM,))
    )
    if design.type is DesignType.RANDOM:
        return rng.random((n, dimensions))
    columns = [(rng.permutation(n) + rng.random(n)) / n for _ in range(dimensions)]
    return np.column_stack(columns) if columns else np.empty((n, 0))


def design_points(
    design: Design, parameters: Sequence[Parameter], seed: int
) -> list[tuple[Any, ...]]:
    """The parameter values of every point, in point order."""
    if design.type is DesignType.GRID:
        return list(itertools.product(*(p.values for p in parameters)))
    fractions = unit_samples(design, len(parameters), seed)
    return [
        tuple(p.at(float(u)) for p, u in zip(parameters, row, strict=True))
        for row in fractions
    ]
