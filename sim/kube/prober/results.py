"""The probe results cache (results_manager.go): one per probe type.

``set`` stores a result per container ID and tells the kubelet only when the value
changed or the ID is new (R3.8).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.scenario.spec import ProbeType


class Result(enum.Enum):
    """A published probe result."""

    UNKNOWN = "unknown"
    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class Update:
    """A change of a container's published result."""

    probe_type: ProbeType
    container_id: str
    result: Result
    pod: Any


class ResultsManager:
    """Published results of one probe type, keyed by container ID."""

    def __init__(self, probe_type: ProbeType, on_update: Callable[[Update], None]):
        self.probe_type = probe_type
        self.on_update = on_update
        self._cache: dict[str, Result] = {}

    def get(self, container_id: str) -> Result | None:
        """The cached result of a container, or None."""
        return self._cache.get(container_id)

    def set(self, container_id: str, result: Result, pod: Any) -> None:
        """Store a result; announce it if it changed or the ID is new."""
        if self._cache.get(container_id) is result:
            return
        self._cache[container_id] = result
        self.on_update(Update(self.probe_type, container_id, result, pod))

    def remove(self, container_id: str) -> None:
        """Forget a container's result."""
        self._cache.pop(container_id, None)
