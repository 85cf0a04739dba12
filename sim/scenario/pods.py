"""Reading Pod manifests: field tables, the API server's defaults and validation.

The tables below model the fields of Pod, ObjectMeta, PodSpec, Container, Probe and
the handlers that the simulator uses (R2.1, R2.2). Every other field of the
Kubernetes API (listed in ``kubefields``) is accepted and ignored, so ``kubectl get
pod -o yaml`` output reads cleanly while a typo still gets an ``unknown field``
error. Validation follows the API server (R2.3) and is worded like it; what the
kubelet only finds at probe time (a named port the container does not have, R2.4) is
a warning.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from sim.scenario.context import INVALID, REQUIRED, Ctx
from sim.scenario.fields import (
    Choice,
    Custom,
    Field,
    Int,
    ListOf,
    MapOf,
    Obj,
    Str,
    Values,
)
from sim.scenario.kubefields import (
    CONTAINER_FIELDS,
    CONTAINER_PORT_FIELDS,
    ENV_VAR_FIELDS,
    LIFECYCLE_FIELDS,
    OBJECT_META_FIELDS,
    POD_FIELDS,
    POD_SPEC_FIELDS,
)
from sim.scenario.names import (
    DNS_LABEL_PATTERN,
    DNS_SUBDOMAIN_PATTERN,
    HEADER_NAME_PATTERN,
    PORT_NAME_PATTERN,
    QUALIFIED_NAME_PATTERN,
    default_pull_policy,
    dns_label,
    dns_subdomain,
    header_name,
    label_value,
    no_surrounding_space,
    port_name,
    qualified_name,
)
from sim.scenario.spec import (
    Container,
    ContainerPort,
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    HTTPHeader,
    ObjectMeta,
    Pod,
    Probe,
    ProbeType,
    PullPolicy,
    RestartPolicy,
    SleepAction,
    TCPSocketAction,
    URIScheme,
)

# Probe integers left out or 0 take these values (R2.1).
PROBE_DEFAULTS = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
PROBE_HANDLERS = ("exec", "httpGet", "tcpSocket", "grpc")
LIFECYCLE_HANDLERS = ("exec", "httpGet", "tcpSocket", "sleep")
PROBE_FIELD_OF = {
    ProbeType.LIVENESS: "livenessProbe",
    ProbeType.READINESS: "readinessProbe",
    ProbeType.STARTUP: "startupProbe",
}
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://probesim.invalid/pods")


def _ignored(all_fields: tuple[str, ...], table: tuple[Field, ...]) -> tuple[str, ...]:
    modelled = {f.name for f in table}
    return tuple(name for name in all_fields if name not in modelled)


def _read_port(ctx: Ctx, value: Any) -> Any:
    """Read an int-or-string port: 1-65535, or an IANA service name."""
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= 65535:
            return ctx.invalid(value, "must be between 1 and 65535, inclusive")
        return int(value)
    if isinstance(value, str):
        detail = port_name(value)
        return ctx.invalid(value, detail) if detail else str(value)
    return ctx.invalid(value, "must be a port number or a port name")


PORT = Custom(
    _read_port,
    {
        "description": "A port number (1-65535) or the name of a container port.",
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 65535},
            {"type": "string", "pattern": PORT_NAME_PATTERN},
        ],
    },
    name="port",
)
PORT_NUMBER = Int(1, 65535)
STRINGS = ListOf(Str())
NON_NEGATIVE = Int(minimum=0)


def _handler(values: Values, handlers: tuple[str, ...]) -> Any:
    return next(values[name] for name in handlers if name in values.given)


EXEC = Obj(
    (Field("command", STRINGS, REQUIRED, "Command and arguments; no shell."),),
    build=lambda v: ExecAction(v["command"]),
    description="Run a command in the container.",
    schema_name="ExecAction",
)
HTTP_HEADER = Obj(
    (
        Field("name", Str(header_name, HEADER_NAME_PATTERN), REQUIRED, "Header name."),
        Field("value", Str(), "", "Header value."),
    ),
    build=lambda v: HTTPHeader(v["name"], v["value"]),
    schema_name="HTTPHeader",
)
HTTP_GET = Obj(
    (
        Field("path", Str(), "/", "Request path.", "/"),
        Field("port", PORT, REQUIRED, "Port number or container port name."),
        Field("host", Str(), "", "Host to connect to; the pod IP when empty."),
        Field("scheme", Choice.of(URIScheme), URIScheme.HTTP, "HTTP or HTTPS.", "HTTP"),
        Field("httpHeaders", ListOf(HTTP_HEADER), (), "Extra request headers."),
    ),
    build=lambda v: HTTPGetAction(
        v["port"], v["path"] or "/", v["host"], v["scheme"], v["httpHeaders"]
    ),
    description="An HTTP GET; 200-399 is success.",
    schema_name="HTTPGetAction",
)
TCP_SOCKET = Obj(
    (
        Field("port", PORT, REQUIRED, "Port number or container port name."),
        Field("host", Str(), "", "Host to connect to; the pod IP when empty."),
    ),
    build=lambda v: TCPSocketAction(v["port"], v["host"]),
    description="A TCP connect; success when the connection opens.",
    schema_name="TCPSocketAction",
)
GRPC = Obj(
    (
        Field("port", PORT_NUMBER, REQUIRED, "Port number (names are not allowed)."),
        Field("service", Str(), "", "Service name sent in the health check."),
    ),
    build=lambda v: GRPCAction(v["port"], v["service"]),
    description="A grpc.health.v1 Check; SERVING is success.",
    schema_name="GRPCAction",
)
SLEEP = Obj(
    (Field("seconds", NON_NEGATIVE, REQUIRED, "Seconds to sleep."),),
    build=lambda v: SleepAction(v["seconds"]),
    schema_name="SleepAction",
)


def _probe_table(probe_type: ProbeType) -> Obj:
    """Return the Probe table, with the checks that depend on the probe type."""

    def check(values: Values) -> None:
        threshold = values["successThreshold"]
        if (
            probe_type is not ProbeType.READINESS
            and values.ok("successThreshold")
            and threshold not in (0, 1)
        ):
            values.at("successThreshold").invalid(threshold, "must be 1")
        grace = values["terminationGracePeriodSeconds"]
        if probe_type is ProbeType.READINESS and grace not in (None, INVALID):
            values.at("terminationGracePeriodSeconds").invalid(
                grace, "must not be set for readinessProbes"
            )

    def build(values: Values) -> Probe:
        return Probe(
            handler=_handler(values, PROBE_HANDLERS),
            initial_delay_seconds=values["initialDelaySeconds"],
            timeout_seconds=values["timeoutSeconds"]
            or PROBE_DEFAULTS["timeoutSeconds"],
            period_seconds=values["periodSeconds"] or PROBE_DEFAULTS["periodSeconds"],
            success_threshold=values["successThreshold"]
            or PROBE_DEFAULTS["successThreshold"],
            failure_threshold=values["failureThreshold"]
            or PROBE_DEFAULTS["failureThreshold"],
            termination_grace_period_seconds=values["terminationGracePeriodSeconds"],
        )

    def count(name: str, what: str) -> Field:
        default = PROBE_DEFAULTS[name]
        text = f"{what} Left out or 0 means {default}."
        return Field(name, NON_NEGATIVE, 0, text, default)

    return Obj(
        (
            Field("exec", EXEC, None, "Run a command; exit code 0 is success."),
            Field("httpGet", HTTP_GET, None, "HTTP GET; 200-399 is success."),
            Field("tcpSocket", TCP_SOCKET, None, "TCP connect."),
            Field("grpc", GRPC, None, "gRPC health check."),
            Field(
                "initialDelaySeconds",
                NON_NEGATIVE,
                0,
                "Seconds after the container start before the first probe.",
                0,
            ),
            count("timeoutSeconds", "Seconds before an attempt times out."),
            count("periodSeconds", "Seconds between attempts."),
            count("successThreshold", "Successes in a row to count as passing."),
            count("failureThreshold", "Failures in a row to count as failing."),
            Field(
                "terminationGracePeriodSeconds",
                Int(minimum=1, range_message="must be greater than 0"),
                None,
                "Grace period when this probe kills the container (not readiness).",
            ),
        ),
        check=check,
        build=build,
        description=f"A {probe_type.value} probe: exactly one handler.",
        schema_name=f"{probe_type.title}Probe",
        exactly_one=PROBE_HANDLERS,
        one_what="handler type",
    )


LIFECYCLE_HANDLER = Obj(
    (
        Field("exec", EXEC, None, "Run a command."),
        Field("httpGet", HTTP_GET, None, "HTTP GET."),
        Field("tcpSocket", TCP_SOCKET, None, "TCP connect (deprecated)."),
        Field("sleep", SLEEP, None, "Sleep for some seconds."),
    ),
    exactly_one=LIFECYCLE_HANDLERS,
    one_what="handler type",
    build=lambda v: _handler(v, LIFECYCLE_HANDLERS),
    schema_name="LifecycleHandler",
)


def _check_lifecycle(values: Values) -> None:
    if "postStart" in values.given:
        values.at("postStart").warn(
            "postStart hooks are not simulated yet; the hook is ignored"
        )


_LIFECYCLE_TABLE = (
    Field("preStop", LIFECYCLE_HANDLER, None, "Run before the stop signal."),
    Field("postStart", LIFECYCLE_HANDLER, None, "Accepted; not simulated yet."),
)
LIFECYCLE = Obj(
    _LIFECYCLE_TABLE,
    ignored=_ignored(LIFECYCLE_FIELDS, _LIFECYCLE_TABLE),
    check=_check_lifecycle,
    build=lambda v: v["preStop"],
    schema_name="Lifecycle",
)

_PORT_TABLE = (
    Field("containerPort", PORT_NUMBER, REQUIRED, "Port number."),
    Field("name", Str(port_name, PORT_NAME_PATTERN), "", "Port name (IANA style)."),
    Field("protocol", Choice(("TCP", "UDP", "SCTP")), "TCP", "Protocol.", "TCP"),
)
CONTAINER_PORT = Obj(
    _PORT_TABLE,
    ignored=_ignored(CONTAINER_PORT_FIELDS, _PORT_TABLE),
    build=lambda v: ContainerPort(v["containerPort"], v["name"], v["protocol"]),
    schema_name="ContainerPort",
)


def _env_var(values: Values) -> tuple[str, str] | None:
    if "value" not in values.given and values.node.get("valueFrom") is not None:
        return None
    return (values["name"], values["value"])


_ENV_TABLE = (
    Field("name", Str(), REQUIRED, "Variable name."),
    Field("value", Str(), "", "Value; valueFrom is accepted and ignored."),
)
ENV_VAR = Obj(
    _ENV_TABLE,
    ignored=_ignored(ENV_VAR_FIELDS, _ENV_TABLE),
    build=_env_var,
    schema_name="EnvVar",
)


def _check_container(values: Values) -> None:
    ports = values["ports"]
    if ports is INVALID:
        return
    seen: set[str] = set()
    for index, port in enumerate(ports):
        if port.name and port.name in seen:
            item = values.at("ports").item(values.node["ports"], index)
            item.key(values.node["ports"][index], "name").duplicate(port.name)
        seen.add(port.name)
    name = values["name"] if values.ok("name") else "?"
    for probe_type, key in PROBE_FIELD_OF.items():
        probe = values[key]
        if probe in (None, INVALID):
            continue
        handler = probe.handler
        if not isinstance(handler, HTTPGetAction | TCPSocketAction):
            continue
        if isinstance(handler.port, str) and handler.port not in seen:
            raw = values.node[key]
            handler_key = (
                "httpGet" if isinstance(handler, HTTPGetAction) else "tcpSocket"
            )
            at = values.at(key).key(raw, handler_key).key(raw[handler_key], "port")
            at.warn(
                f'probe port "{handler.port}" is not a port name of container '
                f'"{name}": the kubelet will report the {probe_type.value} probe as '
                "errored every period and never count it"
            )


def _build_container(values: Values) -> Container:
    image = values["image"]
    return Container(
        name=values["name"],
        image=image,
        command=values["command"],
        args=values["args"],
        ports=values["ports"],
        image_pull_policy=values["imagePullPolicy"] or default_pull_policy(image),
        liveness_probe=values["livenessProbe"],
        readiness_probe=values["readinessProbe"],
        startup_probe=values["startupProbe"],
        pre_stop=values["lifecycle"],
        env=tuple(pair for pair in values["env"] if pair is not None),
    )


_CONTAINER_TABLE = (
    Field("name", Str(dns_label, DNS_LABEL_PATTERN), REQUIRED, "Container name."),
    Field("image", Str(no_surrounding_space), REQUIRED, "Image reference."),
    Field("command", STRINGS, (), "Entrypoint (the image's when empty)."),
    Field("args", STRINGS, (), "Arguments to the entrypoint."),
    Field("ports", ListOf(CONTAINER_PORT), (), "Ports; named ports serve probes."),
    Field(
        "imagePullPolicy",
        Choice.of(PullPolicy),
        None,
        "Always when the tag is latest or absent (no digest), else IfNotPresent.",
    ),
    Field("livenessProbe", _probe_table(ProbeType.LIVENESS), None, "Restarts on fail."),
    Field("readinessProbe", _probe_table(ProbeType.READINESS), None, "Gates Ready."),
    Field("startupProbe", _probe_table(ProbeType.STARTUP), None, "Holds the others."),
    Field("lifecycle", LIFECYCLE, None, "Lifecycle hooks; preStop is simulated."),
    Field("env", ListOf(ENV_VAR), (), "Environment variables (value only)."),
    Field(
        "restartPolicy",
        Choice.of(RestartPolicy),
        None,
        "Container restart policy; accepted, only init containers use it.",
    ),
)
CONTAINER = Obj(
    _CONTAINER_TABLE,
    ignored=_ignored(CONTAINER_FIELDS, _CONTAINER_TABLE),
    check=_check_container,
    build=_build_container,
    description="A container.",
    schema_name="Container",
)

READINESS_GATE = Obj(
    (
        Field(
            "conditionType",
            Str(qualified_name, QUALIFIED_NAME_PATTERN),
            REQUIRED,
            "Pod condition that must be True for the pod to be Ready.",
        ),
    ),
    build=lambda v: v["conditionType"],
    schema_name="PodReadinessGate",
)


def _check_spec(values: Values) -> None:
    seen: set[str] = set()
    for key in ("initContainers", "containers"):
        raw = values.node.get(key)
        if not isinstance(raw, list):
            continue
        for index, container in enumerate(raw):
            name = container.get("name") if isinstance(container, dict) else None
            if not isinstance(name, str) or not name:
                continue
            if name in seen:
                item = values.at(key).item(raw, index)
                item.key(container, "name").duplicate(name)
            seen.add(name)
    if "initContainers" in values.given:
        values.at("initContainers").warn(
            "init containers are not simulated yet; they are taken as finished at once"
        )


_SPEC_TABLE = (
    Field("containers", ListOf(CONTAINER), REQUIRED, "The containers of the pod."),
    Field("initContainers", ListOf(CONTAINER), (), "Read; not simulated yet."),
    Field(
        "restartPolicy",
        Choice.of(RestartPolicy),
        RestartPolicy.ALWAYS,
        "Restart policy of all containers.",
        "Always",
    ),
    Field(
        "terminationGracePeriodSeconds",
        NON_NEGATIVE,
        30,
        "Seconds between SIGTERM and SIGKILL.",
        30,
    ),
    Field("readinessGates", ListOf(READINESS_GATE), (), "Extra readiness conditions."),
    Field("serviceAccountName", Str(), "", "Service account.", "default"),
    Field("serviceAccount", Str(), "", "Deprecated alias of serviceAccountName."),
)
POD_SPEC = Obj(
    _SPEC_TABLE,
    ignored=_ignored(POD_SPEC_FIELDS, _SPEC_TABLE),
    check=_check_spec,
    schema_name="PodSpec",
)


def derived_uid(namespace: str, name: str) -> str:
    """Return the deterministic uid given to a pod that has none."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{namespace}/{name}"))


def _generated_name(prefix: str, line: int) -> str:
    """Return a name with a deterministic stand-in for the random suffix."""
    digest = hashlib.sha256(f"{prefix}@{line}".encode()).hexdigest()
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    return prefix + "".join(alphabet[int(digest[i : i + 2], 16) % 27] for i in range(5))


def _check_metadata(values: Values) -> None:
    if "name" not in values.given and "generateName" not in values.given:
        values.at("name").required("name or generateName is required")


def _build_metadata(values: Values) -> ObjectMeta:
    namespace = values["namespace"]
    name = values["name"] or _generated_name(values["generateName"], values.ctx.line)
    return ObjectMeta(
        name=name,
        namespace=namespace,
        uid=values["uid"] or derived_uid(namespace, name),
        labels=values["labels"],
        annotations=values["annotations"],
    )


_META_TABLE = (
    Field("name", Str(dns_subdomain, DNS_SUBDOMAIN_PATTERN), None, "Pod name."),
    Field("generateName", Str(), "", "Name prefix when name is absent."),
    Field("namespace", Str(dns_label, DNS_LABEL_PATTERN), "default", "", "default"),
    Field("uid", Str(), "", "Derived from namespace/name when absent."),
    Field("labels", MapOf(Str(label_value), qualified_name), (), "Labels."),
    Field("annotations", MapOf(Str()), (), "Annotations."),
)
OBJECT_META = Obj(
    _META_TABLE,
    ignored=_ignored(OBJECT_META_FIELDS, _META_TABLE),
    check=_check_metadata,
    build=_build_metadata,
    schema_name="ObjectMeta",
)


def _build_pod(values: Values) -> Pod:
    spec = values["spec"]
    return Pod(
        metadata=values["metadata"],
        containers=spec["containers"],
        restart_policy=spec["restartPolicy"],
        termination_grace_period_seconds=spec["terminationGracePeriodSeconds"],
        readiness_gates=spec["readinessGates"],
        service_account_name=spec["serviceAccountName"]
        or spec["serviceAccount"]
        or "default",
        init_containers=spec["initContainers"],
        source_line=values.ctx.line,
    )


_POD_TABLE = (
    Field("apiVersion", Choice(("v1",)), REQUIRED, "Always v1."),
    Field("kind", Choice(("Pod",)), REQUIRED, "Pod."),
    Field("metadata", OBJECT_META, REQUIRED, "Name, namespace, uid, labels."),
    Field("spec", POD_SPEC, REQUIRED, "The pod spec."),
)
POD = Obj(
    _POD_TABLE,
    ignored=_ignored(POD_FIELDS, _POD_TABLE),
    build=_build_pod,
    description="A Pod manifest.",
    schema_name="Pod",
)


def read_pod(ctx: Ctx, data: Any) -> Pod | None:
    """Read one Pod document; report problems through ``ctx`` and return None."""
    pod = POD.read(ctx, data)
    return None if pod is INVALID else pod
