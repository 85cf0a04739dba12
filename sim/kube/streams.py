"""Random streams: one seeded generator per run, an independent child per pod.

Each stream is keyed by a name (``pod/web-0``, ``kubelet``) rather than by creation
order, so adding a pod does not change the draws of any other pod.
"""

from __future__ import annotations

import zlib

import numpy as np


class Streams:
    """The random generators of one run, derived from its seed."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def stream(self, key: str) -> np.random.Generator:
        """Return the generator for ``key``, creating it on first use."""
        generator = self._streams.get(key)
        if generator is None:
            sequence = np.random.SeedSequence(
                entropy=self.seed, spawn_key=(zlib.crc32(key.encode()),)
            )
            generator = np.random.Generator(np.random.PCG64(sequence))
            self._streams[key] = generator
        return generator

    def for_pod(self, pod_name: str) -> np.random.Generator:
        """Return the stream of one pod."""
        return self.stream(f"pod/{pod_name}")
