"""Paths to fields of a scenario, in the YAML spelling of the scenario file.

A path starts with a collection of manifests and a name (``pods[web]``,
``deployments[api]``, ``services[web]``, ``serviceAccounts[robot]``,
``secrets[regcred]``) or, without one, at the Scenario document
(``cluster.kubernetesVersion``, ``behaviours[0].load.capacity``, ``duration``).
Then come field names separated by dots and selectors in brackets: ``[2]`` is an
item of a list, ``[app]`` the item of a list whose ``name`` is ``app``, or the key
``app`` of a mapping (``featureGates[ExecProbeTimeout]``,
``files[/tmp/healthy]``). The ``spec`` level of a document or of a Deployment's
template may be left out: ``pods[web].containers[app]`` is
``spec.containers[app]`` of the Pod ``web``.

``locate`` finds a path in the documents of a resolved scenario and returns the
concrete keys and indices (``Location``); ``assign`` sets a value there. The last
field may be missing (an optional field that the resolved scenario leaves out,
such as a feature gate): it is then created, and the scenario reader decides
whether it exists.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sim.scenario.context import did_you_mean

# The collections of manifests a path may start with, and their kinds.
COLLECTIONS: dict[str, str] = {
    "pods": "Pod",
    "deployments": "Deployment",
    "services": "Service",
    "serviceAccounts": "ServiceAccount",
    "secrets": "Secret",
}
SCENARIO_KIND = "Scenario"
_NAME = r"[^.\[\]]+"
_SELECTOR = r"\[[^\]]+\]"
_PATH = re.compile(rf"{_NAME}(?:{_SELECTOR})*(?:\.{_NAME}(?:{_SELECTOR})*)*")
_TOKEN = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")
SPEC = "spec"
RESOLVED_HINT = (
    "paths follow the resolved scenario, every default filled in: see the "
    "scenario.resolved.yaml that `probesim run` writes"
)


class PathError(ValueError):
    """A path that is malformed or names nothing.

    Attributes
    ----------
    detail
        What is wrong, without the path itself.
    suggestion
        The closest existing name for the segment that failed, or None.
    """

    def __init__(self, detail: str, suggestion: str | None = None) -> None:
        self.detail = detail
        self.suggestion = suggestion
        hint = f'; did you mean "{suggestion}"?' if suggestion else ""
        super().__init__(detail + hint)


class NotFoundError(PathError):
    """A path segment that names nothing in the resolved scenario."""

    def __init__(self, detail: str, suggestion: str | None = None) -> None:
        super().__init__(detail, suggestion)
        if suggestion is None:
            self.args = (f"{detail} ({RESOLVED_HINT})",)


@dataclass(frozen=True)
class Token:
    """One step of a parsed path: a field name, or a bracket selector."""

    text: str
    selector: bool = False

    def __str__(self) -> str:
        return f"[{self.text}]" if self.selector else f".{self.text}"


@dataclass(frozen=True)
class Location:
    """Where a path points in a list of YAML documents.

    Attributes
    ----------
    document
        Index of the document.
    steps
        Keys (mapping) and indices (list) from the document's root to the field.
    exists
        Whether the field is in the base scenario (else it is created).
    """

    document: int
    steps: tuple[str | int, ...]
    exists: bool = True

    @property
    def field(self) -> str | int:
        """The last key or index."""
        return self.steps[-1]


def parse_path(path: str) -> tuple[Token, ...]:
    """Split a path into field names and selectors.

    Raises
    ------
    PathError
        When the path is empty or malformed (``a..b``, ``a[b``, ``a.``, ``[0]``).
    """
    if not _PATH.fullmatch(path):
        raise PathError(
            "not a path: write field names separated by dots, each followed by "
            "any selectors [NAME] or [INDEX] (pods[web].containers[app].image)"
        )
    return tuple(
        Token(selector, selector=True) if selector else Token(name)
        for name, selector in _TOKEN.findall(path)
    )


def render(tokens: Iterable[Token]) -> str:
    """Write tokens back as a path (``pods[web].containers``)."""
    return "".join(str(t) for t in tokens).removeprefix(".")


def locate(documents: list[Any], path: str) -> Location:
    """Find the field a path names in the documents of a resolved scenario.

    Parameters
    ----------
    documents
        The documents of ``resolved_yaml(scenario)``, loaded as plain values.
    path
        A path as described in the module docstring.

    Raises
    ------
    PathError
        When the path is malformed or a segment names nothing (with the closest
        name of that segment, if any is close).
    """
    tokens = parse_path(path)
    first = tokens[0]
    if not first.selector and first.text in COLLECTIONS:
        if len(tokens) < 2 or not tokens[1].selector:
            raise PathError(f"{first.text} needs a name: {first.text}[NAME]")
        document = _manifest(documents, COLLECTIONS[first.text], tokens[1].text)
        start = 2
    else:
        document = _scenario_document(documents)
        start = 0
    node: Any = documents[document]
    steps: list[str | int] = []
    for position in range(start, len(tokens)):
        token, last = tokens[position], position == len(tokens) - 1
        where = render(tokens[:position]) or "the Scenario document"
        found = _step(node, token, last, where)
        if found is None:  # the last field, missing: create it
            if not token.selector and isinstance(node.get(SPEC), dict):
                steps.append(SPEC)
            steps.append(token.text)
            return Location(document, tuple(steps), exists=False)
        for key in found:
            node = node[key]
            steps.append(key)
    if start == len(tokens):
        raise PathError(f"{render(tokens)} names a whole manifest: add a field")
    return Location(document, tuple(steps))


def _step(node: Any, token: Token, last: bool, where: str) -> list[str | int] | None:
    """Keys leading from ``node`` to ``token``; None for a missing last field."""
    if isinstance(node, list):
        if not token.selector:
            raise PathError(
                f"{where} is a list: select an item with [NAME] or [INDEX], "
                f'not ".{token.text}"'
            )
        return [_item(node, token.text, where)]
    if not isinstance(node, dict):
        raise PathError(f"{where} is a value ({node!r}), it has no fields")
    if token.text in node:
        return [token.text]
    spec = node.get(SPEC)
    if not token.selector and isinstance(spec, dict) and token.text in spec:
        return [SPEC, token.text]
    if last:
        return None
    names = [*node, *(spec if isinstance(spec, dict) else ())]
    what = "key" if token.selector else "field"
    raise NotFoundError(
        f'{where} has no {what} "{token.text}"', did_you_mean(token.text, names)
    )


def _item(items: list[Any], selector: str, where: str) -> int:
    """Index of the item a selector names: a number, or an item's ``name``."""
    if selector.isdigit():
        index = int(selector)
        if index >= len(items):
            raise PathError(
                f"{where} has {len(items)} item(s): index {index} is out of range"
            )
        return index
    names = [item.get("name") for item in items if isinstance(item, dict)]
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == selector:
            return index
    raise PathError(
        f'{where} has no item named "{selector}"',
        did_you_mean(selector, [n for n in names if isinstance(n, str)]),
    )


def _manifest(documents: list[Any], kind: str, name: str) -> int:
    """Index of the manifest of ``kind`` called ``name`` (or ``namespace/name``)."""
    names: list[str] = []
    for index, document in enumerate(documents):
        if not isinstance(document, dict) or document.get("kind") != kind:
            continue
        metadata = document.get("metadata") or {}
        own = str(metadata.get("name", ""))
        namespaced = f"{metadata.get('namespace', 'default')}/{own}"
        if name in (own, namespaced):
            return index
        names.append(own)
    if not names:
        raise PathError(f"the scenario has no {kind}")
    raise PathError(f'the scenario has no {kind} "{name}"', did_you_mean(name, names))


def _scenario_document(documents: list[Any]) -> int:
    for index, document in enumerate(documents):
        if isinstance(document, dict) and document.get("kind") == SCENARIO_KIND:
            return index
    raise PathError(
        "the resolved scenario has no Scenario document"
    )  # pragma: no cover


def assign(documents: list[Any], location: Location, value: Any) -> None:
    """Set the field at ``location`` to ``value``, in place.

    Raises
    ------
    PathError
        When the documents no longer have the location's structure (an earlier
        parameter replaced a part of the tree that this one reaches into).
    """
    node: Any = documents[location.document]
    try:
        for key in location.steps[:-1]:
            node = node[key]
        if isinstance(node, list) and not isinstance(location.field, int):
            raise TypeError
        node[location.field] = value
    except (KeyError, IndexError, TypeError):
        raise PathError(
            "the field is gone: an earlier parameter replaced a part of the "
            "scenario that holds it"
        ) from None
