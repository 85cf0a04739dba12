"""Requests to a Service: arrivals, routing by kube-proxy, outcomes.

Each request is routed by kube-proxy's programmed rules (R9.4) to one endpoint,
and answered by the application in the pod's container that owns the target port.
It succeeds; fails with a 5xx (``error``); is refused (no process listening, or the
endpoint has no such port); is reset (the process died before answering); times out
(no answer within the client timeout); or finds no endpoint at all. The log keeps
counts per second, pod and outcome; with ``recordRequests`` also one event each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np
import simpy

from sim.kube.apiserver import ApiServer
from sim.kube.application import AnswerKind
from sim.kube.proxy import KubeProxy
from sim.kube.runtime import ContainerInstance, ContainerRuntime
from sim.scenario.document import Arrivals, TrafficSpec
from sim.scenario.spec import Service
from sim.trace import EventRecord, Reason, Recorder, RequestCount, RequestOutcome


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
        runtime.exit_listeners.append(self._on_exit)
        env.process(self.run())

    def run(self) -> Generator[simpy.Event, object, None]:
        """Arrivals, phase by phase, for the whole run."""
        phases = self.spec.phases
        for index, phase in enumerate(phases):
            end = phases[index + 1].from_seconds if index + 1 < len(phases) else None
            if self.env.now < phase.from_seconds:
                yield self.env.timeout(phase.from_seconds - self.env.now)
            if phase.rate_per_second <= 0:
                if end is None:
                    return
                continue
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

    def _on_exit(self, instance: ContainerInstance) -> None:
        """A process died: its unanswered requests are reset."""
        flights = self._in_flight.pop(instance.id, [])
        now = self.env.now
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
        self.recorder.record_requests(
            [
                RequestCount(second, name, pod, outcome, count)
                for (second, pod, outcome), count in sorted(
                    self.counts.items(),
                    key=lambda kv: (kv[0][0], kv[0][1], kv[0][2].value),
                )
                if count > 0
            ]
        )
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
