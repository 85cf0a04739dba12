"""A catalogue of bad inputs, each run through the real command line.

Every case is a whole scenario file (or a sweep file over a base scenario) with one
known problem. The line the message must name carries a ``#!`` comment (or the case
gives ``line`` itself; ``None`` for problems of the whole file). Each case runs
through ``probesim validate`` and ``probesim run`` (sweeps through ``probesim
sweep``) and must exit with 2, print one line
``FILE:LINE: DOCUMENT: FIELD.PATH: MESSAGE`` holding every expected fragment (what
is allowed, a did-you-mean for a misspelt name), print no traceback, and leave no
output directory behind. Bad command-line arguments (durations, counts, seeds,
missing files) get the same checks. A few cases run the installed ``probesim`` in
a subprocess. The last table holds inputs the API server accepts, so the reader
accepts them too: they must not become errors by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.cli import main
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]
PROBESIM = Path(sys.executable).parent / "probesim"
SWEEP_BASE = ROOT / "scenarios" / "sweeps" / "hang-detection.scenario.yaml"
MARKER = "#!"
MARKED = -1  # the expected line is the one with the marker


@dataclass(frozen=True)
class Case:
    """A bad file and what its message must say.

    ``where`` is the document and field path as printed (``Pod "web":
    spec.containers[0].image``), empty for problems of the whole file; ``line`` is
    ``MARKED`` (the ``#!`` line), a number, or None when the message has no line.
    """

    id: str
    text: str
    where: str
    fragments: tuple[str, ...]
    line: int | None = MARKED

    def expected_line(self) -> int | None:
        if self.line != MARKED:
            return self.line
        lines = [
            number
            for number, text in enumerate(self.text.splitlines(), start=1)
            if MARKER in text
        ]
        assert len(lines) == 1, f"{self.id}: one {MARKER} marker expected"
        return lines[0]

    def prefix(self, file: Path) -> str:
        """The start of the expected stderr line."""
        line = self.expected_line()
        head = f"{file}:{line}: " if line else f"{file}: "
        return head + (f"{self.where}: " if self.where else "")


def case(
    id: str, text: str, where: str, *fragments: str, line: int | None = MARKED
) -> Case:
    return Case(id, text, where, fragments, line)


def edit(text: str, old: str, new: str) -> str:
    """Replace one exact, unique piece of a base text."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


# Bases -----------------------------------------------------------------------------

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: nginx:1.27
    ports:
    - {name: http, containerPort: 8080}
    livenessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 5
"""
SCENARIO = """\
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: demo}
spec:
  duration: 5m
"""
BASE = POD + SCENARIO


def pod(old: str, new: str) -> str:
    """The pod ``web`` (and the Scenario document) with one piece replaced."""
    return edit(BASE, old, new)


def container(lines: str) -> str:
    """Extra fields of the container ``app``, before its liveness probe."""
    fields = textwrap.indent(textwrap.dedent(lines), "    ")
    return pod("    livenessProbe:\n", fields + "    livenessProbe:\n")


def pod_spec(lines: str) -> str:
    """Extra fields of the pod's spec, before its containers."""
    fields = textwrap.indent(textwrap.dedent(lines), "  ")
    return pod("  containers:\n", fields + "  containers:\n")


def probe(field: str) -> str:
    """The liveness probe with ``periodSeconds: 5`` replaced by ``field``."""
    return pod("periodSeconds: 5", field)


def spec(lines: str) -> str:
    """Extra lines in the Scenario document's spec."""
    return BASE + textwrap.indent(textwrap.dedent(lines), "  ")


WORKLOADS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop}
spec:
  replicas: 2
  selector:
    matchLabels: {app: shop}
  strategy:
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app: shop}
    spec:
      serviceAccountName: robot
      containers:
      - name: app
        image: registry.example.com/shop:1
        ports: [{name: http, containerPort: 8080}]
        readinessProbe:
          httpGet: {path: /, port: http}
---
apiVersion: v1
kind: Service
metadata: {name: shop}
spec:
  selector: {app: shop}
  ports:
  - {name: http, port: 80, targetPort: http}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: robot}
imagePullSecrets:
- name: regcred
---
apiVersion: v1
kind: Secret
metadata: {name: regcred}
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths": {"registry.example.com": {"auth": "Y2k6czNjcmV0"}}}'
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: shop}
spec:
  duration: 5m
"""


def workloads(old: str, new: str) -> str:
    """The Deployment, Service, account and secret with one piece replaced."""
    return edit(WORKLOADS, old, new)


def workloads_spec(lines: str) -> str:
    """Extra lines in the Scenario document's spec, next to the workloads."""
    return WORKLOADS + textwrap.indent(textwrap.dedent(lines), "  ")


def alias_bomb(levels: int) -> str:
    """A ConfigMap whose aliases expand to 10**levels lists (a "billion laughs")."""
    lines = ["  a0: &a0 [lol]"]
    for level in range(1, levels + 1):
        aliases = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"  a{level}: &a{level} [{aliases}]")
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n"
    return head + "\n".join(lines) + "\n---\n" + POD


WEB = 'Pod "web"'
C0 = f"{WEB}: spec.containers[0]"
LIVE = f"{C0}.livenessProbe"
DEMO = 'Scenario "demo"'
SHOP = 'Deployment "shop"'
SHOP_SCENARIO = 'Scenario "shop"'
TEMPLATE = f"{SHOP}: spec.template.spec.containers[0]"
RFC1123 = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric"
RANGE = "must be between 1 and 65535, inclusive"
VERSIONS = '"1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35"'
NO_POD = "no Pod document: a scenario needs at least one Pod or Deployment"


# The catalogue ---------------------------------------------------------------------

CASES = [
    # Broken YAML: one problem, at the parser's line, and nothing else is read.
    case(
        "yaml-tab-indent",
        probe("\tperiodSeconds: 5  #!"),
        "",
        r"invalid YAML: found character '\t' that cannot start any token",
    ),
    case(
        "yaml-tab-in-scenario",
        BASE + "\tseed: 3  #!\n",
        "",
        r"invalid YAML: found character '\t' that cannot start any token",
    ),
    case(
        "yaml-unclosed-flow-mapping",
        pod(
            "{name: http, containerPort: 8080}\n    livenessProbe:",
            "{name: http, containerPort: 8080\n    livenessProbe:  #!",
        ),
        "",
        "invalid YAML: expected ',' or '}', but got ':'",
        "(while parsing a flow mapping started on line 10)",
    ),
    case(
        "yaml-unclosed-flow-sequence",
        BASE + "  behaviours: [{container: app, sigterm: ignore}\n",
        "",
        "invalid YAML: expected ',' or ']', but got '<stream end>'",
        "(while parsing a flow sequence started on line 20)",
        line=21,
    ),
    case(
        "yaml-unclosed-quote",
        pod("image: nginx:1.27", 'image: "nginx:1.27'),
        "",
        "invalid YAML: found unexpected document separator",
        "(while scanning a quoted scalar started on line 8)",
        line=14,
    ),
    case(
        "yaml-indented-too-far",
        pod("    image: nginx:1.27", "     image: nginx:1.27  #!"),
        "",
        "invalid YAML: mapping values are not allowed here",
    ),
    case(
        "yaml-indented-under-a-flow-mapping",
        probe("    periodSeconds: 5  #!\n      failureThreshold: 3"),
        "",
        "invalid YAML: expected <block end>, but found '<block mapping start>'",
        "(while parsing a block mapping started on line 12)",
    ),
    case(
        "yaml-duplicate-key",
        probe("periodSeconds: 5\n      periodSeconds: 6  #!"),
        "",
        'invalid YAML: duplicate key "periodSeconds"',
    ),
    case(
        "yaml-duplicate-top-level-key",
        BASE + "kind: Scenario  #!\n",
        "",
        'invalid YAML: duplicate key "kind"',
    ),
    case(
        "yaml-undefined-alias",
        pod("image: nginx:1.27", "image: *nginx  #!"),
        "",
        "invalid YAML: found undefined alias 'nginx'",
    ),
    case(
        "yaml-version-2",
        "%YAML 2.0  #!\n---\n" + BASE,
        "",
        "invalid YAML: found incompatible YAML document (version 1.* is required)",
    ),
    # Found by tests/test_reader_fuzz.py: these ended in an internal error (exit 1).
    case(
        "yaml-version-1-3",
        "%YAML 1.3  #!\n---\n" + BASE,
        "",
        "invalid YAML: unsupported YAML version 1.3: only 1.1 and 1.2 are read",
    ),
    case(
        "yaml-directive-inside-a-document",
        pod("kind: Pod\n", "kind: Pod\n%YAML 9.9  #!\n"),
        "",
        "invalid YAML: unsupported YAML version 9.9: only 1.1 and 1.2 are read",
    ),
    case(
        "yaml-control-character",
        pod("image: nginx:1.27", "image: nginx:1.27\x07  #!"),
        "",
        "invalid YAML: unacceptable character #x0007: special characters are not "
        "allowed",
    ),
    case(
        "yaml-python-tag",
        pod("image: nginx:1.27", "image: !!python/object/apply:os.system [id]  #!"),
        f"{C0}.image",
        "unsupported YAML tag !!python/object/apply:os.system: only plain YAML",
    ),
    case(
        "yaml-custom-tag",
        spec("seed: !seed 3  #!\n"),
        f"{DEMO}: spec.seed",
        "unsupported YAML tag !seed",
    ),
    # Found by tests/test_reader_fuzz.py's neighbourhood: these used to end in a
    # RecursionError (exit 1) or to run for minutes.
    case(
        "yaml-alias-inside-itself",
        POD + "---\n&loop [*loop]  #!\n",
        "",
        "invalid YAML: an alias refers to a node that contains it",
    ),
    case(
        "yaml-alias-bomb",
        alias_bomb(9),
        "",
        "invalid YAML: excessive aliasing: the aliases repeat more than 10000",
        line=5,
    ),
    case(
        "yaml-nested-too-deep",
        pod("image: nginx:1.27", "image: " + "[" * 150 + "]" * 150 + "  #!"),
        "",
        "invalid YAML: mappings and sequences nested more than 100 deep",
    ),
    case(
        "yaml-nested-too-deep-for-the-parser",
        pod("image: nginx:1.27", "image: " + "[" * 400 + "]" * 400 + "  #!"),
        "",
        "invalid YAML: mappings and sequences nested more than 100 deep",
    ),
    # Files without the documents a scenario needs.
    case("empty-file", "", "", NO_POD, line=None),
    case("comments-only", "# nothing here\n---\n", "", NO_POD, line=None),
    case("scenario-without-pods", SCENARIO, "", NO_POD, line=None),
    case(
        "scalar-document",
        BASE + "---\njust words  #!\n",
        "document 3",
        "a document must be a mapping (a Kubernetes manifest or the Scenario document)",
    ),
    case(
        "list-document",
        "- a  #!\n- b\n---\n" + BASE,
        "document 1",
        "a document must be a mapping",
    ),
    case(
        "list-items-not-a-list",
        "apiVersion: v1\nkind: List\nitems: {a: 1}  #!\n---\n" + BASE,
        "List (document 1): items",
        "Required value: a List needs a list of items",
    ),
    # Kinds and API versions.
    case(
        "unknown-kind",
        pod("kind: Pod", "kind: Pdo  #!"),
        'Pdo "web": kind',
        'Unsupported value: "Pdo": supported values: "Pod", "ServiceAccount"',
        'did you mean "Pod"?',
    ),
    case(
        "kind-not-a-string",
        pod("kind: Pod", "kind: [Pod]  #!"),
        "document 1: kind",
        'Unsupported value: ["Pod"]: supported values:',
    ),
    case(
        "kind-missing",
        pod("apiVersion: v1\nkind: Pod\n", "apiVersion: v1  #!\n"),
        "document 1: kind",
        "Required value",
    ),
    case(
        "pod-api-version",
        pod("apiVersion: v1", "apiVersion: v2  #!"),
        f"{WEB}: apiVersion",
        'Unsupported value: "v2": supported values: "v1"',
    ),
    case(
        "deployment-api-version",
        workloads("apiVersion: apps/v1", "apiVersion: extensions/v1beta1  #!"),
        f"{SHOP}: apiVersion",
        'Unsupported value: "extensions/v1beta1": supported values: "apps/v1"',
    ),
    case(
        "scenario-api-version",
        pod("apiVersion: probesim/v1alpha1", "apiVersion: probesim/v1  #!"),
        f"{DEMO}: apiVersion",
        'Unsupported value: "probesim/v1"',
        'did you mean "probesim/v1alpha1"?',
    ),
    case(
        "two-scenario-documents",
        BASE
        + "---\napiVersion: probesim/v1alpha1  #!\nkind: Scenario\n"
        + "metadata: {name: again}\n",
        'Scenario "again"',
        "Forbidden: a scenario file has exactly one Scenario document; the first is "
        "on line 15",
    ),
    case(
        "duplicate-pod",
        BASE + "---\n" + edit(POD, "  name: web", "  name: web  #!"),
        f"{WEB}: metadata.name",
        'Duplicate value: "web"',
    ),
    # Wrong types at several levels.
    case(
        "pod-spec-is-a-list",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec: [a]  #!\n",
        f"{WEB}: spec",
        'Invalid value: ["a"]: must be a mapping',
    ),
    case(
        "metadata-is-a-string",
        pod("metadata:\n  name: web", "metadata: web  #!"),
        "Pod (document 1): metadata",
        'Invalid value: "web": must be a mapping',
    ),
    case(
        "containers-is-a-string",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
        "spec:\n  containers: app  #!\n",
        f"{WEB}: spec.containers",
        'Invalid value: "app": must be a list',
    ),
    case(
        "containers-empty",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n"
        "spec:\n  containers: []  #!\n",
        f"{WEB}: spec.containers",
        "Required value",
    ),
    case(
        "probe-is-a-string",
        pod(
            "    livenessProbe:\n      httpGet: {path: /healthz, port: http}\n"
            "      periodSeconds: 5\n",
            "    livenessProbe: yes  #!\n",
        ),
        f"{LIVE}",
        'Invalid value: "yes": must be a mapping',
    ),
    case(
        "handler-is-a-list",
        pod("httpGet: {path: /healthz, port: http}", "httpGet: [/healthz]  #!"),
        f"{LIVE}.httpGet",
        'Invalid value: ["/healthz"]: must be a mapping',
    ),
    case(
        "period-quoted",
        probe("periodSeconds: '5'  #!"),
        f"{LIVE}.periodSeconds",
        'Invalid value: "5": must be an integer',
    ),
    case(
        "period-fraction",
        probe("periodSeconds: 2.5  #!"),
        f"{LIVE}.periodSeconds",
        "Invalid value: 2.5: must be an integer",
    ),
    case(
        "command-is-a-string",
        container("command: sleep 30  #!\n"),
        f"{C0}.command",
        'Invalid value: "sleep 30": must be a list',
    ),
    case(
        "command-item-is-a-number",
        container("command: [sleep, 30]  #!\n"),
        f"{C0}.command[1]",
        "Invalid value: 30: must be a string",
    ),
    case(
        "label-value-is-a-number",
        pod("  name: web\n", "  name: web\n  labels: {tier: 3}  #!\n"),
        f"{WEB}: metadata.labels[tier]",
        "Invalid value: 3: must be a string",
    ),
    case(
        "automount-quoted",
        pod_spec("automountServiceAccountToken: 'false'  #!\n"),
        f"{WEB}: spec.automountServiceAccountToken",
        'Invalid value: "false": must be a boolean (true or false)',
    ),
    case(
        "scenario-spec-is-a-list",
        pod("spec:\n  duration: 5m\n", "spec: [duration]  #!\n"),
        f"{DEMO}: spec",
        'Invalid value: ["duration"]: must be a mapping',
    ),
    case(
        "behaviours-is-a-mapping",
        spec("behaviours: {container: app}  #!\n"),
        f"{DEMO}: spec.behaviours",
        'Invalid value: {"container": "app"}: must be a list',
    ),
    case(
        "action-is-a-string",
        spec("actions:\n- delete web  #!\n"),
        f"{DEMO}: spec.actions[0]",
        'Invalid value: "delete web": must be a mapping',
    ),
    case(
        "feature-gates-is-a-list",
        spec("cluster: {featureGates: [ExecProbeTimeout]}  #!\n"),
        f"{DEMO}: spec.cluster.featureGates",
        'Invalid value: ["ExecProbeTimeout"]: must be a mapping',
    ),
    case(
        "images-present-yes",
        spec("cluster: {imagesPresent: yes}  #!\n"),
        f"{DEMO}: spec.cluster.imagesPresent",
        'Invalid value: "yes": must be a boolean (true or false)',
    ),
    # Negative and zero values the API forbids.
    case(
        "liveness-success-threshold-2",
        probe("successThreshold: 2  #!"),
        f"{LIVE}.successThreshold",
        "Invalid value: 2: must be 1",
    ),
    case(
        "startup-success-threshold-3",
        container(
            """\
            startupProbe:
              tcpSocket: {port: 8080}
              successThreshold: 3  #!
            """
        ),
        f"{C0}.startupProbe.successThreshold",
        "Invalid value: 3: must be 1",
    ),
    case(
        "negative-initial-delay",
        probe("initialDelaySeconds: -5  #!"),
        f"{LIVE}.initialDelaySeconds",
        "Invalid value: -5: must be greater than or equal to 0",
    ),
    case(
        "negative-timeout",
        probe("timeoutSeconds: -1  #!"),
        f"{LIVE}.timeoutSeconds",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    case(
        "negative-failure-threshold",
        probe("failureThreshold: -2  #!"),
        f"{LIVE}.failureThreshold",
        "Invalid value: -2: must be greater than or equal to 0",
    ),
    case(
        "negative-readiness-success-threshold",
        container(
            """\
            readinessProbe:
              tcpSocket: {port: 8080}
              successThreshold: -1  #!
            """
        ),
        f"{C0}.readinessProbe.successThreshold",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    case(
        "probe-grace-period-zero",
        probe("terminationGracePeriodSeconds: 0  #!"),
        f"{LIVE}.terminationGracePeriodSeconds",
        "Invalid value: 0: must be greater than 0",
    ),
    case(
        "negative-pod-grace-period",
        pod_spec("terminationGracePeriodSeconds: -1  #!\n"),
        f"{WEB}: spec.terminationGracePeriodSeconds",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    case(
        "negative-replicas",
        workloads("replicas: 2", "replicas: -1  #!"),
        f"{SHOP}: spec.replicas",
        "Invalid value: -1: must be greater than or equal to 0",
    ),
    case(
        "negative-prestop-sleep",
        container("lifecycle: {preStop: {sleep: {seconds: -5}}}  #!\n"),
        f"{C0}.lifecycle.preStop.sleep.seconds",
        "Invalid value: -5: must be greater than or equal to 0",
    ),
    case(
        "load-capacity-zero",
        spec("behaviours:\n- {container: app, load: {capacity: 0}}  #!\n"),
        f"{DEMO}: spec.behaviours[0].load.capacity",
        "Invalid value: 0: must be greater than 0",
    ),
    # Numbers too large for the Go integers the API server decodes them into.
    case(
        "period-past-int32",
        probe("periodSeconds: 2147483648  #!"),
        f"{LIVE}.periodSeconds",
        "Invalid value: 2147483648: must fit in a 32-bit integer (at most 2147483647)",
    ),
    case(
        "replicas-huge",
        workloads("replicas: 2", "replicas: 99999999999999999999  #!"),
        f"{SHOP}: spec.replicas",
        "Invalid value: 99999999999999999999: must fit in a 32-bit integer",
    ),
    case(
        "grace-period-past-int64",
        pod_spec("terminationGracePeriodSeconds: 9223372036854775808  #!\n"),
        f"{WEB}: spec.terminationGracePeriodSeconds",
        "Invalid value: 9223372036854775808: must fit in a 64-bit integer (at most "
        "9223372036854775807)",
    ),
    # Ports.
    case(
        "container-port-zero",
        pod("{name: http, containerPort: 8080}", "{name: http, containerPort: 0}  #!"),
        f"{C0}.ports[0].containerPort",
        f"Invalid value: 0: {RANGE}",
    ),
    case(
        "container-port-65536",
        pod(
            "{name: http, containerPort: 8080}",
            "{name: http, containerPort: 65536}  #!",
        ),
        f"{C0}.ports[0].containerPort",
        f"Invalid value: 65536: {RANGE}",
    ),
    case(
        "probe-port-zero",
        pod("port: http}", "port: 0}  #!"),
        f"{LIVE}.httpGet.port",
        f"Invalid value: 0: {RANGE}",
    ),
    case(
        "probe-port-65536",
        pod("port: http}", "port: 65536}  #!"),
        f"{LIVE}.httpGet.port",
        f"Invalid value: 65536: {RANGE}",
    ),
    case(
        "probe-port-name-too-long",
        pod("port: http}", "port: health-endpoints}  #!"),
        f"{LIVE}.httpGet.port",
        'Invalid value: "health-endpoints": must be no more than 15 characters',
    ),
    case(
        "probe-port-name-hyphens",
        pod("port: http}", "port: -http-}  #!"),
        f"{LIVE}.httpGet.port",
        'Invalid value: "-http-": must not begin or end with a hyphen',
    ),
    case(
        "probe-port-name-digits",
        pod("port: http}", "port: '8080'}  #!"),
        f"{LIVE}.httpGet.port",
        'Invalid value: "8080": must contain at least one letter (a-z)',
    ),
    case(
        "port-name-invalid",
        pod(
            "{name: http, containerPort: 8080}",
            "{name: HTTP_1, containerPort: 8080}  #!",
        ),
        f"{C0}.ports[0].name",
        "Invalid value: \"HTTP_1\": must contain only lowercase alphanumerics or '-'",
    ),
    case(
        "port-name-duplicate",
        pod(
            "    - {name: http, containerPort: 8080}\n",
            "    - {name: http, containerPort: 8080}\n"
            "    - {name: http, containerPort: 8081}  #!\n",
        ),
        f"{C0}.ports[1].name",
        'Duplicate value: "http"',
    ),
    case(
        "grpc-port-name",
        pod("httpGet: {path: /healthz, port: http}", "grpc: {port: http}  #!"),
        f"{LIVE}.grpc.port",
        'Invalid value: "http": must be an integer',
    ),
    case(
        "service-port-zero",
        workloads(
            "{name: http, port: 80, targetPort: http}",
            "{name: http, port: 0, targetPort: http}  #!",
        ),
        'Service "shop": spec.ports[0].port',
        f"Invalid value: 0: {RANGE}",
    ),
    case(
        "service-target-port-70000",
        workloads("targetPort: http}", "targetPort: 70000}  #!"),
        'Service "shop": spec.ports[0].targetPort',
        f"Invalid value: 70000: {RANGE}",
    ),
    # Unknown fields at every level, with a suggestion.
    case(
        "unknown-top-level-field",
        pod("kind: Pod\n", "kind: Pod\nstatuss: {}  #!\n"),
        f"{WEB}: statuss",
        'unknown field "statuss"; did you mean "status"?',
    ),
    case(
        "unknown-metadata-field",
        pod("  name: web\n", "  name: web\n  lables: {app: web}  #!\n"),
        f"{WEB}: metadata.lables",
        'unknown field "metadata.lables"; did you mean "labels"?',
    ),
    case(
        "unknown-pod-spec-field",
        pod_spec("restartPolcy: Always  #!\n"),
        f"{WEB}: spec.restartPolcy",
        'unknown field "spec.restartPolcy"; did you mean "restartPolicy"?',
    ),
    case(
        "unknown-container-field",
        container("imagePullPolcy: Always  #!\n"),
        f"{C0}.imagePullPolcy",
        'unknown field "spec.containers[0].imagePullPolcy"; '
        'did you mean "imagePullPolicy"?',
    ),
    case(
        "unknown-port-field",
        pod(
            "{name: http, containerPort: 8080}",
            "{name: http, containerPort: 8080, protocl: TCP}  #!",
        ),
        f"{C0}.ports[0].protocl",
        'did you mean "protocol"?',
    ),
    case(
        "unknown-probe-field",
        probe("failureTreshold: 5  #!"),
        f"{LIVE}.failureTreshold",
        'unknown field "spec.containers[0].livenessProbe.failureTreshold"; '
        'did you mean "failureThreshold"?',
    ),
    case(
        "unknown-handler-field",
        pod("{path: /healthz, port: http}", "{paht: /healthz, port: http}  #!"),
        f"{LIVE}.httpGet.paht",
        'did you mean "path"?',
    ),
    case(
        "unknown-exec-field",
        pod("httpGet: {path: /healthz, port: http}", "exec: {comand: [cat]}  #!"),
        f"{LIVE}.exec.comand",
        'did you mean "command"?',
    ),
    case(
        "unknown-lifecycle-field",
        container("lifecycle: {preStpo: {sleep: {seconds: 5}}}  #!\n"),
        f"{C0}.lifecycle.preStpo",
        'did you mean "preStop"?',
    ),
    case(
        "unknown-deployment-field",
        workloads("replicas: 2", "replica: 2  #!"),
        f"{SHOP}: spec.replica",
        'unknown field "spec.replica"; did you mean "replicas"?',
    ),
    case(
        "unknown-strategy-field",
        workloads("maxUnavailable: 0}", "maxUnavaliable: 0}  #!"),
        f"{SHOP}: spec.strategy.rollingUpdate.maxUnavaliable",
        'did you mean "maxUnavailable"?',
    ),
    case(
        "unknown-service-field",
        workloads(
            "  selector: {app: shop}\n  ports:", "  selectr: {app: shop}  #!\n  ports:"
        ),
        'Service "shop": spec.selectr',
        'did you mean "selector"?',
    ),
    case(
        "unknown-service-account-field",
        workloads(
            "imagePullSecrets:\n- name: regcred",
            "imagePulSecrets:  #!\n- name: regcred",
        ),
        'ServiceAccount "robot": imagePulSecrets',
        'did you mean "imagePullSecrets"?',
    ),
    case(
        "unknown-scenario-spec-field",
        pod("  duration: 5m", "  durtion: 5m  #!"),
        f"{DEMO}: spec.durtion",
        'unknown field "spec.durtion"; did you mean "duration"?',
    ),
    case(
        "unknown-scenario-metadata-field",
        pod("metadata: {name: demo}", "metadata: {name: demo, nmae: x}  #!"),
        f"{DEMO}: metadata.nmae",
        'did you mean "name"?',
    ),
    case(
        "unknown-cluster-field",
        spec("cluster: {kubernetesVersoin: '1.30'}  #!\n"),
        f"{DEMO}: spec.cluster.kubernetesVersoin",
        'did you mean "kubernetesVersion"?',
    ),
    case(
        "unknown-behaviour-field",
        spec("behaviours:\n- {container: app, sigtrem: ignore}  #!\n"),
        f"{DEMO}: spec.behaviours[0].sigtrem",
        'unknown field "spec.behaviours[0].sigtrem"; did you mean "sigterm"?',
    ),
    case(
        "unknown-behaviour-http-field",
        spec(
            "behaviours:\n- container: app\n"
            "  http: [{port: 8080, respones: [{status: 200}]}]  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].http[0].respones",
        'did you mean "responses"?',
    ),
    case(
        "unknown-phase-field",
        spec(
            "behaviours:\n- container: app\n"
            "  exec: [{command: [cat], responses: [{exitcode: 1}]}]  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].exec[0].responses[0].exitcode",
        'did you mean "exitCode"?',
    ),
    case(
        "unknown-sigterm-field",
        spec("behaviours:\n- {container: app, sigterm: {exitAftr: 1s}}  #!\n"),
        f"{DEMO}: spec.behaviours[0].sigterm.exitAftr",
        'did you mean "exitAfter"?',
    ),
    case(
        "unknown-action-verb",
        spec("actions:\n- {at: 1m, delet: {pod: web}}  #!\n"),
        f"{DEMO}: spec.actions[0].delet",
        'unknown field "spec.actions[0].delet"; did you mean "delete"?',
    ),
    case(
        "unknown-fault-field",
        spec(
            "actions:\n"
            "- {at: 1m, fault: {pod: web, container: app, hang: {fro: 1s}}}  #!\n"
        ),
        f"{DEMO}: spec.actions[0].fault.hang.fro",
        'did you mean "for"?',
    ),
    case(
        "unknown-traffic-field",
        workloads_spec("traffic:\n- {service: shop, rate: 5, arival: Constant}  #!\n"),
        f"{SHOP_SCENARIO}: spec.traffic[0].arival",
        'did you mean "arrivals"?',
    ),
    case(
        "unknown-registry-field",
        spec("registries:\n- {server: registry.example.com, privte: true}  #!\n"),
        f"{DEMO}: spec.registries[0].privte",
        'did you mean "private"?',
    ),
    case(
        "unknown-endpoints-field",
        spec("endpoints: {controllerDelays: 1s}  #!\n"),
        f"{DEMO}: spec.endpoints.controllerDelays",
        'did you mean "controllerDelay"?',
    ),
    # References to what the file does not have.
    case(
        "behaviour-container-missing",
        spec("behaviours:\n- {container: ap, sigterm: ignore}  #!\n"),
        f"{DEMO}: spec.behaviours[0].container",
        'Not found: "ap": no container of that name in any pod; did you mean "app"?',
    ),
    case(
        "behaviour-pod-missing",
        spec("behaviours:\n- {container: app, pod: wbe, sigterm: ignore}  #!\n"),
        f"{DEMO}: spec.behaviours[0].pod",
        'Not found: "wbe": no pod of that name; did you mean "web"?',
    ),
    case(
        "delete-pod-missing",
        spec("actions:\n- {at: 1m, delete: {pod: wbe}}  #!\n"),
        f"{DEMO}: spec.actions[0].delete.pod",
        'Not found: "wbe": no pod of that name; did you mean "web"?',
    ),
    case(
        "fault-container-missing",
        spec("actions:\n- {at: 1m, fault: {pod: web, container: ap, crash: {}}}  #!\n"),
        f"{DEMO}: spec.actions[0].fault.container",
        'Not found: "ap": no container of that name in pod "web"; did you mean "app"?',
    ),
    case(
        "scale-deployment-missing",
        workloads_spec(
            "actions:\n- {at: 1m, scale: {deployment: shp, replicas: 3}}  #!\n"
        ),
        f"{SHOP_SCENARIO}: spec.actions[0].scale.deployment",
        'Not found: "shp": no Deployment of that name; did you mean "shop"?',
    ),
    case(
        "rollout-container-missing",
        workloads_spec(
            "actions:\n- at: 1m\n  rollout:\n    deployment: shop\n"
            "    containers: [{name: ap, image: x:2}]  #!\n"
        ),
        f"{SHOP_SCENARIO}: spec.actions[0].rollout.containers[0].name",
        'Not found: "ap": no container of that name in Deployment "shop"; '
        'did you mean "app"?',
    ),
    case(
        "traffic-service-missing",
        workloads_spec("traffic:\n- {service: shp, rate: 5}  #!\n"),
        f"{SHOP_SCENARIO}: spec.traffic[0].service",
        'Not found: "shp": no Service of that name; did you mean "shop"?',
    ),
    case(
        "traffic-port-missing",
        workloads_spec("traffic:\n- {service: shop, port: https, rate: 5}  #!\n"),
        f"{SHOP_SCENARIO}: spec.traffic[0].port",
        'Not found: "https": Service "shop" has no port of that number or name '
        '(its ports: 80 "http"); did you mean "http"?',
    ),
    case(
        "traffic-port-number-missing",
        workloads_spec("traffic:\n- {service: shop, port: 81, rate: 5}  #!\n"),
        f"{SHOP_SCENARIO}: spec.traffic[0].port",
        'Not found: 81: Service "shop" has no port of that number or name '
        '(its ports: 80 "http")',
    ),
    case(
        "set-image-container-missing",
        spec(
            "actions:\n- {at: 1m, setImage: {pod: web, container: ap, image: x}}  #!\n"
        ),
        f"{DEMO}: spec.actions[0].setImage.container",
        'Not found: "ap": no container of that name in pod "web"; did you mean "app"?',
    ),
    case(
        "set-service-account-pod-missing",
        spec("actions:\n- {at: 1m, setServiceAccount: {pod: wbe, name: robot}}  #!\n"),
        f"{DEMO}: spec.actions[0].setServiceAccount.pod",
        'Not found: "wbe": no pod of that name; did you mean "web"?',
    ),
    # A secret that does not exist is found at admission, as in a cluster
    # (scenarios/private-reg-missing-secret.yaml); a reference naming none is an error.
    case(
        "env-secret-key-ref-without-name",
        container("env: [{name: A, valueFrom: {secretKeyRef: {key: k}}}]  #!\n"),
        f"{C0}.env[0].valueFrom.secretKeyRef.name",
        "Required value",
    ),
    case(
        "env-secret-key-ref-without-key",
        container("env: [{name: A, valueFrom: {secretKeyRef: {name: s}}}]  #!\n"),
        f"{C0}.env[0].valueFrom.secretKeyRef.key",
        "Required value",
    ),
    case(
        "env-from-secret-without-name",
        container("envFrom: [{secretRef: {}}]  #!\n"),
        f"{C0}.envFrom[0].secretRef.name",
        "Required value",
    ),
    case(
        "projected-secret-without-name",
        pod_spec("volumes: [{name: v, projected: {sources: [{secret: {}}]}}]  #!\n"),
        f"{WEB}: spec.volumes[0].projected.sources[0].secret.name",
        "Required value",
    ),
    case(
        "account-secret-without-name",
        workloads(
            "metadata: {name: robot}\n", "metadata: {name: robot}\nsecrets: [{}]  #!\n"
        ),
        'ServiceAccount "robot": secrets[0].name',
        "Required value",
    ),
    case(
        "secret-generator-without-name",
        spec(
            "secrets:\n- dockerRegistry: {server: r.io, username: a, password: b}  #!\n"
        ),
        f"{DEMO}: spec.secrets[0].dockerRegistry.name",
        "Required value",
    ),
    case(
        "volume-mount-missing",
        container("volumeMounts: [{name: data, mountPath: /data}]  #!\n"),
        f"{C0}.volumeMounts[0].name",
        'Not found: "data"',
    ),
    case(
        "pull-secret-without-name",
        pod_spec("imagePullSecrets: [{}]  #!\n"),
        f"{WEB}: spec.imagePullSecrets[0].name",
        "Required value",
    ),
    case(
        "secret-volume-without-secret",
        pod_spec("volumes: [{name: creds, secret: {}}]  #!\n"),
        f"{WEB}: spec.volumes[0].secret.secretName",
        "Required value",
    ),
    case(
        "account-pull-secret-without-name",
        workloads("imagePullSecrets:\n- name: regcred", "imagePullSecrets:\n- {}  #!"),
        'ServiceAccount "robot": imagePullSecrets[0].name',
        "Required value",
    ),
    case(
        "set-service-account-invalid-name",
        spec(
            "actions:\n- {at: 1m, setServiceAccount: {pod: web, name: Robot_1}}  #!\n"
        ),
        f"{DEMO}: spec.actions[0].setServiceAccount.name",
        f'Invalid value: "Robot_1": {RFC1123}',
    ),
    case(
        "secret-generator-clashes-with-manifest",
        workloads_spec(
            "secrets:\n"
            "- dockerRegistry: {name: regcred, server: r.io, username: a, "
            "password: b}  #!\n"
        ),
        f"{SHOP_SCENARIO}: spec.secrets[0].dockerRegistry.name",
        'Duplicate value: "regcred": the Secret manifest on line 36 has this name',
    ),
    case(
        "secret-not-base64",
        workloads("stringData:", "data:").replace("}}}'\n", "}}}'  #!\n"),
        'Secret "regcred": data[.dockerconfigjson]',
        "illegal base64 data at input byte 0",
    ),
    # Durations in the wrong form.
    case(
        "duration-quoted-number",
        pod("  duration: 5m", '  duration: "10"  #!'),
        f"{DEMO}: spec.duration",
        'Invalid value: "10": missing unit (write 30s, or a plain number of seconds '
        "without quotes)",
    ),
    case(
        "duration-missing-last-unit",
        pod("  duration: 5m", "  duration: 1h2  #!"),
        f"{DEMO}: spec.duration",
        'Invalid value: "1h2": missing unit after 2',
    ),
    case(
        "duration-negative",
        pod("  duration: 5m", "  duration: -5s  #!"),
        f"{DEMO}: spec.duration",
        'Invalid value: "-5s": must not be negative',
    ),
    case(
        "duration-with-space",
        pod("  duration: 5m", "  duration: 5 sec  #!"),
        f"{DEMO}: spec.duration",
        'Invalid value: "5 sec": must be a duration such as 90s, 1m30s or 500ms, '
        "or a number of seconds",
    ),
    case(
        "duration-unknown-unit",
        pod("  duration: 5m", "  duration: 5sec  #!"),
        f"{DEMO}: spec.duration",
        'Invalid value: "5sec": unknown unit "sec" (units: h, m, s, ms, us, ns)',
    ),
    case(
        "duration-zero",
        pod("  duration: 5m", "  duration: 0s  #!"),
        f"{DEMO}: spec.duration",
        'Invalid value: "0s": must be greater than 0s',
    ),
    case(
        "action-at-negative",
        spec("actions:\n- {at: -1s, delete: {pod: web}}  #!\n"),
        f"{DEMO}: spec.actions[0].at",
        'Invalid value: "-1s": must not be negative',
    ),
    case(
        "sync-frequency-zero",
        spec("cluster: {syncFrequency: 0s}  #!\n"),
        f"{DEMO}: spec.cluster.syncFrequency",
        'Invalid value: "0s": must be greater than 0s',
    ),
    # Distributions.
    case(
        "distribution-median-above-p99",
        spec("cluster:\n  imagePullLatency: {median: 5s, p99: 1s}  #!\n"),
        f"{DEMO}: spec.cluster.imagePullLatency.p99",
        'Invalid value: "1s": must not be less than median',
    ),
    case(
        "distribution-min-above-max",
        spec("cluster:\n  containerStartLatency: {min: 5s, max: 1s}  #!\n"),
        f"{DEMO}: spec.cluster.containerStartLatency.max",
        'Invalid value: "1s": must not be less than min',
    ),
    case(
        "distribution-median-zero",
        spec("cluster:\n  sandboxStartLatency: {median: 0s, p99: 1s}  #!\n"),
        f"{DEMO}: spec.cluster.sandboxStartLatency.median",
        'Invalid value: "0s": must be greater than 0s',
    ),
    case(
        "distribution-without-max",
        spec("cluster:\n  imagePullLatency: {min: 1s}  #!\n"),
        f"{DEMO}: spec.cluster.imagePullLatency.max",
        "Required value",
    ),
    case(
        "distribution-is-a-list",
        spec("endpoints:\n  controllerDelay: [1s, 2s]  #!\n"),
        f"{DEMO}: spec.endpoints.controllerDelay",
        'Invalid value: ["1s", "2s"]: must be a duration, {min, max}, {median, p99} '
        "or {mean}",
    ),
    # Kubernetes versions and feature gates.
    case(
        "kubernetes-version-unsupported",
        spec("cluster: {kubernetesVersion: '1.26'}  #!\n"),
        f"{DEMO}: spec.cluster.kubernetesVersion",
        f'Unsupported value: "1.26": supported values: {VERSIONS}',
    ),
    case(
        "kubernetes-version-future",
        spec("cluster: {kubernetesVersion: '1.36'}  #!\n"),
        f"{DEMO}: spec.cluster.kubernetesVersion",
        'Unsupported value: "1.36"',
        'did you mean "1.35"?',
    ),
    case(
        "kubernetes-version-unquoted",
        spec("cluster: {kubernetesVersion: 1.30}  #!\n"),
        f"{DEMO}: spec.cluster.kubernetesVersion",
        'Invalid value: 1.3: must be a quoted string such as "1.35" (YAML reads 1.30 '
        'as the number 1.3: write "1.30")',
    ),
    case(
        "feature-gate-unknown",
        spec("cluster:\n  featureGates:\n    ExecProbeTimeot: true  #!\n"),
        f"{DEMO}: spec.cluster.featureGates[ExecProbeTimeot]",
        'Invalid value: "ExecProbeTimeot": unknown feature gate; '
        'did you mean "ExecProbeTimeout"?',
    ),
    case(
        "feature-gate-not-in-release",
        spec(
            "cluster:\n  kubernetesVersion: '1.27'\n  featureGates:\n"
            "    KubeletCrashLoopBackOffMax: true  #!\n"
        ),
        f"{DEMO}: spec.cluster.featureGates[KubeletCrashLoopBackOffMax]",
        "Invalid value: true: feature gate KubeletCrashLoopBackOffMax does not exist "
        "in 1.27",
    ),
    case(
        "feature-gate-locked",
        spec("cluster:\n  featureGates:\n    SidecarContainers: false  #!\n"),
        f"{DEMO}: spec.cluster.featureGates[SidecarContainers]",
        "Invalid value: false: feature gate SidecarContainers is locked to True in "
        "1.35",
    ),
    case(
        "feature-gate-value-quoted",
        spec("cluster:\n  featureGates:\n    ExecProbeTimeout: 'true'  #!\n"),
        f"{DEMO}: spec.cluster.featureGates[ExecProbeTimeout]",
        'Invalid value: "true": must be a boolean (true or false)',
    ),
    # Contradictory settings.
    case(
        "exec-and-http-get",
        probe("exec: {command: [cat, /tmp/ok]}").replace(
            "httpGet: {path: /healthz, port: http}",
            "httpGet: {path: /healthz, port: http}  #!",
        ),
        f"{LIVE}.httpGet",
        "Forbidden: may not specify more than 1 handler type",
    ),
    case(
        "probe-without-handler",
        pod("      httpGet: {path: /healthz, port: http}\n", "").replace(
            "    livenessProbe:", "    livenessProbe:  #!"
        ),
        f"{LIVE}",
        "Required value: must specify a handler type",
    ),
    case(
        "prestop-two-handlers",
        container(
            "lifecycle:\n  preStop: {sleep: {seconds: 5}, exec: {command: [x]}}  #!\n"
        ),
        f"{C0}.lifecycle.preStop.sleep",
        "Forbidden: may not specify more than 1 handler type",
    ),
    case(
        "readiness-probe-grace-period",
        container(
            """\
            readinessProbe:
              tcpSocket: {port: 8080}
              terminationGracePeriodSeconds: 10  #!
            """
        ),
        f"{C0}.readinessProbe.terminationGracePeriodSeconds",
        "Invalid value: 10: must not be set for readinessProbes",
    ),
    case(
        "env-value-and-value-from",
        container(
            "env: [{name: A, value: x, valueFrom: {secretKeyRef: {name: s, key: k}}}]"
            "  #!\n"
        ),
        f"{C0}.env[0].valueFrom",
        "may not be specified when `value` is not empty",
    ),
    case(
        "volume-with-two-sources",
        pod_spec("volumes: [{name: v, emptyDir: {}, secret: {secretName: s}}]  #!\n"),
        f"{WEB}: spec.volumes[0].secret",
        "Forbidden: may not specify more than 1 volume type",
    ),
    case(
        "max-surge-and-max-unavailable-zero",
        workloads(
            "{maxSurge: 1, maxUnavailable: 0}", "{maxSurge: 0, maxUnavailable: 0}  #!"
        ),
        f"{SHOP}: spec.strategy.rollingUpdate.maxUnavailable",
        "Invalid value: 0: may not be 0 when `maxSurge` is 0",
    ),
    case(
        "recreate-with-rolling-update",
        workloads(
            "    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}",
            "    type: Recreate\n    rollingUpdate: {maxSurge: 1}  #!",
        ),
        f"{SHOP}: spec.strategy.rollingUpdate",
        "Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ),
    case(
        "selector-does-not-match-template",
        workloads("      labels: {app: shop}", "      labels: {app: shp}  #!"),
        f"{SHOP}: spec.template.metadata.labels",
        'Invalid value: {"app": "shp"}: selector does not match template labels',
    ),
    case(
        "progress-deadline-below-min-ready",
        workloads(
            "replicas: 2",
            "replicas: 2\n  minReadySeconds: 100\n  progressDeadlineSeconds: 50  #!",
        ),
        f"{SHOP}: spec.progressDeadlineSeconds",
        "Invalid value: 50: must be greater than minReadySeconds",
    ),
    case(
        "deployment-restart-policy-never",
        workloads(
            "      serviceAccountName: robot",
            "      serviceAccountName: robot\n      restartPolicy: Never  #!",
        ),
        f"{SHOP}: spec.template.spec.restartPolicy",
        'Unsupported value: "Never": supported values: "Always"',
    ),
    case(
        "traffic-rate-and-phases",
        workloads_spec(
            "traffic:\n"
            "- service: shop\n"
            "  rate: 5\n"
            "  phases: [{from: 0s, rate: 5}]  #!\n"
        ),
        f"{SHOP_SCENARIO}: spec.traffic[0].phases",
        'Forbidden: may not specify more than 1 of "rate", "phases"',
    ),
    case(
        "action-with-two-verbs",
        spec("actions:\n- at: 1m\n  delete: {pod: web}\n  create: {pod: web}  #!\n"),
        f"{DEMO}: spec.actions[0].create",
        'Forbidden: may not specify more than 1 of "delete", "setCondition"',
    ),
    case(
        "proxy-sync-below-min-sync",
        spec("endpoints:\n  proxyMinSyncPeriod: 1m\n  proxySyncPeriod: 30s  #!\n"),
        f"{DEMO}: spec.endpoints.proxySyncPeriod",
        'Invalid value: "30s": must be greater than or equal to proxyMinSyncPeriod',
    ),
    case(
        "phases-out-of-order",
        spec(
            "behaviours:\n- container: app\n  http:\n  - port: 8080\n    responses:\n"
            "    - {until: 10s, status: 200}\n    - {until: 5s, status: 500}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].http[0].responses[1].until",
        'Invalid value: "5s": must be after the previous phase\'s until (10s)',
    ),
    case(
        "window-ends-before-it-starts",
        spec(
            "behaviours:\n- container: app\n  files:\n"
            "    /tmp/ready: {from: 10s, until: 5s}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[0].files[/tmp/ready].until",
        'Invalid value: "5s": must be after from',
    ),
    case(
        "two-behaviours-for-one-container",
        spec(
            "behaviours:\n- {container: app, sigterm: ignore}\n"
            "- {container: app, sigterm: exit}  #!\n"
        ),
        f"{DEMO}: spec.behaviours[1].container",
        'Duplicate value: "app"',
    ),
    case(
        "pod-created-twice",
        spec(
            "actions:\n- {at: 1m, create: {pod: web}}\n"
            "- {at: 2m, create: {pod: web}}  #!\n"
        ),
        f"{DEMO}: spec.actions[1].create.pod",
        'Duplicate value: "web"',
    ),
]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _call(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as error:  # argparse; main itself never raises
        return int(error.code or 0)


def _assert_reported(err: str, file: Path, item: Case) -> None:
    """One line of stderr starts with FILE:LINE: PATH: and holds every fragment."""
    assert "Traceback" not in err
    assert "internal error" not in err
    prefix = item.prefix(file)
    matches = [
        line
        for line in err.splitlines()
        if line.startswith(prefix) and all(f in line for f in item.fragments)
    ]
    assert matches, (
        f"expected a line starting {prefix!r} with {item.fragments} in:\n{err}"
    )


def test_the_catalogue_is_large_and_its_ids_unique():
    ids = [item.id for item in CASES + SWEEP_CASES] + [c[0] for c in CLI_CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 60


@pytest.mark.parametrize("text", [BASE, WORKLOADS], ids=["pod", "workloads"])
def test_the_bases_are_valid(tmp_path, capsys, text):
    path = _write(tmp_path, "base.yaml", text)
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("item", CASES, ids=[item.id for item in CASES])
def test_validate_reports_the_problem(tmp_path, capsys, item):
    path = _write(tmp_path, f"{item.id}.yaml", item.text)
    code = _call(["validate", str(path)])
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    _assert_reported(captured.err, path, item)


@pytest.mark.parametrize("item", CASES, ids=[item.id for item in CASES])
def test_run_reports_the_problem_and_writes_nothing(tmp_path, capsys, item):
    path = _write(tmp_path, f"{item.id}.yaml", item.text)
    out = tmp_path / "out"
    code = _call(["run", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    _assert_reported(captured.err, path, item)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


# Sweep files -----------------------------------------------------------------------

PROBE = "pods[web].containers[app].livenessProbe"
SWEEP = f"""\
apiVersion: probesim/v1alpha1
kind: Sweep
metadata: {{name: bad}}
spec:
  scenario: base.yaml
  replications: 2
  parameters:
  - path: {PROBE}.periodSeconds
    values: [2, 5]
"""
BAD = 'Sweep "bad"'


def sweep(old: str, new: str) -> str:
    return edit(SWEEP, old, new)


def parameter(lines: str) -> str:
    """The sweep with its one parameter replaced by these lines."""
    entry = textwrap.indent(textwrap.dedent(lines), "  ")
    return sweep(f"  - path: {PROBE}.periodSeconds\n    values: [2, 5]\n", entry)


def spec_field(line: str) -> str:
    """The sweep with one more line in its spec."""
    return sweep("  replications: 2\n", f"  replications: 2\n  {line}\n")


SWEEP_CASES = [
    case(
        "sweep-path-field-missing",
        parameter(f"- path: {PROBE}.periodSecond  #!\n  values: [5]\n"),
        f"{BAD}: spec.parameters[0].path",
        f'Not found: "{PROBE}.periodSecond": the scenario has no field '
        '"periodSecond" there; did you mean "periodSeconds"?',
    ),
    case(
        "sweep-path-pod-missing",
        parameter("- path: pods[wbe].containers[app].image  #!\n  values: [x]\n"),
        f"{BAD}: spec.parameters[0].path",
        'the scenario has no Pod "wbe"; did you mean "web"?',
    ),
    case(
        "sweep-path-index-out-of-range",
        parameter("- path: behaviours[5].sigterm  #!\n  values: [ignore]\n"),
        f"{BAD}: spec.parameters[0].path",
        "behaviours has 1 item(s): index 5 is out of range",
    ),
    case(
        "sweep-path-not-a-path",
        parameter("- path: 'pods[web.containers'  #!\n  values: [x]\n"),
        f"{BAD}: spec.parameters[0].path",
        'Invalid value: "pods[web.containers": not a path',
    ),
    case(
        "sweep-values-empty",
        parameter(f"- path: {PROBE}.periodSeconds\n  values: []  #!\n"),
        f"{BAD}: spec.parameters[0].values",
        "Required value: give at least one value",
    ),
    case(
        "sweep-values-not-a-list",
        parameter(f"- path: {PROBE}.periodSeconds\n  values: 5  #!\n"),
        f"{BAD}: spec.parameters[0].values",
        "Invalid value: 5: must be a list",
    ),
    case(
        "sweep-values-and-range",
        parameter(
            f"- path: {PROBE}.periodSeconds\n  values: [1]\n"
            "  range: {min: 1, max: 5, step: 1}  #!\n"
        ),
        f"{BAD}: spec.parameters[0].range",
        'Forbidden: may not specify more than 1 of "values", "range"',
    ),
    case(
        "sweep-range-min-above-max",
        parameter(
            f"- path: {PROBE}.periodSeconds\n  range: {{min: 5, max: 1, step: 1}}  #!\n"
        ),
        f"{BAD}: spec.parameters[0].range.max",
        "Invalid value: 1: must not be less than min",
    ),
    case(
        "sweep-range-step-zero",
        parameter(
            f"- path: {PROBE}.periodSeconds\n  range: {{min: 1, max: 5, step: 0}}  #!\n"
        ),
        f"{BAD}: spec.parameters[0].range.step",
        "Invalid value: 0: must be greater than 0",
    ),
    case(
        "sweep-unknown-parameter-field",
        parameter(f"- path: {PROBE}.periodSeconds\n  valeus: [1]  #!\n"),
        f"{BAD}: spec.parameters[0].valeus",
        'did you mean "values"?',
    ),
    case(
        "sweep-value-the-scenario-refuses",
        parameter(f"- path: {PROBE}.periodSeconds\n  values: [5, -1]  #!\n"),
        f"{BAD}: spec.parameters[0].values[1]",
        f"{PROBE}.periodSeconds = -1: {WEB}: spec.containers[0].livenessProbe."
        "periodSeconds: Invalid value: -1: must be greater than or equal to 0",
    ),
    case(
        "sweep-duration-value-with-space",
        parameter("- path: duration\n  values: [5 sec]  #!\n"),
        f"{BAD}: spec.parameters[0].values[0]",
        'duration = "5 sec": Scenario "hang-detection": spec.duration: Invalid value: '
        '"5 sec": must be a duration',
    ),
    case(
        "sweep-duplicate-parameter-name",
        sweep(
            "    values: [2, 5]\n",
            "    name: p\n    values: [2, 5]\n"
            f"  - path: {PROBE}.failureThreshold\n    name: p  #!\n    values: [1]\n",
        ),
        f"{BAD}: spec.parameters[1].name",
        'Duplicate value: "p"',
    ),
    case(
        "sweep-unknown-design",
        spec_field("design: {type: randm, samples: 3}  #!"),
        f"{BAD}: spec.design.type",
        'Unsupported value: "randm": supported values: "grid", "random", '
        '"latinHypercube"; did you mean "random"?',
    ),
    case(
        "sweep-random-design-without-samples",
        spec_field("design: {type: latinHypercube}  #!"),
        f"{BAD}: spec.design.samples",
        "Required value",
    ),
    case(
        "sweep-zero-replications",
        sweep("replications: 2", "replications: 0  #!"),
        f"{BAD}: spec.replications",
        "Invalid value: 0: must be greater than 0",
    ),
    case(
        "sweep-unknown-metric",
        spec_field("metrics: [restart]  #!"),
        f"{BAD}: spec.metrics[0]",
        'Unsupported value: "restart"',
        'did you mean "restarts"?',
    ),
    case(
        "sweep-unknown-spec-field",
        spec_field("replicatons: 3  #!"),
        f"{BAD}: spec.replicatons",
        'unknown field "spec.replicatons"; did you mean "replications"?',
    ),
    case(
        "sweep-unknown-kind",
        sweep("kind: Sweep", "kind: Swep  #!"),
        'Swep "bad": kind',
        'Unsupported value: "Swep": supported values: "Sweep"; did you mean "Sweep"?',
    ),
    case(
        "sweep-scenario-missing",
        sweep("scenario: base.yaml", "scenario: nope.yaml  #!"),
        f"{BAD}: spec.scenario",
        'Not found: "nope.yaml": no such file',
    ),
    case(
        "sweep-tab",
        sweep("  replications: 2\n", "\treplications: 2  #!\n"),
        "",
        r"invalid YAML: found character '\t' that cannot start any token",
    ),
    case("sweep-empty-file", "", "", "no Sweep document: the file is empty", line=None),
]


@pytest.mark.parametrize("item", SWEEP_CASES, ids=[item.id for item in SWEEP_CASES])
def test_sweep_reports_the_problem_and_writes_nothing(tmp_path, capsys, item):
    _write(tmp_path, "base.yaml", SWEEP_BASE.read_text(encoding="utf-8"))
    path = _write(tmp_path, f"{item.id}.yaml", item.text)
    out = tmp_path / "out"
    code = _call(["sweep", str(path), "--out", str(out), "--workers", "1"])
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    _assert_reported(captured.err, path, item)
    assert not out.exists()


def test_sweep_over_a_broken_scenario_names_the_scenario_file(tmp_path, capsys):
    broken = SWEEP_BASE.read_text(encoding="utf-8").replace(
        "periodSeconds: 10", "periodSeconds: ten"
    )
    scenario = _write(tmp_path, "base.yaml", broken)
    line = broken.splitlines().index("      periodSeconds: ten") + 1
    path = _write(tmp_path, "sweep.yaml", SWEEP)
    out = tmp_path / "out"
    assert _call(["sweep", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{scenario}:{line}: {LIVE}.periodSeconds: " in err
    assert 'Invalid value: "ten": must be an integer' in err
    assert "Traceback" not in err
    assert not out.exists()


# Command-line arguments -------------------------------------------------------------

# A valid scenario and sweep sit in the folder as s.yaml and sweep.yaml; {dir} is the
# folder. Each message names the option (or the file) and what is allowed.
CLI_CASES = [
    (
        "cli-duration-unknown-unit",
        "run s.yaml --duration 5sec",
        '--duration: invalid duration "5sec": unknown unit "sec" '
        "(units: h, m, s, ms, us, ns)",
    ),
    ("cli-duration-zero", "run s.yaml --duration 0s", "--duration must be more than 0"),
    (
        "cli-duration-negative",
        "run s.yaml --duration=-5s",
        '--duration: invalid duration "-5s": must not be negative',
    ),
    (
        "cli-duration-exponent",
        "run s.yaml --duration 1e400",
        '--duration: invalid duration "1e400": unknown unit "e"',
    ),
    ("cli-runs-zero", "run s.yaml --runs 0", "--runs must be at least 1, not 0"),
    ("cli-seed-negative", "run s.yaml --seed=-1", "--seed must be 0 or more, not -1"),
    (
        "cli-seed-not-a-number",
        "run s.yaml --seed x",
        "argument --seed: invalid int value: 'x'",
    ),
    (
        "cli-at-missing-unit",
        "describe s.yaml --at 1h2",
        '--at: invalid duration "1h2": missing unit after 2',
    ),
    (
        "cli-describe-pod-missing",
        "describe s.yaml --pod wbe",
        's.yaml has no pod "wbe" (pods: web); did you mean "web"?',
    ),
    (
        "cli-get-unknown-resource",
        "get pdos s.yaml",
        'the server doesn\'t have a resource type "pdos"',
        'did you mean "pods"?',
    ),
    (
        "cli-scenario-missing",
        "run nope.yaml",
        "nope.yaml: cannot read the scenario: no such file",
    ),
    (
        "cli-scenario-is-a-directory",
        "run {dir}",
        "cannot read the scenario: it is a directory",
    ),
    (
        "cli-scenario-not-utf8",
        "run latin1.yaml",
        "latin1.yaml: cannot read the scenario: not UTF-8 text",
    ),
    (
        "cli-sweep-workers-zero",
        "sweep sweep.yaml --workers 0",
        "--workers must be at least 1, not 0",
    ),
    ("cli-sweep-missing", "sweep nope.yaml", "nope.yaml: cannot read the sweep"),
    ("cli-unknown-option", "run s.yaml --bogus", "unrecognized arguments: --bogus"),
]


@pytest.mark.parametrize(
    ("id", "command", "fragments"),
    [(c[0], c[1], c[2:]) for c in CLI_CASES],
    ids=[c[0] for c in CLI_CASES],
)
def test_bad_arguments_exit_2_and_write_nothing(
    tmp_path, capsys, id, command, fragments
):
    _write(tmp_path, "s.yaml", BASE)
    _write(tmp_path, "base.yaml", SWEEP_BASE.read_text(encoding="utf-8"))
    _write(tmp_path, "sweep.yaml", SWEEP)
    (tmp_path / "latin1.yaml").write_bytes(
        BASE.replace("web", "w\xe9b").encode("latin-1")
    )
    before = sorted(tmp_path.iterdir())
    out = tmp_path / "out"
    argv = [a.format(dir=tmp_path) for a in command.split()]
    argv = [str(tmp_path / a) if a.endswith(".yaml") else a for a in argv]
    if argv[0] in ("run", "sweep"):
        argv += ["--out", str(out)]
    code = _call(argv)
    captured = capsys.readouterr()
    assert code == 2, captured.out + captured.err
    assert "Traceback" not in captured.err
    assert "internal error" not in captured.err
    for fragment in fragments:
        assert fragment in captured.err
    assert sorted(tmp_path.iterdir()) == before


# The installed command, in a process of its own -----------------------------------

BY_ID = {item.id: item for item in CASES + SWEEP_CASES}
SUBPROCESS = [
    ("validate", "yaml-alias-inside-itself"),
    ("run", "feature-gate-locked"),
    ("describe", "unknown-probe-field"),
    ("get pods", "duration-unknown-unit"),
    ("sweep", "sweep-path-field-missing"),
]


@pytest.mark.parametrize(("command", "id"), SUBPROCESS, ids=[i for _, i in SUBPROCESS])
def test_the_installed_command_exits_2_without_traceback(tmp_path, command, id):
    item = BY_ID[id]
    if command == "sweep":
        _write(tmp_path, "base.yaml", SWEEP_BASE.read_text(encoding="utf-8"))
    path = _write(tmp_path, f"{id}.yaml", item.text)
    out = tmp_path / "out"
    extra = ["--out", str(out)] if command in ("run", "sweep") else []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(
        [str(PROBESIM), *command.split(), str(path), *extra],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    _assert_reported(done.stderr, path, item)
    assert not out.exists()


# Accepted on purpose ---------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    """An input that looks wrong but that the API server (and so the reader) takes."""

    id: str
    text: str
    warning: str  # a fragment of the warning it gives, "" for none


ACCEPTED = [
    # The API server defaults a probe counter given as 0 (docs/scenario-format.md).
    Accepted("period-seconds-zero", probe("periodSeconds: 0"), ""),
    Accepted("failure-threshold-zero", probe("failureThreshold: 0"), ""),
    Accepted("timeout-seconds-zero", probe("timeoutSeconds: 0"), ""),
    Accepted("success-threshold-zero", probe("successThreshold: 0"), ""),
    # An action at or after the end never happens: a warning, not an error.
    Accepted(
        "action-after-the-end",
        spec("actions:\n- {at: 6m, delete: {pod: web}}\n"),
        "at 6m is not before the end of the scenario (5m): this action never happens",
    ),
    # A probe port name the container lacks is accepted by the API server.
    Accepted(
        "probe-port-name-not-declared",
        pod("port: http}", "port: metrics}"),
        'probe port "metrics" is not a port name of container "app"',
    ),
    # Whether an account or secret exists is decided at admission, not by the reader.
    Accepted("service-account-missing", pod_spec("serviceAccountName: ghost\n"), ""),
    # YAML allows an anchor to be defined again, and 1e5 as a float in YAML 1.1:
    # ruamel warns of both, which printed its own lines on stderr.
    Accepted(
        "anchor-defined-again",
        pod("image: nginx:1.27", "image: &i nginx:1.27\n    workingDir: &i /x"),
        "",
    ),
    Accepted(
        "yaml-1-1-float-without-dot",
        "%YAML 1.1\n---\n" + spec("endpoints: {proxySyncPeriod: 1e1}\n"),
        "",
    ),
]


@pytest.mark.parametrize("item", ACCEPTED, ids=[item.id for item in ACCEPTED])
def test_inputs_the_api_server_accepts_are_valid(tmp_path, capsys, item):
    path = _write(tmp_path, f"{item.id}.yaml", item.text)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["validate", str(path)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert item.warning in captured.err
    assert [str(w.message) for w in caught] == []


def test_probe_counters_given_as_zero_take_their_defaults(tmp_path):
    text = probe("periodSeconds: 0\n      timeoutSeconds: 0\n      failureThreshold: 0")
    scenario = load_scenario(_write(tmp_path, "zero.yaml", text))
    probe_ = scenario.pods[0].containers[0].liveness_probe
    assert probe_ is not None
    assert (probe_.period_seconds, probe_.timeout_seconds) == (10, 1)
    assert (probe_.failure_threshold, probe_.success_threshold) == (3, 1)
