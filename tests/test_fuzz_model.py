"""Hypothesis fuzzing of the whole model: random valid scenario files, invariants.

Every example is a scenario file written as YAML text and read the way a user's file
is (``sim.Scenario.from_yaml`` or ``sim.load_scenario`` on a temporary file), so the
generator exercises the reader too. A file holds 1-3 bare Pods, or a Deployment of
1-3 replicas behind a Service with traffic (and up to two bare Pods beside it); each
pod has 1-2 containers with any subset of startup, liveness and readiness probes
(exec, httpGet, tcpSocket or grpc, random fields), and the Scenario document gives
behaviours (phases, latencies, flakes, hangs, files, TCP windows, self-exit, SIGTERM
handling, load), actions at random times (delete, fault, setCondition, setImage,
create, scale, rollout), cluster settings (release, feature gates, kubelet uptime,
latencies, back-off cap), endpoint delays and a duration of 1-20 minutes.

For each scenario and seed ``sim.simulate`` must not raise, and these invariants hold
(each is a function ``invariant_*`` below whose docstring names its rule):

1. restart counts never fall (R5.6);
2. a container is Ready only while running and started (R7.1, R3.5);
3. no liveness or startup kill, and no liveness or startup attempt, once the pod's
   deletion has been requested (R3.12);
4. no liveness or startup kill before the earliest possible detection (R3.4 (8),
   R3.6, R3.7), stated as in ``tests/test_properties.py``;
5. endpoints and kube-proxy never keep a pod ready longer than the propagation bound
   after the kubelet reports it not ready (R9.2-R9.4, ``docs/traffic.md``);
6. the same seed gives byte-identical output, and the record levels ``all``,
   ``changes`` and ``metrics`` differ only by the probe attempts (and per-request
   events) each leaves out, with the same metrics and summary; at level ``changes``
   ``fast_path=True`` and ``False`` give identical events, metrics, requests and
   summary (the pod status histories are compared without repeated copies, see
   ``status_history``).

``PROBESIM_FUZZ_EXAMPLES`` sets the number of examples (default 80, about 80 s on
two shared cores); ``PROBESIM_FUZZ_EXAMPLES=2000`` runs a long campaign, and
``PROBESIM_FUZZ_SHRINK=0`` reports a failure without shrinking it (which can take
minutes). The examples are the same on every run, unless ``PROBESIM_FUZZ_SEED=N``
picks another sequence (for a campaign that explores new scenarios). The terminal
summary reports how many scenarios were fuzzed, how many simulations ran and how
many checks each invariant made. The YAML text is written by ruamel.yaml, a core
dependency (no PyYAML).
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, given, note, seed, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import sim
from sim.scenario.document import ActionKind
from sim.scenario.gates import GATES, gate_problem
from sim.simulation import SimulationResult
from sim.trace import EventRecord, Reason, RecordLevel, events_frame

EXAMPLES = int(os.environ.get("PROBESIM_FUZZ_EXAMPLES", "80"))
# PROBESIM_FUZZ_SHRINK=0 reports a failing example as found, without shrinking it
# (shrinking a whole scenario file can take minutes).
SHRINK = os.environ.get("PROBESIM_FUZZ_SHRINK", "1") != "0"
# PROBESIM_FUZZ_SEED=N draws another sequence of examples than the fixed one.
FUZZ_SEED = os.environ.get("PROBESIM_FUZZ_SEED")
FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    phases=[p for p in Phase if SHRINK or p not in (Phase.shrink, Phase.explain)],
    deadline=None,
    derandomize=FUZZ_SEED is None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
)
EPS = 1e-6
# Differences of times up to this are reported as float rounding (still failures).
ROUNDING = 1e-9
VERSIONS = tuple(f"1.{minor}" for minor in range(27, 36))
IMAGE = "registry.example.com/app:1"
PROBE_TYPES = ("startupProbe", "livenessProbe", "readinessProbe")
GATE_TYPE = "example.com/feature-1"

# What the run counted: scenarios, runs and checks per invariant.
STATS: Counter[str] = Counter()
_STARTED: list[float] = []


# ---------------------------------------------------------------------------
# Reporting


class _FuzzReport:
    """A pytest plugin that prints the counts at the end of the session."""

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not STATS:
            return
        elapsed = time.perf_counter() - _STARTED[0] if _STARTED else 0.0
        checks = sum(v for k, v in STATS.items() if k.startswith("check:"))
        terminalreporter.write_sep("-", "probesim model fuzzing")
        terminalreporter.write_line(
            f"scenarios fuzzed: {STATS['scenarios']} "
            f"(max_examples={EXAMPLES}), simulations run: {STATS['simulations']}, "
            f"invariant checks made: {checks}, in {elapsed:.1f} s"
        )
        for key in sorted(STATS):
            if key.startswith(("check:", "invariant:", "feature:")):
                terminalreporter.write_line(f"  {key}: {STATS[key]}")


@pytest.fixture(scope="module", autouse=True)
def _fuzz_report(request):
    plugin = _FuzzReport()
    manager = request.config.pluginmanager
    if not manager.is_registered(plugin) and not manager.has_plugin("probesim-fuzz"):
        manager.register(plugin, "probesim-fuzz")
    yield


def check(invariant: str, condition: bool, message: Any) -> None:
    """One elementary check of an invariant, counted."""
    STATS[f"check:{invariant}"] += 1
    assert condition, f"{invariant}: {message}"


# ---------------------------------------------------------------------------
# Strategies: small pieces


def duration_text(draw, seconds: float) -> Any:
    """A duration written in one of the forms the reader accepts."""
    millis = round(seconds * 1000)
    form = draw(st.sampled_from(["ms", "s", "number", "go"]))
    if form == "ms":
        return f"{millis}ms"
    if form == "number":
        return millis / 1000
    if form == "go" and millis >= 60_000:
        minutes, rest = divmod(millis, 60_000)
        return f"{minutes}m{rest / 1000:g}s" if rest else f"{minutes}m"
    return f"{millis / 1000:g}s"


def distribution(draw, low_ms: int = 1, high_ms: int = 500, bounded: bool = False):
    """A random duration: constant, uniform, log-normal or exponential."""
    kinds = ["constant", "uniform"] if bounded else ["constant", "uniform", "ln", "exp"]
    kind = draw(st.sampled_from(kinds))
    a = draw(st.integers(low_ms, high_ms))
    if kind == "constant":
        return duration_text(draw, a / 1000)
    b = draw(st.integers(a, max(a, high_ms) * 2))
    if kind == "uniform":
        return {
            "min": duration_text(draw, a / 1000),
            "max": duration_text(draw, b / 1000),
        }
    if kind == "ln":
        return {
            "median": duration_text(draw, max(a, 1) / 1000),
            "p99": duration_text(draw, max(b, a, 1) / 1000),
        }
    return {"mean": duration_text(draw, max(a, 1) / 1000)}


def latency(draw):
    """An answer latency: usually fast, sometimes beyond any probe timeout."""
    if draw(st.integers(0, 9)) == 0:
        return distribution(draw, 500, 12_000)
    return distribution(draw, 1, 400)


def windows(draw, horizon: int = 120):
    """One window or a list of disjoint, ordered windows of uptime."""
    count = draw(st.integers(1, 3))
    points = sorted(
        draw(st.sets(st.integers(0, horizon), min_size=2 * count, max_size=2 * count))
    )
    found = []
    for index in range(count):
        start, end = points[2 * index], points[2 * index + 1]
        window: dict[str, Any] = {}
        if start or draw(st.booleans()):
            window["from"] = duration_text(draw, start)
        if index < count - 1 or draw(st.booleans()):
            window["until"] = duration_text(draw, end)
        elif draw(st.booleans()):
            window["until"] = draw(st.sampled_from(["forever", "inf"]))
        found.append(window)
    if count == 1 and draw(st.booleans()):
        return found[0]
    return found


def phases(draw, kind: str):
    """A list of phases with strictly increasing ``until``."""
    count = draw(st.integers(1, 3))
    untils = sorted(draw(st.sets(st.integers(1, 300), min_size=count, max_size=count)))
    open_end = draw(st.booleans())
    found = []
    for index in range(count):
        phase: dict[str, Any] = {}
        if index < count - 1 or not open_end:
            phase["until"] = duration_text(draw, untils[index])
        if kind == "exec":
            if draw(st.booleans()):
                phase["exitCode"] = draw(st.sampled_from([0, 0, 1, 2, 126]))
            if draw(st.integers(0, 3)) == 0:
                phase["duration"] = latency(draw)
            if draw(st.integers(0, 4)) == 0:
                phase["output"] = "probe output"
        elif kind == "http":
            status = draw(st.sampled_from([200, 200, 204, 301, 302, 404, 500, 503]))
            phase["status"] = status
            if 300 <= status < 400 and draw(st.booleans()):
                phase["location"] = draw(
                    st.sampled_from(["/healthz", "http://other.example.com/", "/x"])
                )
            if draw(st.integers(0, 2)) == 0:
                phase["latency"] = latency(draw)
        else:
            phase["status"] = draw(
                st.sampled_from(
                    ["SERVING", "SERVING", "NOT_SERVING", "UNKNOWN", "SERVICE_UNKNOWN"]
                )
            )
            if draw(st.integers(0, 2)) == 0:
                phase["latency"] = latency(draw)
        if draw(st.integers(0, 7)) == 0:
            phase["hang"] = True
        if draw(st.integers(0, 4)) == 0:
            flaky: dict[str, Any] = {
                "probability": draw(st.sampled_from([0.05, 0.2, 0.5, 1.0]))
            }
            if kind == "exec" and draw(st.booleans()):
                flaky["exitCode"] = draw(st.integers(1, 3))
            if kind == "http" and draw(st.booleans()):
                flaky["status"] = draw(st.sampled_from([500, 503, 404]))
            if kind == "grpc" and draw(st.booleans()):
                flaky["status"] = "NOT_SERVING"
            phase["flaky"] = flaky
        found.append(phase)
    return found


# ---------------------------------------------------------------------------
# Strategies: containers, pods, behaviours


# Each container's ports: (name, number) for http, grpc and raw TCP; the names
# of the first container are the ones the Service targets.
PORTS = (
    {"http": ("http", 8080), "grpc": ("grpc", 9090), "tcp": ("raw", 7070)},
    {"http": ("admin", 8081), "grpc": ("grpc-b", 9091), "tcp": ("raw-b", 7071)},
)
CONTAINER_NAMES = ("app", "side")


@dataclass
class Plan:
    """What the generator decided about one container (for its behaviour)."""

    name: str
    index: int
    files: list[str]
    commands: list[list[str]]
    http_paths: list[str]
    grpc_services: list[str]


def port_ref(draw, index: int, kind: str):
    """A probe port: the container's port name or number, rarely a missing name."""
    name, number = PORTS[index][kind]
    if kind == "grpc":
        return number
    choice = draw(st.integers(0, 19))
    if choice == 0:
        return "nosuchport"
    return name if choice % 2 else number


def probe(draw, probe_type: str, plan: Plan) -> dict[str, Any]:
    """A probe with a random handler and random fields."""
    kind = draw(st.sampled_from(["exec", "httpGet", "tcpSocket", "grpc"]))
    short = probe_type.removesuffix("Probe")
    body: dict[str, Any] = {}
    if kind == "exec":
        path = f"/tmp/{short}-{plan.name}"
        command = draw(
            st.sampled_from(
                [
                    ["cat", path],
                    ["test", "-f", path],
                    ["sh", "-c", f"cat {path}"],
                    ["/bin/check", short],
                ]
            )
        )
        if command[0] == "/bin/check":
            plan.commands.append(command)
        else:
            plan.files.append(path)
        body["exec"] = {"command": command}
    elif kind == "httpGet":
        path = draw(st.sampled_from([f"/{short}", "/healthz", "/"]))
        get: dict[str, Any] = {"path": path, "port": port_ref(draw, plan.index, "http")}
        if draw(st.integers(0, 5)) == 0:
            get["scheme"] = "HTTPS"
        if draw(st.integers(0, 5)) == 0:
            get["httpHeaders"] = [{"name": "X-Probe", "value": short}]
        plan.http_paths.append(path)
        body["httpGet"] = get
    elif kind == "tcpSocket":
        body["tcpSocket"] = {"port": port_ref(draw, plan.index, "tcp")}
    else:
        grpc: dict[str, Any] = {"port": port_ref(draw, plan.index, "grpc")}
        if draw(st.booleans()):
            grpc["service"] = short
            plan.grpc_services.append(short)
        body["grpc"] = grpc

    fields = {
        "initialDelaySeconds": st.integers(0, 20),
        "periodSeconds": st.integers(1, 20),
        "timeoutSeconds": st.integers(1, 10),
        "failureThreshold": st.integers(1, 6),
    }
    if probe_type == "readinessProbe":
        fields["successThreshold"] = st.integers(1, 3)
    for field, values in fields.items():
        if draw(st.integers(0, 4)):
            body[field] = draw(values)
    if probe_type != "readinessProbe" and draw(st.integers(0, 5)) == 0:
        body["terminationGracePeriodSeconds"] = draw(st.integers(1, 30))
    return body


def container(draw, index: int) -> tuple[dict[str, Any], Plan]:
    """A container manifest with ports, probes and maybe a preStop hook."""
    name = CONTAINER_NAMES[index]
    plan = Plan(name, index, [], [], [], [])
    body: dict[str, Any] = {
        "name": name,
        "image": draw(st.sampled_from([IMAGE, IMAGE, "registry.example.com/app"])),
        "ports": [
            {"name": port_name, "containerPort": number}
            for port_name, number in PORTS[index].values()
        ],
    }
    for probe_type in PROBE_TYPES:
        chance = 3 if probe_type == "livenessProbe" else 2
        if draw(st.integers(0, 4)) < chance:
            body[probe_type] = probe(draw, probe_type, plan)
    hook = draw(st.integers(0, 7))
    if hook == 0:
        body["lifecycle"] = {
            "preStop": {"sleep": {"seconds": draw(st.integers(0, 10))}}
        }
    elif hook == 1:
        body["lifecycle"] = {"preStop": {"exec": {"command": ["/bin/drain"]}}}
    elif hook == 2:
        body["lifecycle"] = {
            "preStop": {"httpGet": {"path": "/drain", "port": PORTS[index]["http"][1]}}
        }
    return body, plan


def script_container(draw) -> tuple[dict[str, Any], Plan]:
    """A busybox shell script whose behaviour the reader infers (no behaviour)."""
    until = draw(st.integers(1, 90))
    after = draw(st.integers(1, 600))
    script = draw(
        st.sampled_from(
            [
                f"touch /tmp/healthy; sleep {until}; rm -f /tmp/healthy; sleep {after}",
                f"touch /tmp/healthy; sleep {until}; exit 3",
                f"trap 'exit 0' TERM; touch /tmp/healthy; "
                f"while true; do sleep {until}; done",
                f"sleep {until}; touch /tmp/healthy; sleep infinity",
            ]
        )
    )
    plan = Plan("app", 0, [], [], [], [])
    body: dict[str, Any] = {
        "name": "app",
        "image": "registry.k8s.io/busybox:1.36",
        "args": ["/bin/sh", "-c", script],
        "livenessProbe": {
            "exec": {"command": ["cat", "/tmp/healthy"]},
            "initialDelaySeconds": draw(st.integers(0, 20)),
            "periodSeconds": draw(st.integers(1, 20)),
            "failureThreshold": draw(st.integers(1, 6)),
        },
    }
    if draw(st.booleans()):
        body["readinessProbe"] = {
            "exec": {"command": ["test", "-f", "/tmp/healthy"]},
            "periodSeconds": draw(st.integers(1, 20)),
            "successThreshold": draw(st.integers(1, 3)),
        }
    return body, plan


def behaviour(draw, plan: Plan, pod: str | None, load: bool) -> dict[str, Any]:
    """What the application in one container does."""
    body: dict[str, Any] = {"container": plan.name}
    if pod is not None:
        body["pod"] = pod
    if plan.files and draw(st.integers(0, 5)):
        body["files"] = {path: windows(draw) for path in plan.files}
    commands = list(plan.commands)
    if plan.files and draw(st.integers(0, 4)) == 0:
        commands.append(["cat", plan.files[0]])
    if commands or draw(st.integers(0, 5)) == 0:
        entries = [{"command": c, "responses": phases(draw, "exec")} for c in commands]
        if not entries or draw(st.integers(0, 3)) == 0:
            entries.append({"responses": phases(draw, "exec")})
        body["exec"] = entries
    http_name, http_port = PORTS[plan.index]["http"]
    if plan.http_paths or load or draw(st.booleans()):
        entries = []
        for path in sorted(set(plan.http_paths)) or ["/"]:
            if draw(st.integers(0, 2)):
                entry: dict[str, Any] = {
                    "port": draw(st.sampled_from([http_name, http_port])),
                    "responses": phases(draw, "http"),
                }
                if draw(st.booleans()):
                    entry["path"] = path
                if draw(st.booleans()):
                    entry["latency"] = latency(draw)
                entries.append(entry)
        if not entries or draw(st.integers(0, 3)) == 0:
            entries.append({"port": http_name, "responses": phases(draw, "http")})
        body["http"] = entries
    if draw(st.integers(0, 2)) == 0:
        tcp_name, tcp_port = PORTS[plan.index]["tcp"]
        entry = {"port": draw(st.sampled_from([tcp_name, tcp_port]))}
        if draw(st.integers(0, 3)):
            entry["listening"] = windows(draw)
        body["tcp"] = [entry]
    if plan.grpc_services or draw(st.integers(0, 3)) == 0:
        grpc: dict[str, Any] = {
            "port": PORTS[plan.index]["grpc"][1],
            "responses": phases(draw, "grpc"),
        }
        if plan.grpc_services and draw(st.booleans()):
            grpc["service"] = plan.grpc_services[0]
        if draw(st.booleans()):
            grpc["latency"] = latency(draw)
        body["grpc"] = [grpc]
    if draw(st.integers(0, 3)) == 0:
        exit_: dict[str, Any] = {"after": distribution(draw, 1_000, 400_000)}
        if draw(st.booleans()):
            exit_["code"] = draw(st.sampled_from([0, 1, 2, 137]))
        body["exit"] = exit_
    sigterm = draw(st.integers(0, 5))
    if sigterm == 1:
        body["sigterm"] = "ignore"
    elif sigterm == 2:
        body["sigterm"] = "exit"
    elif sigterm == 3:
        body["sigterm"] = {
            "exitAfter": distribution(draw, 0, 40_000, bounded=True),
            "exitCode": draw(st.sampled_from([0, 1, 2, 143])),
        }
    elif sigterm == 4:
        ends = sorted(draw(st.lists(st.integers(1, 200), min_size=0, max_size=3)))
        trap: dict[str, Any] = {"commandsEndAt": [duration_text(draw, e) for e in ends]}
        if draw(st.booleans()):
            trap["repeatEvery"] = duration_text(draw, draw(st.integers(1, 60)))
        body["sigterm"] = {"exitAfter": distribution(draw, 0, 3_000), "trap": trap}
    if load and draw(st.booleans()):
        body["load"] = {
            "capacity": draw(st.integers(5, 40)),
            "window": duration_text(draw, draw(st.integers(1, 10))),
            "saturatedLatency": distribution(draw, 500, 8_000),
        }
    return body


def pod_spec(draw, containers: list[dict[str, Any]], deployment: bool) -> dict:
    """A pod spec around the containers."""
    spec: dict[str, Any] = {"containers": containers}
    if not deployment and draw(st.integers(0, 2)):
        spec["restartPolicy"] = draw(st.sampled_from(["Always", "OnFailure", "Never"]))
    if draw(st.integers(0, 2)):
        spec["terminationGracePeriodSeconds"] = draw(st.integers(0, 40))
    return spec


# ---------------------------------------------------------------------------
# Strategies: the whole file


@dataclass(frozen=True)
class Case:
    """One generated scenario file and the seed to run it with."""

    text: str
    seed: int
    via_file: bool

    def __repr__(self) -> str:
        return f"Case(seed={self.seed}, via_file={self.via_file}, text=\n{self.text})"


def action_time(draw, duration: int) -> Any:
    """A random scenario time before the end, to the millisecond."""
    return duration_text(draw, draw(st.integers(0, duration * 1000 - 1)) / 1000)


@st.composite
def scenario_files(draw) -> Case:
    """A valid scenario file as YAML text, and a seed."""
    duration = draw(st.sampled_from([60, 120, 180, 300, 300, 600, 900, 1200])) + draw(
        st.integers(0, 59)
    )
    with_deployment = draw(st.integers(0, 2)) == 0
    bare = draw(st.integers(0 if with_deployment else 1, 2 if with_deployment else 3))
    manifests: list[dict[str, Any]] = []
    behaviours: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    pods: dict[str, list[str]] = {}  # pod (or Deployment) name -> containers
    gated: list[str] = []

    for number in range(bare):
        name = f"pod-{number}"
        if draw(st.integers(0, 7)) == 0:
            body, plan = script_container(draw)
            containers, plans = [body], []
        else:
            count = draw(st.integers(1, 2))
            made = [container(draw, index) for index in range(count)]
            containers = [c for c, _ in made]
            plans = [p for _, p in made]
        spec = pod_spec(draw, containers, deployment=False)
        if draw(st.integers(0, 4)) == 0:
            spec["readinessGates"] = [{"conditionType": GATE_TYPE}]
            gated.append(name)
        labels = {"app": "web" if with_deployment and draw(st.booleans()) else name}
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "labels": labels},
                "spec": spec,
            }
        )
        pods[name] = [c["name"] for c in containers]
        for plan in plans:
            if draw(st.integers(0, 5)):
                behaviours.append(behaviour(draw, plan, name, load=False))

    services: list[str] = []
    if with_deployment:
        count = draw(st.integers(1, 2))
        made = [container(draw, index) for index in range(count)]
        template = pod_spec(draw, [c for c, _ in made], deployment=True)
        deployment_spec: dict[str, Any] = {
            "replicas": draw(st.integers(1, 3)),
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": template},
        }
        strategy = draw(st.integers(0, 3))
        if strategy == 0:
            deployment_spec["strategy"] = {"type": "Recreate"}
        elif strategy == 1:
            surge = draw(st.sampled_from([0, 1, 2, "25%", "50%"]))
            unavailable = draw(st.sampled_from([1, 0, "25%", "100%"]))
            if surge in (0, "0%") and unavailable in (0, "0%"):
                unavailable = 1
            deployment_spec["strategy"] = {
                "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}
            }
        if draw(st.booleans()):
            deployment_spec["minReadySeconds"] = draw(st.integers(0, 10))
        manifests.append(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web"},
                "spec": deployment_spec,
            }
        )
        pods["web"] = [c["name"] for c, _ in made]
        load = draw(st.booleans())
        for _, plan in made:
            if draw(st.integers(0, 5)):
                behaviours.append(behaviour(draw, plan, "web", load=load))
        service: dict[str, Any] = {
            "selector": {"app": "web"},
            "ports": [
                {
                    "name": "http",
                    "port": 80,
                    "targetPort": draw(st.sampled_from(["http", 8080])),
                }
            ],
        }
        if draw(st.integers(0, 9)) == 0:
            service["publishNotReadyAddresses"] = True
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": service,
            }
        )
        services.append("web")

    # Actions at random times.
    for _ in range(draw(st.integers(0, 5))):
        verb = draw(
            st.sampled_from(
                ["delete", "delete", "fault", "fault", "setCondition", "setImage"]
                + ["create"]
                + (["scale", "rollout"] if with_deployment else [])
            )
        )
        at = action_time(draw, duration)
        bare_pods = [p for p in pods if p != "web"]
        if verb == "delete" and bare_pods:
            delete: dict[str, Any] = {"pod": draw(st.sampled_from(bare_pods))}
            if draw(st.booleans()):
                delete["gracePeriodSeconds"] = draw(st.integers(0, 40))
            actions.append({"at": at, "delete": delete})
        elif verb == "fault":
            target = draw(st.sampled_from(sorted(pods)))
            fault: dict[str, Any] = {
                "pod": target,
                "container": draw(st.sampled_from(pods[target])),
            }
            kind = draw(st.sampled_from(["hang", "crash", "slow", "recover"]))
            if kind == "hang":
                fault["hang"] = (
                    {"for": duration_text(draw, draw(st.integers(1, 300)))}
                    if draw(st.booleans())
                    else {}
                )
            elif kind == "crash":
                fault["crash"] = (
                    {"exitCode": draw(st.integers(0, 255))}
                    if draw(st.booleans())
                    else {}
                )
            elif kind == "slow":
                slow: dict[str, Any] = {"latency": distribution(draw, 100, 15_000)}
                if draw(st.booleans()):
                    slow["for"] = duration_text(draw, draw(st.integers(1, 300)))
                fault["slow"] = slow
            else:
                fault["recover"] = draw(st.sampled_from([{}, None]))
            actions.append({"at": at, "fault": fault})
        elif verb == "setCondition" and gated:
            actions.append(
                {
                    "at": at,
                    "setCondition": {
                        "pod": draw(st.sampled_from(gated)),
                        "type": GATE_TYPE,
                        "status": draw(st.sampled_from(["True", "False", True, False])),
                    },
                }
            )
        elif verb == "setImage" and bare_pods:
            target = draw(st.sampled_from(bare_pods))
            actions.append(
                {
                    "at": at,
                    "setImage": {
                        "pod": target,
                        "container": draw(st.sampled_from(pods[target])),
                        "image": "registry.example.com/app:2",
                    },
                }
            )
        elif verb == "create" and bare_pods:
            created = {a["create"]["pod"] for a in actions if "create" in a}
            free = [p for p in bare_pods if p not in created]
            if free:
                actions.append(
                    {"at": at, "create": {"pod": draw(st.sampled_from(free))}}
                )
        elif verb == "scale":
            actions.append(
                {
                    "at": at,
                    "scale": {"deployment": "web", "replicas": draw(st.integers(0, 4))},
                }
            )
        elif verb == "rollout":
            change: dict[str, Any] = {"name": "app"}
            if draw(st.booleans()):
                change["image"] = f"registry.example.com/app:{draw(st.integers(2, 9))}"
            if draw(st.booleans()):
                change["readinessProbe"] = probe(
                    draw, "readinessProbe", Plan("app", 0, [], [], [], [])
                )
            if len(change) == 1:
                change["image"] = "registry.example.com/app:3"
            rollout: dict[str, Any] = {"deployment": "web", "containers": [change]}
            if draw(st.integers(0, 3)) == 0:
                rollout["minReadySeconds"] = draw(st.integers(0, 10))
            actions.append({"at": at, "rollout": rollout})

    spec: dict[str, Any] = {"duration": duration_text(draw, duration)}
    cluster = cluster_settings(draw)
    if cluster:
        spec["cluster"] = cluster
    if behaviours:
        spec["behaviours"] = behaviours
    if actions:
        spec["actions"] = actions
    if services and draw(st.integers(0, 4)):
        spec["traffic"] = [traffic(draw, duration)]
    if services and draw(st.booleans()):
        spec["endpoints"] = endpoint_delays(draw)
    if draw(st.booleans()):
        spec["seed"] = draw(st.integers(0, 1000))
    document = {
        "apiVersion": "probesim/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": "fuzz"},
        "spec": spec,
    }
    documents = [*manifests, document]
    if draw(st.booleans()):
        documents = [document, *manifests]
    text = dump_yaml(documents, flow=draw(st.booleans()))
    if draw(st.booleans()):
        text = "# generated by tests/test_fuzz_model.py\n" + text
    return Case(text, draw(st.integers(0, 2**31 - 1)), draw(st.booleans()))


def dump_yaml(documents: list[dict[str, Any]], flow: bool) -> str:
    """YAML text of the documents, in block style or with flow-style leaves.

    ruamel.yaml (a core dependency) writes it, keeping the keys in their order and
    quoting strings that would read as other types (``'True'``, ``'1.5'``).
    """
    writer = YAML(typ="safe", pure=True)
    writer.default_flow_style = None if flow else False
    writer.representer.sort_base_mapping_type_on_output = False
    stream = io.StringIO()
    writer.dump_all(documents, stream)
    return stream.getvalue()


def cluster_settings(draw) -> dict[str, Any]:
    """spec.cluster: release, valid feature gates, kubelet and runtime settings."""
    version = draw(st.sampled_from(VERSIONS))
    minor = int(version.split(".")[1])
    cluster: dict[str, Any] = {"kubernetesVersion": version}
    if draw(st.integers(0, 3)) == 0:
        gates = {}
        for gate in GATES:
            value = draw(st.sampled_from([None, True, False]))
            if value is not None and gate_problem(gate.name, value, minor) is None:
                gates[gate.name] = value
        if gates:
            cluster["featureGates"] = gates
    if draw(st.integers(0, 3)) == 0:
        cluster["kubeletUptime"] = duration_text(draw, draw(st.integers(0, 40)))
    if draw(st.integers(0, 4)) == 0:
        cluster["crashLoopBackOff"] = {
            "maxContainerRestartPeriod": duration_text(draw, draw(st.integers(1, 300)))
        }
    if draw(st.integers(0, 4)) == 0:
        cluster["reducedDecayReading"] = draw(st.sampled_from(["Literal", "Designed"]))
    if draw(st.integers(0, 3)) == 0:
        cluster["probeGridPhase"] = draw(st.sampled_from(["Uniform", "Derived"]))
    for key, low, high in (
        ("sandboxStartLatency", 10, 3_000),
        ("containerStartLatency", 10, 3_000),
        ("imagePullLatency", 100, 10_000),
    ):
        if draw(st.integers(0, 5)) == 0:
            cluster[key] = distribution(draw, low, high)
    if draw(st.integers(0, 4)) == 0:
        cluster["imagesPresent"] = False
    if draw(st.integers(0, 4)) == 0:
        cluster["syncFrequency"] = duration_text(draw, draw(st.integers(5, 120)))
    return cluster


def traffic(draw, duration: int) -> dict[str, Any]:
    """A request stream to Service ``web``."""
    stream: dict[str, Any] = {"service": "web"}
    if draw(st.booleans()):
        stream["rate"] = draw(st.integers(0, 20))
    else:
        starts = sorted(draw(st.sets(st.integers(1, duration - 1), max_size=3)))
        stream["phases"] = [
            {"from": duration_text(draw, at), "rate": draw(st.integers(0, 20))}
            for at in [0, *starts]
        ]
    if draw(st.booleans()):
        stream["port"] = draw(st.sampled_from(["http", 80]))
    if draw(st.booleans()):
        stream["arrivals"] = draw(st.sampled_from(["Poisson", "Constant"]))
    if draw(st.booleans()):
        stream["path"] = draw(st.sampled_from(["/", "/cart", "/healthz"]))
    if draw(st.booleans()):
        stream["timeout"] = duration_text(draw, draw(st.integers(1, 10)))
    if draw(st.integers(0, 5)) == 0:
        stream["recordRequests"] = True
    return stream


def endpoint_delays(draw) -> dict[str, Any]:
    """spec.endpoints with bounded delays (so that invariant 5 has a bound)."""
    low = draw(st.integers(0, 5_000)) / 1000
    return {
        "controllerDelay": distribution(draw, 0, 800, bounded=True),
        "proxyMinSyncPeriod": duration_text(draw, low),
        "proxySyncPeriod": duration_text(
            draw, max(low, 0.001) + draw(st.integers(0, 60))
        ),
        "proxyApplyLatency": distribution(draw, 0, 300, bounded=True),
    }


# ---------------------------------------------------------------------------
# Reading results


KILL_CAUSES = {
    "liveness": "failed liveness probe",
    "startup": "failed startup probe",
}
DURATION = re.compile(r"duration=([0-9.]+)s")
CONDITIONS = re.compile(r"ready=(\w+) serving=(\w+) terminating=(\w+)")


def container_rows(events: pd.DataFrame) -> pd.DataFrame:
    """Events of containers (not pod-level, Deployment or ReplicaSet events)."""
    return events[events["container"] != ""]


def kill_cause(message: str) -> str:
    """The cause named by a Killing message."""
    for cause, text in KILL_CAUSES.items():
        if text in message:
            return cause
    if message.startswith("Stopping container"):
        return "stop"
    return "other"


def deletion_requests(result: SimulationResult) -> dict[str, float]:
    """When each pod's deletion was requested.

    The pod status records carry the deletion timestamp; a pod whose status was
    not written after the request (the run ended within a blocking sync) falls
    back to its delete action, or its ReplicaSet's ``SuccessfulDelete``.
    """
    found: dict[str, float] = {}
    for status in result.recorder.statuses:
        if status.deletion_timestamp is not None and status.pod not in found:
            found[status.pod] = float(status.deletion_timestamp)
    events = result.events
    scheduled = events[events["reason"] == Reason.SCHEDULED.value]
    created = scheduled.groupby("pod")["time"].min().to_dict()
    for action in result.scenario.actions:
        if action.kind is not ActionKind.DELETE or action.pod in found:
            continue
        if action.pod in created and created[action.pod] <= action.at_seconds:
            found[action.pod] = float(action.at_seconds)
    deletes = events[events["reason"] == Reason.SUCCESSFUL_DELETE.value]
    for when, message in deletes[["time", "message"]].itertuples(index=False):
        name = str(message).removeprefix("Deleted pod: ")
        found.setdefault(name, float(when))
    return found


def probe_settings(result: SimulationResult, pod: str, container: str, kind: str):
    """The probe of a pod's container as the API server stored the pod."""
    spec = result.objects.pods.get(pod)
    if spec is None:
        return None
    for c in spec.containers:
        if c.name == container:
            return c.liveness_probe if kind == "liveness" else c.startup_probe
    return None


def distribution_max(dist) -> float:
    """The largest value a distribution gives (inf when unbounded)."""
    if dist.kind.value in ("constant", "uniform"):
        return max(dist.a, dist.b)
    return math.inf


# ---------------------------------------------------------------------------
# Invariants


def invariant_restart_counts_never_fall(result: SimulationResult) -> None:
    """R5.6: a container's restart count never falls, in event order and in status.

    The event log's ``restart_count`` is the container's count after the event
    (docs/event-log.md), and each new instance is the previous one's plus one, so
    the ``Started`` events of a container count 0, 1, 2, ...
    """
    STATS["invariant:1-restart-counts"] += 1
    rows = container_rows(result.events)
    for (pod, name), group in rows.groupby(["pod", "container"], sort=False):
        counts = list(group["restart_count"])
        falls = [(a, b) for a, b in itertools.pairwise(counts) if b < a]
        check("1-restart-counts", not falls, f"{pod}/{name} count falls: {falls[:3]}")
        started = list(group[group["reason"] == Reason.STARTED.value]["restart_count"])
        check(
            "1-restart-counts",
            started == list(range(len(started))),
            f"{pod}/{name} Started counts {started}",
        )
    last: dict[tuple[str, str], int] = {}
    for status in result.recorder.statuses:
        for c in status.containers:
            key = (status.pod, c.name)
            check(
                "1-restart-counts",
                c.restart_count >= last.get(key, 0),
                f"{key} status restart count {last.get(key)} -> {c.restart_count} "
                f"at {status.time:.6f}",
            )
            last[key] = c.restart_count


def invariant_ready_only_while_running_and_started(result: SimulationResult) -> None:
    """R7.1 (R3.5): a container is reported Ready only while running and started.

    In every pod status the API server holds, a ready container is running and
    started. On the timeline, a ready lane is a Running (or Terminating: R5.7)
    instance, and with a startup probe it begins no earlier than the instance's
    ``StartupSucceeded``.
    """
    STATS["invariant:2-ready-running-started"] += 1
    for status in result.recorder.statuses:
        for c in status.containers:
            if c.ready:
                check(
                    "2-ready-running-started",
                    c.state == "running" and c.started,
                    f"{status.pod}/{c.name} ready while {c.state}, started={c.started} "
                    f"at {status.time:.6f}",
                )
    timeline = result.timeline
    lanes = timeline[
        (timeline["container"] != "")
        & ~timeline["container"].str.startswith("service/")
        & timeline["ready"]
    ]
    events = result.events
    succeeded = (
        events[events["reason"] == Reason.STARTUP_SUCCEEDED.value]
        .groupby(["pod", "container", "restart_count"])["time"]
        .min()
        .to_dict()
    )
    probed = {
        (name, c.name)
        for name, pod in result.objects.pods.items()
        for c in pod.containers
        if c.startup_probe is not None
    }
    for lane in lanes.itertuples(index=False):
        check(
            "2-ready-running-started",
            lane.state in ("Running", "Terminating"),
            f"ready lane in state {lane.state}: {lane}",
        )
        if (lane.pod, lane.container) in probed:
            key = (lane.pod, lane.container, lane.restart_count)
            check(
                "2-ready-running-started",
                key in succeeded and lane.start >= succeeded[key] - EPS,
                f"ready before StartupSucceeded ({succeeded.get(key)}): {lane}",
            )


def invariant_no_probe_kill_after_deletion(result: SimulationResult) -> None:
    """R3.12: once a pod's deletion is requested, liveness and startup stop.

    The terminating sync stops the liveness and startup workers before it kills, so
    (a) no liveness or startup attempt starts after that sync began (its first
    ``Stopping container`` kill at or after the request, or the pod's removal); and
    (b) no liveness or startup kill happens after the request, except in a sync
    that began before it: such a sync kills one container after another (R5.2), so
    its later kills follow at once the exit of the one it killed before.
    """
    STATS["invariant:3-no-probe-kill-after-deletion"] += 1
    requested = deletion_requests(result)
    if not requested:
        return
    events = result.events
    for pod, asked in requested.items():
        mine = events[events["pod"] == pod]
        kills = mine[mine["reason"] == Reason.KILLING.value]
        stops = kills[
            kills["message"].str.startswith("Stopping container")
            & (kills["time"] >= asked - EPS)
        ]
        gone = mine[mine["reason"] == Reason.DELETED.value]
        begins = [*stops["time"], *gone["time"]]
        if begins:
            began = min(begins)
            probes = mine[
                (mine["reason"] == Reason.PROBE.value)
                & mine["probe"].isin(["liveness", "startup"])
            ]
            late = []
            for row in probes.itertuples(index=False):
                took = DURATION.search(str(row.message))
                start = row.time - (float(took.group(1)) if took else 0.0)
                if start > began + 1e-5:
                    late.append(f"{row.container} {row.probe} at {start:.6f}")
            check(
                "3-no-probe-kill-after-deletion",
                not late,
                f"{pod}: attempts started after the terminating sync began at "
                f"{began:.6f}: {late[:3]}",
            )

        # (b): the kills of a sync that began before the request, chained.
        exits = mine[mine["reason"] == Reason.EXITED.value]
        chained: set[tuple[str, float]] = set()
        last_kill: dict[str, tuple[float, str]] = {}
        for row in kills.itertuples(index=False):
            cause = kill_cause(str(row.message))
            if row.time <= asked + EPS:
                last_kill[row.container] = (row.time, cause)
                if cause != "stop":
                    chained.add((row.container, row.time))
                continue
            if cause == "stop":
                continue
            # Which container exited right now, after a kill of the same sync?
            before = [
                c
                for c in exits[(exits["time"] - row.time).abs() <= EPS]["container"]
                if c != row.container
                and c in last_kill
                and (c, last_kill[c][0]) in chained
            ]
            ok = cause == "other" or bool(before)
            check(
                "3-no-probe-kill-after-deletion",
                ok,
                f"{pod}/{row.container} {cause} kill at {row.time:.6f} after the "
                f"deletion request at {asked:.6f}",
            )
            if before:
                chained.add((row.container, row.time))
            last_kill[row.container] = (row.time, cause)


def carried_failures(
    events: pd.DataFrame, probe: str, threshold: int
) -> dict[int, int]:
    """Consecutive counted failures a worker holds as each instance starts.

    As ``tests/test_properties.py`` states it (R3.6): the run is not reset on a
    container change, only by a Success (or Warning) or when a Failure is
    published (R3.7); errors are discarded. Unlike there, attempts are placed
    where they began (end minus ``duration``), not where they were logged: an
    attempt begun on the old instance (dead, but still Running in the cached
    status, R4.5) can end, and be logged with the new count, after the new
    instance started; its failure counts toward the run the new one inherits.
    An attempt begun at the very instant of a start is taken as before it.
    """
    marks: list[tuple[float, int, str, int]] = []
    for row in events.itertuples(index=False):
        if row.reason == Reason.STARTED.value:
            marks.append((float(row.time), 1, "started", int(row.restart_count)))
        elif row.reason == Reason.PROBE.value and row.probe == probe:
            took = DURATION.search(str(row.message))
            began = float(row.time) - (float(took.group(1)) if took else 0.0)
            marks.append((began, 0, str(row.result), 0))
    run = 0
    carried: dict[int, int] = {}
    for _, _, what, instance in sorted(marks, key=lambda m: (m[0], m[1])):
        if what == "started":
            carried[instance] = run
        elif what == "failure":
            run += 1
            if run >= threshold:
                run = 0
        elif what in ("success", "warning"):
            run = 0
    return carried


def invariant_no_kill_before_first_possible_detection(result: SimulationResult) -> None:
    """R3.4 (8), R3.6, R3.7: no liveness (or startup) kill before D + (F - 1) x P.

    A worker probes no instance before ``StartedAt + initialDelaySeconds``, and
    publishes a Failure only after ``failureThreshold`` consecutive failures, one
    per tick of its period at most; failures counted before the instance started
    carry over (R3.6). So a kill of instance n comes no earlier than its start
    plus D plus (F - 1 - carried) periods (``tests/test_properties.py``).
    """
    STATS["invariant:4-no-early-kill"] += 1
    events = result.events
    kills = events[events["reason"] == Reason.KILLING.value]
    for (pod, name), group in container_rows(events).groupby(
        ["pod", "container"], sort=False
    ):
        mine = kills[(kills["pod"] == pod) & (kills["container"] == name)]
        if mine.empty:
            continue
        started = (
            group[group["reason"] == Reason.STARTED.value]
            .groupby("restart_count")["time"]
            .min()
            .to_dict()
        )
        for kind in ("liveness", "startup"):
            probe = probe_settings(result, pod, name, kind)
            wanted = mine[mine["message"].str.contains(KILL_CAUSES[kind], regex=False)]
            if wanted.empty:
                continue
            check(
                "4-no-early-kill",
                probe is not None,
                f"{pod}/{name} {kind} kill without a {kind} probe",
            )
            threshold = probe.failure_threshold
            carried = carried_failures(group, kind, threshold)
            for kill in wanted.itertuples(index=False):
                instance = int(kill.restart_count)
                missing = max(0, threshold - 1 - carried.get(instance, 0))
                earliest = (
                    started[instance]
                    + probe.initial_delay_seconds
                    + missing * probe.period_seconds
                )
                check(
                    "4-no-early-kill",
                    kill.time >= earliest - EPS,
                    f"{pod}/{name} {kind} kill of instance {instance} at "
                    f"{kill.time:.6f}, earliest possible {earliest:.6f} (started "
                    f"{started[instance]:.6f}, D={probe.initial_delay_seconds}, "
                    f"P={probe.period_seconds}, F={threshold}, carried "
                    f"{carried.get(instance, 0)})",
                )


def _intervals(
    marks: list[tuple[float, bool]], end: float
) -> list[tuple[float, float]]:
    """Intervals where a sequence of (time, on) marks is on."""
    found = []
    since = None
    for when, on in sorted(marks, key=lambda m: m[0]):
        if on and since is None:
            since = when
        elif not on and since is not None:
            found.append((since, when))
            since = None
    if since is not None:
        found.append((since, end))
    return found


def invariant_endpoints_follow_readiness(result: SimulationResult) -> None:
    """R9.2-R9.4: a pod the kubelet reports not ready stops being routed in time.

    The EndpointSlice controller lists a pod as ready only while it is Ready (and
    not terminating), after at most the controller's delay; kube-proxy programs that
    within ``proxyMinSyncPeriod`` plus its apply latency (docs/traffic.md). So no
    ``EndpointReady`` (ready=true) state lasts more than the controller's largest
    delay, and no ``ProxyRouting`` state more than controller delay max +
    minSyncPeriod + apply latency max, into an interval where the pod status says
    not Ready. Services publishing not-ready addresses are left out.
    """
    spec = result.scenario.endpoints
    controller = distribution_max(spec.controller_delay)
    bound = (
        controller
        + spec.proxy_min_sync_seconds
        + distribution_max(spec.proxy_apply_latency)
    )
    if math.isinf(bound) or not result.scenario.services:
        return
    STATS["invariant:5-endpoints-follow-readiness"] += 1
    skipped = {
        s.name for s in result.scenario.services if s.publish_not_ready_addresses
    }
    end = result.scenario.duration_seconds
    ready_marks: dict[str, list[tuple[float, bool]]] = defaultdict(list)
    for status in result.recorder.statuses:
        ready_marks[status.pod].append((float(status.time), bool(status.ready)))
    not_ready: dict[str, list[tuple[float, float]]] = {}
    events = result.events
    scheduled = events[events["reason"] == Reason.SCHEDULED.value]
    for pod, when in scheduled.groupby("pod")["time"].min().items():
        marks = [(float(when), False), *ready_marks.get(str(pod), [])]
        not_ready[str(pod)] = _intervals([(t, not on) for t, on in marks], end)

    claims: dict[tuple[str, str, str], list[tuple[float, bool]]] = defaultdict(list)
    kinds = {
        Reason.ENDPOINT_READY.value: "endpoint",
        Reason.ENDPOINT_NOT_READY.value: "endpoint",
        Reason.ENDPOINT_REMOVED.value: "endpoint",
        Reason.PROXY_ROUTING.value: "proxy",
        Reason.PROXY_NOT_ROUTING.value: "proxy",
    }
    rows = events[events["reason"].isin(list(kinds))]
    for when, pod, reason, message in rows[
        ["time", "pod", "reason", "message"]
    ].itertuples(index=False):
        service = str(message).split()[0].removeprefix("service=")
        if service in skipped:
            continue
        if reason == Reason.ENDPOINT_READY.value:
            match = CONDITIONS.search(str(message))
            on = bool(match) and match.group(1) == "true"
        else:
            on = reason == Reason.PROXY_ROUTING.value
        claims[(kinds[reason], service, str(pod))].append((float(when), on))

    for (kind, service, pod), marks in claims.items():
        allowed = controller if kind == "endpoint" else bound
        for start, stop in _intervals(marks, end):
            for low, high in not_ready.get(pod, []):
                overlap = min(stop, high) - max(start, low + allowed)
                check(
                    "5-endpoints-follow-readiness",
                    overlap <= 1e-5,
                    f"{kind} of service {service} keeps pod {pod} ready from "
                    f"{start:.6f} to {stop:.6f}, but the pod is not Ready from "
                    f"{low:.6f} to {high:.6f} (allowed lag {allowed:.3f}s)",
                )


def changes_filter(events: list[EventRecord]) -> list[EventRecord]:
    """The ``changes`` level's rule (``sim.trace.ListRecorder.record``), replayed.

    A probe attempt is kept only when its result differs from the previous attempt
    of the same (pod, container, probe); every other event is kept.
    """
    last: dict[tuple[str, str, str], str] = {}
    kept = []
    for event in events:
        if event.reason is Reason.PROBE:
            key = (event.pod, event.container, event.probe)
            if last.get(key) == event.result:
                continue
            last[key] = event.result
        kept.append(event)
    return kept


def metrics_filter(events: list[EventRecord]) -> list[EventRecord]:
    """The ``metrics`` level keeps neither probe attempts nor per-request events."""
    return [e for e in events if e.reason not in (Reason.PROBE, Reason.REQUEST)]


def summary_bytes(result: SimulationResult) -> bytes:
    """The summary as ``summary.json`` would hold it."""
    return json.dumps(result.summary, sort_keys=True, default=str).encode()


def status_history(result: SimulationResult) -> list[Any]:
    """The pod statuses stored, without those that only repeat the pod's last one.

    A status equal to the pod's previous one but for its time is left out: the
    periodic syncs (R11.2) that find nothing to do store such copies, and with the
    fast path on the kubelet may sleep through them.
    """
    last: dict[str, Any] = {}
    kept = []
    for status in result.recorder.statuses:
        content = dataclasses.replace(status, time=0.0)
        if last.get(status.pod) != content:
            kept.append(status)
        last[status.pod] = content
    return kept


def invariant_same_seed_same_bytes(first: SimulationResult, again: SimulationResult):
    """Determinism (docs/fidelity.md, conventions): the same seed, the same bytes.

    Every draw comes from the run's seeded generator, so two runs of one scenario
    with one seed give byte-identical event logs, request counts, pod statuses
    and summaries.
    """
    STATS["invariant:6-determinism"] += 1
    name = "6-determinism"
    check(name, first.events.to_csv().encode() == again.events.to_csv().encode(),
          _first_difference(first.events, again.events))  # fmt: skip
    check(name, first.requests.to_csv() == again.requests.to_csv(), "request counts")
    check(name, first.recorder.statuses == again.recorder.statuses, "pod statuses")
    check(name, summary_bytes(first) == summary_bytes(again), "summary differs")


def invariant_record_levels_agree(
    full: SimulationResult, changes: SimulationResult, metrics: SimulationResult
) -> None:
    """Record levels (sim/trace.py RecordLevel): less of the log, never other facts.

    The ``changes`` log is the ``all`` log without the probe attempts whose
    result equals the previous attempt's for the same (pod, container, probe);
    the ``metrics`` log is the ``all`` log without probe attempts and per-request
    events. Metrics, summary, request counts and the history of pod statuses are
    the same at every level (``status_history``: a periodic sync that changes
    nothing stores the same status again, and the kubelet's fast path may skip
    such syncs, which the ``all`` level keeps).
    """
    STATS["invariant:6-record-levels"] += 1
    name = "6-record-levels"
    for level, lean, keep in (
        ("changes", changes, changes_filter),
        ("metrics", metrics, metrics_filter),
    ):
        want = events_frame(keep(full.recorder.events), full.run)
        check(
            name,
            want.to_csv().encode() == lean.events.to_csv().encode(),
            f"{level} log is not the filtered all log: "
            + _first_difference(want, lean.events),
        )
        check(
            name,
            full.metrics.to_csv() == lean.metrics.to_csv(),
            f"{level} metrics differ: " + _first_difference(full.metrics, lean.metrics),
        )
        check(
            name,
            summary_bytes(full) == summary_bytes(lean),
            f"{level} summary differs: {_dict_difference(full.summary, lean.summary)}",
        )
        check(name, full.requests.to_csv() == lean.requests.to_csv(),
              f"{level} request counts differ")  # fmt: skip
        check(
            name,
            status_history(full) == status_history(lean),
            f"{level} pod statuses differ: "
            + _status_difference(status_history(full), status_history(lean)),
        )


def invariant_fast_path_changes_nothing(
    fast: SimulationResult, slow: SimulationResult
) -> None:
    """The fast path (sim/kube/prober/worker.py) changes no result at level changes.

    A worker skips only ticks whose attempts would repeat the last result, and the
    skipped attempts consume the draws they would have made, so ``fast_path=True``
    and ``fast_path=False`` give the same ``changes`` log, metrics, request counts,
    history of pod statuses (``status_history``) and summary.
    """
    STATS["invariant:6-fast-path"] += 1
    name = "6-fast-path"
    check(
        name,
        fast.events.to_csv().encode() == slow.events.to_csv().encode(),
        "events differ: " + _first_difference(slow.events, fast.events),
    )
    check(
        name,
        fast.metrics.to_csv() == slow.metrics.to_csv(),
        "metrics differ: " + _first_difference(slow.metrics, fast.metrics),
    )
    check(
        name,
        fast.requests.to_csv() == slow.requests.to_csv(),
        "requests differ: " + _first_difference(slow.requests, fast.requests),
    )
    check(
        name,
        status_history(fast) == status_history(slow),
        "pod statuses differ: "
        + _status_difference(status_history(slow), status_history(fast)),
    )
    check(
        name,
        summary_bytes(fast) == summary_bytes(slow),
        f"summary differs: {_dict_difference(slow.summary, fast.summary)}",
    )


def _first_difference(want: pd.DataFrame, got: pd.DataFrame) -> str:
    """Where two frames differ; says so when only float rounding (of times) does."""
    a = want.to_csv(index=False).splitlines()
    b = got.to_csv(index=False).splitlines()
    if want.shape == got.shape and list(want.columns) == list(got.columns):
        x, y = want.reset_index(drop=True), got.reset_index(drop=True)
        floats = [c for c in x.columns if pd.api.types.is_float_dtype(x[c])]
        others = [c for c in x.columns if c not in floats]
        drift = max(
            [float((x[c] - y[c]).abs().max()) for c in floats if len(x)] or [0.0]
        )
        nans = all((x[c].isna() == y[c].isna()).all() for c in floats)
        if x[others].equals(y[others]) and nans and drift <= ROUNDING:
            rows = sum(p != q for p, q in zip(a, b, strict=True))
            return (
                f"only float rounding ({rows} rows, largest difference "
                f"{drift:.3g}); first at " + _first_line(a, b)
            )
    return _first_line(a, b)


def _first_line(a: list[str], b: list[str]) -> str:
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"row {index}:\n  want {x}\n  got  {y}"
    return f"lengths differ: {len(a)} vs {len(b)} rows"


def _dict_difference(a: dict, b: dict, prefix: str = "") -> str:
    for key in sorted(set(a) | set(b), key=str):
        x, y = a.get(key), b.get(key)
        if isinstance(x, dict) and isinstance(y, dict):
            found = _dict_difference(x, y, f"{prefix}{key}.")
            if found:
                return found
        elif json.dumps(x, default=str) != json.dumps(y, default=str):
            return f"{prefix}{key}: {x!r} != {y!r}"
    return ""


def _status_difference(a: list, b: list) -> str:
    """Where two lists of pod status records differ (rounding of times told apart)."""
    if len(a) == len(b) and all(
        _same_but_time(x, y) for x, y in zip(a, b, strict=True)
    ):
        rows = sum(x != y for x, y in zip(a, b, strict=True))
        return f"only float rounding of times ({rows} records)"
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"record {index}:\n  want {x}\n  got  {y}"
    return f"lengths differ: {len(a)} vs {len(b)}"


def _same_but_time(x: Any, y: Any) -> bool:
    """Whether two records are equal up to float rounding of their times."""
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y)) or abs(x - y) <= ROUNDING
    if isinstance(x, tuple) and isinstance(y, tuple):
        return len(x) == len(y) and all(
            _same_but_time(p, q) for p, q in zip(x, y, strict=True)
        )
    if dataclasses.is_dataclass(x) and type(x) is type(y):
        return all(
            _same_but_time(getattr(x, f.name), getattr(y, f.name))
            for f in dataclasses.fields(x)
        )
    return x == y


# ---------------------------------------------------------------------------
# The test


def read(case: Case, via_file: bool) -> sim.Scenario:
    """Read the generated text the way a user's file is read."""
    if not via_file:
        return sim.Scenario.from_yaml(case.text, "fuzz.yaml")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(case.text)
        return sim.load_scenario(path)


def simulate(
    scenario: sim.Scenario, seed: int, level: str, fast_path: bool | None = None
) -> SimulationResult:
    """Run once, counting the run (``fast_path`` None: the level's default)."""
    STATS["simulations"] += 1
    return sim.simulate(
        scenario, seed=seed, record=RecordLevel(level), fast_path=fast_path
    )


def features(result: SimulationResult) -> None:
    """Count what the runs exercised, so the report shows the coverage."""
    reasons = set(result.events["reason"])
    for reason in (
        "Killing", "BackOff", "Unhealthy", "PodReady", "StartupSucceeded",
        "EndpointReady", "ProxyRouting", "Fault", "Deleted", "ConditionSet",
        "ScalingReplicaSet", "ProgressDeadlineExceeded", "Request",
    ):  # fmt: skip
        if reason in reasons:
            STATS[f"feature:{reason}"] += 1


@FUZZ_SETTINGS
@(seed(int(FUZZ_SEED)) if FUZZ_SEED else lambda test: test)
@given(case=scenario_files())
def test_model_invariants_hold_for_random_scenarios(case: Case) -> None:
    if not _STARTED:
        _STARTED.append(time.perf_counter())
    note(f"seed={case.seed}\n{case.text}")
    STATS["scenarios"] += 1
    scenario = read(case, case.via_file)
    full = simulate(scenario, case.seed, "all")
    features(full)

    invariant_restart_counts_never_fall(full)
    invariant_ready_only_while_running_and_started(full)
    invariant_no_probe_kill_after_deletion(full)
    invariant_no_kill_before_first_possible_detection(full)
    invariant_endpoints_follow_readiness(full)

    # The second run reads the file afresh, the other way.
    again = simulate(read(case, not case.via_file), case.seed, "all")
    invariant_same_seed_same_bytes(full, again)
    changes = simulate(scenario, case.seed, "changes")
    metrics = simulate(scenario, case.seed, "metrics")
    invariant_record_levels_agree(full, changes, metrics)
    slow = simulate(scenario, case.seed, "changes", fast_path=False)
    invariant_fast_path_changes_nothing(changes, slow)


# ---------------------------------------------------------------------------
# Regressions the fuzzing found

LATE_POD = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: late}}
spec:
  readinessGates:
  - conditionType: {GATE_TYPE}
  containers:
  - name: app
    image: {IMAGE}
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: late}}
spec:
  duration: 30s
  actions:
  - at: 2s
    setImage: {{pod: late, container: app, image: registry.example.com/app:2}}
  - {{at: 3s, setCondition: {{pod: late, type: {GATE_TYPE}, status: "True"}}}}
  - {{at: 5s, create: {{pod: late}}}}
"""


def test_set_image_and_condition_before_the_pod_exists_change_nothing() -> None:
    """``setImage`` and ``setCondition`` on a pod not created yet are no-ops.

    They used to raise ``KeyError`` in ``sim/kube/apiserver.py`` (the API server
    answers NotFound; ``delete`` and ``fault`` already ignored such a pod).
    """
    result = sim.simulate(sim.Scenario.from_yaml(LATE_POD, "late.yaml"), seed=1)
    events = result.events
    assert events[events["reason"] == Reason.SCHEDULED.value]["time"].min() == 5.0
    assert Reason.CONDITION_SET.value not in set(events["reason"])
    assert result.objects.pods["late"].containers[0].image == IMAGE
    assert (events["reason"] == Reason.STARTED.value).sum() == 1


CRASH_TWICE = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  containers:
  - name: app
    image: {IMAGE}
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: crash-twice}}
spec:
  duration: 60s
  actions:
  - {{at: 20s, fault: {{pod: web, container: app, crash: {{}}}}}}
  - {{at: 40s, fault: {{pod: web, container: app, crash: {{}}}}}}
  - {{at: 40.001s, fault: {{pod: web, container: app, hang: {{}}}}}}
"""


def test_a_fault_between_instances_keeps_the_restart_count() -> None:
    """A ``Fault`` event while no instance runs carries the newest one's count.

    ``restart_count`` never falls (docs/event-log.md, R5.6); a fault struck
    between an exit and the restart was logged with count 0.
    """
    events = sim.simulate(sim.Scenario.from_yaml(CRASH_TWICE, "c.yaml"), seed=1).events
    faults = events[events["reason"] == Reason.FAULT.value]
    assert list(faults["restart_count"]) == [0, 1, 1]
    invariant_restart_counts_never_fall(
        sim.simulate(sim.Scenario.from_yaml(CRASH_TWICE, "c.yaml"), seed=1)
    )


NEVER_RESTARTED = f"""\
apiVersion: v1
kind: Pod
metadata: {{name: web}}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: {IMAGE}
  - name: side
    image: {IMAGE}
    livenessProbe:
      exec: {{command: [/bin/check]}}
      periodSeconds: 5
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: never-restarted}}
spec:
  duration: 60s
  behaviours:
  - {{pod: web, container: side, exit: {{after: 3s, code: 1}}}}
"""


def test_a_probed_container_that_never_restarts_ends_its_workers_once() -> None:
    """A dead container under ``restartPolicy: Never`` gets no new probe workers.

    Its liveness worker ends (R3.4 (6)); each sync made a new one, whose Failure
    asked for another sync at the same instant, for ever: the run never ended.
    It runs in a child process, so that a relapse fails instead of hanging.
    """
    code = (
        "import sys, sim\n"
        "scenario = sim.Scenario.from_yaml(sys.stdin.read())\n"
        "events = sim.simulate(scenario, seed=1).events\n"
        "print((events['reason'] == 'Exited').sum())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        input=NEVER_RESTARTED,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "1"
