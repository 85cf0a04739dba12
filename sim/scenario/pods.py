"""Reading Pod manifests: field tables, the API server's defaults and validation.

The tables below model the fields of Pod, ObjectMeta, PodSpec, Container, Probe, the
handlers, volumes and secret references that the simulator uses (R2.1, R2.2, R10).
Every other field of the Kubernetes API (listed in ``kubefields``) is accepted and
ignored, so ``kubectl get pod -o yaml`` output reads cleanly while a typo still gets
an ``unknown field`` error. Validation follows the API server (R2.3) and is worded
like it; what the kubelet only finds at probe time (a named port the container does
not have, R2.4) is a warning.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sim.scenario.context import INVALID, REQUIRED, Ctx, hint, show
from sim.scenario.fields import (
    Bool,
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
    ENV_FROM_SOURCE_FIELDS,
    ENV_VAR_FIELDS,
    ENV_VAR_SOURCE_FIELDS,
    LIFECYCLE_FIELDS,
    LOCAL_OBJECT_REFERENCE_FIELDS,
    OBJECT_META_FIELDS,
    POD_FIELDS,
    POD_SPEC_FIELDS,
    PROJECTED_VOLUME_SOURCE_FIELDS,
    SECRET_ENV_SOURCE_FIELDS,
    SECRET_KEY_SELECTOR_FIELDS,
    SECRET_PROJECTION_FIELDS,
    SECRET_VOLUME_SOURCE_FIELDS,
    VOLUME_FIELDS,
    VOLUME_MOUNT_FIELDS,
    VOLUME_PROJECTION_FIELDS,
    VOLUME_SOURCES,
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
    Volume,
    VolumeKind,
    VolumeMount,
)
from sim.scenario.yamlio import is_mapping, is_sequence

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
CONTAINER_LISTS = ("initContainers", "containers")
_UID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://probesim.invalid/pods")


def ignored_fields(
    all_fields: tuple[str, ...], table: tuple[Field, ...]
) -> tuple[str, ...]:
    """Return the fields of ``all_fields`` that ``table`` does not model."""
    modelled = {f.name for f in table}
    return tuple(name for name in all_fields if name not in modelled)


def name_reference(
    all_fields: tuple[str, ...],
    schema_name: str,
    key: str = "name",
    *extra: Field,
) -> Obj:
    """Return the table of a reference to an object by name, read into the name.

    Parameters
    ----------
    all_fields
        Every field of the API type; those not modelled are accepted and ignored.
    schema_name
        The API type's name, for the JSON Schema.
    key
        The field holding the name (``secretName`` for secret volumes).
    *extra
        Further required fields, validated and not kept (a secret key).
    """
    table = (Field(key, Str(), REQUIRED, "Name of the object referred to."), *extra)
    return Obj(
        table,
        ignored=ignored_fields(all_fields, table),
        build=lambda v: v[key],
        schema_name=schema_name,
    )


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
NON_NEGATIVE_64 = Int(minimum=0, bits=64)  # seconds the API keeps in an int64


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
    (Field("seconds", NON_NEGATIVE_64, REQUIRED, "Seconds to sleep."),),
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
                Int(minimum=1, range_message="must be greater than 0", bits=64),
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
    ignored=ignored_fields(LIFECYCLE_FIELDS, _LIFECYCLE_TABLE),
    check=_check_lifecycle,
    build=lambda v: v["preStop"],
    schema_name="Lifecycle",
)

_PORT_TABLE = (
    Field("containerPort", PORT_NUMBER, REQUIRED, "Port number."),
    Field("name", Str(port_name, PORT_NAME_PATTERN), "", "Port name (IANA style)."),
    Field("protocol", Choice(("TCP", "UDP", "SCTP")), "TCP", "Protocol.", "TCP"),
    Field("hostPort", Int(0, 65535), 0, "Port on the node; 0 for none.", 0),
)
CONTAINER_PORT = Obj(
    _PORT_TABLE,
    ignored=ignored_fields(CONTAINER_PORT_FIELDS, _PORT_TABLE),
    build=lambda v: ContainerPort(
        v["containerPort"], v["name"], v["protocol"], v["hostPort"]
    ),
    schema_name="ContainerPort",
)


@dataclass(frozen=True)
class _Env:
    """One ``env`` entry as read: a plain value, or a reference (to a secret)."""

    pair: tuple[str, str] | None
    secret: str | None = None


@dataclass(frozen=True)
class _ReadContainer:
    """A container as read, with the secrets its environment refers to."""

    container: Container
    secret_refs: tuple[str, ...] = ()


LOCAL_OBJECT_REFERENCE = name_reference(
    LOCAL_OBJECT_REFERENCE_FIELDS, "LocalObjectReference"
)
SECRET_KEY_SELECTOR = name_reference(
    SECRET_KEY_SELECTOR_FIELDS,
    "SecretKeySelector",
    "name",
    Field("key", Str(), REQUIRED, "Key of the secret."),
)
_ENV_SOURCE_TABLE = (
    Field("secretKeyRef", SECRET_KEY_SELECTOR, None, "A key of a secret."),
)
ENV_VAR_SOURCE = Obj(
    _ENV_SOURCE_TABLE,
    ignored=ignored_fields(ENV_VAR_SOURCE_FIELDS, _ENV_SOURCE_TABLE),
    build=lambda v: v["secretKeyRef"],
    schema_name="EnvVarSource",
)


def _check_env_var(values: Values) -> None:
    if values["value"] and "valueFrom" in values.given:
        values.at("valueFrom").invalid(
            "", "may not be specified when `value` is not empty"
        )


def _env_var(values: Values) -> _Env:
    if "valueFrom" in values.given:
        return _Env(None, values["valueFrom"])
    return _Env((values["name"], values["value"]))


_ENV_TABLE = (
    Field("name", Str(), REQUIRED, "Variable name."),
    Field("value", Str(), "", "Value."),
    Field("valueFrom", ENV_VAR_SOURCE, None, "Value from elsewhere (a secret key)."),
)
ENV_VAR = Obj(
    _ENV_TABLE,
    ignored=ignored_fields(ENV_VAR_FIELDS, _ENV_TABLE),
    check=_check_env_var,
    build=_env_var,
    schema_name="EnvVar",
)
_ENV_FROM_TABLE = (
    Field(
        "secretRef",
        name_reference(SECRET_ENV_SOURCE_FIELDS, "SecretEnvSource"),
        None,
        "Every key of a secret.",
    ),
)
ENV_FROM_SOURCE = Obj(
    _ENV_FROM_TABLE,
    ignored=ignored_fields(ENV_FROM_SOURCE_FIELDS, _ENV_FROM_TABLE),
    build=lambda v: v["secretRef"],
    schema_name="EnvFromSource",
)
_MOUNT_TABLE = (
    Field("name", Str(), REQUIRED, "Name of a volume of the pod."),
    Field("mountPath", Str(), REQUIRED, "Where the volume appears in the container."),
    Field("readOnly", Bool(), False, "Mount read-only.", False),
)
VOLUME_MOUNT = Obj(
    _MOUNT_TABLE,
    ignored=ignored_fields(VOLUME_MOUNT_FIELDS, _MOUNT_TABLE),
    build=lambda v: VolumeMount(v["name"], v["mountPath"], v["readOnly"]),
    schema_name="VolumeMount",
)


def _repeated(
    values: Values, key: str, attribute: str, name: str
) -> Iterator[tuple[Ctx, Any]]:
    """Yield where and what each item of a list repeats of an earlier item.

    ``attribute`` is read from the built items; ``name`` is its field in the YAML.
    Empty values never repeat; nothing is yielded when the list is invalid.
    """
    items = values[key]
    if items is INVALID:
        return
    raw = values.node.get(key)
    seen: set[Any] = set()
    for index, item in enumerate(items):
        value = getattr(item, attribute)
        if value and value in seen:
            yield values.at(key).item(raw, index).key(raw[index], name), value
        seen.add(value)


def _raw_items(ctx: Ctx, node: Any, key: str) -> Iterator[tuple[Ctx, Any]]:
    """Yield the context and YAML of each mapping item of the list ``node[key]``."""
    items = node.get(key) if is_mapping(node) else None
    if not is_sequence(items):
        return
    for index, item in enumerate(items):
        if is_mapping(item):
            yield ctx.key(node, key).item(items, index), item


def _check_container(values: Values) -> None:
    for at, path in _repeated(values, "volumeMounts", "mount_path", "mountPath"):
        at.invalid(path, "must be unique")
    for at, repeated_name in _repeated(values, "ports", "name", "name"):
        at.duplicate(repeated_name)
    ports = values["ports"]
    if ports is INVALID:
        return
    seen = {port.name for port in ports}
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


def _build_container(values: Values) -> _ReadContainer:
    image = values["image"]
    env: tuple[_Env, ...] = values["env"]
    secrets = [e.secret for e in env if e.secret] + [
        name for name in values["envFrom"] if name
    ]
    container = Container(
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
        env=tuple(e.pair for e in env if e.pair is not None),
        volume_mounts=values["volumeMounts"],
    )
    return _ReadContainer(container, tuple(dict.fromkeys(secrets)))


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
    Field("env", ListOf(ENV_VAR), (), "Environment variables."),
    Field("envFrom", ListOf(ENV_FROM_SOURCE), (), "Variables from secret keys."),
    Field("volumeMounts", ListOf(VOLUME_MOUNT), (), "Volumes of the pod to mount."),
    Field(
        "restartPolicy",
        Choice.of(RestartPolicy),
        None,
        "Container restart policy; accepted, only init containers use it.",
    ),
)
CONTAINER = Obj(
    _CONTAINER_TABLE,
    ignored=ignored_fields(CONTAINER_FIELDS, _CONTAINER_TABLE),
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


SECRET_VOLUME = name_reference(
    SECRET_VOLUME_SOURCE_FIELDS, "SecretVolumeSource", "secretName"
)
_PROJECTION_TABLE = (
    Field(
        "secret",
        name_reference(SECRET_PROJECTION_FIELDS, "SecretProjection"),
        None,
        "Keys of a secret.",
    ),
)
VOLUME_PROJECTION = Obj(
    _PROJECTION_TABLE,
    ignored=ignored_fields(VOLUME_PROJECTION_FIELDS, _PROJECTION_TABLE),
    build=lambda v: v["secret"],
    schema_name="VolumeProjection",
)
_PROJECTED_TABLE = (
    Field("sources", ListOf(VOLUME_PROJECTION), (), "What the volume gathers."),
)
PROJECTED_VOLUME = Obj(
    _PROJECTED_TABLE,
    ignored=ignored_fields(PROJECTED_VOLUME_SOURCE_FIELDS, _PROJECTED_TABLE),
    build=lambda v: tuple(name for name in v["sources"] if name),
    schema_name="ProjectedVolumeSource",
)


def _check_volume_source(values: Values) -> None:
    """Exactly one volume source, as the API server requires."""
    given = [k for k in VOLUME_SOURCES if values.node.get(k) is not None]
    if not given:
        values.ctx.required("must specify a volume type")
    for name in given[1:]:
        values.at(name).forbidden("may not specify more than 1 volume type")


def _build_volume(values: Values) -> Volume:
    name = values["name"]
    if "secret" in values.given:
        return Volume(name, VolumeKind.SECRET, (values["secret"],))
    if "projected" in values.given:
        return Volume(name, VolumeKind.PROJECTED, values["projected"])
    return Volume(name)


_VOLUME_TABLE = (
    Field("name", Str(dns_label, DNS_LABEL_PATTERN), REQUIRED, "Volume name."),
    Field("secret", SECRET_VOLUME, None, "The keys of a secret as files."),
    Field("projected", PROJECTED_VOLUME, None, "Several sources in one directory."),
)
VOLUME = Obj(
    _VOLUME_TABLE,
    ignored=ignored_fields(VOLUME_FIELDS, _VOLUME_TABLE),
    check=_check_volume_source,
    build=_build_volume,
    description="A pod volume: exactly one source; other sources are not inspected.",
    schema_name="Volume",
)


def _check_names(values: Values) -> None:
    """Container names are unique among containers and init containers."""
    seen: set[str] = set()
    for key in CONTAINER_LISTS:
        for at, container in _raw_items(values.ctx, values.node, key):
            name = container.get("name")
            if not isinstance(name, str) or not name:
                continue
            if name in seen:
                at.key(container, "name").duplicate(name)
            seen.add(name)


def _check_volumes(values: Values) -> None:
    """Volume names are unique, and every mount names a volume of the pod."""
    for at, name in _repeated(values, "volumes", "name", "name"):
        at.duplicate(name)
    volumes = values["volumes"]
    if volumes is INVALID:
        return
    names = [volume.name for volume in volumes]
    for key in CONTAINER_LISTS:
        for at, container in _raw_items(values.ctx, values.node, key):
            for mount_at, mount in _raw_items(at, container, "volumeMounts"):
                name = mount.get("name")
                if isinstance(name, str) and name and name not in names:
                    mount_at.key(mount, "name").report(
                        f"Not found: {show(name)}{hint(name, names)}"
                    )


def _check_spec(values: Values) -> None:
    _check_names(values)
    _check_volumes(values)
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
        NON_NEGATIVE_64,
        30,
        "Seconds between SIGTERM and SIGKILL.",
        30,
    ),
    Field("readinessGates", ListOf(READINESS_GATE), (), "Extra readiness conditions."),
    Field("serviceAccountName", Str(), "", "Service account.", "default"),
    Field("serviceAccount", Str(), "", "Deprecated alias of serviceAccountName."),
    Field(
        "automountServiceAccountToken",
        Bool(),
        None,
        "Mount the API token; unset: as the service account says (R10.3).",
    ),
    Field(
        "imagePullSecrets",
        ListOf(LOCAL_OBJECT_REFERENCE),
        (),
        "Secrets with registry credentials; empty: the service account's (R10.4).",
    ),
    Field("volumes", ListOf(VOLUME), (), "Volumes the containers may mount."),
)
POD_SPEC = Obj(
    _SPEC_TABLE,
    ignored=ignored_fields(POD_SPEC_FIELDS, _SPEC_TABLE),
    check=_check_spec,
    schema_name="PodSpec",
)


def derived_uid(namespace: str, name: str) -> str:
    """Return the deterministic uid given to a pod that has none."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{namespace}/{name}"))


def with_kind_uid(metadata: ObjectMeta, raw: Any, kind: str) -> ObjectMeta:
    """Give an object other than a Pod a uid of its own when its manifest has none.

    The uid is derived from kind, namespace and name, so a Service and a
    Deployment of one name do not share it.
    """
    if is_mapping(raw) and raw.get("uid"):
        return metadata
    uid = derived_uid(metadata.namespace, f"{kind}/{metadata.name}")
    return ObjectMeta(
        metadata.name, metadata.namespace, uid, metadata.labels, metadata.annotations
    )


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
    Field("name", Str(dns_subdomain, DNS_SUBDOMAIN_PATTERN), None, "Object name."),
    Field("generateName", Str(), "", "Name prefix when name is absent."),
    Field("namespace", Str(dns_label, DNS_LABEL_PATTERN), "default", "", "default"),
    Field("uid", Str(), "", "Derived from namespace/name when absent."),
    Field("labels", MapOf(Str(label_value), qualified_name), (), "Labels."),
    Field("annotations", MapOf(Str()), (), "Annotations."),
)
OBJECT_META = Obj(
    _META_TABLE,
    ignored=ignored_fields(OBJECT_META_FIELDS, _META_TABLE),
    check=_check_metadata,
    build=_build_metadata,
    schema_name="ObjectMeta",
)


def _build_pod(values: Values) -> Pod:
    return pod_from_spec(values["metadata"], values["spec"], values.ctx.line)


def pod_from_spec(metadata: ObjectMeta, spec: dict[str, Any], line: int) -> Pod:
    """Build a Pod from its metadata and the fields ``POD_SPEC`` read.

    Parameters
    ----------
    metadata
        The pod's metadata (a Deployment's template gets the Deployment's name).
    spec
        What ``POD_SPEC.read`` returned (not ``INVALID``).
    line
        Line of the manifest, kept in ``Pod.source_line``.
    """
    read: tuple[_ReadContainer, ...] = (*spec["initContainers"], *spec["containers"])
    return Pod(
        metadata=metadata,
        containers=tuple(r.container for r in spec["containers"]),
        restart_policy=spec["restartPolicy"],
        termination_grace_period_seconds=spec["terminationGracePeriodSeconds"],
        readiness_gates=spec["readinessGates"],
        service_account_name=spec["serviceAccountName"]
        or spec["serviceAccount"]
        or "default",
        init_containers=tuple(r.container for r in spec["initContainers"]),
        automount_service_account_token=spec["automountServiceAccountToken"],
        image_pull_secrets=spec["imagePullSecrets"],
        volumes=spec["volumes"],
        env_secret_refs=tuple(
            (r.container.name, secret) for r in read for secret in r.secret_refs
        ),
        source_line=line,
    )


def manifest_head(kind: str, api_version: str = "v1") -> tuple[Field, ...]:
    """Return the fields every manifest of ``kind`` (in ``api_version``) starts with."""
    return (
        Field("apiVersion", Choice((api_version,)), REQUIRED, f"Always {api_version}."),
        Field("kind", Choice((kind,)), REQUIRED, f"{kind}."),
        Field("metadata", OBJECT_META, REQUIRED, "Name, namespace, uid, labels."),
    )


_POD_TABLE = (
    *manifest_head("Pod"),
    Field("spec", POD_SPEC, REQUIRED, "The pod spec."),
)
POD = Obj(
    _POD_TABLE,
    ignored=ignored_fields(POD_FIELDS, _POD_TABLE),
    build=_build_pod,
    description="A Pod manifest.",
    schema_name="Pod",
)


def read_pod(ctx: Ctx, data: Any) -> Pod | None:
    """Read one Pod document; report problems through ``ctx`` and return None."""
    pod = POD.read(ctx, data)
    return None if pod is INVALID else pod
