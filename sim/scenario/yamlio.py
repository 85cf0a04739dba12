"""Loading YAML documents safely, with a line number for every node.

ruamel.yaml's round-trip loader (``typ="rt"``) keeps the line and column of every
mapping key and sequence item, and never builds arbitrary Python objects: a tag such
as ``!!python/object`` yields a tagged plain value, which ``load_documents`` reports as
a problem. Broken YAML gives one problem with the parser's line and short message,
and so does YAML that cannot be read safely: nested too deep, an alias inside the
node it names, or aliases that expand into too many nodes (a "billion laughs").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

from ruamel.yaml import YAML
from ruamel.yaml.comments import (
    CommentedMap,
    CommentedOrderedMap,
    CommentedSeq,
    CommentedSet,
    TaggedScalar,
)
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError, YAMLWarning
from ruamel.yaml.events import (
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    NodeEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from sim.scenario.errors import Problem

_STANDARD_TAG = "tag:yaml.org,2002:"
# Tags that only restate what plain YAML would construct anyway.
_HARMLESS_TAGS = frozenset(
    _STANDARD_TAG + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq")
)

MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences read (a Kubernetes object needs ~20)."""
MAX_ALIAS_EXPANSION = 10_000
"""Mappings and sequences that aliases may repeat, counted as if copied out."""
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")  # as ruamel counts lines
_YAML_DIRECTIVE = re.compile(r"%YAML[ \t]+([0-9]+)\.([0-9]+)")
_TOO_DEEP = f"mappings and sequences nested more than {MAX_DEPTH} deep"


class _Unreadable(Exception):
    """A loaded document that the reader cannot walk safely, with where and why."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass(frozen=True)
class YamlDocument:
    """One non-empty document of a YAML stream.

    Attributes
    ----------
    number
        1-based position of the document in the file (empty documents count).
    data
        The loaded value (``CommentedMap`` for manifests).
    line
        1-based line where the document's content starts.
    """

    number: int
    data: Any
    line: int


def key_line(mapping: Any, key: object) -> int:
    """Return the 1-based line of a mapping key, or of the mapping when unknown."""
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return node_line(mapping)


def item_line(sequence: Any, index: int) -> int:
    """Return the 1-based line of a sequence item, or of the sequence when unknown."""
    try:
        return int(sequence.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return node_line(sequence)


def node_line(node: Any) -> int:
    """Return the 1-based line where a mapping or sequence starts, 0 when unknown."""
    line = getattr(getattr(node, "lc", None), "line", None)
    return int(line) + 1 if isinstance(line, int) else 0


def is_mapping(value: object) -> TypeGuard[dict[Any, Any]]:
    """Whether a loaded value is a YAML mapping."""
    return isinstance(value, dict)


def is_sequence(value: object) -> TypeGuard[list[Any]]:
    """Whether a loaded value is a YAML sequence."""
    return isinstance(value, list)


def plain(value: Any) -> Any:
    """Return a loaded value as plain ``dict``/``list``/``str``/``int``/``float``."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | ScalarBoolean):
        return None if value is None else bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def document_label(data: Any, number: int) -> str:
    """Name a document the way problems refer to it: ``Pod "web"``.

    Falls back to ``document N`` when the document has no kind, and to
    ``Pod (document N)`` when it has no usable name.
    """
    if not is_mapping(data):
        return f"document {number}"
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        return f"document {number}"
    metadata = data.get("metadata")
    name = metadata.get("name") if is_mapping(metadata) else None
    if isinstance(name, str) and name:
        return f'{kind} "{name}"'
    return f"{kind} (document {number})"


def load_documents(text: str, source: str) -> tuple[list[YamlDocument], list[Problem]]:
    """Load every non-empty document of a YAML stream.

    Parameters
    ----------
    text
        The YAML text.
    source
        The file name to put in problems.

    Returns
    -------
    documents, problems
        The documents, and problems (forbidden tags). When the YAML is broken, no
        documents are returned and the one problem says where it broke.
    """
    yaml = YAML(typ="rt")
    documents: list[YamlDocument] = []
    problems: list[Problem] = []
    root_lines: list[int] | None = None
    try:
        for number, data in enumerate(_quietly(yaml.load_all(text)), start=1):
            if data is None:
                continue
            line = node_line(data)
            if not line:  # a scalar document keeps no position: ask the parser
                root_lines = _root_lines(text) if root_lines is None else root_lines
                line = root_lines[number - 1] if number <= len(root_lines) else 0
            line = line or 1
            _check_shape(data, line)
            data = unwrap_scalars(data)
            documents.append(YamlDocument(number, data, line))
    except YAMLError as error:
        return [], [_syntax_problem(error, source, text)]
    except RecursionError:  # the parser's own limit, past MAX_DEPTH
        line = _too_deep_line(text)
        return [], [Problem(source, line, "", f"invalid YAML: {_TOO_DEEP}")]
    except _Unreadable as error:
        return [], [Problem(source, error.line, "", f"invalid YAML: {error.message}")]
    except (AssertionError, KeyError):  # how ruamel meets a %YAML version it lacks
        found = _unknown_version(text)
        if found is None:
            raise
        line, version = found
        message = (
            f"invalid YAML: unsupported YAML version {version}: "
            "only 1.1 and 1.2 are read"
        )
        return [], [Problem(source, line, "", message)]
    for document in documents:
        label = document_label(document.data, document.number)
        for line, path, tag in _forbidden_nodes(document.data, "", document.line):
            where = f"{label}: {path}" if path else label
            problems.append(
                Problem(
                    source,
                    line,
                    where,
                    f"unsupported YAML tag {tag}: only plain YAML (mappings, "
                    "sequences, strings, numbers, booleans, null) is accepted",
                )
            )
    return documents, problems


def _quietly(documents: Iterator[Any]) -> Iterator[Any]:
    """Yield the documents, silencing ruamel's warnings while each is loaded.

    They concern legal YAML (an anchor defined again, a YAML 1.1 float without a
    dot) and would otherwise print several lines of ruamel's text on stderr.
    """
    while True:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", YAMLWarning)
            try:
                document = next(documents)
            except StopIteration:
                return
        yield document


def _root_lines(text: str) -> list[int]:
    """Return the 1-based line where each document's content starts."""
    lines: list[int] = []
    at_start = False
    for event in YAML(typ="rt").parse(text):
        if isinstance(event, DocumentStartEvent):
            at_start = True
        elif at_start and isinstance(event, NodeEvent):
            lines.append(int(event.start_mark.line) + 1)
            at_start = False
    return lines


def _unknown_version(text: str) -> tuple[int, str] | None:
    """Return the line and version of the first ``%YAML`` directive ruamel lacks.

    ruamel scans ``%`` at the start of any line as a directive, and fails on a
    version other than 1.1 and 1.2 with an ``AssertionError``, or a ``KeyError``
    later on (the scanner may stop on a syntax error before that directive's token
    comes out, so the lines are read here, not the tokens).
    """
    for number, line in enumerate(text.splitlines(), start=1):
        match = _YAML_DIRECTIVE.match(line)
        if match and (int(match[1]), int(match[2])) not in ((1, 1), (1, 2)):
            return number, f"{int(match[1])}.{int(match[2])}"
    return None


def _too_deep_line(text: str) -> int:
    """Return the line where the nesting first passes ``MAX_DEPTH``, 0 if unknown.

    Only the events up to that point are parsed: ruamel's scanner slows down with
    the depth, so a text nested thousands deep is never parsed to its end.
    """
    depth = 0
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, MappingStartEvent | SequenceStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return int(event.start_mark.line) + 1
            elif isinstance(event, MappingEndEvent | SequenceEndEvent):
                depth -= 1
    except (YAMLError, RecursionError):
        pass
    return 0


def _check_shape(data: Any, line: int) -> None:
    """Raise ``_Unreadable`` when a loaded document cannot be walked safely.

    Every later step walks documents recursively, following aliases as if their
    nodes were copied out: a document nested too deep, holding an alias inside the
    node it names (an endless structure), or whose aliases repeat more than
    ``MAX_ALIAS_EXPANSION`` mappings and sequences is refused here, with the line
    of the node where it shows. The walk itself keeps its own stack.
    """
    seen: set[int] = set()
    inside: set[int] = set()  # the nodes on the path from the root
    repeated = 0
    stack: list[tuple[Any, int, bool]] = [(data, 1, False)]
    while stack:
        node, depth, leaving = stack.pop()
        if leaving:
            inside.discard(id(node))
            continue
        if not isinstance(node, dict | list):
            continue
        at = node_line(node) or line
        if id(node) in inside:
            raise _Unreadable(
                at, "an alias refers to a node that contains it (an endless structure)"
            )
        if depth > MAX_DEPTH:
            raise _Unreadable(at, _TOO_DEEP)
        if id(node) in seen:
            repeated += 1
            if repeated > MAX_ALIAS_EXPANSION:
                raise _Unreadable(
                    at,
                    "excessive aliasing: the aliases repeat more than "
                    f"{MAX_ALIAS_EXPANSION} mappings and sequences",
                )
        seen.add(id(node))
        inside.add(id(node))
        stack.append((node, depth, True))
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1, False) for child in children)


def _syntax_problem(error: YAMLError, source: str, text: str) -> Problem:
    """Turn a parser error into a problem with its line and short message."""
    if isinstance(error, ReaderError) and isinstance(error.character, int):
        # A character YAML forbids: ruamel gives its offset in the text, no line.
        before = text[: max(0, error.position)]
        line = len(_LINE_BREAK.findall(before)) + 1
        message = (
            f"invalid YAML: unacceptable character #x{error.character:04x}: "
            f"{error.reason}"
        )
        return Problem(source, line, "", message)
    if not isinstance(error, MarkedYAMLError):
        return Problem(source, 0, "", f"invalid YAML: {error}")
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 0
    if isinstance(error, DuplicateKeyError):
        found = str(error.problem or "").split(" with value", 1)[0]
        message = f"invalid YAML: {found.replace('found ', '', 1)}"
        return Problem(source, line, "", message)
    message = f"invalid YAML: {error.problem or 'cannot parse'}"
    if error.context and error.context_mark is not None:
        message += f" ({error.context} started on line {error.context_mark.line + 1})"
    return Problem(source, line, "", message)


def _tag_of(value: Any) -> str | None:
    """Return the explicit non-trivial tag of a loaded node, if any."""
    if isinstance(value, TaggedScalar | CommentedMap | CommentedSeq):
        tag = getattr(value, "tag", None)
        name = getattr(tag, "value", None)
        if name is not None and name not in _HARMLESS_TAGS:
            return str(name).replace(_STANDARD_TAG, "!!", 1)
    if isinstance(value, CommentedOrderedMap):
        return "!!omap"
    if isinstance(value, CommentedSet):
        return "!!set"
    if isinstance(value, bytes):
        return "!!binary"
    return None


def _forbidden_nodes(node: Any, path: str, line: int) -> Iterator[tuple[int, str, str]]:
    """Yield (line, path, tag) for every node with a tag plain YAML would not give."""
    tag = _tag_of(node)
    if tag is not None:
        yield line, path, tag
        return
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{path}.{key}" if path else str(key)
            yield from _forbidden_nodes(value, child, key_line(node, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _forbidden_nodes(
                value, f"{path}[{index}]", item_line(node, index)
            )


def unwrap_scalars(node: Any) -> Any:
    """Replace wrapped plain scalars by plain values, in place.

    ruamel keeps some explicitly tagged scalars as ``TaggedScalar``; a standard tag
    such as ``!!str`` only restates the value, so it is unwrapped here. An anchored
    boolean (``&on true``) loads as ``ScalarBoolean``, an ``int``; it becomes a
    ``bool``.
    """
    if isinstance(node, dict):
        for key, value in list(node.items()):
            new = unwrap_scalars(value)
            if new is not value:
                node[key] = new
    elif isinstance(node, list):
        for index, value in enumerate(node):
            new = unwrap_scalars(value)
            if new is not value:
                node[index] = new
    elif isinstance(node, ScalarBoolean):
        return bool(node)
    elif isinstance(node, TaggedScalar):
        name = getattr(getattr(node, "tag", None), "value", None)
        if name == _STANDARD_TAG + "str":
            return str(node.value)
    return node
