"""The run cache: finished runs kept on disk, one small JSON file per run.

A run's key is the SHA-256 of its point's resolved scenario (``Point.resolved``),
its seed, the probesim version, a fingerprint of probesim's source and the cache
format, so a rerun of a sweep, or another sweep that meets the same scenario and
seed, reuses it; any change to the scenario, the seed or the model's code makes a
new key. The file
``DIR/ab/abcdef....json`` holds the run's metric rows (one per pod). Files are
written under a temporary name and renamed, so a reader never sees half a file;
a file that cannot be read counts as missing. Failed runs are not cached.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import sim

CACHE_FORMAT = 1

Rows = list[dict[str, Any]]


@functools.cache
def model_fingerprint() -> str:
    """SHA-256 of probesim's own source files.

    Part of every key, so that a change to the model makes new keys even when the
    version number stays the same (a development checkout).
    """
    digest = hashlib.sha256()
    root = Path(sim.__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def run_key(resolved: str, seed: int) -> str:
    """The cache key of one run: SHA-256 hex of scenario, seed and model."""
    material = json.dumps(
        {
            "format": CACHE_FORMAT,
            "probesim": sim.__version__,
            "model": model_fingerprint(),
            "seed": int(seed),
            "scenario": resolved,
        },
        sort_keys=True,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class RunCache:
    """Finished runs under a folder; ``RunCache(None)`` keeps nothing."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory

    def _path(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> Rows | None:
        """The metric rows of a finished run, or None."""
        if self.directory is None:
            return None
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        rows = data.get("rows")
        return rows if isinstance(rows, list) else None

    def put(self, key: str, seed: int, rows: Rows) -> None:
        """Keep a finished run (atomically: all of the file or nothing)."""
        if self.directory is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(
            {"key": key, "seed": seed, "probesim": sim.__version__, "rows": rows}
        )
        handle, temporary = tempfile.mkstemp(
            prefix=".probesim-", suffix=".tmp", dir=path.parent
        )
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
