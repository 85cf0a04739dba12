"""The Deployment and ReplicaSet controllers (pkg/controller/deployment, replicaset).

Scenarios are written as manifests and read with ``Scenario.from_yaml``; checks
replay the event log: ``ScalingReplicaSet`` events give every ReplicaSet's size
(the controller's own accounting), ``SuccessfulDelete`` marks a pod terminating,
``PodReady`` / ``PodNotReady`` its Ready condition, ``Deleted`` its end.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sim.kube.controllers.deployment import (
    max_surge,
    max_unavailable,
    resolve_fenceposts,
    scaled_value,
)
from sim.kube.controllers.replicaset import (
    NAME_ALPHABET,
    POD_TEMPLATE_HASH_LABEL,
    pod_template_hash,
)
from sim.scenario.document import Scenario
from sim.scenario.spec import DeploymentStrategyType
from sim.simulation import SimulationResult, simulate
from sim.trace import EventRecord, Reason

IMAGE = "registry.example.com/web:1"
NEW_IMAGE = "registry.example.com/web:2"
SCALED = re.compile(r"Scaled (up|down) replica set (\S+) from (\d+) to (\d+)")
POD_NAME = re.compile(rf"web-(?P<hash>[{NAME_ALPHABET}]{{10}})-[{NAME_ALPHABET}]{{5}}")


def manifests(
    replicas: int = 3,
    strategy: dict[str, Any] | None = None,
    actions: tuple[dict[str, Any], ...] = (),
    duration: float = 60.0,
    behaviours: tuple[dict[str, Any], ...] = (),
    container: dict[str, Any] | None = None,
    **spec: Any,
) -> Scenario:
    """A Deployment ``web`` (container ``app``) and the Scenario document."""
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            **({"strategy": strategy} if strategy else {}),
            **spec,
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "terminationGracePeriodSeconds": 5,
                    "containers": [
                        {"name": "app", "image": IMAGE, **(container or {})}
                    ],
                },
            },
        },
    }
    document = {
        "apiVersion": "probesim/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "deployment"},
        "spec": {
            "duration": f"{duration}s",
            "behaviours": list(behaviours),
            "actions": list(actions),
        },
    }
    return Scenario.from_yaml(
        "\n---\n".join(json.dumps(d) for d in (deployment, document))
    )


def rollout(at: float, image: str = NEW_IMAGE) -> dict[str, Any]:
    """The action that rolls ``web`` out to a new image."""
    return {
        "at": f"{at}s",
        "rollout": {
            "deployment": "web",
            "containers": [{"name": "app", "image": image}],
        },
    }


def scale(at: float, replicas: int) -> dict[str, Any]:
    """The action that scales ``web``."""
    return {"at": f"{at}s", "scale": {"deployment": "web", "replicas": replicas}}


@dataclass
class ClusterView:
    """What the event log says about the Deployment's objects at one instant."""

    sizes: dict[str, int] = field(default_factory=dict)
    pods: dict[str, str] = field(default_factory=dict)  # pod -> ReplicaSet
    terminating: set[str] = field(default_factory=set)
    ready_since: dict[str, float] = field(default_factory=dict)

    def apply(self, event: EventRecord) -> None:
        """Update the view with one event."""
        if event.reason is Reason.SCALING_REPLICA_SET:
            match = SCALED.fullmatch(event.message)
            assert match is not None, event.message
            self.sizes[match[2]] = int(match[4])
        elif event.reason is Reason.SUCCESSFUL_CREATE:
            self.pods[event.message.removeprefix("Created pod: ")] = event.pod
        elif event.reason is Reason.SUCCESSFUL_DELETE:
            self.terminating.add(event.message.removeprefix("Deleted pod: "))
        elif event.reason is Reason.POD_READY:
            self.ready_since[event.pod] = event.time
        elif event.reason is Reason.POD_NOT_READY:
            self.ready_since.pop(event.pod, None)
        elif event.reason is Reason.DELETED:
            self.pods.pop(event.pod, None)
            self.ready_since.pop(event.pod, None)

    def available(self, now: float, min_ready_seconds: float = 0.0) -> int:
        """Pods not terminating that have been Ready for ``min_ready_seconds``."""
        return sum(
            1
            for pod, since in self.ready_since.items()
            if pod in self.pods
            and pod not in self.terminating
            and since + min_ready_seconds <= now
        )

    def live(self, replica_set: str | None = None) -> list[str]:
        """Pods that exist (terminating ones included), of one ReplicaSet or all."""
        return [p for p, rs in self.pods.items() if replica_set in (None, rs)]


def instants(result: SimulationResult) -> Iterator[tuple[float, ClusterView]]:
    """The view after all events of each instant, in time order."""
    view = ClusterView()
    for time, events in groupby(result.recorder.events, key=lambda e: e.time):
        for event in events:
            view.apply(event)
        yield time, view


def messages(result: SimulationResult, reason: Reason) -> list[str]:
    return [e.message for e in result.recorder.events if e.reason is reason]


def replica_sets(result: SimulationResult) -> list[str]:
    """ReplicaSet names in the order they were first scaled up."""
    names: list[str] = []
    for message in messages(result, Reason.SCALING_REPLICA_SET):
        name = SCALED.fullmatch(message)[2]  # type: ignore[index]
        if name not in names:
            names.append(name)
    return names


# The arithmetic of maxSurge and maxUnavailable.


@pytest.mark.parametrize(
    ("surge", "unavailable", "replicas", "expected"),
    [
        (1, 0, 3, (1, 0)),
        (0, 1, 3, (0, 1)),
        (2, 3, 10, (2, 3)),
        ("25%", "25%", 3, (1, 0)),  # 0.75: surge rounds up, unavailable down
        ("25%", "25%", 4, (1, 1)),
        ("25%", "25%", 10, (3, 2)),  # 2.5
        ("50%", "50%", 5, (3, 2)),
        ("10%", "10%", 1, (1, 0)),
        ("1%", "99%", 100, (1, 99)),
        ("100%", "100%", 3, (3, 3)),
        ("0%", "30%", 3, (0, 0 + 1)),  # floor(0.9) = 0, and 0/0 makes it 1
        (0, 0, 5, (0, 1)),  # both 0: unavailable becomes 1
        ("0%", "0%", 5, (0, 1)),
        (0, "10%", 5, (0, 1)),  # floor(0.5) = 0
        ("10%", 0, 5, (1, 0)),  # ceil(0.5) = 1: no 0/0
        (1, "20%", 0, (1, 0)),  # zero replicas
    ],
)
def test_fenceposts(
    surge: int | str, unavailable: int | str, replicas: int, expected: tuple[int, int]
) -> None:
    """deployment/util ResolveFenceposts: surge rounds up, unavailable down, 0/0."""
    assert resolve_fenceposts(surge, unavailable, replicas) == expected


def test_percent_rounding_and_errors() -> None:
    assert scaled_value("33%", 10, round_up=True) == 4
    assert scaled_value("33%", 10, round_up=False) == 3
    assert scaled_value("30%", 10, round_up=True) == 3  # exact: no float error
    assert scaled_value(7, 10, round_up=False) == 7
    with pytest.raises(ValueError, match="not a percentage"):
        scaled_value("3", 10, round_up=True)


def test_max_unavailable_is_capped_and_only_for_rolling_updates() -> None:
    scenario = manifests(
        replicas=2, strategy={"rollingUpdate": {"maxSurge": 0, "maxUnavailable": 5}}
    )
    d = scenario.deployments[0]
    assert (max_surge(d), max_unavailable(d)) == (0, 2)
    assert max_unavailable(dataclasses.replace(d, replicas=0)) == 0
    recreate = manifests(strategy={"type": "Recreate"}).deployments[0]
    assert recreate.strategy is DeploymentStrategyType.RECREATE
    assert (max_surge(recreate), max_unavailable(recreate)) == (0, 0)


# The rolling update's two bounds, for any sizes (Hypothesis).

INT_OR_PERCENT = st.one_of(
    st.integers(0, 3), st.sampled_from(["0%", "10%", "25%", "34%", "50%", "100%"])
)
ROLLOUT_AT = 10.0


def _oracle(value: int | str, replicas: int, up: bool) -> int:
    """The scaled value, computed independently (with floats, as Go does)."""
    if isinstance(value, int):
        return value
    exact = int(value[:-1]) * replicas / 100
    return math.ceil(exact) if up else math.floor(exact)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    replicas=st.integers(1, 10),
    surge=INT_OR_PERCENT,
    unavailable=INT_OR_PERCENT,
    seed=st.integers(0, 2**31 - 1),
)
def test_rolling_update_bounds(
    replicas: int, surge: int | str, unavailable: int | str, seed: int
) -> None:
    """rolling.go: available >= replicas - maxUnavailable, sizes <= replicas + maxSurge.

    From a fully available Deployment whose pods become Ready within a second or
    two and never fail: at every instant after the rollout starts, the pods that
    are Ready and not terminating are at least ``replicas - maxUnavailable``; at
    every instant of the run, the ReplicaSets' sizes add up to at most
    ``replicas + maxSurge``. The rollout completes.
    """
    # API validation: maxSurge and maxUnavailable may not both be 0 as written
    # (both may still come out 0 once scaled: then the 0/0 rule applies).
    assume(_oracle(surge, 100, up=True) or _oracle(unavailable, 100, up=True))
    most_surge = _oracle(surge, replicas, up=True)
    most_unavailable = _oracle(unavailable, replicas, up=False)
    if most_surge == 0 and most_unavailable == 0:
        most_unavailable = 1
    most_unavailable = min(most_unavailable, replicas)
    scenario = manifests(
        replicas=replicas,
        strategy={
            "type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable},
        },
        actions=(rollout(ROLLOUT_AT),),
        duration=ROLLOUT_AT + 40,
    )
    result = simulate(scenario, seed=seed)

    started = False
    for time, view in instants(result):
        assert sum(view.sizes.values()) <= replicas + most_surge, (time, view.sizes)
        if time >= ROLLOUT_AT and not started:
            # The rollout starts from a fully available Deployment.
            assert view.available(time) == replicas
            started = True
        if started:
            available = view.available(time)
            assert available >= replicas - most_unavailable, (time, available)

    old, new = replica_sets(result)
    assert view.sizes == {old: 0, new: replicas}
    assert view.live() == view.live(new)
    assert view.available(time) == replicas


# Recreate.


def test_recreate_never_runs_old_and_new_pods_together() -> None:
    """recreate.go: scale the old to 0, wait until their pods are gone, then the new."""
    scenario = manifests(
        replicas=3,
        strategy={"type": "Recreate"},
        # The old pods take 3 s to stop: the new ReplicaSet waits for that.
        behaviours=(
            {"container": "app", "pod": "web", "sigterm": {"exitAfter": "3s"}},
        ),
        actions=(rollout(10.0),),
        duration=40,
    )
    result = simulate(scenario, seed=7)
    old, new = replica_sets(result)
    for time, view in instants(result):
        assert not (view.live(old) and view.live(new)), time
    scaled = messages(result, Reason.SCALING_REPLICA_SET)
    assert scaled == [
        f"Scaled up replica set {old} from 0 to 3",
        f"Scaled down replica set {old} from 3 to 0",
        f"Scaled up replica set {new} from 0 to 3",
    ]
    events = result.recorder.events
    last_old_gone = max(
        e.time for e in events if e.reason is Reason.DELETED and e.pod.startswith(old)
    )
    scaled_down = next(e.time for e in events if e.message == scaled[1])
    first_new = min(e.time for e in events if e.pod == new)
    assert last_old_gone >= scaled_down + 3.0
    assert last_old_gone < first_new < last_old_gone + 0.2
    assert len(view.live(new)) == 3 and view.available(time) == 3


# Scaling.


def test_scale_up_and_down() -> None:
    """sync.go scale: the only active ReplicaSet takes the new size; the newest
    pods go first on scale-down (controller_utils ActivePodsWithRanks)."""
    scenario = manifests(
        replicas=3, actions=(scale(20.0, 5), scale(40.0, 2)), duration=60
    )
    result = simulate(scenario, seed=3)
    (rs,) = replica_sets(result)
    assert messages(result, Reason.SCALING_REPLICA_SET) == [
        f"Scaled up replica set {rs} from 0 to 3",
        f"Scaled up replica set {rs} from 3 to 5",
        f"Scaled down replica set {rs} from 5 to 2",
    ]
    created = [
        m.removeprefix("Created pod: ")
        for m in messages(result, Reason.SUCCESSFUL_CREATE)
    ]
    deleted = [
        m.removeprefix("Deleted pod: ")
        for m in messages(result, Reason.SUCCESSFUL_DELETE)
    ]
    assert len(created) == 5 and len(deleted) == 3
    # The two pods of the scale-up were Ready for less time: they go first.
    assert set(created[3:]) <= set(deleted)
    *_, (time, view) = instants(result)
    assert len(view.live()) == 2 and view.available(time) == 2
    assert sum(view.sizes.values()) == 2


def test_scale_during_rollout_is_proportional() -> None:
    """sync.go scale with two active ReplicaSets: the change is shared by size."""
    never_ready = {
        "name": "app",
        "image": NEW_IMAGE,
        "readinessProbe": {"httpGet": {"port": 8080, "path": "/ready"}},
    }
    scenario = manifests(
        replicas=4,
        strategy={"rollingUpdate": {"maxSurge": 2, "maxUnavailable": 0}},
        behaviours=(
            {
                "container": "app",
                "pod": "web",
                "http": [{"port": 8080, "responses": [{"status": 503}]}],
            },
        ),
        actions=(
            {
                "at": "10s",
                "rollout": {"deployment": "web", "containers": [never_ready]},
            },
            scale(20.0, 8),
        ),
        duration=30,
    )
    result = simulate(scenario, seed=9)
    old, new = replica_sets(result)
    # The rollout is stuck at old 4 + new 2 (maxUnavailable 0). Scaling to 8
    # allows 8 + 2 pods: 4 more, shared as 4 * 10/6 -> 7 and 2 * 10/6 -> 3.
    assert messages(result, Reason.SCALING_REPLICA_SET) == [
        f"Scaled up replica set {old} from 0 to 4",
        f"Scaled up replica set {new} from 0 to 2",
        f"Scaled up replica set {old} from 4 to 7",
        f"Scaled up replica set {new} from 2 to 3",
    ]
    *_, (time, view) = instants(result)
    assert (len(view.live(old)), len(view.live(new))) == (7, 3)
    assert view.available(time) == 7


# Names.


def test_pod_and_replica_set_names() -> None:
    """``<deployment>-<pod-template-hash>-<5 random characters>``."""
    scenario = manifests(replicas=3, actions=(rollout(10.0),), duration=20)
    result = simulate(scenario, seed=11)
    old, new = replica_sets(result)
    template = scenario.deployments[0].template
    assert old == f"web-{pod_template_hash(template)}"
    assert len(pod_template_hash(template)) == 10
    assert old != new
    names = [
        m.removeprefix("Created pod: ")
        for m in messages(result, Reason.SUCCESSFUL_CREATE)
    ]
    assert len(names) == 6 and len(set(names)) == 6
    for name in names:
        match = POD_NAME.fullmatch(name)
        assert match is not None, name
        assert f"web-{match['hash']}" in (old, new)
    pods = result.objects.pods
    for name in names:
        labels = dict(pods[name].metadata.labels)
        assert labels["app"] == "web"
        assert name.startswith(f"web-{labels[POD_TEMPLATE_HASH_LABEL]}-")
    # The same seed gives the same names; the hash does not depend on the seed.
    again = simulate(scenario, seed=11)
    assert messages(again, Reason.SUCCESSFUL_CREATE) == messages(
        result, Reason.SUCCESSFUL_CREATE
    )
    other = simulate(scenario, seed=12)
    assert replica_sets(other) == [old, new]
    assert messages(other, Reason.SUCCESSFUL_CREATE) != messages(
        result, Reason.SUCCESSFUL_CREATE
    )


def test_rolling_back_reuses_the_old_replica_set() -> None:
    """A template seen before has the same hash: its ReplicaSet scales up again."""
    scenario = manifests(
        replicas=2,
        actions=(rollout(10.0), rollout(20.0, image=IMAGE)),
        duration=30,
    )
    result = simulate(scenario, seed=5)
    first, second = replica_sets(result)
    scaled = messages(result, Reason.SCALING_REPLICA_SET)
    assert scaled[-1] == f"Scaled down replica set {second} from 1 to 0"
    assert f"Scaled up replica set {first} from 0 to 1" in scaled
    *_, (_, view) = instants(result)
    assert view.sizes == {first: 2, second: 0}


# minReadySeconds.


def test_min_ready_seconds_delays_availability() -> None:
    """A pod counts as available once Ready for minReadySeconds: the rollout waits."""
    scenario = manifests(
        replicas=2,
        strategy={"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        minReadySeconds=10,
        actions=(rollout(20.0),),
        duration=70,
    )
    result = simulate(scenario, seed=2)
    events = result.recorder.events
    old, new = replica_sets(result)
    ready = {e.pod: e.time for e in events if e.reason is Reason.POD_READY}
    downs = [
        e for e in events
        if e.reason is Reason.SCALING_REPLICA_SET and "Scaled down" in e.message
    ]  # fmt: skip
    assert [d.message for d in downs] == [
        f"Scaled down replica set {old} from 2 to 1",
        f"Scaled down replica set {old} from 1 to 0",
    ]
    new_ready = sorted(t for pod, t in ready.items() if pod.startswith(new))
    for ready_at, down in zip(new_ready, downs, strict=True):
        # replica_set.go: availability is checked a second after minReadySeconds.
        assert ready_at + 10 < down.time < ready_at + 11.2
    for time, view in instants(result):
        if time >= 20.0:
            assert view.available(time, min_ready_seconds=10) >= 2, time


# Progress deadline.


def test_progress_deadline_exceeded_when_new_pods_never_become_ready() -> None:
    """progress.go: no progress for progressDeadlineSeconds: deadline exceeded."""
    scenario = manifests(
        replicas=2,
        progressDeadlineSeconds=30,
        container={
            "readinessProbe": {
                "httpGet": {"port": 8080, "path": "/ready"},
                "periodSeconds": 2,
            }
        },
        behaviours=(
            {
                "container": "app",
                "pod": "web",
                "http": [{"port": 8080, "responses": [{"status": 503}]}],
            },
        ),
        duration=90,
    )
    result = simulate(scenario, seed=4)
    (rs,) = replica_sets(result)
    exceeded = [
        e
        for e in result.recorder.events
        if e.reason is Reason.PROGRESS_DEADLINE_EXCEEDED
    ]
    assert [e.message for e in exceeded] == [
        f'ReplicaSet "{rs}" has timed out progressing.'
    ]
    assert exceeded[0].pod == "web"
    # The last progress was the pods' creation (< 0.2 s); the check comes a
    # second after the deadline (requeueStuckDeployment).
    assert 31.0 < exceeded[0].time < 31.3


def test_no_deadline_exceeded_when_rollout_progresses() -> None:
    scenario = manifests(
        replicas=3,
        progressDeadlineSeconds=5,
        actions=(rollout(10.0),),
        duration=40,
    )
    result = simulate(scenario, seed=4)
    assert not messages(result, Reason.PROGRESS_DEADLINE_EXCEEDED)
