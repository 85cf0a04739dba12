"""JSON Schema of the Scenario document, derived from the reader's field tables.

The schema is built from the same ``Obj`` tables that ``scenario_doc`` and
``behaviours`` read with, so it cannot drift from the reader. Editors use it for
completion and inline checks (``# yaml-language-server: $schema=...``). The reader
checks more than the schema can say (references between documents, the order of
phases), so a file the schema accepts can still have errors.
"""

from __future__ import annotations

from typing import Any

from sim.scenario.scenario_doc import SCENARIO_DOCUMENT

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://probesim.dev/schemas/scenario-v1alpha1.json"


def scenario_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the ``kind: Scenario`` document."""
    defs: dict[str, Any] = {}
    root = SCENARIO_DOCUMENT.json_schema(defs)
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "probesim Scenario document",
        **root,
        "$defs": dict(sorted(defs.items())),
    }
