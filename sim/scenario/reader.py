"""Reading a scenario file: YAML documents in, a validated ``Scenario`` out.

A scenario file holds Kubernetes manifests and one ``kind: Scenario`` document. The
reader loads every document, reads Pods (``pods``), ServiceAccounts and Secrets
(``accounts``), Services and Deployments (``workloads``) and the Scenario document
(``scenario_doc``) through their field tables, keeps the manifests it does not
simulate yet, checks what the documents say about each other, infers the behaviour
of containers that none describes (``assumptions``), and either returns the
``Scenario`` (with its warnings) or raises ``ScenarioError`` listing every error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from sim.scenario.accounts import ACCOUNT_KINDS
from sim.scenario.assumptions import Subject, with_assumptions
from sim.scenario.assumptions import no_behaviour_warning as no_behaviour_warning
from sim.scenario.context import Ctx, Reporter
from sim.scenario.document import Scenario
from sim.scenario.errors import Problem, ScenarioError, Severity
from sim.scenario.pods import read_pod
from sim.scenario.scenario_doc import (
    API_VERSION,
    KIND,
    References,
    ScenarioSettings,
    read_scenario_document,
)
from sim.scenario.spec import Container, Deployment, KubeObject, Pod
from sim.scenario.workloads import WORKLOAD_KINDS
from sim.scenario.yamlio import (
    YamlDocument,
    document_label,
    is_mapping,
    is_sequence,
    item_line,
    load_documents,
    plain,
)

SIMULATED_KINDS = ("Pod", *ACCOUNT_KINDS, *WORKLOAD_KINDS)
KEPT_KINDS = ("ReplicaSet", "ConfigMap")
LIST_KIND = "List"


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
    deployment_count: int = 0
    pod_data: dict[str, Any] = dataclasses.field(default_factory=dict)
    scenarios: list[YamlDocument] = dataclasses.field(default_factory=list)
    others: list[KubeObject] = dataclasses.field(default_factory=list)
    refs: References = dataclasses.field(default_factory=References)

    def subjects(self) -> list[Subject]:
        """The pods, then the Deployments' templates, with their YAML."""
        workloads = self.refs.workloads
        return [Subject(pod, self.pod_data[pod.name]) for pod in self.pods] + [
            Subject(d.template, workloads.template_data[d.name], "Deployment")
            for d in workloads.deployments
        ]


def _read(text: str, source: str) -> tuple[Scenario | None, list[Problem]]:
    """Read everything; return the scenario (None on errors) and all problems."""
    reporter = Reporter(source)
    documents, load_problems = load_documents(text, source)
    for problem in load_problems:
        reporter.add(problem)
    if not documents and load_problems:
        return None, reporter.problems  # broken YAML: nothing more is reliable
    found = _read_documents(reporter, documents)
    if found.pod_count == 0 and found.deployment_count == 0:
        reporter.add(
            Problem(
                source,
                0,
                "",
                "no Pod document: a scenario needs at least one Pod or Deployment",
            )
        )
    reporter.context = found.refs
    settings = _read_settings(reporter, found.scenarios, found)
    behaviours = with_assumptions(reporter, found.subjects(), settings)
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
        services=tuple(found.refs.workloads.services),
        deployments=tuple(found.refs.workloads.deployments),
        traffic=settings.traffic,
        endpoints=settings.endpoints,
        other_objects=tuple(found.others),
        source=source,
        warnings=tuple(str(p) for p in problems if not p.is_error),
    )
    return scenario, problems


def _read_documents(reporter: Reporter, documents: list[YamlDocument]) -> _Documents:
    """Read the manifests, keep the others; set the Scenario documents aside."""
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
        elif kind in WORKLOAD_KINDS:
            found.deployment_count += kind == "Deployment"
            found.refs.workloads.read(ctx, kind, document.data)
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
    reporter: Reporter, documents: list[YamlDocument], found: _Documents
) -> ScenarioSettings | None:
    """Read the one Scenario document, or make default settings without one."""
    if not documents:
        named: list[Pod | Deployment] = [
            *found.pods,
            *found.refs.workloads.deployments,
        ]
        name = named[0].name if named else "scenario"
        what = "pod" if found.pods or not named else "Deployment"
        reporter.add(
            Problem(
                reporter.file,
                0,
                "",
                f"no Scenario document (apiVersion: {API_VERSION}, kind: {KIND}): "
                f'using the defaults, named "{name}" after the first {what}',
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
