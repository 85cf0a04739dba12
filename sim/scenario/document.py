"""The Scenario: manifests plus what Kubernetes cannot know, as one frozen value.

A ``Scenario`` is a value: ``with_probe`` and friends return changed copies, so a
notebook sweeps parameters without touching YAML.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any

from sim.scenario.behaviour import Behaviour, Distribution, DistributionKind
from sim.scenario.spec import (
    Deployment,
    KubeObject,
    Pod,
    Probe,
    ProbeType,
    Secret,
    Service,
    ServiceAccount,
)

DEFAULT_SEED = 1
DEFAULT_DURATION_SECONDS = 600.0


class ProbeGridPhase(enum.Enum):
    """How the probe ticker's phase relative to the container start is modelled.

    ``Uniform`` (default) draws it uniformly over one period, standing in for the
    sandbox, network and image latencies between the pod's first sync and the
    container start, which vary from node to node (R3.3). ``Derived`` takes it only
    from the latencies the model draws itself.
    """

    UNIFORM = "Uniform"
    DERIVED = "Derived"


class ReducedDecayReading(enum.Enum):
    """Which reading of ReduceDefaultCrashLoopBackOffDecay on 1.35 to model (R6.1)."""

    LITERAL = "Literal"
    DESIGNED = "Designed"


@dataclass(frozen=True)
class ClusterSpec:
    """Cluster, kubelet and runtime settings."""

    kubernetes_version: str = "1.35"
    feature_gates: tuple[tuple[str, bool], ...] = ()
    kubelet_uptime_seconds: float = 3600.0
    max_container_restart_period_seconds: float | None = None
    reduced_decay_reading: ReducedDecayReading = ReducedDecayReading.LITERAL
    probe_grid_phase: ProbeGridPhase = ProbeGridPhase.UNIFORM
    sandbox_start_latency: Distribution = Distribution(
        DistributionKind.UNIFORM, 0.1, 0.3
    )
    container_start_latency: Distribution = Distribution(
        DistributionKind.UNIFORM, 0.3, 0.7
    )
    image_pull_latency: Distribution = Distribution(DistributionKind.UNIFORM, 1.0, 3.0)
    images_present: bool = True
    sync_frequency_seconds: float = 60.0

    @property
    def version_minor(self) -> int:
        """Minor version number (35 for "1.35")."""
        return int(self.kubernetes_version.split(".")[1])

    def gate(self, name: str) -> bool | None:
        """Explicit setting of a feature gate, or None when left at its default."""
        for gate_name, value in self.feature_gates:
            if gate_name == name:
                return value
        return None


class PullFailure(enum.Enum):
    """How a pull from a registry fails when it does."""

    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "notFound"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class RegistrySpec:
    """One image registry as the node sees it.

    ``server`` is the host (``registry.example.com``, ``localhost:5000``;
    ``docker.io`` for images without a host). A private registry accepts only the
    listed credentials; anonymous pulls and wrong passwords fail ``unauthorized``.
    Images listed in ``missing_images`` (``repo:tag`` as written in the pod) fail
    ``notFound``; an ``unreachable`` registry fails every pull after ``timeout``.
    """

    server: str
    private: bool = False
    credentials: tuple[tuple[str, str], ...] = ()
    pull_latency: Distribution | None = None
    missing_images: tuple[str, ...] = ()
    unreachable: bool = False
    timeout_seconds: float = 30.0


class Arrivals(enum.Enum):
    """How requests arrive: evenly spaced, or as a Poisson process."""

    CONSTANT = "Constant"
    POISSON = "Poisson"


@dataclass(frozen=True)
class TrafficPhase:
    """From ``from_seconds`` on the scenario clock, requests arrive at this rate."""

    from_seconds: float
    rate_per_second: float


@dataclass(frozen=True)
class TrafficSpec:
    """Requests sent to a Service port, routed by kube-proxy's view (R9.4).

    ``path`` is requested on the chosen pod; a request fails when no endpoint is
    ready (no endpoints), the pod refuses or resets it, or it takes longer than
    ``timeout_seconds``. ``record_requests`` keeps one event per request; otherwise
    the log keeps counts per second and outcome.
    """

    service: str
    port: int | str
    phases: tuple[TrafficPhase, ...]
    arrivals: Arrivals = Arrivals.POISSON
    path: str = "/"
    timeout_seconds: float = 10.0
    record_requests: bool = False


@dataclass(frozen=True)
class EndpointsSpec:
    """Delays between a pod's status change and the dataplane (R9.3, R9.4)."""

    controller_delay: Distribution = Distribution(DistributionKind.UNIFORM, 0.05, 0.3)
    proxy_min_sync_seconds: float = 1.0
    proxy_sync_seconds: float = 30.0
    proxy_apply_latency: Distribution = Distribution(
        DistributionKind.UNIFORM, 0.01, 0.1
    )


class FaultKind(enum.Enum):
    """What a fault does to the application."""

    HANG = "hang"
    CRASH = "crash"
    SLOW = "slow"
    RECOVER = "recover"


@dataclass(frozen=True)
class Fault:
    """A scenario-clock fault injected into one container.

    ``hang``: HTTP, gRPC and app exec checks stop answering (their timeouts fire);
    the listening socket stays open, so TCP probes pass (R4.3); it ends after
    ``for_seconds`` or when the instance it struck is replaced.
    ``crash``: the running instance exits at once with ``exit_code``.
    ``slow``: every answer of the application (HTTP, gRPC, exec) takes ``latency``
    longer, across restarts, for ``for_seconds``; TCP connects are answered by the
    kernel and stay fast.
    ``recover``: ends every hang and slow-down of the container.
    """

    kind: FaultKind
    pod: str
    container: str
    for_seconds: float = math.inf
    exit_code: int = 1
    latency: Distribution = Distribution.constant(0.0)


class ActionKind(enum.Enum):
    """Kinds of scenario-clock action."""

    DELETE = "delete"
    SET_CONDITION = "setCondition"
    SET_IMAGE = "setImage"
    SET_SERVICE_ACCOUNT = "setServiceAccount"
    CREATE = "create"
    FAULT = "fault"
    SCALE = "scale"
    ROLLOUT = "rollout"


@dataclass(frozen=True)
class Action:
    """Something that happens at ``at_seconds`` on the scenario clock."""

    at_seconds: float
    kind: ActionKind
    pod: str
    container: str = ""
    grace_period_seconds: int | None = None
    condition_type: str = ""
    condition_status: bool = True
    image: str = ""
    service_account: str = ""
    fault: Fault | None = None
    deployment: str = ""
    replicas: int = 0
    template: Pod | None = None
    min_ready_seconds: int | None = None
    source_line: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Scenario:
    """One scenario file, resolved: every default filled in and every check passed."""

    name: str
    pods: tuple[Pod, ...]
    duration_seconds: float = DEFAULT_DURATION_SECONDS
    seed: int = DEFAULT_SEED
    cluster: ClusterSpec = ClusterSpec()
    behaviours: tuple[Behaviour, ...] = ()
    actions: tuple[Action, ...] = ()
    service_accounts: tuple[ServiceAccount, ...] = ()
    secrets: tuple[Secret, ...] = ()
    registries: tuple[RegistrySpec, ...] = ()
    services: tuple[Service, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    traffic: tuple[TrafficSpec, ...] = ()
    endpoints: EndpointsSpec = EndpointsSpec()
    other_objects: tuple[KubeObject, ...] = ()
    source: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_yaml(cls, text: str, source: str = "<string>") -> Scenario:
        """Read a scenario from YAML text (see ``sim.scenario.reader``)."""
        from sim.scenario.reader import read_scenario_text

        return read_scenario_text(text, source)

    def pod(self, name: str) -> Pod:
        """Return the pod called ``name``."""
        for pod in self.pods:
            if pod.name == name:
                return pod
        raise KeyError(name)

    def behaviour_for(
        self, pod: str, container: str, owner: str = ""
    ) -> Behaviour | None:
        """Return the behaviour of a container: for the pod, its owner, or any pod.

        ``owner`` is the Deployment that made the pod, whose name a behaviour's
        ``pod`` may give to cover all of its pods.
        """
        by_owner = general = None
        for behaviour in self.behaviours:
            if behaviour.container != container:
                continue
            if behaviour.pod == pod:
                return behaviour
            if owner and behaviour.pod == owner:
                by_owner = behaviour
            if not behaviour.pod:
                general = behaviour
        return by_owner or general

    def with_probe(
        self,
        container: str,
        probe_type: ProbeType | str,
        pod: str | None = None,
        **fields: Any,
    ) -> Scenario:
        """Return a copy with fields of one probe changed.

        Parameters
        ----------
        container
            Container name; every pod with such a container is changed unless
            ``pod`` is given.
        probe_type
            ``"startup"``, ``"liveness"`` or ``"readiness"``.
        pod
            Restrict the change to one pod.
        **fields
            Probe fields in API spelling (``periodSeconds=5``) or snake case.
        """
        probe_type = ProbeType(probe_type)
        changes = {_snake(key): value for key, value in fields.items()}
        attribute = f"{probe_type.value}_probe"
        pods = []
        for p in self.pods:
            if pod is not None and p.name != pod:
                pods.append(p)
                continue
            containers = []
            for c in p.containers:
                probe: Probe | None = getattr(c, attribute)
                if c.name == container and probe is None:
                    raise ValueError(
                        f"container {container!r} of pod {p.name!r} has no "
                        f"{probe_type.value} probe"
                    )
                if c.name == container and probe is not None:
                    replaced: dict[str, Any] = {
                        attribute: dataclasses.replace(probe, **changes)
                    }
                    c = dataclasses.replace(c, **replaced)
                containers.append(c)
            pods.append(dataclasses.replace(p, containers=tuple(containers)))
        return dataclasses.replace(self, pods=tuple(pods))

    def with_cluster(self, **fields: Any) -> Scenario:
        """Return a copy with cluster settings changed (snake-case names)."""
        return dataclasses.replace(
            self, cluster=dataclasses.replace(self.cluster, **fields)
        )

    def with_seed(self, seed: int) -> Scenario:
        """Return a copy whose default seed is ``seed``."""
        return dataclasses.replace(self, seed=int(seed))

    def with_duration(self, seconds: float) -> Scenario:
        """Return a copy that runs for ``seconds``."""
        return dataclasses.replace(self, duration_seconds=float(seconds))


def _snake(name: str) -> str:
    out = []
    for ch in name:
        if ch.isupper():
            out.append("_")
            out.append(ch.lower())
        else:
            out.append(ch)
    return "".join(out)
