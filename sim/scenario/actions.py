"""Reading ``spec.actions`` of the Scenario document: what happens, and when.

An action has a scenario time (``at``) and exactly one verb. The pod verbs
(``delete``, ``setCondition``, ``setImage``, ``setServiceAccount``, ``create``,
``fault``) name pods of the file; ``scale`` and ``rollout`` name Deployments
(``deployment_actions``). References are checked against the manifests of the file
(``references``).
"""

from __future__ import annotations

import math
from typing import Any

from sim.scenario.behaviour import ZERO
from sim.scenario.context import REQUIRED, Ctx
from sim.scenario.deployment_actions import ROLLOUT, SCALE
from sim.scenario.distributions import DISTRIBUTION
from sim.scenario.document import Action, ActionKind, Fault, FaultKind
from sim.scenario.fields import (
    Custom,
    Duration,
    Field,
    Int,
    ListOf,
    Obj,
    Str,
    UniqueListOf,
    Values,
)
from sim.scenario.names import (
    DNS_SUBDOMAIN_PATTERN,
    QUALIFIED_NAME_PATTERN,
    dns_subdomain,
    no_surrounding_space,
    qualified_name,
)
from sim.scenario.references import (
    check_behaviour_reference,
    check_container_reference,
    check_pod_reference,
    references_of,
)


def _read_condition_status(ctx: Ctx, value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("True", "False"):
        return value == "True"
    return ctx.unsupported(value, ("True", "False"))


CONDITION_STATUS = Custom(
    _read_condition_status,
    {"oneOf": [{"type": "string", "enum": ["True", "False"]}, {"type": "boolean"}]},
)


def _check_pod(values: Values) -> None:
    check_pod_reference(values)


def _check_pod_container(values: Values) -> None:
    if check_pod_reference(values) and values.ok("pod"):
        check_container_reference(values, values["pod"])


def _check_fault_target(values: Values) -> None:
    # A fault may name a Deployment: it strikes the Deployment's oldest pod.
    check_behaviour_reference(values)


def _check_condition(values: Values) -> None:
    if not check_pod_reference(values) or not values.ok("pod", "type"):
        return
    refs = references_of(values)
    pod = refs.pods.get(values["pod"]) if refs else None
    if pod is not None and values["type"] not in pod.readiness_gates:
        values.at("type").warn(
            f'"{values["type"]}" is not a readiness gate of pod "{pod.name}": '
            "setting it does not change readiness"
        )


POD_NAME = Field("pod", Str(), REQUIRED, "Pod name.")
CONTAINER_NAME = Field("container", Str(), REQUIRED, "Container name.")
FOR = Field(
    "for", Duration(allow_infinite=True), math.inf, "How long; forever if left out."
)

DELETE = Obj(
    (
        POD_NAME,
        Field(
            "gracePeriodSeconds", Int(minimum=0, bits=64), None, "Overrides the pod's."
        ),
    ),
    check=_check_pod,
    description="Delete a pod (kubectl delete).",
)
SET_CONDITION = Obj(
    (
        POD_NAME,
        Field("type", Str(qualified_name, QUALIFIED_NAME_PATTERN), REQUIRED, "Type."),
        Field("status", CONDITION_STATUS, REQUIRED, '"True" or "False".'),
    ),
    check=_check_condition,
    description="Set a pod condition (a readiness gate).",
)
SET_IMAGE = Obj(
    (
        POD_NAME,
        CONTAINER_NAME,
        Field("image", Str(no_surrounding_space), REQUIRED, "New image."),
    ),
    check=_check_pod_container,
    description="Change a container's image (the container is restarted).",
)
SET_SERVICE_ACCOUNT = Obj(
    (
        POD_NAME,
        Field(
            "name",
            Str(dns_subdomain, DNS_SUBDOMAIN_PATTERN),
            REQUIRED,
            "New service account.",
        ),
    ),
    check=_check_pod,
    description="Change a pod's service account (the API server refuses it).",
)
CREATE = Obj(
    (POD_NAME,),
    check=_check_pod,
    description="Create a pod at this time instead of at the start.",
)
_FAULT_KINDS = ("hang", "crash", "slow", "recover")
_HANG = Obj((FOR,), description="Stop answering (timeouts fire); TCP still accepts.")
_CRASH = Obj(
    (Field("exitCode", Int(0, 255), 1, "Exit code.", 1),),
    description="The running instance exits at once.",
)
_SLOW = Obj(
    (Field("latency", DISTRIBUTION, REQUIRED, "Extra latency of every answer."), FOR),
    description="Every answer takes longer.",
)
_RECOVER = Obj((), description="End every hang and slow-down.")


def _build_fault(values: Values) -> Fault:
    kind = next(k for k in _FAULT_KINDS if k in values.given)
    settings = values[kind]
    return Fault(
        kind=FaultKind(kind),
        pod=values["pod"],
        container=values["container"],
        for_seconds=settings.get("for", math.inf),
        exit_code=settings.get("exitCode", 1),
        latency=settings.get("latency", ZERO),
    )


FAULT = Obj(
    (
        POD_NAME,
        CONTAINER_NAME,
        Field("hang", _HANG, None, "Hang.", null_is_empty=True),
        Field("crash", _CRASH, None, "Crash.", null_is_empty=True),
        Field("slow", _SLOW, None, "Slow down.", null_is_empty=True),
        Field("recover", _RECOVER, None, "Recover.", null_is_empty=True),
    ),
    check=_check_fault_target,
    build=_build_fault,
    description="Inject a fault into a container: exactly one of hang, crash, slow, "
    "recover.",
    exactly_one=_FAULT_KINDS,
)
_VERBS = (
    ("delete", ActionKind.DELETE),
    ("setCondition", ActionKind.SET_CONDITION),
    ("setImage", ActionKind.SET_IMAGE),
    ("setServiceAccount", ActionKind.SET_SERVICE_ACCOUNT),
    ("create", ActionKind.CREATE),
    ("fault", ActionKind.FAULT),
    ("scale", ActionKind.SCALE),
    ("rollout", ActionKind.ROLLOUT),
)


def _build_action(values: Values) -> Action:
    verb, kind = next((name, k) for name, k in _VERBS if name in values.given)
    body = values[verb]
    fault = body if isinstance(body, Fault) else None
    if fault is not None:
        body = {"pod": fault.pod, "container": fault.container}
    return Action(
        at_seconds=values["at"],
        kind=kind,
        pod=body.get("pod", ""),
        container=body.get("container", ""),
        grace_period_seconds=body.get("gracePeriodSeconds"),
        condition_type=body.get("type", ""),
        condition_status=body.get("status", True),
        image=body.get("image", ""),
        service_account=body.get("name", ""),
        fault=fault,
        deployment=body.get("deployment", ""),
        replicas=body.get("replicas", 0),
        template=body.get("template"),
        min_ready_seconds=body.get("minReadySeconds"),
        source_line=values.ctx.line,
    )


ACTION = Obj(
    (
        Field("at", Duration(), REQUIRED, "Scenario time of the action."),
        Field("delete", DELETE, None, "Delete a pod.", null_is_empty=True),
        Field(
            "setCondition", SET_CONDITION, None, "Set a condition.", null_is_empty=True
        ),
        Field("setImage", SET_IMAGE, None, "Change an image.", null_is_empty=True),
        Field(
            "setServiceAccount",
            SET_SERVICE_ACCOUNT,
            None,
            "Change the service account.",
            null_is_empty=True,
        ),
        Field("create", CREATE, None, "Create a pod.", null_is_empty=True),
        Field("fault", FAULT, None, "Inject a fault.", null_is_empty=True),
        Field("scale", SCALE, None, "Scale a Deployment.", null_is_empty=True),
        Field("rollout", ROLLOUT, None, "Roll out a Deployment.", null_is_empty=True),
    ),
    exactly_one=tuple(name for name, _ in _VERBS),
    build=_build_action,
    description="Something that happens at a scenario time: exactly one verb.",
    schema_name="action",
)


def _created_pod(action: Action) -> tuple[str, tuple[str, ...]] | None:
    """A pod is created by at most one action."""
    if action.kind is not ActionKind.CREATE:
        return None
    return action.pod, ("create", "pod")


ACTIONS = UniqueListOf(ListOf(ACTION), _created_pod)
