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
        # Called, per Service, just before its routable endpoints change (batched
        # traffic settles the requests that arrived under the old rules).
        self.before_change: dict[str, list[Callable[[], None]]] = {}
        # The periodic resync: the index of its next tick, and whether it sleeps
        # over its ticks (fast path).
        self._next_tick = 1
        self._idle = False
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
        # R9.4: no sooner than minSyncPeriod after the previous sync began.
        wait = self._last_sync + self.spec.proxy_min_sync_seconds - self.env.now
        if wait > 0:
            yield self.env.timeout(wait)
        self._last_sync = self.env.now
        self._pending = False
        desired = dict(self._desired)
        yield self.env.timeout(self.spec.proxy_apply_latency.sample(self.apply_rng))
        for service, endpoints in desired.items():
            self._program(service, endpoints)

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
            yield At(self.env, self._next_tick * period)
            self._next_tick += 1
            if not self._pending:
                self._pending = True
                self.env.process(self._sync())

    def _in_sync(self) -> bool:
        return not self._pending and self._desired == self.rules

    def _catch_up(self) -> None:
        """Account for the resyncs skipped while idle, as if each had run.

        Each began at its tick (no sync was pending or recent), drew its
        programming latency and reprogrammed the same rules. A tick at this very
        instant came first: its timer was set a whole period ago.
        """
        if not self._idle:
            return
        self._idle = False
        period, now = self.spec.proxy_sync_seconds, self.env.now
        last = math.floor(now / period)
        while (last + 1) * period <= now:
            last += 1
        while last * period > now:
            last -= 1
        skipped = last - self._next_tick + 1
        if skipped > 0:
            self.spec.proxy_apply_latency.samples(self.apply_rng, skipped)
            self._last_sync = last * period
            self._next_tick = last + 1
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
