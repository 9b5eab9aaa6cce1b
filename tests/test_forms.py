"""Form submissions are typed and checked, with every field's error reported at once."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from workflow_engine.errors import FormError
from workflow_engine.forms import convert_value, validate_form
from workflow_engine.sop_info import FormField


def field(fid: str, ftype: str = "string", *, required: bool = False, options=(), **constraints) -> FormField:
    return FormField(id=fid, label=fid.title(), type=ftype, required=required, options=tuple(options),
                     constraints=constraints)


def errors_of(fields, data, **kw) -> dict[str, str]:
    with pytest.raises(FormError) as info:
        validate_form(fields, data, **kw)
    return info.value.fields


JENIS = (("papan", "Papan"), ("baliho", "Baliho"))


def test_values_are_typed_and_cleaned():
    fields = [field("nama"), field("catatan", "text"), field("jumlah", "long"), field("luas", "double"),
              field("ok", "boolean"), field("tgl", "date"), field("jenis", "enum", options=JENIS)]
    data = {"nama": "  Budi  ", "catatan": " baris 1\r\nbaris 2 ", "jumlah": "12", "luas": "2,5", "ok": "on",
            "tgl": "2024-02-29", "jenis": "baliho"}
    assert validate_form(fields, data) == {"nama": "Budi", "catatan": "baris 1\nbaris 2", "jumlah": 12,
                                           "luas": 2.5, "ok": True, "tgl": "2024-02-29", "jenis": "baliho"}


def test_unknown_keys_are_dropped_and_readonly_fields_ignored():
    fields = [field("nama"), field("nomor", readonly=True)]
    assert validate_form(fields, {"nama": "A", "nomor": "HACK", "admin": True}) == {"nama": "A"}


def test_optional_empty_values_become_none():
    fields = [field("nama"), field("jumlah", "long"), field("tgl", "date")]
    assert validate_form(fields, {"nama": "   ", "jumlah": ""}) == {"nama": None, "jumlah": None, "tgl": None}


@pytest.mark.parametrize("value", [None, "", "   "])
def test_required_missing_or_empty(value):
    data = {} if value is None else {"nama": value}
    assert errors_of([field("nama", required=True)], data) == {"nama": "wajib diisi"}


def test_all_field_errors_are_reported_at_once():
    fields = [field("nama", required=True, minlength=3), field("jumlah", "long", required=True),
              field("luas", "double"), field("tgl", "date"), field("jenis", "enum", options=JENIS),
              field("ok", "boolean"), field("benar")]
    data = {"nama": "AB", "jumlah": "1.5", "luas": "banyak", "tgl": "2024-02-30", "jenis": "spanduk",
            "ok": "mungkin", "benar": "fine"}
    assert errors_of(fields, data) == {
        "nama": "minimal 3 karakter",
        "jumlah": "harus berupa bilangan bulat",
        "luas": "harus berupa angka",
        "tgl": "harus berupa tanggal (TTTT-BB-HH)",
        "jenis": "pilihan tidak dikenal",
        "ok": "harus ya atau tidak",
    }


def test_form_error_message_lists_fields():
    with pytest.raises(FormError) as info:
        validate_form([field("nama", required=True)], {})
    assert str(info.value) == "nama: wajib diisi"


def test_english_messages():
    fields = [field("nama", required=True), field("jumlah", "long", max=5)]
    assert errors_of(fields, {"jumlah": 9}, lang="en") == {"nama": "is required", "jumlah": "at most 5"}


def test_unknown_language_falls_back_to_indonesian():
    assert errors_of([field("nama", required=True)], {}, lang="xx") == {"nama": "wajib diisi"}


# --- per type --------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [("12", 12), (" -3 ", -3), ("+4", 4), (7, 7), (7.0, 7), ("0", 0)])
def test_long_accepts(raw, expected):
    assert validate_form([field("n", "long")], {"n": raw}) == {"n": expected}


@pytest.mark.parametrize("raw", ["1.5", "12a", "1e3", True, 2.5, [1], "1 000", "9" * 5000])
def test_long_refuses(raw):
    assert errors_of([field("n", "long")], {"n": raw}) == {"n": "harus berupa bilangan bulat"}


@pytest.mark.parametrize("raw, expected", [("2.5", 2.5), ("2,5", 2.5), (3, 3.0), ("-1e2", -100.0), (0.1, 0.1)])
def test_double_accepts(raw, expected):
    assert validate_form([field("x", "double")], {"x": raw}) == {"x": expected}


@pytest.mark.parametrize("raw", ["nan", "inf", "1.234,5", "abc", False, {"a": 1}])
def test_double_refuses(raw):
    assert errors_of([field("x", "double")], {"x": raw}) == {"x": "harus berupa angka"}


def test_number_limits():
    fields = [field("n", "long", min=1, max=10), field("x", "double", min=0.5)]
    assert errors_of(fields, {"n": "0", "x": "0.25"}) == {"n": "minimal 1", "x": "minimal 0.5"}
    assert errors_of(fields, {"n": "11"}) == {"n": "maksimal 10"}
    assert validate_form(fields, {"n": "10", "x": "0.5"}) == {"n": 10, "x": 0.5}


def test_text_lengths():
    fields = [field("s", minlength=2, maxlength=4), field("t", "text", maxlength=3)]
    assert errors_of(fields, {"s": "abcde", "t": "abcd"}) == {"s": "maksimal 4 karakter", "t": "maksimal 3 karakter"}
    assert validate_form(fields, {"s": "  ab  ", "t": "abc"}) == {"s": "ab", "t": "abc"}


def test_string_keeps_one_line_and_refuses_non_text():
    assert validate_form([field("s")], {"s": "a\nb", "x": 1}) == {"s": "a b"}
    assert validate_form([field("s")], {"s": 42}) == {"s": "42"}
    assert errors_of([field("s")], {"s": ["a"]}) == {"s": "harus berupa teks"}


@pytest.mark.parametrize("raw, expected", [
    (True, True), (False, False), ("true", True), ("false", False), ("on", True), ("1", True), ("0", False),
    ("TRUE", True), ("ya", True), ("tidak", False), (1, True), (0, False), (None, False), ("", False),
])
def test_boolean_accepts(raw, expected):
    assert validate_form([field("b", "boolean")], {"b": raw}) == {"b": expected}


def test_boolean_missing_means_unticked():
    assert validate_form([field("b", "boolean")], {}) == {"b": False}


def test_required_boolean_must_be_ticked():
    assert errors_of([field("b", "boolean", required=True)], {"b": "false"}) == {"b": "wajib dicentang"}
    assert validate_form([field("b", "boolean", required=True)], {"b": "on"}) == {"b": True}


@pytest.mark.parametrize("raw, expected", [
    ("2024-02-29", "2024-02-29"), ("31/12/2024", "2024-12-31"), ("1/2/2025", "2025-02-01"),
    (date(2024, 5, 6), "2024-05-06"), (datetime(2024, 5, 6, 13, 0), "2024-05-06"), (" 2024-01-01 ", "2024-01-01"),
])
def test_date_accepts(raw, expected):
    assert validate_form([field("d", "date")], {"d": raw}) == {"d": expected}


@pytest.mark.parametrize("raw", ["2023-02-29", "31/02/2024", "2024/01/01", "besok", "2024-1-1", 20240101])
def test_date_refuses(raw):
    assert errors_of([field("d", "date")], {"d": raw}) == {"d": "harus berupa tanggal (TTTT-BB-HH)"}


def test_date_limits():
    fields = [field("d", "date", min="2024-01-01", max="2024-12-31")]
    assert errors_of(fields, {"d": "2023-12-31"}) == {"d": "paling awal 2024-01-01"}
    assert errors_of(fields, {"d": "2025-01-01"}) == {"d": "paling lambat 2024-12-31"}


def test_enum_must_be_an_option_id_not_a_label():
    fields = [field("j", "enum", options=JENIS)]
    assert validate_form(fields, {"j": " papan "}) == {"j": "papan"}
    assert errors_of(fields, {"j": "Papan"}) == {"j": "pilihan tidak dikenal"}
    assert errors_of(fields, {"j": 1}) == {"j": "pilihan tidak dikenal"}


def test_convert_value_gives_english_value_errors():
    assert convert_value("long", "5") == 5
    with pytest.raises(ValueError, match="whole number"):
        convert_value("long", "lima")
    with pytest.raises(ValueError, match="unsupported"):
        convert_value("file", "x")


def test_accepts_any_mapping_with_get():
    class MultiDictLike(dict):
        pass

    assert validate_form([field("nama")], MultiDictLike(nama="A")) == {"nama": "A"}
