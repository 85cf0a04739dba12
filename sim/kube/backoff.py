"""Per-key exponential back-off (client-go flowcontrol ``Backoff``), for R6 and R8.

An entry holds the current back-off and when it was last advanced. Times are seconds
on the scenario clock; no jitter, as the kubelet uses none (R6.1).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass


@dataclass
class _Entry:
    backoff_seconds: float
    last_update: float


class Backoff:
    """Exponential back-off per key, with expiry after a stable period."""

    def __init__(
        self, initial_seconds: float, max_seconds: float, reset_seconds: float
    ) -> None:
        self.initial_seconds = initial_seconds
        self.max_seconds = max_seconds
        self.reset_seconds = reset_seconds
        self._entries: dict[Hashable, _Entry] = {}

    def _live(self, key: Hashable, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        # Housekeeping garbage-collects entries unused for twice the maximum.
        if entry is not None and now - entry.last_update > 2 * self.max_seconds:
            del self._entries[key]
            return None
        return entry

    def _expired(self, event_time: float, entry: _Entry) -> bool:
        # R6.1 (backoff.go hasExpired): stable for longer than the reset period.
        return event_time - entry.last_update > self.reset_seconds

    def get(self, key: Hashable) -> float:
        """Current back-off of ``key`` (0 when there is no entry)."""
        entry = self._entries.get(key)
        return entry.backoff_seconds if entry else 0.0

    def is_in_backoff_since(self, key: Hashable, event_time: float, now: float) -> bool:
        """Whether ``now`` is still inside the back-off counted from ``event_time``."""
        entry = self._live(key, now)
        if entry is None or self._expired(event_time, entry):
            return False
        return now - event_time < entry.backoff_seconds

    def is_in_backoff_since_update(self, key: Hashable, now: float) -> bool:
        """Whether ``now`` is inside the back-off counted from the last update.

        The image manager's check (R8.1): the wait runs from the failed pull.
        """
        entry = self._live(key, now)
        if entry is None or now - entry.last_update > self.reset_seconds:
            return False
        return now - entry.last_update < entry.backoff_seconds

    def next(self, key: Hashable, event_time: float, now: float) -> None:
        """Advance the back-off: start at the initial value, or double up to max."""
        entry = self._live(key, now)
        if entry is None or self._expired(event_time, entry):
            self._entries[key] = _Entry(self.initial_seconds, now)
            return
        entry.backoff_seconds = min(2 * entry.backoff_seconds, self.max_seconds)
        entry.last_update = now
