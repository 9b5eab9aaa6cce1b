"""Which option a decision takes: mostly forward, sometimes return, reject or skip."""
from __future__ import annotations

import math
import random

from workflow_engine.sop_info import FormField, SopInfo, StepInfo

from .knobs import REJECT_PER_DECISION, RETURN_AGAIN, RETURN_FIRST, SKIP_SHARE
from .records import SimCase

FORWARD_OPTIONS = ("lengkap", "layak", "sesuai", "setuju", "disetujui", "diterima", "terima",
                   "memenuhi", "memenuhi_syarat", "valid", "benar", "lulus", "lolos", "lanjut", "sah",
                   "lunas", "tersedia", "ada", "cukup", "ya", "ok")
RETURN_MARKERS = ("tidak_lengkap", "kurang_lengkap", "belum_lengkap", "kembali", "perbaik", "revisi",
                  "lengkapi")
# Options that move a file on by another road ("not needed: the facility is licensed already").
SKIP_MARKERS = ("tidak_perlu", "tidak_wajib", "tanpa", "dikecualikan", "bebas", "dispensasi")


def options(fld: FormField) -> list[str]:
    """The option ids of an enum field."""
    return [oid for oid, _ in fld.options]


def forward_option(fld: FormField) -> str | None:
    """The option that moves a file on (lengkap, layak, sesuai, setuju, ...), if the field is a decision."""
    ids = options(fld)
    for wanted in FORWARD_OPTIONS:
        if wanted in ids:
            return wanted
    return None


def return_options(fld: FormField) -> list[str]:
    """Of a decision, the options that send the file back to the applicant."""
    return [o for o in options(fld) if any(m in o.lower() for m in RETURN_MARKERS)]


def skip_options(fld: FormField) -> list[str]:
    """Of a decision, the options that move the file on by another road."""
    return [o for o in options(fld) if any(m in o.lower() for m in SKIP_MARKERS)]


def reject_options(fld: FormField, forward: str) -> list[str]:
    """Of a decision, the options that end a file (tidak_layak, tolak, penuh, ...)."""
    return [o for o in options(fld)
            if o != forward and o not in return_options(fld) and o not in skip_options(fld)]


def returns_here(step: StepInfo | None) -> bool:
    """Whether the step holds a decision that can send the file back."""
    return bool(step) and any(fld.type == "enum" and forward_option(fld) and return_options(fld)
                              for fld in step.form)


def has_return(info: SopInfo) -> bool:
    """Whether some step of the SOP can send the file back."""
    return any(returns_here(step) for step in info.steps.values())


def negative_decision(step: StepInfo, decided: dict) -> bool:
    """Whether this step's decision sent the file back or refused it (so a note is due)."""
    for f in step.form:
        forward = forward_option(f) if f.type == "enum" else None
        if forward and f.id in decided and (decided[f.id] in return_options(f)
                                            or decided[f.id] in reject_options(f, forward)):
            return True
    return False


def choose(fld: FormField, case: SimCase, force_return: bool, iteration: int, rng: random.Random) -> str | None:
    """The option an enum field takes; a decision records on `case` that it returned or refused the file."""
    ids = options(fld)
    if not ids:
        return None
    forward = forward_option(fld)
    if forward is None:  # a description (kind of billboard, ...), not a decision
        weights = [1 / math.sqrt(i + 1) for i in range(len(ids))]
        return rng.choices(ids, weights=weights)[0]
    returns, rejects = return_options(fld), reject_options(fld, forward)
    if force_return and returns:
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
    skips = skip_options(fld)
    if skips and rng.random() < SKIP_SHARE:
        return rng.choice(skips)
    return forward
