"""The SOP facts of a BPMN process (identity, service limit, steps, forms) as plain data."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import Problem

# Property keys read from camunda:properties; documented in the README and fixed project-wide.
SOP_IDENTITY_KEYS = ("nomor", "dasarHukum", "kualifikasiPelaksana", "keterkaitan", "peralatan",
                     "peringatan", "pencatatan", "disahkanOleh", "kodeRegistrasi")
PROCESS_SLA_KEYS = ("batasWaktu", "kalender", "mulaiSetelah", "eskalasiPada", "webhook")
TASK_MUTU_KEYS = ("kelengkapan", "waktu", "output", "keterangan")
TASK_SLA_KEYS = ("jeda",)
# On a service task: the connector (set up by an admin) it calls, as alur.connector (exchange_bpmn.py).
TASK_EXCHANGE_KEYS = ("connector",)
CALENDARS = ("24x7", "jam-kerja")
DEFAULT_LIMIT = "PT24H"
DEFAULT_CALENDAR = "24x7"


@dataclass(frozen=True)
class FormField:
    """One field of a step's camunda:formData form."""

    id: str
    label: str
    type: str = "string"
    required: bool = False
    options: tuple[tuple[str, str], ...] = ()
    constraints: dict = field(default_factory=dict, hash=False)
    default: Any = None

    @property
    def readonly(self) -> bool:
        return bool(self.constraints.get("readonly"))

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "type": self.type, "required": self.required,
                "options": [{"id": oid, "label": label} for oid, label in self.options],
                "constraints": dict(self.constraints), "default": self.default}

    @classmethod
    def from_dict(cls, data: dict) -> "FormField":
        return cls(id=data["id"], label=data.get("label") or data["id"], type=data.get("type", "string"),
                   required=bool(data.get("required", False)),
                   options=tuple((o["id"], o["label"]) for o in data.get("options", ())),
                   constraints=dict(data.get("constraints") or {}), default=data.get("default"))


@dataclass(frozen=True)
class StepInfo:
    """One activity of the SOP with its quality standard (mutu baku) and form."""

    id: str
    name: str
    kind: str
    lane: str | None = None
    documentation: str | None = None
    budget_seconds: int | None = None
    requirements: str | None = None
    output: str | None = None
    note: str | None = None
    pauses_clock: bool = False
    form: tuple[FormField, ...] = ()
    connector: str | None = None  # a service task's alur.connector

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind, "lane": self.lane,
                "documentation": self.documentation, "budget_seconds": self.budget_seconds,
                "requirements": self.requirements, "output": self.output, "note": self.note,
                "pauses_clock": self.pauses_clock, "form": [f.to_dict() for f in self.form],
                "connector": self.connector}

    @classmethod
    def from_dict(cls, data: dict) -> "StepInfo":
        return cls(id=data["id"], name=data.get("name") or data["id"], kind=data["kind"],
                   lane=data.get("lane"), documentation=data.get("documentation"),
                   budget_seconds=data.get("budget_seconds"), requirements=data.get("requirements"),
                   output=data.get("output"), note=data.get("note"),
                   pauses_clock=bool(data.get("pauses_clock", False)),
                   form=tuple(FormField.from_dict(f) for f in data.get("form", ())),
                   connector=data.get("connector"))


@dataclass(frozen=True)
class SopInfo:
    """Everything Alur needs to know about one SOP version besides the executable spec."""

    key: str
    name: str
    identity: dict = field(default_factory=dict, hash=False)
    registration_prefix: str = "SOP"
    limit_seconds: int = 86400
    calendar: str = DEFAULT_CALENDAR
    clock_starts_after: str | None = None
    lanes: tuple[str, ...] = ()
    steps: dict = field(default_factory=dict, hash=False)
    # SLA escalations: the used share that alerts the lane's head (None: the office's at-risk share),
    # and a URL that receives a JSON POST for each escalation.
    escalate_share: float | None = None
    webhook: str | None = None
    # Errors and warnings met while reading; the loader refuses the file if any is an error.
    problems: tuple[Problem, ...] = ()

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != "error")

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "identity": dict(self.identity),
                "registration_prefix": self.registration_prefix, "limit_seconds": self.limit_seconds,
                "calendar": self.calendar, "clock_starts_after": self.clock_starts_after,
                "lanes": list(self.lanes), "steps": [s.to_dict() for s in self.steps.values()],
                "escalate_share": self.escalate_share, "webhook": self.webhook,
                "problems": [p.to_dict() for p in self.problems]}

    @classmethod
    def from_dict(cls, data: dict) -> "SopInfo":
        steps = data.get("steps") or []
        # Steps are stored as a list to keep their order explicit in JSON; a mapping is accepted too.
        if isinstance(steps, dict):
            steps = list(steps.values())
        return cls(key=data["key"], name=data.get("name") or data["key"],
                   identity=dict(data.get("identity") or {}),
                   registration_prefix=data.get("registration_prefix") or default_prefix(data["key"]),
                   limit_seconds=int(data.get("limit_seconds", 86400)),
                   calendar=data.get("calendar") or DEFAULT_CALENDAR,
                   clock_starts_after=data.get("clock_starts_after"),
                   lanes=tuple(data.get("lanes") or ()),
                   steps={s["id"]: StepInfo.from_dict(s) for s in steps},
                   escalate_share=data.get("escalate_share"), webhook=data.get("webhook"),
                   problems=tuple(Problem(**p) for p in data.get("problems") or ()))


def default_prefix(key: str) -> str:
    """Return the registration-number prefix used when the SOP names none (``izin_reklame`` → ``IR``)."""
    # Initials of the key's words, at most 6 (izinMendirikanBangunan → IMB); a one-word key gives its
    # first three letters (reklame → REK); SOP when the key has fewer than two ASCII letters.
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", re.sub(r"[^A-Za-z]+", " ", key or ""))
    initials = "".join(word[0] for word in words).upper()
    if len(initials) >= 2:
        return initials[:6]
    letters = "".join(words).upper()[:3]
    return letters if len(letters) >= 2 else "SOP"


def read_sop_info(process_element, root, file: str | None = None) -> SopInfo:
    """Read the SOP facts of a process element; bad property values become Problems, not exceptions."""
    from .sop_reader import SopReader  # the reader needs these dataclasses, so it is imported late

    return SopReader(process_element, root, file).read()
