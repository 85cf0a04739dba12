"""Random streams: one seeded generator per run, an independent child per pod.

Each stream is keyed by a name (``pod/web-0``, ``kubelet``) rather than by creation
order, so adding a pod does not change the draws of any other pod.
"""

from __future__ import annotations

import zlib
from typing import cast

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


def attempt_stream(pod_rng: np.random.Generator, key: str) -> AttemptStream:
    """Return the stream of one probe worker's attempts, derived from its pod's.

    The child is keyed by name (``web/liveness``), not by creation order. Attempts
    draw only from it, so a worker that jumps over attempts (the steady-state fast
    path) changes no other draw of the run.
    """
    parent = pod_rng.bit_generator.seed_seq
    assert isinstance(parent, np.random.SeedSequence)
    sequence = np.random.SeedSequence(
        entropy=parent.entropy,
        spawn_key=(*parent.spawn_key, zlib.crc32(key.encode())),
    )
    return AttemptStream(np.random.Generator(np.random.PCG64(sequence)))


class AttemptStream:
    """A generator that notes the kind of each draw, so attempts can be skipped.

    Each draw is noted in ``kinds`` as ``u`` (uniform: ``random``, ``uniform``),
    ``n`` (standard normal) or ``e`` (exponential). Knowing one attempt's kinds,
    ``consume`` advances the stream past ``n`` such attempts exactly as drawing them
    one by one would (PCG64 ``advance`` for uniforms, which take one output each;
    numpy's array draws, which run the same ziggurat in the same order, for a
    single normal or exponential), and ``peek`` returns their raw values without
    moving the stream.
    """

    __slots__ = ("generator", "kinds")

    def __init__(self, generator: np.random.Generator) -> None:
        self.generator = generator
        self.kinds: list[str] = []

    def random(self) -> float:
        """Draw U[0, 1)."""
        self.kinds.append("u")
        return float(self.generator.random())

    def uniform(self, low: float, high: float) -> float:
        """Draw U[low, high)."""
        self.kinds.append("u")
        return float(self.generator.uniform(low, high))

    def exponential(self, scale: float) -> float:
        """Draw an exponential with mean ``scale``."""
        self.kinds.append("e")
        return float(self.generator.exponential(scale))

    def standard_normal(self) -> float:
        """Draw N(0, 1)."""
        self.kinds.append("n")
        return float(self.generator.standard_normal())

    def consume(self, pattern: tuple[str, ...], n: int) -> None:
        """Advance past ``n`` attempts each drawing ``pattern``, as drawing would."""
        if n <= 0 or not pattern:
            return
        if all(kind == "u" for kind in pattern):
            bits = cast(np.random.PCG64, self.generator.bit_generator)
            bits.advance(n * len(pattern))
            return
        self._draw(pattern, n)

    def peek(self, pattern: tuple[str, ...], n: int) -> np.ndarray:
        """Raw draws of the next ``n`` attempts, shape (n, len(pattern)), unmoved.

        ``u`` columns hold U[0, 1), ``n`` standard normals, ``e`` standard
        exponentials: what the attempts will draw, in order.
        """
        bit_generator = self.generator.bit_generator
        state = bit_generator.state
        try:
            return self._draw(pattern, n)
        finally:
            bit_generator.state = state

    def _draw(self, pattern: tuple[str, ...], n: int) -> np.ndarray:
        g = self.generator
        if all(kind == "u" for kind in pattern):
            return g.random((n, len(pattern)))
        if pattern == ("n",):
            return g.standard_normal(n)[:, None]
        if pattern == ("e",):
            return g.standard_exponential(n)[:, None]
        # Mixed kinds: one by one, in order.
        one = {"u": g.random, "n": g.standard_normal, "e": g.standard_exponential}
        values = np.empty((n, len(pattern)))
        for row in range(n):
            for column, kind in enumerate(pattern):
                values[row, column] = one[kind]()
        return values
