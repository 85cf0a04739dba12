"""probesim: what Kubernetes will do with your probes, simulated.

The Python API::

    import sim
    scenario = sim.load_scenario("scenarios/liveness-exec.yaml")
    result = sim.simulate(scenario, seed=1)
    result.events, result.timeline, result.summary

The names below are imported on first use, so that ``import sim.cli`` (the
``probesim`` command) loads only the standard library before it has set up its
handling of Ctrl-C and SIGTERM.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.scenario.document import Scenario
    from sim.scenario.reader import load_scenario
    from sim.simulation import SimulationResult, simulate
    from sim.sweep import load_sweep, run_sweep
    from sim.trace import RecordLevel

_HOMES = {
    "RecordLevel": "sim.trace",
    "Scenario": "sim.scenario.document",
    "SimulationResult": "sim.simulation",
    "load_scenario": "sim.scenario.reader",
    "load_sweep": "sim.sweep",
    "run_sweep": "sim.sweep",
    "simulate": "sim.simulation",
}

__all__ = [
    "RecordLevel",
    "Scenario",
    "SimulationResult",
    "load_scenario",
    "load_sweep",
    "run_sweep",
    "simulate",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use (PEP 562)."""
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
