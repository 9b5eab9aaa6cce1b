"""Filling in a step's form as the office would, from each field's type, constraints and name."""
from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflow_engine import FixedClock
from workflow_engine.errors import FormError
from workflow_engine.forms import validate_form
from workflow_engine.sop_info import FormField, StepInfo

from .decisions import choose, negative_decision, options
from .records import SimCase, SimTask
from .values import NOTE_WORDS, DocumentNumbers, text_for

# A field with one of these words repeats an earlier one (ukuran_terukur_m2 ~ ukuran_m2).
REPEAT_WORDS = {"terukur", "aktual", "hasil", "dihitung", "diukur", "laik", "diverifikasi"}
PAID_WORDS = {"dibayar", "bayar", "setor", "disetor"}


def _tokens(fld: FormField) -> set[str]:
    return set(re.split(r"[^a-z0-9]+", f"{fld.id} {fld.label}".lower())) - {""}


def _id_tokens(fld: FormField) -> set[str]:
    return set(fld.id.lower().split("_")) - {""}


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class FormFiller:
    """Fills in the forms of the run's tasks, on the run's clock."""

    def __init__(self, clock: FixedClock, zone: ZoneInfo, next_working_morning: Callable[[datetime], datetime]):
        self.clock = clock
        self.zone = zone
        self.next_working_morning = next_working_morning
        self.numbers = DocumentNumbers()
        self.invalid_forms = 0

    def form_data(self, task: SimTask) -> dict:
        """The values of the task's form, checked with `validate_form`."""
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
                value = choose(fld, case, task.force_return, iteration, rng)
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

    def local_today(self) -> date:
        """The run's date in the office's zone."""
        return self.clock.now().astimezone(self.zone).date()

    def value_for(self, fld: FormField, case: SimCase, step: StepInfo, rng: random.Random,
                  decided: dict) -> Any:
        """The value of a field other than a decision; None leaves an optional field empty."""
        ids, labels = _id_tokens(fld), _tokens(fld)
        note_like = bool(ids & NOTE_WORDS)
        if not fld.required and fld.type != "boolean":
            negative = negative_decision(step, decided)
            if not (note_like and negative) and rng.random() > (0.35 if note_like else 0.85):
                return None
        if fld.type == "boolean":
            return True if fld.required else rng.random() < 0.9
        if fld.type in ("long", "double"):
            return self.number_for(fld, ids or labels, labels, case, rng)
        if fld.type == "date":
            return self.date_for(fld, labels, case, rng)
        for tokens in (ids, labels):
            value = text_for(fld, tokens, case, step, rng, decided, self.local_today(), self.numbers)
            if value is not None:
                return fit(value, fld)
        return fit(f"{fld.label} sudah sesuai berkas", fld)

    def number_for(self, fld: FormField, t: set, labels: set, case: SimCase, rng: random.Random):
        """A number that fits the field's words (sizes, months, amounts, counts) and its limits."""
        c = fld.constraints
        lo, hi = c.get("min"), c.get("max")
        ctx = case.ctx
        earlier = like(ctx, fld, REPEAT_WORDS)
        if earlier is not None:
            value = earlier if rng.random() < 0.85 else earlier + rng.choice((-2, -1, 1, 2))
        elif t & {"pajak", "retribusi"} and not t & PAID_WORDS:
            rent = next((v for k, v in ctx.items() if ("nilai" in k or "sewa" in k) and _is_number(v)), None)
            value = round(rent * 0.25, -3) if rent else money(ctx, rng)
        elif t & PAID_WORDS:
            due = next((v for k, v in ctx.items() if _is_number(v)
                        and any(w in k for w in ("pajak", "retribusi", "biaya", "tagihan"))), None)
            value = due if due is not None else money(ctx, rng)
        elif t & {"nilai", "biaya", "harga", "sewa", "tarif", "rp", "rupiah", "nominal", "modal", "investasi"}:
            value = money(ctx, rng)
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

    def date_for(self, fld: FormField, t: set, case: SimCase, rng: random.Random) -> str:
        """A date that fits the field's words (birth, due, valid until, visit) and its limits."""
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

    def fallback(self, fld: FormField):
        """The plainest value a field accepts, for one the generator got wrong."""
        c = fld.constraints
        if fld.type == "enum":
            return options(fld)[0] if fld.options else None
        if fld.type == "boolean":
            return True
        if fld.type in ("long", "double"):
            return c.get("min", 1)
        if fld.type == "date":
            return str(c.get("min") or self.local_today().isoformat())
        return "x" * max(1, c.get("minlength", 1) or 1)


def like(ctx: dict, fld: FormField, extra: set) -> Any:
    """The value of an earlier field this one repeats (ukuran_terukur_m2 ~ ukuran_m2)."""
    wanted = _id_tokens(fld) - extra
    if not wanted or wanted == _id_tokens(fld):
        return None
    for key, value in ctx.items():
        if key != fld.id and _is_number(value) and wanted <= set(key.split("_")):
            return value
    return None


def money(ctx: dict, rng: random.Random) -> float:
    """An amount in rupiah, from the size and months already on the form if there are any."""
    size = next((v for k, v in ctx.items() if ("ukuran" in k or "luas" in k) and _is_number(v)), None)
    months = next((v for k, v in ctx.items() if "bulan" in k and _is_number(v)), None)
    if size and months:
        return round(size * months * rng.uniform(25_000, 75_000), -3)
    if size:
        return round(size * rng.uniform(8_000, 20_000), -3)
    return round(math.exp(rng.gauss(math.log(3_000_000), 0.8)), -3)


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
