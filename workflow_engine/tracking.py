"""What an applicant may learn about a file by its number, the satisfaction survey, and the IKM index."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime
from typing import Mapping

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import store
from .errors import FormError, InvalidState, NotFound
from .models import Case, ProcessVersion, SurveyResponse

# The nine elements (unsur) of the SKM, PermenPANRB 14/2017, in the order of its scope list
# (Lampiran, ruang lingkup). The regulation's sample questionnaire asks about the facilities before
# complaints; reports number the elements by the scope list, so that order is kept here.
SKM_ELEMENTS: tuple[tuple[str, str], ...] = (
    ("U1", "Persyaratan"),
    ("U2", "Sistem, Mekanisme, dan Prosedur"),
    ("U3", "Waktu Penyelesaian"),
    ("U4", "Biaya/Tarif"),
    ("U5", "Produk Spesifikasi Jenis Pelayanan"),
    ("U6", "Kompetensi Pelaksana"),
    ("U7", "Perilaku Pelaksana"),
    ("U8", "Penanganan Pengaduan, Saran dan Masukan"),
    ("U9", "Sarana dan Prasarana"),
)
SKM_CODES = tuple(code for code, _ in SKM_ELEMENTS)
# Lower bounds of the grades on the 25-100 scale (the unit's "mutu pelayanan").
GRADES = ((88.31, "A", "Sangat Baik"), (76.61, "B", "Baik"), (65.00, "C", "Kurang Baik"),
          (25.00, "D", "Tidak Baik"))
COMMENT_LIMIT = 1000
# Longer than any registration number; what is typed beyond it is ignored, never searched.
NUMBER_LIMIT = 64

# Plain words for the applicant, by status (the web shows them translated).
STATUS_TEXT = {"in_progress": "Your file is being processed.",
               "waiting_for_applicant": "Your file is waiting for you.",
               "completed": "Your file is finished.",
               "stopped": "Processing of your file was stopped."}


def normalise_number(number) -> str:
    """A typed registration number as stored: upper case, spaces as dashes, at most NUMBER_LIMIT characters."""
    text = re.sub(r"\s+", "-", str(number or "").strip().upper())
    return re.sub(r"-{2,}", "-", text)[:NUMBER_LIMIT]


def grade_of(index: float | None) -> tuple[str | None, str | None]:
    """The grade letter and words of an IKM value on the 25-100 scale."""
    if index is None:
        return None, None
    for lower, letter, words in GRADES:
        if round(index, 2) >= lower:
            return letter, words
    return "D", "Tidak Baik"


def check_answers(answers: Mapping | None, comment: str | None) -> tuple[dict, str | None]:
    """The nine answers as ints 1-4 and the trimmed comment; FormError names every bad field."""
    answers = answers if isinstance(answers, Mapping) else {}
    errors, clean = {}, {}
    for code in SKM_CODES:
        value = answers.get(code)
        text = str(value).strip() if value is not None else ""
        if not text:
            errors[code] = "wajib diisi"
        elif text not in ("1", "2", "3", "4"):
            errors[code] = "pilih nilai 1 sampai 4"
        else:
            clean[code] = int(text)
    for extra in sorted(set(answers) - set(SKM_CODES)):
        errors[str(extra)[:20]] = "bukan unsur survei"
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > COMMENT_LIMIT:
        errors["comment"] = f"maksimal {COMMENT_LIMIT} karakter"
    if errors:
        raise FormError(errors)
    return clean, comment


def ikm_summary(responses: list[dict]) -> dict:
    """Per-element means, the IKM (mean of the element means × 25) and its grade, for a list of answers."""
    count = len(responses)
    means = {code: (sum(r[code] for r in responses) / count if count else None) for code in SKM_CODES}
    # The regulation weighs each element by 0.111 (≈ 1/9); the exact 1/9 keeps 4.00 at 100.
    index = round(sum(means.values()) / len(SKM_CODES) * 25, 2) if count else None
    letter, words = grade_of(index)
    return {
        "responses": count,
        "elements": [{"code": code, "name": name,
                      "mean": None if means[code] is None else round(means[code], 3),
                      "score": None if means[code] is None else round(means[code] * 25, 2)}
                     for code, name in SKM_ELEMENTS],
        "ikm": index, "grade": letter, "grade_words": words,
    }


def _valid(answers) -> dict | None:
    """Stored answers if all nine are 1-4 (a hand-edited row is left out, not counted wrong)."""
    if not isinstance(answers, dict):
        return None
    try:
        clean = {code: int(answers[code]) for code in SKM_CODES}
    except (KeyError, TypeError, ValueError):
        return None
    return clean if all(1 <= v <= 4 for v in clean.values()) else None


class Tracking:
    """The Engine's public side: tracking a file by number, the SKM survey and the IKM index."""

    def _public_case(self, s, number) -> Case | None:
        # One indexed lookup whatever was typed, so a malformed number costs what an unknown one does.
        # Practice cases and lookups by id are never answered: only real registration numbers.
        return s.scalar(select(Case).where(Case.registration_number == normalise_number(number),
                                           Case.practice.is_(False)))

    def track(self, number) -> dict | None:
        """The SOP, open step names, status and times of a real case by its number, or None."""
        # Nothing else leaves here: no people, lanes, form data, comments or case data.
        now = self.now()
        with self.db.read() as s:
            case = self._public_case(s, number)
            if case is None or case.started_at > now:
                return None
            info = self.version(case.process_version_id, s).info
            tasks = store.tasks_of_case(s, case.id)
            clock = self.viewer.clock_of(s, case, info, tasks, now)
            open_steps = [t for t in tasks if t.state == "ready"] if case.status == "running" else []
            applicant = list(dict.fromkeys(t.name for t in open_steps if t.pauses_clock))
            status = {"completed": "completed", "cancelled": "stopped"}.get(
                case.status, "waiting_for_applicant" if applicant else "in_progress")
            answered = status == "completed" and s.scalar(
                select(SurveyResponse.id).where(SurveyResponse.case_id == case.id)) is not None
            iso = self.viewer.iso
            return {
                "number": case.registration_number,
                "sop": info.name,
                "status": status,
                "status_text": STATUS_TEXT[status],
                "current_steps": list(dict.fromkeys(t.name for t in open_steps)),
                "applicant_steps": applicant,
                "registered_at": iso(case.started_at),
                "clock_started": case.clock_started_at is not None,
                "deadline_at": None if status == "stopped" else iso(clock.deadline),
                "clock_paused": status == "waiting_for_applicant" and clock.paused,
                "overdue": clock.state in ("breached", "missed"),
                "completed_at": iso(case.closed_at) if status == "completed" else None,
                "survey": ("done" if answered else "open") if status == "completed" else None,
                "as_of": iso(now),
            }

    def submit_survey(self, number, answers: Mapping | None, comment: str | None = None) -> None:
        """Store the applicant's SKM answers (U1-U9, each 1-4) for a completed case, once per case."""
        clean, comment = check_answers(answers, comment)
        now = self.now()
        try:
            with self.db.write() as s:
                case = self._public_case(s, number)
                if case is None:
                    raise NotFound(f"no case with registration number {normalise_number(number)}")
                if case.status != "completed":
                    raise InvalidState(f"case {case.registration_number} is not finished yet; "
                                       "the survey opens when it is")
                if s.scalar(select(SurveyResponse.id).where(SurveyResponse.case_id == case.id)):
                    raise InvalidState(f"the survey of case {case.registration_number} was already answered")
                s.add(SurveyResponse(case_id=case.id, answers=clean, comment=comment, created_at=now))
                store.audit(s, now, "case.surveyed", case_id=case.id)
                s.flush()
        except IntegrityError as exc:  # two answers sent at once: the unique case_id keeps one
            raise InvalidState("the survey of this case was already answered") from exc

    def ikm(self, *, key: str | None = None, since: datetime | None = None,
            until: datetime | None = None) -> dict:
        """The IKM of survey answers given in [since, until), over all SOPs and per SOP."""
        query = (select(SurveyResponse.answers, Case.process_key, ProcessVersion.name, ProcessVersion.version)
                 .join(Case, SurveyResponse.case_id == Case.id)
                 .join(ProcessVersion, Case.process_version_id == ProcessVersion.id)
                 .where(Case.practice.is_(False)))
        if key is not None:
            query = query.where(Case.process_key == key)
        if since is not None:
            query = query.where(SurveyResponse.created_at >= since)
        if until is not None:
            query = query.where(SurveyResponse.created_at < until)
        with self.db.read() as s:
            rows = s.execute(query).all()
        everything, per_key, names = [], defaultdict(list), {}
        for answers, process_key, name, version in rows:
            clean = _valid(answers)
            if clean is None:
                continue
            everything.append(clean)
            per_key[process_key].append(clean)
            # The SOP's name as its newest answered version calls it.
            if process_key not in names or version > names[process_key][0]:
                names[process_key] = (version, name)
        summary = ikm_summary(everything)
        summary.update(
            key=key, since=self.viewer.iso(since), until=self.viewer.iso(until),
            per_sop=[{"key": k, "name": names[k][1], **ikm_summary(per_key[k])} for k in sorted(per_key)])
        return summary
