"""Services, Deployments, traffic, endpoint delays, load and the Deployment actions.

A realistic file (a Deployment behind a Service, with traffic and a rollout) must
read with the API server's defaults and round-trip through the resolved YAML;
malformed inputs are whole files in which the line the error must point at carries
a ``#!`` comment.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readercases import FILE, assert_reported, errors_of

from sim.scenario import Scenario, read_scenario_text
from sim.scenario.behaviour import Distribution, DistributionKind, LoadBehaviour
from sim.scenario.deployments import DEPLOYMENT
from sim.scenario.document import (
    ActionKind,
    Arrivals,
    EndpointsSpec,
    TrafficPhase,
    TrafficSpec,
)
from sim.scenario.resolved import resolved_yaml
from sim.scenario.schema import scenario_json_schema
from sim.scenario.services import SERVICE
from sim.scenario.spec import (
    DeploymentStrategyType,
    HTTPGetAction,
    PullPolicy,
    RestartPolicy,
    ServicePort,
)

DEPLOYMENT_YAML = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.27
        ports: [{name: http, containerPort: 8080}]
"""
SERVICE_YAML = """\
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
"""
MANIFESTS = DEPLOYMENT_YAML + SERVICE_YAML
SCENARIO_HEAD = """\
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: demo}
spec:
"""


def read(text: str) -> Scenario:
    """Read a scenario text as the file ``case.yaml``."""
    return read_scenario_text(text, FILE)


def scenario(spec: str, manifests: str = MANIFESTS) -> str:
    """The manifests plus a Scenario document named ``demo`` with these spec lines."""
    return manifests + SCENARIO_HEAD + textwrap.indent(textwrap.dedent(spec), "  ")


def deployment(spec: str = "", template: str = "", **replace: str) -> str:
    """The Deployment ``web`` with extra spec lines and extra template spec lines.

    ``replace`` maps a line of the base text (without its newline) to new lines.
    """
    text = DEPLOYMENT_YAML
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new, 1)
    text = text.replace(
        "  template:\n", textwrap.indent(textwrap.dedent(spec), "  ") + "  template:\n"
    )
    text = text.replace(
        "      containers:\n",
        textwrap.indent(textwrap.dedent(template), "      ") + "      containers:\n",
    )
    return text + SERVICE_YAML


def service(ports: str, spec: str = "") -> str:
    """The Deployment plus a Service ``web`` with these port lines and spec lines."""
    head = SERVICE_YAML.split("  ports:\n")[0]
    body = head + textwrap.indent(textwrap.dedent(spec), "  ")
    if ports:
        body += "  ports:\n" + textwrap.indent(textwrap.dedent(ports), "  ")
    return DEPLOYMENT_YAML + body


# A realistic file --------------------------------------------------------------------

REALISTIC = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop
  labels: {app: shop}
spec:
  replicas: 4
  selector:
    matchLabels: {app: shop}
  template:
    metadata:
      labels: {app: shop, tier: frontend}
      annotations: {example.com/owner: team-a}
    spec:
      terminationGracePeriodSeconds: 20
      containers:
      - name: app
        image: registry.example.com/shop:1.4
        ports:
        - {name: http, containerPort: 8080}
        - {name: metrics, containerPort: 9090}
        readinessProbe:
          httpGet: {path: /ready, port: http}
          periodSeconds: 5
        livenessProbe:
          httpGet: {path: /healthz, port: http}
          failureThreshold: 5
        lifecycle:
          preStop:
            sleep: {seconds: 5}
      - name: sidecar
        image: busybox:1.36
        args: [sleep, infinity]
---
apiVersion: v1
kind: Service
metadata:
  name: shop
spec:
  type: ClusterIP
  clusterIP: 10.96.0.42
  sessionAffinity: None
  selector: {app: shop}
  ports:
  - name: http
    port: 80
    targetPort: http
  - name: metrics
    port: 9090
    protocol: TCP
status:
  loadBalancer: {}
---
apiVersion: v1
kind: Pod
metadata:
  name: canary
  labels: {app: shop}
spec:
  containers:
  - name: app
    image: registry.example.com/shop:1.5
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: shop-rollout}
spec:
  duration: 10m
  traffic:
  - service: shop
    port: http
    phases: [{from: 0s, rate: 50}, {from: 2m, rate: 200}]
    path: /cart
  - {service: shop, port: 9090, rate: 1, arrivals: Constant, recordRequests: true}
  endpoints:
    proxyMinSyncPeriod: 2s
  behaviours:
  - container: app
    pod: shop
    http:
    - port: http
      responses: [{status: 200}]
    load:
      capacity: 100
      saturatedLatency: {min: 5s, max: 30s}
  actions:
  - {at: 1m, scale: {deployment: shop, replicas: 6}}
  - at: 3m
    rollout:
      deployment: shop
      minReadySeconds: 10
      containers:
      - name: app
        image: registry.example.com/shop:1.5
        readinessProbe:
          httpGet: {path: /ready, port: http}
          failureThreshold: 1
"""


def test_realistic_deployment() -> None:
    s = read(REALISTIC)
    (d,) = s.deployments
    assert (d.name, d.replicas, d.selector) == ("shop", 4, (("app", "shop"),))
    assert d.strategy is DeploymentStrategyType.ROLLING_UPDATE
    assert (d.max_surge, d.max_unavailable) == ("25%", "25%")
    assert (d.min_ready_seconds, d.progress_deadline_seconds) == (0, 600)
    template = d.template
    assert template.name == "shop"
    assert template.metadata.labels == (("app", "shop"), ("tier", "frontend"))
    assert template.metadata.annotations == (("example.com/owner", "team-a"),)
    assert template.restart_policy is RestartPolicy.ALWAYS
    assert template.termination_grace_period_seconds == 20
    app = template.container("app")
    assert app.image_pull_policy is PullPolicy.IF_NOT_PRESENT
    assert app.readiness_probe is not None
    assert app.readiness_probe.period_seconds == 5
    assert app.readiness_probe.timeout_seconds == 1
    assert app.liveness_probe is not None
    assert app.liveness_probe.failure_threshold == 5
    assert d.metadata.uid != s.services[0].metadata.uid != ""


def test_realistic_service_and_pod() -> None:
    s = read(REALISTIC)
    (svc,) = s.services
    assert svc.name == "shop"
    assert svc.type == "ClusterIP"
    assert svc.publish_not_ready_addresses is False
    assert svc.ports == (
        ServicePort(80, "http", "http", "TCP"),
        ServicePort(9090, 9090, "metrics", "TCP"),
    )
    # A Pod may carry the Deployment's labels: the Service selects both.
    assert svc.selects(s.pod("canary").metadata.labels)
    assert svc.selects(s.deployments[0].template.metadata.labels)


def test_realistic_scenario_document() -> None:
    s = read(REALISTIC)
    web, metrics = s.traffic
    assert web == TrafficSpec(
        service="shop",
        port="http",
        phases=(TrafficPhase(0.0, 50.0), TrafficPhase(120.0, 200.0)),
        path="/cart",
    )
    assert web.arrivals is Arrivals.POISSON
    assert web.timeout_seconds == 10.0
    assert metrics.port == 9090
    assert metrics.phases == (TrafficPhase(0.0, 1.0),)
    assert metrics.arrivals is Arrivals.CONSTANT
    assert metrics.record_requests is True
    assert s.endpoints == EndpointsSpec(proxy_min_sync_seconds=2.0)
    behaviour = s.behaviour_for("shop", "app")
    assert behaviour is not None
    assert behaviour.load == LoadBehaviour(
        100.0, 5.0, Distribution(DistributionKind.UNIFORM, 5.0, 30.0)
    )
    scale, rollout = s.actions
    assert (scale.kind, scale.deployment, scale.replicas) == (
        ActionKind.SCALE,
        "shop",
        6,
    )
    assert (rollout.kind, rollout.deployment, rollout.min_ready_seconds) == (
        ActionKind.ROLLOUT,
        "shop",
        10,
    )
    assert rollout.template is not None
    old, new = (
        s.deployments[0].template.container("app"),
        rollout.template.container("app"),
    )
    assert new.image == "registry.example.com/shop:1.5"
    assert new.readiness_probe is not None
    assert new.readiness_probe.failure_threshold == 1
    assert new.readiness_probe.period_seconds == 10  # read afresh: defaults apply
    assert new.liveness_probe == old.liveness_probe
    assert new.pre_stop == old.pre_stop
    assert rollout.template.container("sidecar") == s.deployments[0].template.container(
        "sidecar"
    )


def test_realistic_warnings() -> None:
    s = read(REALISTIC)
    # The sidecar's behaviour is inferred (sleep infinity), at its line in the
    # template; the canary pod's container has no probe and needs none.
    line = REALISTIC.splitlines().index("      - name: sidecar") + 1
    (warning,) = s.warnings
    assert warning.startswith(
        f'case.yaml:{line}: Deployment "shop" container "sidecar": read `sleep '
        "infinity`"
    )
    assert s.behaviour_for("shop", "sidecar") is not None


def test_round_trip() -> None:
    original = read(REALISTIC)
    text = resolved_yaml(original)
    again = read(text)
    assert again == original
    assert resolved_yaml(again) == text
    assert "maxSurge: 25%" in text
    assert "targetPort: http" in text
    # The rollout is written in the form it was read: only what it changes.
    rollout = text.split("rollout:")[1].split("registries:")[0]
    assert "image: registry.example.com/shop:1.5" in rollout
    assert "livenessProbe" not in rollout
    assert "sidecar" not in rollout


def test_defaults_of_a_minimal_deployment() -> None:
    s = read(DEPLOYMENT_YAML)
    (d,) = s.deployments
    assert d.replicas == 1
    assert (d.max_surge, d.max_unavailable) == ("25%", "25%")
    assert s.name == "web"
    assert not s.pods
    assert any('named "web" after the first Deployment' in w for w in s.warnings)


def test_int_and_percent_forms_are_kept() -> None:
    text = deployment(
        "strategy:\n  rollingUpdate: {maxSurge: 1, maxUnavailable: '0%'}\n"
        "minReadySeconds: 5\nprogressDeadlineSeconds: 60\n"
    )
    d = read(text).deployments[0]
    assert (d.max_surge, d.max_unavailable) == (1, "0%")
    assert (d.min_ready_seconds, d.progress_deadline_seconds) == (5, 60)
    again = read(resolved_yaml(read(text))).deployments[0]
    assert again == d


def test_recreate() -> None:
    d = read(deployment("strategy: {type: Recreate}\n")).deployments[0]
    assert d.strategy is DeploymentStrategyType.RECREATE
    assert read(resolved_yaml(read(deployment("strategy: {type: Recreate}\n")))) == (
        read(deployment("strategy: {type: Recreate}\n"))
    )


def test_service_defaults() -> None:
    s = read(service("- {port: 8080}\n"))
    assert s.services[0].ports == (ServicePort(8080, 8080, "", "TCP"),)
    s = read(service("- {port: 80, targetPort: 0, protocol: UDP}\n"))
    assert s.services[0].ports == (ServicePort(80, 80, "", "UDP"),)


def test_external_name_selects_nothing() -> None:
    text = service("", "type: ExternalName\nexternalName: db.example.com\n")
    s = read(text)
    (svc,) = s.services
    assert (svc.type, svc.ports, svc.selector) == ("ExternalName", (), ())
    assert not svc.selects((("app", "web"),))
    assert read(resolved_yaml(s)) == s


def test_traffic_port_defaults_to_the_only_port() -> None:
    s = read(scenario("traffic:\n- {service: web, rate: 5}\n"))
    assert s.traffic[0].port == 80
    assert s.traffic[0].phases == (TrafficPhase(0.0, 5.0),)


def test_behaviour_may_name_a_deployment_or_its_containers() -> None:
    s = read(
        scenario(
            "behaviours:\n- {container: app, pod: web, sigterm: ignore}\n"
            "- {container: app, exit: {after: 1m}}\n"
        )
    )
    assert [b.pod for b in s.behaviours] == ["web", ""]


# Warnings ------------------------------------------------------------------------


def warnings_of(text: str) -> list[str]:
    """The warnings of a text that reads."""
    return list(read(text).warnings)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            service("- {port: 80}\n").replace("{app: web}\n  ports", "{}\n  ports"),
            'case.yaml:22: Service "web": spec.selector: has no selector: no endpoints '
            "are managed for it",
        ),
        (
            service("", "type: ExternalName\nexternalName: db.example.com\n"),
            'Service "web": spec.type: type ExternalName: a DNS alias, no endpoints '
            "are managed for it",
        ),
        (
            deployment("paused: true\n"),
            'Deployment "web": spec.paused: paused Deployments are not simulated',
        ),
        (
            scenario(
                "actions:\n- {at: 1s, rollout: {deployment: web, "
                "containers: [{name: app, image: 'nginx:1.27'}]}}\n"
            ),
            'the rollout changes nothing in the template of Deployment "web"',
        ),
        (
            scenario(
                "traffic:\n- {service: web, rate: 1}\n",
                DEPLOYMENT_YAML + SERVICE_YAML.replace("  selector: {app: web}\n", ""),
            ),
            'spec.traffic[0].service: Service "web" has no selector: no endpoints are '
            "managed for it; every request fails",
        ),
    ],
    ids=[
        "no-selector",
        "external-name",
        "paused",
        "no-op-rollout",
        "traffic-no-selector",
    ],
)
def test_warnings(text: str, expected: str) -> None:
    found = warnings_of(text)
    assert any(expected in w for w in found), found


# Malformed inputs ----------------------------------------------------------------

WEB = 'Deployment "web"'
SVC = 'Service "web"'
DEMO = 'Scenario "demo"'
ROLLOUT = "actions:\n- at: 1s\n  rollout:\n    deployment: web\n    containers:\n"

MALFORMED: list[tuple[str, str, str, str]] = [
    # (id, file text, expected problem path, expected message start)
    (
        "selector-template-mismatch",
        deployment(**{"      labels: {app: web}": "      labels: {app: api}  #!"}),
        f"{WEB}: spec.template.metadata.labels",
        'Invalid value: {"app": "api"}: selector does not match template labels',
    ),
    (
        "match-expressions",
        deployment(
            **{
                "    matchLabels: {app: web}": "    matchLabels: {app: web}\n"
                "    matchExpressions: [{key: app, operator: In, values: [web]}]  #!"
            }
        ),
        f"{WEB}: spec.selector.matchExpressions",
        "Forbidden: matchExpressions are not supported yet",
    ),
    (
        "empty-selector",
        deployment(
            **{
                "  selector:\n    matchLabels: {app: web}": (
                    "  selector:  #!\n    matchLabels: {}"
                )
            }
        ),
        f"{WEB}: spec.selector",
        'Invalid value: {"matchLabels": {}}: empty selector is invalid for deployment',
    ),
    (
        "surge-and-unavailable-zero",
        deployment(
            "strategy:\n  rollingUpdate: {maxSurge: 0, maxUnavailable: 0}  #!\n"
        ),
        f"{WEB}: spec.strategy.rollingUpdate.maxUnavailable",
        "Invalid value: 0: may not be 0 when `maxSurge` is 0",
    ),
    (
        "bad-percent",
        deployment('strategy:\n  rollingUpdate:\n    maxSurge: "150"  #!\n'),
        f"{WEB}: spec.strategy.rollingUpdate.maxSurge",
        'Invalid value: "150": a valid percent string must be a numeric string '
        "followed by an ending '%'",
    ),
    (
        "unavailable-over-100-percent",
        deployment("strategy:\n  rollingUpdate:\n    maxUnavailable: 150%  #!\n"),
        f"{WEB}: spec.strategy.rollingUpdate.maxUnavailable",
        'Invalid value: "150%": must not be greater than 100%',
    ),
    (
        "recreate-with-rolling-update",
        deployment("strategy:\n  type: Recreate\n  rollingUpdate: {maxSurge: 1}  #!\n"),
        f"{WEB}: spec.strategy.rollingUpdate",
        "Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ),
    (
        "progress-deadline-not-after-min-ready",
        deployment("minReadySeconds: 30\nprogressDeadlineSeconds: 30  #!\n"),
        f"{WEB}: spec.progressDeadlineSeconds",
        "Invalid value: 30: must be greater than minReadySeconds",
    ),
    (
        "template-restart-policy",
        deployment(template="restartPolicy: Never  #!\n"),
        f"{WEB}: spec.template.spec.restartPolicy",
        'Unsupported value: "Never": supported values: "Always"',
    ),
    (
        "negative-replicas",
        deployment("replicas: -1  #!\n"),
        f"{WEB}: spec.replicas",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "deployment-api-version",
        deployment(**{"apiVersion: apps/v1": "apiVersion: v1  #!"}),
        f"{WEB}: apiVersion",
        'Unsupported value: "v1": supported values: "apps/v1"',
    ),
    (
        "deployment-twice",
        DEPLOYMENT_YAML
        + "---\n"
        + DEPLOYMENT_YAML.replace("  name: web", "  name: web  #!"),
        f"{WEB}: metadata.name",
        'Duplicate value: "web"',
    ),
    (
        "service-port-zero",
        service("- {name: http, port: 0, targetPort: http}  #!\n"),
        f"{SVC}: spec.ports[0].port",
        "Invalid value: 0: must be between 1 and 65535, inclusive",
    ),
    (
        "service-duplicate-port-name",
        service("- {name: http, port: 80}\n- {name: http, port: 81}  #!\n"),
        f"{SVC}: spec.ports[1].name",
        'Duplicate value: "http"',
    ),
    (
        "service-two-ports-without-names",
        service("- {port: 80}  #!\n- {port: 81}\n"),
        f"{SVC}: spec.ports[0].name",
        "Required value",
    ),
    (
        "service-bad-target-port-name",
        service("- {port: 80, targetPort: web_http}  #!\n"),
        f"{SVC}: spec.ports[0].targetPort",
        'Invalid value: "web_http": must contain only lowercase alphanumerics',
    ),
    (
        "service-without-ports",
        service("").replace(
            "spec:\n  selector: {app: web}", "spec:  #!\n  selector: {app: web}"
        ),
        f"{SVC}: spec.ports",
        "Required value",
    ),
    (
        "service-bad-protocol",
        service("- {port: 80, protocol: HTTP}  #!\n"),
        f"{SVC}: spec.ports[0].protocol",
        'Unsupported value: "HTTP": supported values: "TCP", "UDP", "SCTP"',
    ),
    (
        "traffic-unknown-service",
        scenario("traffic:\n- {service: wbe, rate: 10}  #!\n"),
        f"{DEMO}: spec.traffic[0].service",
        'Not found: "wbe": no Service of that name; did you mean "web"?',
    ),
    (
        "traffic-port-not-on-service",
        scenario("traffic:\n- {service: web, port: 8080, rate: 10}  #!\n"),
        f"{DEMO}: spec.traffic[0].port",
        'Not found: 8080: Service "web" has no port of that number or name '
        '(its ports: 80 "http")',
    ),
    (
        "traffic-port-name-typo",
        scenario("traffic:\n- {service: web, port: htp, rate: 10}  #!\n"),
        f"{DEMO}: spec.traffic[0].port",
        'Not found: "htp": Service "web" has no port of that number or name '
        '(its ports: 80 "http"); did you mean "http"?',
    ),
    (
        "traffic-rate-negative",
        scenario("traffic:\n- {service: web, rate: -5}  #!\n"),
        f"{DEMO}: spec.traffic[0].rate",
        "Invalid value: -5: must be greater than or equal to 0",
    ),
    (
        "traffic-phases-not-from-0s",
        scenario("traffic:\n- service: web\n  phases:\n  - {from: 10s, rate: 5}  #!\n"),
        f"{DEMO}: spec.traffic[0].phases[0].from",
        'Invalid value: "10s": the first phase must start at 0s',
    ),
    (
        "traffic-phases-not-increasing",
        scenario(
            "traffic:\n- service: web\n  phases:\n  - {from: 0s, rate: 5}\n"
            "  - {from: 2m, rate: 9}\n  - {from: 1m, rate: 7}  #!\n"
        ),
        f"{DEMO}: spec.traffic[0].phases[2].from",
        'Invalid value: "1m": must be after the previous phase\'s from (2m)',
    ),
    (
        "traffic-rate-and-phases",
        scenario(
            "traffic:\n- service: web\n  rate: 1\n  phases: [{from: 0s, rate: 5}]  #!\n"
        ),
        f"{DEMO}: spec.traffic[0].phases",
        'Forbidden: may not specify more than 1 of "rate", "phases"',
    ),
    (
        "traffic-timeout-zero",
        scenario("traffic:\n- {service: web, rate: 1, timeout: 0s}  #!\n"),
        f"{DEMO}: spec.traffic[0].timeout",
        'Invalid value: "0s": must be greater than 0s',
    ),
    (
        "endpoints-sync-below-min-sync",
        scenario("endpoints:\n  proxyMinSyncPeriod: 10s\n  proxySyncPeriod: 5s  #!\n"),
        f"{DEMO}: spec.endpoints.proxySyncPeriod",
        'Invalid value: "5s": must be greater than or equal to proxyMinSyncPeriod',
    ),
    (
        "scale-unknown-deployment",
        scenario("actions:\n- {at: 1s, scale: {deployment: wbe, replicas: 2}}  #!\n"),
        f"{DEMO}: spec.actions[0].scale.deployment",
        'Not found: "wbe": no Deployment of that name; did you mean "web"?',
    ),
    (
        "scale-negative",
        scenario("actions:\n- {at: 1s, scale: {deployment: web, replicas: -2}}  #!\n"),
        f"{DEMO}: spec.actions[0].scale.replicas",
        "Invalid value: -2: must be greater than or equal to 0",
    ),
    (
        "rollout-unknown-container",
        scenario(ROLLOUT + "    - {name: ap, image: 'nginx:1.28'}  #!\n"),
        f"{DEMO}: spec.actions[0].rollout.containers[0].name",
        'Not found: "ap": no container of that name in Deployment "web"; '
        'did you mean "app"?',
    ),
    (
        "rollout-unknown-deployment",
        scenario(
            "actions:\n- at: 1s\n  rollout:\n    deployment: webb  #!\n"
            "    containers: [{name: app}]\n"
        ),
        f"{DEMO}: spec.actions[0].rollout.deployment",
        'Not found: "webb": no Deployment of that name; did you mean "web"?',
    ),
    (
        "rollout-min-ready-past-deadline",
        scenario(
            ROLLOUT + "    - {name: app, image: x}\n    minReadySeconds: 600  #!\n"
        ),
        f"{DEMO}: spec.actions[0].rollout.minReadySeconds",
        "Invalid value: 600: must be less than the Deployment's "
        "progressDeadlineSeconds (600)",
    ),
    (
        "rollout-bad-probe",
        scenario(
            ROLLOUT + "    - name: app\n      livenessProbe:\n"
            "        httpGet: {port: 8080}\n        successThreshold: 2  #!\n"
        ),
        f"{DEMO}: spec.actions[0].rollout.containers[0].livenessProbe.successThreshold",
        "Invalid value: 2: must be 1",
    ),
    (
        "load-capacity-zero",
        scenario("behaviours:\n- container: app\n  load: {capacity: 0}  #!\n"),
        f"{DEMO}: spec.behaviours[0].load.capacity",
        "Invalid value: 0: must be greater than 0",
    ),
    (
        "behaviour-unknown-owner",
        scenario("behaviours:\n- {container: app, pod: wbe}  #!\n"),
        f"{DEMO}: spec.behaviours[0].pod",
        'Not found: "wbe": no pod or Deployment of that name; did you mean "web"?',
    ),
    (
        "behaviour-unknown-container-of-deployment",
        scenario("behaviours:\n- {container: ap, pod: web}  #!\n"),
        f"{DEMO}: spec.behaviours[0].container",
        'Not found: "ap": no container of that name in Deployment "web"; '
        'did you mean "app"?',
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "path", "message"), MALFORMED, ids=[c[0] for c in MALFORMED]
)
def test_malformed(name: str, text: str, path: str, message: str) -> None:
    assert_reported(text, path, message, prefix=True)


def test_there_are_many_malformed_cases() -> None:
    assert len(MALFORMED) >= 15


def test_a_broken_deployment_gives_one_error() -> None:
    """References to a Deployment that failed to read are not errors of their own."""
    text = scenario(
        "behaviours:\n- {container: app, pod: web}\n"
        "actions:\n- {at: 1s, scale: {deployment: web, replicas: 2}}\n"
        "- {at: 2s, rollout: {deployment: web, containers: [{name: app}]}}\n",
        deployment("replicas: -1\n"),
    )
    problems = errors_of(text)
    assert [p.path for p in problems] == [f"{WEB}: spec.replicas"]


def test_messages_print_like_the_api_server() -> None:
    (problem,) = errors_of(
        service("- {name: http, port: 80}\n- {name: http, port: 81}\n")
    )
    assert str(problem) == (
        'case.yaml:25: Service "web": spec.ports[1].name: Duplicate value: "http"'
    )


# Schema and documentation ----------------------------------------------------------


def test_schema_knows_the_new_fields() -> None:
    schema = scenario_json_schema()
    spec = schema["$defs"]["ScenarioSpec"]["properties"]
    assert {"traffic", "endpoints"} <= set(spec)
    action = schema["$defs"]["action"]["properties"]
    assert {"scale", "rollout"} <= set(action)
    assert "load" in schema["$defs"]["behaviour"]["properties"]
    traffic = schema["$defs"]["traffic"]
    assert traffic["required"] == ["service"]
    assert traffic["oneOf"] == [{"required": ["rate"]}, {"required": ["phases"]}]
    capacity = schema["$defs"]["loadBehaviour"]["properties"]["capacity"]
    assert capacity["exclusiveMinimum"] == 0


def _names(table: object, seen: set[int]) -> set[str]:
    from sim.scenario.fields import ListOf, Obj

    if id(table) in seen:
        return set()
    seen.add(id(table))
    if isinstance(table, ListOf):
        return _names(table.item, seen)
    if not isinstance(table, Obj):
        return set()
    names = {f.name for f in table.fields}
    for f in table.fields:
        names |= _names(f.type, seen)
    return names


def test_docs_cover_the_manifest_fields() -> None:
    docs = Path(__file__).parent.parent / "docs" / "scenario-format.md"
    text = docs.read_text(encoding="utf-8")
    names = _names(SERVICE, set()) | _names(DEPLOYMENT, set())
    missing = sorted(n for n in names if not re.search(rf"\b{re.escape(n)}\b", text))
    assert not missing


# Properties ------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    replicas=st.integers(0, 50),
    surge=st.one_of(st.integers(0, 10), st.integers(0, 200).map(lambda n: f"{n}%")),
    unavailable=st.one_of(
        st.integers(1, 10), st.integers(1, 100).map(lambda n: f"{n}%")
    ),
    ready=st.integers(0, 100),
    rates=st.lists(st.integers(0, 1000), min_size=1, max_size=4),
)
def test_round_trip_property(
    replicas: int,
    surge: int | str,
    unavailable: int | str,
    ready: int,
    rates: list[int],
) -> None:
    phases = ", ".join(f"{{from: {i}m, rate: {r}}}" for i, r in enumerate(rates))
    text = scenario(
        f"traffic:\n- {{service: web, phases: [{phases}]}}\n",
        deployment(
            f"replicas: {replicas}\nminReadySeconds: {ready}\n"
            "strategy:\n  rollingUpdate:\n"
            f"    maxSurge: {surge}\n    maxUnavailable: {unavailable}\n"
        ),
    )
    original = read(text)
    assert read(resolved_yaml(original)) == original
    assert original.deployments[0].max_surge == surge


def test_http_probe_of_a_template_uses_the_pod_tables() -> None:
    d = read(
        deployment(
            **{
                "        ports: [{name: http, containerPort: 8080}]": (
                    "        ports: [{name: http, containerPort: 8080}]\n"
                    "        readinessProbe: {httpGet: {port: http}}"
                )
            }
        )
    ).deployments[0]
    probe = d.template.container("app").readiness_probe
    assert probe is not None
    assert probe.handler == HTTPGetAction("http", "/")
    assert probe.failure_threshold == 3
