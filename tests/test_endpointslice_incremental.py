"""The EndpointSlice controller acts only on changes an endpoint shows (R9.3).

The controller is driven directly, with hand-built pod objects pushed through the
API server, and a listener standing in for kube-proxy: a push that changes nothing
the pod's endpoint shows (address, ports, ready, serving, terminating) must queue
no sync, publish no new slice and program nothing; a push that does change it is
published once, after the controller's delay, with only that pod's endpoint new.
"""

from __future__ import annotations

import numpy as np
import simpy

from sim.kube.apiserver import ApiServer, PodObject
from sim.kube.controllers.endpointslice import Endpoint, EndpointSliceController
from sim.kube.status import PodPhase, PodStatus
from sim.scenario.document import EndpointsSpec
from sim.scenario.spec import (
    Container,
    ContainerPort,
    ObjectMeta,
    Pod,
    Service,
    ServicePort,
)
from sim.trace import ListRecorder, Reason

IMAGE = "registry.example.com/web:1"
# spec.endpoints.controllerDelay default: U[50 ms, 300 ms].
CONTROLLER_MIN, CONTROLLER_MAX = 0.05, 0.3


def _pod(name: str, created_at: float, ready: bool = True) -> PodObject:
    spec = Pod(
        ObjectMeta(name, labels=(("app", "web"),)),
        (Container("app", IMAGE, ports=(ContainerPort(8080, "http"),)),),
    )
    obj = PodObject(
        spec, f"uid-{name}", f"10.0.0.{int(created_at) + 1}", created_at,
        np.random.default_rng(0),
    )  # fmt: skip
    obj.status = PodStatus(PodPhase.RUNNING, containers_ready=ready, ready=ready)
    return obj


class _Harness:
    def __init__(self) -> None:
        self.env = simpy.Environment()
        self.recorder = ListRecorder()
        self.apiserver = ApiServer(self.env, self.recorder)
        self.published: list[tuple[float, tuple[Endpoint, ...]]] = []
        service = Service(
            ObjectMeta("web"), (("app", "web"),), (ServicePort(80, "http"),)
        )
        self.controller = EndpointSliceController(
            self.env,
            self.apiserver,
            (service,),
            EndpointsSpec(),
            np.random.default_rng(1),
            self.recorder,
            lambda name, endpoints: self.published.append((self.env.now, endpoints)),
        )

    def push(self, obj: PodObject, at: float) -> None:
        """Store the pod and push its status at ``at`` seconds."""

        def later():
            yield self.env.timeout(at - self.env.now)
            self.apiserver.pods[obj.name] = obj
            self.apiserver.status_changed(obj)

        self.env.process(later())


def test_push_that_changes_nothing_publishes_nothing():
    h = _Harness()
    a, b = _pod("a", 0.0), _pod("b", 1.0)
    h.push(a, 0.0)
    h.push(b, 0.0)
    h.env.run(until=1.0)
    assert len(h.published) == 1, "one sync publishes both new endpoints"
    assert [e.pod for e in h.published[0][1]] == ["a", "b"], "oldest pod first"

    # The same statuses pushed again, and a new status object equal as an endpoint
    # shows it (say a restart count moved): no sync, no slice, no programming.
    state = h.controller.rng.bit_generator.state
    for at in (2.0, 3.0, 4.0):
        h.push(a, at)
        a2 = _pod("a", 0.0)
        h.push(a2, at + 0.5)
        a = a2
    h.env.run(until=10.0)
    assert len(h.published) == 1
    assert h.controller.rng.bit_generator.state == state, "no sync was queued"
    reasons = [e.reason for e in h.recorder.events if e.time >= 1.0]
    assert Reason.ENDPOINT_READY not in reasons
    assert Reason.ENDPOINT_NOT_READY not in reasons


def test_push_that_changes_one_endpoint_publishes_it_once():
    h = _Harness()
    a, b = _pod("a", 0.0), _pod("b", 1.0)
    h.push(a, 0.0)
    h.push(b, 0.0)
    h.env.run(until=1.0)
    first = h.published[-1][1]

    # b loses readiness at 5 s: one slice, after the controller's delay, in
    # which a's endpoint is the very object of the previous slice.
    h.push(_pod("b", 1.0, ready=False), 5.0)
    h.env.run(until=10.0)
    assert len(h.published) == 2
    at, endpoints = h.published[-1]
    assert 5.0 + CONTROLLER_MIN <= at <= 5.0 + CONTROLLER_MAX
    assert endpoints[0] is first[0]
    assert (endpoints[1].pod, endpoints[1].ready, endpoints[1].serving) == (
        "b",
        False,
        False,
    )
    events = [e for e in h.recorder.events if e.reason is Reason.ENDPOINT_NOT_READY]
    assert [(e.pod, e.time) for e in events] == [("b", at)]


def test_change_reverted_before_the_sync_publishes_nothing():
    # R9.3: the sync reads the pods as they are then; a readiness flip undone
    # within the controller's delay leaves the slice as it was.
    h = _Harness()
    a = _pod("a", 0.0)
    h.push(a, 0.0)
    h.env.run(until=1.0)
    h.push(_pod("a", 0.0, ready=False), 5.0)
    h.push(_pod("a", 0.0, ready=True), 5.0 + CONTROLLER_MIN / 2)
    h.env.run(until=10.0)
    assert len(h.published) == 1


def test_deleted_pod_is_removed():
    h = _Harness()
    a, b = _pod("a", 0.0), _pod("b", 1.0)
    h.push(a, 0.0)
    h.push(b, 0.0)
    h.env.run(until=1.0)
    gone = _pod("a", 0.0)
    gone.deleted = True
    h.push(gone, 2.0)
    h.env.run(until=5.0)
    assert [e.pod for e in h.published[-1][1]] == ["b"]
    removed = [e.pod for e in h.recorder.events if e.reason is Reason.ENDPOINT_REMOVED]
    assert removed == ["a"]
