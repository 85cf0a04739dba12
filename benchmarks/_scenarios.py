"""Scenarios the benchmarks generate, written as scenario YAML and read by ``sim``.

``healthy_pod`` is one pod whose TCP probes always succeed; ``fleet`` is many pods
made by Deployments behind Services, with HTTP probes, traffic and hang faults.
Both go through the scenario reader, as a user's file would.
"""

from __future__ import annotations

import math
from typing import Any

from _common import seconds_text

import sim


def healthy_pod_yaml(periods: dict[str, int], duration_seconds: float) -> str:
    """One pod with TCP probes (``{"liveness": 1}``...) on a port always listening."""
    probes = "".join(
        f"    {kind}Probe:\n"
        f"      tcpSocket: {{port: 8080}}\n"
        f"      periodSeconds: {period}\n"
        for kind, period in periods.items()
    )
    return f"""\
apiVersion: v1
kind: Pod
metadata: {{name: bench}}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1
    ports: [{{containerPort: 8080}}]
{probes}---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: bench-healthy-pod}}
spec:
  duration: {seconds_text(duration_seconds)}
  behaviours:
  - container: app
    tcp: [{{port: 8080}}]
    sigterm: {{exitAfter: 10ms, exitCode: 0}}
"""


def healthy_pod(periods: dict[str, int], duration_seconds: float) -> sim.Scenario:
    """``healthy_pod_yaml`` read into a scenario."""
    return sim.Scenario.from_yaml(
        healthy_pod_yaml(periods, duration_seconds), "<healthy-pod>"
    )


def fleet_yaml(
    pods: int,
    duration_seconds: float,
    replicas: int = 100,
    rate_per_service: float = 20.0,
    hang_every_seconds: float = 600.0,
) -> str:
    """``pods`` pods as Deployments of ``replicas`` each, one Service per Deployment.

    Each pod has an HTTP readiness probe (period 5 s) and an HTTP liveness probe
    (period 10 s) on an application answering in about 10 ms. Each Service gets
    Poisson traffic at ``rate_per_service`` requests per second from 30 s on. Every
    ``hang_every_seconds`` (staggered across Deployments), the oldest live pod of
    each Deployment hangs for two minutes: readiness takes it out of its Service,
    liveness restarts it.
    """
    deployments = max(1, math.ceil(pods / replicas))
    documents = []
    for index in range(deployments):
        name = f"web-{index:03d}"
        size = min(replicas, pods - index * replicas)
        documents.append(f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {size}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: web
        image: registry.example.com/web:1
        ports: [{{name: http, containerPort: 8080}}]
        readinessProbe:
          httpGet: {{path: /healthz, port: http}}
          periodSeconds: 5
          failureThreshold: 3
        livenessProbe:
          httpGet: {{path: /healthz, port: http}}
          periodSeconds: 10
          failureThreshold: 3
---
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  selector: {{app: {name}}}
  ports: [{{name: http, port: 80, targetPort: http}}]
""")
    traffic = "".join(
        f"  - service: web-{index:03d}\n"
        f"    phases: [{{from: 0s, rate: 0}}, "
        f"{{from: 30s, rate: {rate_per_service:g}}}]\n"
        f"    timeout: 3s\n"
        for index in range(deployments)
    )
    actions = "".join(
        f"  - {{at: {at:g}s, fault: {{pod: web-{index:03d}, container: web, "
        f"hang: {{for: 2m}}}}}}\n"
        for index in range(deployments)
        for at in _fault_times(index, deployments, duration_seconds, hang_every_seconds)
    )
    scenario = f"""\
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {{name: bench-fleet}}
spec:
  duration: {seconds_text(duration_seconds)}
  behaviours:
  - container: web
    http:
    - port: http
      responses: [{{status: 200, latency: {{median: 10ms, p99: 100ms}}}}]
    sigterm: {{exitAfter: 200ms, exitCode: 2}}
  traffic:
{traffic}"""
    if actions:
        scenario += f"  actions:\n{actions}"
    return "---\n".join([*documents, scenario])


def _fault_times(
    index: int, deployments: int, duration_seconds: float, every_seconds: float
) -> list[float]:
    """When Deployment ``index`` gets a hang: every period, staggered, from 60 s."""
    offset = 60.0 + every_seconds * index / deployments
    count = max(0, math.ceil((duration_seconds - offset) / every_seconds))
    return [round(offset + k * every_seconds, 3) for k in range(count)]


def fleet(pods: int, duration_seconds: float, **options: Any) -> sim.Scenario:
    """``fleet_yaml`` read into a scenario."""
    return sim.Scenario.from_yaml(
        fleet_yaml(pods, duration_seconds, **options), "<fleet>"
    )
