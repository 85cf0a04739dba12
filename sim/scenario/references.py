"""What the Scenario document may name: the pods, containers and workloads of a file.

The reader collects the manifests of a file into a ``References`` and puts it in
``Reporter.context`` before it reads the Scenario document; the checks here report
a name that nothing has, with a did-you-mean, worded like the API server's
``Not found``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sim.scenario.accounts import Accounts
from sim.scenario.context import INVALID
from sim.scenario.fields import Values
from sim.scenario.spec import Pod
from sim.scenario.workloads import Workloads


@dataclass
class References:
    """The manifests of the file, for checking what the Scenario document names.

    ``containers_of`` also lists pods that failed to read (from their raw YAML), so
    one broken pod does not turn every reference to it into a second error.
    ``accounts`` holds the ServiceAccount and Secret manifests (a generated secret
    may not take a manifest's name); ``workloads`` the Services and Deployments.
    """

    pods: dict[str, Pod] = field(default_factory=dict)
    containers_of: dict[str, list[str]] = field(default_factory=dict)
    accounts: Accounts = field(default_factory=Accounts)
    workloads: Workloads = field(default_factory=Workloads)

    def add(self, name: str, containers: list[str], pod: Pod | None = None) -> None:
        """Record a pod (``pod`` None when it failed to read)."""
        self.containers_of.setdefault(name, containers)
        if pod is not None:
            self.pods.setdefault(name, pod)

    def containers(self, pod: str = "") -> list[str]:
        """Container names of one pod, or of every pod (init containers included)."""
        pods = [pod] if pod else list(self.containers_of)
        names = [c for p in pods for c in self.containers_of.get(p, [])]
        return list(dict.fromkeys(names))

    def owners(self) -> dict[str, dict[str, list[str]]]:
        """What a behaviour's ``pod`` may name: pods, and Deployments if any.

        Maps the kind (``pod``, ``Deployment``) to names and their containers.
        """
        found = {"pod": self.containers_of}
        if self.workloads.template_containers:
            found["Deployment"] = self.workloads.template_containers
        return found


def references_of(values: Values) -> References | None:
    """The ``References`` of the file being read, or None outside a file."""
    context = values.ctx.reporter.context
    return context if isinstance(context, References) else None


def check_pod_reference(values: Values, pod_key: str = "pod") -> bool:
    """Report a pod name that no pod has; return whether the name is known."""
    refs = references_of(values)
    pod = values[pod_key]
    if refs is None or not pod or pod is INVALID:
        return refs is not None
    if pod in refs.containers_of:
        return True
    values.at(pod_key).not_found(pod, "no pod of that name", refs.containers_of)
    return False


def check_container_reference(values: Values, pod: str = "") -> None:
    """Report a container name that the pod (or no pod) has."""
    refs = references_of(values)
    container = values["container"]
    if refs is None or container is INVALID or (pod and pod not in refs.containers_of):
        return
    names = refs.containers(pod)
    if container not in names:
        where = f'pod "{pod}"' if pod else "any pod"
        values.at("container").not_found(
            container, f"no container of that name in {where}", names
        )


def check_behaviour_reference(values: Values) -> None:
    """A behaviour's ``pod`` names a pod or a Deployment, ``container`` one of theirs.

    A Deployment's name stands for all its pods (they get generated names). Without
    Deployments in the file the messages speak of pods alone.
    """
    refs = references_of(values)
    pod, container = values["pod"], values["container"]
    if refs is None or pod is INVALID:
        return
    owners = refs.owners()
    what = " or ".join(owners)
    if pod and all(pod not in names for names in owners.values()):
        candidates = [name for names in owners.values() for name in names]
        values.at("pod").not_found(pod, f"no {what} of that name", candidates)
        return
    if container is INVALID:
        return
    chosen = {kind: of for kind, of in owners.items() if not pod or pod in of}
    names = list(
        dict.fromkeys(
            c
            for of in chosen.values()
            for name, containers in of.items()
            if not pod or name == pod
            for c in containers
        )
    )
    if container in names:
        return
    where = f'{" or ".join(chosen)} "{pod}"' if pod else f"any {what}"
    values.at("container").not_found(
        container, f"no container of that name in {where}", names
    )
