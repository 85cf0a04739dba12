"""The EndpointSlice controller: which pods back each Service, and how (R9).

Every change of a selected pod (its status pushed by the kubelet, a deletion, its
removal) queues its Services; each queued Service is synced once after the
controller's delay, reading the pods as they are then (R9.3). A sync computes the
endpoints (R9.1, R9.2), records what changed, and hands them to kube-proxy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from sim.kube.apiserver import ApiServer, PodObject
from sim.kube.log import SimLogger
from sim.scenario.document import EndpointsSpec
from sim.scenario.spec import Pod, Service
from sim.trace import EventRecord, Reason, Recorder


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One pod as an endpoint of a Service (endpointslice utils ``podToEndpoint``).

    ``ports`` maps each Service port (by its number) to the pod's port it reaches;
    a port whose named target the pod lacks is absent (R2.5).
    """

    pod: str
    ip: str
    ports: tuple[tuple[int, int], ...]
    ready: bool
    serving: bool
    terminating: bool

    def target(self, service_port: int) -> int | None:
        """The pod port a Service port reaches, or None."""
        for port, target in self.ports:
            if port == service_port:
                return target
        return None


SliceListener = Callable[[str, tuple[Endpoint, ...]], None]


def resolve_target_ports(service: Service, pod: Pod) -> tuple[tuple[int, int], ...]:
    """R2.5: the pod port of each Service port (a named target searched by name)."""
    found = []
    for service_port in service.ports:
        target = service_port.target_port
        if isinstance(target, int):
            found.append((service_port.port, target))
            continue
        for container in pod.containers:
            match = next(
                (
                    p.container_port
                    for p in container.ports
                    if p.name == target and p.protocol == service_port.protocol
                ),
                None,
            )
            if match is not None:
                found.append((service_port.port, match))
                break
    return tuple(found)


def pod_to_endpoint(service: Service, obj: PodObject) -> Endpoint | None:
    """R9.1, R9.2: the pod as an endpoint of the Service, or None if not one."""
    # R9.1: selected, with an IP (its sandbox exists), not terminal. Terminating
    # pods stay listed.
    status = obj.status
    if obj.deleted or not obj.ip or status is None or status.phase.terminal:
        return None
    if not service.selects(obj.pod.metadata.labels):
        return None

    # R9.2: serving is PodReady; ready also needs the pod not to be terminating,
    # unless the Service publishes not-ready addresses.
    serving = status.ready
    terminating = obj.deletion_timestamp is not None
    ready = service.publish_not_ready_addresses or (serving and not terminating)
    return Endpoint(
        obj.name,
        obj.ip,
        resolve_target_ports(service, obj.pod),
        ready=ready,
        serving=serving,
        terminating=terminating,
    )


class EndpointSliceController:
    """Keeps each Service's endpoints in step with its pods."""

    def __init__(
        self,
        env: simpy.Environment,
        apiserver: ApiServer,
        services: tuple[Service, ...],
        spec: EndpointsSpec,
        rng: np.random.Generator,
        recorder: Recorder,
        listener: SliceListener,
    ) -> None:
        self.env = env
        self.apiserver = apiserver
        self.services = {s.name: s for s in services if s.selector}
        self.spec = spec
        self.rng = rng
        self.recorder = recorder
        self.listener = listener
        self.log = SimLogger(env, "endpointslice")
        self.slices: dict[str, tuple[Endpoint, ...]] = {}
        # Each Service's endpoints as last synced, by pod name.
        self._current: dict[str, dict[str, Endpoint]] = {}
        # Each pod's endpoint in each Service as of its last change the controller
        # heard of (the informer's old object), by (Service, pod).
        self._seen: dict[tuple[str, str], Endpoint | None] = {}
        # Pods changed since each Service's last sync.
        self._dirty: dict[str, set[str]] = {}
        self._last_queued: dict[str, float] = {}
        self._by_labels: dict[tuple[tuple[str, str], ...], list[str]] = {}
        apiserver.watch_status(self._on_pod)

    def selecting(self, labels: tuple[tuple[str, str], ...]) -> list[str]:
        """The Services that select pods with these labels, in the scenario's order.

        A pod's labels never change here, and the replicas of a ReplicaSet share
        theirs, so each set of labels is matched against the selectors once.
        """
        found = self._by_labels.get(labels)
        if found is None:
            found = [n for n, svc in self.services.items() if svc.selects(labels)]
            self._by_labels[labels] = found
        return found

    def _on_pod(self, obj: PodObject) -> None:
        # R9.3: a pod change queues every Service that selects the pod (or did),
        # with no batching (batch period 0): each change is synced on its own,
        # after the delay of the watch and the controller's processing. A sync
        # reads the pods as they are then, so a later sync of an unchanged state
        # changes nothing.
        selecting = self.selecting(obj.pod.metadata.labels)
        for name in selecting:
            # R9.3 (podEndpointsChanged): a change that alters nothing the pod's
            # endpoint shows (its presence, address, ports and conditions) queues
            # no sync.
            key = (name, obj.name)
            endpoint = pod_to_endpoint(self.services[name], obj)
            if key in self._seen or endpoint is not None:
                if self._seen.get(key) == endpoint:
                    continue
                self._seen[key] = endpoint
            self._dirty.setdefault(name, set()).add(obj.name)
            self._queue(name)
        if obj.deleted:
            for name in selecting:
                self._seen.pop((name, obj.name), None)

    def _queue(self, name: str) -> None:
        # The watch delivers changes in order: a later change is never synced
        # before an earlier one.
        now = self.env.now
        at = max(
            now + self.spec.controller_delay.sample(self.rng),
            self._last_queued.get(name, 0.0),
        )
        self._last_queued[name] = at
        self.env.timeout(at - now).callbacks.append(lambda _: self.sync(name))

    def sync(self, name: str) -> None:
        """Bring one Service's endpoints up to date and pass changes on.

        syncService, limited to the pods changed since the Service's last sync: the
        endpoint of every other pod is as that sync left it.
        """
        dirty = self._dirty.pop(name, None)
        if not dirty:
            return
        service = self.services[name]
        pods = self.apiserver.pods
        current = self._current.setdefault(name, {})
        changed: list[str] = []
        removed: list[str] = []
        for pod in sorted(dirty):
            # R9.3: the pod as it is now, not as it was when it changed.
            endpoint = pod_to_endpoint(service, pods[pod])
            old = current.get(pod)
            if endpoint == old:
                continue
            if endpoint is None:
                del current[pod]
                removed.append(pod)
            else:
                current[pod] = endpoint
                changed.append(pod)
        if not changed and not removed:
            return
        # The slice lists its endpoints oldest pod first.
        self.slices[name] = tuple(
            current[pod]
            for pod in sorted(current, key=lambda n: (pods[n].created_at, n))
        )
        self._record_changes(name, changed, removed)
        self.listener(name, self.slices[name])

    def _record_changes(
        self, name: str, changed: list[str], removed: list[str]
    ) -> None:
        now = self.env.now
        endpoints = self._current[name]
        pods = self.apiserver.pods
        for pod in sorted(changed, key=lambda n: (pods[n].created_at, n)):
            endpoint = endpoints[pod]
            # Any change of conditions is recorded, named by the ready condition.
            reason = (
                Reason.ENDPOINT_READY if endpoint.ready else Reason.ENDPOINT_NOT_READY
            )
            self.recorder.record(
                EventRecord(now, pod, "", reason, message=_conditions(name, endpoint))
            )
        for pod in removed:
            self.recorder.record(
                EventRecord(
                    now, pod, "", Reason.ENDPOINT_REMOVED, message=f"service={name}"
                )
            )
        self.log.trace("synced", service=name, endpoints=len(endpoints))


def _conditions(service: str, endpoint: Endpoint) -> str:
    return (
        f"service={service} ready={str(endpoint.ready).lower()} "
        f"serving={str(endpoint.serving).lower()} "
        f"terminating={str(endpoint.terminating).lower()}"
    )
