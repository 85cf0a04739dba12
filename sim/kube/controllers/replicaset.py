"""The ReplicaSet controller: create and delete a Deployment's pods to match replicas.

Follows pkg/controller/replicaset (``syncReplicaSet``, ``manageReplicas``,
``calculateStatus``) and the pod ranking of pkg/controller ``ActivePodsWithRanks``.
ReplicaSets here belong to a Deployment (the Deployment controller makes and scales
them); their state lives in ``ReplicaSet`` values this controller shares with it.

Every controller works from a queue of keys (``WorkQueue``): a key added while it
already waits is not added twice, and each added key is handled after a small
latency (watch propagation and queue wait), drawn from the controller's own stream.
The API server's watch is instant, so this controller's view of pods is always
current and creation/deletion expectations are not needed.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import simpy

from sim.kube.admission import Rejection, admit
from sim.kube.apiserver import ApiServer, PodObject
from sim.kube.log import SimLogger
from sim.kube.status import PodPhase
from sim.kube.streams import Streams
from sim.scenario.spec import ObjectMeta, Pod
from sim.trace import EventRecord, Reason, Recorder

# apps/v1 DefaultDeploymentUniqueLabelKey.
POD_TEMPLATE_HASH_LABEL = "pod-template-hash"
# util/rand: the alphabet of generated names and encoded hashes.
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# apiserver names.SimpleNameGenerator: 5 random characters after generateName,
# whose base is cut to 63 - 5 characters.
NAME_SUFFIX_LENGTH = 5
MAX_GENERATED_NAME_BASE = 58
# replica_set.go BurstReplicas: at most this many creates or deletes per sync.
BURST_REPLICAS = 500
# The latency between a change and the controller's sync of it (seconds).
CONTROLLER_LATENCY_SECONDS = (0.005, 0.05)
# client-go DefaultControllerRateLimiter: ItemExponentialFailureRateLimiter.
RATE_LIMIT_BASE_SECONDS = 0.005
RATE_LIMIT_MAX_SECONDS = 1000.0

_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


def fnv32a(data: bytes) -> int:
    """The 32-bit FNV-1a hash (Go's ``hash/fnv.New32a``)."""
    h = _FNV32_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """util/rand ``SafeEncodeString``: map each byte into the name alphabet."""
    return "".join(NAME_ALPHABET[ord(ch) % len(NAME_ALPHABET)] for ch in text)


@functools.lru_cache(maxsize=1024)
def pod_template_hash(template: Pod) -> str:
    """controller.ComputeHash: the 10-character ``pod-template-hash`` of a template.

    Kubernetes hashes the printed template with FNV-32a and encodes the decimal
    digits of the hash through the name alphabet; here the printed template is the
    ``repr`` of the dataclass (its source line left out, so moving a manifest
    around does not change the hash), and the decimal is zero-padded to 10 digits so
    every hash has 10 characters (Kubernetes' are 10 characters for 77 % of hashes,
    shorter for the rest). Templates are frozen, so each hash is computed once
    (the Deployment controller asks at every sync).
    """
    printed = repr(dataclasses.replace(template, source_line=0))
    return safe_encode(f"{fnv32a(printed.encode()):010d}")


def random_suffix(rng: np.random.Generator, length: int = NAME_SUFFIX_LENGTH) -> str:
    """util/rand ``String``: ``length`` characters drawn from the name alphabet."""
    picks = rng.integers(0, len(NAME_ALPHABET), size=length)
    return "".join(NAME_ALPHABET[int(i)] for i in picks)


@dataclass(eq=False)
class ReplicaSet:
    """A ReplicaSet of a Deployment: its spec, the Deployment's annotations, status.

    ``revision``, ``desired_replicas`` and ``max_replicas`` stand for the
    ``deployment.kubernetes.io/revision``, ``desired-replicas`` and ``max-replicas``
    annotations (None: not set). ``status_*`` are written by the ReplicaSet
    controller's ``calculateStatus``.
    """

    name: str
    deployment: str
    template_hash: str
    template: Pod
    created_at: float
    replicas: int = 0
    min_ready_seconds: int = 0
    revision: int = 0
    desired_replicas: int | None = None
    max_replicas: int | None = None
    status_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0

    @property
    def sort_key(self) -> tuple[float, str]:
        """``ReplicaSetsByCreationTimestamp``: creation time, then name."""
        return (self.created_at, self.name)


class WorkQueue:
    """A controller's rate-limited work queue of keys, with a handling latency.

    Parameters
    ----------
    env
        The simulation clock.
    rng
        The controller's random stream (handling latencies).
    handler
        Called with a key when its turn comes.
    latency
        Bounds of the uniform latency between an add and the handling (seconds).
    """

    def __init__(
        self,
        env: simpy.Environment,
        rng: np.random.Generator,
        handler: Callable[[str], None],
        latency: tuple[float, float] = CONTROLLER_LATENCY_SECONDS,
    ) -> None:
        self.env = env
        self.rng = rng
        self.handler = handler
        self.latency = latency
        self._queued: set[str] = set()
        self._waiting: dict[str, float] = {}
        self._failures: dict[str, int] = {}

    def add(self, key: str) -> None:
        """Handle the key soon, unless it already waits (workqueue ``Add``)."""
        if key in self._queued:
            return
        self._queued.add(key)
        delay = float(self.rng.uniform(*self.latency))
        self.env.timeout(delay).callbacks.append(lambda _: self._handle(key))

    def add_after(self, key: str, seconds: float) -> None:
        """Add the key once ``seconds`` have passed (workqueue ``AddAfter``).

        As in client-go, a key waiting for an earlier time keeps that time.
        """
        due = self.env.now + max(seconds, 0.0)
        current = self._waiting.get(key)
        if current is not None and current <= due:
            return
        self._waiting[key] = due

        def fire(_: simpy.Event) -> None:
            if self._waiting.get(key) == due:
                del self._waiting[key]
                self.add(key)

        self.env.timeout(due - self.env.now).callbacks.append(fire)

    def add_rate_limited(self, key: str) -> None:
        """``AddRateLimited``: retry after 5 ms doubling per failure, up to 1000 s."""
        failures = self._failures.get(key, 0)
        self._failures[key] = failures + 1
        delay = min(RATE_LIMIT_BASE_SECONDS * 2.0**failures, RATE_LIMIT_MAX_SECONDS)
        self.add_after(key, delay)

    def forget(self, key: str) -> None:
        """``Forget``: a successful sync resets the key's failure count."""
        self._failures.pop(key, None)

    def _handle(self, key: str) -> None:
        self._queued.discard(key)
        self.handler(key)


def _log2_rank(age_seconds: float) -> int:
    # controller_utils.go logarithmicRankDiff works on nanoseconds.
    nanos = age_seconds * 1e9
    return int(math.log2(nanos)) if nanos > 0 else -1


def _phase_ordinal(obj: PodObject) -> int:
    # controller_utils.go podPhaseToOrdinal: Pending < Unknown < Running.
    phase = obj.status.phase if obj.status is not None else PodPhase.PENDING
    return 2 if phase is PodPhase.RUNNING else 0


def _ready(obj: PodObject) -> bool:
    return obj.status is not None and obj.status.ready


def _restarts(obj: PodObject) -> int:
    if obj.status is None:
        return 0
    return max((c.restart_count for c in obj.status.containers.values()), default=0)


def is_active(obj: PodObject) -> bool:
    """controller.IsPodActive: not terminal, not being deleted, not gone."""
    if obj.deleted or obj.deletion_timestamp is not None:
        return False
    phase = obj.status.phase if obj.status is not None else PodPhase.PENDING
    return not phase.terminal


class ReplicaSetController:
    """Keeps the pods of every ReplicaSet at its ``replicas``.

    Parameters
    ----------
    env
        The simulation clock.
    apiserver
        Where pods are created, deleted and watched.
    streams
        The run's random streams: ``controller/replicaset`` for latencies,
        ``deployment/<name>`` for pod name suffixes, ``pod/<name>`` for each pod.
    recorder
        Where ``SuccessfulCreate``, ``SuccessfulDelete`` and ``FailedCreate`` go.
    on_change
        Called with the owning Deployment's name when a ReplicaSet's status changes
        or one of its pods is gone (the Deployment controller's event handlers).
    """

    def __init__(
        self,
        env: simpy.Environment,
        apiserver: ApiServer,
        streams: Streams,
        recorder: Recorder,
        on_change: Callable[[str], None],
    ) -> None:
        self.env = env
        self.apiserver = apiserver
        self.streams = streams
        self.recorder = recorder
        self.on_change = on_change
        self.log = SimLogger(env, "controllers.replicaset")
        self.sets: dict[str, ReplicaSet] = {}
        self.pods: dict[str, dict[str, PodObject]] = {}
        self.ready_since: dict[str, float] = {}
        self.queue = WorkQueue(env, streams.stream("controller/replicaset"), self.sync)
        apiserver.watch_status(self._on_pod)

    # The informer: ReplicaSets and their pods.

    def add(self, rs: ReplicaSet) -> None:
        """Store a new ReplicaSet (the Deployment controller created it)."""
        self.sets[rs.name] = rs
        self.pods.setdefault(rs.name, {})
        self.queue.add(rs.name)

    def owned_by(self, deployment: str) -> list[ReplicaSet]:
        """The ReplicaSets of a Deployment, oldest first."""
        owned = [rs for rs in self.sets.values() if rs.deployment == deployment]
        return sorted(owned, key=lambda rs: rs.sort_key)

    def pods_of(self, rs: ReplicaSet) -> list[PodObject]:
        """Every pod of the ReplicaSet that still exists (terminating included)."""
        return list(self.pods.get(rs.name, {}).values())

    def is_available(self, obj: PodObject, min_ready_seconds: int) -> bool:
        """podutil.IsPodAvailable: Ready, for longer than ``minReadySeconds``."""
        if not _ready(obj):
            return False
        if min_ready_seconds == 0:
            return True
        since = self.ready_since.get(obj.name, self.env.now)
        return since + min_ready_seconds < self.env.now

    def _on_pod(self, obj: PodObject) -> None:
        labels = dict(obj.pod.metadata.labels)
        key = f"{obj.owner}-{labels.get(POD_TEMPLATE_HASH_LABEL, '')}"
        rs = self.sets.get(key)
        if not obj.owner or rs is None:
            return
        pods = self.pods[rs.name]
        if obj.deleted:
            # replica_set.go deletePod; deployment_controller.go deletePod.
            pods.pop(obj.name, None)
            self.ready_since.pop(obj.name, None)
            self.queue.add(rs.name)
            self.on_change(rs.deployment)
            return
        pods[obj.name] = obj
        if _ready(obj):
            if obj.name not in self.ready_since:
                # The Ready condition's lastTransitionTime.
                self.ready_since[obj.name] = self.env.now
                # replica_set.go updatePod: a pod that became Ready is checked
                # again for availability a second after minReadySeconds.
                if rs.min_ready_seconds > 0:
                    self.queue.add_after(rs.name, rs.min_ready_seconds + 1.0)
        else:
            self.ready_since.pop(obj.name, None)
        self.queue.add(rs.name)

    # The sync.

    def sync(self, name: str) -> None:
        """replica_set.go ``syncReplicaSet``: manage replicas, then the status."""
        rs = self.sets[name]
        active = [p for p in self.pods_of(rs) if is_active(p)]
        ok = self._manage_replicas(rs, active)

        # calculateStatus counts the pods listed before manageReplicas acted.
        ready = [p for p in active if _ready(p)]
        available = [p for p in ready if self.is_available(p, rs.min_ready_seconds)]
        status = (len(active), len(ready), len(available))
        before = (rs.status_replicas, rs.ready_replicas, rs.available_replicas)
        if status != before:
            rs.status_replicas, rs.ready_replicas, rs.available_replicas = status
            self.log.trace(
                "status",
                replicaset=rs.name,
                replicas=rs.status_replicas,
                ready=rs.ready_replicas,
                available=rs.available_replicas,
            )
            self.on_change(rs.deployment)

        if ok:
            self.queue.forget(name)
        else:
            self.queue.add_rate_limited(name)
        # syncReplicaSet: every pod Ready but not all available yet: look again
        # after minReadySeconds.
        if (
            ok
            and rs.min_ready_seconds > 0
            and rs.ready_replicas == rs.replicas
            and rs.available_replicas != rs.replicas
        ):
            self.queue.add_after(name, rs.min_ready_seconds)

    def _manage_replicas(self, rs: ReplicaSet, active: list[PodObject]) -> bool:
        """replica_set.go ``manageReplicas``; False when a create failed."""
        diff = len(active) - rs.replicas
        if diff < 0:
            # slowStartBatch: the first failure skips the remaining creates.
            count = min(-diff, BURST_REPLICAS)
            return all(self._create_pod(rs) for _ in range(count))
        if diff > 0:
            victims = self._pods_to_delete(active, min(diff, BURST_REPLICAS))
            for obj in victims:
                self.apiserver.delete_pod(obj.name, None)
                self._event(rs, Reason.SUCCESSFUL_DELETE, f"Deleted pod: {obj.name}")
        return True

    def _pods_to_delete(self, active: list[PodObject], count: int) -> list[PodObject]:
        """replica_set.go ``getPodsToDelete``: the lowest-ranked pods go first."""
        now = self.env.now

        def less(a: PodObject, b: PodObject) -> bool:
            # controller_utils.go ActivePodsWithRanks.Less (one node: no
            # unassigned pods, every pod has the same rank; no deletion cost).
            # 2. Pending < Unknown < Running.
            if _phase_ordinal(a) != _phase_ordinal(b):
                return _phase_ordinal(a) < _phase_ordinal(b)
            # 3. Not ready < ready.
            if _ready(a) != _ready(b):
                return not _ready(a)
            # 6. Ready for less time < more time (LogarithmicScaleDown buckets,
            # ties broken by UID).
            if _ready(a) and _ready(b):
                ta = self.ready_since.get(a.name, now)
                tb = self.ready_since.get(b.name, now)
                if ta != tb:
                    diff = _log2_rank(now - ta) - _log2_rank(now - tb)
                    return a.uid < b.uid if diff == 0 else diff < 0
            # 7. More restarts < fewer restarts.
            if _restarts(a) != _restarts(b):
                return _restarts(a) > _restarts(b)
            # 8. Newer < older (LogarithmicScaleDown buckets, ties by UID).
            if a.created_at != b.created_at:
                diff = _log2_rank(now - a.created_at) - _log2_rank(now - b.created_at)
                return a.uid < b.uid if diff == 0 else diff < 0
            return False

        def compare(a: PodObject, b: PodObject) -> int:
            if less(a, b):
                return -1
            return 1 if less(b, a) else 0

        return sorted(active, key=functools.cmp_to_key(compare))[:count]

    def _create_pod(self, rs: ReplicaSet) -> bool:
        """Create one pod from the template with a generated name."""
        base = f"{rs.name}-"[:MAX_GENERATED_NAME_BASE]
        rng = self.streams.stream(f"deployment/{rs.deployment}")
        name = base + random_suffix(rng)
        while name in self.apiserver.pods:  # AlreadyExists: the name is drawn again
            name = base + random_suffix(rng)
        metadata = dataclasses.replace(rs.template.metadata, name=name, uid="")
        pod = dataclasses.replace(rs.template, metadata=metadata)
        obj = self.apiserver.create_pod(
            pod, self.streams.for_pod(name), owner=rs.deployment
        )
        if obj is None:
            refused = admit(pod, self.apiserver.service_accounts)
            detail = refused.message if isinstance(refused, Rejection) else "refused"
            self._event(rs, Reason.FAILED_CREATE, f"Error creating: {detail}")
            return False
        self._event(rs, Reason.SUCCESSFUL_CREATE, f"Created pod: {name}")
        return True

    def _event(self, rs: ReplicaSet, reason: Reason, message: str) -> None:
        self.log.trace(reason.value, replicaset=rs.name, message=message)
        self.recorder.record(
            EventRecord(self.env.now, rs.name, "", reason, message=message)
        )


def replica_set_template(template: Pod, name: str, template_hash: str) -> Pod:
    """The ReplicaSet's pod template: the Deployment's, labelled with the hash."""
    labels = tuple(
        (k, v) for k, v in template.metadata.labels if k != POD_TEMPLATE_HASH_LABEL
    )
    metadata: ObjectMeta = dataclasses.replace(
        template.metadata,
        name=name,
        labels=(*labels, (POD_TEMPLATE_HASH_LABEL, template_hash)),
    )
    return dataclasses.replace(template, metadata=metadata)
