"""The API server's object store for pods: create, update, delete, conditions.

Watchers (the kubelet, later the EndpointSlice controller) register callbacks and hear
of every change at once; watch latency is not modelled (it is milliseconds).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import simpy

from sim.kube.admission import (
    DEFAULT_ACCOUNT,
    Rejection,
    admit,
    default_account,
    populate_tokens,
    update_refused,
)
from sim.scenario.spec import Pod, Secret, ServiceAccount
from sim.trace import EventRecord, Reason, Recorder

if TYPE_CHECKING:
    from sim.kube.status import PodStatus

NODE_NAME = "node-1"


@dataclass(eq=False)
class PodObject:
    """A stored pod: its current spec, deletion state, conditions and status."""

    pod: Pod
    uid: str
    ip: str
    created_at: float
    rng: np.random.Generator
    deletion_timestamp: float | None = None
    deletion_grace_seconds: int | None = None
    gate_conditions: dict[str, bool] = field(default_factory=dict)
    status: PodStatus | None = None
    deleted: bool = False
    owner: str = ""
    planned_ip: str = ""

    @property
    def name(self) -> str:
        """The pod's name."""
        return self.pod.name

    @property
    def full_name(self) -> str:
        """``name_namespace(uid)``, as the kubelet names pods in messages."""
        return f"{self.pod.name}_{self.pod.metadata.namespace}({self.uid})"


Watcher = Callable[[PodObject], None]


class ApiServer:
    """Pods, service accounts and secrets by name, and the watchers of pods."""

    def __init__(
        self,
        env: simpy.Environment,
        recorder: Recorder,
        service_accounts: tuple[ServiceAccount, ...] = (),
        secrets: tuple[Secret, ...] = (),
    ) -> None:
        self.env = env
        self.recorder = recorder
        self.pods: dict[str, PodObject] = {}
        self._watchers: list[Watcher] = []
        self._status_watchers: list[Watcher] = []

        # Every namespace has its default account; manifests may replace it.
        self.service_accounts: dict[str, ServiceAccount] = {
            DEFAULT_ACCOUNT: default_account("default")
        }
        self.service_accounts.update({a.name: a for a in service_accounts})

        # The token controller fills account token secrets and removes orphans.
        self.secrets, self.removed_secrets = populate_tokens(
            {secret.name: secret for secret in secrets}, self.service_accounts
        )

    def watch(self, watcher: Watcher) -> None:
        """Register a callback for every pod change."""
        self._watchers.append(watcher)

    def watch_status(self, watcher: Watcher) -> None:
        """Register a callback for every change of a pod's status (or existence)."""
        self._status_watchers.append(watcher)

    def _notify(self, obj: PodObject) -> None:
        for watcher in self._watchers:
            watcher(obj)
        for watcher in self._status_watchers:
            watcher(obj)

    def status_changed(self, obj: PodObject) -> None:
        """The kubelet's status manager pushed a new status for the pod."""
        for watcher in self._status_watchers:
            watcher(obj)

    def _event(self, obj: PodObject, reason: Reason, message: str) -> None:
        self.recorder.record(
            EventRecord(self.env.now, obj.name, "", reason, message=message)
        )

    def create_pod(
        self, pod: Pod, rng: np.random.Generator, owner: str = ""
    ) -> PodObject | None:
        """Admit and store a new pod, schedule it and tell the watchers.

        Returns None when admission refuses the pod (R10.2, R10.5): the pod is
        never stored, and a ``Rejected`` event records the API server's answer.
        """
        admitted = admit(pod, self.service_accounts)
        if isinstance(admitted, Rejection):
            self.recorder.record(
                EventRecord(
                    self.env.now, pod.name, "", Reason.REJECTED,
                    message=f"Error from server (Forbidden): {admitted.message}",
                )
            )  # fmt: skip
            return None
        pod = admitted
        uid = pod.metadata.uid or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"{pod.metadata.namespace}/{pod.name}")
        )
        # The pod's IP exists once the kubelet has made its sandbox.
        ip = f"10.244.{len(self.pods) // 250}.{len(self.pods) % 250 + 4}"
        obj = PodObject(pod, uid, "", self.env.now, rng, owner=owner, planned_ip=ip)
        self.pods[pod.name] = obj
        self._event(
            obj,
            Reason.SCHEDULED,
            f"Successfully assigned {pod.metadata.namespace}/{pod.name} to {NODE_NAME}",
        )
        self._notify(obj)
        return obj

    def delete_pod(self, name: str, grace_period_seconds: int | None) -> None:
        """Mark a pod for deletion (deletionTimestamp and grace period)."""
        obj = self.pods.get(name)
        if obj is None or obj.deleted or obj.deletion_timestamp is not None:
            return
        obj.deletion_timestamp = self.env.now
        obj.deletion_grace_seconds = (
            grace_period_seconds
            if grace_period_seconds is not None
            else obj.pod.termination_grace_period_seconds
        )
        self._notify(obj)

    def finish_deletion(self, obj: PodObject) -> None:
        """Remove a pod whose containers have all stopped."""
        if obj.deleted:
            return
        obj.deleted = True
        self._event(obj, Reason.DELETED, f"pod {obj.name} deleted")
        self._notify(obj)

    def set_condition(self, name: str, condition_type: str, status: bool) -> None:
        """Write a pod condition through the status subresource (readiness gates)."""
        obj = self.pods.get(name)
        if obj is None or obj.deleted:  # not created yet (or refused), or gone
            return
        obj.gate_conditions[condition_type] = status
        self._event(
            obj,
            Reason.CONDITION_SET,
            f"condition {condition_type}={'True' if status else 'False'}",
        )
        self._notify(obj)

    def set_service_account(self, name: str, account: str) -> None:
        """Try to change a pod's service account: always refused (immutable)."""
        obj = self.pods.get(name)
        if obj is None or obj.deleted:
            return
        refused = update_refused(obj.pod, account)
        if refused is not None:
            self._event(obj, Reason.REJECTED, refused.message)

    def set_image(self, name: str, container: str, image: str) -> None:
        """Change one container's image in the pod spec."""
        obj = self.pods.get(name)
        if obj is None or obj.deleted:  # not created yet (or refused), or gone
            return
        containers = tuple(
            dataclasses.replace(c, image=image) if c.name == container else c
            for c in obj.pod.containers
        )
        obj.pod = dataclasses.replace(obj.pod, containers=containers)
        self._notify(obj)
