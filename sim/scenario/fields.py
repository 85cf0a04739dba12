"""A table-driven reader of YAML mappings: value types, fields and tables.

Every object of a scenario file (a Pod, a probe, the Scenario document, a behaviour)
is described once, as an ``Obj``: a table of ``Field`` (name, type, default,
description) plus the names of known Kubernetes fields that are accepted and not
inspected. ``Obj.read`` walks a loaded mapping against its table, reports unknown
fields (with a did-you-mean), wrong types and missing required fields, and builds the
typed value. ``Obj.json_schema`` turns the same table into JSON Schema, so the reader
and the schema cannot drift apart.

Readers never raise on bad input: they report through the ``Ctx`` and return
``INVALID``. An object whose subtree produced an error is ``INVALID`` as a whole, so
builders only ever see valid values.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.scenario.context import INVALID, REQUIRED, Ctx, hint, quoted
from sim.scenario.durations import (
    DURATION_PATTERN,
    EXAMPLES,
    DurationError,
    format_duration,
    parse_duration,
)
from sim.scenario.yamlio import is_mapping, is_sequence


class ValueType:
    """How one YAML value is checked, converted and described in JSON Schema."""

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Return the converted value, or ``INVALID`` after reporting."""
        raise NotImplementedError

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return the JSON Schema of the value (named parts go into ``defs``)."""
        raise NotImplementedError


@dataclass(frozen=True)
class Int(ValueType):
    """An integer (not a boolean) within optional bounds.

    ``bits``: the size of the Go integer the API server decodes it into (int32 for
    most fields, int64 for a few), which refuses a number that does not fit; None
    for a probesim field of any size (a seed).
    """

    minimum: int | None = None
    maximum: int | None = None
    range_message: str = ""
    bits: int | None = 32

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Check type and range."""
        if isinstance(value, bool) or not isinstance(value, int):
            return ctx.invalid(value, "must be an integer")
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            return ctx.invalid(value, self.range_message or self._range())
        if self.bits is not None:
            largest = 2 ** (self.bits - 1) - 1
            if not -largest - 1 <= value <= largest:
                message = f"must fit in a {self.bits}-bit integer (at most {largest})"
                return ctx.invalid(value, message)
        return int(value)

    def _range(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"must be between {self.minimum} and {self.maximum}, inclusive"
        if self.minimum is not None:
            if self.minimum == 1:
                return "must be greater than 0"
            return f"must be greater than or equal to {self.minimum}"
        return f"must be less than or equal to {self.maximum}"

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return an integer schema with bounds."""
        schema: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


@dataclass(frozen=True)
class Number(ValueType):
    """A finite real number (int or float, not a boolean) within bounds.

    The bounds are closed, except ``minimum`` when ``exclusive_minimum`` is set
    (a capacity must be greater than 0).
    """

    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Check type and range."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return ctx.invalid(value, "must be a number")
        if not math.isfinite(value):
            return ctx.invalid(value, "must be a finite number")
        low, high = self.minimum, self.maximum
        too_low = low is not None and (
            value <= low if self.exclusive_minimum else value < low
        )
        if too_low or (high is not None and value > high):
            return ctx.invalid(value, self._range())
        return float(value)

    def _range(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"must be between {self.minimum} and {self.maximum}, inclusive"
        low, high = _shown(self.minimum), _shown(self.maximum)
        if self.minimum is not None and self.exclusive_minimum:
            return f"must be greater than {low}"
        if self.minimum is not None:
            return f"must be greater than or equal to {low}"
        return f"must be less than or equal to {high}"

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return a number schema with bounds."""
        schema: dict[str, Any] = {"type": "number"}
        if self.minimum is not None:
            key = "exclusiveMinimum" if self.exclusive_minimum else "minimum"
            schema[key] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


def _shown(bound: float | None) -> str:
    """A bound as the messages print it (``0``, not ``0.0``)."""
    if bound is not None and float(bound).is_integer():
        return str(int(bound))
    return str(bound)


@dataclass(frozen=True)
class Str(ValueType):
    """A string, optionally checked by ``check`` (returns an error detail or None)."""

    check: Callable[[str], str | None] | None = None
    pattern: str = ""

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Check type and content."""
        if not isinstance(value, str):
            return ctx.invalid(value, "must be a string")
        detail = self.check(value) if self.check is not None else None
        if detail:
            return ctx.invalid(value, detail)
        return str(value)

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return a string schema, with a pattern when one is known."""
        schema: dict[str, Any] = {"type": "string"}
        if self.pattern:
            schema["pattern"] = self.pattern
        return schema


@dataclass(frozen=True)
class Bool(ValueType):
    """A YAML boolean."""

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Check type."""
        if not isinstance(value, bool):
            return ctx.invalid(value, "must be a boolean (true or false)")
        return bool(value)

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return a boolean schema."""
        return {"type": "boolean"}


@dataclass(frozen=True)
class Choice(ValueType):
    """One of a fixed set of strings, converted to an enum member when given."""

    values: tuple[str, ...]
    enum_type: type[enum.Enum] | None = None

    @classmethod
    def of(cls, enum_type: type[enum.Enum]) -> Choice:
        """Return the choice of a string enum's values."""
        return cls(tuple(str(m.value) for m in enum_type), enum_type)

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Check membership."""
        if not isinstance(value, str) or value not in self.values:
            return ctx.unsupported(value, self.values)
        return self.enum_type(value) if self.enum_type is not None else str(value)

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return a string enum schema."""
        return {"type": "string", "enum": list(self.values)}


@dataclass(frozen=True)
class Duration(ValueType):
    """A duration (Go string or number of seconds) within bounds, in seconds."""

    minimum: float = 0.0
    exclusive_minimum: bool = False
    maximum: float | None = None
    allow_infinite: bool = False

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Parse and check the range."""
        try:
            seconds = parse_duration(value, allow_infinite=self.allow_infinite)
        except DurationError as error:
            return ctx.invalid(value, error.detail)
        if self.exclusive_minimum:
            too_low = seconds <= self.minimum
        else:
            too_low = seconds < self.minimum
        too_high = self.maximum is not None and seconds > self.maximum
        if too_low or too_high:
            return ctx.invalid(value, self._range())
        return seconds

    def _range(self) -> str:
        low = format_duration(self.minimum)
        if self.maximum is not None:
            return f"must be between {low} and {format_duration(self.maximum)}"
        if self.exclusive_minimum:
            return f"must be greater than {low}"
        return f"must be at least {low}"

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return a reference to the shared duration definition."""
        defs.setdefault(
            "duration",
            {
                "description": f"A duration {EXAMPLES}.",
                "oneOf": [
                    {"type": "string", "pattern": DURATION_PATTERN},
                    {"type": "number", "minimum": 0},
                ],
            },
        )
        if self.allow_infinite:
            defs.setdefault(
                "durationOrForever",
                {
                    "description": "A duration, or inf/forever for never.",
                    "anyOf": [
                        {"$ref": "#/$defs/duration"},
                        {"enum": ["inf", "forever"]},
                    ],
                },
            )
            return {"$ref": "#/$defs/durationOrForever"}
        return {"$ref": "#/$defs/duration"}


@dataclass(frozen=True)
class ListOf(ValueType):
    """A YAML sequence of one item type, read into a tuple."""

    item: ValueType

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Read every item; ``INVALID`` if any item is."""
        if not is_sequence(value):
            return ctx.invalid(value, "must be a list")
        items = [self.item.read(ctx.item(value, i), v) for i, v in enumerate(value)]
        if any(item is INVALID for item in items):
            return INVALID
        return tuple(items)

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return an array schema of the item schema."""
        return {"type": "array", "items": self.item.json_schema(defs)}


@dataclass(frozen=True)
class UniqueListOf(ValueType):
    """A ``ListOf`` whose items may not repeat a key (a registry's server).

    ``key`` returns an item's key and the path of the YAML field that holds it
    (``("dockerRegistry", "name")``), or None for items without one. A repeat is
    reported as ``Duplicate value`` at that field.
    """

    items: ListOf
    key: Callable[[Any], tuple[Any, tuple[str, ...]] | None]

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Read the list, then report every repeated key."""
        result = self.items.read(ctx, value)
        if result is INVALID:
            return INVALID
        seen: set[Any] = set()
        repeated = False
        for index, item in enumerate(result):
            found = self.key(item)
            if found is None:
                continue
            key, path = found
            if key in seen:
                at, node = ctx.item(value, index), value[index]
                for name in path:
                    at, node = at.key(node, name), node.get(name)
                at.duplicate(node)
                repeated = True
            seen.add(key)
        return INVALID if repeated else result

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return the list's schema (uniqueness is checked by the reader only)."""
        return self.items.json_schema(defs)


@dataclass(frozen=True)
class MapOf(ValueType):
    """A mapping with free-form string keys, read into a tuple of pairs."""

    value: ValueType
    key_check: Callable[[str], str | None] | None = None
    key_schema: dict[str, Any] | None = None

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Read every entry; ``INVALID`` if any key or value is."""
        if not is_mapping(value):
            return ctx.invalid(value, "must be a mapping")
        pairs = []
        for key, raw in value.items():
            here = ctx.entry(value, key)
            if not isinstance(key, str):
                pairs.append((key, here.invalid(key, "key must be a string")))
                continue
            detail = self.key_check(key) if self.key_check is not None else None
            if detail:
                pairs.append((key, here.invalid(key, detail)))
                continue
            pairs.append((str(key), self.value.read(here, raw)))
        if any(v is INVALID for _, v in pairs):
            return INVALID
        return tuple(pairs)

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return an object schema with free-form keys."""
        schema = {
            "type": "object",
            "additionalProperties": self.value.json_schema(defs),
        }
        if self.key_schema is not None:
            schema["propertyNames"] = self.key_schema
        return schema


@dataclass(frozen=True)
class Custom(ValueType):
    """A value read by a function, with a JSON Schema (or a function making one)."""

    reader: Callable[[Ctx, Any], Any]
    schema: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]
    name: str = ""

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Delegate to the function."""
        return self.reader(ctx, value)

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return the schema, shared in ``defs`` under ``name`` when given."""
        if self.name and self.name in defs:
            return {"$ref": f"#/$defs/{self.name}"}
        if self.name:
            defs[self.name] = {}  # placeholder against recursion
        schema = self.schema(defs) if callable(self.schema) else dict(self.schema)
        if not self.name:
            return schema
        defs[self.name] = schema
        return {"$ref": f"#/$defs/{self.name}"}


@dataclass(frozen=True)
class Field:
    """One field of a mapping.

    Attributes
    ----------
    name
        The key, in API spelling (``periodSeconds``).
    type
        How the value is read.
    default
        The converted value used when the key is absent or null; ``REQUIRED`` for a
        field that must be given (an empty list or mapping counts as absent).
    description
        One sentence for the JSON Schema and the docs.
    shown_default
        The default as YAML would write it, for the schema (``"10m"``).
    null_is_empty
        A key given with a null value (``recover:``) reads as an empty mapping
        instead of as absent.
    """

    name: str
    type: ValueType
    default: Any = None
    description: str = ""
    shown_default: Any = None
    null_is_empty: bool = False

    @property
    def required(self) -> bool:
        """Whether the field must be given."""
        return self.default is REQUIRED


@dataclass
class Values:
    """The fields of one mapping after reading, for checks and builders.

    ``data`` maps each field name to its converted value (the default when absent,
    ``INVALID`` when it was wrong); ``given`` holds the names present in the YAML.
    """

    ctx: Ctx
    node: Any
    data: dict[str, Any]
    given: set[str] = field(default_factory=set)

    def __getitem__(self, name: str) -> Any:
        return self.data[name]

    def ok(self, *names: str) -> bool:
        """Whether all the named fields were read without error."""
        return all(self.data[name] is not INVALID for name in names)

    def at(self, name: str) -> Ctx:
        """Context of a field (its line when present, the mapping's otherwise)."""
        return self.ctx.key(self.node, name)


@dataclass(frozen=True)
class Obj(ValueType):
    """A mapping read against a table of fields.

    Attributes
    ----------
    fields
        The modelled fields, in the order they are read and documented.
    ignored
        Known fields that are accepted and not inspected (Kubernetes fields the model
        does not use, such as ``nodeName``).
    check
        Cross-field validation, called with the ``Values`` even when some field is
        invalid (use ``Values.ok``).
    build
        Turns valid ``Values`` into the result; without it the result is a dict.
    description
        For the JSON Schema.
    schema_name
        Share the schema under this name in ``$defs``.
    exactly_one
        Fields of which exactly one must be given (probe handlers, action verbs).
    one_what
        What those fields are, for the messages (``handler type``); when empty the
        messages list the field names.
    """

    fields: tuple[Field, ...]
    ignored: tuple[str, ...] = ()
    check: Callable[[Values], None] | None = None
    build: Callable[[Values], Any] | None = None
    description: str = ""
    schema_name: str = ""
    exactly_one: tuple[str, ...] = ()
    one_what: str = ""

    def field(self, name: str) -> Field:
        """Return the field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Every accepted key."""
        return tuple(f.name for f in self.fields) + self.ignored

    def read(self, ctx: Ctx, value: Any) -> Any:
        """Read the mapping, report problems, build the result."""
        if not is_mapping(value):
            return ctx.invalid(value, "must be a mapping")
        before = ctx.reporter.error_count
        self.check_unknown(ctx, value)
        values = Values(ctx, value, {})
        for f in self.fields:
            raw = value.get(f.name)
            here = ctx.key(value, f.name)
            if raw is None and f.null_is_empty and f.name in value:
                raw = {}
            if raw is None or (f.required and _is_empty(raw)):
                values.data[f.name] = here.required() if f.required else f.default
                continue
            values.given.add(f.name)
            values.data[f.name] = f.type.read(here, raw)
        if self.exactly_one:
            self._check_exactly_one(values)
        if self.check is not None:
            self.check(values)
        if ctx.reporter.error_count > before:
            return INVALID
        return self.build(values) if self.build is not None else values.data

    def _check_exactly_one(self, values: Values) -> None:
        given = [name for name in self.exactly_one if name in values.given]
        what = self.one_what
        if not given:
            detail = f"a {what}" if what else f"one of {quoted(self.exactly_one)}"
            values.ctx.required(f"must specify {detail}")
        for name in given[1:]:
            detail = f"1 {what}" if what else f"1 of {quoted(self.exactly_one)}"
            values.at(name).forbidden(f"may not specify more than {detail}")

    def check_unknown(self, ctx: Ctx, value: Any) -> None:
        """Report every key that is neither modelled nor known-and-ignored."""
        names = self.names
        for key in value:
            if key in names:
                continue
            here = ctx.key(value, key)
            here.report(f'unknown field "{here.path}"{hint(key, names)}')

    def json_schema(self, defs: dict[str, Any]) -> dict[str, Any]:
        """Return an object schema: properties, required, nothing else."""
        if self.schema_name and self.schema_name in defs:
            return {"$ref": f"#/$defs/{self.schema_name}"}
        if self.schema_name:
            defs[self.schema_name] = {}  # placeholder against recursion
        properties: dict[str, Any] = {}
        for f in self.fields:
            prop = dict(f.type.json_schema(defs))
            if f.null_is_empty:
                prop = {"anyOf": [prop, {"type": "null"}]}
            if f.description:
                prop["description"] = f.description
            if f.shown_default is not None:
                prop["default"] = f.shown_default
            properties[f.name] = prop
        for name in self.ignored:
            properties[name] = {"description": "Accepted and ignored."}
        schema: dict[str, Any] = {"type": "object"}
        if self.description:
            schema["description"] = self.description
        schema["properties"] = properties
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        if self.exactly_one:
            schema["oneOf"] = [{"required": [name]} for name in self.exactly_one]
        if not self.schema_name:
            return schema
        defs[self.schema_name] = schema
        return {"$ref": f"#/$defs/{self.schema_name}"}


def _is_empty(value: Any) -> bool:
    return (is_sequence(value) or is_mapping(value) or value == "") and not value
