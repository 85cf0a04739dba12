"""Draw the pictures the README shows, from the seed scenarios (seed 1).

Run from the repository root: ``.venv/bin/python docs/images/make_images.py``.
"""

from pathlib import Path

import sim
from sim.plot import save_timeline

HERE = Path(__file__).parent


def main() -> None:
    """Write docs/images/liveness-exec-timeline.png."""
    scenario = sim.load_scenario("scenarios/liveness-exec.yaml")
    result = sim.simulate(scenario, seed=1)
    save_timeline(
        result.events,
        result.timeline,
        HERE / "liveness-exec-timeline.png",
        title="liveness-exec: Kubernetes 1.35, seed 1",
    )


if __name__ == "__main__":
    main()
