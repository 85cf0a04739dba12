"""Reading the Scenario document: cluster settings, behaviours, actions.

The Scenario document (``apiVersion: probesim/v1alpha1``, ``kind: Scenario``) says
what Kubernetes cannot know. Its tables live here and in ``behaviours``; references
to pods and containers are checked against the pods of the same file, which the
reader puts in ``Reporter.context`` as a ``References``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sim.scenario.accounts import Accounts
from sim.scenario.behaviour import ZERO, Behaviour
from sim.scenario.behaviours import DISTRIBUTION, behaviour_table, distribution_yaml
from sim.scenario.context import INVALID, REQUIRED, Ctx, hint, quoted
from sim.scenario.document import (
    DEFAULT_DURATION_SECONDS,
    DEFAULT_SEED,
    Action,
    ActionKind,
    ClusterSpec,
    Fault,
    FaultKind,
    ProbeGridPhase,
    ReducedDecayReading,
    RegistrySpec,
)
from sim.scenario.durations import format_duration
from sim.scenario.fields import (
    Bool,
    Choice,
    Custom,
    Duration,
    Field,
    Int,
    ListOf,
    MapOf,
    Obj,
    Str,
    UniqueListOf,
    Values,
)
from sim.scenario.gates import GATE_NAMES, gate_problem
from sim.scenario.names import (
    DNS_SUBDOMAIN_PATTERN,
    QUALIFIED_NAME_PATTERN,
    dns_subdomain,
    no_surrounding_space,
    qualified_name,
)
from sim.scenario.registries import REGISTRIES, SECRET_GENERATORS
from sim.scenario.spec import Pod, Secret

API_VERSION = "probesim/v1alpha1"
KIND = "Scenario"
SUPPORTED_VERSIONS = tuple(f"1.{minor}" for minor in range(27, 36))
FEATURE_GATES = GATE_NAMES
_DEFAULT_CLUSTER = ClusterSpec()


@dataclass
class References:
    """The pods of the file, for checking what the Scenario document names.

    ``containers_of`` also lists pods that failed to read (from their raw YAML), so
    one broken pod does not turn every reference to it into a second error.
    ``accounts`` holds the ServiceAccount and Secret manifests (a generated secret
    may not take a manifest's name).
    """

    pods: dict[str, Pod] = field(default_factory=dict)
    containers_of: dict[str, list[str]] = field(default_factory=dict)
    accounts: Accounts = field(default_factory=Accounts)

    def add(self, name: str, containers: list[str], pod: Pod | None = None) -> None:
        """Record a pod (``pod`` None when it failed to read)."""
        self.containers_of.setdefault(name, containers)
        if pod is not None:
            self.pods.setdefault(name, pod)

    def containers(self, pod: str = "") -> list[str]:
        """Container names of one pod, or of every pod (init containers included)."""
        pods = [pod] if pod else list(self.containers_of)
        names = [c for p in pods for c in self.containers_of.get(p, [])]
        return list(dict.fromkeys(names))


def _references(values: Values) -> References | None:
    context = values.ctx.reporter.context
    return context if isinstance(context, References) else None


def check_pod_reference(values: Values, pod_key: str = "pod") -> bool:
    """Report a pod name that no pod has; return whether the name is known."""
    refs = _references(values)
    pod = values[pod_key]
    if refs is None or not pod or pod is INVALID:
        return refs is not None
    if pod in refs.containers_of:
        return True
    values.at(pod_key).not_found(pod, "no pod of that name", refs.containers_of)
    return False


def check_container_reference(values: Values, pod: str = "") -> None:
    """Report a container name that the pod (or no pod) has."""
    refs = _references(values)
    container = values["container"]
    if refs is None or container is INVALID or (pod and pod not in refs.containers_of):
        return
    names = refs.containers(pod)
    if container not in names:
        where = f'pod "{pod}"' if pod else "any pod"
        values.at("container").not_found(
            container, f"no container of that name in {where}", names
        )


# Cluster -------------------------------------------------------------------------


def _read_version(ctx: Ctx, value: Any) -> Any:
    if isinstance(value, float) and repr(float(value)) in SUPPORTED_VERSIONS:
        return repr(float(value))
    if isinstance(value, str) and value in SUPPORTED_VERSIONS:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        text = repr(float(value))
        detail = f'must be a quoted string such as "{SUPPORTED_VERSIONS[-1]}"'
        if text + "0" in SUPPORTED_VERSIONS:
            detail += f' (YAML reads {text}0 as the number {text}: write "{text}0")'
        return ctx.invalid(value, detail)
    return ctx.unsupported(value, SUPPORTED_VERSIONS)


def _gate_name(name: str) -> str | None:
    if name in FEATURE_GATES:
        return None
    close = hint(name, FEATURE_GATES)
    return "unknown feature gate" + (close or f": supported: {quoted(FEATURE_GATES)}")


_CRASH_LOOP = Obj(
    (
        Field(
            "maxContainerRestartPeriod",
            Duration(minimum=1.0, maximum=300.0),
            None,
            "Cap of the CrashLoopBackOff delay (1s to 300s); the default when unset.",
        ),
    ),
    build=lambda v: v["maxContainerRestartPeriod"],
    description="Kubelet crashLoopBackOff settings.",
)


def _check_gates(values: Values) -> None:
    """A gate must exist in the chosen release and may not move a locked value."""
    if not values.ok("kubernetesVersion", "featureGates"):
        return
    minor = int(values["kubernetesVersion"].split(".")[1])
    gates = values.at("featureGates")
    node = values.node.get("featureGates")
    for name, value in values["featureGates"]:
        problem = gate_problem(name, value, minor)
        if problem is not None:
            gates.key(node, name).invalid(value, problem)


def _build_cluster(values: Values) -> ClusterSpec:
    return ClusterSpec(
        kubernetes_version=values["kubernetesVersion"],
        feature_gates=tuple(sorted(values["featureGates"])),
        kubelet_uptime_seconds=values["kubeletUptime"],
        max_container_restart_period_seconds=values["crashLoopBackOff"],
        reduced_decay_reading=values["reducedDecayReading"],
        probe_grid_phase=values["probeGridPhase"],
        sandbox_start_latency=values["sandboxStartLatency"],
        container_start_latency=values["containerStartLatency"],
        image_pull_latency=values["imagePullLatency"],
        images_present=values["imagesPresent"],
        sync_frequency_seconds=values["syncFrequency"],
    )


CLUSTER = Obj(
    (
        Field(
            "kubernetesVersion",
            Custom(_read_version, {"type": "string", "enum": list(SUPPORTED_VERSIONS)}),
            _DEFAULT_CLUSTER.kubernetes_version,
            "Kubernetes minor release of the kubelet (a quoted string).",
            _DEFAULT_CLUSTER.kubernetes_version,
        ),
        Field(
            "featureGates",
            MapOf(Bool(), _gate_name, {"enum": list(FEATURE_GATES)}),
            (),
            "Explicit feature gate settings; the others keep their release default.",
        ),
        Field(
            "kubeletUptime",
            Duration(),
            _DEFAULT_CLUSTER.kubelet_uptime_seconds,
            "How long the kubelet has run when the scenario starts.",
            format_duration(_DEFAULT_CLUSTER.kubelet_uptime_seconds),
        ),
        Field("crashLoopBackOff", _CRASH_LOOP, None, "Kubelet CrashLoopBackOff."),
        Field(
            "reducedDecayReading",
            Choice.of(ReducedDecayReading),
            _DEFAULT_CLUSTER.reduced_decay_reading,
            "Reading of ReduceDefaultCrashLoopBackOffDecay on 1.35 (R6.1).",
            _DEFAULT_CLUSTER.reduced_decay_reading.value,
        ),
        Field(
            "probeGridPhase",
            Choice.of(ProbeGridPhase),
            _DEFAULT_CLUSTER.probe_grid_phase,
            "Uniform: the probe ticker's phase is drawn over a period; Derived: "
            "from the modelled latencies only.",
            _DEFAULT_CLUSTER.probe_grid_phase.value,
        ),
        Field(
            "sandboxStartLatency",
            DISTRIBUTION,
            _DEFAULT_CLUSTER.sandbox_start_latency,
            "Pod sandbox creation time.",
            distribution_yaml(_DEFAULT_CLUSTER.sandbox_start_latency),
        ),
        Field(
            "containerStartLatency",
            DISTRIBUTION,
            _DEFAULT_CLUSTER.container_start_latency,
            "Container create and start time.",
            distribution_yaml(_DEFAULT_CLUSTER.container_start_latency),
        ),
        Field(
            "imagePullLatency",
            DISTRIBUTION,
            _DEFAULT_CLUSTER.image_pull_latency,
            "Image pull time.",
            distribution_yaml(_DEFAULT_CLUSTER.image_pull_latency),
        ),
        Field(
            "imagesPresent",
            Bool(),
            _DEFAULT_CLUSTER.images_present,
            "Whether images are already on the node.",
            True,
        ),
        Field(
            "syncFrequency",
            Duration(exclusive_minimum=True),
            _DEFAULT_CLUSTER.sync_frequency_seconds,
            "Kubelet periodic pod sync interval.",
            format_duration(_DEFAULT_CLUSTER.sync_frequency_seconds),
        ),
    ),
    check=_check_gates,
    build=_build_cluster,
    description="Cluster, kubelet and container runtime settings.",
    schema_name="cluster",
)


# Actions -------------------------------------------------------------------------


def _read_condition_status(ctx: Ctx, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("True", "False"):
        return value == "True"
    return ctx.unsupported(value, ("True", "False"))


CONDITION_STATUS = Custom(
    _read_condition_status,
    {"oneOf": [{"type": "string", "enum": ["True", "False"]}, {"type": "boolean"}]},
)


def _check_pod(values: Values) -> None:
    check_pod_reference(values)


def _check_pod_container(values: Values) -> None:
    if check_pod_reference(values) and values.ok("pod"):
        check_container_reference(values, values["pod"])


def _check_condition(values: Values) -> None:
    if not check_pod_reference(values) or not values.ok("pod", "type"):
        return
    refs = _references(values)
    pod = refs.pods.get(values["pod"]) if refs else None
    if pod is not None and values["type"] not in pod.readiness_gates:
        values.at("type").warn(
            f'"{values["type"]}" is not a readiness gate of pod "{pod.name}": '
            "setting it does not change readiness"
        )


POD_NAME = Field("pod", Str(), REQUIRED, "Pod name.")
CONTAINER_NAME = Field("container", Str(), REQUIRED, "Container name.")
FOR = Field(
    "for", Duration(allow_infinite=True), math.inf, "How long; forever if left out."
)

DELETE = Obj(
    (
        POD_NAME,
        Field("gracePeriodSeconds", Int(minimum=0), None, "Overrides the pod's."),
    ),
    check=_check_pod,
    description="Delete a pod (kubectl delete).",
)
SET_CONDITION = Obj(
    (
        POD_NAME,
        Field("type", Str(qualified_name, QUALIFIED_NAME_PATTERN), REQUIRED, "Type."),
        Field("status", CONDITION_STATUS, REQUIRED, '"True" or "False".'),
    ),
    check=_check_condition,
    description="Set a pod condition (a readiness gate).",
)
SET_IMAGE = Obj(
    (
        POD_NAME,
        CONTAINER_NAME,
        Field("image", Str(no_surrounding_space), REQUIRED, "New image."),
    ),
    check=_check_pod_container,
    description="Change a container's image (the container is restarted).",
)
SET_SERVICE_ACCOUNT = Obj(
    (
        POD_NAME,
        Field(
            "name",
            Str(dns_subdomain, DNS_SUBDOMAIN_PATTERN),
            REQUIRED,
            "New service account.",
        ),
    ),
    check=_check_pod,
    description="Change a pod's service account (the API server refuses it).",
)
CREATE = Obj(
    (POD_NAME,),
    check=_check_pod,
    description="Create a pod at this time instead of at the start.",
)
_FAULT_KINDS = ("hang", "crash", "slow", "recover")
_HANG = Obj((FOR,), description="Stop answering (timeouts fire); TCP still accepts.")
_CRASH = Obj(
    (Field("exitCode", Int(0, 255), 1, "Exit code.", 1),),
    description="The running instance exits at once.",
)
_SLOW = Obj(
    (Field("latency", DISTRIBUTION, REQUIRED, "Extra latency of every answer."), FOR),
    description="Every answer takes longer.",
)
_RECOVER = Obj((), description="End every hang and slow-down.")


def _build_fault(values: Values) -> Fault:
    kind = next(k for k in _FAULT_KINDS if k in values.given)
    settings = values[kind]
    return Fault(
        kind=FaultKind(kind),
        pod=values["pod"],
        container=values["container"],
        for_seconds=settings.get("for", math.inf),
        exit_code=settings.get("exitCode", 1),
        latency=settings.get("latency", ZERO),
    )


FAULT = Obj(
    (
        POD_NAME,
        CONTAINER_NAME,
        Field("hang", _HANG, None, "Hang.", null_is_empty=True),
        Field("crash", _CRASH, None, "Crash.", null_is_empty=True),
        Field("slow", _SLOW, None, "Slow down.", null_is_empty=True),
        Field("recover", _RECOVER, None, "Recover.", null_is_empty=True),
    ),
    check=_check_pod_container,
    build=_build_fault,
    description="Inject a fault into a container: exactly one of hang, crash, slow, "
    "recover.",
    exactly_one=_FAULT_KINDS,
)
_VERBS = (
    ("delete", ActionKind.DELETE),
    ("setCondition", ActionKind.SET_CONDITION),
    ("setImage", ActionKind.SET_IMAGE),
    ("setServiceAccount", ActionKind.SET_SERVICE_ACCOUNT),
    ("create", ActionKind.CREATE),
    ("fault", ActionKind.FAULT),
)


def _build_action(values: Values) -> Action:
    verb, kind = next((name, k) for name, k in _VERBS if name in values.given)
    body = values[verb]
    fault = body if isinstance(body, Fault) else None
    if fault is not None:
        body = {"pod": fault.pod, "container": fault.container}
    return Action(
        at_seconds=values["at"],
        kind=kind,
        pod=body["pod"],
        container=body.get("container", ""),
        grace_period_seconds=body.get("gracePeriodSeconds"),
        condition_type=body.get("type", ""),
        condition_status=body.get("status", True),
        image=body.get("image", ""),
        service_account=body.get("name", ""),
        fault=fault,
        source_line=values.ctx.line,
    )


ACTION = Obj(
    (
        Field("at", Duration(), REQUIRED, "Scenario time of the action."),
        Field("delete", DELETE, None, "Delete a pod.", null_is_empty=True),
        Field(
            "setCondition", SET_CONDITION, None, "Set a condition.", null_is_empty=True
        ),
        Field("setImage", SET_IMAGE, None, "Change an image.", null_is_empty=True),
        Field(
            "setServiceAccount",
            SET_SERVICE_ACCOUNT,
            None,
            "Change the service account.",
            null_is_empty=True,
        ),
        Field("create", CREATE, None, "Create a pod.", null_is_empty=True),
        Field("fault", FAULT, None, "Inject a fault.", null_is_empty=True),
    ),
    exactly_one=tuple(name for name, _ in _VERBS),
    build=_build_action,
    description="Something that happens at a scenario time: exactly one verb.",
    schema_name="action",
)


def _created_pod(action: Action) -> tuple[str, tuple[str, ...]] | None:
    """A pod is created by at most one action."""
    if action.kind is not ActionKind.CREATE:
        return None
    return action.pod, ("create", "pod")


ACTIONS = UniqueListOf(ListOf(ACTION), _created_pod)


# Behaviours and the document -----------------------------------------------------


def _check_behaviour(values: Values) -> None:
    known = check_pod_reference(values)
    if known and values.ok("pod"):
        check_container_reference(values, values["pod"])


BEHAVIOUR = behaviour_table(_check_behaviour)


def _check_spec(values: Values) -> None:
    behaviours = values["behaviours"]
    if behaviours is not INVALID:
        seen: set[tuple[str, str]] = set()
        for index, behaviour in enumerate(behaviours):
            key = (behaviour.pod, behaviour.container)
            if key in seen:
                raw = values.node["behaviours"]
                at = values.at("behaviours").item(raw, index)
                at.key(raw[index], "container").duplicate(behaviour.container)
            seen.add(key)
    actions, duration = values["actions"], values["duration"]
    if actions is INVALID or duration is INVALID:
        return
    for index, action in enumerate(actions):
        if action.at_seconds >= duration:
            raw = values.node["actions"]
            at = values.at("actions").item(raw, index).key(raw[index], "at")
            at.warn(
                f"at {format_duration(action.at_seconds)} is not before the end of "
                f"the scenario ({format_duration(duration)}): this action never "
                "happens"
            )


SCENARIO_SPEC = Obj(
    (
        Field(
            "duration",
            Duration(exclusive_minimum=True),
            DEFAULT_DURATION_SECONDS,
            "Simulated time.",
            format_duration(DEFAULT_DURATION_SECONDS),
        ),
        Field("seed", Int(minimum=0), DEFAULT_SEED, "Random seed.", DEFAULT_SEED),
        Field("cluster", CLUSTER, _DEFAULT_CLUSTER, "Cluster settings."),
        Field("behaviours", ListOf(BEHAVIOUR), (), "Application behaviours."),
        Field("actions", ACTIONS, (), "Scenario-clock actions."),
        Field("registries", REGISTRIES, (), "Image registries; one per server."),
        Field("secrets", SECRET_GENERATORS, (), "Secrets made as kubectl makes them."),
    ),
    check=_check_spec,
    description="What Kubernetes cannot know: cluster, applications, actions.",
    schema_name="ScenarioSpec",
)
SCENARIO_METADATA = Obj(
    (
        Field(
            "name",
            Str(dns_subdomain, DNS_SUBDOMAIN_PATTERN),
            REQUIRED,
            "Scenario name (also the name of its results folder).",
        ),
    ),
    ignored=("labels", "annotations"),
    build=lambda v: v["name"],
    schema_name="ScenarioMetadata",
)
SCENARIO_DOCUMENT = Obj(
    (
        Field("apiVersion", Choice((API_VERSION,)), REQUIRED, "API version."),
        Field("kind", Choice((KIND,)), REQUIRED, "Scenario."),
        Field("metadata", SCENARIO_METADATA, REQUIRED, "Name of the scenario."),
        Field("spec", SCENARIO_SPEC, None, "Settings; all optional."),
    ),
    description="The Scenario document of a probesim scenario file.",
)


@dataclass(frozen=True)
class ScenarioSettings:
    """The Scenario document, read: everything of ``Scenario`` except the pods."""

    name: str
    duration_seconds: float = DEFAULT_DURATION_SECONDS
    seed: int = DEFAULT_SEED
    cluster: ClusterSpec = _DEFAULT_CLUSTER
    behaviours: tuple[Behaviour, ...] = ()
    actions: tuple[Action, ...] = ()
    registries: tuple[RegistrySpec, ...] = ()
    secrets: tuple[Secret, ...] = ()


def read_scenario_document(ctx: Ctx, data: Any) -> ScenarioSettings | None:
    """Read the Scenario document; report problems through ``ctx``, None if any."""
    values = SCENARIO_DOCUMENT.read(ctx, data)
    if values is INVALID:
        return None
    spec = values["spec"]
    if spec is None:
        return ScenarioSettings(values["metadata"])
    return ScenarioSettings(
        name=values["metadata"],
        duration_seconds=spec["duration"],
        seed=spec["seed"],
        cluster=spec["cluster"],
        behaviours=spec["behaviours"],
        actions=tuple(sorted(spec["actions"], key=lambda a: a.at_seconds)),
        registries=spec["registries"],
        secrets=spec["secrets"],
    )
