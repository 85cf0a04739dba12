"""The probe worker (worker.go): one per (pod, container, probe type).

The worker is born at the pod's first sync (R3.1), sleeps a random part of a period
when the kubelet started less than a period ago (R3.2), then runs one attempt at once
and one per tick of a ticker anchored to its own start (R3.3). Each attempt walks the
guards of R3.4 in order; counted results feed the threshold runs of R3.6.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

import simpy

from sim.kube.apiserver import PodObject
from sim.kube.prober.prober import ProbeTarget, died_during, run_probe
from sim.kube.prober.results import Result
from sim.kube.runtime import ContainerState
from sim.scenario.spec import Container, Probe, ProbeType, RestartPolicy
from sim.trace import EventRecord, ProbeResult, Reason

if TYPE_CHECKING:
    from sim.kube.prober.manager import ProbeManager

# R3.5 (worker.go newWorker): the value stored when a new container ID is first seen.
INITIAL_RESULT = {
    ProbeType.READINESS: Result.FAILURE,
    ProbeType.LIVENESS: Result.SUCCESS,
    ProbeType.STARTUP: Result.UNKNOWN,
}

# R4.1: the kubelet's event after a failed, warned or errored attempt, and its verb.
KUBELET_EVENT = {
    ProbeResult.FAILURE: (Reason.UNHEALTHY, "failed"),
    ProbeResult.WARNING: (Reason.PROBE_WARNING, "warning"),
    ProbeResult.ERROR: (Reason.UNHEALTHY, "errored"),
}

_TRIGGER = "manual-trigger"
_STOP = "stop"


class ProbeWorker:
    """Probes one container of one pod periodically, for the pod's whole life."""

    def __init__(
        self,
        manager: ProbeManager,
        pod: PodObject,
        container: Container,
        probe_type: ProbeType,
        probe: Probe,
    ) -> None:
        self.manager = manager
        self.env: simpy.Environment = manager.env
        self.pod = pod
        self.container = container
        self.probe_type = probe_type
        self.probe = probe
        self.results = manager.results[probe_type]
        self.container_id = ""
        self.last_result: Result | None = None
        self.result_run = 0
        self.on_hold = False
        self.stopped = False
        self._waiting = False
        self._trigger_pending = False
        self.process = self.env.process(self.run())

    # Signals from the kubelet.

    def manual_trigger(self) -> None:
        """Ask for an attempt now (buffer of one; extra signals are dropped)."""
        if self.stopped:
            return
        if self._waiting:
            self._waiting = False
            self.process.interrupt(_TRIGGER)
            return
        self._trigger_pending = True

    def stop(self) -> None:
        """Stop the worker; an attempt in flight finishes but is not published."""
        if self.stopped:
            return
        self.stopped = True
        if self._waiting:
            self._waiting = False
            self.process.interrupt(_STOP)

    # The loop.

    def _wait(self, delay: float) -> Generator[simpy.Event, object, str]:
        self._waiting = True
        try:
            yield self.env.timeout(delay)
        except simpy.Interrupt as interrupt:
            return str(interrupt.cause)
        self._waiting = False
        return "tick"

    def run(self) -> Generator[simpy.Event, object, None]:
        """The worker's process: jitter, then an attempt per tick or trigger."""
        env = self.env
        period = float(self.probe.period_seconds)

        # R3.2: a worker born within one period of the kubelet start sleeps U[0, P).
        # The sleep is not interruptible: triggers wait in their buffer of one.
        if self.manager.start_jitter(period):
            yield env.timeout(self.pod.rng.uniform(0.0, period))

        # R3.3: one attempt at once, then one per tick of a ticker anchored here,
        # or (Uniform grid phase) at a random point of the first period.
        next_tick = env.now + self.manager.first_tick_delay(period, self.pod.rng)
        while not self.stopped:
            keep_going = yield from self.do_probe()
            if not keep_going or self.stopped:
                break

            # R3.3: a tick that fell due during the attempt is pending (a Go ticker
            # buffers one and drops the rest): run again at once.
            now = env.now
            if self._trigger_pending:
                self._trigger_pending = False
                woke = _TRIGGER
            elif next_tick <= now:
                next_tick += period * (math.floor((now - next_tick) / period) + 1)
                continue
            else:
                woke = yield from self._wait(next_tick - now)
            if woke == _STOP:
                break
            if woke == "tick":
                next_tick += period
                continue

            # R3.9: since 1.32 a manual trigger re-arms the ticker.
            if self.manager.features.readiness_ticker_reset:
                next_tick = env.now + period
            elif next_tick <= env.now:
                next_tick += period
        self._finish()

    def _finish(self) -> None:
        self.stopped = True
        if self.container_id:
            self.results.remove(self.container_id)
        self.manager.worker_done(self)

    def do_probe(self) -> Generator[simpy.Event, object, bool]:
        """One attempt through the guards of R3.4; returns False to end the worker."""
        env = self.env
        status = self.manager.status_manager.get(self.pod.uid)

        # R3.4 (1): no cached pod status yet: nothing to do.
        if status is None:
            return True

        # R3.4 (2): a terminal pod ends the worker.
        if status.phase.terminal:
            return False

        # R3.4 (3): the container has no status or no ID yet.
        c = status.containers.get(self.container.name)
        if c is None or not c.container_id:
            return True

        # R3.4 (4): a new container ID: forget the old result, store the initial one.
        # The threshold run (last_result, result_run) is deliberately kept (R3.6).
        if c.container_id != self.container_id:
            if self.container_id:
                self.results.remove(self.container_id)
            self.container_id = c.container_id
            self.results.set(
                self.container_id, INITIAL_RESULT[self.probe_type], self.pod
            )
            self.on_hold = False

        # R3.4 (5): on hold after a decisive result (R3.7).
        if self.on_hold:
            return True

        # R3.4 (6): a container that is not running fails; the worker ends if it
        # will never run again.
        if not c.running:
            self.results.set(self.container_id, Result.FAILURE, self.pod)
            never = self.pod.pod.restart_policy is RestartPolicy.NEVER
            return not (c.terminated and never)

        # R3.4 (7): the deletion check reads the pod object the worker was created
        # with, which is never refreshed, so it cannot fire; R3.12 stops the worker.

        # R3.4 (8): before initialDelaySeconds, measured from StartedAt.
        uptime = env.now - c.started_at
        if math.floor(uptime) < self.probe.initial_delay_seconds:
            return True

        # R3.4 (9): startup gating.
        if (self.probe_type is ProbeType.STARTUP) == c.started:
            return True

        # R3.4 (10): run the probe; the attempt takes simulated time.
        instance = self.manager.runtime.instance(self.pod.uid, self.container_id)
        target = ProbeTarget(
            self.container,
            self.pod.ip,
            instance.application,
            instance.id,
            uptime,
            env.now,
            alive=instance.state is ContainerState.RUNNING,
        )
        outcome = run_probe(self.probe, target, self.manager.features)
        started = env.now
        if outcome.duration_seconds > 0:
            exited = instance.exited
            if target.alive and exited is not None:
                yield env.timeout(outcome.duration_seconds) | exited
            else:
                yield env.timeout(outcome.duration_seconds)

        # The process died during the attempt: the connection or exec session ends
        # with it, at that moment.
        if target.alive and instance.state is not ContainerState.RUNNING:
            outcome = died_during(self.probe.handler, env.now - started)
        outcome_result = outcome.result
        duration, message = env.now - started, outcome.message
        if self.stopped:
            return False
        count = self.manager.runtime.restart_count(self.pod.uid, self.container.name)
        self._record(outcome_result, duration, message, count)

        # R4.1: an error is discarded: it neither counts nor resets the run.
        if outcome_result is ProbeResult.ERROR:
            return True
        result = (
            Result.FAILURE if outcome_result is ProbeResult.FAILURE else Result.SUCCESS
        )

        # R3.6: count consecutive identical results; publish at the threshold.
        if result is self.last_result:
            self.result_run += 1
        else:
            self.last_result = result
            self.result_run = 1
        if result is Result.FAILURE and self.result_run < self.probe.failure_threshold:
            return True
        if result is Result.SUCCESS and self.result_run < self.probe.success_threshold:
            return True
        self.results.set(self.container_id, result, self.pod)

        # R3.7: hold after a liveness or startup Failure, and (1.32+) after a
        # startup Success, until a new container appears.
        decisive = (
            result is Result.FAILURE and self.probe_type is not ProbeType.READINESS
        )
        if self.probe_type is ProbeType.STARTUP and result is Result.SUCCESS:
            decisive = self.manager.features.startup_hold_after_success
        if decisive:
            self.result_run = 0
            self.on_hold = True
        return True

    def _record(
        self, result: ProbeResult, duration: float, message: str, restart_count: int
    ) -> None:
        now = self.env.now
        pod, name = self.pod.name, self.container.name
        kind = self.probe_type.value
        record = self.manager.recorder.record
        text = f"duration={duration:.6f}s {message}".rstrip()
        record(
            EventRecord(
                now, pod, name, Reason.PROBE, kind, result.value, restart_count, text
            )
        )

        # R4.1: the kubelet's own event for an attempt that did not succeed.
        follow_up = KUBELET_EVENT.get(result)
        if follow_up is not None:
            reason, verb = follow_up
            text = f"{self.probe_type.title} probe {verb}: {message}"
            record(
                EventRecord(
                    now, pod, name, reason, kind, result.value, restart_count, text
                )
            )
        self.manager.log.trace(
            "probe",
            pod=pod,
            container=name,
            probe=kind,
            result=result.value,
            duration=f"{duration:.3f}s",
        )
