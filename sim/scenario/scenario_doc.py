"""Reading the Scenario document: cluster settings, behaviours, actions, traffic.

The Scenario document (``apiVersion: probesim/v1alpha1``, ``kind: Scenario``) says
what Kubernetes cannot know. Its tables live here and in ``behaviours``,
``actions``, ``deployment_actions`` and ``traffic``; references to pods,
containers, Services and Deployments are checked against the manifests of the same
file, which the reader puts in ``Reporter.context`` as a ``References``
(``references``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.scenario.actions import ACTIONS
from sim.scenario.behaviour import Behaviour
from sim.scenario.behaviours import behaviour_table
from sim.scenario.context import INVALID, REQUIRED, Ctx, hint, quoted
from sim.scenario.distributions import DISTRIBUTION, distribution_yaml
from sim.scenario.document import (
    DEFAULT_DURATION_SECONDS,
    DEFAULT_SEED,
    Action,
    ClusterSpec,
    EndpointsSpec,
    ProbeGridPhase,
    ReducedDecayReading,
    RegistrySpec,
    TrafficSpec,
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
    Values,
)
from sim.scenario.gates import GATE_NAMES, gate_problem
from sim.scenario.names import DNS_SUBDOMAIN_PATTERN, dns_subdomain
from sim.scenario.references import References as References
from sim.scenario.references import check_behaviour_reference
from sim.scenario.registries import REGISTRIES, SECRET_GENERATORS
from sim.scenario.spec import Secret
from sim.scenario.traffic import ENDPOINTS, TRAFFIC

API_VERSION = "probesim/v1alpha1"
KIND = "Scenario"
SUPPORTED_VERSIONS = tuple(f"1.{minor}" for minor in range(27, 36))
FEATURE_GATES = GATE_NAMES
_DEFAULT_CLUSTER = ClusterSpec()
_DEFAULT_ENDPOINTS = EndpointsSpec()


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
            gates.entry(node, name).invalid(value, problem)


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


# Behaviours and the document -----------------------------------------------------


BEHAVIOUR = behaviour_table(check_behaviour_reference)


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
        Field(
            "seed",
            Int(minimum=0, bits=None),
            DEFAULT_SEED,
            "Random seed.",
            DEFAULT_SEED,
        ),
        Field("cluster", CLUSTER, _DEFAULT_CLUSTER, "Cluster settings."),
        Field("behaviours", ListOf(BEHAVIOUR), (), "Application behaviours."),
        Field("actions", ACTIONS, (), "Scenario-clock actions."),
        Field("registries", REGISTRIES, (), "Image registries; one per server."),
        Field("secrets", SECRET_GENERATORS, (), "Secrets made as kubectl makes them."),
        Field("traffic", ListOf(TRAFFIC), (), "Requests sent to Services."),
        Field(
            "endpoints",
            ENDPOINTS,
            _DEFAULT_ENDPOINTS,
            "Delays between readiness and the dataplane.",
        ),
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
    traffic: tuple[TrafficSpec, ...] = ()
    endpoints: EndpointsSpec = _DEFAULT_ENDPOINTS


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
        traffic=spec["traffic"],
        endpoints=spec["endpoints"],
    )
