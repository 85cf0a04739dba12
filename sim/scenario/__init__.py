"""Scenario files: Kubernetes manifests plus what Kubernetes cannot know.

``load_scenario`` reads a file into a typed, defaulted, validated ``Scenario``;
``ScenarioError`` lists every ``Problem`` found when it cannot.
"""

from sim.scenario.document import Scenario
from sim.scenario.errors import Problem, ScenarioError, Severity
from sim.scenario.reader import load_scenario, read_scenario_text, validate_file

__all__ = [
    "Problem",
    "Scenario",
    "ScenarioError",
    "Severity",
    "load_scenario",
    "read_scenario_text",
    "validate_file",
]
