"""Events at absolute simulated times.

``env.timeout(at - now)`` ends at ``now + (at - now)``, which can miss ``at`` by a
rounding step that depends on ``now``. A model that may skip ticks (the fast path)
must reach each tick at the same instant whether or not it ran the ones before, so
its timers are scheduled at their own times.
"""

from __future__ import annotations

from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL


class At(simpy.Event):
    """An event that succeeds at the absolute time ``at`` (now, if ``at`` is past)."""

    def __init__(
        self, env: simpy.Environment, at: float, priority: float = NORMAL
    ) -> None:
        # As simpy.Timeout does, at ``at`` instead of ``now + delay``
        # (Environment.schedule pushes (time, priority, id, event) the same way).
        super().__init__(env)
        self._ok = True
        self._value = None
        queue: list[Any] = env._queue  # simpy types priorities as int
        heappush(queue, (max(at, env.now), priority, next(env._eid), self))
