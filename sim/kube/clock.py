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
        # The fields of simpy.Event are set here rather than through its
        # ``__init__``: ticks are the model's most frequent event, and the call
        # was a third of their cost.
        self.env = env
        self.callbacks = []
        self._ok = True
        self._value = None
        queue: list[Any] = env._queue  # simpy types priorities as int
        heappush(queue, (max(at, env.now), priority, next(env._eid), self))


def cut_short(event: At) -> None:
    """Make a pending ``At`` fire now instead, as if it had been made for now.

    What waits on ``event`` is moved to a new event at the current time and normal
    priority: the order in which an ``AnyOf`` of ``event`` and whatever calls this
    would have resumed its waiter, without the cost of a condition. The original
    event stays queued and fires with nobody waiting. Nothing may interrupt a
    process waiting on ``event`` meanwhile (simpy would look for it there).
    """
    if event.callbacks is None:
        return
    now = At(event.env, event.env.now)
    now.callbacks, event.callbacks = event.callbacks, []
