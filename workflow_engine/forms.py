"""Check and type the data a person submits for a step's form."""
from __future__ import annotations

import keyword

import math
import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .errors import FormError

if TYPE_CHECKING:  # sop_info imports this module, so the import is for type checkers only
    from .sop_info import FormField

FIELD_TYPES = ("string", "text", "long", "double", "boolean", "date", "enum")

MESSAGES = {
    "id": {
        "required": "wajib diisi",
        "must_check": "wajib dicentang",
        "text": "harus berupa teks",
        "long": "harus berupa bilangan bulat",
        "double": "harus berupa angka",
        "boolean": "harus ya atau tidak",
        "date": "harus berupa tanggal (TTTT-BB-HH)",
        "enum": "pilihan tidak dikenal",
        "minlength": "minimal {limit} karakter",
        "maxlength": "maksimal {limit} karakter",
        "min": "minimal {limit}",
        "max": "maksimal {limit}",
        "min_date": "paling awal {limit}",
        "max_date": "paling lambat {limit}",
    },
    "en": {
        "required": "is required",
        "must_check": "must be ticked",
        "text": "must be text",
        "long": "must be a whole number",
        "double": "must be a number",
        "boolean": "must be yes or no",
        "date": "must be a date (YYYY-MM-DD)",
        "enum": "is not one of the choices",
        "minlength": "at least {limit} characters",
        "maxlength": "at most {limit} characters",
        "min": "at least {limit}",
        "max": "at most {limit}",
        "min_date": "not before {limit}",
        "max_date": "not after {limit}",
    },
}

_TRUE = {"true", "1", "on", "yes", "ya"}
_FALSE = {"false", "0", "off", "no", "tidak"}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DMY_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")  # Camunda 7 forms and Indonesian habit
_INTEGER = re.compile(r"[+-]?\d+")


class _Invalid(Exception):
    """One field value failed; carries the message key and its parameters."""

    def __init__(self, key: str, **params: Any):
        super().__init__(key)
        self.key = key
        self.params = params


def convert_value(field_type: str, raw: Any, options: Sequence[tuple[str, str]] = ()) -> Any:
    """Return `raw` as the Python value of a form field type, or raise ValueError (English)."""
    try:
        return _convert(field_type, raw, options)
    except _Invalid as exc:
        raise ValueError(MESSAGES["en"][exc.key].format(**exc.params)) from None


def validate_form(fields: Sequence["FormField"], data: Mapping, *, lang: str = "id") -> dict:
    """Return the cleaned, typed values of `data` for `fields`, or raise FormError with every field's error."""
    messages = MESSAGES.get(lang, MESSAGES["id"])
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        if field.constraints.get("readonly"):
            continue  # a read-only value is shown, never taken from the person
        raw = data.get(field.id) if data is not None else None
        try:
            cleaned[field.id] = _clean_field(field, raw)
        except _Invalid as exc:
            errors[field.id] = messages[exc.key].format(**exc.params)
    if errors:
        raise FormError(errors)
    return cleaned


def _clean_field(field: "FormField", raw: Any) -> Any:
    """Convert one submitted value and apply the field's constraints."""
    if field.type == "boolean":
        # An unticked HTML checkbox is simply not sent, so absence means False.
        value = False if _is_empty(raw) else _convert("boolean", raw, ())
        if field.required and value is not True:
            raise _Invalid("must_check")
        return value
    if _is_empty(raw):
        if field.required:
            raise _Invalid("required")
        return None
    value = _convert(field.type, raw, field.options)
    _check_constraints(field, value)
    return value


def _is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _check_constraints(field: "FormField", value: Any) -> None:
    """Raise _Invalid when a typed value breaks a min/max or length rule."""
    limits = field.constraints
    if isinstance(value, str) and field.type in ("string", "text"):
        if "minlength" in limits and len(value) < limits["minlength"]:
            raise _Invalid("minlength", limit=limits["minlength"])
        if "maxlength" in limits and len(value) > limits["maxlength"]:
            raise _Invalid("maxlength", limit=limits["maxlength"])
    elif field.type in ("long", "double"):
        if "min" in limits and value < limits["min"]:
            raise _Invalid("min", limit=_show_number(limits["min"]))
        if "max" in limits and value > limits["max"]:
            raise _Invalid("max", limit=_show_number(limits["max"]))
    elif field.type == "date":
        # ISO dates compare correctly as strings.
        if "min" in limits and value < limits["min"]:
            raise _Invalid("min_date", limit=limits["min"])
        if "max" in limits and value > limits["max"]:
            raise _Invalid("max_date", limit=limits["max"])


def _show_number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _convert(field_type: str, raw: Any, options: Sequence[tuple[str, str]]) -> Any:
    """Convert a non-empty raw value to the field type's Python value."""
    if field_type in ("string", "text"):
        return _to_text(raw, field_type)
    if field_type == "long":
        return _to_long(raw)
    if field_type == "double":
        return _to_double(raw)
    if field_type == "boolean":
        return _to_boolean(raw)
    if field_type == "date":
        return _to_date(raw)
    if field_type == "enum":
        value = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(value, str) or value not in {option_id for option_id, _ in options}:
            raise _Invalid("enum")
        return value
    raise ValueError(f"unsupported form field type {field_type!r}")


def _to_text(raw: Any, field_type: str) -> str:
    if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
        raise _Invalid("text")
    text = str(raw).replace("\r\n", "\n").strip()
    # A one-line field keeps no line breaks: they come from pasting and break lists and reports.
    return text if field_type == "text" else " ".join(text.split("\n"))


def _to_long(raw: Any) -> int:
    if isinstance(raw, bool):
        raise _Invalid("long")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        try:
            return int(raw.strip())
        except ValueError:  # more digits than Python converts
            raise _Invalid("long") from None
    raise _Invalid("long")


def _to_double(raw: Any) -> float:
    if isinstance(raw, bool):
        raise _Invalid("double")
    if isinstance(raw, (int, float)):
        value = float(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if "," in text and "." not in text:
            text = text.replace(",", ".")  # Indonesian decimal comma: "2,5"
        try:
            value = float(text)
        except ValueError:
            raise _Invalid("double") from None
    else:
        raise _Invalid("double")
    if math.isnan(value) or math.isinf(value):
        raise _Invalid("double")
    return value


def _to_boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = raw.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise _Invalid("boolean")


def _to_date(raw: Any) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if not isinstance(raw, str):
        raise _Invalid("date")
    text = raw.strip()
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text).isoformat()
        match = _DMY_DATE.fullmatch(text)
        if match:
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day).isoformat()
    except ValueError:  # e.g. 2024-02-30
        pass
    raise _Invalid("date")


def check_start_data(data: Mapping | None) -> dict:
    """Start data becomes engine variables: names must be identifiers, values JSON."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise FormError({"data": "must be a JSON object"})
    bad = {k: "not a valid field name" for k in data
           if not isinstance(k, str) or not k.isidentifier() or keyword.iskeyword(k) or k.startswith("_")}
    if bad:
        raise FormError(bad)
    return dict(data)
