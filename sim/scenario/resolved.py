"""The resolved scenario: what the simulator actually ran, as YAML.

``resolved_yaml`` writes every Pod with every default filled in (API spelling), the
ServiceAccounts and Secrets (generated secrets as plain manifests), the manifests
kept as they were, and the Scenario document with every setting explicit, the seed
included. Reading the text back with ``read_scenario_text`` gives an equal
``Scenario`` (source lines aside), so a resolved file reproduces a run.
"""

from __future__ import annotations

import base64
import io
import math
from typing import Any

from ruamel.yaml import YAML

from sim.scenario.behaviour import (
    Behaviour,
    Phase,
    SigtermKind,
    Window,
)
from sim.scenario.behaviours import (
    GrpcStatus,
    PhaseKind,
    distribution_yaml,
    duration_yaml,
)
from sim.scenario.document import (
    Action,
    ActionKind,
    ClusterSpec,
    FaultKind,
    RegistrySpec,
    Scenario,
)
from sim.scenario.scenario_doc import API_VERSION, KIND
from sim.scenario.spec import (
    Container,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    LifecycleHandler,
    ObjectMeta,
    Pod,
    Probe,
    ProbeHandler,
    Secret,
    ServiceAccount,
    SleepAction,
    TCPSocketAction,
    Volume,
    VolumeKind,
)

HEADER = (
    "# Resolved by probesim: every default filled in. Read it back with\n"
    "# `probesim run` to reproduce the run.\n"
)


def resolved_yaml(scenario: Scenario) -> str:
    """Return the resolved scenario as a multi-document YAML text."""
    documents: list[Any] = [pod_manifest(pod) for pod in scenario.pods]
    documents += [service_account_manifest(a) for a in scenario.service_accounts]
    documents += [secret_manifest(secret) for secret in scenario.secrets]
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


# Pods ----------------------------------------------------------------------------


def _metadata(meta: ObjectMeta) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": meta.name,
        "namespace": meta.namespace,
        "uid": meta.uid,
    }
    if meta.labels:
        metadata["labels"] = dict(meta.labels)
    if meta.annotations:
        metadata["annotations"] = dict(meta.annotations)
    return metadata


def _names(names: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"name": name} for name in names]


def pod_manifest(pod: Pod) -> dict[str, Any]:
    """Return a Pod manifest with every default explicit."""
    spec: dict[str, Any] = {
        "restartPolicy": pod.restart_policy.value,
        "terminationGracePeriodSeconds": pod.termination_grace_period_seconds,
        "serviceAccountName": pod.service_account_name,
    }
    if pod.automount_service_account_token is not None:
        spec["automountServiceAccountToken"] = pod.automount_service_account_token
    if pod.image_pull_secrets:
        spec["imagePullSecrets"] = _names(pod.image_pull_secrets)
    if pod.readiness_gates:
        spec["readinessGates"] = [{"conditionType": t} for t in pod.readiness_gates]
    if pod.volumes:
        spec["volumes"] = [_volume(v) for v in pod.volumes]
    if pod.init_containers:
        spec["initContainers"] = [_container(c, pod) for c in pod.init_containers]
    spec["containers"] = [_container(c, pod) for c in pod.containers]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _metadata(pod.metadata),
        "spec": spec,
    }


def _volume(volume: Volume) -> dict[str, Any]:
    """Write a volume; a source the model does not read is written as emptyDir."""
    if volume.kind is VolumeKind.SECRET:
        return {"name": volume.name, "secret": {"secretName": volume.secret_names[0]}}
    if volume.kind is VolumeKind.PROJECTED:
        sources = [{"secret": {"name": name}} for name in volume.secret_names]
        return {"name": volume.name, "projected": {"sources": sources}}
    return {"name": volume.name, "emptyDir": {}}


def _container(container: Container, pod: Pod) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": container.name,
        "image": container.image,
        "imagePullPolicy": container.image_pull_policy.value,
    }
    if container.command:
        out["command"] = list(container.command)
    if container.args:
        out["args"] = list(container.args)
    if container.ports:
        out["ports"] = [
            {"containerPort": p.container_port}
            | ({"name": p.name} if p.name else {})
            | {"protocol": p.protocol}
            for p in container.ports
        ]
    if container.env:
        out["env"] = [{"name": name, "value": value} for name, value in container.env]
    # Each secret the environment refers to, as an envFrom entry: the model keeps
    # which secrets a container uses, not which keys.
    secrets = [s for name, s in pod.env_secret_refs if name == container.name]
    if secrets:
        out["envFrom"] = [{"secretRef": {"name": s}} for s in secrets]
    if container.volume_mounts:
        out["volumeMounts"] = [
            {"name": m.name, "mountPath": m.mount_path, "readOnly": m.read_only}
            for m in container.volume_mounts
        ]
    for key, probe in (
        ("startupProbe", container.startup_probe),
        ("livenessProbe", container.liveness_probe),
        ("readinessProbe", container.readiness_probe),
    ):
        if probe is not None:
            out[key] = _probe(probe)
    if container.pre_stop is not None:
        out["lifecycle"] = {"preStop": _handler(container.pre_stop)}
    return out


def _probe(probe: Probe) -> dict[str, Any]:
    out = _handler(probe.handler)
    out |= {
        "initialDelaySeconds": probe.initial_delay_seconds,
        "timeoutSeconds": probe.timeout_seconds,
        "periodSeconds": probe.period_seconds,
        "successThreshold": probe.success_threshold,
        "failureThreshold": probe.failure_threshold,
    }
    if probe.termination_grace_period_seconds is not None:
        out["terminationGracePeriodSeconds"] = probe.termination_grace_period_seconds
    return out


def _handler(handler: ProbeHandler | LifecycleHandler) -> dict[str, Any]:
    if isinstance(handler, ExecAction):
        return {"exec": {"command": list(handler.command)}}
    if isinstance(handler, HTTPGetAction):
        body: dict[str, Any] = {"path": handler.path, "port": handler.port}
        if handler.host:
            body["host"] = handler.host
        body["scheme"] = handler.scheme.value
        if handler.http_headers:
            body["httpHeaders"] = [
                {"name": h.name, "value": h.value} for h in handler.http_headers
            ]
        return {"httpGet": body}
    if isinstance(handler, TCPSocketAction):
        body = {"port": handler.port}
        if handler.host:
            body["host"] = handler.host
        return {"tcpSocket": body}
    if isinstance(handler, GRPCAction):
        return {"grpc": {"port": handler.port, "service": handler.service}}
    if isinstance(handler, SleepAction):
        return {"sleep": {"seconds": handler.seconds}}
    raise TypeError(f"unknown handler {handler!r}")


# ServiceAccounts and Secrets -----------------------------------------------------


def service_account_manifest(account: ServiceAccount) -> dict[str, Any]:
    """Return a ServiceAccount manifest."""
    out: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(account.metadata),
    }
    if account.automount_service_account_token is not None:
        out["automountServiceAccountToken"] = account.automount_service_account_token
    if account.image_pull_secrets:
        out["imagePullSecrets"] = _names(account.image_pull_secrets)
    if account.secrets:
        out["secrets"] = _names(account.secrets)
    return out


def secret_manifest(secret: Secret) -> dict[str, Any]:
    """Return a Secret manifest, its values in base64 under ``data``."""
    out: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(secret.metadata),
        "type": secret.type,
    }
    if secret.data:
        out["data"] = {
            key: base64.b64encode(value).decode("ascii") for key, value in secret.data
        }
    return out


# The Scenario document -----------------------------------------------------------


def scenario_document(scenario: Scenario) -> dict[str, Any]:
    """Return the Scenario document with every setting explicit."""
    spec: dict[str, Any] = {
        "duration": duration_yaml(scenario.duration_seconds),
        "seed": scenario.seed,
        "cluster": _cluster(scenario.cluster),
        "behaviours": [_behaviour(b) for b in scenario.behaviours],
        "actions": [_action(a) for a in scenario.actions],
        "registries": [_registry(r) for r in scenario.registries],
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
    return out


def _action(action: Action) -> dict[str, Any]:
    at = duration_yaml(action.at_seconds)
    if action.kind is ActionKind.DELETE:
        body: dict[str, Any] = {"pod": action.pod}
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
