"""The probe worker (worker.go): one per (pod, container, probe type).

The worker is born at the pod's first sync (R3.1), sleeps a random part of a period
when the kubelet started less than a period ago (R3.2), then runs one attempt at once
and one per tick of a ticker anchored to its own start (R3.3). Each attempt walks the
guards of R3.4 in order; counted results feed the threshold runs of R3.6.

The steady-state fast path. When the log does not keep every attempt (record levels
``changes`` and ``metrics``), a worker whose next attempts cannot change anything
sleeps over their ticks instead of running them: while a guard of R3.4 returns early
(on hold, gated, before the initial delay, container not running), or while the
application keeps its shape (``Application.steady_until``) and another attempt with
the last one's result would only repeat it. Deterministic attempts are skipped up to
the next instant their answer can change, their draws accounted so the stream goes
on as if they had run; random ones are drawn ahead in blocks (without moving the
stream) to find the first whose result differs, which then runs for real. Either
way the worker draws exactly what it would have drawn tick by tick, so the fast
path changes no result, only which attempts reach the log. Anything
that could change an attempt (a new pod status, the process exiting, a fault, a
trigger, stop) wakes the worker, which first finishes the skipped attempt that would
still be in flight at that instant.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import simpy
from simpy.events import URGENT

from sim.kube.apiserver import PodObject
from sim.kube.application import EXEC_LATENCY
from sim.kube.clock import At, cut_short
from sim.kube.prober.prober import (
    AttemptDraws,
    ProbeOutcome,
    ProbeTarget,
    attempt_draws,
    died_during,
    run_probe,
)
from sim.kube.prober.results import Result
from sim.kube.runtime import ContainerState
from sim.kube.status import ContainerStatus
from sim.kube.streams import attempt_stream
from sim.scenario.behaviour import Distribution, DistributionKind
from sim.scenario.spec import Container, ExecAction, Probe, ProbeType, RestartPolicy
from sim.trace import EventRecord, ProbeResult, Reason, RecordLevel

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
_WAKE = "wake"
_TICK = "tick"

# Attempts drawn ahead at once by the fast path for random behaviour.
DRAW_BLOCK = 4096


@dataclass(slots=True)
class _Pass:
    """What the last pass through R3.4 did, for the fast path to plan on."""

    idle_until: float | None = None
    target: ProbeTarget | None = None
    status: ContainerStatus | None = None
    outcome: ProbeOutcome | None = None
    draws: tuple[str, ...] = ()


# The pass of an attempt that returned at a guard that holds until something
# changes. It is shared: no _Pass is changed once made (not frozen, which would
# make the one made per attempt cost more).
_NOTHING_TO_PLAN = _Pass(idle_until=math.inf)


@dataclass(slots=True)
class _Skip:
    """Ticks the worker sleeps over: ``count`` of them from ``first_tick_index``.

    ``attempts``: the ticks would have run attempts (not returned at a guard), each
    drawing ``draws`` (kinds, see ``AttemptStream``) and lasting at most
    ``longest_seconds``, against ``status`` and a process ``alive`` or not.
    """

    first_tick_index: int
    count: int
    attempts: bool = False
    draws: tuple[str, ...] = ()
    longest_seconds: float = 0.0
    status: ContainerStatus | None = None
    alive: bool = True


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
        self.stream = attempt_stream(pod.rng, f"{container.name}/{probe_type.value}")
        self.container_id = ""
        self.last_result: Result | None = None
        self.result_run = 0
        self.on_hold = False
        self.stopped = False
        self._waiting = False
        self._skipping = False
        self._trigger_pending = False
        self._changed = False
        self._last = _Pass()
        # The end of the attempt in flight, which the process's exit cuts short,
        # and the exit event watched.
        self._attempt_end: At | None = None
        self._watched_exit: simpy.Event | None = None
        # R3.3: the ticker, as its anchor and the index of its next tick.
        self._anchor = 0.0
        self._tick_index = 0
        # Ticks due at one instant run in the order the workers were made (see
        # the tick order note at the end).
        self.tick_priority = URGENT - 1 + manager.workers_made * 2.0**-30
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

    def wake(self) -> None:
        """Something an attempt reads has changed: stop skipping ticks.

        The next tick then runs a real attempt, which reads the new state, before
        the worker plans to skip again.
        """
        self._changed = True
        if self._skipping and self._waiting:
            self._waiting = False
            self.process.interrupt(_WAKE)

    # The loop.

    def _tick(self, index: int) -> float:
        return self._anchor + index * float(self.probe.period_seconds)

    def _wait(self, at: float) -> Generator[simpy.Event, object, str]:
        self._waiting = True
        try:
            yield At(self.env, at, self.tick_priority)
        except simpy.Interrupt as interrupt:
            return str(interrupt.cause)
        self._waiting = False
        return _TICK

    def run(self) -> Generator[simpy.Event, object, None]:
        """The worker's process: jitter, then an attempt per tick or trigger."""
        env = self.env
        period = float(self.probe.period_seconds)

        # R3.2: a worker born within one period of the kubelet start sleeps U[0, P).
        # The sleep is not interruptible: triggers wait in their buffer of one.
        jittered = self.manager.start_jitter(period)
        if jittered:
            yield env.timeout(self.pod.rng.uniform(0.0, period))

        # R3.3: one attempt at once, then one per tick of a ticker anchored here,
        # or (Uniform grid phase) at a random point of the first period. After the
        # R3.2 sleep the grid is already at a random phase, and the attempt at once
        # may probe a running container: the plain ticker keeps the next attempt a
        # whole period away, as on a node.
        delay = (
            period if jittered else self.manager.first_tick_delay(period, self.pod.rng)
        )
        self._anchor = env.now + delay
        self._tick_index = 0
        while not self.stopped:
            keep_going = yield from self.do_probe()
            if not keep_going or self.stopped:
                break
            woke = yield from self._next_attempt()
            if woke == _STOP:
                break

            # R3.9: since 1.32 a manual trigger re-arms the ticker.
            if woke != _TRIGGER:
                continue
            if self.manager.features.readiness_ticker_reset:
                self._anchor, self._tick_index = env.now, 1
            elif self._tick(self._tick_index) <= env.now:
                self._tick_index += 1
        self._finish()

    def _next_attempt(self) -> Generator[simpy.Event, object, str]:
        """Wait for the next attempt: a tick, a trigger, or stop (R3.3)."""
        env = self.env
        period = float(self.probe.period_seconds)
        while True:
            if self.stopped:
                return _STOP
            now = env.now
            next_tick = self._tick(self._tick_index)

            # R3.3: a tick that fell due during the attempt is pending (a Go ticker
            # buffers one and drops the rest): run again at once.
            if self._trigger_pending:
                self._trigger_pending = False
                return _TRIGGER
            if next_tick <= now:
                self._tick_index += math.floor((now - next_tick) / period) + 1
                return _TICK

            plan = self.manager.fast_path and not self._changed
            skip = self._plan_skip() if plan else None
            if skip is None:
                woke = yield from self._wait(next_tick)
                if woke == _TICK:
                    self._tick_index += 1
                return woke

            self._skipping = True
            resume_index = skip.first_tick_index + skip.count
            woke = yield from self._wait(self._tick(resume_index))
            self._skipping = False
            if woke == _TICK:
                self._account(skip, skip.count)
                self._tick_index = resume_index + 1
                return _TICK

            # Woken early: the ticks up to now were skipped (a tick at this very
            # instant came first: the tick order note at the end), the later ones
            # are not.
            first = skip.first_tick_index
            done = max(math.floor((env.now - self._tick(first)) / period) + 1, 0)
            # The division may round across a tick: settle on the ticks' own times.
            while done > 0 and self._tick(first + done - 1) > env.now:
                done -= 1
            while self._tick(first + done) <= env.now:
                done += 1
            done = min(done, skip.count)
            self._tick_index = skip.first_tick_index + done
            if done and skip.attempts:
                self._account(skip, done - 1)
                last = self._tick(skip.first_tick_index + done - 1)
                if last + skip.longest_seconds > env.now:
                    # The last skipped attempt would still be in flight: finish it
                    # (a trigger meanwhile waits in its buffer, R3.3).
                    if woke == _TRIGGER:
                        self._trigger_pending = True
                    keep_going = yield from self._replay(skip, done - 1, last)
                    if not keep_going:
                        return _STOP
                    continue
                self._account(skip, 1)
            if woke == _WAKE:
                continue
            return woke

    def _watch_exit(self, exited: simpy.Event) -> None:
        # The exit of the process ends an attempt in flight at once (see
        # ``_attempt``); one watch per container instance, not one per attempt.
        if exited is self._watched_exit or exited.callbacks is None:
            return
        exited.callbacks.append(self._on_exit)
        self._watched_exit = exited

    def _on_exit(self, exited: simpy.Event) -> None:
        end = self._attempt_end
        if end is not None and exited is self._watched_exit:
            cut_short(end)

    def _account(self, skip: _Skip, attempts: int) -> None:
        # The draws the skipped attempts would have made, so the stream goes on as
        # if they had run.
        if skip.attempts:
            self.stream.consume(skip.draws, attempts)

    def _finish(self) -> None:
        self.stopped = True
        if self.container_id:
            self.results.remove(self.container_id)
        self.manager.worker_done(self)

    # The fast path's plan.

    def _plan_skip(self) -> _Skip | None:
        """Ticks from the next one on that would change nothing, or None."""
        last = self._last
        first = self._tick_index
        period = float(self.probe.period_seconds)
        if last.idle_until is not None or self.on_hold:
            horizon = math.inf if last.idle_until is None else last.idle_until
            count = self._ticks_before(first, horizon)
            return _Skip(first, count) if count else None

        target, status, outcome = last.target, last.status, last.outcome
        if target is None or status is None or outcome is None:
            return None
        if not self._repeat_changes_nothing(outcome.result):
            return None
        shape = target.application.steady_until(target.uptime_seconds, target.now)
        if shape is None:
            return None
        draws = attempt_draws(self.probe, target, self.manager.features)
        if not draws.known:
            return None

        # How long an attempt can last: as the last one when nothing is drawn;
        # else the timeout, or less when the latency is bounded.
        longest = outcome.duration_seconds
        if last.draws:
            longest = float(self.probe.timeout_seconds)
            if draws.latency is not None:
                longest = min(longest, draws.latency.upper_bound())
            elif isinstance(self.probe.handler, ExecAction):
                longest = min(longest, EXEC_LATENCY.upper_bound())
        if longest >= period:
            return None
        uptime_horizon, time_horizon = shape
        horizon = min(status.started_at + uptime_horizon, time_horizon) - longest
        count = self._ticks_before(first, horizon)
        if count == 0:
            return None
        skip = _Skip(
            first,
            count,
            attempts=True,
            draws=last.draws,
            longest_seconds=longest,
            status=status,
            alive=target.alive,
        )
        if draws.fixed:
            return skip

        # Random results: look at the draws ahead for the first attempt whose
        # result differs from the last one's; it runs, the ones before it do not.
        if len(draws.columns) != len(last.draws):
            return None
        n = min(count, DRAW_BLOCK)
        ok = self._succeeds(draws, self.stream.peek(last.draws, n))
        steady_ok = outcome.result is not ProbeResult.FAILURE
        differs = np.flatnonzero(ok != steady_ok)
        skip.count = int(differs[0]) if len(differs) else n
        return skip if skip.count else None

    @staticmethod
    def _succeeds(draws: AttemptDraws, raw: np.ndarray) -> np.ndarray:
        """Which attempts succeed, from their raw draws (R4.2-R4.5: status, timeout)."""
        phase, latency_dist = draws.phase, draws.latency
        assert phase is not None and latency_dist is not None
        assert draws.success is not None
        n = len(raw)
        status_ok = np.full(n, draws.success(phase.status))
        latency = np.full(n, latency_dist.a)
        for column, role in enumerate(draws.columns):
            values = raw[:, column]
            if role == "flake":
                assert phase.flake is not None
                hit = values < phase.flake.probability
                status_ok = np.where(hit, draws.success(phase.flake.status), status_ok)
            elif role == "latency" or (
                role == "default" and latency_dist is EXEC_LATENCY
            ):
                latency = _scaled(latency_dist, values)
        return status_ok & (latency <= draws.timeout_seconds)

    def _ticks_before(self, first_index: int, horizon: float) -> int:
        """How many ticks from ``first_index`` on fall strictly before ``horizon``."""
        if horizon == math.inf:
            return 1 << 62
        period = float(self.probe.period_seconds)
        count = math.ceil((horizon - self._tick(first_index)) / period)
        return max(count, 0)

    def _repeat_changes_nothing(self, result: ProbeResult) -> bool:
        """Whether another attempt with this result would only repeat the last.

        R3.6: beyond the threshold a repeated Success is published again, which the
        results cache ignores, and the log keeps it only at level ``all``. Failures,
        warnings and errors each leave a kubelet event (R4.1) that the metrics
        count, so those attempts always run.
        """
        return (
            result is ProbeResult.SUCCESS
            and self.manager.record_level is not RecordLevel.ALL
            and self.last_result is Result.SUCCESS
            and self.result_run >= self.probe.success_threshold
        )

    # One attempt.

    def do_probe(self) -> Generator[simpy.Event, object, bool]:
        """One attempt through the guards of R3.4; returns False to end the worker."""
        env = self.env
        status = self.manager.status_manager.get(self.pod.uid)
        self._last = _NOTHING_TO_PLAN
        self._changed = False

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
            self._last = _Pass(
                idle_until=c.started_at + self.probe.initial_delay_seconds
            )
            return True

        # R3.4 (9): startup gating.
        if (self.probe_type is ProbeType.STARTUP) == c.started:
            return True

        # R3.4 (10): run the probe; the attempt takes simulated time.
        return (yield from self._attempt(c, env.now))

    def _replay(
        self, skip: _Skip, index: int, started: float
    ) -> Generator[simpy.Event, object, bool]:
        """Run the skipped attempt that began at ``started`` and is still in flight."""
        assert skip.status is not None
        return (yield from self._attempt(skip.status, started, skip.alive))

    def _attempt(
        self,
        c: ContainerStatus,
        started: float,
        alive: bool | None = None,
    ) -> Generator[simpy.Event, object, bool]:
        """Run the probe from ``started`` (now, or earlier for a replay), then count.

        ``alive``: whether the process ran when the attempt began (default: now).
        """
        env = self.env
        instance = self.manager.runtime.instance(self.pod.uid, self.container_id)
        self.stream.kinds = []
        if alive is None:
            alive = instance.state is ContainerState.RUNNING
        target = ProbeTarget(
            self.container,
            self.pod.ip,
            instance.application,
            instance.id,
            started - c.started_at,
            started,
            alive=alive,
            rng=self.stream,
        )
        outcome = run_probe(self.probe, target, self.manager.features)
        ends = started + outcome.duration_seconds
        remaining = ends - env.now
        died_already = alive and instance.state is not ContainerState.RUNNING
        # The attempt ends at ``ends``, or earlier if the process it probes exits
        # first (``_on_exit`` cuts the wait short).
        if remaining > 0 and not died_already:
            end = At(env, ends)
            exited = instance.exited
            if target.alive and exited is not None:
                self._watch_exit(exited)
                self._attempt_end = end
            yield end
            self._attempt_end = None

        # The process died during the attempt: the connection or exec session ends
        # with it, at that moment.
        died = target.alive and instance.state is not ContainerState.RUNNING
        if died and remaining > 0:
            outcome = died_during(self.probe.handler, env.now - started)
        self._last = _Pass(
            target=target,
            status=c,
            outcome=outcome,
            draws=tuple(self.stream.kinds),
        )
        outcome_result = outcome.result
        duration, message = env.now - started, outcome.message
        if self.stopped:
            return False
        self._record(outcome_result, duration, message)

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

    def _record(self, result: ProbeResult, duration: float, message: str) -> None:
        manager = self.manager
        follow_up = KUBELET_EVENT.get(result)
        log = manager.log
        # An attempt with no kubelet event whose Probe event the record level
        # drops leaves nothing: it is not built.
        dropped = manager.record_level.drops(Reason.PROBE)
        if follow_up is None and dropped and not log.enabled:
            return

        now = self.env.now
        pod, name = self.pod.name, self.container.name
        kind = self.probe_type.value
        record = manager.recorder.record
        restart_count = manager.runtime.restart_count(self.pod.uid, name)
        text = f"duration={duration:.6f}s {message}".rstrip()
        record(
            EventRecord(
                now, pod, name, Reason.PROBE, kind, result.value, restart_count, text
            )
        )

        # R4.1: the kubelet's own event for an attempt that did not succeed.
        if follow_up is not None:
            reason, verb = follow_up
            text = f"{self.probe_type.title} probe {verb}: {message}"
            record(
                EventRecord(
                    now, pod, name, reason, kind, result.value, restart_count, text
                )
            )
        if log.enabled:
            log.trace(
                "probe",
                pod=pod,
                container=name,
                probe=kind,
                result=result.value,
                duration=f"{duration:.3f}s",
            )


def _scaled(distribution: Distribution, raw: np.ndarray) -> np.ndarray:
    """Turn raw draws (U[0, 1), N(0, 1) or Exp(1), by kind) into durations."""
    kind = distribution.kind
    if kind is DistributionKind.UNIFORM:
        return distribution.a + (distribution.b - distribution.a) * raw
    if kind is DistributionKind.EXPONENTIAL:
        return distribution.a * raw
    if kind is DistributionKind.LOGNORMAL:
        return distribution.a * np.exp(distribution.log_sigma * raw)
    return np.full(len(raw), distribution.a)


# Tick order. Ticks (R3.3) and the ends of attempts are scheduled at their own
# times (sim.kube.clock.At): ``env.timeout`` can miss them by a rounding step, and
# no delay may hit them (the sum of two floats rounds to even), so a worker that
# skipped ticks (the fast path) logs the same instants as one that ran them all.
#
# Two things due at the same instant (a tick and the end of another probe's
# attempt, say, when two probes share a period and a start) would otherwise run
# in the order their events were made, an accident of the run's history. Ticks
# come first (a priority below URGENT), so at any instant every due tick runs,
# and its attempt reads the state, before a normal event changes that state. This
# makes the order a rule that a worker skipping ticks can follow: woken at the
# instant of a tick, it counts that tick as already run. Ticks due at one instant
# run in the order their workers were made (``ProbeWorker.tick_priority``), not
# in the order they were scheduled, which the fast path changes: so the same
# seed gives the same log with and without it, even where ticks of two pods
# coincide (``probeGridPhase: Derived``, pods created together).
