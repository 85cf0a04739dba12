"""The Deployment controller: ReplicaSets per template, rolling and recreate rollouts.

Follows pkg/controller/deployment: ``syncDeployment`` (deployment_controller.go),
``rolloutRolling`` (rolling.go), ``rolloutRecreate`` (recreate.go), ``sync`` and
``scale`` (sync.go), ``syncRolloutStatus`` (progress.go) and the helpers of
deployment/util (``NewRSNewReplicas``, ``MaxSurge``, ``MaxUnavailable``,
``ResolveFenceposts``). The pods themselves are the ReplicaSet controller's work
(``sim.kube.controllers.replicaset``); this controller only sets ReplicaSet sizes.

One difference from Kubernetes, on purpose: where the rolling update reads a
ReplicaSet's ``availableReplicas``, it never counts more than the ReplicaSet's
``replicas``. A ReplicaSet controller computes its status from the pods it listed
before deleting the surplus, so for a few milliseconds after a scale-down the status
still counts pods that are going away; Kubernetes has that race, this model closes
it so that ``available >= replicas - maxUnavailable`` holds at every instant.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import simpy

from sim.kube.apiserver import ApiServer
from sim.kube.controllers.replicaset import (
    ReplicaSet,
    ReplicaSetController,
    WorkQueue,
    pod_template_hash,
    replica_set_template,
)
from sim.kube.log import SimLogger
from sim.kube.status import PodPhase
from sim.kube.streams import Streams
from sim.scenario.spec import Deployment, DeploymentStrategyType, Pod
from sim.trace import EventRecord, Reason, Recorder

# deployment/util: condition types and reasons.
PROGRESSING = "Progressing"
AVAILABLE = "Available"
NEW_RS_REASON = "NewReplicaSetCreated"
FOUND_NEW_RS_REASON = "FoundNewReplicaSet"
RS_UPDATED_REASON = "ReplicaSetUpdated"
NEW_RS_AVAILABLE_REASON = "NewReplicaSetAvailable"
TIMED_OUT_REASON = "ProgressDeadlineExceeded"
MIN_AVAILABLE_REASON = "MinimumReplicasAvailable"
MIN_UNAVAILABLE_REASON = "MinimumReplicasUnavailable"
# progress.go requeueStuckDeployment: a second added to avoid clock skew.
STUCK_REQUEUE_SKEW_SECONDS = 1.0
# A progressDeadlineSeconds of MaxInt32 means no deadline (HasProgressDeadline).
NO_PROGRESS_DEADLINE = 2**31 - 1


def scaled_value(value: int | str, total: int, round_up: bool) -> int:
    """intstr.GetScaledValueFromIntOrPercent: an int, or a percentage of ``total``.

    Parameters
    ----------
    value
        An int, or a string such as ``"25%"``.
    total
        What the percentage is of (the Deployment's replicas).
    round_up
        Round a fractional result up (``maxSurge``) or down (``maxUnavailable``).
    """
    if isinstance(value, int):
        return value
    text = value.strip()
    if not text.endswith("%"):
        raise ValueError(
            f"invalid value for IntOrString: {value!r} is not a percentage"
        )
    product = int(text[:-1]) * total
    return -(-product // 100) if round_up else product // 100


def resolve_fenceposts(
    max_surge: int | str, max_unavailable: int | str, desired: int
) -> tuple[int, int]:
    """deployment/util ``ResolveFenceposts``: (surge, unavailable) as pod counts.

    Surge rounds up and unavailable rounds down; when both come out 0 the rollout
    could never move, so unavailable becomes 1.
    """
    surge = scaled_value(max_surge, desired, round_up=True)
    unavailable = scaled_value(max_unavailable, desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Deployment) -> int:
    """deployment/util ``MaxSurge``: 0 unless the strategy is RollingUpdate."""
    if d.strategy is not DeploymentStrategyType.ROLLING_UPDATE:
        return 0
    return resolve_fenceposts(d.max_surge, d.max_unavailable, d.replicas)[0]


def max_unavailable(d: Deployment) -> int:
    """deployment/util ``MaxUnavailable``: at most ``replicas``; 0 when not rolling."""
    if d.strategy is not DeploymentStrategyType.ROLLING_UPDATE or d.replicas == 0:
        return 0
    unavailable = resolve_fenceposts(d.max_surge, d.max_unavailable, d.replicas)[1]
    return min(unavailable, d.replicas)


def new_rs_new_replicas(
    d: Deployment, all_rss: list[ReplicaSet], new: ReplicaSet
) -> int:
    """deployment/util ``NewRSNewReplicas``: the size the new ReplicaSet may grow to.

    RollingUpdate: up to ``replicas + maxSurge`` pods in all ReplicaSets (their
    ``replicas``, not the pods that exist), never more than ``replicas`` in the
    new one. Recreate: ``replicas`` at once.
    """
    if d.strategy is not DeploymentStrategyType.ROLLING_UPDATE:
        return d.replicas
    current = sum(rs.replicas for rs in all_rss)
    max_total = d.replicas + max_surge(d)
    if current >= max_total:
        return new.replicas
    scale_up = min(max_total - current, d.replicas - new.replicas)
    return new.replicas + scale_up


def _available(rs: ReplicaSet) -> int:
    # The module docstring: available replicas never above the ReplicaSet's size.
    return min(rs.available_replicas, rs.replicas)


def _active(rss: list[ReplicaSet]) -> list[ReplicaSet]:
    # controller.FilterActiveReplicaSets: those with replicas > 0.
    return [rs for rs in rss if rs.replicas > 0]


def _newest_first(rss: list[ReplicaSet]) -> list[ReplicaSet]:
    return sorted(rss, key=lambda rs: rs.sort_key, reverse=True)


@dataclass(frozen=True)
class Condition:
    """A Deployment condition (``Progressing`` or ``Available``)."""

    type: str
    status: bool
    reason: str
    message: str
    last_update: float
    last_transition: float


@dataclass
class DeploymentStatus:
    """``status`` of a Deployment as deployment_controller.go calculateStatus has it."""

    replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    unavailable_replicas: int = 0
    conditions: dict[str, Condition] = field(default_factory=dict)

    def copy(self) -> DeploymentStatus:
        """A copy whose conditions can be changed independently."""
        return dataclasses.replace(self, conditions=dict(self.conditions))

    def set_condition(self, condition: Condition) -> None:
        """deployment/util ``SetDeploymentCondition``.

        The same status and reason: nothing changes (not even the update time);
        the same status: the transition time is kept.
        """
        current = self.conditions.get(condition.type)
        if (
            current is not None
            and current.status == condition.status
            and current.reason == condition.reason
        ):
            return
        if current is not None and current.status == condition.status:
            condition = dataclasses.replace(
                condition, last_transition=current.last_transition
            )
        self.conditions[condition.type] = condition


class DeploymentController:
    """Rolls Deployments out through ReplicaSets and keeps them at their size.

    Parameters
    ----------
    env
        The simulation clock.
    apiserver
        Where the ReplicaSet controller creates and deletes pods.
    streams
        The run's random streams (``controller/deployment`` for latencies).
    recorder
        Where ``ScalingReplicaSet`` and ``ProgressDeadlineExceeded`` go.
    deployments
        The Deployments of the scenario, created by ``start``.
    """

    def __init__(
        self,
        env: simpy.Environment,
        apiserver: ApiServer,
        streams: Streams,
        recorder: Recorder,
        deployments: tuple[Deployment, ...] = (),
    ) -> None:
        self.env = env
        self.recorder = recorder
        self.log = SimLogger(env, "controllers.deployment")
        self.deployments: dict[str, Deployment] = {}
        self._initial = deployments
        self.status: dict[str, DeploymentStatus] = {}
        self.queue = WorkQueue(env, streams.stream("controller/deployment"), self.sync)
        self.replicasets = ReplicaSetController(
            env, apiserver, streams, recorder, self.queue.add
        )

    # The API: create, scale and roll out.

    def start(self) -> None:
        """Create the scenario's Deployments (at t = 0)."""
        for d in self._initial:
            self.create(d)

    def create(self, d: Deployment) -> None:
        """Store a new Deployment; the controller makes its first ReplicaSet."""
        self.deployments[d.name] = d
        self.status[d.name] = DeploymentStatus()
        self.queue.add(d.name)

    def scale(self, name: str, replicas: int) -> None:
        """``kubectl scale``: change ``spec.replicas``."""
        d = self.deployments.get(name)
        if d is None:
            self.log.trace("scale-unknown", deployment=name)
            return
        self.deployments[name] = dataclasses.replace(d, replicas=replicas)
        self.queue.add(name)

    def rollout(
        self,
        name: str,
        template: Pod | None,
        min_ready_seconds: int | None = None,
    ) -> None:
        """Change ``spec.template`` and ``minReadySeconds`` (None: unchanged).

        A new template makes a new ReplicaSet, which takes over as the strategy
        allows.
        """
        d = self.deployments.get(name)
        if d is None:
            self.log.trace("rollout-unknown", deployment=name)
            return
        if template is not None:
            d = dataclasses.replace(d, template=template)
        if min_ready_seconds is not None:
            d = dataclasses.replace(d, min_ready_seconds=min_ready_seconds)
        self.deployments[name] = d
        self.queue.add(name)

    # syncDeployment.

    def sync(self, name: str) -> None:
        """deployment_controller.go ``syncDeployment``."""
        d = self.deployments[name]
        if self._is_scaling_event(d):
            self._sync(d)
        elif d.strategy is DeploymentStrategyType.RECREATE:
            self._rollout_recreate(d)
        else:
            self._rollout_rolling(d)

    def _get_all(
        self, d: Deployment, create: bool
    ) -> tuple[ReplicaSet | None, list[ReplicaSet]]:
        """sync.go ``getAllReplicaSetsAndSyncRevision``: (new, old ones)."""
        template_hash = pod_template_hash(d.template)
        owned = self.replicasets.owned_by(d.name)
        olds = [rs for rs in owned if rs.template_hash != template_hash]
        new = self._get_new(d, template_hash, olds, create)
        return new, olds

    def _get_new(
        self,
        d: Deployment,
        template_hash: str,
        olds: list[ReplicaSet],
        create: bool,
    ) -> ReplicaSet | None:
        """sync.go ``getNewReplicaSet``: the ReplicaSet of the current template."""
        status = self.status[d.name]
        now = self.env.now
        new_revision = max((rs.revision for rs in olds), default=0) + 1
        name = f"{d.name}-{template_hash}"
        existing = self.replicasets.sets.get(name)
        if existing is not None:
            # SetNewReplicaSetAnnotations: a rollback takes a new revision.
            existing.revision = max(existing.revision, new_revision)
            if existing.min_ready_seconds != d.min_ready_seconds:
                existing.min_ready_seconds = d.min_ready_seconds
                self.replicasets.queue.add(name)
            if self._has_deadline(d) and PROGRESSING not in status.conditions:
                message = f'Found new replica set "{name}"'
                status.set_condition(
                    Condition(PROGRESSING, True, FOUND_NEW_RS_REASON, message, now, now)
                )
            return existing
        if not create:
            return None

        rs = ReplicaSet(
            name=name,
            deployment=d.name,
            template_hash=template_hash,
            template=replica_set_template(d.template, name, template_hash),
            created_at=now,
            min_ready_seconds=d.min_ready_seconds,
            revision=new_revision,
        )
        rs.replicas = new_rs_new_replicas(d, [*olds, rs], rs)
        rs.desired_replicas = d.replicas
        rs.max_replicas = d.replicas + max_surge(d)
        self.replicasets.add(rs)
        self.queue.add(d.name)  # addReplicaSet: the owner is synced again
        if rs.replicas > 0:
            self._event(
                d, Reason.SCALING_REPLICA_SET,
                f"Scaled up replica set {name} from 0 to {rs.replicas}",
            )  # fmt: skip
        if self._has_deadline(d):
            message = f'Created new replica set "{name}"'
            status.set_condition(
                Condition(PROGRESSING, True, NEW_RS_REASON, message, now, now)
            )
        return rs

    def _scale_rs(
        self, rs: ReplicaSet, size: int, d: Deployment, operation: str = ""
    ) -> bool:
        """sync.go ``scaleReplicaSetAndRecordEvent``; True when the size changed."""
        if rs.replicas == size:
            return False
        operation = operation or ("up" if size > rs.replicas else "down")
        self._set_size(rs, size, d, operation)
        return True

    def _set_size(self, rs: ReplicaSet, size: int, d: Deployment, operation: str):
        """sync.go ``scaleReplicaSet``: new size and replica annotations."""
        old = rs.replicas
        rs.replicas = size
        rs.desired_replicas = d.replicas
        rs.max_replicas = d.replicas + max_surge(d)
        if old == size:
            return
        self._event(
            d, Reason.SCALING_REPLICA_SET,
            f"Scaled {operation} replica set {rs.name} from {old} to {size}",
        )  # fmt: skip
        self.log.trace("scale", replicaset=rs.name, old=old, new=size)
        # The ReplicaSet's update reaches its controller and, as an owned
        # object's update, the Deployment controller again.
        self.replicasets.queue.add(rs.name)
        self.queue.add(d.name)

    # rolling.go.

    def _rollout_rolling(self, d: Deployment) -> None:
        """rolling.go ``rolloutRolling``: scale up the new, then scale down the old."""
        new, olds = self._get_all(d, create=True)
        assert new is not None
        all_rss = [*olds, new]
        if self._reconcile_new(all_rss, new, d):
            self._sync_rollout_status(all_rss, new, d)
            return
        self._reconcile_old(all_rss, _active(olds), new, d)
        self._sync_rollout_status(all_rss, new, d)

    def _reconcile_new(
        self, all_rss: list[ReplicaSet], new: ReplicaSet, d: Deployment
    ) -> bool:
        """rolling.go ``reconcileNewReplicaSet``."""
        if new.replicas == d.replicas:
            return False
        if new.replicas > d.replicas:
            return self._scale_rs(new, d.replicas, d)
        return self._scale_rs(new, new_rs_new_replicas(d, all_rss, new), d)

    def _reconcile_old(
        self,
        all_rss: list[ReplicaSet],
        olds: list[ReplicaSet],
        new: ReplicaSet,
        d: Deployment,
    ) -> bool:
        """rolling.go ``reconcileOldReplicaSets``: scale down within maxUnavailable."""
        if sum(rs.replicas for rs in olds) == 0:
            return False
        all_pods = sum(rs.replicas for rs in all_rss)
        min_available = d.replicas - max_unavailable(d)
        new_unavailable = new.replicas - _available(new)
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return False
        # Unhealthy replicas go first: they cost no availability.
        cleaned = self._cleanup_unhealthy(olds, d, max_scaled_down)
        scaled = self._scale_down_old(all_rss, olds, d)
        return cleaned + scaled > 0

    def _cleanup_unhealthy(
        self, olds: list[ReplicaSet], d: Deployment, max_cleanup: int
    ) -> int:
        """rolling.go ``cleanupUnhealthyReplicas``: drop unavailable old replicas."""
        total = 0
        for rs in sorted(olds, key=lambda rs: rs.sort_key):
            if total >= max_cleanup:
                break
            if rs.replicas == 0 or rs.replicas == _available(rs):
                continue
            count = min(max_cleanup - total, rs.replicas - _available(rs))
            self._scale_rs(rs, rs.replicas - count, d)
            total += count
        return total

    def _scale_down_old(
        self, all_rss: list[ReplicaSet], olds: list[ReplicaSet], d: Deployment
    ) -> int:
        """rolling.go ``scaleDownOldReplicaSetsForRollingUpdate``."""
        min_available = d.replicas - max_unavailable(d)
        available = sum(_available(rs) for rs in all_rss)
        if available <= min_available:
            return 0
        to_scale_down = available - min_available
        total = 0
        for rs in sorted(olds, key=lambda rs: rs.sort_key):
            if total >= to_scale_down:
                break
            if rs.replicas == 0:
                continue
            count = min(rs.replicas, to_scale_down - total)
            self._scale_rs(rs, rs.replicas - count, d)
            total += count
        return total

    # recreate.go.

    def _rollout_recreate(self, d: Deployment) -> None:
        """recreate.go ``rolloutRecreate``: old to zero, wait, then the new."""
        new, olds = self._get_all(d, create=False)
        all_rss = [*olds, new] if new is not None else list(olds)
        scaled_down = False
        for rs in _active(olds):
            scaled_down |= self._scale_rs(rs, 0, d)
        if scaled_down:
            self._sync_rollout_status(all_rss, new, d)
            return
        if self._old_pods_running(new, olds):
            self._sync_rollout_status(all_rss, new, d)
            return
        if new is None:
            new, olds = self._get_all(d, create=True)
            assert new is not None
            all_rss = [*olds, new]
        # scaleUpNewReplicaSetForRecreate.
        self._scale_rs(new, d.replicas, d)
        self._sync_rollout_status(all_rss, new, d)

    def _old_pods_running(self, new: ReplicaSet | None, olds: list[ReplicaSet]) -> bool:
        """recreate.go ``oldPodsRunning``: an old pod that is not terminal exists."""
        if sum(rs.status_replicas for rs in olds) > 0:
            return True
        for rs in olds:
            for obj in self.replicasets.pods_of(rs):
                phase = obj.status.phase if obj.status is not None else None
                if phase not in (PodPhase.SUCCEEDED, PodPhase.FAILED):
                    return True
        return False

    # sync.go: scaling.

    def _is_scaling_event(self, d: Deployment) -> bool:
        """sync.go ``isScalingEvent``: an active ReplicaSet sized for other replicas."""
        new, olds = self._get_all(d, create=False)
        rss = [*olds, new] if new is not None else olds
        return any(
            rs.desired_replicas is not None and rs.desired_replicas != d.replicas
            for rs in _active(rss)
        )

    def _sync(self, d: Deployment) -> None:
        """sync.go ``sync``: scale, then write the status (no progress check)."""
        new, olds = self._get_all(d, create=False)
        self._scale(d, new, olds)
        all_rss = [*olds, new] if new is not None else list(olds)
        status = self._calculate_status(all_rss, new, d)
        if status != self.status[d.name]:
            self._write_status(d, status)

    def _write_status(self, d: Deployment, status: DeploymentStatus) -> None:
        """UpdateStatus: the Deployment's update event brings it back to the queue."""
        self.status[d.name] = status
        self.queue.add(d.name)

    def _scale(
        self, d: Deployment, new: ReplicaSet | None, olds: list[ReplicaSet]
    ) -> None:
        """sync.go ``scale``: one active ReplicaSet takes the change; else share it."""
        only = self._find_active_or_latest(new, olds)
        if only is not None:
            self._scale_rs(only, d.replicas, d)
            return
        if self._is_saturated(d, new):
            for rs in _active(olds):
                self._scale_rs(rs, 0, d)
            return
        if d.strategy is not DeploymentStrategyType.ROLLING_UPDATE:
            return
        self._scale_proportionally(d, _active([*olds, *([new] if new else [])]))

    def _scale_proportionally(self, d: Deployment, rss: list[ReplicaSet]) -> None:
        """sync.go ``scale`` during a rollout: share the change by ReplicaSet size."""
        current = sum(rs.replicas for rs in rss)
        allowed = d.replicas + max_surge(d) if d.replicas > 0 else 0
        to_add = allowed - current
        # ReplicaSetsBySizeNewer when adding (ties: newer first), BySizeOlder when
        # removing (ties: older first).
        by_age = sorted(rss, key=lambda rs: rs.sort_key, reverse=to_add > 0)
        ordered = sorted(by_age, key=lambda rs: -rs.replicas)
        added = 0
        sizes: dict[str, int] = {}
        for rs in ordered:
            proportion = self._proportion(rs, d, to_add, added) if to_add else 0
            sizes[rs.name] = rs.replicas + proportion
            added += proportion
        if to_add and ordered:
            first = ordered[0].name
            sizes[first] = max(sizes[first] + to_add - added, 0)
        operation = "up" if to_add > 0 else "down"
        for rs in ordered:
            self._set_size(rs, sizes[rs.name], d, operation)

    def _proportion(
        self, rs: ReplicaSet, d: Deployment, to_add: int, added: int
    ) -> int:
        """deployment/util ``GetProportion`` and ``getReplicaSetFraction``."""
        if rs.replicas == 0 or to_add == added:
            return 0
        if d.replicas == 0:
            fraction = -rs.replicas
        else:
            target = d.replicas + max_surge(d)
            annotated = rs.max_replicas or self.status[d.name].replicas
            if annotated == 0:
                return 0
            # integer.RoundToInt32 rounds halves away from zero.
            size = math.floor(rs.replicas * target / annotated + 0.5)
            fraction = size - rs.replicas
        allowed = to_add - added
        return min(fraction, allowed) if to_add > 0 else max(fraction, allowed)

    @staticmethod
    def _find_active_or_latest(
        new: ReplicaSet | None, olds: list[ReplicaSet]
    ) -> ReplicaSet | None:
        """deployment/util ``FindActiveOrLatest``: the one active, or the newest."""
        if new is None and not olds:
            return None
        newest_olds = _newest_first(olds)
        active = _active([*newest_olds, *([new] if new else [])])
        if not active:
            return new if new is not None else newest_olds[0]
        return active[0] if len(active) == 1 else None

    @staticmethod
    def _is_saturated(d: Deployment, rs: ReplicaSet | None) -> bool:
        """deployment/util ``IsSaturated``: the new ReplicaSet has it all."""
        if rs is None or rs.desired_replicas is None:
            return False
        return (
            rs.replicas == d.replicas
            and rs.desired_replicas == d.replicas
            and rs.available_replicas == d.replicas
        )

    # progress.go: status and the Progressing condition.

    @staticmethod
    def _has_deadline(d: Deployment) -> bool:
        return d.progress_deadline_seconds != NO_PROGRESS_DEADLINE

    def _calculate_status(
        self, all_rss: list[ReplicaSet], new: ReplicaSet | None, d: Deployment
    ) -> DeploymentStatus:
        """sync.go ``calculateStatus``: counts from the ReplicaSets' status."""
        available = sum(rs.available_replicas for rs in all_rss)
        total = sum(rs.replicas for rs in all_rss)
        status = self.status[d.name].copy()
        status.replicas = sum(rs.status_replicas for rs in all_rss)
        status.updated_replicas = new.status_replicas if new is not None else 0
        status.ready_replicas = sum(rs.ready_replicas for rs in all_rss)
        status.available_replicas = available
        status.unavailable_replicas = max(total - available, 0)
        now = self.env.now
        if available >= d.replicas - max_unavailable(d):
            condition = Condition(
                AVAILABLE, True, MIN_AVAILABLE_REASON,
                "Deployment has minimum availability.", now, now,
            )  # fmt: skip
        else:
            condition = Condition(
                AVAILABLE, False, MIN_UNAVAILABLE_REASON,
                "Deployment does not have minimum availability.", now, now,
            )  # fmt: skip
        status.set_condition(condition)
        return status

    @staticmethod
    def _complete(d: Deployment, status: DeploymentStatus) -> bool:
        """deployment/util ``DeploymentComplete``."""
        return (
            status.updated_replicas == d.replicas
            and status.replicas == d.replicas
            and status.available_replicas == d.replicas
        )

    @staticmethod
    def _progressing(old: DeploymentStatus, new: DeploymentStatus) -> bool:
        """deployment/util ``DeploymentProgressing``: any count moved forward."""
        old_old = old.replicas - old.updated_replicas
        new_old = new.replicas - new.updated_replicas
        return (
            new.updated_replicas > old.updated_replicas
            or new_old < old_old
            or new.ready_replicas > old.ready_replicas
            or new.available_replicas > old.available_replicas
        )

    def _timed_out(self, d: Deployment, status: DeploymentStatus) -> bool:
        """deployment/util ``DeploymentTimedOut``."""
        condition = status.conditions.get(PROGRESSING)
        if not self._has_deadline(d) or condition is None:
            return False
        if condition.reason == NEW_RS_AVAILABLE_REASON:
            return False
        if condition.reason == TIMED_OUT_REASON:
            return True
        return condition.last_update + d.progress_deadline_seconds < self.env.now

    def _sync_rollout_status(
        self, all_rss: list[ReplicaSet], new: ReplicaSet | None, d: Deployment
    ) -> None:
        """progress.go ``syncRolloutStatus``: the status and the Progressing check."""
        old = self.status[d.name]
        status = self._calculate_status(all_rss, new, d)
        now = self.env.now
        if not self._has_deadline(d):
            status.conditions.pop(PROGRESSING, None)
        current = old.conditions.get(PROGRESSING)
        complete_before = (
            status.replicas == status.updated_replicas
            and current is not None
            and current.reason == NEW_RS_AVAILABLE_REASON
        )
        subject = f'ReplicaSet "{new.name}"' if new is not None else "Deployment"
        if self._has_deadline(d) and not complete_before:
            if self._complete(d, status):
                status.set_condition(
                    Condition(
                        PROGRESSING, True, NEW_RS_AVAILABLE_REASON,
                        f"{subject} has successfully progressed.", now, now,
                    )
                )  # fmt: skip
            elif self._progressing(old, status):
                transition = now
                if current is not None and current.status:
                    transition = current.last_transition
                status.conditions.pop(PROGRESSING, None)
                status.set_condition(
                    Condition(
                        PROGRESSING, True, RS_UPDATED_REASON,
                        f"{subject} is progressing.", now, transition,
                    )
                )  # fmt: skip
            elif self._timed_out(d, status):
                status.set_condition(
                    Condition(
                        PROGRESSING, False, TIMED_OUT_REASON,
                        f"{subject} has timed out progressing.", now, now,
                    )
                )  # fmt: skip

        if status == old:
            self._requeue_stuck(d, status)
            return
        self._write_status(d, status)
        after = status.conditions.get(PROGRESSING)
        if after is not None and after != current:
            self.log.trace(
                "condition", deployment=d.name, type=PROGRESSING, reason=after.reason
            )
            if after.reason == TIMED_OUT_REASON:
                self._event(d, Reason.PROGRESS_DEADLINE_EXCEEDED, after.message)

    def _requeue_stuck(self, d: Deployment, status: DeploymentStatus) -> None:
        """progress.go ``requeueStuckDeployment``: look again at the deadline.

        Kubernetes re-adds the Deployment a second after its deadline; within the
        last second it re-adds it rate-limited (5 ms later, again and again), which
        here is one add just after the deadline.
        """
        current = self.status[d.name].conditions.get(PROGRESSING)
        if not self._has_deadline(d) or current is None:
            return
        if self._complete(d, status) or current.reason == TIMED_OUT_REASON:
            return
        after = current.last_update + d.progress_deadline_seconds - self.env.now
        if after < STUCK_REQUEUE_SKEW_SECONDS:
            self.queue.add_after(d.name, max(after, 0.0) + 0.005)
            return
        self.queue.add_after(d.name, after + STUCK_REQUEUE_SKEW_SECONDS)

    def _event(self, d: Deployment, reason: Reason, message: str) -> None:
        self.log.trace(reason.value, deployment=d.name, message=message)
        self.recorder.record(
            EventRecord(self.env.now, d.name, "", reason, message=message)
        )
