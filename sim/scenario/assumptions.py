"""Behaviours against the pods they apply to: inference and what is assumed.

Once the Scenario document is read, every container of a pod, or of a Deployment's
template, either has a behaviour, gets one inferred from its manifest
(``inference``), or is assumed healthy. ``with_assumptions`` does that and warns
about what the model has to assume: probes a behaviour does not describe (recorded
in ``Behaviour.assumed``) and named ports a behaviour uses that the container does
not have.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sim.scenario.behaviour import Behaviour
from sim.scenario.context import Ctx, Reporter
from sim.scenario.document import Scenario
from sim.scenario.inference import infer_behaviour
from sim.scenario.pods import PROBE_FIELD_OF
from sim.scenario.scenario_doc import KIND, ScenarioSettings
from sim.scenario.spec import Container, ExecAction, Pod, ProbeType
from sim.scenario.yamlio import item_line


@dataclass(frozen=True)
class Subject:
    """What behaviours apply to: a Pod, or a Deployment's template.

    ``data`` is the YAML holding ``spec.containers`` (the Pod document, or the
    Deployment's ``spec.template``), for the lines of the containers. A template's
    ``Pod`` carries the Deployment's name, as behaviours name it.
    """

    pod: Pod
    data: Any
    kind: str = "Pod"

    @property
    def label(self) -> str:
        """How messages name it: ``Pod "web"`` or ``Deployment "web"``."""
        return f'{self.kind} "{self.pod.name}"'

    @property
    def noun(self) -> str:
        """The kind inside a sentence: ``pod`` or ``Deployment``."""
        return "pod" if self.kind == "Pod" else self.kind


def no_behaviour_warning(pod: str, container: str, kind: str = "Pod") -> str:
    """Return the warning for a probed container that no behaviour describes.

    The notes of ``sim.scenario.inference`` follow it: what was read from the
    manifest, and what is assumed. ``kind`` is ``Deployment`` for a container of a
    Deployment's template (``pod`` is then the Deployment's name).
    """
    return (
        f'{kind} "{pod}" container "{container}": no behaviour given; reading it '
        "from the manifest"
    )


def with_assumptions(
    reporter: Reporter,
    subjects: list[Subject],
    settings: ScenarioSettings | None,
) -> tuple[Behaviour, ...]:
    """Check the behaviours against the pods and templates they apply to.

    Infers the behaviour of containers that none describes (``_inferred``), then
    warns about probes a behaviour does not describe (recorded in
    ``Behaviour.assumed``) and about named ports a behaviour uses that the container
    does not have.
    """
    if settings is None:
        return ()
    behaviours = settings.behaviours + _inferred(reporter, subjects, settings)
    pods = tuple(subject.pod for subject in subjects)
    scenario = Scenario(settings.name, pods, behaviours=behaviours)
    index_of = {id(b): i for i, b in enumerate(settings.behaviours)}
    label = f'{KIND} "{settings.name}"'
    assumed: dict[int, list[str]] = {}
    for subject in subjects:
        for container in subject.pod.containers:
            behaviour = scenario.behaviour_for(subject.pod.name, container.name)
            if behaviour is None:
                continue
            if id(behaviour) in index_of:
                path = f"spec.behaviours[{index_of[id(behaviour)]}]"
                ctx = Ctx(reporter, label, path, behaviour.source_line)
            else:
                ctx = Ctx(reporter, "", "", behaviour.source_line)
            for text in _unknown_ports(subject, container, behaviour):
                ctx.warn(text)
            found = assumed.setdefault(id(behaviour), [])
            for text in _assumptions(subject, container, behaviour):
                if text not in found:
                    found.append(text)
                    ctx.warn(text)
    return tuple(
        dataclasses.replace(b, assumed=tuple(assumed.get(id(b), ())))
        for b in behaviours
    )


def _inferred(
    reporter: Reporter, subjects: list[Subject], settings: ScenarioSettings
) -> tuple[Behaviour, ...]:
    """Infer the behaviour of every container that no behaviour describes.

    The notes of each inference are warnings at the container's line, so that
    validate lists what was read from the manifest and what is assumed. A container
    without probes whose behaviour cannot be inferred needs none: no warning. When
    a Pod and a Deployment share a name, the first inferred behaviour of a
    container name stands for both (a behaviour's ``pod`` names either).
    """
    pods = tuple(subject.pod for subject in subjects)
    given = Scenario(settings.name, pods, behaviours=settings.behaviours)
    found: list[Behaviour] = []
    for subject in subjects:
        pod = subject.pod
        for container in pod.containers:
            if given.behaviour_for(pod.name, container.name) is not None:
                continue
            if any((b.pod, b.container) == (pod.name, container.name) for b in found):
                continue
            line = _container_line(subject.data, pod, container.name)
            ctx = Ctx(reporter, "", "", line)
            inference = infer_behaviour(pod, container, settings.duration_seconds)
            probed = bool(_probes(container))
            if probed:
                ctx.warn(no_behaviour_warning(pod.name, container.name, subject.kind))
            if inference.behaviour is None and not probed:
                continue
            for note in inference.notes:
                ctx.warn(f"{subject.label} {note}")
            if inference.behaviour is not None:
                behaviour = dataclasses.replace(inference.behaviour, source_line=line)
                found.append(behaviour)
    return tuple(found)


def _unknown_ports(
    subject: Subject, container: Container, behaviour: Behaviour
) -> list[str]:
    """Warn about named ports of a behaviour that the container does not have."""
    names = {port.name for port in container.ports if port.name}
    found = []
    for kind, entries in (
        ("http", behaviour.http),
        ("tcp", behaviour.tcp),
        ("grpc", behaviour.grpc),
    ):
        for entry in entries:
            if isinstance(entry.port, str) and entry.port not in names:
                found.append(
                    f'{kind} port "{entry.port}" is not a port name of container '
                    f'"{container.name}" of {subject.noun} "{subject.pod.name}": '
                    "the entry never matches"
                )
    return found


def _probes(container: Container) -> list[tuple[ProbeType, Any]]:
    found = []
    for probe_type in PROBE_FIELD_OF:
        probe = container.probe(probe_type)
        if probe is not None:
            found.append((probe_type, probe))
    return found


def _assumptions(
    subject: Subject, container: Container, behaviour: Behaviour
) -> list[str]:
    """List what the model assumes for probes the behaviour does not describe."""
    found = []
    who = f'{subject.label} container "{container.name}"'
    for probe_type, probe in _probes(container):
        handler = probe.handler
        if isinstance(handler, ExecAction):
            described = behaviour.files or any(
                not entry.command or entry.command == handler.command
                for entry in behaviour.exec
            )
            if not described:
                found.append(
                    f"{who}: the behaviour does not describe the {probe_type.value} "
                    f"probe command {list(handler.command)}; assuming it succeeds "
                    "at once"
                )
        elif not (behaviour.http or behaviour.tcp or behaviour.grpc):
            found.append(
                f"{who}: the behaviour describes no port; assuming the "
                f"{probe_type.value} probe succeeds at once"
            )
    return found


def _container_line(data: Any, pod: Pod, name: str) -> int:
    """Line of a container's entry in its document (the pod's line if lost)."""
    containers = data["spec"]["containers"] if data is not None else []
    for index, container in enumerate(containers):
        if container.get("name") == name:
            return item_line(containers, index)
    return pod.source_line
