"""probesim: what Kubernetes will do with your probes, simulated.

The Python API::

    import sim
    scenario = sim.load_scenario("scenarios/liveness-exec.yaml")
    result = sim.simulate(scenario, seed=1)
    result.events, result.timeline, result.summary
"""

from sim.scenario.document import Scenario
from sim.scenario.reader import load_scenario
from sim.simulation import SimulationResult, simulate
from sim.sweep import load_sweep, run_sweep
from sim.trace import RecordLevel

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
