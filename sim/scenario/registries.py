"""Reading the image registries and the secret generators of the Scenario document.

``spec.registries`` says how each registry the node pulls from behaves (R8): whether
it wants credentials and which, how long pulls take, which images it lacks, whether
it answers at all. ``spec.secrets`` generates Secrets the way kubectl's ``create
secret`` commands do, so a scenario need not carry base64 by hand; the generated
Secrets join those of the file's manifests.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sim.scenario.accounts import (
    DEFAULT_DOCKER_SERVER,
    Accounts,
    docker_registry_secret,
    normalise_server,
)
from sim.scenario.behaviours import DISTRIBUTION
from sim.scenario.context import REQUIRED
from sim.scenario.document import RegistrySpec
from sim.scenario.durations import format_duration
from sim.scenario.fields import (
    Bool,
    Duration,
    Field,
    ListOf,
    Obj,
    Str,
    UniqueListOf,
    Values,
)
from sim.scenario.names import (
    DNS_LABEL_PATTERN,
    DNS_SUBDOMAIN_PATTERN,
    dns_label,
    dns_subdomain,
    no_surrounding_space,
)
from sim.scenario.spec import Secret

_DEFAULT_REGISTRY = RegistrySpec(server="")


def _server(value: str) -> str | None:
    """Check a registry server: no surrounding space, a host left once normalised."""
    detail = no_surrounding_space(value)
    if detail is None and not normalise_server(value):
        return "must name a host"
    return detail


REGISTRY_CREDENTIAL = Obj(
    (
        Field("username", Str(), REQUIRED, "User name."),
        Field("password", Str(), REQUIRED, "Password."),
    ),
    build=lambda v: (v["username"], v["password"]),
    description="A user name and password the registry accepts.",
    schema_name="registryCredential",
)


def _build_registry(values: Values) -> RegistrySpec:
    return RegistrySpec(
        server=normalise_server(values["server"]),
        private=values["private"],
        credentials=values["credentials"],
        pull_latency=values["pullLatency"],
        missing_images=values["missingImages"],
        unreachable=values["unreachable"],
        timeout_seconds=values["timeout"],
    )


REGISTRY = Obj(
    (
        Field(
            "server",
            Str(_server),
            REQUIRED,
            "Host[:port] of the registry (docker.io for images without a host); "
            "a scheme, an API path and Docker Hub's other names are normalised.",
        ),
        Field(
            "private",
            Bool(),
            _DEFAULT_REGISTRY.private,
            "Only the listed credentials may pull; others fail unauthorized.",
            _DEFAULT_REGISTRY.private,
        ),
        Field(
            "credentials",
            ListOf(REGISTRY_CREDENTIAL),
            (),
            "User names and passwords a private registry accepts.",
        ),
        Field(
            "pullLatency",
            DISTRIBUTION,
            None,
            "Pull time from this registry; cluster.imagePullLatency when unset.",
        ),
        Field(
            "missingImages",
            ListOf(Str(no_surrounding_space)),
            (),
            "Images, as the pods write them, that fail notFound.",
        ),
        Field(
            "unreachable",
            Bool(),
            _DEFAULT_REGISTRY.unreachable,
            "Every pull fails after the timeout.",
            _DEFAULT_REGISTRY.unreachable,
        ),
        Field(
            "timeout",
            Duration(exclusive_minimum=True),
            _DEFAULT_REGISTRY.timeout_seconds,
            "How long a pull from an unreachable registry takes to fail.",
            format_duration(_DEFAULT_REGISTRY.timeout_seconds),
        ),
    ),
    build=_build_registry,
    description="An image registry as the node sees it.",
    schema_name="registry",
)
REGISTRIES = UniqueListOf(ListOf(REGISTRY), lambda r: (r.server, ("server",)))


def _accounts(values: Values) -> Accounts | None:
    context = getattr(values.ctx.reporter.context, "accounts", None)
    return context if isinstance(context, Accounts) else None


def _check_clash(values: Values) -> None:
    """A generated secret may not take the name of a Secret manifest."""
    accounts = _accounts(values)
    if accounts is None or not values.ok("name", "namespace"):
        return
    manifest = accounts.secret(values["namespace"], values["name"])
    if manifest is not None:
        values.at("name").report(
            f'Duplicate value: "{values["name"]}": the Secret manifest on line '
            f"{manifest.source_line} has this name"
        )


def _build_docker_registry(values: Values) -> Secret:
    secret = docker_registry_secret(
        name=values["name"],
        username=values["username"],
        password=values["password"],
        server=values["server"] or DEFAULT_DOCKER_SERVER,
        email=values["email"],
        namespace=values["namespace"],
    )
    return dataclasses.replace(secret, source_line=values.ctx.line)


DOCKER_REGISTRY = Obj(
    (
        Field(
            "name",
            Str(dns_subdomain, DNS_SUBDOMAIN_PATTERN),
            REQUIRED,
            "Name of the Secret.",
        ),
        Field(
            "namespace",
            Str(dns_label, DNS_LABEL_PATTERN),
            "default",
            "Namespace of the Secret.",
            "default",
        ),
        Field(
            "server",
            Str(no_surrounding_space),
            DEFAULT_DOCKER_SERVER,
            "kubectl's --docker-server.",
            DEFAULT_DOCKER_SERVER,
        ),
        Field("username", Str(), REQUIRED, "kubectl's --docker-username."),
        Field("password", Str(), REQUIRED, "kubectl's --docker-password."),
        Field("email", Str(), "", "kubectl's --docker-email (left out when empty)."),
    ),
    check=_check_clash,
    build=_build_docker_registry,
    description="The Secret of kubectl create secret docker-registry.",
    schema_name="dockerRegistrySecret",
)
GENERATORS = ("dockerRegistry",)
SECRET_GENERATOR = Obj(
    (Field("dockerRegistry", DOCKER_REGISTRY, None, "A docker-registry secret."),),
    build=lambda v: v["dockerRegistry"],
    description="A Secret made as a kubectl create secret command makes it.",
    schema_name="secretGenerator",
    exactly_one=GENERATORS,
    one_what="generator",
)


def _secret_key(secret: Secret) -> tuple[Any, tuple[str, ...]]:
    return (secret.metadata.namespace, secret.name), ("dockerRegistry", "name")


SECRET_GENERATORS = UniqueListOf(ListOf(SECRET_GENERATOR), _secret_key)
