"""What ``kubectl`` would show at any instant of a simulated run.

``describe_pod``, ``describe_pods``, ``get_pods``, ``get_serviceaccounts`` and
``get_secrets`` read a ``SimulationResult`` (the objects the API server stored,
the pod statuses the kubelet wrote, the event log) and print what the same
``kubectl`` command prints at ``at_seconds``, in kubectl's own layout.

Modules, one concept each:

- ``tabwriter``: Go's ``text/tabwriter`` (``tabwrite``) and describe's indents;
- ``events_table``: the Event objects the event recorder leaves in the API
  (``fold_events``: aggregation, counting, spam filter, TTL) and their table;
- ``instant``: what the API server holds at one instant (pods, statuses, events);
- ``containers``: the pod spec part of describe (containers, probes, volumes);
- ``describe``: ``kubectl describe pod``;
- ``get``: ``kubectl get pods|serviceaccounts|secrets``.

Only the events Kubernetes itself records are shown; the simulator's own reasons
(``Probe``, ``Exited``, ``ContainerReady``, ...) are not. ``docs/kubectl-views.md``
lists what is approximated.
"""

from __future__ import annotations

from sim.analysis.kubectl.containers import describe_probe
from sim.analysis.kubectl.describe import describe_pod, describe_pods
from sim.analysis.kubectl.events_table import (
    AGGREGATE_INTERVAL_SECONDS,
    AGGREGATE_MAX_EVENTS,
    EVENT_TTL_SECONDS,
    KUBELET,
    NORMAL,
    SCHEDULER,
    SPAM_BURST,
    SPAM_QPS,
    WARNING,
    KubeEvent,
    fold_events,
)
from sim.analysis.kubectl.get import get_pods, get_secrets, get_serviceaccounts
from sim.analysis.kubectl.instant import (
    NAMESPACE,
    NO_RESOURCES,
    NODE_IP,
    NODE_NAME,
    PodNotFoundError,
)
from sim.analysis.kubectl.tabwriter import tabwrite

__all__ = [
    "AGGREGATE_INTERVAL_SECONDS",
    "AGGREGATE_MAX_EVENTS",
    "EVENT_TTL_SECONDS",
    "KUBELET",
    "NAMESPACE",
    "NODE_IP",
    "NODE_NAME",
    "NORMAL",
    "NO_RESOURCES",
    "SCHEDULER",
    "SPAM_BURST",
    "SPAM_QPS",
    "WARNING",
    "KubeEvent",
    "PodNotFoundError",
    "describe_pod",
    "describe_pods",
    "describe_probe",
    "fold_events",
    "get_pods",
    "get_secrets",
    "get_serviceaccounts",
    "tabwrite",
]
