"""The worker: fires due BPMN timers, calls other agencies' APIs (connectors) and runs SLA escalations.

Any number of workers may run side by side on PostgreSQL: each due case is claimed with
`FOR UPDATE SKIP LOCKED` inside the transaction that fires it (Engine.fire_next_due_timer), so a
case fires once however many workers look at it. On SQLite one worker is enough (and more are safe:
write transactions are serialised). The engine's clock decides what is due; sleeping is real time.
"""
from __future__ import annotations

import logging
import threading
import time

from .engine import Engine, TimerFailed
from .errors import AlurError

log = logging.getLogger("alur.worker")

# SpiffWorkflow fires a timer once its moment has passed, not at it: wake a little after.
_AFTER_DUE = 0.02
# Never spin: the shortest pause between two passes that found due work they could not take.
_MIN_PAUSE = 0.05


class Worker:
    """Fires due timers and escalations in passes; `run_forever` loops until told to stop.

    A case whose timer fails (a ScriptError in the SOP after the timer, say) is logged with its id,
    left as it is, and not tried again for `retry_after` seconds, doubling on each failure up to
    `max_retry_after`; the other cases go on.
    """

    def __init__(self, engine: Engine, *, max_sleep: float = 30.0, batch: int = 100,
                 retry_after: float = 60.0, max_retry_after: float = 3600.0):
        if max_sleep <= 0:
            raise ValueError("max_sleep must be positive")
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.engine = engine
        self.max_sleep = float(max_sleep)
        self.batch = int(batch)
        self.retry_after = float(retry_after)
        self.max_retry_after = float(max_retry_after)
        # case id -> (monotonic time it may be tried again, the pause that was chosen)
        self._failing: dict[int, tuple[float, float]] = {}
        self._full_pass = False
        self._stop: threading.Event | None = None  # set by run_forever: a pass ends early on stop
        self.fired_total = 0
        self.escalations_total = 0
        self.calls_total = 0
        self.failures_total = 0

    # --- one pass ---------------------------------------------------------------------------------
    def run_once(self) -> int:
        """Fire every due timer (at most `batch` cases), then run escalations; returns cases fired."""
        fired, attempts, seen = 0, 0, set()
        while attempts < self.batch:
            if self._stop is not None and self._stop.is_set():
                break
            attempts += 1
            try:
                case_id = self.engine.fire_next_due_timer(exclude=seen | self._backing_off())
            except TimerFailed as exc:
                seen.add(exc.case_id)
                self._back_off(exc)
                continue
            except Exception:
                log.exception("firing timers failed; trying again on the next pass")
                break
            if case_id is None:
                break
            # Once per pass: a case whose next timer is already due again waits for the next pass.
            seen.add(case_id)
            fired += 1
            if self._failing.pop(case_id, None) is not None:
                log.info("case %s: timers fired (it failed before)", case_id)
            else:
                log.info("case %s: timers fired", case_id)
        self._full_pass = attempts >= self.batch
        self.fired_total += fired
        if self._stop is None or not self._stop.is_set():
            self._call_connectors()
        if self._stop is None or not self._stop.is_set():
            self._escalate()
        return fired

    def _call_connectors(self) -> int:
        """Run the due calls to other agencies (connectors.py); each call's outcome is its job's."""
        called = self._side_pass("connector calls", lambda: self.engine.run_connector_jobs(limit=self.batch,
                                                                                          stop=self._stop))
        self.calls_total += called
        return called

    def _escalate(self) -> int:
        sent = self._side_pass("SLA escalations", self.engine.run_escalations)
        self.escalations_total += sent
        return sent

    @staticmethod
    def _side_pass(what: str, run) -> int:
        """One pass of work beside the timers; a failure is logged and tried again on the next pass."""
        try:
            done = run() or 0
        except Exception:
            log.exception("%s failed; trying again on the next pass", what)
            return 0
        if done:
            log.info("%s: %s done", what, done)
        return done

    # --- failing cases ----------------------------------------------------------------------------
    def _back_off(self, exc: TimerFailed) -> None:
        previous = self._failing.get(exc.case_id)
        pause = self.retry_after if previous is None else min(previous[1] * 2, self.max_retry_after)
        self._failing[exc.case_id] = (time.monotonic() + pause, pause)
        self.failures_total += 1
        log.error("case %s: firing its timer failed, left as it is; trying it again in %.0f s: %s",
                  exc.case_id, pause, exc.cause, exc_info=not isinstance(exc.cause, AlurError))

    def _backing_off(self) -> set[int]:
        now = time.monotonic()
        return {case_id for case_id, (retry_at, _) in self._failing.items() if retry_at > now}

    def failing(self) -> dict[int, float]:
        """The cases left alone after a failure, with the seconds until they are tried again."""
        now = time.monotonic()
        return {case_id: max(0.0, retry_at - now) for case_id, (retry_at, _) in self._failing.items()}

    # --- the loop ---------------------------------------------------------------------------------
    def seconds_to_next(self) -> float:
        """Real seconds to sleep before the next pass: until the next due timer, at most max_sleep."""
        delay = self.max_sleep
        try:
            due = self.engine.next_timer_due(exclude=self._backing_off())
            now = self.engine.now()
        except Exception:
            log.exception("reading the next due timer failed")
            return self.max_sleep
        if due is not None:
            delay = min(delay, (due - now).total_seconds() + _AFTER_DUE)
        try:
            call_due = self.engine.next_connector_job_due()
        except Exception:
            log.exception("reading the next due connector call failed")
            call_due = None
        if call_due is not None:
            # At least a second: an overdue call left for the next pass (its agency was down) must not spin.
            delay = min(delay, max((call_due - now).total_seconds(), 1.0))
        if self._failing:
            soonest = min(retry_at for retry_at, _ in self._failing.values())
            delay = min(delay, soonest - time.monotonic() + _AFTER_DUE)
        if self._full_pass:
            return 0.0  # more was due than one pass takes: go on at once
        return max(delay, _MIN_PAUSE)

    def run_forever(self, stop: threading.Event) -> None:
        """Pass after pass until `stop` is set; one case's error never ends the loop."""
        log.info("worker started (%s database, batch %d, sleeping at most %.1f s)",
                 self.engine.db.dialect, self.batch, self.max_sleep)
        self._stop = stop
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # run_once guards itself; this is the last line of defence
                log.exception("worker pass failed")
            if stop.is_set():
                break
            delay = self.seconds_to_next()
            if delay > 0:
                log.debug("sleeping %.2f s", delay)
                stop.wait(delay)
        self._stop = None
        log.info("worker stopped (%d case(s) fired, %d escalation(s), %d failure(s))",
                 self.fired_total, self.escalations_total, self.failures_total)

    def start_thread(self, stop: threading.Event, name: str = "alur-worker") -> threading.Thread:
        """Run the loop in a daemon thread (the in-process worker of `alur serve`)."""
        thread = threading.Thread(target=self.run_forever, args=(stop,), name=name, daemon=True)
        thread.start()
        return thread

