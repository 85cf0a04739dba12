"""The scenario reader: defaults, validation messages, warnings, round trip, schema.

Malformed inputs are table-driven: each case is a whole file in which the line the
error must point at carries a ``#!`` comment, with the expected problem path and a
fragment of the expected message.
"""

from __future__ import annotations

import dataclasses
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from readercases import assert_reported, errors_of, marked_line
from ruamel.yaml import YAML

from sim.scenario import (
    Problem,
    Scenario,
    ScenarioError,
    load_scenario,
    read_scenario_text,
)
from sim.scenario.behaviour import (
    Distribution,
    DistributionKind,
    SigtermBehaviour,
    SigtermKind,
    Window,
)
from sim.scenario.document import ActionKind, ClusterSpec, FaultKind, ProbeGridPhase
from sim.scenario.errors import Severity
from sim.scenario.reader import no_behaviour_warning, validate_file
from sim.scenario.resolved import resolved_yaml
from sim.scenario.scenario_doc import FEATURE_GATES
from sim.scenario.schema import scenario_json_schema
from sim.scenario.spec import (
    ExecAction,
    GRPCAction,
    HTTPGetAction,
    PullPolicy,
    RestartPolicy,
    SleepAction,
    URIScheme,
)

POD_HEAD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.27
    ports:
    - {containerPort: 8080, name: http}
"""
SCENARIO_HEAD = """\
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: demo}
spec:
"""


def pod(container: str = "", spec: str = "", head: str = POD_HEAD) -> str:
    """The pod ``web`` with extra container lines and extra spec lines."""
    text = head + textwrap.indent(textwrap.dedent(container), "    ")
    return text + textwrap.indent(textwrap.dedent(spec), "  ")


def scenario(spec: str, pods: str = POD_HEAD) -> str:
    """The pods plus a Scenario document named ``demo`` with these spec lines."""
    return pods + SCENARIO_HEAD + textwrap.indent(textwrap.dedent(spec), "  ")


WEB = 'Pod "web"'
C0 = f"{WEB}: spec.containers[0]"
DEMO = 'Scenario "demo"'

MALFORMED: list[tuple[str, str, str, str]] = [
    # (id, file text, expected problem path, expected message fragment)
    (
        "unknown-probe-field",
        pod("""\
            livenessProbe:
              httpGet: {port: 8080}
              initialDelaySecond: 5  #!
            """),
        f"{C0}.livenessProbe.initialDelaySecond",
        'unknown field "spec.containers[0].livenessProbe.initialDelaySecond"; '
        'did you mean "initialDelaySeconds"?',
    ),
    (
        "unknown-field-case",
        pod("""\
            livenessProbe:
              httpGet: {port: 8080}
              periodseconds: 5  #!
            """),
        f"{C0}.livenessProbe.periodseconds",
        'did you mean "periodSeconds"?',
    ),
    (
        "negative-period",
        pod("""\
            livenessProbe:
              httpGet: {port: 8080}
              periodSeconds: -1  #!
            """),
        f"{C0}.livenessProbe.periodSeconds",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "period-not-int",
        pod("""\
            readinessProbe:
              httpGet: {port: 8080}
              periodSeconds: ten  #!
            """),
        f"{C0}.readinessProbe.periodSeconds",
        'Invalid value: "ten": must be an integer',
    ),
    (
        "period-bool",
        pod("""\
            readinessProbe:
              httpGet: {port: 8080}
              timeoutSeconds: true  #!
            """),
        f"{C0}.readinessProbe.timeoutSeconds",
        "Invalid value: true: must be an integer",
    ),
    (
        "liveness-success-threshold",
        pod("""\
            livenessProbe:
              httpGet: {port: 8080}
              successThreshold: 2  #!
            """),
        f"{C0}.livenessProbe.successThreshold",
        "Invalid value: 2: must be 1",
    ),
    (
        "startup-success-threshold",
        pod("""\
            startupProbe:
              tcpSocket: {port: 8080}
              successThreshold: 3  #!
            """),
        f"{C0}.startupProbe.successThreshold",
        "Invalid value: 3: must be 1",
    ),
    (
        "readiness-grace",
        pod("""\
            readinessProbe:
              httpGet: {port: 8080}
              terminationGracePeriodSeconds: 10  #!
            """),
        f"{C0}.readinessProbe.terminationGracePeriodSeconds",
        "Invalid value: 10: must not be set for readinessProbes",
    ),
    (
        "liveness-grace-zero",
        pod("""\
            livenessProbe:
              httpGet: {port: 8080}
              terminationGracePeriodSeconds: 0  #!
            """),
        f"{C0}.livenessProbe.terminationGracePeriodSeconds",
        "Invalid value: 0: must be greater than 0",
    ),
    (
        "no-handler",
        pod("""\
            livenessProbe:  #!
              periodSeconds: 5
            """),
        f"{C0}.livenessProbe",
        "Required value: must specify a handler type",
    ),
    (
        "two-handlers",
        pod("""\
            livenessProbe:
              httpGet: {port: 8080}
              tcpSocket: {port: 8080}  #!
            """),
        f"{C0}.livenessProbe.tcpSocket",
        "Forbidden: may not specify more than 1 handler type",
    ),
    (
        "exec-no-command",
        pod("""\
            livenessProbe:
              exec: {command: []}  #!
            """),
        f"{C0}.livenessProbe.exec.command",
        "Required value",
    ),
    (
        "http-port-range",
        pod("""\
            livenessProbe:
              httpGet:
                port: 70000  #!
            """),
        f"{C0}.livenessProbe.httpGet.port",
        "Invalid value: 70000: must be between 1 and 65535, inclusive",
    ),
    (
        "http-port-name",
        pod("""\
            livenessProbe:
              httpGet:
                port: Web_Port  #!
            """),
        f"{C0}.livenessProbe.httpGet.port",
        "Invalid value: \"Web_Port\": must contain only lowercase alphanumerics or '-'",
    ),
    (
        "http-port-name-digits",
        pod("""\
            livenessProbe:
              httpGet:
                port: "8080"  #!
            """),
        f"{C0}.livenessProbe.httpGet.port",
        "must contain at least one letter (a-z)",
    ),
    (
        "http-scheme",
        pod("""\
            livenessProbe:
              httpGet:
                port: 8080
                scheme: FTP  #!
            """),
        f"{C0}.livenessProbe.httpGet.scheme",
        'Unsupported value: "FTP": supported values: "HTTP", "HTTPS"',
    ),
    (
        "http-header-name",
        pod("""\
            readinessProbe:
              httpGet:
                port: 8080
                httpHeaders:
                - {name: "X Bad", value: x}  #!
            """),
        f"{C0}.readinessProbe.httpGet.httpHeaders[0].name",
        "a valid HTTP header must consist of alphanumeric characters or '-'",
    ),
    (
        "grpc-port-zero",
        pod("""\
            livenessProbe:
              grpc: {port: 0}  #!
            """),
        f"{C0}.livenessProbe.grpc.port",
        "Invalid value: 0: must be between 1 and 65535, inclusive",
    ),
    (
        "grpc-port-name",
        pod("""\
            livenessProbe:
              grpc: {port: grpc}  #!
            """),
        f"{C0}.livenessProbe.grpc.port",
        'Invalid value: "grpc": must be an integer',
    ),
    (
        "restart-policy",
        pod(spec="restartPolicy: Sometimes  #!\n"),
        f"{WEB}: spec.restartPolicy",
        'Unsupported value: "Sometimes": supported values: "Always", "OnFailure", '
        '"Never"',
    ),
    (
        "duplicate-container",
        POD_HEAD + "  - name: app  #!\n    image: busybox\n",
        f"{WEB}: spec.containers[1].name",
        'Duplicate value: "app"',
    ),
    (
        "no-containers",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:  #!\n"
        "  restartPolicy: Never\n",
        f"{WEB}: spec.containers",
        "Required value",
    ),
    (
        "no-name",
        "apiVersion: v1\nkind: Pod\nmetadata:  #!\n  namespace: x\nspec:\n"
        "  containers: [{name: a, image: b}]\n",
        "Pod (document 1): metadata.name",
        "Required value: name or generateName is required",
    ),
    (
        "no-image",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
        "  - name: a  #!\n",
        f"{WEB}: spec.containers[0].image",
        "Required value",
    ),
    (
        "container-port-zero",
        pod("""\
            - {containerPort: 0}  #!
            """),
        f"{C0}.ports[1].containerPort",
        "Invalid value: 0: must be between 1 and 65535, inclusive",
    ),
    (
        "duplicate-port-name",
        pod("""\
            - containerPort: 9090
              name: http  #!
            """),
        f"{C0}.ports[1].name",
        'Duplicate value: "http"',
    ),
    (
        "pull-policy",
        pod("imagePullPolicy: Sometimes  #!\n"),
        f"{C0}.imagePullPolicy",
        'Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", '
        '"Never"',
    ),
    (
        "unknown-spec-field",
        pod(spec="restartPolicyy: Always  #!\n"),
        f"{WEB}: spec.restartPolicyy",
        'did you mean "restartPolicy"?',
    ),
    (
        "unknown-container-field",
        pod("livenessprobe: {}  #!\n"),
        f"{C0}.livenessprobe",
        'did you mean "livenessProbe"?',
    ),
    (
        "command-item-not-string",
        pod("command: [sleep, 30]  #!\n"),
        f"{C0}.command[1]",
        "Invalid value: 30: must be a string",
    ),
    (
        "container-name-case",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n"
        "  - name: App  #!\n    image: x\n",
        f"{WEB}: spec.containers[0].name",
        "a lowercase RFC 1123 label must consist of",
    ),
    (
        "pod-name",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Web_1  #!\nspec:\n"
        "  containers: [{name: a, image: b}]\n",
        'Pod "Web_1": metadata.name',
        "a lowercase RFC 1123 subdomain must consist of",
    ),
    (
        "pod-api-version",
        "apiVersion: apps/v1  #!\nkind: Pod\nmetadata: {name: web}\nspec:\n"
        "  containers: [{name: a, image: b}]\n",
        f"{WEB}: apiVersion",
        'Unsupported value: "apps/v1": supported values: "v1"',
    ),
    (
        "unknown-kind",
        POD_HEAD + "---\napiVersion: batch/v1\nkind: Job  #!\nmetadata: {name: j}\n",
        'Job "j": kind',
        'Unsupported value: "Job"',
    ),
    (
        "duplicate-pod",
        POD_HEAD + "---\n" + POD_HEAD.replace("  name: web", "  name: web  #!"),
        f"{WEB}: metadata.name",
        'Duplicate value: "web"',
    ),
    (
        "readiness-gate-type",
        pod(spec="readinessGates:\n- conditionType: -bad-  #!\n"),
        f"{WEB}: spec.readinessGates[0].conditionType",
        "name part must consist of alphanumeric characters",
    ),
    (
        "label-value",
        pod(
            head=POD_HEAD.replace(
                "  name: web\n", "  name: web\n  labels:\n    app: 3  #!\n"
            )
        ),
        f"{WEB}: metadata.labels[app]",
        "Invalid value: 3: must be a string",
    ),
    (
        "prestop-two-handlers",
        pod("""\
            lifecycle:
              preStop:
                exec: {command: [x]}
                sleep: {seconds: 5}  #!
            """),
        f"{C0}.lifecycle.preStop.sleep",
        "Forbidden: may not specify more than 1 handler type",
    ),
    (
        "python-tag",
        POD_HEAD.replace(
            "image: nginx:1.27", "image: !!python/object:os.system {}  #!"
        ),
        f"{C0}.image",
        "unsupported YAML tag !!python/object:os.system",
    ),
    (
        "broken-yaml",
        POD_HEAD + "  - name: a: b  #!\n",
        "",
        "invalid YAML:",
    ),
    (
        "duplicate-key",
        POD_HEAD.replace("kind: Pod\n", "kind: Pod\nkind: Pod  #!\n"),
        "",
        'invalid YAML: duplicate key "kind"',
    ),
    (
        "not-a-mapping",
        POD_HEAD + "---\n- just  #!\n- a list\n",
        "document 2",
        "a document must be a mapping",
    ),
    (
        "no-pods",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
        "",
        "no Pod document",
    ),
    # The Scenario document.
    (
        "scenario-unknown-field",
        scenario("duraton: 5m  #!\n"),
        f"{DEMO}: spec.duraton",
        'unknown field "spec.duraton"; did you mean "duration"?',
    ),
    (
        "duration-words",
        scenario("duration: 10 minutes  #!\n"),
        f"{DEMO}: spec.duration",
        'Invalid value: "10 minutes": must be a duration such as 90s',
    ),
    (
        "duration-zero",
        scenario("duration: 0s  #!\n"),
        f"{DEMO}: spec.duration",
        "must be greater than 0s",
    ),
    (
        "duration-unit",
        scenario("duration: 5x  #!\n"),
        f"{DEMO}: spec.duration",
        'unknown unit "x"',
    ),
    (
        "seed-negative",
        scenario("seed: -1  #!\n"),
        f"{DEMO}: spec.seed",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    (
        "version-float",
        scenario("cluster:\n  kubernetesVersion: 1.30  #!\n"),
        f"{DEMO}: spec.cluster.kubernetesVersion",
        'YAML reads 1.30 as the number 1.3: write "1.30"',
    ),
    (
        "version-unsupported",
        scenario('cluster:\n  kubernetesVersion: "1.26"  #!\n'),
        f"{DEMO}: spec.cluster.kubernetesVersion",
        'Unsupported value: "1.26": supported values: "1.27"',
    ),
    (
        "feature-gate",
        scenario(
            "cluster:\n  featureGates:\n"
            "    ReduceDefaultCrashloopBackoffDecay: true  #!\n"
        ),
        f"{DEMO}: spec.cluster.featureGates[ReduceDefaultCrashloopBackoffDecay]",
        'unknown feature gate; did you mean "ReduceDefaultCrashLoopBackOffDecay"?',
    ),
    (
        "feature-gate-value",
        scenario('cluster:\n  featureGates:\n    ExecProbeTimeout: "yes"  #!\n'),
        f"{DEMO}: spec.cluster.featureGates[ExecProbeTimeout]",
        "must be a boolean (true or false)",
    ),
    (
        "max-restart-period",
        scenario(
            "cluster:\n  crashLoopBackOff:\n    maxContainerRestartPeriod: 10m  #!\n"
        ),
        f"{DEMO}: spec.cluster.crashLoopBackOff.maxContainerRestartPeriod",
        'Invalid value: "10m": must be between 1s and 5m',
    ),
    (
        "enum-case",
        scenario("cluster:\n  probeGridPhase: uniform  #!\n"),
        f"{DEMO}: spec.cluster.probeGridPhase",
        'supported values: "Uniform", "Derived"; did you mean "Uniform"?',
    ),
    (
        "uniform-order",
        scenario("cluster:\n  sandboxStartLatency: {min: 2s, max: 1s}  #!\n"),
        f"{DEMO}: spec.cluster.sandboxStartLatency.max",
        "must not be less than min",
    ),
    (
        "distribution-form",
        scenario("cluster:\n  imagePullLatency: {avg: 1s}  #!\n"),
        f"{DEMO}: spec.cluster.imagePullLatency",
        "must be a duration, {min, max}, {median, p99} or {mean}",
    ),
    (
        "lognormal-half",
        scenario("cluster:\n  imagePullLatency: {median: 1s}  #!\n"),
        f"{DEMO}: spec.cluster.imagePullLatency.p99",
        "Required value",
    ),
    (
        "behaviour-container",
        scenario("behaviours:\n- container: ap  #!\n"),
        f"{DEMO}: spec.behaviours[0].container",
        'Not found: "ap": no container of that name in any pod; did you mean "app"?',
    ),
    (
        "behaviour-pod",
        scenario("behaviours:\n- container: app\n  pod: wbe  #!\n"),
        f"{DEMO}: spec.behaviours[0].pod",
        'Not found: "wbe": no pod of that name; did you mean "web"?',
    ),
    (
        "behaviour-duplicate",
        scenario("behaviours:\n- container: app\n- container: app  #!\n"),
        f"{DEMO}: spec.behaviours[1].container",
        'Duplicate value: "app"',
    ),
    (
        "phase-unreachable",
        scenario(
            "behaviours:\n- container: app\n  http:\n  - port: 8080\n"
            "    responses:\n    - {status: 200}\n    - {status: 500}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].http[0].responses[1]",
        "unreachable: the phase before it has no until",
    ),
    (
        "phase-order",
        scenario(
            "behaviours:\n- container: app\n  exec:\n  - responses:\n"
            "    - {until: 10s}\n    - {until: 5s, exitCode: 1}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].exec[0].responses[1].until",
        "must be after the previous phase's until (10s)",
    ),
    (
        "http-status",
        scenario(
            "behaviours:\n- container: app\n  http:\n  - port: http\n"
            "    responses:\n    - {status: 700}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].http[0].responses[0].status",
        "Invalid value: 700: must be between 100 and 599, inclusive",
    ),
    (
        "grpc-status",
        scenario(
            "behaviours:\n- container: app\n  grpc:\n  - port: 9000\n"
            "    responses:\n    - {status: serving}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].grpc[0].responses[0].status",
        'did you mean "SERVING"?',
    ),
    (
        "flaky-probability",
        scenario(
            "behaviours:\n- container: app\n  http:\n  - port: 8080\n"
            "    responses:\n    - flaky: {probability: 2}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].http[0].responses[0].flaky.probability",
        "Invalid value: 2: must be between 0.0 and 1.0, inclusive",
    ),
    (
        "location-not-redirect",
        scenario(
            "behaviours:\n- container: app\n  http:\n  - port: 8080\n"
            "    responses:\n    - {status: 200, location: /x}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].http[0].responses[0].location",
        "only used with a redirect status (3xx)",
    ),
    (
        "window-order",
        scenario(
            "behaviours:\n- container: app\n  files:\n"
            "    /tmp/x: {from: 10s, until: 5s}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].files[/tmp/x].until",
        "must be after from",
    ),
    (
        "sigterm-word",
        scenario("behaviours:\n- container: app\n  sigterm: maybe  #!\n"),
        f"{DEMO}: spec.behaviours[0].sigterm",
        'Unsupported value: "maybe": supported values: "ignore", "exit"',
    ),
    (
        "exit-after-missing",
        scenario("behaviours:\n- container: app\n  exit: {code: 2}  #!\n"),
        f"{DEMO}: spec.behaviours[0].exit.after",
        "Required value",
    ),
    (
        "action-no-verb",
        scenario("actions:\n- {at: 10s}  #!\n"),
        f"{DEMO}: spec.actions[0]",
        'Required value: must specify one of "delete", "setCondition"',
    ),
    (
        "action-two-verbs",
        scenario(
            "actions:\n- at: 10s\n  delete: {pod: web}\n"
            "  setImage: {pod: web, container: app, image: x}  #!\n"
        ),
        f"{DEMO}: spec.actions[0].setImage",
        "Forbidden: may not specify more than 1 of",
    ),
    (
        "action-at-missing",
        scenario("actions:\n- delete: {pod: web}  #!\n"),
        f"{DEMO}: spec.actions[0].at",
        "Required value",
    ),
    (
        "action-pod",
        scenario("actions:\n- at: 1m\n  delete: {pod: webb}  #!\n"),
        f"{DEMO}: spec.actions[0].delete.pod",
        'Not found: "webb": no pod of that name; did you mean "web"?',
    ),
    (
        "action-container",
        scenario(
            "actions:\n- at: 1m\n  setImage: {pod: web, container: apps, image: x}"
            "  #!\n"
        ),
        f"{DEMO}: spec.actions[0].setImage.container",
        'no container of that name in pod "web"; did you mean "app"?',
    ),
    (
        "fault-two-kinds",
        scenario(
            "actions:\n- at: 1m\n  fault:\n    pod: web\n    container: app\n"
            "    hang: {}\n    crash: {}  #!\n"
        ),
        f"{DEMO}: spec.actions[0].fault.crash",
        "Forbidden: may not specify more than 1 of",
    ),
    (
        "fault-slow-latency",
        scenario(
            "actions:\n- at: 1m\n  fault:\n    pod: web\n    container: app\n"
            "    slow:  #!\n"
        ),
        f"{DEMO}: spec.actions[0].fault.slow.latency",
        "Required value",
    ),
    (
        "condition-status",
        scenario(
            "actions:\n- at: 1m\n  setCondition:\n    pod: web\n    type: a/b\n"
            "    status: maybe  #!\n"
        ),
        f"{DEMO}: spec.actions[0].setCondition.status",
        'Unsupported value: "maybe": supported values: "True", "False"',
    ),
    (
        "scenario-api-version",
        POD_HEAD + SCENARIO_HEAD.replace("v1alpha1", "v1  #!") + "  seed: 1\n",
        f"{DEMO}: apiVersion",
        'Unsupported value: "probesim/v1": supported values: "probesim/v1alpha1"',
    ),
    (
        "two-scenarios",
        scenario("seed: 1\n")
        + SCENARIO_HEAD.replace("v1alpha1", "v1alpha1  #!")
        + "  seed: 2\n",
        DEMO,
        "Forbidden: a scenario file has exactly one Scenario document; the first is "
        "on line 12",
    ),
]


def _case_ids() -> list[str]:
    return [case[0] for case in MALFORMED]


@pytest.mark.parametrize(
    ("name", "text", "path", "fragment"), MALFORMED, ids=_case_ids()
)
def test_malformed(name: str, text: str, path: str, fragment: str) -> None:
    assert_reported(text, path, fragment, line=name != "no-pods")


def test_there_are_many_malformed_cases() -> None:
    assert len(MALFORMED) >= 25


def test_every_error_is_reported_at_once() -> None:
    text = scenario(
        "duration: -1s\nseed: x\nbehaviours:\n- container: nope\n",
        pods=pod(
            "livenessProbe:\n  httpGet: {port: 0}\n  periodSeconds: -2\n",
            "restartPolicy: Sometimes\n",
        ),
    )
    problems = errors_of(text)
    assert len(problems) == 6
    assert [p.line for p in problems] == sorted(p.line for p in problems)


def test_error_rendering() -> None:
    text = pod("livenessProbe:\n  httpGet: {port: 8080}\n  periodSeconds: -1\n")
    with pytest.raises(ScenarioError) as info:
        read_scenario_text(text, "scenario.yaml")
    assert str(info.value) == (
        'scenario.yaml:13: Pod "web": spec.containers[0].livenessProbe.periodSeconds:'
        " Invalid value: -1: must be greater than or equal to 0"
    )


def test_problem_rendering_without_line_or_path() -> None:
    assert str(Problem("f.yaml", 0, "", "gone")) == "f.yaml: gone"
    assert str(Problem("f.yaml", 3, "", "bad")) == "f.yaml:3: bad"
    error = ScenarioError([Problem("a", 1, "p", "x"), Problem("a", 2, "q", "y")])
    assert str(error) == "a:1: p: x\na:2: q: y"


# Defaults ------------------------------------------------------------------------


def read(text: str) -> Scenario:
    return read_scenario_text(text, "case.yaml")


def test_probe_defaults() -> None:
    s = read(
        pod(
            "livenessProbe:\n  httpGet: {port: http}\n  periodSeconds: 0\n"
            "readinessProbe:\n  exec: {command: [/bin/true]}\n"
            "startupProbe:\n  grpc: {port: 9000}\n  failureThreshold: 30\n"
        )
    )
    container = s.pods[0].containers[0]
    live = container.liveness_probe
    assert live is not None
    assert live.handler == HTTPGetAction(port="http", path="/", scheme=URIScheme.HTTP)
    assert (
        live.initial_delay_seconds,
        live.timeout_seconds,
        live.period_seconds,
        live.success_threshold,
        live.failure_threshold,
        live.termination_grace_period_seconds,
    ) == (0, 1, 10, 1, 3, None)
    assert container.readiness_probe is not None
    assert container.readiness_probe.handler == ExecAction(("/bin/true",))
    startup = container.startup_probe
    assert startup is not None
    assert startup.handler == GRPCAction(9000, "")
    assert startup.failure_threshold == 30


def test_pod_defaults() -> None:
    s = read(POD_HEAD)
    p = s.pods[0]
    assert p.restart_policy is RestartPolicy.ALWAYS
    assert p.termination_grace_period_seconds == 30
    assert p.service_account_name == "default"
    assert p.metadata.namespace == "default"
    assert p.metadata.uid == read(POD_HEAD).pods[0].metadata.uid
    assert re.fullmatch(r"[0-9a-f-]{36}", p.metadata.uid)
    assert p.source_line == 1
    assert p.containers[0].ports[0].protocol == "TCP"


@pytest.mark.parametrize(
    ("image", "policy"),
    [
        ("busybox", PullPolicy.ALWAYS),
        ("busybox:latest", PullPolicy.ALWAYS),
        ("busybox:1.36", PullPolicy.IF_NOT_PRESENT),
        ("busybox@sha256:" + "a" * 64, PullPolicy.IF_NOT_PRESENT),
        ("busybox:latest@sha256:" + "a" * 64, PullPolicy.IF_NOT_PRESENT),
        ("localhost:5000/app", PullPolicy.ALWAYS),
        ("localhost:5000/app:v1", PullPolicy.IF_NOT_PRESENT),
        ("registry.k8s.io/e2e/agnhost:2.40", PullPolicy.IF_NOT_PRESENT),
    ],
)
def test_image_pull_policy_default(image: str, policy: PullPolicy) -> None:
    text = POD_HEAD.replace("image: nginx:1.27", f'image: "{image}"')
    assert read(text).pods[0].containers[0].image_pull_policy is policy


def test_explicit_fields_are_kept() -> None:
    text = pod(
        "imagePullPolicy: Never\nenv:\n- {name: A, value: x}\n"
        "- name: B\n  valueFrom: {fieldRef: {fieldPath: status.podIP}}\n"
        "lifecycle:\n  preStop:\n    sleep: {seconds: 5}\n",
        "restartPolicy: OnFailure\nterminationGracePeriodSeconds: 5\n"
        "serviceAccount: robot\nreadinessGates:\n- conditionType: example.com/ok\n",
    ).replace("  name: web\n", "  name: web\n  namespace: prod\n  uid: abc\n")
    p = read(text).pods[0]
    c = p.containers[0]
    assert c.image_pull_policy is PullPolicy.NEVER
    assert c.env == (("A", "x"),)
    assert c.pre_stop == SleepAction(5)
    assert p.restart_policy is RestartPolicy.ON_FAILURE
    assert p.termination_grace_period_seconds == 5
    assert p.service_account_name == "robot"
    assert p.readiness_gates == ("example.com/ok",)
    assert (p.metadata.namespace, p.metadata.uid) == ("prod", "abc")


def test_generate_name() -> None:
    text = POD_HEAD.replace("  name: web\n", "  generateName: web-\n")
    name = read(text).pods[0].name
    assert re.fullmatch(r"web-[a-z0-9]{5}", name)
    assert read(text).pods[0].name == name


KUBECTL_POD = """\
apiVersion: v1
kind: Pod
metadata:
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"v1","kind":"Pod"}
  creationTimestamp: "2025-01-10T10:00:00Z"
  generateName: web-7d4b9c-
  labels: {app: web, pod-template-hash: 7d4b9c}
  name: web-7d4b9c-abcde
  namespace: prod
  ownerReferences:
  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-7d4b9c, uid: x, controller: true}
  resourceVersion: "123456"
  uid: 0f1e2d3c-aaaa-bbbb-cccc-000000000001
  managedFields:
  - {apiVersion: v1, fieldsType: FieldsV1, manager: kubelet, operation: Update}
spec:
  containers:
  - image: nginx:1.27
    imagePullPolicy: IfNotPresent
    livenessProbe:
      failureThreshold: 3
      httpGet: {path: /healthz, port: 8080, scheme: HTTP}
      periodSeconds: 10
      successThreshold: 1
      timeoutSeconds: 1
    name: web
    resources: {limits: {cpu: 500m}}
    terminationMessagePath: /dev/termination-log
    terminationMessagePolicy: File
    volumeMounts:
    - {mountPath: /var/run/secrets/kubernetes.io/serviceaccount, name: token}
  dnsPolicy: ClusterFirst
  enableServiceLinks: true
  nodeName: node-1
  preemptionPolicy: PreemptLowerPriority
  priority: 0
  restartPolicy: Always
  schedulerName: default-scheduler
  securityContext: {}
  serviceAccount: default
  serviceAccountName: default
  terminationGracePeriodSeconds: 30
  tolerations:
  - {effect: NoExecute, key: node.kubernetes.io/not-ready, operator: Exists}
  volumes:
  - {name: token, projected: {defaultMode: 420, sources: []}}
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
"""


def test_kubectl_output_is_accepted() -> None:
    s = read(KUBECTL_POD)
    p = s.pods[0]
    assert p.name == "web-7d4b9c-abcde" == s.name
    assert p.metadata.uid == "0f1e2d3c-aaaa-bbbb-cccc-000000000001"
    assert p.containers[0].liveness_probe is not None
    assert all("unknown" not in w and "not simulated" not in w for w in s.warnings), (
        s.warnings
    )


def test_kubectl_list_is_expanded() -> None:
    items = textwrap.indent(KUBECTL_POD, "  ").replace(
        "  apiVersion", "- apiVersion", 1
    )
    text = "apiVersion: v1\nkind: List\nmetadata: {resourceVersion: ''}\nitems:\n"
    s = read(text + items)
    assert [p.name for p in s.pods] == ["web-7d4b9c-abcde"]


# Warnings ------------------------------------------------------------------------


def warnings_of(text: str) -> tuple[str, ...]:
    return read(text).warnings


def test_named_probe_port_missing_is_a_warning() -> None:
    text = pod("readinessProbe:\n  tcpSocket: {port: metrics}\n")
    assert any(
        'probe port "metrics" is not a port name of container "app": the kubelet will '
        "report the readiness probe as errored every period and never count it" in w
        for w in warnings_of(text)
    )


def test_init_containers_warn() -> None:
    s = read(pod(spec="initContainers:\n- {name: init, image: busybox}\n"))
    assert s.pods[0].init_containers[0].name == "init"
    assert any(
        "init containers are not simulated yet; they are taken as finished at once" in w
        for w in s.warnings
    )


@pytest.mark.parametrize(
    "kind",
    ["ReplicaSet", "ConfigMap"],
)
def test_kept_kinds(kind: str) -> None:
    text = POD_HEAD + f"---\napiVersion: v1\nkind: {kind}\nmetadata: {{name: x}}\n"
    s = read(text)
    assert s.other_objects[0].kind == kind
    assert s.other_objects[0].name == "x"
    assert s.other_objects[0].body["metadata"] == {"name": "x"}
    assert (
        f'case.yaml:12: {kind} "x": not simulated yet; kept in the resolved scenario'
        in (s.warnings)
    )


def test_no_scenario_document() -> None:
    s = read(POD_HEAD)
    assert s.name == "web"
    assert s.seed == 1
    assert s.duration_seconds == 600
    assert any("no Scenario document" in w for w in s.warnings)


def test_no_behaviour_warning() -> None:
    s = read(pod("livenessProbe:\n  httpGet: {port: 8080}\n"))
    expected = no_behaviour_warning("web", "app")
    assert expected.startswith('Pod "web" container "app": no behaviour given;')
    assert f"case.yaml:7: {expected}" in s.warnings


def test_containers_without_probes_need_no_behaviour() -> None:
    assert not any("no behaviour given" in w for w in warnings_of(POD_HEAD))


def test_action_after_the_end_never_happens() -> None:
    text = scenario("duration: 1m\nactions:\n- {at: 2m, delete: {pod: web}}\n")
    assert any(
        "spec.actions[0].at: at 2m is not before the end of the scenario (1m): this "
        "action never happens" in w
        for w in warnings_of(text)
    )


def test_condition_that_is_no_readiness_gate() -> None:
    text = scenario(
        "actions:\n- at: 1m\n  setCondition: {pod: web, type: a.io/b, status: true}\n"
    )
    assert any("is not a readiness gate" in w for w in warnings_of(text))


def test_assumptions_are_recorded() -> None:
    text = scenario(
        "behaviours:\n- container: app\n  exit: {after: 1m}\n",
        pods=pod("livenessProbe:\n  httpGet: {port: 8080}\n"),
    )
    s = read(text)
    assert s.behaviours[0].assumed
    assert "describes no port" in s.behaviours[0].assumed[0]
    assert any("describes no port" in w for w in s.warnings)


def test_behaviour_port_name_unknown() -> None:
    text = scenario(
        "behaviours:\n- container: app\n  tcp: [{port: metrics}]\n",
        pods=pod("livenessProbe:\n  tcpSocket: {port: 8080}\n"),
    )
    assert any('tcp port "metrics" is not a port name' in w for w in warnings_of(text))


def test_validate_file_returns_errors_and_warnings(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(pod("livenessProbe:\n  httpGet: {port: 0}\n"))
    problems = validate_file(path)
    assert {p.severity for p in problems} == {Severity.ERROR, Severity.WARNING}
    assert all(p.file == str(path) for p in problems)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "nope.yaml")
    assert "no such file" in str(info.value)
    assert info.value.problems[0].line == 0


# The Scenario document -----------------------------------------------------------

FULL = scenario(
    """\
    duration: 15m
    seed: 7
    cluster:
      kubernetesVersion: "1.33"
      featureGates: {ReduceDefaultCrashLoopBackOffDecay: true, ExecProbeTimeout: false}
      kubeletUptime: 2h
      crashLoopBackOff: {maxContainerRestartPeriod: 30s}
      reducedDecayReading: Designed
      probeGridPhase: Derived
      sandboxStartLatency: 200ms
      containerStartLatency: {median: 500ms, p99: 2s}
      imagePullLatency: {mean: 2s}
      imagesPresent: false
      syncFrequency: 30s
    behaviours:
    - container: app
      files:
        /tmp/healthy: {from: 0s, until: 30s}
        /tmp/ready: [{until: 10s}, {from: 20s}]
      exec:
      - command: [cat, /tmp/healthy]
        responses:
        - {until: 10s, exitCode: 0, duration: 10ms}
        - {exitCode: 1, output: no}
      http:
      - port: http
        path: /healthz
        latency: {median: 5ms, p99: 200ms}
        responses:
        - {until: 10s, status: 200}
        - {until: 20s, status: 302, location: "http://other/"}
        - {status: 500, latency: 1s, flaky: {probability: 0.25, status: 200}}
      tcp:
      - port: 8080
      - port: http
        listening: {from: 5s, until: 1m}
      grpc:
      - port: 9000
        service: ""
        responses: [{until: 5s, status: NOT_SERVING}, {status: SERVING, hang: true}]
      exit: {after: {min: 40s, max: 50s}, code: 3}
      sigterm: {exitAfter: 2s}
    - container: app
      pod: web
      sigterm: ignore
    actions:
    - {at: 90s, delete: {pod: web, gracePeriodSeconds: 10}}
    - {at: 30s, setCondition: {pod: web, type: example.com/feature-1, status: "True"}}
    - {at: 30s, setImage: {pod: web, container: app, image: "nginx:1.28"}}
    - {at: 1m, fault: {pod: web, container: app, hang: {for: 2m}}}
    - {at: 2m, fault: {pod: web, container: app, crash: {}}}
    - {at: 3m, fault: {pod: web, container: app, slow: {latency: 1s, for: 1m}}}
    - {at: 4m, fault: {pod: web, container: app, recover: }}
    """,
    pods=pod(
        "livenessProbe:\n  exec: {command: [cat, /tmp/healthy]}\n"
        "readinessProbe:\n  httpGet: {port: http, path: /healthz}\n",
        "readinessGates:\n- conditionType: example.com/feature-1\n",
    ),
)


def test_full_scenario_document() -> None:
    s = read(FULL)
    assert (s.name, s.duration_seconds, s.seed) == ("demo", 900.0, 7)
    c = s.cluster
    assert c == ClusterSpec(
        kubernetes_version="1.33",
        feature_gates=(
            ("ExecProbeTimeout", False),
            ("ReduceDefaultCrashLoopBackOffDecay", True),
        ),
        kubelet_uptime_seconds=7200.0,
        max_container_restart_period_seconds=30.0,
        reduced_decay_reading=c.reduced_decay_reading,
        probe_grid_phase=ProbeGridPhase.DERIVED,
        sandbox_start_latency=Distribution.constant(0.2),
        container_start_latency=Distribution(DistributionKind.LOGNORMAL, 0.5, 2.0),
        image_pull_latency=Distribution(DistributionKind.EXPONENTIAL, 2.0, 2.0),
        images_present=False,
        sync_frequency_seconds=30.0,
    )
    assert c.reduced_decay_reading.value == "Designed"
    general, specific = s.behaviours
    assert s.behaviour_for("web", "app") is specific
    assert specific.sigterm.kind is SigtermKind.IGNORE
    assert general.sigterm == SigtermBehaviour(
        SigtermKind.EXIT, Distribution.constant(2.0), 143
    )
    assert general.files[0].windows == (Window(0.0, 30.0),)
    assert general.files[1].windows == (Window(0.0, 10.0), Window(20.0, math.inf))
    exec_phases = general.exec[0].phases
    assert [p.status for p in exec_phases] == [0, 1]
    assert exec_phases[0].latency == Distribution.constant(0.01)
    assert exec_phases[1].output == "no"
    http = general.http[0]
    default = Distribution(DistributionKind.LOGNORMAL, 0.005, 0.2)
    assert [p.latency for p in http.phases] == [
        default,
        default,
        Distribution.constant(1.0),
    ]
    assert http.phases[1].location == "http://other/"
    assert http.phases[2].flake is not None
    assert http.phases[2].flake.status == 200
    assert general.tcp[0].windows == (Window(),)
    assert general.tcp[1].windows == (Window(5.0, 60.0),)
    grpc = general.grpc[0]
    assert grpc.service == ""
    assert [p.status for p in grpc.phases] == [2, 1]
    assert grpc.phases[1].hang
    assert general.exit is not None
    assert general.exit.exit_code == 3
    assert general.source_line == marked_line(FULL.replace("- container: app", "#!", 1))
    kinds = [(a.at_seconds, a.kind) for a in s.actions]
    assert kinds == [
        (30.0, ActionKind.SET_CONDITION),
        (30.0, ActionKind.SET_IMAGE),
        (60.0, ActionKind.FAULT),
        (90.0, ActionKind.DELETE),
        (120.0, ActionKind.FAULT),
        (180.0, ActionKind.FAULT),
        (240.0, ActionKind.FAULT),
    ]
    faults = [a.fault for a in s.actions if a.fault is not None]
    assert [f.kind for f in faults] == [
        FaultKind.HANG,
        FaultKind.CRASH,
        FaultKind.SLOW,
        FaultKind.RECOVER,
    ]
    assert faults[0].for_seconds == 120.0
    assert faults[1].exit_code == 1
    assert faults[2].latency == Distribution.constant(1.0)
    assert faults[3].for_seconds == math.inf
    delete = s.actions[3]
    assert (delete.pod, delete.grace_period_seconds) == ("web", 10)
    assert s.actions[0].condition_status is True
    assert s.actions[1].image == "nginx:1.28"


def test_grpc_service_absent_matches_all() -> None:
    text = scenario(
        "behaviours:\n- container: app\n  grpc: [{port: 9, responses: [{}]}]\n"
    )
    assert read(text).behaviours[0].grpc[0].service is None


def test_version_as_number_when_unambiguous() -> None:
    text = scenario("cluster: {kubernetesVersion: 1.33}\n")
    assert read(text).cluster.kubernetes_version == "1.33"


def test_feature_gate_list_matches_the_model() -> None:
    versions = pytest.importorskip("sim.kube.versions")
    assert set(FEATURE_GATES) == set(versions.GATE_NAMES)


# Round trip through the resolved YAML ----------------------------------------------


def _without_lines(s: Scenario) -> Scenario:
    return dataclasses.replace(
        s,
        pods=tuple(dataclasses.replace(p, source_line=0) for p in s.pods),
        behaviours=tuple(dataclasses.replace(b, source_line=0) for b in s.behaviours),
        actions=tuple(dataclasses.replace(a, source_line=0) for a in s.actions),
    )


ROUND_TRIP_CASES = {
    "full": FULL,
    "kubectl": KUBECTL_POD,
    "minimal": POD_HEAD,
    "kept-objects": POD_HEAD + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n",
    "probes": pod(
        "livenessProbe:\n  grpc: {port: 9000, service: x}\n"
        "  terminationGracePeriodSeconds: 3\n"
        "startupProbe:\n  tcpSocket: {port: 8080, host: h}\n"
        "readinessProbe:\n  httpGet:\n    port: 8080\n    scheme: HTTPS\n"
        "    host: example.com\n    httpHeaders: [{name: X-A, value: b}]\n"
        "lifecycle:\n  preStop:\n    httpGet: {port: http, path: /stop}\n"
        "command: [/bin/app]\nargs: [--flag]\nenv: [{name: A, value: '1'}]\n",
        "initContainers:\n- {name: init, image: busybox}\n",
    ),
}


@pytest.mark.parametrize("name", list(ROUND_TRIP_CASES))
def test_resolved_round_trip(name: str) -> None:
    original = read(ROUND_TRIP_CASES[name])
    text = resolved_yaml(original)
    again = read(text)
    assert _without_lines(again) == _without_lines(original)
    assert resolved_yaml(again) == text
    assert "seed:" in text


@settings(max_examples=40, deadline=None)
@given(
    period=st.integers(0, 300),
    timeout=st.integers(0, 60),
    failure=st.integers(0, 10),
    delay=st.integers(0, 1000),
    duration_ms=st.integers(1, 10**8),
    latency_ms=st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
)
def test_resolved_round_trip_property(
    period: int,
    timeout: int,
    failure: int,
    delay: int,
    duration_ms: int,
    latency_ms: tuple[int, int],
) -> None:
    low, high = sorted(latency_ms)
    text = scenario(
        f"duration: {duration_ms}ms\n"
        f"cluster:\n  sandboxStartLatency: {{min: {low}ms, max: {high}ms}}\n",
        pods=pod(
            f"livenessProbe:\n  httpGet: {{port: 8080}}\n  periodSeconds: {period}\n"
            f"  timeoutSeconds: {timeout}\n  failureThreshold: {failure}\n"
            f"  initialDelaySeconds: {delay}\n"
        ),
    )
    original = read(text)
    assert _without_lines(read(resolved_yaml(original))) == _without_lines(original)


# JSON Schema -----------------------------------------------------------------------


def _check(schema: dict[str, Any], value: Any, root: dict[str, Any]) -> bool:
    """A small JSON Schema checker: enough of draft 2020-12 for our schema."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        if not _check(root["$defs"][name], value, root):
            return False
    for key in ("oneOf", "anyOf"):
        if key in schema:
            matches = sum(_check(s, value, root) for s in schema[key])
            if matches == 0 or (key == "oneOf" and matches > 1):
                return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    if kind is not None and not checks[kind](value):
        return False
    pattern = schema.get("pattern")
    if isinstance(value, str) and pattern and not re.search(pattern, value):
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < schema.get("minimum", -math.inf):
            return False
        if value > schema.get("maximum", math.inf):
            return False
    if isinstance(value, dict):
        if any(name not in value for name in schema.get("required", [])):
            return False
        if not all(_entry_ok(schema, k, v, root) for k, v in value.items()):
            return False
    if isinstance(value, list) and "items" in schema:
        return all(_check(schema["items"], item, root) for item in value)
    return True


def _entry_ok(schema: dict[str, Any], name: str, item: Any, root: dict) -> bool:
    names = schema.get("propertyNames")
    if names is not None and not _check(names, name, root):
        return False
    properties = schema.get("properties", {})
    if name in properties:
        return _check(properties[name], item, root)
    extra = schema.get("additionalProperties", True)
    if isinstance(extra, dict):
        return _check(extra, item, root)
    return extra is not False


def _scenario_document(text: str) -> dict[str, Any]:
    documents = list(YAML(typ="safe").load_all(text))
    return next(d for d in documents if d and d.get("kind") == "Scenario")


def test_schema_shape() -> None:
    schema = scenario_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    text = str(schema)
    for name in re.findall(r"#/\$defs/(\w+)", text):
        assert schema["$defs"][name], name
    assert "featureGates" in schema["$defs"]["cluster"]["properties"]


def test_schema_accepts_what_the_reader_accepts() -> None:
    schema = scenario_json_schema()
    assert _check(schema, _scenario_document(FULL), schema)
    resolved = _scenario_document(resolved_yaml(read(FULL)))
    assert _check(schema, resolved, schema)


@pytest.mark.parametrize(
    "spec",
    [
        "duraton: 5m\n",
        "duration: 10 minutes\n",
        "seed: -1\n",
        "cluster: {featureGates: {Nope: true}}\n",
        "cluster: {probeGridPhase: uniform}\n",
        "behaviours: [{pod: web}]\n",
        "actions: [{at: 1s, delete: {pod: web}, setImage: {pod: web}}]\n",
        "actions: [{at: 1s}]\n",
    ],
)
def test_schema_rejects_malformed(spec: str) -> None:
    schema = scenario_json_schema()
    assert not _check(schema, _scenario_document(scenario(spec)), schema)


# Documentation ---------------------------------------------------------------------


def _field_names(value_type: Any, seen: set[int] | None = None) -> set[str]:
    """Every field name reachable from a table (through lists, maps and phases)."""
    from sim.scenario.behaviours import Phases
    from sim.scenario.fields import ListOf, MapOf, Obj

    seen = set() if seen is None else seen
    if id(value_type) in seen:
        return set()
    seen.add(id(value_type))
    if isinstance(value_type, Obj):
        names = {f.name for f in value_type.fields}
        for f in value_type.fields:
            names |= _field_names(f.type, seen)
        return names
    if isinstance(value_type, ListOf):
        return _field_names(value_type.item, seen)
    if isinstance(value_type, MapOf):
        return _field_names(value_type.value, seen)
    if isinstance(value_type, Phases):
        return _field_names(value_type.items, seen)
    return set()


def test_docs_cover_every_field() -> None:
    from sim.scenario.pods import POD
    from sim.scenario.scenario_doc import SCENARIO_DOCUMENT

    docs = Path(__file__).parent.parent / "docs" / "scenario-format.md"
    text = docs.read_text(encoding="utf-8")
    names = _field_names(SCENARIO_DOCUMENT) | _field_names(POD)
    missing = sorted(n for n in names if not re.search(rf"\b{re.escape(n)}\b", text))
    assert not missing


# YAML details ----------------------------------------------------------------------


def test_anchors_standard_tags_and_merge_keys() -> None:
    text = scenario(
        "cluster:\n  imagesPresent: &no false\n"
        "  featureGates: {ReduceDefaultCrashLoopBackOffDecay: *no}\n",
        pods=pod(
            "livenessProbe: &probe\n  httpGet: {port: 8080}\n  periodSeconds: 5\n"
            "readinessProbe:\n  <<: *probe\n  periodSeconds: !!int '2'\n"
            "args: [!!str 30]\n"
        ),
    )
    s = read(text)
    assert s.cluster.images_present is False
    assert s.cluster.gate("ReduceDefaultCrashLoopBackOffDecay") is False
    container = s.pods[0].containers[0]
    assert container.readiness_probe is not None
    assert container.readiness_probe.period_seconds == 2
    assert container.args == ("30",)


def test_json_documents() -> None:
    text = (
        '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},'
        ' "spec": {"containers": [{"name": "a", "image": "b:1"}]}}\n---\n'
        '{"apiVersion": "probesim/v1alpha1", "kind": "Scenario",'
        ' "metadata": {"name": "s"}, "spec": {"duration": 30}}\n'
    )
    s = Scenario.from_yaml(text)
    assert (s.name, s.duration_seconds) == ("s", 30.0)


def test_scenario_name_is_a_dns_subdomain() -> None:
    text = POD_HEAD + SCENARIO_HEAD.replace("{name: demo}", "{name: ../up}")
    problems = errors_of(text)
    assert problems[0].path == 'Scenario "../up": metadata.name'
    assert "RFC 1123 subdomain" in problems[0].message


def test_load_scenario_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(FULL, encoding="utf-8")
    s = load_scenario(path)
    assert s.source == str(path)
    assert s == read_scenario_text(FULL, str(path))


SCENARIO_FILES = sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.name for p in SCENARIO_FILES])
def test_shipped_scenarios_read_and_round_trip(path: Path) -> None:
    original = load_scenario(path)
    again = read_scenario_text(resolved_yaml(original), str(path))
    assert _without_lines(again) == _without_lines(original)
