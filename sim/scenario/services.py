"""Reading Service manifests: tables, API defaults and validation (R9).

A Service (v1) selects pods by label and maps its ports to theirs; its pods are its
endpoints (R9.1). It is read like the API server reads it: a ``targetPort`` left
out (or 0) is the ``port``, the protocol is TCP, port names are required when there
are several ports and unique, and the messages are worded like the API server's.
The ServiceSpec fields the model does not use (``clusterIP``, ``sessionAffinity``,
``externalTrafficPolicy``...) are accepted and ignored, and so is ``status``.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.context import INVALID, REQUIRED, Ctx
from sim.scenario.fields import Bool, Choice, Custom, Field, ListOf, Obj, Str, Values
from sim.scenario.kubefields import (
    SERVICE_FIELDS,
    SERVICE_PORT_FIELDS,
    SERVICE_SPEC_FIELDS,
)
from sim.scenario.names import DNS_LABEL_PATTERN, dns_label
from sim.scenario.pods import (
    OBJECT_META,
    PORT,
    PORT_NUMBER,
    ignored_fields,
    manifest_head,
    with_kind_uid,
)
from sim.scenario.spec import Service, ServicePort

SERVICE_TYPES = ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName")
EXTERNAL_NAME = "ExternalName"
PROTOCOLS = ("TCP", "UDP", "SCTP")
NO_SELECTOR = "has no selector: no endpoints are managed for it"
LABELS = OBJECT_META.field("labels").type
"""Label maps (selectors), read like ``metadata.labels``."""


def _read_target_port(ctx: Ctx, value: Any) -> Any:
    """A pod port (number or name); 0 and "" mean the Service port, as defaulted."""
    if not isinstance(value, bool) and value in (0, ""):
        return None
    return PORT.read(ctx, value)


TARGET_PORT = Custom(_read_target_port, PORT.json_schema)

_SERVICE_PORT_TABLE = (
    Field(
        "name",
        Str(dns_label, DNS_LABEL_PATTERN),
        "",
        "Port name (RFC 1123 label); required when the Service has several ports.",
    ),
    Field("protocol", Choice(PROTOCOLS), "TCP", "Protocol.", "TCP"),
    Field("port", PORT_NUMBER, REQUIRED, "Port clients connect to (1-65535)."),
    Field(
        "targetPort",
        TARGET_PORT,
        None,
        "Pod port: a number or a container port name; the port when left out.",
    ),
)
SERVICE_PORT = Obj(
    _SERVICE_PORT_TABLE,
    ignored=ignored_fields(SERVICE_PORT_FIELDS, _SERVICE_PORT_TABLE),
    build=lambda v: ServicePort(
        v["port"], v["targetPort"] or v["port"], v["name"], v["protocol"]
    ),
    schema_name="ServicePort",
)


def _check_service_ports(values: Values) -> None:
    """Names are required with several ports and unique; no port repeats.

    A Service without ports is an error unless it is headless (``clusterIP:
    None``) or of type ExternalName, as the API server has it.
    """
    ports = values["ports"]
    if ports is INVALID:
        return
    raw = values.node.get("ports")
    if not ports:
        headless = values.node.get("clusterIP") == "None"
        if values["type"] != EXTERNAL_NAME and not headless:
            values.at("ports").required()
        return
    names: set[str] = set()
    keys: set[tuple[int, str]] = set()
    for index, port in enumerate(ports):
        at = values.at("ports").item(raw, index)
        if not port.name and len(ports) > 1:
            at.key(raw[index], "name").required()
        elif port.name in names:
            at.key(raw[index], "name").duplicate(port.name)
        names.add(port.name)
        if (port.port, port.protocol) in keys:
            at.duplicate({"port": port.port, "protocol": port.protocol})
        keys.add((port.port, port.protocol))


def _check_service_spec(values: Values) -> None:
    _check_service_ports(values)
    if values["type"] == EXTERNAL_NAME:
        values.at("type").warn(
            "type ExternalName: a DNS alias, no endpoints are managed for it"
        )
    elif values.ok("selector") and not values["selector"]:
        values.at("selector").warn(NO_SELECTOR)


_SERVICE_SPEC_TABLE = (
    Field(
        "selector",
        LABELS,
        (),
        "Labels of the pods that are the endpoints; none: no endpoints are managed.",
    ),
    Field("ports", ListOf(SERVICE_PORT), (), "The ports of the Service."),
    Field(
        "publishNotReadyAddresses",
        Bool(),
        False,
        "Every selected pod is a ready endpoint, Ready or not.",
        False,
    ),
    Field("type", Choice(SERVICE_TYPES), "ClusterIP", "Service type.", "ClusterIP"),
)
SERVICE_SPEC = Obj(
    _SERVICE_SPEC_TABLE,
    ignored=ignored_fields(SERVICE_SPEC_FIELDS, _SERVICE_SPEC_TABLE),
    check=_check_service_spec,
    schema_name="ServiceSpec",
)


def _build_service(values: Values) -> Service:
    spec = values["spec"]
    # An ExternalName Service is a DNS alias: its selector selects nothing (R9.1).
    external = spec["type"] == EXTERNAL_NAME
    return Service(
        metadata=with_kind_uid(values["metadata"], values.node["metadata"], "Service"),
        selector=() if external else spec["selector"],
        ports=spec["ports"],
        publish_not_ready_addresses=spec["publishNotReadyAddresses"],
        type=spec["type"],
        source_line=values.ctx.line,
    )


_SERVICE_TABLE = (
    *manifest_head("Service"),
    Field("spec", SERVICE_SPEC, REQUIRED, "The service spec."),
)
SERVICE = Obj(
    _SERVICE_TABLE,
    ignored=ignored_fields(SERVICE_FIELDS, _SERVICE_TABLE),
    build=_build_service,
    description="A Service manifest.",
    schema_name="Service",
)
