"""kube-proxy: the dataplane's view of each Service's endpoints (R9.4).

kube-proxy hears of every EndpointSlice change but programs its rules no more often
than ``minSyncPeriod`` (1 s by default) after the previous programming, plus a full
resync every ``syncPeriod``; programming itself takes a little time. Requests are
routed by the rules as last programmed: to a ready endpoint, or, when a Service has
none, to one that is serving and terminating (ProxyTerminatingEndpoints).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Generator

import numpy as np
import simpy

from sim.kube.clock import At
from sim.kube.controllers.endpointslice import Endpoint
from sim.kube.log import SimLogger
from sim.scenario.document import EndpointsSpec
from sim.trace import EventRecord, Reason, Recorder


class KubeProxy:
    """Programmed rules per Service, synced no more often than minSyncPeriod."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: EndpointsSpec,
        rng: np.random.Generator,
        recorder: Recorder,
        apply_rng: np.random.Generator | None = None,
        fast_path: bool = False,
    ) -> None:
        self.env = env
        self.spec = spec
        self.rng = rng
        # Programming latencies come from a stream of their own, so that resyncs
        # skipped by the fast path shift no other draw.
        self.apply_rng = rng if apply_rng is None else apply_rng
        self.fast_path = fast_path
        self.recorder = recorder
        self.log = SimLogger(env, "proxy")
        self.rules: dict[str, tuple[Endpoint, ...]] = {}
        # Where new connections can go, per Service, as of the last programming.
        self._routable: dict[str, tuple[Endpoint, ...]] = {}
        self._desired: dict[str, tuple[Endpoint, ...]] = {}
        self._last_sync = -spec.proxy_min_sync_seconds
        self._pending = False
        self._applying = 0  # syncs drawing their latency, not yet programmed
        # Called, per Service, just before its routable endpoints change (batched
        # traffic settles the requests that arrived under the old rules).
        self.before_change: dict[str, list[Callable[[], None]]] = {}
        # The periodic resync: the index of its next tick, and whether it sleeps
        # over its ticks (fast path).
        self._next_tick = 1
        self._idle = False
        self._waiting_tick = False  # the resync timer is set (it can be stopped)
        self._periodic_process = (
            env.process(self._periodic()) if spec.proxy_sync_seconds > 0 else None
        )

    def slice_changed(self, service: str, endpoints: tuple[Endpoint, ...]) -> None:
        """R9.4: an EndpointSlice changed: program it at the next allowed sync."""
        self._catch_up()
        self._desired[service] = endpoints
        if self._pending:
            return
        self._pending = True
        self.env.process(self._sync())

    def _sync(self) -> Generator[simpy.Event, object, None]:
        # R9.4: no sooner than minSyncPeriod after the previous sync began. The
        # earliest time is absolute, so that it is the same instant whether the
        # previous sync ran or was replayed by the fast path (_catch_up).
        earliest = self._last_sync + self.spec.proxy_min_sync_seconds
        if earliest > self.env.now:
            yield At(self.env, earliest)
        self._last_sync = self.env.now
        self._pending = False
        desired = dict(self._desired)
        self._applying += 1
        yield self.env.timeout(self.spec.proxy_apply_latency.sample(self.apply_rng))
        self._applying -= 1
        for service, endpoints in desired.items():
            # A Service whose slices did not change since it was last programmed
            # gets the same rules again: nothing to do.
            if self.rules.get(service) is endpoints:
                continue
            self._program(service, endpoints)

        # Fast path: the rules now say what the slices say; the resyncs to come
        # would change nothing until a slice does, so the resync timer sleeps.
        if self.fast_path and self._waiting_tick and self._in_sync():
            assert self._periodic_process is not None
            self._waiting_tick = False
            self._periodic_process.interrupt()

    def _periodic(self) -> Generator[simpy.Event, object, None]:
        # R9.4: a full resync every syncPeriod; it changes nothing by itself but,
        # like any sync, delays the next one by minSyncPeriod. Tick k is at
        # k * syncPeriod exactly, so skipped ticks can be counted.
        period = self.spec.proxy_sync_seconds
        while True:
            # Fast path: while the rules are what the slices say, a resync would
            # reprogram the same rules: sleep until a slice changes (_catch_up).
            if self.fast_path and self._in_sync():
                self._idle = True
                with contextlib.suppress(simpy.Interrupt):
                    yield self.env.event()  # never triggered: _catch_up interrupts
                continue
            self._waiting_tick = True
            try:
                yield At(self.env, self._next_tick * period)
            except simpy.Interrupt:
                continue  # a sync brought the rules in line: sleep instead
            self._waiting_tick = False
            self._next_tick += 1
            if not self._pending:
                self._pending = True
                self.env.process(self._sync())

    def _in_sync(self) -> bool:
        return not self._pending and not self._applying and self._desired == self.rules

    def _catch_up(self) -> None:
        """Replay the resyncs skipped while idle, as the tick-by-tick model ran them.

        A tick that finds no sync pending begins one, at once or, within
        minSyncPeriod of the previous sync, when that period is over; each sync
        draws its programming latency and reprograms the same rules. A tick at
        this very instant came first: its timer was set a whole period ago. A
        sync a tick began that is still waiting now is begun again as a process,
        so that it programs what the slices say when it starts.

        NOTE: a waiting sync due at this very instant is taken as not yet begun
        (it then sees the slice change); the tick-by-tick order of the two
        depends on when the change's own timer was set. Exact float equality of
        the two times needs hand-picked settings.
        """
        if not self._idle:
            return
        self._idle = False
        period, now = self.spec.proxy_sync_seconds, self.env.now
        min_sync = self.spec.proxy_min_sync_seconds
        last = math.floor(now / period)
        while (last + 1) * period <= now:
            last += 1
        while last * period > now:
            last -= 1
        last_sync, draws = self._last_sync, 0
        waiting: float | None = None  # the start of a sync a tick began, if later
        tick_index = self._next_tick
        while tick_index <= last:
            tick = tick_index * period
            tick_index += 1
            if waiting is not None and waiting >= tick:
                continue  # the tick finds a sync pending: it begins none
            if waiting is not None:
                last_sync, draws, waiting = waiting, draws + 1, None
            earliest = last_sync + min_sync
            if earliest > tick:
                waiting = earliest
                continue
            last_sync, draws = tick, draws + 1
            # With minSyncPeriod clearly shorter than syncPeriod, every later tick
            # begins its sync on time: count them at once.
            if min_sync <= period * (1.0 - 1e-6) and tick_index <= last:
                draws += last - tick_index + 1
                last_sync = last * period
                break
        if waiting is not None and waiting < now:
            last_sync, draws, waiting = waiting, draws + 1, None
        if draws:
            self.spec.proxy_apply_latency.samples(self.apply_rng, draws)
        self._last_sync = last_sync
        self._next_tick = max(self._next_tick, last + 1)
        if waiting is not None:
            self._pending = True
            self.env.process(self._sync())
        assert self._periodic_process is not None
        self._periodic_process.interrupt()

    def _program(self, service: str, endpoints: tuple[Endpoint, ...]) -> None:
        before = self._routable.get(service, ())
        after = routable(endpoints)
        if after != before:
            for listener in self.before_change.get(service, ()):
                listener()
        old = {e.pod for e in before}
        self.rules[service] = endpoints
        self._routable[service] = after
        new = {e.pod for e in self._routable[service]}
        now = self.env.now
        for pod in sorted(new - old):
            self.recorder.record(
                EventRecord(
                    now, pod, "", Reason.PROXY_ROUTING, message=f"service={service}"
                )
            )
        for pod in sorted(old - new):
            self.recorder.record(
                EventRecord(
                    now, pod, "", Reason.PROXY_NOT_ROUTING, message=f"service={service}"
                )
            )

    def routable_endpoints(self, service: str) -> tuple[Endpoint, ...]:
        """Where new connections to the Service can go now (R9.4)."""
        return self._routable.get(service, ())

    def route(self, service: str) -> Endpoint | None:
        """Pick the endpoint a new connection to the Service goes to, or None."""
        candidates = self._routable.get(service, ())
        if not candidates:
            return None
        return candidates[int(self.rng.integers(len(candidates)))]


def routable(endpoints: tuple[Endpoint, ...]) -> tuple[Endpoint, ...]:
    """R9.4: ready endpoints, else serving-and-terminating ones (the fallback)."""
    ready = tuple(e for e in endpoints if e.ready)
    if ready:
        return ready
    return tuple(e for e in endpoints if e.serving and e.terminating)
