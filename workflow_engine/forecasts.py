"""The Engine's forecasts: simulated cases of any SOP version or draft, and simplification findings."""
from __future__ import annotations

import copy
from collections import OrderedDict

from sqlalchemy import func, select

from . import store
from .errors import InvalidState
from .findings import find
from .sop_refs import parse_ref
from .models import Case, ProcessVersion, TaskRecord
from .sim_history import History
from .sim_model import SopModel, build_model
from .simulation import Simulator

MAX_CASES = 20_000
# The forecast of a version samples the latest this many cases of each version of its SOP.
HISTORY_CASES = 2000
REMEMBERED = 64  # forecasts kept per engine; each is valid until the SOP's records change


class Forecasts:
    """Simulation and findings of SOP versions and drafts."""

    def simulate(self, key: str, ref, *, cases: int = 1000, seed: int = 0,
                 exclude_versions: tuple[int, ...] = ()) -> dict:
        """Simulate `cases` cases of version `ref` (1, "2", "v2") or draft "d<ID>" of SOP `key`.

        Durations and branch shares come from the recorded cases of every version of the SOP
        (practice cases left out), minus `exclude_versions` (to test a forecast against a version
        it has not seen). See simulation.py for the model and sim_summary.py for the keys.
        """
        if not 1 <= int(cases) <= MAX_CASES:
            raise InvalidState(f"cases must be between 1 and {MAX_CASES}, got {cases}")
        kind, number = parse_ref(ref)
        return self._remembered(("simulate", key, kind, number, int(cases), int(seed), tuple(exclude_versions)),
                                lambda: self._simulate(key, kind, number, int(cases), int(seed), exclude_versions))

    def _simulate(self, key: str, kind: str, number: int, cases: int, seed: int, exclude_versions) -> dict:
        model = self.sim_model(key, kind, number)
        simulator = self.simulator(key, model, exclude_versions=exclude_versions)
        result = simulator.run(cases, seed)
        result.update(ref=f"d{number}" if kind == "draft" else str(number),
                      version=number if kind == "version" else None,
                      draft=number if kind == "draft" else None,
                      excluded_versions=list(exclude_versions), model=model.counts())
        return result

    def findings(self, key: str, version, *, cases: int = 400, seed: int = 0) -> list[dict]:
        """Ranked simplification suggestions for a version (or draft reference), most time saved first."""
        kind, number = parse_ref(version)
        return self._remembered(("findings", key, kind, number, int(cases), int(seed)),
                                lambda: find(self.simulator(key, self.sim_model(key, kind, number)),
                                             cases=cases, seed=seed))

    def _remembered(self, what: tuple, compute):
        """A forecast computed once per state of the SOP's records (and of the draft, for a draft).

        Simulations and findings take up to a second or two; the compare page asks for four of them.
        The stamp (cases and completed steps of the SOP, the draft's revision) changes with any new
        record, so a remembered answer is never stale.
        """
        _, key, kind, number = what[:4]
        with self.db.read() as s:
            stamp = tuple(s.execute(
                select(func.count(Case.id), func.max(Case.closed_at)).where(Case.process_key == key)).one())
            stamp += tuple(s.execute(
                select(func.count(TaskRecord.id), func.max(TaskRecord.completed_at))
                .join(Case, Case.id == TaskRecord.case_id)
                .where(Case.process_key == key, TaskRecord.completed_at.is_not(None))).one())
        if kind == "draft":
            stamp += (self.draft(number)["revision"],)
        memory = self.__dict__.setdefault("_forecasts", OrderedDict())
        entry = memory.get(what)
        if entry is not None and entry[0] == stamp:
            memory.move_to_end(what)
            return copy.deepcopy(entry[1])  # callers may change their copy
        result = compute()
        memory[what] = (stamp, copy.deepcopy(result))
        while len(memory) > REMEMBERED:
            memory.popitem(last=False)
        return result

    # --- parts -------------------------------------------------------------------------------------
    def sim_model(self, key: str, kind: str, number: int) -> SopModel:
        """The path model of a stored version or a draft."""
        if kind == "draft":
            draft = self.draft(number)
            if draft.get("key") and draft["key"] != key:
                raise InvalidState(f"draft {number} is for SOP '{draft['key']}', not '{key}'")
            return build_model(draft["xml"], draft.get("filename") or f"draft-{number}.bpmn")
        cache = self.__dict__.setdefault("_sim_models", {})
        with self.db.read() as s:
            vid = store.version_id(s, key, number)
            if vid not in cache:  # versions never change
                row = s.get(ProcessVersion, vid)
                cache[vid] = build_model(row.bpmn_xml, row.filename)
        return cache[vid]

    def simulator(self, key: str, model: SopModel, *, exclude_versions=()) -> Simulator:
        with self.db.read() as s:
            history = History(*self.sim_rows(s, key, exclude_versions), self.calendar("jam-kerja", s))
            calendar = self.calendar(model.info.calendar, s)
        return Simulator(model, history, calendar, at_risk_share=self.settings.at_risk_share)

    @staticmethod
    def sim_rows(session, key: str, exclude_versions=()) -> tuple[list[dict], list[dict]]:
        """Case and task rows of the latest HISTORY_CASES real cases of each version of an SOP.

        Recent cases say most about how the office works now, and the bound keeps a forecast's
        cost the same after years of records.
        """
        versions = session.execute(select(ProcessVersion.id, ProcessVersion.version)
                                   .where(ProcessVersion.key == key)).all()
        number = {vid: n for vid, n in versions if n not in set(exclude_versions)}
        cases, tasks = [], []
        for vid in sorted(number):
            latest = (select(Case.id).where(Case.process_version_id == vid, Case.practice.is_(False))
                      .order_by(Case.started_at.desc(), Case.id.desc()).limit(HISTORY_CASES))
            cases += [{"id": r.id, "version": number[vid], "started_at": r.started_at, "status": r.status}
                      for r in session.execute(select(Case.id, Case.started_at, Case.status)
                                               .where(Case.id.in_(latest)).order_by(Case.id))]
            tasks += [{"case_id": r.case_id, "version": number[vid], "step_id": r.step_id, "name": r.name,
                       "ready_at": r.ready_at, "claimed_at": r.claimed_at, "completed_at": r.completed_at,
                       "cancelled_at": r.cancelled_at, "budget_seconds": r.budget_seconds,
                       "pauses_clock": r.pauses_clock}
                      for r in session.execute(
                          select(TaskRecord.case_id, TaskRecord.step_id, TaskRecord.name, TaskRecord.ready_at,
                                 TaskRecord.claimed_at, TaskRecord.completed_at, TaskRecord.cancelled_at,
                                 TaskRecord.budget_seconds, TaskRecord.pauses_clock)
                          .where(TaskRecord.case_id.in_(latest))
                          .order_by(TaskRecord.case_id, TaskRecord.ready_at, TaskRecord.id))]
        return cases, tasks
