"""Reading Deployment manifests: tables, API defaults and validation.

A Deployment (apps/v1) keeps ``replicas`` pods made from its template and replaces
them on a rollout, within ``maxSurge`` and ``maxUnavailable``. It is read like the
API server reads it: the same defaults (one replica, a rolling update with "25%"
and "25%", a progress deadline of 600 s), its checks (the selector must match the
template's labels, the pods must restart ``Always``) and their wording. The
template's pod spec is read with the Pod spec table of ``pods``, so every
container and probe default applies; the template becomes a ``Pod`` named after
the Deployment.
"""

from __future__ import annotations

import re
from typing import Any

from sim.scenario.context import INVALID, REQUIRED, Ctx
from sim.scenario.fields import Choice, Custom, Field, Int, Obj, Values
from sim.scenario.kubefields import (
    DEPLOYMENT_FIELDS,
    DEPLOYMENT_SPEC_FIELDS,
    DEPLOYMENT_STRATEGY_FIELDS,
    LABEL_SELECTOR_FIELDS,
    POD_TEMPLATE_SPEC_FIELDS,
    ROLLING_UPDATE_DEPLOYMENT_FIELDS,
)
from sim.scenario.pods import (
    OBJECT_META,
    POD_SPEC,
    ignored_fields,
    manifest_head,
    pod_from_spec,
    with_kind_uid,
)
from sim.scenario.services import LABELS
from sim.scenario.spec import (
    Deployment,
    DeploymentStrategyType,
    ObjectMeta,
    RestartPolicy,
)
from sim.scenario.yamlio import is_sequence

DEPLOYMENT_API_VERSION = "apps/v1"
DEFAULT_ROLLING = "25%"
DEFAULT_PROGRESS_DEADLINE_SECONDS = 600
PERCENT_PATTERN = r"^[0-9]+%$"
PERCENT_MESSAGE = (
    "a valid percent string must be a numeric string followed by an ending '%' "
    "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"
)


def _read_int_or_percent(ctx: Ctx, value: Any) -> Any:
    """An integer ≥ 0 or a percentage such as "25%", kept in the form given."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            return ctx.invalid(value, "must be greater than or equal to 0")
        return int(value)
    if isinstance(value, str):
        if not re.fullmatch(PERCENT_PATTERN[1:-1], value):
            return ctx.invalid(value, PERCENT_MESSAGE)
        return str(value)
    return ctx.invalid(value, "must be an integer or a percentage")


INT_OR_PERCENT = Custom(
    _read_int_or_percent,
    {
        "description": 'An integer >= 0 or a percentage such as "25%".',
        "oneOf": [
            {"type": "integer", "minimum": 0},
            {"type": "string", "pattern": PERCENT_PATTERN},
        ],
    },
    name="intOrPercent",
)


def is_zero(value: int | str) -> bool:
    """Whether an int-or-percent value is 0 (``0`` or ``"0%"``)."""
    return int(value.rstrip("%")) == 0 if isinstance(value, str) else value == 0


def _check_rolling_update(values: Values) -> None:
    if not values.ok("maxSurge", "maxUnavailable"):
        return
    surge, unavailable = values["maxSurge"], values["maxUnavailable"]
    if is_zero(surge) and is_zero(unavailable):
        values.at("maxUnavailable").invalid(
            unavailable, "may not be 0 when `maxSurge` is 0"
        )
    if isinstance(unavailable, str) and int(unavailable[:-1]) > 100:
        values.at("maxUnavailable").invalid(
            unavailable, "must not be greater than 100%"
        )


_ROLLING_UPDATE_TABLE = (
    Field(
        "maxSurge",
        INT_OR_PERCENT,
        DEFAULT_ROLLING,
        "Pods over replicas during a rollout (a percentage rounds up).",
        DEFAULT_ROLLING,
    ),
    Field(
        "maxUnavailable",
        INT_OR_PERCENT,
        DEFAULT_ROLLING,
        "Pods under replicas during a rollout (a percentage rounds down).",
        DEFAULT_ROLLING,
    ),
)
ROLLING_UPDATE = Obj(
    _ROLLING_UPDATE_TABLE,
    ignored=ignored_fields(ROLLING_UPDATE_DEPLOYMENT_FIELDS, _ROLLING_UPDATE_TABLE),
    check=_check_rolling_update,
    schema_name="RollingUpdateDeployment",
)


def _check_strategy(values: Values) -> None:
    recreate = values["type"] is DeploymentStrategyType.RECREATE
    if recreate and "rollingUpdate" in values.given:
        values.at("rollingUpdate").forbidden(
            "may not be specified when strategy `type` is 'Recreate'"
        )


def _build_strategy(values: Values) -> tuple[DeploymentStrategyType, Any, Any]:
    rolling = values["rollingUpdate"] or {}
    return (
        values["type"],
        rolling.get("maxSurge", DEFAULT_ROLLING),
        rolling.get("maxUnavailable", DEFAULT_ROLLING),
    )


_STRATEGY_TABLE = (
    Field(
        "type",
        Choice.of(DeploymentStrategyType),
        DeploymentStrategyType.ROLLING_UPDATE,
        "RollingUpdate: replace pods a few at a time; Recreate: all at once.",
        DeploymentStrategyType.ROLLING_UPDATE.value,
    ),
    Field("rollingUpdate", ROLLING_UPDATE, None, "Limits of a rolling update."),
)
STRATEGY = Obj(
    _STRATEGY_TABLE,
    ignored=ignored_fields(DEPLOYMENT_STRATEGY_FIELDS, _STRATEGY_TABLE),
    check=_check_strategy,
    build=_build_strategy,
    schema_name="DeploymentStrategy",
)
DEFAULT_STRATEGY = (
    DeploymentStrategyType.ROLLING_UPDATE,
    DEFAULT_ROLLING,
    DEFAULT_ROLLING,
)


def _read_match_expressions(ctx: Ctx, value: Any) -> Any:
    if is_sequence(value) and not value:
        return ()
    return ctx.forbidden("matchExpressions are not supported yet; use matchLabels")


def _check_selector(values: Values) -> None:
    if values.ok("matchLabels") and not values["matchLabels"]:
        values.ctx.invalid(values.node, "empty selector is invalid for deployment")


_SELECTOR_TABLE = (
    Field("matchLabels", LABELS, (), "Labels the Deployment's pods carry."),
    Field(
        "matchExpressions",
        Custom(_read_match_expressions, {"type": "array", "maxItems": 0}),
        (),
        "Not supported yet; use matchLabels.",
    ),
)
LABEL_SELECTOR = Obj(
    _SELECTOR_TABLE,
    ignored=ignored_fields(LABEL_SELECTOR_FIELDS, _SELECTOR_TABLE),
    check=_check_selector,
    build=lambda v: v["matchLabels"],
    schema_name="LabelSelector",
)
TEMPLATE_METADATA = Obj(
    OBJECT_META.fields,
    ignored=OBJECT_META.ignored,
    build=lambda v: (v["labels"], v["annotations"]),
    description="The pods' labels and annotations; a name is ignored.",
    schema_name="TemplateMetadata",
)


def _check_template(values: Values) -> None:
    """The pods of a Deployment always restart (the API server's rule)."""
    spec = values["spec"]
    if spec is INVALID or "restartPolicy" not in values.node["spec"]:
        return
    policy = spec["restartPolicy"]
    if policy is not RestartPolicy.ALWAYS:
        at = values.at("spec").key(values.node["spec"], "restartPolicy")
        at.unsupported(policy.value, (RestartPolicy.ALWAYS.value,))


_TEMPLATE_TABLE = (
    Field("metadata", TEMPLATE_METADATA, ((), ()), "Labels of the pods."),
    Field("spec", POD_SPEC, REQUIRED, "The pods' spec, read like a Pod's."),
)
POD_TEMPLATE = Obj(
    _TEMPLATE_TABLE,
    ignored=ignored_fields(POD_TEMPLATE_SPEC_FIELDS, _TEMPLATE_TABLE),
    check=_check_template,
    build=lambda v: (v["metadata"], v["spec"], v.ctx.line),
    schema_name="PodTemplateSpec",
)


def _check_deployment_spec(values: Values) -> None:
    selector, template = values["selector"], values["template"]
    if selector not in (INVALID, None) and template is not INVALID:
        labels = dict(template[0][0])
        if any(labels.get(key) != value for key, value in selector):
            node = values.node["template"]
            metadata = node.get("metadata")
            at = values.at("template").key(node, "metadata").key(metadata, "labels")
            at.invalid(labels, "selector does not match template labels")
    ready, deadline = values["minReadySeconds"], values["progressDeadlineSeconds"]
    if values.ok("minReadySeconds", "progressDeadlineSeconds") and deadline <= ready:
        values.at("progressDeadlineSeconds").invalid(
            deadline, "must be greater than minReadySeconds"
        )
    if values.node.get("paused") is True:
        values.at("paused").warn(
            "paused Deployments are not simulated: rollouts go ahead as if it were not"
        )


_DEPLOYMENT_SPEC_TABLE = (
    Field("replicas", Int(minimum=0), 1, "Number of pods.", 1),
    Field("selector", LABEL_SELECTOR, REQUIRED, "Which pods are the Deployment's."),
    Field("template", POD_TEMPLATE, REQUIRED, "The pods to make."),
    Field("strategy", STRATEGY, DEFAULT_STRATEGY, "How pods are replaced."),
    Field(
        "minReadySeconds",
        Int(minimum=0),
        0,
        "Seconds a new pod must be Ready before it counts as available.",
        0,
    ),
    Field(
        "progressDeadlineSeconds",
        Int(minimum=0),
        DEFAULT_PROGRESS_DEADLINE_SECONDS,
        "Seconds without progress before the rollout is reported as stalled.",
        DEFAULT_PROGRESS_DEADLINE_SECONDS,
    ),
)
DEPLOYMENT_SPEC = Obj(
    _DEPLOYMENT_SPEC_TABLE,
    ignored=ignored_fields(DEPLOYMENT_SPEC_FIELDS, _DEPLOYMENT_SPEC_TABLE),
    check=_check_deployment_spec,
    schema_name="DeploymentSpec",
)


def _build_deployment(values: Values) -> Deployment:
    metadata = with_kind_uid(values["metadata"], values.node["metadata"], "Deployment")
    spec = values["spec"]
    (labels, annotations), pod_spec, line = spec["template"]
    template_meta = ObjectMeta(
        name=metadata.name,
        namespace=metadata.namespace,
        labels=labels,
        annotations=annotations,
    )
    strategy, surge, unavailable = spec["strategy"]
    return Deployment(
        metadata=metadata,
        template=pod_from_spec(template_meta, pod_spec, line),
        replicas=spec["replicas"],
        selector=spec["selector"],
        strategy=strategy,
        max_surge=surge,
        max_unavailable=unavailable,
        min_ready_seconds=spec["minReadySeconds"],
        progress_deadline_seconds=spec["progressDeadlineSeconds"],
        source_line=values.ctx.line,
    )


_DEPLOYMENT_TABLE = (
    *manifest_head("Deployment", DEPLOYMENT_API_VERSION),
    Field("spec", DEPLOYMENT_SPEC, REQUIRED, "The deployment spec."),
)
DEPLOYMENT = Obj(
    _DEPLOYMENT_TABLE,
    ignored=ignored_fields(DEPLOYMENT_FIELDS, _DEPLOYMENT_TABLE),
    build=_build_deployment,
    description="A Deployment manifest.",
    schema_name="Deployment",
)
