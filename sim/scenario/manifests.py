"""Kubernetes manifests written back from the typed objects, every default explicit.

The inverse of the reader's manifest tables: ``pod_manifest``,
``service_account_manifest``, ``secret_manifest``, ``service_manifest`` and
``deployment_manifest`` return plain YAML data (API spelling) that reads back as
an equal object. What the model does not keep is written in the simplest form that
reads back the same (a volume source it does not look into becomes ``emptyDir``).
"""

from __future__ import annotations

import base64
from typing import Any

from sim.scenario.deployments import DEPLOYMENT_API_VERSION
from sim.scenario.spec import (
    Container,
    Deployment,
    DeploymentStrategyType,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    LifecycleHandler,
    ObjectMeta,
    Pod,
    Probe,
    ProbeHandler,
    Secret,
    Service,
    ServiceAccount,
    SleepAction,
    TCPSocketAction,
    Volume,
    VolumeKind,
)

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
            | ({"hostPort": p.host_port} if p.host_port else {})
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
            out[key] = probe_yaml(probe)
    if container.pre_stop is not None:
        out["lifecycle"] = {"preStop": handler_yaml(container.pre_stop)}
    return out


def probe_yaml(probe: Probe) -> dict[str, Any]:
    """Write a probe with every counter explicit."""
    out = handler_yaml(probe.handler)
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


def handler_yaml(handler: ProbeHandler | LifecycleHandler) -> dict[str, Any]:
    """Write a probe or lifecycle handler (``{"httpGet": {...}}``)."""
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


# Services and Deployments --------------------------------------------------------


def service_manifest(service: Service) -> dict[str, Any]:
    """Return a Service manifest; every port with its protocol and target port."""
    spec: dict[str, Any] = {}
    if service.selector:
        spec["selector"] = dict(service.selector)
    spec["ports"] = [
        ({"name": p.name} if p.name else {})
        | {"protocol": p.protocol, "port": p.port, "targetPort": p.target_port}
        for p in service.ports
    ]
    spec["publishNotReadyAddresses"] = service.publish_not_ready_addresses
    spec["type"] = service.type
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(service.metadata),
        "spec": spec,
    }


def template_manifest(template: Pod) -> dict[str, Any]:
    """Return a pod template: its labels and annotations, and the pod spec."""
    metadata: dict[str, Any] = {}
    if template.metadata.labels:
        metadata["labels"] = dict(template.metadata.labels)
    if template.metadata.annotations:
        metadata["annotations"] = dict(template.metadata.annotations)
    return {"metadata": metadata, "spec": pod_manifest(template)["spec"]}


def deployment_manifest(deployment: Deployment) -> dict[str, Any]:
    """Return a Deployment manifest with every default explicit."""
    strategy: dict[str, Any] = {"type": deployment.strategy.value}
    if deployment.strategy is DeploymentStrategyType.ROLLING_UPDATE:
        strategy["rollingUpdate"] = {
            "maxSurge": deployment.max_surge,
            "maxUnavailable": deployment.max_unavailable,
        }
    spec: dict[str, Any] = {
        "replicas": deployment.replicas,
        "selector": {"matchLabels": dict(deployment.selector)},
        "template": template_manifest(deployment.template),
        "strategy": strategy,
        "minReadySeconds": deployment.min_ready_seconds,
        "progressDeadlineSeconds": deployment.progress_deadline_seconds,
    }
    return {
        "apiVersion": DEPLOYMENT_API_VERSION,
        "kind": "Deployment",
        "metadata": _metadata(deployment.metadata),
        "spec": spec,
    }
