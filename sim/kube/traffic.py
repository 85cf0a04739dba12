"""Requests to a Service: arrivals, routing by kube-proxy, outcomes.

Each request is routed by kube-proxy's programmed rules (R9.4) to one endpoint,
and answered by the application in the pod's container that owns the target port.
It succeeds; fails with a 5xx (``error``); is refused (no process listening, or the
endpoint has no such port); is reset (the process died before answering); times out
(no answer within the client timeout); or finds no endpoint at all. The log keeps
counts per second, pod and outcome; with ``recordRequests`` also one event each.

Requests are settled in batches (unless an application's answers depend on its
load): the arrivals of a stretch of time are drawn at once, and settled together
when that stretch ends or just before anything that decides their outcomes changes
(kube-proxy's routable endpoints, a container of a routed pod starting or exiting, a
fault on one). Within a batch each arrival is routed and answered as of its own
arrival time.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy

from sim.kube.apiserver import ApiServer
from sim.kube.application import (
    NETWORK_LATENCY_SECONDS,
    AnswerKind,
    _http_entry,
    own_latency,
)
from sim.kube.controllers.endpointslice import Endpoint
from sim.kube.proxy import KubeProxy
from sim.kube.runtime import ContainerInstance, ContainerRuntime
from sim.scenario.behaviour import Phase, phase_at
from sim.scenario.document import Arrivals, TrafficPhase, TrafficSpec
from sim.scenario.spec import Service
from sim.trace import (
    EventRecord,
    Reason,
    Recorder,
    RequestCounts,
    RequestOutcome,
)

# How long a batch of arrivals may be drawn ahead before it is settled, in seconds.
# Longer batches give each pod more requests to settle at once.
BATCH_SECONDS = 60.0

# Outcome codes of the batched counts, and the bits of a count's key:
# second << 24 | pod index << 4 | outcome code.
_OUTCOMES = tuple(RequestOutcome)
_CODE = {outcome: code for code, outcome in enumerate(_OUTCOMES)}
_POD_SHIFT, _SECOND_SHIFT = 4, 24
_SUCCESS, _ERROR = _CODE[RequestOutcome.SUCCESS], _CODE[RequestOutcome.ERROR]
_REFUSED, _TIMEOUT = _CODE[RequestOutcome.REFUSED], _CODE[RequestOutcome.TIMEOUT]
_NO_ENDPOINTS, _RESET = _CODE[RequestOutcome.NO_ENDPOINTS], _CODE[RequestOutcome.RESET]

# How a target answers throughout a batch: refused, hung, a fixed answer
# (status, latency), or a phase drawn per request (phase, default latency).
_Shape = tuple[str, object, float]
# Where a connection to an endpoint goes: pod index, instance, port, shape, and
# the time until which the shape holds (TrafficGenerator._target).
_Target = tuple[int, "ContainerInstance | None", "int | None", _Shape, float]


@dataclass
class _Flights:
    """Requests of one settled batch that may still be unanswered.

    Per request: arrival and finish times, outcome code, pod index, and the
    index of the container instance answering it (``instances`` maps instance
    ids to those indices).
    """

    times: np.ndarray
    finish: np.ndarray
    codes: np.ndarray
    pod: np.ndarray
    instance: np.ndarray
    instances: dict[str, int]


@dataclass
class _InFlight:
    finish: float
    arrival: float
    pod: str
    outcome: RequestOutcome


class TrafficGenerator:
    """The requests of one ``TrafficSpec``, and what became of them."""

    def __init__(
        self,
        env: simpy.Environment,
        spec: TrafficSpec,
        service: Service,
        apiserver: ApiServer,
        runtime: ContainerRuntime,
        applications: dict,
        proxy: KubeProxy,
        rng: np.random.Generator,
        recorder: Recorder,
        batched: bool = True,
    ) -> None:
        self.env = env
        self.spec = spec
        self.service = service
        self.apiserver = apiserver
        self.runtime = runtime
        self.applications = applications
        self.proxy = proxy
        self.rng = rng
        self.recorder = recorder
        self.service_port = _service_port(service, spec.port)
        self.counts: Counter[tuple[int, str, RequestOutcome]] = Counter()
        self.requests: list[tuple[float, str, RequestOutcome, float]] = []
        self._in_flight: dict[str, list[_InFlight]] = {}
        self.batched = batched
        # Batched mode: arrivals drawn but not settled yet, the keys of settled
        # requests (one per request), and corrections made by resets.
        self._pending = np.empty(0)
        self._keys: list[np.ndarray] = []
        self._corrections: Counter[int] = Counter()
        self._pod_index: dict[str, int] = {"": 0}
        self._pod_names: list[str] = [""]
        # Requests that may still be unanswered, per settled batch.
        self._flights: list[_Flights] = []
        self._routable: tuple[Endpoint, ...] = ()
        # Per pod name: the endpoint and its target as last worked out; dropped
        # when the pod changes (settle_if_routed), stale once the shape's time
        # is up.
        self._targets: dict[str, tuple[Endpoint, _Target]] = {}
        self._routable_pods: frozenset[str] = frozenset()
        if batched:
            # Outcomes are settled before whatever decides them changes (the
            # cluster calls before_instance_change for the pods it selects).
            proxy.before_change.setdefault(service.name, []).append(self.settle_now)
            env.process(self.run_batched())
        else:
            env.process(self.run())

    def _busy_phases(self) -> list[tuple[TrafficPhase, float | None]]:
        """The phases that send requests, each with its end (None: the run's)."""
        phases = self.spec.phases
        ends = [p.from_seconds for p in phases[1:]] + [None]
        return [
            (phase, end)
            for phase, end in zip(phases, ends, strict=True)
            if phase.rate_per_second > 0
        ]

    def run(self) -> Generator[simpy.Event, object, None]:
        """Arrivals, phase by phase, for the whole run."""
        for phase, end in self._busy_phases():
            if self.env.now < phase.from_seconds:
                yield self.env.timeout(phase.from_seconds - self.env.now)
            mean_gap = 1.0 / phase.rate_per_second
            start, arrivals, at = self.env.now, 0, self.env.now
            while True:
                # Evenly spaced arrivals are counted from the phase start, so no
                # rounding error builds up; Poisson gaps are drawn one by one.
                arrivals += 1
                if self.spec.arrivals is Arrivals.POISSON:
                    at += self.rng.exponential(mean_gap)
                else:
                    at = start + arrivals * mean_gap
                if end is not None and at >= end:
                    yield self.env.timeout(end - self.env.now)
                    break
                yield self.env.timeout(at - self.env.now)
                self.request()

    def request(self) -> None:
        """Send one request now and settle (or provisionally settle) its outcome."""
        now = self.env.now
        endpoint = self.proxy.route(self.service.name)
        if endpoint is None:
            self._count(now, "", RequestOutcome.NO_ENDPOINTS, 0.0)
            return
        obj = self.apiserver.pods.get(endpoint.pod)
        port = endpoint.target(self.service_port)
        container = _container_for_port(obj.pod, port) if obj and port else None
        instance = (
            self.runtime.running(obj.uid, container) if obj and container else None
        )
        if instance is None or port is None:
            self._count(now, endpoint.pod, RequestOutcome.REFUSED, 0.0)
            return

        application = instance.application
        application.note_request(now)
        answer = application.http(
            port, self.spec.path, instance.uptime(now), now, instance.id
        )
        timeout = self.spec.timeout_seconds
        if answer.kind is AnswerKind.REFUSED:
            self._count(now, endpoint.pod, RequestOutcome.REFUSED, 0.0)
            return
        if answer.kind is AnswerKind.HANG or answer.latency_seconds > timeout:
            outcome, latency = RequestOutcome.TIMEOUT, timeout
        elif answer.status >= 500:
            outcome, latency = RequestOutcome.ERROR, answer.latency_seconds
        else:
            outcome, latency = RequestOutcome.SUCCESS, answer.latency_seconds

        # The outcome stands unless the process dies before the answer is out.
        flight = _InFlight(now + latency, now, endpoint.pod, outcome)
        self._in_flight.setdefault(instance.id, []).append(flight)
        self._count(now, endpoint.pod, outcome, latency)

    # Batched requests.

    def run_batched(self) -> Generator[simpy.Event, object, None]:
        """Arrivals, phase by phase, drawn a batch at a time and settled after it."""
        for phase, end in self._busy_phases():
            if self.env.now < phase.from_seconds:
                yield self.env.timeout(phase.from_seconds - self.env.now)
            rate = phase.rate_per_second
            start, arrivals = self.env.now, 0
            while True:
                begin = self.env.now
                until = (
                    begin + BATCH_SECONDS
                    if end is None
                    else min(begin + BATCH_SECONDS, end)
                )
                if self.spec.arrivals is Arrivals.POISSON:
                    # A Poisson process: the number in the stretch, then their
                    # times uniform within it.
                    n = int(self.rng.poisson(rate * (until - begin)))
                    times = np.sort(self.rng.uniform(begin, until, n)).astype(
                        np.float64
                    )
                else:
                    # Evenly spaced arrivals are counted from the phase start, so
                    # no rounding error builds up.
                    last = math.ceil((until - start) * rate) + 1
                    steps = np.arange(arrivals + 1, last + 1, dtype=np.float64)
                    times = start + steps * (1.0 / rate)
                    times = times[times < until]
                    arrivals += len(times)
                self._pending = np.concatenate([self._pending, times])
                yield self.env.timeout(until - self.env.now)
                self.settle(until)
                if end is not None and until >= end:
                    break

    def before_instance_change(self, instance: ContainerInstance) -> None:
        """A container of a pod the Service selects is to start or exit."""
        if self.batched:
            self.settle_if_routed(instance.pod_name)

    def settle_if_routed(self, pod: str) -> None:
        """Settle the arrivals before now if kube-proxy routes them to ``pod``.

        Something about ``pod`` is to change (a container, a fault). Only a pod
        that kube-proxy routes this Service's requests to can change their
        outcomes; the others' changes leave the batch standing. How the pod
        answers is worked out anew at the next settle.
        """
        candidates = self.proxy.routable_endpoints(self.service.name)
        if candidates is not self._routable:
            self._routable = candidates
            self._routable_pods = frozenset(e.pod for e in candidates)
        if pod in self._routable_pods:
            self.settle_now()
        self._targets.pop(pod, None)

    def settle_now(self) -> None:
        """Settle the arrivals before now (something deciding them is to change)."""
        self.settle(self.env.now)

    def settle(self, until: float) -> None:
        """Route and answer every pending arrival before ``until``.

        Nothing that decides an outcome changed since the last settle, except what
        the application's own clock changes (uptime phases, a hang's end); those
        arrivals are answered one by one.
        """
        pending = self._pending
        cut = int(np.searchsorted(pending, until, side="left"))
        if cut == 0:
            return
        times, self._pending = pending[:cut], pending[cut:]
        n = len(times)
        seconds = times.astype(np.int64)
        # R9.4: uniformly among the routable endpoints as last programmed.
        candidates = self.proxy.routable_endpoints(self.service.name)
        if not candidates:
            self._store(seconds, np.zeros(n, np.int64), np.full(n, _NO_ENDPOINTS))
            if self.spec.record_requests:
                no = RequestOutcome.NO_ENDPOINTS
                self.requests.extend((float(t), "", no, 0.0) for t in times)
            return
        choice = self.proxy.rng.integers(len(candidates), size=n)
        codes = np.empty(n, np.int64)
        latency = np.zeros(n)
        first = float(times[0])
        timeout = self.spec.timeout_seconds
        targets = [self._cached_target(endpoint, first) for endpoint in candidates]
        self._flights = [f for f in self._flights if f.finish.max() > first]

        # Per endpoint: its pod, the instance answering (-1: refused), how long
        # its shape holds, and which of the distinct shapes it has (endpoints of
        # one ReplicaSet mostly share one).
        shapes: list[_Shape] = []
        shape_index: dict[tuple[str, int, float], int] = {}
        instances: dict[str, int] = {}
        count = len(targets)
        pod_of = np.empty(count, np.int64)
        instance_of = np.full(count, -1, np.int64)
        horizon_of = np.empty(count)
        shape_of = np.empty(count, np.int64)
        for index, (pod, instance, port, shape, horizon) in enumerate(targets):
            pod_of[index], horizon_of[index] = pod, horizon
            if instance is not None and port is not None:
                instance_of[index] = instances.setdefault(instance.id, index)
            key = (shape[0], id(shape[1]), shape[2])
            if key not in shape_index:
                shape_index[key] = len(shapes)
                shapes.append(shape)
            shape_of[index] = shape_index[key]
        pods = pod_of[choice]
        # Requests while their endpoint's shape holds are answered by shape, in
        # bulk; the others one by one, as of their own arrival.
        steady = times < horizon_of[choice]
        shape_of_request = shape_of[choice]
        for which_shape, shape in enumerate(shapes):
            which = np.flatnonzero(steady & (shape_of_request == which_shape))
            self._answer(shape, which, codes, latency, timeout)
        for i in np.flatnonzero(~steady):
            _, instance, port, _, _ = targets[choice[i]]
            assert instance is not None and port is not None
            codes[i], latency[i] = self._answer_one(
                instance, port, float(times[i]), timeout
            )
        answered = np.flatnonzero(codes != _REFUSED)
        if answered.size:
            self._flights.append(
                _Flights(
                    times[answered],
                    times[answered] + latency[answered],
                    codes[answered],
                    pods[answered],
                    instance_of[choice[answered]],
                    instances,
                )
            )
        self._store(seconds, pods, codes)
        if self.spec.record_requests:
            names = self._pod_names
            self.requests.extend(
                (float(t), names[p], _OUTCOMES[c], float(lat))
                for t, p, c, lat in zip(times, pods, codes, latency, strict=True)
            )

    def _store(self, seconds: np.ndarray, pods: np.ndarray, codes: np.ndarray):
        self._keys.append(
            (seconds << _SECOND_SHIFT) | (pods << _POD_SHIFT) | codes.astype(np.int64)
        )

    def _cached_target(self, endpoint: Endpoint, now: float) -> _Target:
        """``_target``, reused while its shape holds and nothing changed the pod."""
        cached = self._targets.get(endpoint.pod)
        if cached is not None and cached[0] == endpoint and cached[1][4] > now:
            return cached[1]
        target = self._target(endpoint, now)
        self._targets[endpoint.pod] = (endpoint, target)
        return target

    def _target(self, endpoint: Endpoint, now: float) -> _Target:
        """Where a connection to the endpoint goes, and how it is answered from now.

        Returns the pod's index, the running instance and port (None when refused),
        the answer's shape and the time until which that shape holds.

        NOTE: a pod created anew under the name of a routable endpoint's pod does
        not settle the batch first (only kube-proxy, the runtime and faults do), so
        its requests since the last settle go to the new pod; the model recreates
        pods under the same name only by an explicit action, before which kube-proxy
        has normally dropped the old one.
        """
        pod = self._pod_index.get(endpoint.pod)
        if pod is None:
            pod = self._pod_index[endpoint.pod] = len(self._pod_names)
            self._pod_names.append(endpoint.pod)
        obj = self.apiserver.pods.get(endpoint.pod)
        port = endpoint.target(self.service_port)
        container = _container_for_port(obj.pod, port) if obj and port else None
        instance = (
            self.runtime.running(obj.uid, container) if obj and container else None
        )
        if instance is None or port is None:
            return pod, None, None, ("refused", None, 0.0), math.inf
        application = instance.application
        uptime = instance.uptime(now)
        steady = application.steady_until(uptime, now)
        if steady is None:
            # Answers change with time (a slow-down): each is answered on its own.
            return pod, instance, port, ("refused", None, 0.0), now
        horizon = min(instance.started_at + steady[0], steady[1])
        b = application.behaviour
        if not b.http and not b.tcp and not b.grpc:
            shape: _Shape = ("fixed", 200, NETWORK_LATENCY_SECONDS)
            return pod, instance, port, shape, horizon
        entries = [e for e in b.http if application._port_number(e.port) == port]
        if not entries:
            return pod, instance, port, ("refused", None, 0.0), horizon
        if application.hung(instance.id, now):
            return pod, instance, port, ("hang", None, 0.0), horizon
        entry = _http_entry(entries, self.spec.path)
        if entry is None:
            return pod, instance, port, ("fixed", 404, NETWORK_LATENCY_SECONDS), horizon
        phase = phase_at(entry.phases, uptime)
        if phase is None:
            return pod, instance, port, ("refused", None, 0.0), horizon
        if phase.hang:
            return pod, instance, port, ("hang", None, 0.0), horizon
        return pod, instance, port, ("phase", phase, NETWORK_LATENCY_SECONDS), horizon

    def _answer(
        self,
        shape: _Shape,
        which: np.ndarray,
        codes: np.ndarray,
        latency: np.ndarray,
        timeout: float,
    ) -> None:
        """Settle the requests ``which`` answered with one steady shape, at once."""
        m = len(which)
        if not m:
            return
        kind, what, default = shape
        if kind == "refused":
            codes[which] = _REFUSED
            return
        if kind == "hang":
            codes[which], latency[which] = _TIMEOUT, timeout
            return
        if kind == "fixed":
            status = np.full(m, what)
            lat = np.full(m, default)
        else:
            # The application's _answer, one draw per request (no load, no
            # slow-down: the shape is steady).
            assert isinstance(what, Phase)
            status = np.full(m, what.status)
            if what.flake is not None:
                flaky = self.rng.random(m) < what.flake.probability
                status[flaky] = what.flake.status
            if own_latency(what):
                lat = what.latency.samples(self.rng, m)
            else:
                lat = np.full(m, default)
        late = lat > timeout
        out = np.where(status >= 500, _ERROR, _SUCCESS)
        out[late] = _TIMEOUT
        codes[which] = out
        latency[which] = np.where(late, timeout, lat)

    def _answer_one(
        self, instance: ContainerInstance, port: int, at: float, timeout: float
    ) -> tuple[int, float]:
        """One request answered as of its arrival time ``at``."""
        answer = instance.application.http(
            port, self.spec.path, instance.uptime(at), at, instance.id, self.rng
        )
        if answer.kind is AnswerKind.REFUSED:
            return _REFUSED, 0.0
        if answer.kind is AnswerKind.HANG or answer.latency_seconds > timeout:
            return _TIMEOUT, timeout
        if answer.status >= 500:
            return _ERROR, answer.latency_seconds
        return _SUCCESS, answer.latency_seconds

    def on_exit(self, instance: ContainerInstance) -> None:
        """A process died: its unanswered requests are reset."""
        now = self.env.now
        for batch in self._flights:
            which = batch.instances.get(instance.id)
            if which is None:
                continue
            mine = (batch.instance == which) & (batch.finish > now)
            for i in np.flatnonzero(mine):
                pod = int(batch.pod[i])
                key = (int(batch.times[i]) << _SECOND_SHIFT) | (pod << _POD_SHIFT)
                self._corrections[key | int(batch.codes[i])] -= 1
                self._corrections[key | _RESET] += 1
                if self.spec.record_requests:
                    arrival = float(batch.times[i])
                    self.requests.append(
                        (
                            arrival,
                            self._pod_names[pod],
                            RequestOutcome.RESET,
                            now - arrival,
                        )
                    )
            # Each request is reset once.
            batch.finish[mine] = -math.inf
        flights = self._in_flight.pop(instance.id, [])
        for flight in flights:
            if flight.finish <= now:
                continue
            second = int(flight.arrival)
            self.counts[(second, flight.pod, flight.outcome)] -= 1
            self.counts[(second, flight.pod, RequestOutcome.RESET)] += 1
            if self.spec.record_requests:
                self.requests.append(
                    (
                        flight.arrival,
                        flight.pod,
                        RequestOutcome.RESET,
                        now - flight.arrival,
                    )
                )

    def _count(
        self, now: float, pod: str, outcome: RequestOutcome, latency: float
    ) -> None:
        self.counts[(int(now), pod, outcome)] += 1
        if self.spec.record_requests:
            self.requests.append((now, pod, outcome, latency))
        # Forget answered requests now and then, so the lists stay short.
        if len(self.counts) % 256 == 0:
            for flights in self._in_flight.values():
                flights[:] = [f for f in flights if f.finish > now]

    def flush(self) -> None:
        """Hand the counts (and per-request events) to the recorder."""
        name = self.service.name
        if self.batched:
            self.settle(self.env.now)
            self._flush_batched()
        else:
            self._flush_counts()
        if not self.spec.record_requests:
            return
        final = _final_outcomes(self.requests)
        for arrival, pod, outcome, latency in final:
            self.recorder.record(
                EventRecord(
                    arrival, pod, "", Reason.REQUEST, result=outcome.value,
                    message=f"service={name} latency={latency:.6f}s",
                )
            )  # fmt: skip

    def _flush_batched(self) -> None:
        keys = np.concatenate(self._keys) if self._keys else np.empty(0, np.int64)
        self._keys = []
        unique, counts = np.unique(keys, return_counts=True)
        if self._corrections:
            extra = np.fromiter(self._corrections, np.int64, len(self._corrections))
            deltas = np.fromiter(
                self._corrections.values(), np.int64, len(self._corrections)
            )
            both = np.concatenate([unique, extra])
            unique, inverse = np.unique(both, return_inverse=True)
            counts = np.bincount(
                inverse, weights=np.concatenate([counts, deltas]), minlength=len(unique)
            ).astype(np.int64)
        kept = counts > 0
        unique, counts = unique[kept], counts[kept]
        seconds = unique >> _SECOND_SHIFT
        pods = (unique >> _POD_SHIFT) & ((1 << (_SECOND_SHIFT - _POD_SHIFT)) - 1)
        codes = unique & ((1 << _POD_SHIFT) - 1)
        # The order of the unbatched counts: second, pod name, outcome value.
        names = self._pod_names
        pod_rank = np.empty(len(names), np.int64)
        pod_rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(
            len(names)
        )
        values = [o.value for o in _OUTCOMES]
        code_rank = np.empty(len(values), np.int64)
        code_rank[sorted(range(len(values)), key=values.__getitem__)] = np.arange(
            len(values)
        )
        order = np.lexsort((code_rank[codes], pod_rank[pods], seconds))
        outcome_values = np.array(values, dtype=object)
        self.recorder.record_requests(
            RequestCounts(
                self.service.name,
                seconds[order],
                np.array(names, dtype=object)[pods[order]],
                outcome_values[codes[order]],
                counts[order],
            )
        )

    def _flush_counts(self) -> None:
        rows = sorted(
            ((key, count) for key, count in self.counts.items() if count > 0),
            key=lambda row: (row[0][0], row[0][1], row[0][2].value),
        )
        self.recorder.record_requests(
            RequestCounts(
                self.service.name,
                np.array([second for (second, _, _), _ in rows], dtype=np.int64),
                np.array([pod for (_, pod, _), _ in rows], dtype=object),
                np.array([o.value for (_, _, o), _ in rows], dtype=object),
                np.array([count for _, count in rows], dtype=np.int64),
            )
        )


def _final_outcomes(
    requests: list[tuple[float, str, RequestOutcome, float]],
) -> list[tuple[float, str, RequestOutcome, float]]:
    """Per request, the last word: a reset replaces the provisional outcome."""
    final: dict[tuple[float, str], tuple[float, str, RequestOutcome, float]] = {}
    for record in requests:
        final[(record[0], record[1])] = record
    return sorted(final.values(), key=lambda r: r[0])


def _service_port(service: Service, port: int | str) -> int:
    for p in service.ports:
        if p.port == port or (p.name and p.name == port):
            return p.port
    return service.ports[0].port


def _container_for_port(pod, port: int) -> str | None:
    """The container that declares the port, or the first container."""
    for container in pod.containers:
        if any(p.container_port == port for p in container.ports):
            return container.name
    return pod.containers[0].name if pod.containers else None
