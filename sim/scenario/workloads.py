"""The Services and Deployments of a scenario file, for the Scenario document.

``Workloads`` reads the Service (``services``) and Deployment (``deployments``)
documents of a file and keeps them; names are unique per kind. The traffic,
behaviours and actions of the Scenario document refer to them by name and find
them here (``workloads_of``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from sim.scenario.context import INVALID, Ctx
from sim.scenario.deployments import DEPLOYMENT
from sim.scenario.fields import Values
from sim.scenario.services import SERVICE
from sim.scenario.spec import Deployment, Service
from sim.scenario.yamlio import is_mapping, is_sequence

WORKLOAD_KINDS = ("Service", "Deployment")


_Named = TypeVar("_Named", Service, Deployment)


@dataclass
class Workloads:
    """The Services and Deployments of a file, in file order.

    Names are unique per kind (across namespaces, as references carry no
    namespace). ``service_names`` and ``template_containers`` also hold manifests
    that failed to read, from their raw YAML, so one broken manifest does not turn
    every reference to it into a second error. ``template_data`` keeps the YAML of
    each template, for the lines of its containers.
    """

    services: list[Service] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    service_names: list[str] = field(default_factory=list)
    template_containers: dict[str, list[str]] = field(default_factory=dict)
    template_data: dict[str, Any] = field(default_factory=dict)

    def read(self, ctx: Ctx, kind: str, data: Any) -> None:
        """Read one Service or Deployment document and keep it (errors to ctx)."""
        if kind == "Service":
            service = SERVICE.read(ctx, data)
            if _keep(ctx, data, service, self.services):
                self.service_names.append(service.name)
            elif service is INVALID:
                self.service_names.extend(_raw_name(data))
            return
        deployment = DEPLOYMENT.read(ctx, data)
        if _keep(ctx, data, deployment, self.deployments):
            names = [c.name for c in deployment.template.containers]
            self.template_containers[deployment.name] = names
            self.template_data[deployment.name] = data["spec"]["template"]
        elif deployment is INVALID:
            for name in _raw_name(data):
                self.template_containers.setdefault(name, _raw_containers(data))

    def service(self, name: str) -> Service | None:
        """Return the Service called ``name``, or None."""
        return next((s for s in self.services if s.name == name), None)

    def deployment(self, name: str) -> Deployment | None:
        """Return the Deployment called ``name``, or None."""
        return next((d for d in self.deployments if d.name == name), None)


def workloads_of(values: Values) -> Workloads | None:
    """The ``Workloads`` of the file being read (from the reporter's context)."""
    found = getattr(values.ctx.reporter.context, "workloads", None)
    return found if isinstance(found, Workloads) else None


def _keep(ctx: Ctx, data: Any, value: Any, found: list[_Named]) -> bool:
    """Add a read object unless it failed or its kind already has its name."""
    if value is INVALID:
        return False
    if any(other.name == value.name for other in found):
        metadata = data["metadata"]
        ctx.key(data, "metadata").key(metadata, "name").duplicate(value.name)
        return False
    found.append(value)
    return True


def _raw_name(data: Any) -> list[str]:
    metadata = data.get("metadata") if is_mapping(data) else None
    name = metadata.get("name") if is_mapping(metadata) else None
    return [str(name)] if isinstance(name, str) else []


def _raw_containers(data: Any) -> list[str]:
    node = data
    for key in ("spec", "template", "spec", "containers"):
        node = node.get(key) if is_mapping(node) else None
    entries = node if is_sequence(node) else []
    return [
        str(e["name"])
        for e in entries
        if is_mapping(e) and isinstance(e.get("name"), str)
    ]
