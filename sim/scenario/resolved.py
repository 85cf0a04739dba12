"""The resolved scenario: what the simulator actually ran, as YAML.

``resolved_yaml`` writes every Pod with every default filled in (API spelling), the
ServiceAccounts and Secrets (generated secrets as plain manifests), the Services and
Deployments, the manifests kept as they were, and the Scenario document with every
setting explicit, the seed included (the manifests are written by ``manifests``).
Reading the text back with ``read_scenario_text`` gives an equal ``Scenario``
(source lines aside), so a resolved file reproduces a run.
"""

from __future__ import annotations

import io
import math
from typing import Any

from ruamel.yaml import YAML

from sim.scenario.behaviour import (
    Behaviour,
    LoadBehaviour,
    Phase,
    SigtermKind,
    Window,
)
from sim.scenario.behaviours import GrpcStatus, PhaseKind
from sim.scenario.distributions import distribution_yaml, duration_yaml
from sim.scenario.document import (
    Action,
    ActionKind,
    ClusterSpec,
    EndpointsSpec,
    FaultKind,
    RegistrySpec,
    Scenario,
    TrafficSpec,
)
from sim.scenario.manifests import (
    deployment_manifest,
    handler_yaml,
    probe_yaml,
    secret_manifest,
    service_account_manifest,
    service_manifest,
)
from sim.scenario.manifests import pod_manifest as pod_manifest
from sim.scenario.scenario_doc import API_VERSION, KIND
from sim.scenario.spec import Container, Deployment

HEADER = (
    "# Resolved by probesim: every default filled in. Read it back with\n"
    "# `probesim run` to reproduce the run.\n"
)


def resolved_yaml(scenario: Scenario) -> str:
    """Return the resolved scenario as a multi-document YAML text."""
    documents: list[Any] = [pod_manifest(pod) for pod in scenario.pods]
    documents += [service_account_manifest(a) for a in scenario.service_accounts]
    documents += [secret_manifest(secret) for secret in scenario.secrets]
    documents += [service_manifest(service) for service in scenario.services]
    documents += [deployment_manifest(d) for d in scenario.deployments]
    documents += [obj.body for obj in scenario.other_objects]
    documents.append(scenario_document(scenario))
    return HEADER + dump_documents(documents)


def dump_documents(documents: list[Any]) -> str:
    """Write manifests as one multi-document YAML text, in block style."""
    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.explicit_start = True
    out = io.StringIO()
    yaml.dump_all(documents, out)
    return out.getvalue()


# The Scenario document -----------------------------------------------------------


def scenario_document(scenario: Scenario) -> dict[str, Any]:
    """Return the Scenario document with every setting explicit."""
    spec: dict[str, Any] = {
        "duration": duration_yaml(scenario.duration_seconds),
        "seed": scenario.seed,
        "cluster": _cluster(scenario.cluster),
        "behaviours": [_behaviour(b) for b in scenario.behaviours],
        "actions": [_action(a, scenario) for a in scenario.actions],
        "registries": [_registry(r) for r in scenario.registries],
        "traffic": [_traffic(t) for t in scenario.traffic],
        "endpoints": _endpoints(scenario.endpoints),
    }
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": scenario.name},
        "spec": spec,
    }


def _cluster(cluster: ClusterSpec) -> dict[str, Any]:
    crash_loop: dict[str, Any] = {}
    if cluster.max_container_restart_period_seconds is not None:
        crash_loop["maxContainerRestartPeriod"] = duration_yaml(
            cluster.max_container_restart_period_seconds
        )
    return {
        "kubernetesVersion": cluster.kubernetes_version,
        "featureGates": dict(cluster.feature_gates),
        "kubeletUptime": duration_yaml(cluster.kubelet_uptime_seconds),
        "crashLoopBackOff": crash_loop,
        "reducedDecayReading": cluster.reduced_decay_reading.value,
        "probeGridPhase": cluster.probe_grid_phase.value,
        "sandboxStartLatency": distribution_yaml(cluster.sandbox_start_latency),
        "containerStartLatency": distribution_yaml(cluster.container_start_latency),
        "imagePullLatency": distribution_yaml(cluster.image_pull_latency),
        "imagesPresent": cluster.images_present,
        "syncFrequency": duration_yaml(cluster.sync_frequency_seconds),
    }


def _registry(registry: RegistrySpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "server": registry.server,
        "private": registry.private,
        "credentials": [
            {"username": username, "password": password}
            for username, password in registry.credentials
        ],
    }
    if registry.pull_latency is not None:
        out["pullLatency"] = distribution_yaml(registry.pull_latency)
    out["missingImages"] = list(registry.missing_images)
    out["unreachable"] = registry.unreachable
    out["timeout"] = duration_yaml(registry.timeout_seconds)
    return out


def _windows(windows: tuple[Window, ...]) -> list[dict[str, Any]]:
    out = []
    for window in windows:
        item: dict[str, Any] = {"from": duration_yaml(window.from_seconds)}
        if not math.isinf(window.until_seconds):
            item["until"] = duration_yaml(window.until_seconds)
        out.append(item)
    return out


def _phases(phases: tuple[Phase, ...], kind: PhaseKind) -> list[dict[str, Any]]:
    status_key = "exitCode" if kind is PhaseKind.EXEC else "status"
    latency_key = "duration" if kind is PhaseKind.EXEC else "latency"

    def status(code: int) -> int | str:
        return GrpcStatus(code).name if kind is PhaseKind.GRPC else code

    out = []
    for phase in phases:
        item: dict[str, Any] = {}
        if not math.isinf(phase.until_seconds):
            item["until"] = duration_yaml(phase.until_seconds)
        item[status_key] = status(phase.status)
        item[latency_key] = distribution_yaml(phase.latency)
        item["hang"] = phase.hang
        if phase.flake is not None:
            item["flaky"] = {
                "probability": phase.flake.probability,
                status_key: status(phase.flake.status),
            }
        if kind is PhaseKind.HTTP and phase.location:
            item["location"] = phase.location
        if kind is PhaseKind.EXEC:
            item["output"] = phase.output
        out.append(item)
    return out


def _behaviour(behaviour: Behaviour) -> dict[str, Any]:
    out: dict[str, Any] = {"container": behaviour.container}
    if behaviour.pod:
        out["pod"] = behaviour.pod
    if behaviour.files:
        out["files"] = {f.path: _windows(f.windows) for f in behaviour.files}
    if behaviour.exec:
        out["exec"] = [
            {
                "command": list(e.command),
                "responses": _phases(e.phases, PhaseKind.EXEC),
            }
            for e in behaviour.exec
        ]
    if behaviour.http:
        out["http"] = [
            {
                "port": e.port,
                "path": e.path,
                "responses": _phases(e.phases, PhaseKind.HTTP),
            }
            for e in behaviour.http
        ]
    if behaviour.tcp:
        out["tcp"] = [
            {"port": e.port, "listening": _windows(e.windows)} for e in behaviour.tcp
        ]
    if behaviour.grpc:
        out["grpc"] = [
            {"port": e.port}
            | ({"service": e.service} if e.service is not None else {})
            | {"responses": _phases(e.phases, PhaseKind.GRPC)}
            for e in behaviour.grpc
        ]
    if behaviour.exit is not None:
        out["exit"] = {
            "after": distribution_yaml(behaviour.exit.after),
            "code": behaviour.exit.exit_code,
        }
    sigterm = behaviour.sigterm
    if sigterm.kind is SigtermKind.IGNORE:
        out["sigterm"] = "ignore"
    else:
        out["sigterm"] = {
            "exitAfter": distribution_yaml(sigterm.exit_after),
            "exitCode": sigterm.exit_code,
        }
    if sigterm.kind is SigtermKind.TRAP:
        out["sigterm"]["trap"] = {
            "commandsEndAt": [duration_yaml(b) for b in sigterm.boundaries],
            "repeatEvery": duration_yaml(sigterm.repeat_every),
        }
    if behaviour.load is not None:
        out["load"] = _load(behaviour.load)
    return out


def _load(load: LoadBehaviour) -> dict[str, Any]:
    return {
        "capacity": load.capacity_per_second,
        "window": duration_yaml(load.window_seconds),
        "saturatedLatency": distribution_yaml(load.saturated_latency),
    }


def _traffic(traffic: TrafficSpec) -> dict[str, Any]:
    """One traffic entry: ``rate`` for a single rate from 0s, else ``phases``."""
    out: dict[str, Any] = {"service": traffic.service, "port": traffic.port}
    phases = traffic.phases
    if len(phases) == 1 and phases[0].from_seconds == 0:
        out["rate"] = phases[0].rate_per_second
    else:
        out["phases"] = [
            {"from": duration_yaml(p.from_seconds), "rate": p.rate_per_second}
            for p in phases
        ]
    out["arrivals"] = traffic.arrivals.value
    out["path"] = traffic.path
    out["timeout"] = duration_yaml(traffic.timeout_seconds)
    out["recordRequests"] = traffic.record_requests
    return out


def _endpoints(endpoints: EndpointsSpec) -> dict[str, Any]:
    return {
        "controllerDelay": distribution_yaml(endpoints.controller_delay),
        "proxyMinSyncPeriod": duration_yaml(endpoints.proxy_min_sync_seconds),
        "proxySyncPeriod": duration_yaml(endpoints.proxy_sync_seconds),
        "proxyApplyLatency": distribution_yaml(endpoints.proxy_apply_latency),
    }


def _action(action: Action, scenario: Scenario) -> dict[str, Any]:
    at = duration_yaml(action.at_seconds)
    if action.kind is ActionKind.SCALE:
        body: dict[str, Any] = {
            "deployment": action.deployment,
            "replicas": action.replicas,
        }
        return {"at": at, "scale": body}
    if action.kind is ActionKind.ROLLOUT:
        return {"at": at, "rollout": _rollout(action, scenario)}
    if action.kind is ActionKind.DELETE:
        body = {"pod": action.pod}
        if action.grace_period_seconds is not None:
            body["gracePeriodSeconds"] = action.grace_period_seconds
        return {"at": at, "delete": body}
    if action.kind is ActionKind.SET_CONDITION:
        status = "True" if action.condition_status else "False"
        body = {"pod": action.pod, "type": action.condition_type, "status": status}
        return {"at": at, "setCondition": body}
    if action.kind is ActionKind.SET_IMAGE:
        body = {"pod": action.pod, "container": action.container, "image": action.image}
        return {"at": at, "setImage": body}
    if action.kind is ActionKind.SET_SERVICE_ACCOUNT:
        body = {"pod": action.pod, "name": action.service_account}
        return {"at": at, "setServiceAccount": body}
    if action.kind is ActionKind.CREATE:
        return {"at": at, "create": {"pod": action.pod}}
    fault = action.fault
    if fault is None:
        raise ValueError(f"fault action without a fault: {action!r}")
    settings: dict[str, Any] = {}
    if fault.kind is FaultKind.CRASH:
        settings["exitCode"] = fault.exit_code
    if fault.kind is FaultKind.SLOW:
        settings["latency"] = distribution_yaml(fault.latency)
    if fault.kind in (FaultKind.HANG, FaultKind.SLOW) and not math.isinf(
        fault.for_seconds
    ):
        settings["for"] = duration_yaml(fault.for_seconds)
    body = {"pod": fault.pod, "container": fault.container, fault.kind.value: settings}
    return {"at": at, "fault": body}


def _rollout(action: Action, scenario: Scenario) -> dict[str, Any]:
    """Write a rollout as it is read: the fields that differ from the template.

    At least one container is written (by name alone when nothing differs), so the
    action reads back.
    """
    base = _deployment(scenario, action.deployment).template
    new = action.template if action.template is not None else base
    containers = [
        _container_change(old, new.container(old.name)) for old in base.containers
    ]
    changed = [c for c in containers if len(c) > 1] or [containers[0]]
    body: dict[str, Any] = {"deployment": action.deployment, "containers": changed}
    if action.min_ready_seconds is not None:
        body["minReadySeconds"] = action.min_ready_seconds
    return body


def _deployment(scenario: Scenario, name: str) -> Deployment:
    for deployment in scenario.deployments:
        if deployment.name == name:
            return deployment
    raise KeyError(name)


def _container_change(old: Container, new: Container) -> dict[str, Any]:
    """The rollout fields of a container that ``new`` changes, after its name."""
    out: dict[str, Any] = {"name": old.name}
    if new.image != old.image:
        out["image"] = new.image
    for key, attribute in (
        ("livenessProbe", "liveness_probe"),
        ("readinessProbe", "readiness_probe"),
        ("startupProbe", "startup_probe"),
    ):
        probe = getattr(new, attribute)
        if probe != getattr(old, attribute) and probe is not None:
            out[key] = probe_yaml(probe)
    if new.pre_stop != old.pre_stop:
        pre_stop = new.pre_stop
        out["lifecycle"] = (
            {} if pre_stop is None else {"preStop": handler_yaml(pre_stop)}
        )
    return out
