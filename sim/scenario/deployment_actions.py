"""Reading the actions on Deployments: ``scale`` and ``rollout``.

``scale`` sets a Deployment's ``replicas``, as ``kubectl scale`` does. ``rollout``
changes fields of containers of its pod template, as ``kubectl set image`` or an
edited manifest does: the action carries the whole new template, made from the
Deployment's manifest with the given fields replaced. The probes and the lifecycle
given are read with the container tables of ``pods``, so their defaults apply.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sim.scenario.context import INVALID, REQUIRED
from sim.scenario.fields import Field, Int, ListOf, Obj, Str, Values
from sim.scenario.names import no_surrounding_space
from sim.scenario.pods import CONTAINER
from sim.scenario.spec import Deployment, Pod
from sim.scenario.workloads import workloads_of

# Rollout fields of a container, and the ``Container`` attribute each replaces.
ROLLOUT_FIELDS = {
    "image": "image",
    "livenessProbe": "liveness_probe",
    "readinessProbe": "readiness_probe",
    "startupProbe": "startup_probe",
    "lifecycle": "pre_stop",
}

DEPLOYMENT_NAME = Field("deployment", Str(), REQUIRED, "Name of a Deployment.")


def check_deployment_reference(values: Values) -> Deployment | None:
    """Report a Deployment name that no Deployment has; return the Deployment.

    None when the name is unknown, or names a Deployment that failed to read.
    """
    workloads = workloads_of(values)
    name = values["deployment"]
    if workloads is None or name is INVALID:
        return None
    deployment = workloads.deployment(name)
    if deployment is None and name not in workloads.template_containers:
        values.at("deployment").not_found(
            name, "no Deployment of that name", workloads.template_containers
        )
    return deployment


def _check_scale(values: Values) -> None:
    check_deployment_reference(values)


SCALE = Obj(
    (
        DEPLOYMENT_NAME,
        Field("replicas", Int(minimum=0), REQUIRED, "New number of pods."),
    ),
    check=_check_scale,
    description="Set a Deployment's replicas (kubectl scale).",
)


def _container_field(name: str, description: str) -> Field:
    """The container table's field ``name``, optional (left out: unchanged)."""
    return Field(name, CONTAINER.field(name).type, None, description)


ROLLOUT_CONTAINER = Obj(
    (
        Field("name", Str(), REQUIRED, "A container of the template."),
        Field("image", Str(no_surrounding_space), None, "New image."),
        _container_field("livenessProbe", "New liveness probe."),
        _container_field("readinessProbe", "New readiness probe."),
        _container_field("startupProbe", "New startup probe."),
        _container_field("lifecycle", "New lifecycle hooks ({} removes preStop)."),
    ),
    build=lambda v: (
        v["name"],
        {ROLLOUT_FIELDS[k]: v[k] for k in ROLLOUT_FIELDS if k in v.given},
    ),
    description="Fields of one container to replace; those left out are kept.",
    schema_name="rolloutContainer",
)


def _check_rollout(values: Values) -> None:
    deployment = check_deployment_reference(values)
    changes = values["containers"]
    if deployment is None or changes is INVALID:
        return
    values.data["template"] = deployment.template
    raw = values.node["containers"]
    names = [c.name for c in deployment.template.containers]
    seen: set[str] = set()
    for index, (name, _) in enumerate(changes):
        at = values.at("containers").item(raw, index).key(raw[index], "name")
        if name in seen:
            at.duplicate(name)
        elif name not in names:
            at.not_found(
                name,
                f'no container of that name in Deployment "{deployment.name}"',
                names,
            )
        seen.add(name)
    ready = values["minReadySeconds"]
    deadline = deployment.progress_deadline_seconds
    if ready not in (None, INVALID) and ready >= deadline:
        values.at("minReadySeconds").invalid(
            ready,
            f"must be less than the Deployment's progressDeadlineSeconds ({deadline})",
        )


def _build_rollout(values: Values) -> dict[str, Any]:
    base: Pod | None = values.data.get("template")
    if base is None:  # the Deployment failed to read: the file has an error already
        return {"deployment": values["deployment"], "template": None}
    changes = dict(values["containers"])
    template = dataclasses.replace(
        base,
        containers=tuple(
            dataclasses.replace(c, **changes[c.name]) if c.name in changes else c
            for c in base.containers
        ),
    )
    if template == base and values["minReadySeconds"] is None:
        values.at("containers").warn(
            f"the rollout changes nothing in the template of Deployment "
            f'"{values["deployment"]}": no new ReplicaSet is made'
        )
    return {
        "deployment": values["deployment"],
        "template": template,
        "minReadySeconds": values["minReadySeconds"],
    }


ROLLOUT = Obj(
    (
        DEPLOYMENT_NAME,
        Field(
            "containers",
            ListOf(ROLLOUT_CONTAINER),
            REQUIRED,
            "Containers of the template and their new fields.",
        ),
        Field(
            "minReadySeconds",
            Int(minimum=0),
            None,
            "New minReadySeconds of the Deployment; left out: unchanged.",
        ),
    ),
    check=_check_rollout,
    build=_build_rollout,
    description="Change containers of a Deployment's template (a new ReplicaSet).",
)
