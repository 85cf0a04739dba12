"""A one-node cluster: API server, kubelet and the scenario's actions on one clock."""

from __future__ import annotations

from collections.abc import Generator

import simpy

from sim.kube.apiserver import ApiServer, PodObject
from sim.kube.controllers.deployment import DeploymentController
from sim.kube.controllers.endpointslice import EndpointSliceController
from sim.kube.kubelet import Kubelet
from sim.kube.proxy import KubeProxy
from sim.kube.runtime import ContainerInstance, ContainerState
from sim.kube.streams import Streams
from sim.kube.traffic import TrafficGenerator
from sim.kube.versions import resolve
from sim.scenario.document import Action, ActionKind, FaultKind, Scenario
from sim.trace import EventRecord, Reason, Recorder


class Cluster:
    """Everything one run of a scenario needs, wired together."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int,
        recorder: Recorder,
        fast_path: bool | None = None,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.recorder = recorder
        self.env = simpy.Environment()
        self.streams = Streams(seed)
        self.features = resolve(scenario.cluster)
        self.apiserver = ApiServer(
            self.env, recorder, scenario.service_accounts, scenario.secrets
        )
        self.create_attempted: set[str] = set()
        self.kubelet = Kubelet(
            self.env,
            scenario,
            self.features,
            self.apiserver,
            self.streams,
            recorder,
            fast_path,
        )
        self.deployments = DeploymentController(
            self.env, self.apiserver, self.streams, recorder, scenario.deployments
        )

        # Services: the EndpointSlice controller feeds kube-proxy, which routes
        # the scenario's traffic.
        self.proxy = KubeProxy(
            self.env,
            scenario.endpoints,
            self.streams.stream("kube-proxy"),
            recorder,
            apply_rng=self.streams.stream("kube-proxy/apply"),
            fast_path=self.kubelet.fast_path,
        )
        self.endpoints = EndpointSliceController(
            self.env,
            self.apiserver,
            scenario.services,
            scenario.endpoints,
            self.streams.stream("endpointslice"),
            recorder,
            self.proxy.slice_changed,
        )
        services = {s.name: s for s in scenario.services}
        # Requests are settled in batches unless answers depend on the load, which
        # each request changes for the next one (and for probes).
        batched = all(b.load is None for b in scenario.behaviours)
        self.traffic = [
            TrafficGenerator(
                self.env,
                spec,
                services[spec.service],
                self.apiserver,
                self.kubelet.runtime,
                self.kubelet.applications,
                self.proxy,
                self.streams.stream(f"traffic/{spec.service}/{index}"),
                recorder,
                batched,
            )
            for index, spec in enumerate(scenario.traffic)
        ]
        # A container's start or exit, or a fault, matters only to the traffic of
        # Services that select its pod: not asked of every generator at every
        # change (10,000 pods behind 100 Services).
        self._traffic_for_labels: dict[
            tuple[tuple[str, str], ...], list[TrafficGenerator]
        ] = {}
        if self.traffic:
            self.kubelet.runtime.before_change.append(self._before_instance_change)
            self.kubelet.runtime.exit_listeners.append(self._on_exit)

    def run(self) -> None:
        """Create the pods at t = 0, play the actions, run to the scenario's end."""
        created_later = {
            a.pod for a in self.scenario.actions if a.kind is ActionKind.CREATE
        }
        for pod in self.scenario.pods:
            if pod.name not in created_later:
                self._create(pod.name)
        self.deployments.start()
        for action in self.scenario.actions:
            self.env.process(self._play(action))
        self.env.run(until=self.scenario.duration_seconds)
        for generator in self.traffic:
            generator.flush()

    def _traffic_of(self, pod_name: str, pod_uid: str) -> list[TrafficGenerator]:
        """The generators whose Service selects the pod, in their order.

        A pod no longer in the API server under its name (deleted, or its name
        taken by a new pod) is offered to every generator, as requests may still
        be routed to the name.
        """
        obj = self.apiserver.pods.get(pod_name)
        if obj is None or obj.uid != pod_uid:
            return self.traffic
        labels = obj.pod.metadata.labels
        found = self._traffic_for_labels.get(labels)
        if found is None:
            services = set(self.endpoints.selecting(labels))
            found = [g for g in self.traffic if g.service.name in services]
            self._traffic_for_labels[labels] = found
        return found

    def _before_instance_change(self, instance: ContainerInstance) -> None:
        for generator in self._traffic_of(instance.pod_name, instance.pod_uid):
            generator.before_instance_change(instance)

    def _on_exit(self, instance: ContainerInstance) -> None:
        for generator in self._traffic_of(instance.pod_name, instance.pod_uid):
            generator.on_exit(instance)

    def _create(self, name: str) -> None:
        self.create_attempted.add(name)
        pod = self.scenario.pod(name)
        self.apiserver.create_pod(pod, self.streams.for_pod(name))

    def _oldest_pod_of(self, deployment: str) -> PodObject | None:
        """The oldest live pod a Deployment made (a fault may name the Deployment)."""
        live = [
            obj
            for obj in self.apiserver.pods.values()
            if obj.owner == deployment
            and not obj.deleted
            and obj.deletion_timestamp is None
        ]
        return min(live, key=lambda obj: obj.created_at, default=None)

    def _play(self, action: Action) -> Generator[simpy.Event, object, None]:
        yield self.env.timeout(action.at_seconds)
        api = self.apiserver
        if action.kind is ActionKind.DELETE:
            api.delete_pod(action.pod, action.grace_period_seconds)
            return

        if action.kind is ActionKind.SET_CONDITION:
            api.set_condition(
                action.pod, action.condition_type, action.condition_status
            )
            return

        if action.kind is ActionKind.SET_IMAGE:
            api.set_image(action.pod, action.container, action.image)
            return

        if action.kind is ActionKind.CREATE:
            self._create(action.pod)
            return

        if action.kind is ActionKind.SET_SERVICE_ACCOUNT:
            api.set_service_account(action.pod, action.service_account)
            return

        if action.kind is ActionKind.SCALE:
            self.deployments.scale(action.deployment, action.replicas)
            return

        if action.kind is ActionKind.ROLLOUT:
            self.deployments.rollout(
                action.deployment, action.template, action.min_ready_seconds
            )
            return

        fault = action.fault
        assert fault is not None
        obj = api.pods.get(action.pod) or self._oldest_pod_of(action.pod)
        if obj is None or obj.deleted:
            return
        instance = self.kubelet.runtime.running(obj.uid, fault.container)
        instance_id = instance.id if instance is not None else ""
        self.recorder.record(
            EventRecord(
                self.env.now,
                obj.name,
                fault.container,
                Reason.FAULT,
                # R5.6: the newest instance's count, also between instances.
                restart_count=self.kubelet.runtime.restart_count(
                    obj.uid, fault.container
                ),
                message=f"fault {fault.kind.value}",
            )
        )
        if fault.kind is FaultKind.CRASH:
            if instance is not None and instance.state is ContainerState.RUNNING:
                self.kubelet.runtime.exit(instance, fault.exit_code)
            return
        application = self.kubelet.applications[(obj.uid, fault.container)]
        # Requests before the fault are answered as before it (only those routed
        # to this pod can be answered differently).
        for generator in self._traffic_of(obj.name, obj.uid):
            generator.settle_if_routed(obj.name)
        application.apply_fault(fault, self.env.now, instance_id)
        self.kubelet.probe_manager.wake_pod(obj.uid)
