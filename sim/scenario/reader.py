"""Reading a scenario file: YAML documents in, a validated ``Scenario`` out.

A scenario file holds Kubernetes manifests and one ``kind: Scenario`` document. The
reader loads every document, reads Pods (``pods``), ServiceAccounts and Secrets
(``accounts``) and the Scenario document (``scenario_doc``) through their field
tables, keeps the manifests it does not simulate yet, checks what the documents say
about each other, infers the behaviour of containers that none describes
(``inference``), and either returns the ``Scenario`` (with its warnings) or raises
``ScenarioError`` listing every error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sim.scenario.accounts import ACCOUNT_KINDS
from sim.scenario.behaviour import Behaviour
from sim.scenario.context import Ctx, Reporter
from sim.scenario.document import Scenario
from sim.scenario.errors import Problem, ScenarioError, Severity
from sim.scenario.inference import infer_behaviour
from sim.scenario.pods import PROBE_FIELD_OF, read_pod
from sim.scenario.scenario_doc import (
    API_VERSION,
    KIND,
    References,
    ScenarioSettings,
    read_scenario_document,
)
from sim.scenario.spec import (
    Container,
    ExecAction,
    KubeObject,
    Pod,
    ProbeType,
)
from sim.scenario.yamlio import (
    YamlDocument,
    document_label,
    is_mapping,
    is_sequence,
    item_line,
    load_documents,
    plain,
)

SIMULATED_KINDS = ("Pod", *ACCOUNT_KINDS)
KEPT_KINDS = (
    "Service",
    "Deployment",
    "ReplicaSet",
    "ConfigMap",
)
LIST_KIND = "List"


def no_behaviour_warning(pod: str, container: str) -> str:
    """Return the warning for a probed container that no behaviour describes.

    The notes of ``sim.scenario.inference`` follow it: what was read from the
    manifest, and what is assumed.
    """
    return (
        f'Pod "{pod}" container "{container}": no behaviour given; reading it from '
        "the manifest"
    )


def read_scenario_text(text: str, source: str = "<string>") -> Scenario:
    """Read a scenario from YAML text.

    Parameters
    ----------
    text
        The whole file: manifests and the Scenario document, separated by ``---``.
    source
        File name used in problems and kept in ``Scenario.source``.

    Returns
    -------
    Scenario
        With every default filled in; ``warnings`` holds the rendered warnings.

    Raises
    ------
    ScenarioError
        When any error was found; it lists all of them.
    """
    scenario, problems = _read(text, source)
    errors = [p for p in problems if p.is_error]
    if errors or scenario is None:
        raise ScenarioError(errors, [p for p in problems if not p.is_error])
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read a scenario file.

    Raises
    ------
    ScenarioError
        When the file cannot be read or holds errors.
    """
    text, problem = _read_file(path)
    if problem is not None:
        raise ScenarioError([problem])
    return read_scenario_text(text, str(path))


def validate_file(path: str | Path) -> list[Problem]:
    """Return every error and warning of a scenario file, without raising."""
    text, problem = _read_file(path)
    if problem is not None:
        return [problem]
    return _read(text, str(path))[1]


def _read_file(path: str | Path) -> tuple[str, Problem | None]:
    try:
        return Path(path).read_text(encoding="utf-8"), None
    except FileNotFoundError:
        message = "cannot read the scenario: no such file"
    except IsADirectoryError:
        message = "cannot read the scenario: it is a directory"
    except PermissionError:
        message = "cannot read the scenario: permission denied"
    except UnicodeDecodeError as error:
        message = f"cannot read the scenario: not UTF-8 text ({error.reason})"
    except OSError as error:
        message = f"cannot read the scenario: {error.strerror or error}"
    return "", Problem(str(path), 0, "", message)


@dataclasses.dataclass
class _Documents:
    """What the documents of a file hold, sorted by kind."""

    pods: list[Pod] = dataclasses.field(default_factory=list)
    pod_count: int = 0
    pod_data: dict[str, Any] = dataclasses.field(default_factory=dict)
    scenarios: list[YamlDocument] = dataclasses.field(default_factory=list)
    others: list[KubeObject] = dataclasses.field(default_factory=list)
    refs: References = dataclasses.field(default_factory=References)


def _read(text: str, source: str) -> tuple[Scenario | None, list[Problem]]:
    """Read everything; return the scenario (None on errors) and all problems."""
    reporter = Reporter(source)
    documents, load_problems = load_documents(text, source)
    for problem in load_problems:
        reporter.add(problem)
    if not documents and load_problems:
        return None, reporter.problems  # broken YAML: nothing more is reliable
    found = _read_documents(reporter, documents)
    if found.pod_count == 0:
        reporter.add(
            Problem(source, 0, "", "no Pod document: a scenario needs at least one Pod")
        )
    reporter.context = found.refs
    settings = _read_settings(reporter, found.scenarios, found.pods)
    behaviours = _with_assumptions(reporter, found.pod_data, settings, found.pods)
    problems = sorted(reporter.problems, key=lambda p: p.line)
    if reporter.error_count or settings is None:
        return None, problems
    scenario = Scenario(
        name=settings.name,
        pods=tuple(found.pods),
        duration_seconds=settings.duration_seconds,
        seed=settings.seed,
        cluster=settings.cluster,
        behaviours=behaviours,
        actions=settings.actions,
        service_accounts=tuple(found.refs.accounts.service_accounts),
        secrets=(*found.refs.accounts.secrets, *settings.secrets),
        registries=settings.registries,
        other_objects=tuple(found.others),
        source=source,
        warnings=tuple(str(p) for p in problems if not p.is_error),
    )
    return scenario, problems


def _read_documents(reporter: Reporter, documents: list[YamlDocument]) -> _Documents:
    """Read the pods and kept manifests; set the Scenario documents aside."""
    found = _Documents()
    for document in _expand_lists(reporter, documents):
        label = document_label(document.data, document.number)
        ctx = Ctx(reporter, label, "", document.line)
        kind = _kind(ctx, document.data)
        if kind == "Pod":
            found.pod_count += 1
            pod = read_pod(ctx, document.data)
            if pod is None:
                _add_raw_pod(found.refs, document.data)
            elif _add_pod(ctx, document.data, pod, found.pods):
                found.pod_data[pod.name] = document.data
                found.refs.add(pod.name, [c.name for c in _all_containers(pod)], pod)
        elif kind in ACCOUNT_KINDS:
            found.refs.accounts.read(ctx, kind, document.data)
        elif kind == KIND:
            found.scenarios.append(document)
        elif kind in KEPT_KINDS:
            found.others.append(_kept_object(ctx, kind, document.data))
    return found


def _expand_lists(
    reporter: Reporter, documents: Iterable[YamlDocument]
) -> Iterator[YamlDocument]:
    """Yield documents, replacing ``kind: List`` (kubectl output) by its items."""
    for document in documents:
        data = document.data
        if not (is_mapping(data) and data.get("kind") == LIST_KIND):
            yield document
            continue
        ctx = Ctx(reporter, f"List (document {document.number})", "", document.line)
        items = data.get("items")
        if not is_sequence(items):
            ctx.key(data, "items").required("a List needs a list of items")
            continue
        for index, item in enumerate(items):
            yield YamlDocument(document.number, item, item_line(items, index))


def _kind(ctx: Ctx, data: Any) -> str | None:
    """Return a document's kind, or report why it has none we read."""
    if not is_mapping(data):
        ctx.report(
            "a document must be a mapping (a Kubernetes manifest or the Scenario "
            "document)"
        )
        return None
    kind = data.get("kind")
    if kind is None:
        ctx.key(data, "kind").required()
        return None
    supported = (*SIMULATED_KINDS, KIND, *KEPT_KINDS)
    if kind not in supported:
        ctx.key(data, "kind").unsupported(kind, supported)
        return None
    return str(kind)


def _add_pod(ctx: Ctx, data: Any, pod: Pod, pods: list[Pod]) -> bool:
    """Add a pod unless another pod has its name; return whether it was added."""
    if any(other.name == pod.name for other in pods):
        metadata = data["metadata"]
        ctx.key(data, "metadata").key(metadata, "name").duplicate(pod.name)
        return False
    pods.append(pod)
    return True


def _all_containers(pod: Pod) -> tuple[Container, ...]:
    return pod.containers + pod.init_containers


def _add_raw_pod(refs: References, data: Any) -> None:
    """Record the names of a pod that failed to read, as far as they are readable."""
    metadata = data.get("metadata")
    name = metadata.get("name") if is_mapping(metadata) else None
    if not isinstance(name, str):
        return
    spec = data.get("spec")
    names = []
    for key in ("containers", "initContainers"):
        entries = spec.get(key) if is_mapping(spec) else None
        for entry in entries if is_sequence(entries) else []:
            if is_mapping(entry) and isinstance(entry.get("name"), str):
                names.append(str(entry["name"]))
    refs.add(name, names)


def _kept_object(ctx: Ctx, kind: str, data: Any) -> KubeObject:
    metadata = data.get("metadata")
    name = metadata.get("name") if is_mapping(metadata) else None
    name = name if isinstance(name, str) else ""
    ctx.warn("not simulated yet; kept in the resolved scenario")
    return KubeObject(kind, name, plain(data))


def _read_settings(
    reporter: Reporter, documents: list[YamlDocument], pods: list[Pod]
) -> ScenarioSettings | None:
    """Read the one Scenario document, or make default settings without one."""
    if not documents:
        name = pods[0].name if pods else "scenario"
        reporter.add(
            Problem(
                reporter.file,
                0,
                "",
                f"no Scenario document (apiVersion: {API_VERSION}, kind: {KIND}): "
                f'using the defaults, named "{name}" after the first pod',
                Severity.WARNING,
            )
        )
        return ScenarioSettings(name)
    first = documents[0]
    for extra in documents[1:]:
        label = document_label(extra.data, extra.number)
        Ctx(reporter, label, "", extra.line).report(
            "Forbidden: a scenario file has exactly one Scenario document; the first "
            f"is on line {first.line}"
        )
    label = document_label(first.data, first.number)
    return read_scenario_document(Ctx(reporter, label, "", first.line), first.data)


def _with_assumptions(
    reporter: Reporter,
    pod_data: dict[str, Any],
    settings: ScenarioSettings | None,
    pods: list[Pod],
) -> tuple[Behaviour, ...]:
    """Check the behaviours against the pods they apply to.

    Infers the behaviour of containers that none describes (``_inferred``), then
    warns about probes a behaviour does not describe (recorded in
    ``Behaviour.assumed``) and about named ports a behaviour uses that the container
    does not have.
    """
    if settings is None:
        return ()
    behaviours = settings.behaviours + _inferred(reporter, pod_data, settings, pods)
    scenario = Scenario(settings.name, tuple(pods), behaviours=behaviours)
    index_of = {id(b): i for i, b in enumerate(settings.behaviours)}
    label = f'{KIND} "{settings.name}"'
    assumed: dict[int, list[str]] = {}
    for pod in pods:
        for container in pod.containers:
            behaviour = scenario.behaviour_for(pod.name, container.name)
            if behaviour is None:
                continue
            if id(behaviour) in index_of:
                path = f"spec.behaviours[{index_of[id(behaviour)]}]"
                ctx = Ctx(reporter, label, path, behaviour.source_line)
            else:
                ctx = Ctx(reporter, "", "", behaviour.source_line)
            for text in _unknown_ports(pod, container, behaviour):
                ctx.warn(text)
            found = assumed.setdefault(id(behaviour), [])
            for text in _assumptions(pod, container, behaviour):
                if text not in found:
                    found.append(text)
                    ctx.warn(text)
    return tuple(
        dataclasses.replace(b, assumed=tuple(assumed.get(id(b), ())))
        for b in behaviours
    )


def _inferred(
    reporter: Reporter,
    pod_data: dict[str, Any],
    settings: ScenarioSettings,
    pods: list[Pod],
) -> tuple[Behaviour, ...]:
    """Infer the behaviour of every container that no behaviour describes.

    The notes of each inference are warnings at the container's line, so that
    validate lists what was read from the manifest and what is assumed. A container
    without probes whose behaviour cannot be inferred needs none: no warning.
    """
    given = Scenario(settings.name, tuple(pods), behaviours=settings.behaviours)
    found = []
    for pod in pods:
        for container in pod.containers:
            if given.behaviour_for(pod.name, container.name) is not None:
                continue
            line = _container_line(pod_data[pod.name], pod, container.name)
            ctx = Ctx(reporter, "", "", line)
            inference = infer_behaviour(pod, container, settings.duration_seconds)
            probed = bool(_probes(container))
            if probed:
                ctx.warn(no_behaviour_warning(pod.name, container.name))
            if inference.behaviour is None and not probed:
                continue
            for note in inference.notes:
                ctx.warn(f'Pod "{pod.name}" {note}')
            if inference.behaviour is not None:
                behaviour = dataclasses.replace(inference.behaviour, source_line=line)
                found.append(behaviour)
    return tuple(found)


def _unknown_ports(pod: Pod, container: Container, behaviour: Behaviour) -> list[str]:
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
                    f'"{container.name}" of pod "{pod.name}": the entry never matches'
                )
    return found


def _probes(container: Container) -> list[tuple[ProbeType, Any]]:
    found = []
    for probe_type in PROBE_FIELD_OF:
        probe = container.probe(probe_type)
        if probe is not None:
            found.append((probe_type, probe))
    return found


def _assumptions(pod: Pod, container: Container, behaviour: Behaviour) -> list[str]:
    """List what the model assumes for probes the behaviour does not describe."""
    found = []
    who = f'Pod "{pod.name}" container "{container.name}"'
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
    """Line of a container's entry in its pod's document (the pod's line if lost)."""
    containers = data["spec"]["containers"] if data is not None else []
    for index, container in enumerate(containers):
        if container.get("name") == name:
            return item_line(containers, index)
    return pod.source_line
