"""Trace lines with the simulated time and the component's dotted name.

Quiet by default. With logging at DEBUG (``probesim -v``) every component writes lines
such as ``t=41.000s sim.kube.prober pod=liveness-exec container=liveness
probe=liveness result=failure``: key=value fields, not prose.
"""

from __future__ import annotations

import logging

import simpy


class SimLogger:
    """A logger that prefixes the simulated time and formats key=value fields."""

    def __init__(self, env: simpy.Environment, component: str) -> None:
        self._env = env
        self._logger = logging.getLogger(f"sim.kube.{component}")
        self.enabled = self._logger.isEnabledFor(logging.DEBUG)

    def trace(self, what: str, **fields: object) -> None:
        """Write one trace line (cheap no-op when DEBUG is off)."""
        if not self.enabled:
            return
        text = " ".join(f"{key}={value}" for key, value in fields.items())
        self._logger.debug(
            "%s %s", what, text, extra={"simtime": f"t={self._env.now:.3f}s"}
        )
