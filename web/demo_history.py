"""A realistic case history for the demo office, made through the engine's own API.

`generate_history` runs a discrete-event simulation on an injected clock: it moves a `FixedClock`
from event to event (case arrivals, task claims, task completions, due timers, cancellations) and
at each one calls the engine as the office would (`start_case`, `claim`, `complete`,
`fire_due_timers`, `cancel`). No row is written behind the engine's back; the simulation only reads
a case's open task rows after each operation to learn what became ready.

The office it imitates (the knobs are the constants below):

- Files arrive while the counter is open (Mon–Fri 08:00–15:00 WIT, no national holidays; the
  office works until 16:00), busiest in the morning, over the `days` days before now, spread over
  every deployed SOP. The first 45 % of the period uses version 1 of each SOP; then the newest
  version is published and takes over, with a week's overlap in which some files still follow v1.
- Staff work only in office hours. A step waits minutes to hours in an inbox sorted by deadline,
  then takes a lognormal share of its time budget (`mutu.waktu`; median 0.7, long right tail), both
  counted in working time. The applicant at the counter is served at once. Heads of office are
  away on some days (the Kepala Dinas on ~20 %, and on a duty trip over the last two working days
  before now); their tasks wait for their return unless the step is signed electronically (TTE)
  or delegated. Applicant-side steps (`sla.jeda`) take 0.5–3 calendar days, recorded at the counter
  or online at any waking hour.
- Decisions mostly move files on: ~20 % of first completeness checks return the file, ~5 % of
  cases are refused at some decision, a few applicants never come back (cancelled after 14 days).
- Form data is generated from each field's type, constraints and name (Indonesian names, 16-digit
  NIKs, phone numbers, places in Tolikara, document numbers) and checked with `validate_form`.
- A few scripted files make sure every open SLA state (on track, at risk, breached) shows now,
  whatever the hour: late arrivals, files returned and not fixed yet, files on an absent signer's desk.

The same seed and the same `now` give the same registration numbers, decisions, actors and times.
"""
from __future__ import annotations

import hashlib
import heapq
import math
import random
import re
import time as _time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select

from workflow_engine import FixedClock, store
from workflow_engine.errors import (
    AlurError,
    Conflict,
    FormError,
    InvalidState,
    NotFound,
)
from workflow_engine.forms import validate_form
from workflow_engine.models import Case, TaskRecord
from workflow_engine.sop_info import FormField, SopInfo, StepInfo

HOUR = 3600.0
DAY = 86400.0

# --- the knobs -----------------------------------------------------------------------------------
SWITCH_SHARE = 0.45          # share of the period before the newest version is published
OVERLAP_DAYS = 7.0           # after publishing, old forms linger this long ...
OVERLAP_OLD_SHARE = 0.35     # ... starting with this share of new files on the old version
WORK_MEDIAN = 0.7            # work time / budget, median
WORK_SIGMA = 0.4             # lognormal spread of work time
CASE_SIGMA = 0.2             # some files are harder than others: one factor per case
WAIT_MEDIAN = 6 * 60.0       # working seconds before a clerk picks a step up, median
WAIT_SIGMA = 1.0
HEAD_WAIT_MEDIAN = 20 * 60.0  # signers work through their pile less often
DEFAULT_BUDGET = 30 * 60.0   # a step without mutu.waktu
CLAIM_SHARE = 0.6            # steps claimed explicitly before work (the rest only completed)
RETURN_FIRST = 0.20          # first completeness check returns the file
RETURN_AGAIN = 0.08          # a re-check after the applicant fixed it
REJECT_PER_DECISION = 0.015  # ~5 % of cases end refused at one of their decisions
ABANDON_SHARE = 0.08         # applicants who never bring the missing papers back
ABANDON_AFTER_DAYS = 14
COUNTER_CLOSES = time(15, 0)   # the counter takes new files until 15:00 (the office closes at 16:00)
COUNTER_SHARE = 0.6          # applicant steps recorded at the counter (office hours); the rest online
HEAD_ABSENT = 0.20           # the head of office (Kepala Dinas) is away on this share of days
OTHER_HEAD_ABSENT = 0.10     # other heads (Kepala Bidang, ...)
TRIP_WORKING_DAYS = 2        # the head of office is away on duty for the last days before now
STAFF_PER_LANE = 3           # clerks per ordinary lane (the demo user plus extras)

FORWARD_OPTIONS = ("lengkap", "layak", "sesuai", "setuju", "disetujui", "diterima", "terima",
                   "memenuhi", "memenuhi_syarat", "valid", "benar", "lulus", "lolos", "lanjut", "sah",
                   "lunas", "tersedia", "ada", "cukup", "ya", "ok")
RETURN_MARKERS = ("tidak_lengkap", "kurang_lengkap", "belum_lengkap", "kembali", "perbaik", "revisi",
                  "lengkapi")
# Options that move a file on by another road ("not needed: the facility is licensed already").
SKIP_MARKERS = ("tidak_perlu", "tidak_wajib", "tanpa", "dikecualikan", "bebas", "dispensasi")
SKIP_SHARE = 0.3
HEAD_LANE = re.compile(r"\b(kepala|pimpinan|camat|sekretaris|bupati|kadis|kabid)\b", re.IGNORECASE)
# A step that says it is signed electronically or delegated does not wait for an absent head.
REMOTE_STEP = re.compile(r"\b(tte|tanda tangan elektronik|ditandatangani elektronik|elektronik|"
                         r"didelegasikan|delegasi|plh|plt)\b", re.IGNORECASE)
WET_SIGNATURE_ALLOWED = re.compile(r"\batau\s+(tanda\s+tangan\s+)?basah\b", re.IGNORECASE)
FRONT_DESK = re.compile(r"\b(front|loket|pendaftaran|penerimaan|pelayanan|counter|cs)\b", re.IGNORECASE)
TOP_HEAD_LANE = re.compile(r"\b(kepala dinas|kepala kantor|kepala badan|kadis|pimpinan|bupati)\b", re.IGNORECASE)

# --- Tolikara flavour ----------------------------------------------------------------------------
PAPUAN_FIRST = ("Yakobus", "Yohanes", "Markus", "Yulianus", "Nius", "Tinus", "Otniel", "Petrus",
                "Lukas", "Amos", "Elias", "Yance", "Benny", "Natalis", "Marthen", "Nahor", "Yeremias",
                "Daniel", "Silas", "Yosina", "Maria", "Debora", "Ester", "Rahel", "Agustina",
                "Yuliana", "Martha", "Selfina", "Naomi", "Ribka", "Lince", "Herlina", "Yemima",
                "Mince", "Sarlota", "Obed", "Kornelius", "Melkias")
PAPUAN_CLANS = ("Wenda", "Kogoya", "Wanimbo", "Jikwa", "Yikwa", "Enembe", "Tabuni", "Karoba",
                "Gombo", "Weya", "Wandik", "Kiwo", "Murib", "Kanoragen", "Yanengga", "Wakerkwa",
                "Telenggen", "Bogum", "Yoman", "Wonda")
OTHER_FIRST = ("Andi", "Muhammad", "Siti", "Ahmad", "Rudi", "Dewi", "Hasan", "Nur", "Sri", "Budi",
               "Ratna", "Hendra", "Fitri", "Yusuf", "Made", "Rahmat", "Samuel", "Frans", "Agus")
OTHER_LAST = ("Saputra", "Rahmawati", "Hidayat", "Wijaya", "Lestari", "Sitorus", "Pattiasina",
              "Rumbiak", "Latuconsina", "Manurung", "Gultom", "Nugroho", "Setiawan", "Siregar",
              "Mambrasar", "Rumaropen", "Ohee", "Wally")
DISTRICTS = ("Karubaga", "Karubaga", "Karubaga", "Bokondini", "Bokondini", "Kembu", "Kanggime",
             "Wunim", "Wina", "Goyage", "Nabunage", "Bokoneri", "Geya", "Nelawi", "Kubu", "Panaga",
             "Numba", "Air Garam")
STREETS = ("Jl. Trikora", "Jl. Irian", "Jl. Pasar Baru", "Jl. Bandara", "Jl. Pemda", "Jl. Gereja",
           "Jl. Kampung Baru", "Jl. Poros Karubaga-Wamena", "Jl. Pendidikan", "Jl. Sosial",
           "Jl. Kantor Distrik")
BUSINESS_KINDS = ("Toko", "Kios", "CV", "UD", "Warung Makan", "Apotek", "Bengkel", "Koperasi", "PT",
                  "Losmen", "Rumah Makan")
BUSINESS_NAMES = ("Karubaga Jaya", "Bokondini Indah", "Sinar Kembu", "Kanggime Mandiri",
                  "Tolikara Sejahtera", "Lembah Baliem", "Anugerah", "Berkat Abadi", "Harapan Baru",
                  "Cahaya Pegunungan", "Maju Bersama", "Sumber Rezeki", "Sion", "Efata", "Imanuel",
                  "Bethel", "Wenda Mandiri", "Kogoya Group", "Pegunungan Tengah")
PHONE_PREFIXES = ("0811", "0812", "0813", "0821", "0822", "0823", "0852", "0853", "0813", "0812")
GENERIC_DOCUMENTS = ("Fotokopi KTP", "NPWP/NPWPD", "Pas foto 3x4", "Surat pernyataan bermeterai",
                     "Denah lokasi", "Foto lokasi", "Surat keterangan domisili")
NOTES = ("Sesuai ketentuan.", "Berkas lengkap dan benar.", "Lanjut ke tahap berikutnya.",
         "Sudah dicek, tidak ada catatan.", "Pemohon sudah dihubungi lewat WhatsApp.",
         "Data sudah dicocokkan dengan berkas asli.", "Dikerjakan sesuai urutan antrean.",
         "Sudah dikoordinasikan dengan OPD teknis.")
FACILITIES = ("Puskesmas {district}", "RSUD Karubaga", "Klinik Pratama {name}", "Apotek {name}",
              "Praktik mandiri, Distrik {district}", "Pustu Distrik {district}")
NOTE_WORDS = {"catatan", "keterangan", "uraian", "saran", "komentar"}
REPEAT_WORDS = {"terukur", "aktual", "hasil", "dihitung", "diukur", "laik", "diverifikasi"}
PAID_WORDS = {"dibayar", "bayar", "setor", "disetor"}
ROUTE_PLACES = ("Terminal Karubaga", "Bokondini", "Kembu", "Kanggime", "Wunim", "Goyage", "Bokoneri",
                "Wamena (Jayawijaya)", "Mamit", "Nabunage", "Geya")
AGENCIES = ("Dinas PUPR Kabupaten Tolikara", "Dinas Kesehatan Kabupaten Tolikara",
            "Dinas Perhubungan Kabupaten Tolikara", "Dinas Lingkungan Hidup Kabupaten Tolikara",
            "Dinas Perindustrian dan Perdagangan Kabupaten Tolikara", "Bapenda Kabupaten Tolikara")
KBLI = (("47111", "Perdagangan eceran berbagai macam barang yang utamanya makanan, minuman atau tembakau"),
        ("56101", "Restoran"), ("55199", "Penyediaan akomodasi jangka pendek lainnya"),
        ("47730", "Perdagangan eceran barang farmasi di apotek"), ("01131", "Pertanian hortikultura sayuran"),
        ("49421", "Angkutan bermotor untuk barang umum"), ("10710", "Industri produk roti dan kue"),
        ("45200", "Reparasi dan perawatan mobil"))
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

Echo = Callable[[str], Any]


# --- small helpers -------------------------------------------------------------------------------
def _stable_random(*parts) -> random.Random:
    """A generator that depends only on its parts (for facts such as who is away on which day)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _tokens(fld: FormField) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", f"{fld.id} {fld.label}".lower())) - {""}


def _id_tokens(fld: FormField) -> set[str]:
    return set(fld.id.lower().split("_")) - {""}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(count))


def _is_head_lane(lane: str | None) -> bool:
    return bool(lane and HEAD_LANE.search(lane))


def _absence_share(lane: str) -> float:
    return HEAD_ABSENT if TOP_HEAD_LANE.search(lane) else OTHER_HEAD_ABSENT


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower()) or "staf"


def _options(fld: FormField) -> list[str]:
    return [oid for oid, _ in fld.options]


def _forward(fld: FormField) -> str | None:
    """The option that moves a file on (lengkap, layak, sesuai, setuju, ...), if the field is a decision."""
    ids = _options(fld)
    for wanted in FORWARD_OPTIONS:
        if wanted in ids:
            return wanted
    return None


def _returns(fld: FormField) -> list[str]:
    return [o for o in _options(fld) if any(m in o.lower() for m in RETURN_MARKERS)]


def _skips(fld: FormField) -> list[str]:
    return [o for o in _options(fld) if any(m in o.lower() for m in SKIP_MARKERS)]


def _rejects(fld: FormField, forward: str) -> list[str]:
    """Of a decision, the options that end a file (tidak_layak, tolak, penuh, ...)."""
    return [o for o in _options(fld) if o != forward and o not in _returns(fld) and o not in _skips(fld)]


def history_period(now: datetime, days: int) -> tuple[datetime, datetime]:
    """The period's start and the moment the newest SOP versions are published."""
    start = now - timedelta(days=days)
    return start, start + (now - start) * SWITCH_SHARE


def deploy_library(engine, folder: Path, *, now: datetime, days: int, echo: Echo = print,
                   author: str = "analis") -> list:
    """Deploy every SOP version under `folder` at the moment it was published in the demo's past.

    The first version of each SOP is deployed a week before the history begins, later versions at
    the switch moment, so that version dates agree with the cases that run on them.
    """
    start, switch = history_period(now, days)
    by_sop: dict[Path, list[Path]] = {}
    for path in sorted(folder.rglob("*.bpmn")):
        by_sop.setdefault(path.parent, []).append(path)
    old_clock, results = engine.clock, []
    try:
        for parent in sorted(by_sop):
            files = sorted(by_sop[parent], key=lambda p: (int(m.group(1)) if (m := re.search(r"(\d+)", p.stem))
                                                          else 0, p.name))
            for index, path in enumerate(files):
                engine.clock = FixedClock(start - timedelta(days=7) if index == 0 else switch)
                result = engine.deploy(path.read_bytes(), path.name, author=author,
                                       note=f"SOP library: {parent.name}/{path.name}")
                echo(f"SOP {result.key} v{result.version}")
                results.append(result)
    finally:
        engine.clock = old_clock
    return results


# --- the simulation's own records ----------------------------------------------------------------
@dataclass
class _Plan:
    """An arrival: when, which SOP version, and any scripted fate."""

    at: datetime
    key: str
    version: int
    rng: random.Random
    hold: str | None = None          # "head" or "handoff": one step waits past now
    return_at: datetime | None = None  # scripted: the check returns the file at this moment
    clean: bool = False              # no return, no refusal


@dataclass
class _SimCase:
    id: int
    plan: _Plan
    info: SopInfo
    registrar: str
    first_lane: str | None
    factor: float
    ctx: dict = field(default_factory=dict)
    negatives: list = field(default_factory=list)
    seen_steps: dict = field(default_factory=dict)
    known: set = field(default_factory=set)
    held: bool = False
    intake_planned: bool = False
    returned: bool = False
    done: bool = False
    timer_at: datetime | None = None
    deadline: datetime | None = None
    task_count: int = 0


@dataclass
class _SimTask:
    id: int
    case: _SimCase
    step: StepInfo | None
    lane: str | None
    ready_at: datetime
    user: str | None = None
    gone: bool = False
    force_return: bool = False


class _HistoryRun:
    """One run of the simulation; `generate_history` is its front door."""

    def __init__(self, engine, *, seed: int, days: int, cases: int, echo: Echo, now: datetime):
        self.engine = engine
        self.seed = seed
        self.days = days
        self.n_cases = cases
        self.echo = echo
        self.end = now.astimezone(UTC)
        self.start, self.switch = history_period(self.end, days)
        self.rng = random.Random(seed)
        self.cal = engine.calendar("jam-kerja")
        self.zone = engine.zone
        self.clock = FixedClock(self.start)
        self.heap: list = []
        self.seq = 0
        self.counters: dict[str, int] = {}
        self.invalid_forms = 0
        self.completed = 0
        self.claimed = 0
        self.cancelled = 0
        self.started = 0
        self.timer_fires = 0
        self.absent_cache: dict[tuple[str, date], bool] = {}
        # One read per engine operation: the case's status, next timer and open tasks.
        cases, tasks = Case.__table__, TaskRecord.__table__
        self.open_tasks_query = (
            select(cases.c.status, cases.c.next_timer_at, cases.c.deadline_at, tasks.c.id.label("task_id"),
                   tasks.c.step_id,
                   tasks.c.lane)
            .select_from(cases.outerjoin(tasks, (tasks.c.case_id == cases.c.id) & (tasks.c.state == "ready")))
            .where(cases.c.id == bindparam("case_id")).order_by(tasks.c.id))

    # --- setup ----------------------------------------------------------------------------------
    def load_sops(self) -> None:
        self.versions: dict[str, list[int]] = {}
        self.infos: dict[tuple[str, int], SopInfo] = {}
        for proc in sorted(self.engine.processes(), key=lambda p: p["key"]):
            numbers = sorted(v["version"] for v in proc["versions"] if v["status"] == "published")
            if not numbers:
                continue
            self.versions[proc["key"]] = numbers
            for number in numbers:
                self.infos[(proc["key"], number)] = SopInfo.from_dict(
                    self.engine.process_info(proc["key"], number))
        if not self.versions:
            raise AlurError("no SOP is deployed: deploy the SOP library before making a history")
        # Some services are asked for more often than others.
        self.weights = {key: self.rng.uniform(0.6, 1.4) for key in self.versions}

    def load_staff(self, password_hash: str | None) -> None:
        """Every lane of every SOP gets people: the demo users plus extra clerks on busy lanes."""
        lanes: dict[str, bool] = {}  # lane -> every step in it pauses the clock (applicant side)
        for info in self.infos.values():
            for step in info.steps.values():
                if step.lane and step.kind.lower().endswith("task"):
                    lanes[step.lane] = lanes.get(step.lane, True) and step.pauses_clock
        with self.engine.db.read() as s:
            users = [(u.username, list(u.lanes or []), u.role, u.active) for u in store.list_users(s)]
        taken = {u[0] for u in users}
        if password_hash is None:
            from werkzeug.security import generate_password_hash
            password_hash = generate_password_hash("demo")
        old_clock = self.engine.clock
        self.engine.clock = FixedClock(self.start - timedelta(days=3))
        name_rng = random.Random(f"{self.seed}:staff")
        self.new_staff: list[str] = []
        try:
            for lane in sorted(lanes):
                members = [u for u in users if lane in u[1] and u[2] != "admin" and u[3]]
                want = 1 if (_is_head_lane(lane) or lanes[lane]) else STAFF_PER_LANE
                base = next((u for u in members if u[1] == [lane]), members[0] if members else None)
                stem = base[0] if base else _slug(lane)
                extra_lanes = base[1] if base else [lane]
                number = 1 if not base else 2
                while len(members) < want:
                    name = stem if number == 1 else f"{stem}{number}"
                    number += 1
                    if name in taken:
                        continue
                    full = f"{name_rng.choice(PAPUAN_FIRST)} {name_rng.choice(PAPUAN_CLANS)}"
                    self.engine.add_user(name, role="staff", lanes=extra_lanes, password_hash=password_hash,
                                         full_name=full, actor="admin")
                    taken.add(name)
                    members.append((name, extra_lanes, "staff", True))
                    self.new_staff.append(name)
        finally:
            self.engine.clock = old_clock
        if self.new_staff:
            self.echo("More staff for the history (same password): " + ", ".join(self.new_staff))
        with self.engine.db.read() as s:
            users = [(u.username, list(u.lanes or []), u.role, u.active) for u in store.list_users(s)]
        self.members = {lane: sorted(u[0] for u in users if lane in u[1] and u[2] != "admin" and u[3])
                        for lane in sorted(lanes)}
        # Applicant-side lanes: who records a step depends on the hour (counter or online).
        self.only_lane = {lane: [u[0] for u in users if u[1] == [lane] and u[2] != "admin" and u[3]]
                          for lane in sorted(lanes)}
        self.admins = sorted(u[0] for u in users if u[2] == "admin" and u[3])
        self.top_heads = sorted(u for lane in self.members if TOP_HEAD_LANE.search(lane)
                                for u in self.members[lane])
        self.trip_days = self._trip_days()

    def _trip_days(self) -> set[date]:
        """The head of office is away on duty for the last working days before now."""
        if self.days < 5:
            return set()
        days: list[date] = []
        day = self.end.astimezone(self.zone).date()
        for _ in range(14):
            opens = datetime.combine(day, datetime.min.time(), tzinfo=self.zone)
            first = next(iter(self.cal.intervals(opens)))[0]
            if first.astimezone(self.zone).date() == day and first < self.end:
                days.append(day)
            if len(days) >= TRIP_WORKING_DAYS:
                break
            day -= timedelta(days=1)
        return set(days)

    # --- who is in ------------------------------------------------------------------------------
    def absent(self, user: str, lane: str | None, day: date) -> bool:
        """Whether a head is away that day: on random days (never more than two working days in a
        row) and, for the head of office, on the duty trip that covers the last days before now."""
        if not _is_head_lane(lane):
            return False
        cached = self.absent_cache.get((user, day))
        if cached is None:
            if user in self.top_heads and day in self.trip_days:
                cached = True
            elif day.weekday() >= 5:
                cached = False
            else:
                earlier = [day - timedelta(days=n) for n in range(1, 6)]
                earlier = [d for d in earlier if d.weekday() < 5][:2]
                streak = all(self.absent(user, lane, d) for d in earlier) if earlier[0] >= \
                    self.start.astimezone(self.zone).date() - timedelta(days=7) else False
                cached = not streak and _stable_random(self.seed, "absent", user, day.isoformat()) \
                    .random() < _absence_share(lane)
            self.absent_cache[(user, day)] = cached
        return cached

    def next_working_morning(self, moment: datetime) -> datetime:
        """The opening of the first working day after `moment`'s local day."""
        day = moment.astimezone(self.zone).date()
        for lo, _ in self.cal.intervals(moment):
            if lo.astimezone(self.zone).date() > day:
                return lo
        raise AssertionError("the calendar never opens again")  # pragma: no cover

    def pick_user(self, lane: str | None, at: datetime, rng: random.Random,
                  prefer: str | None = None, remote: bool = False) -> tuple[str, datetime]:
        """Someone of the lane who is in at `at`, or the next morning somebody is.

        With `remote` (a step signed electronically, or delegated while the head is away) an
        absent head still does it the same day, only later.
        """
        members = self.members.get(lane) or (self.admins if lane is None else [])
        if not members:
            raise AlurError(f"nobody works in lane '{lane}'")
        for _ in range(60):
            day = at.astimezone(self.zone).date()
            present = [m for m in members if not self.absent(m, lane, day)]
            if present:
                if prefer in present and rng.random() < 0.85:
                    return prefer, at
                return rng.choice(present), at
            if remote:
                return rng.choice(members), self.cal.add(at, rng.uniform(0.25, 1.5) * HOUR)
            at = self.cal.add(self.next_working_morning(at), rng.uniform(5, 40) * 60)
        return rng.choice(members), at

    # --- drawing times --------------------------------------------------------------------------
    def work_seconds(self, case: _SimCase, step: StepInfo | None, rng: random.Random) -> float:
        budget = float(step.budget_seconds) if step and step.budget_seconds else DEFAULT_BUDGET
        draw = budget * WORK_MEDIAN * case.factor * math.exp(rng.gauss(0, WORK_SIGMA))
        return max(60.0, min(draw, budget * 6))

    @staticmethod
    def urgency(case: _SimCase, now: datetime) -> float:
        """Inboxes list the nearest deadline first, so a file with little time left waits less."""
        if case.deadline is None:
            return 1.0
        left = (case.deadline - now).total_seconds() / DAY
        return 0.3 + 0.7 * min(1.0, max(0.0, left))

    def wait_seconds(self, lane: str | None, rng: random.Random) -> float:
        median = HEAD_WAIT_MEDIAN if _is_head_lane(lane) else WAIT_MEDIAN
        return max(30.0, min(median * math.exp(rng.gauss(0, WAIT_SIGMA)), 2 * 8 * HOUR))

    def applicant_seconds(self, rng: random.Random) -> float:
        return rng.triangular(0.5, 3.0, 0.9) * DAY

    # --- events ---------------------------------------------------------------------------------
    def push(self, when: datetime, kind: str, payload) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (when, self.seq, kind, payload))

    def plan_arrivals(self) -> list[_Plan]:
        intervals = self.office_windows(self.start, self.end)
        if not intervals or not self.n_cases:
            if self.n_cases:
                self.echo(f"The counter was not open in the {self.days} day(s) before now: no cases made.")
            return []
        weekday_weight = {0: 1.15, 1: 1.05, 2: 1.0, 3: 1.0, 4: 0.8}
        weights = [weekday_weight.get(lo.astimezone(self.zone).weekday(), 1.0) * (hi - lo).total_seconds()
                   for lo, hi in intervals]
        scripted = self.scripted_arrivals()
        natural = max(0, self.n_cases - len(scripted))
        plans = []
        for lo, hi in self.rng.choices(intervals, weights=weights, k=natural):
            length = (hi - lo).total_seconds()
            # Most applicants come in the morning (busiest around 09:30).
            share = self.rng.betavariate(1.3, 2.6) if length >= 6.9 * HOUR else self.rng.random()
            at = lo + timedelta(seconds=share * length)
            plans.append(self.make_plan(at))
        plans.extend(scripted)
        plans.sort(key=lambda p: p.at)
        return plans

    def make_plan(self, at: datetime, *, key: str | None = None, **fate) -> _Plan:
        keys = sorted(self.versions)
        key = key or self.rng.choices(keys, weights=[self.weights[k] for k in keys])[0]
        return _Plan(at=at, key=key, version=self.version_for(key, at),
                     rng=random.Random(self.rng.getrandbits(64)), **fate)

    def version_for(self, key: str, at: datetime) -> int:
        numbers = self.versions[key]
        if len(numbers) == 1 or at < self.switch:
            return numbers[0]
        into = (at - self.switch).total_seconds() / DAY
        if into < OVERLAP_DAYS and self.rng.random() < OVERLAP_OLD_SHARE * (1 - into / OVERLAP_DAYS):
            return numbers[-2]
        return numbers[-1]

    def office_windows(self, lo: datetime, hi: datetime) -> list[tuple[datetime, datetime]]:
        """The moments in [lo, hi) when the counter takes new files."""
        out = []
        for a, b in self.cal.intervals(lo):
            if a >= hi:
                break
            closes = datetime.combine(a.astimezone(self.zone).date(), COUNTER_CLOSES, tzinfo=self.zone)
            b = min(b, hi, closes.astimezone(UTC))
            if b > a:
                out.append((a, b))
        return out

    def moment_in(self, windows, rng: random.Random) -> datetime | None:
        total = sum((b - a).total_seconds() for a, b in windows)
        if total <= 0:
            return None
        pick = rng.random() * total
        for a, b in windows:
            length = (b - a).total_seconds()
            if pick <= length:
                return a + timedelta(seconds=pick)
            pick -= length
        return windows[-1][1]

    def scripted_arrivals(self) -> list[_Plan]:
        """A few files whose fate leaves every open SLA state visible now, whatever the hour."""
        if self.n_cases < 12 or self.days < 3:
            return []
        rng, end, plans = random.Random(f"{self.seed}:scripted"), self.end, []
        returnable = [k for k in sorted(self.versions)
                      if self.has_return(self.infos[(k, self.versions[k][-1])])]
        # Breached: files stuck on a signer's desk for days.
        stuck = self.office_windows(max(self.start, end - timedelta(days=10)), end - timedelta(days=4))
        for _ in range(max(2, round(self.n_cases * 0.004))):
            at = self.moment_in(stuck, rng)
            if at:
                plans.append(self.make_plan(at, hold="head", clean=True))
        # At risk, clock running: files that came in 18.5-23.5 hours ago and wait for a clerk.
        at_risk_window = self.office_windows(end - timedelta(hours=23.5), end - timedelta(hours=18.5))
        for _ in range(2):
            at = self.moment_in(at_risk_window, rng)
            if at:
                plans.append(self.make_plan(at, hold="handoff", clean=True))
        # On track: files that came in during the last hours.
        recent = self.office_windows(end - timedelta(hours=3), end - timedelta(minutes=20))
        for _ in range(2):
            at = self.moment_in(recent, rng)
            if at:
                plans.append(self.make_plan(at))
        if returnable:
            # At risk, clock paused: received one afternoon, checked next morning ~20 hours
            # later, returned, and the applicant has not come back yet.
            for at, check in self.late_checks(rng, 2):
                plans.append(self.make_plan(at, key=rng.choice(returnable), return_at=check, clean=True))
            # On track, clock paused: returned within the hour on the last working day.
            last = self.office_windows(end - timedelta(days=4), end - timedelta(minutes=90))
            if last:
                lo, hi = last[-1]
                at = lo + (hi - lo) * rng.uniform(0.1, 0.6)
                check = min(self.cal.add(at, rng.uniform(25, 70) * 60), end - timedelta(minutes=5))
                if check > at:
                    plans.append(self.make_plan(at, key=rng.choice(returnable), return_at=check,
                                                clean=True))
        return plans

    def late_checks(self, rng: random.Random, count: int) -> list[tuple[datetime, datetime]]:
        """Afternoon arrivals checked ~20 hours later, the next working morning, on recent days."""
        found, day = [], self.end.astimezone(self.zone).date()
        for _ in range(14):
            day -= timedelta(days=1)
            at = datetime.combine(day, time(13, 50), tzinfo=self.zone) + timedelta(minutes=rng.uniform(0, 60))
            check = at + timedelta(hours=rng.uniform(19.5, 21.5))
            if check.astimezone(self.zone).date() != day + timedelta(days=1) or check > self.end - timedelta(minutes=5):
                continue
            if self.cal.is_counted(at) and self.cal.is_counted(check) and at > self.start:
                found.append((at.astimezone(UTC), check.astimezone(UTC)))
                if len(found) == count:
                    break
        return found

    @staticmethod
    def has_return(info: SopInfo) -> bool:
        return any(fld.type == "enum" and _forward(fld) and _returns(fld)
                   for step in info.steps.values() for fld in step.form)

    # --- the engine calls -----------------------------------------------------------------------
    def arrive(self, plan: _Plan) -> _SimCase | None:
        self.clock.set(plan.at)
        info = self.infos[(plan.key, plan.version)]
        first_lane = next((s.lane for s in info.steps.values()
                           if s.lane and not s.pauses_clock and s.kind.lower().endswith("task")), None)
        registrar, _ = self.pick_user(first_lane, plan.at, plan.rng) if first_lane in self.members else (None, None)
        case_id = self.engine.start_case(plan.key, version=plan.version, actor=registrar)
        self.started += 1
        case = _SimCase(id=case_id, plan=plan, info=info, registrar=registrar, first_lane=first_lane,
                        factor=math.exp(plan.rng.gauss(0, CASE_SIGMA)))
        self.sync(case)
        return case

    def sync(self, case: _SimCase) -> None:
        """Learn the case's open tasks and next timer after an engine operation, and plan them."""
        with self.engine.db.engine.connect() as conn:
            rows = conn.execute(self.open_tasks_query, {"case_id": case.id}).all()
        if not rows or rows[0].status != "running":
            case.done = True
            return
        timer_at, deadline = rows[0].next_timer_at, rows[0].deadline_at
        case.deadline = deadline if deadline is None or deadline.tzinfo else deadline.replace(tzinfo=UTC)
        if timer_at is not None:
            timer_at = timer_at if timer_at.tzinfo else timer_at.replace(tzinfo=UTC)
            if timer_at != case.timer_at and timer_at < self.end:
                # SpiffWorkflow fires a timer once the clock is past its due moment, not at it.
                case.timer_at = timer_at
                self.push(max(timer_at, self.clock.now()) + timedelta(seconds=1), "timer", case)
        for row in rows:
            if row.task_id is None or row.task_id in case.known:
                continue
            case.known.add(row.task_id)
            self.plan_task(_SimTask(row.task_id, case, case.info.steps.get(row.step_id), row.lane,
                                    self.clock.now()))

    def plan_task(self, task: _SimTask) -> None:
        case, rng, step = task.case, task.case.plan.rng, task.step
        now = self.clock.now()
        if step is not None and step.pauses_clock:
            self.plan_applicant_step(task, rng)
            return
        plan = case.plan
        if plan.return_at is not None and not case.returned and self.returns_here(step):
            # The scripted late check: claimed a little before and completed at the set moment.
            done = max(plan.return_at, self.cal.add(now, 60))
            task.force_return = True
            task.user, _ = self.pick_user(task.lane, done, rng, prefer=case.registrar)
            claim = max(now, done - timedelta(minutes=rng.uniform(10, 25)))
            if claim < done:
                self.push(claim, "claim", task)
            self.push(done, "complete", task)
            return
        prefer = case.registrar if task.lane == case.first_lane else None
        work = self.work_seconds(case, step, rng)
        if plan.return_at is not None and not case.returned:
            work = min(work, rng.uniform(5, 12) * 60)  # the first steps of a scripted file go quickly
        if not case.intake_planned and task.lane == case.first_lane and FRONT_DESK.search(task.lane or ""):
            # The applicant stands at the counter: the intake is served now, even near closing time.
            case.intake_planned = True
            task.user = prefer or self.pick_user(task.lane, now, rng)[0]
            claim = now + timedelta(minutes=rng.uniform(0, 8))
            done = claim + timedelta(seconds=min(work, 45 * 60))
        else:
            wait = self.wait_seconds(task.lane, rng) * self.urgency(case, now)
            if plan.return_at is not None and not case.returned:
                wait = rng.uniform(1, 5) * 60
            claim = self.cal.add(now, wait)
            remote = self.signed_remotely(step)
            task.user, claim = self.pick_user(task.lane, claim, rng, prefer=prefer, remote=remote)
            done = self.cal.add(claim, work)
        if plan.hold and not case.held and self.holds_here(case, task):
            case.held = True
            if plan.hold == "handoff":
                claim = self.cal.add(now, rng.uniform(10, 40) * 60)  # picked up, then set aside
            if claim < self.end:
                self.push(claim, "claim", task)
            return  # never completed before now
        if rng.random() < CLAIM_SHARE:
            self.push(claim, "claim", task)
        self.push(done, "complete", task)

    def plan_applicant_step(self, task: _SimTask, rng: random.Random) -> None:
        case, now = task.case, self.clock.now()
        if case.plan.return_at is not None and case.returned:
            return  # the scripted applicant has not come back yet
        if not case.plan.clean and case.returned and rng.random() < ABANDON_SHARE:
            lo = now + timedelta(days=ABANDON_AFTER_DAYS)
            when = self.cal.add(lo, rng.uniform(0.2, 6) * HOUR)
            self.push(when, "cancel", case)
            return
        seconds = self.applicant_seconds(rng) if not case.plan.hold else rng.uniform(0.2, 0.6) * DAY
        done = now + timedelta(seconds=seconds)
        lane = task.lane
        staff = [m for m in self.members.get(lane, []) if m not in self.only_lane.get(lane, [])]
        online = self.only_lane.get(lane, [])
        if staff and (rng.random() < COUNTER_SHARE or not online):
            # The applicant comes back to the counter; a clerk records it.
            if not self.cal.is_counted(done):
                done = self.cal.add(done, rng.uniform(0, 3) * HOUR)
            pool = staff
        else:
            done = self.waking(done, rng)  # uploaded or paid online, at any waking hour
            pool = online or self.members.get(lane, [])
        if not pool:
            raise AlurError(f"nobody works in lane '{lane}'")
        task.user = rng.choice(sorted(pool))
        self.push(done, "complete", task)

    @staticmethod
    def signed_remotely(step: StepInfo | None) -> bool:
        """The step is signed electronically (TTE) or delegated, so an absent head does not block it."""
        if step is None:
            return False
        text = " ".join(filter(None, (step.name, step.documentation, step.note, step.output)))
        return bool(REMOTE_STEP.search(text)) and not WET_SIGNATURE_ALLOWED.search(text)

    def waking(self, moment: datetime, rng: random.Random) -> datetime:
        """People act between 07:00 and 21:00 local time: a night moment moves to the next morning."""
        local = moment.astimezone(self.zone)
        if 7 <= local.hour < 21:
            return moment
        morning = local.replace(hour=7, minute=0, second=0, microsecond=0)
        if local.hour >= 21:
            morning += timedelta(days=1)
        return (morning + timedelta(minutes=rng.uniform(0, 180))).astimezone(UTC)

    def returns_here(self, step: StepInfo | None) -> bool:
        return bool(step) and any(fld.type == "enum" and _forward(fld) and _returns(fld) for fld in step.form)

    def holds_here(self, case: _SimCase, task: _SimTask) -> bool:
        """Where a scripted file gets stuck until after now."""
        if case.plan.hold == "head":
            # On a signer's desk, old enough to be past its deadline now; near the end, on any desk.
            left = self.end - self.clock.now()
            if left < timedelta(hours=25):
                return False
            return _is_head_lane(task.lane) or (left < timedelta(hours=48) and task.lane != case.first_lane)
        return task.lane != case.first_lane  # "handoff": the first step outside the front desk

    def claim(self, task: _SimTask) -> None:
        if task.gone or task.case.done:
            return
        self.clock.set(self.when)
        try:
            self.engine.claim(task.id, user=task.user)
            self.claimed += 1
        except (InvalidState, Conflict, NotFound):
            task.gone = True  # a timer or another branch closed it meanwhile

    def complete(self, task: _SimTask) -> None:
        if task.gone or task.case.done:
            return
        self.clock.set(self.when)
        case = task.case
        data = self.form_data(task)
        try:
            self.engine.complete(task.id, user=task.user, data=data)
        except (InvalidState, Conflict, NotFound):
            task.gone = True
            return
        self.completed += 1
        case.task_count += 1
        self.sync(case)

    def cancel(self, case: _SimCase) -> None:
        if case.done:
            return
        self.clock.set(self.when)
        user, _ = self.pick_user(case.first_lane, self.when, case.plan.rng) if case.first_lane in self.members \
            else (None, None)
        try:
            self.engine.cancel(case.id, user=user,
                               reason=f"Berkas tidak dilengkapi pemohon dalam {ABANDON_AFTER_DAYS} hari")
        except (InvalidState, Conflict):
            return
        case.done = True
        self.cancelled += 1

    def fire_timers(self, case: _SimCase) -> None:
        if case.done:
            return
        self.clock.set(self.when)
        self.timer_fires += self.engine.fire_due_timers()
        self.sync(case)  # a timer that is still due is looked at again only when it changes

    # --- form data ------------------------------------------------------------------------------
    def form_data(self, task: _SimTask) -> dict:
        step = task.step
        if step is None or not step.form:
            return {}
        case, rng = task.case, task.case.plan.rng
        iteration = case.seen_steps.get(step.id, 0) + 1
        case.seen_steps[step.id] = iteration
        data: dict[str, Any] = {}
        decided: dict[str, str] = {}
        for fld in step.form:
            if fld.readonly:
                continue
            if fld.type == "enum":
                value = self.choose(fld, case, task, iteration, rng)
                decided[fld.id] = value
            else:
                value = self.value_for(fld, case, step, rng, decided)
            if value is not None:
                data[fld.id] = value
                case.ctx[fld.id] = value
        try:
            validate_form(step.form, data)
        except FormError as exc:
            self.invalid_forms += 1
            for field_id in sorted(exc.fields):
                fld = next(f for f in step.form if f.id == field_id)
                data[field_id] = self.fallback(fld)
            validate_form(step.form, data)  # a second failure is a bug in this generator: stop
        return data

    def choose(self, fld: FormField, case: _SimCase, task: _SimTask, iteration: int,
               rng: random.Random) -> str | None:
        ids = _options(fld)
        if not ids:
            return None
        forward = _forward(fld)
        if forward is None:  # a description (kind of billboard, ...), not a decision
            weights = [1 / math.sqrt(i + 1) for i in range(len(ids))]
            return rng.choices(ids, weights=weights)[0]
        returns, rejects = _returns(fld), _rejects(fld, forward)
        if task.force_return and returns:
            case.returned = True
            return returns[0]
        if not case.plan.clean:
            if returns and rng.random() < (RETURN_FIRST if iteration == 1 else RETURN_AGAIN):
                case.returned = True
                return rng.choice(returns)
            if rejects and rng.random() < REJECT_PER_DECISION:
                choice = rng.choice(rejects)
                label = dict(fld.options).get(choice, choice)
                case.negatives.append((fld.label, label))
                return choice
        skips = _skips(fld)
        if skips and rng.random() < SKIP_SHARE:
            return rng.choice(skips)
        return forward

    def person(self, rng: random.Random) -> str:
        if rng.random() < 0.7:
            return f"{rng.choice(PAPUAN_FIRST)} {rng.choice(PAPUAN_CLANS)}"
        return f"{rng.choice(OTHER_FIRST)} {rng.choice(OTHER_LAST)}"

    def number(self, kind: str) -> int:
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def documents(self, info: SopInfo) -> list[str]:
        lists = [s.requirements for s in info.steps.values() if s.requirements and ";" in s.requirements]
        if not lists:
            return list(GENERIC_DOCUMENTS)
        longest = max(lists, key=len)
        return [d.strip() for d in longest.split(";") if d.strip()]

    def local_today(self) -> date:
        return self.clock.now().astimezone(self.zone).date()

    def value_for(self, fld: FormField, case: _SimCase, step: StepInfo, rng: random.Random,
                  decided: dict) -> Any:
        ids, labels = _id_tokens(fld), _tokens(fld)
        note_like = bool(ids & NOTE_WORDS)
        if not fld.required and fld.type != "boolean":
            negative = self.negative_decision(step, decided)
            if not (note_like and negative) and rng.random() > (0.35 if note_like else 0.85):
                return None
        if fld.type == "boolean":
            return True if fld.required else rng.random() < 0.9
        if fld.type in ("long", "double"):
            return self.number_for(fld, ids or labels, labels, case, rng)
        if fld.type == "date":
            return self.date_for(fld, labels, case, rng)
        for tokens in (ids, labels):
            value = self.text_for(fld, tokens, case, step, rng, decided)
            if value is not None:
                return self.fit(value, fld)
        return self.fit(f"{fld.label} sudah sesuai berkas", fld)

    @staticmethod
    def negative_decision(step: StepInfo, decided: dict) -> bool:
        """Whether this step's decision sent the file back or refused it (so a note is due)."""
        for f in step.form:
            forward = _forward(f) if f.type == "enum" else None
            if forward and f.id in decided and (decided[f.id] in _returns(f) or decided[f.id] in _rejects(f, forward)):
                return True
        return False

    def like(self, ctx: dict, fld: FormField, extra: set) -> Any:
        """The value of an earlier field this one repeats (ukuran_terukur_m2 ~ ukuran_m2)."""
        wanted = _id_tokens(fld) - extra
        if not wanted or wanted == _id_tokens(fld):
            return None
        for key, value in ctx.items():
            if key != fld.id and isinstance(value, (int, float)) and not isinstance(value, bool) \
                    and wanted <= set(key.split("_")):
                return value
        return None

    def number_for(self, fld: FormField, t: set, labels: set, case: _SimCase, rng: random.Random):
        c = fld.constraints
        lo, hi = c.get("min"), c.get("max")
        ctx = case.ctx
        earlier = self.like(ctx, fld, REPEAT_WORDS)
        if earlier is not None:
            value = earlier if rng.random() < 0.85 else earlier + rng.choice((-2, -1, 1, 2))
        elif t & {"pajak", "retribusi"} and not t & PAID_WORDS:
            rent = next((v for k, v in ctx.items() if ("nilai" in k or "sewa" in k) and _is_number(v)), None)
            value = round(rent * 0.25, -3) if rent else self.money(ctx, rng)
        elif t & PAID_WORDS:
            due = next((v for k, v in ctx.items() if _is_number(v)
                        and any(w in k for w in ("pajak", "retribusi", "biaya", "tagihan"))), None)
            value = due if due is not None else self.money(ctx, rng)
        elif t & {"nilai", "biaya", "harga", "sewa", "tarif", "rp", "rupiah", "nominal", "modal", "investasi"}:
            value = self.money(ctx, rng)
        elif t & {"ukuran", "luas", "m2", "panjang", "lebar"}:
            median, spread = (90, 0.7) if labels & {"bangunan", "gedung", "tanah", "lahan"} else (6, 0.8)
            value = max(1, round(math.exp(rng.gauss(math.log(median), spread))))
        elif "lantai" in t:
            value = rng.choices((1, 2, 3), weights=(70, 25, 5))[0]
        elif "bulan" in t:
            value = rng.choice((12, 12, 12, 6, 6, 3, 1, 2))
        elif "tahun" in t and "lama" not in t:
            value = self.local_today().year
        elif t & {"umur", "usia"}:
            value = rng.randint(20, 60)
        elif t & {"jumlah", "banyak", "sisa", "kuota"}:
            value = rng.choices((0, 1, 2, 3, 4, 5), weights=(5, 40, 25, 15, 8, 7))[0]
        else:
            value = rng.randint(1, 10)
        if lo is not None:
            value = max(value, lo)
        if hi is not None:
            value = min(value, hi)
        return round(value) if fld.type == "long" else round(float(value), 2)

    def money(self, ctx: dict, rng: random.Random) -> float:
        size = next((v for k, v in ctx.items() if ("ukuran" in k or "luas" in k) and _is_number(v)), None)
        months = next((v for k, v in ctx.items() if "bulan" in k and _is_number(v)), None)
        if size and months:
            return round(size * months * rng.uniform(25_000, 75_000), -3)
        if size:
            return round(size * rng.uniform(8_000, 20_000), -3)
        return round(math.exp(rng.gauss(math.log(3_000_000), 0.8)), -3)

    def date_for(self, fld: FormField, t: set, case: _SimCase, rng: random.Random) -> str:
        today = self.local_today()
        if "lahir" in t:
            value = date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28))
        elif t & {"jatuh", "tempo", "batas"}:
            value = today + timedelta(days=30)
        elif t & {"berlaku", "sampai", "akhir", "kedaluwarsa"}:
            months = next((v for k, v in case.ctx.items() if "bulan" in k and isinstance(v, int)), 12)
            value = today + timedelta(days=round(30.44 * months))
        elif t & {"survei", "kunjungan", "jadwal", "rencana", "pemeriksaan", "peninjauan", "verifikasi"}:
            value = self.next_working_morning(self.clock.now()).astimezone(self.zone).date() \
                if rng.random() < 0.6 else today
        elif t & {"masuk", "diajukan", "permohonan", "oss"}:
            value = today - timedelta(days=rng.choice((0, 0, 1, 2)))
        else:
            value = today
        text = value.isoformat()
        c = fld.constraints
        if c.get("min") and text < str(c["min"]):
            text = str(c["min"])
        if c.get("max") and text > str(c["max"]):
            text = str(c["max"])
        return text

    def text_for(self, fld: FormField, t: set, case: _SimCase, step: StepInfo, rng: random.Random,
                 decided: dict) -> str | None:
        """A plausible value for a text field from the words of its id (or label); None: no idea."""
        ctx, info = case.ctx, case.info
        today = self.local_today()
        year, month = today.year, ROMAN[today.month - 1]
        lo, hi = fld.constraints.get("minlength"), fld.constraints.get("maxlength")
        if t & {"nik", "ktp"}:
            born = date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28))
            day = born.day + (40 if rng.random() < 0.4 else 0)
            return f"9504{rng.randint(1, 30):02d}{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randint(1, 999):04d}"
        if t & {"hp", "telp", "telepon", "wa", "whatsapp", "ponsel", "handphone", "telpon"}:
            return rng.choice(PHONE_PREFIXES) + _digits(rng, rng.choice((7, 8)))
        if t & {"email", "surel"}:
            return f"{_slug(self.person(rng))}{rng.randint(1, 99)}@gmail.com"
        if "npwpd" in t:
            return f"P.2.{rng.randint(1, 9_999_999):07d}.{rng.randint(1, 12):02d}"
        if "npwp" in t:
            return _digits(rng, 16)
        if t & {"koordinat", "gps", "lintang", "bujur"}:
            return f"-3.{rng.randint(6000, 7999)}, 138.{rng.randint(4000, 5999)}"
        if "kbli" in t:
            code, title = ctx.setdefault("_kbli", rng.choice(KBLI))
            return title if t & {"judul", "nama", "uraian"} else code
        if t & {"kendaraan", "polisi", "nopol", "plat"} and t & {"nomor", "no", "nopol", "plat"}:
            return ", ".join(f"PA {rng.randint(1000, 9999)} {rng.choice('ABDEJKLMT')}{rng.choice('ABDEJKLMT')}"
                             for _ in range(min(3, int(ctx.get("jumlah_kendaraan", 1) or 1))))
        if t & {"nomor", "no", "nomer"}:
            return self.document_number(t, info, year, month, rng)
        if t & {"asal", "tujuan", "rute", "trayek", "lintasan"}:
            origin = str(ctx.get("_asal") or "Terminal Karubaga")
            if t & {"tujuan"}:
                return rng.choice([p for p in ROUTE_PLACES if p not in origin])
            ctx["_asal"] = rng.choice(("Terminal Karubaga", "Terminal Karubaga", "Pasar Bokondini"))
            return ctx["_asal"]
        if t & NOTE_WORDS:
            return self.note(case, step, rng, decided)
        if t & {"dokumen", "berkas", "lampiran", "persyaratan", "kekurangan"}:
            docs = self.documents(info)
            return ", ".join(rng.sample(docs, k=min(len(docs), rng.randint(1, 2))))
        if "alasan" in t:
            return self.reason(case)
        if t & {"opd", "instansi", "dinas"}:
            return rng.choice(AGENCIES)
        if "tempat" in t and t & {"praktik", "fasyankes", "faskes", "kerja"} and "alamat" not in t:
            kind = next((str(v) for v in ctx.values() if isinstance(v, str) and ("fasyankes" in v or "mandiri" in v)), "")
            choices = [f for f in FACILITIES if ("Praktik" in f) == ("mandiri" in kind)] if kind else list(FACILITIES)
            if "pemerintah" in kind:
                choices = [f for f in choices if f.startswith(("Puskesmas", "RSUD", "Pustu"))]
            elif "swasta" in kind:
                choices = [f for f in choices if f.startswith(("Klinik", "Apotek"))]
            return rng.choice(choices or FACILITIES).format(district=rng.choice(DISTRICTS), name=rng.choice(BUSINESS_NAMES))
        if t & {"hak", "tanah", "lahan"}:
            return rng.choice(("Sertifikat Hak Milik No. {n}", "Surat pelepasan tanah adat No. {n}",
                               "Sertifikat Hak Guna Bangunan No. {n}")).format(n=rng.randint(10, 2500))
        if t & {"alamat", "lokasi", "tempat", "titik", "domisili"}:
            return f"{rng.choice(STREETS)} No. {rng.randint(1, 120)}, Distrik {rng.choice(DISTRICTS)}, Kabupaten Tolikara"
        if t & {"diterima", "penerima", "kuasa"}:
            applicant = next((v for k, v in ctx.items() if k.startswith("nama") and "usaha" not in k
                              and isinstance(v, str)), None)
            return applicant if applicant and rng.random() < 0.8 else f"{self.person(rng)} (kuasa)"
        if t & {"anggota", "tim"}:
            return ", ".join(self.person(rng) for _ in range(rng.randint(2, 3)))
        if "nama" in t and t & {"usaha", "perusahaan", "badan", "toko", "pelaku", "merek", "produk"}:
            return f"{rng.choice(BUSINESS_KINDS)} {rng.choice(BUSINESS_NAMES)}"
        if t & {"nama", "petugas", "pemohon", "oleh", "pejabat", "verifikator", "penanggung"}:
            return self.person(rng)
        if t & {"usaha", "perusahaan", "badan", "toko", "merek", "produk"}:
            return f"{rng.choice(BUSINESS_KINDS)} {rng.choice(BUSINESS_NAMES)}"
        if t & {"kode", "digit"} and hi is not None and hi <= 20:
            return _digits(rng, max(lo or 1, min(hi, 6)))
        return None

    def document_number(self, t: set, info: SopInfo, year: int, month: str, rng: random.Random) -> str:
        prefix = info.registration_prefix
        if "str" in t:  # Surat Tanda Registrasi of a health worker
            return _digits(rng, 16)
        if "nib" in t:
            return _digits(rng, 13)
        if "simbg" in t:
            return f"SIMBG-9504-{year}{self.number('simbg'):05d}"
        if t & {"register", "registrasi"}:
            return f"{self.number('register-' + prefix):04d}/{prefix}/{year}"
        if "bap" in t:
            return f"BAP/{self.number('bap'):03d}/TT-{prefix}/{month}/{year}"
        if t & {"skpd", "skrd"}:
            return f"973/{self.number('skpd'):03d}/{'SKRD' if 'skrd' in t else 'SKPD'}/BAPENDA/{year}"
        if "tugas" in t:
            return f"800/{self.number('st'):03d}/ST/DPMPTSP-TLK/{year}"
        if t & {"penolakan", "tolak"}:
            return f"503/{self.number('tolak'):03d}/TOLAK-{prefix}/DPMPTSP-TLK/{year}"
        if t & {"izin", "sip", "pbg", "trayek", "sertifikat", "sppst"}:
            return f"503/{self.number('izin-' + prefix):03d}/{prefix}/DPMPTSP-TLK/{year}"
        if t & {"bukti", "bayar", "ntpd", "transaksi", "kwitansi"}:
            return f"NTPD-{year}{self.number('ntpd'):06d}"
        if "rekomendasi" in t:
            return f"600/{self.number('rek'):03d}/REKOM/{month}/{year}"
        if "kkpr" in t:
            return f"KKPR-{_digits(rng, 13)}"
        return f"{self.number('surat'):03d}/DPMPTSP-TLK/{month}/{year}"

    def reason(self, case: _SimCase) -> str:
        if case.negatives:
            field_label, option_label = case.negatives[-1]
            return f"Permohonan ditolak: {field_label} - {option_label}."
        return "Permohonan tidak memenuhi persyaratan teknis sesuai ketentuan."

    def note(self, case: _SimCase, step: StepInfo, rng: random.Random, decided: dict) -> str:
        for f in step.form:
            forward = _forward(f) if f.type == "enum" else None
            if not forward or f.id not in decided:
                continue
            if decided[f.id] in _returns(f):
                docs = self.documents(case.info)
                missing = rng.sample(docs, k=min(len(docs), rng.randint(1, 2)))
                return "Kurang: " + ", ".join(missing) + ". Pemohon diminta melengkapi."
            if decided[f.id] in _rejects(f, forward):
                return self.reason(case)
        return rng.choice(NOTES)

    @staticmethod
    def fit(value: str, fld: FormField) -> str:
        """Stretch or cut a value to the field's length limits (a cut ends at a word if it can)."""
        c = fld.constraints
        lo, hi = c.get("minlength") or 0, c.get("maxlength")
        value = " ".join(value.split())
        while len(value) < lo:
            value = f"{value} {fld.label}".strip()
        if hi is not None and len(value) > hi:
            cut = value[:hi].rstrip()
            word = cut.rsplit(" ", 1)[0].rstrip(" ,;-") if " " in cut else cut
            value = word if len(word) >= max(lo, 1) else cut
        return value

    def fallback(self, fld: FormField):
        c = fld.constraints
        if fld.type == "enum":
            return _options(fld)[0] if fld.options else None
        if fld.type == "boolean":
            return True
        if fld.type in ("long", "double"):
            return c.get("min", 1)
        if fld.type == "date":
            return str(c.get("min") or self.local_today().isoformat())
        return "x" * max(1, c.get("minlength", 1) or 1)

    # --- the loop -------------------------------------------------------------------------------
    def run(self, password_hash: str | None) -> dict:
        began = _time.perf_counter()
        self.load_sops()
        self.load_staff(password_hash)
        plans = self.plan_arrivals()
        for plan in plans:
            self.push(plan.at, "arrive", plan)
        old_clock = self.engine.clock
        self.engine.clock = self.clock
        try:
            with self.progress(len(plans)) as advance:
                while self.heap and self.heap[0][0] <= self.end:
                    self.when, _, kind, payload = heapq.heappop(self.heap)
                    if kind == "arrive":
                        self.arrive(payload)
                        advance()
                    elif kind == "claim":
                        self.claim(payload)
                    elif kind == "complete":
                        self.complete(payload)
                    elif kind == "timer":
                        self.fire_timers(payload)
                    elif kind == "cancel":
                        self.cancel(payload)
            self.clock.set(self.end)
            self.timer_fires += self.engine.fire_due_timers()
            summary = self.summary(_time.perf_counter() - began)
        finally:
            self.engine.clock = old_clock
        return summary

    @contextmanager
    def progress(self, total: int):
        """A click progress bar when printing through click, else a line at every quarter."""
        import click

        if self.echo is click.echo and total:
            with click.progressbar(length=total, label="Making the case history", show_pos=True) as bar:
                yield lambda: bar.update(1)
            return
        done = 0

        def advance() -> None:
            nonlocal done
            done += 1
            if done * 4 // total != (done - 1) * 4 // total:
                self.echo(f"history: {done}/{total} cases")
        yield advance

    def summary(self, elapsed: float) -> dict:
        views = self.engine.cases(limit=max(1, self.started + 10), as_of=self.end)
        by_version: dict[tuple[str, int], dict] = {}
        open_states = {"on_track": 0, "at_risk": 0, "breached": 0}
        for view in views:
            entry = by_version.setdefault((view["process"], view["version"]), {
                "process": view["process"], "version": view["version"], "cases": 0, "completed": 0,
                "met": 0, "missed": 0, "cancelled": 0, "open": 0})
            entry["cases"] += 1
            if view["status"] == "completed":
                entry["completed"] += 1
                entry[view["sla_state"]] += 1
            elif view["status"] == "cancelled":
                entry["cancelled"] += 1
            else:
                entry["open"] += 1
                open_states[view["sla_state"]] = open_states.get(view["sla_state"], 0) + 1
        rows = []
        for key in sorted(by_version):
            entry = by_version[key]
            closed = entry["met"] + entry["missed"]
            entry["met_share"] = round(entry["met"] / closed, 4) if closed else None
            rows.append(entry)
            share = f"{entry['met_share']:.0%}" if closed else "-"
            self.echo(f"{entry['process']} v{entry['version']}: {entry['cases']} cases, "
                      f"{share} met the 24-hour limit ({entry['open']} open)")
        self.echo("open cases now: " + ", ".join(f"{k} {v}" for k, v in open_states.items()))
        return {
            "seed": self.seed, "days": self.days,
            "period": {"start": self.start.isoformat(), "end": self.end.isoformat(),
                       "switch": self.switch.isoformat()},
            "cases": self.started, "by_version": rows, "open_by_state": open_states,
            "tasks_completed": self.completed, "tasks_claimed": self.claimed,
            "cases_cancelled": self.cancelled, "timer_fires": self.timer_fires,
            "new_staff": list(self.new_staff), "invalid_forms": self.invalid_forms,
            "seconds": round(elapsed, 1),
        }


def generate_history(engine, *, seed: int, days: int = 90, cases: int = 1000, echo: Echo = print,
                     now: datetime | None = None, password_hash: str | None = None) -> dict:
    """Make `cases` cases over the `days` days before now through the engine's API; returns a summary.

    `now` (default: the real current moment, read once) ends the period; the engine's clock is a
    `FixedClock` moved from event to event and is given back as it was at the end. Extra clerks
    per lane are added with `password_hash` (default: the hash of "demo"). The summary holds the
    cases, met and missed counts and `met_share` per SOP version (`by_version`), the open cases per
    SLA state now (`open_by_state`), and counts of what was done.
    """
    if cases < 0 or days < 1:
        raise ValueError("cases must be >= 0 and days >= 1")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    run = _HistoryRun(engine, seed=seed, days=days, cases=cases, echo=echo, now=now)
    return run.run(password_hash)
