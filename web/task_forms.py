"""A step's camunda:formData as the task page renders it, and a posted form as values for the engine.

The SOP declares each field (id, label, type, required, options, constraints, default); this module
turns those into view objects the template draws (widget, hints, current value, error) and turns the
browser's posted strings back into the raw values `engine.complete` checks and types. The engine's
own checker does the validation, in the reader's language, so there is one set of rules.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from flask_babel import gettext as _

from workflow_engine.forms import validate_form
from workflow_engine.sop_info import FormField

# Enum option ids that send the file back to the applicant (Pemohon) to complete or fix it.
# "ulang" (do again) is what the rework fixture and several office SOPs use for the same path.
RETURN_VALUES = ("tidak_lengkap", "kembalikan", "perbaikan", "perbaiki", "ulang")
# Up to this many options an enum is drawn as radio buttons (all choices visible at once), else a list.
RADIO_LIMIT = 5
APPLICANT_LANES = ("pemohon", "applicant")


@dataclass
class Choice:
    id: str
    label: str
    selected: bool = False
    dom_id: str = ""


@dataclass
class FieldView:
    """Everything the template needs to draw one field."""

    id: str
    label: str
    type: str
    widget: str  # input, textarea, number, checkbox, date, select, radios, readonly
    required: bool
    value: str = ""
    checked: bool = False
    choices: list[Choice] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    error: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)

    @property
    def dom_id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "_", self.id)

    @property
    def hint_id(self) -> str:
        return self.dom_id + "-hint"

    @property
    def error_id(self) -> str:
        return self.dom_id + "-error"

    @property
    def anchor(self) -> str:
        """The element a link in the error summary moves the focus to."""
        return self.choices[0].dom_id if self.widget == "radios" and self.choices else self.dom_id

    @property
    def describedby(self) -> str:
        ids = ([self.hint_id] if self.hints else []) + ([self.error_id] if self.error else [])
        return " ".join(ids)


def fields_of(step: Mapping | None) -> list[FormField]:
    """The FormFields of a step as `engine.process_info` lists it."""
    return [FormField.from_dict(f) for f in (step or {}).get("form") or ()]


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    return str(value)


def _hints(f: FormField) -> list[str]:
    c = f.constraints
    hints: list[str] = []
    if f.type in ("string", "text"):
        if "minlength" in c and "maxlength" in c:
            hints.append(_("Between %(min)s and %(max)s characters.", min=c["minlength"], max=c["maxlength"]))
        elif "minlength" in c:
            hints.append(_("At least %(min)s characters.", min=c["minlength"]))
        elif "maxlength" in c:
            hints.append(_("At most %(max)s characters.", max=c["maxlength"]))
    elif f.type in ("long", "double", "date"):
        low = _number(c["min"]) if "min" in c else None
        high = _number(c["max"]) if "max" in c else None
        if low is not None and high is not None:
            hints.append(_("From %(min)s to %(max)s.", min=low, max=high))
        elif low is not None:
            hints.append(_("Not less than %(min)s.", min=low))
        elif high is not None:
            hints.append(_("Not more than %(max)s.", max=high))
        if f.type == "long":
            hints.append(_("A whole number."))
        elif f.type == "double":
            hints.append(_("A number; decimals with a comma or a point."))
    elif f.type == "boolean" and f.required:
        hints.append(_("Tick this box to continue."))
    return hints


def _widget(f: FormField) -> str:
    if f.readonly:
        return "readonly"
    return {"string": "input", "text": "textarea", "long": "number", "double": "number",
            "boolean": "checkbox", "date": "date",
            "enum": "radios" if len(f.options) <= RADIO_LIMIT else "select"}.get(f.type, "input")


def _attrs(f: FormField) -> dict[str, Any]:
    c = f.constraints
    attrs: dict[str, Any] = {}
    if f.type in ("string", "text"):
        for key in ("minlength", "maxlength"):
            if key in c:
                attrs[key] = int(c[key])
    elif f.type in ("long", "double"):
        attrs["step"] = "1" if f.type == "long" else "any"
        attrs["inputmode"] = "numeric" if f.type == "long" else "decimal"
        for key in ("min", "max"):
            if key in c:
                attrs[key] = _number(c[key])
    elif f.type == "date":
        for key in ("min", "max"):
            if key in c:
                attrs[key] = str(c[key])
    return attrs


def build(fields: Sequence[FormField], values: Mapping | None = None, errors: Mapping | None = None,
          case_data: Mapping | None = None) -> list[FieldView]:
    """View objects for `fields`.

    `values` are what the person typed (the posted form) and win over everything; without them
    (a fresh page) a field shows its SOP default. Read-only fields show the case's value.
    """
    errors = errors or {}
    case_data = case_data or {}
    views = []
    for f in fields:
        posted = values is not None
        if f.readonly:
            raw = case_data.get(f.id, f.default)
        elif posted:
            raw = values.get(f.id)
        else:
            raw = f.default
        view = FieldView(id=f.id, label=f.label, type=f.type, widget=_widget(f), required=f.required,
                         hints=_hints(f) if not f.readonly else [], error=errors.get(f.id),
                         attrs=_attrs(f))
        if f.type == "boolean":
            if f.readonly:
                view.value = _("Yes") if raw is True else _("No") if raw is False else "–"
            elif posted:
                view.checked = raw is not None and str(raw).strip().lower() in ("on", "true", "1", "yes", "ya")
            else:
                view.checked = raw is True
        elif f.type == "enum":
            current = _as_text(raw)
            view.choices = [Choice(oid, label, oid == current, f"{view.dom_id}-{i}")
                            for i, (oid, label) in enumerate(f.options)]
            view.value = dict(f.options).get(current, current) if f.readonly else current
        else:
            view.value = _as_text(raw) if raw is not None else ("–" if f.readonly else "")
        views.append(view)
    return views


def collect(fields: Sequence[FormField], form: Mapping) -> dict[str, Any]:
    """The posted strings of the editable fields, as the engine receives them.

    An unticked checkbox is not sent by a browser: it arrives as None, which the engine reads as False.
    """
    data: dict[str, Any] = {}
    for f in fields:
        if f.readonly:
            continue
        value = form.get(f.id)
        data[f.id] = value if value is not None and value != "" else None
    return data


def validate(fields: Sequence[FormField], data: Mapping, lang: str) -> dict:
    """The engine's own check, with messages in the reader's language; raises FormError."""
    return validate_form(fields, data, lang="en" if lang == "en" else "id")


def return_choice(fields: Sequence[FormField], steps: Iterable[Mapping]) -> tuple[str, str, str] | None:
    """(field id, option id, option label) that returns the file to the applicant, if the SOP has that path.

    The path exists when an enum of this step offers a return option and the SOP has a step on the
    applicant's side (in the Pemohon lane, or one that pauses the clock while the applicant acts).
    """
    applicant_side = any((s.get("lane") or "").strip().lower() in APPLICANT_LANES or s.get("pauses_clock")
                         for s in steps)
    if not applicant_side:
        return None
    for f in fields:
        if f.type != "enum" or f.readonly:
            continue
        for oid, label in f.options:
            if oid in RETURN_VALUES:
                return f.id, oid, label
    return None


def data_rows(case_data: Mapping | None, steps: Iterable[Mapping]) -> list[tuple[str, str, str]]:
    """(field id, label, value as read) for the case's data, named after the SOP's form fields."""
    labels: dict[str, str] = {}
    options: dict[str, dict[str, str]] = {}
    for step in steps:
        for f in step.get("form") or ():
            labels.setdefault(f["id"], f.get("label") or f["id"])
            if f.get("options"):
                options.setdefault(f["id"], {o["id"]: o["label"] for o in f["options"]})
    return [(key, labels.get(key, key), show_value(value, options.get(key)))
            for key, value in (case_data or {}).items()]


def show_value(value: Any, options: Mapping[str, str] | None = None) -> str:
    """A case data value as a person reads it."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(show_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {show_value(v)}" for k, v in value.items())
    text = str(value)
    return (options or {}).get(text, text)
