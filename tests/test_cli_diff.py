"""`alur diff A.bpmn B.bpmn`, run as a real subprocess: the JSON shape, the text for people, bad files."""
from __future__ import annotations

from pathlib import Path

import pytest
from cli_run import alur_env, ok, ok_json, refused

ROOT = Path(__file__).resolve().parent.parent
DIFF = ROOT / "tests" / "fixtures" / "diff"


@pytest.fixture
def env(tmp_path):
    # `alur diff` needs no database; the URL points at a file that is never created.
    return alur_env(f"sqlite:///{tmp_path / 'unused.sqlite'}", tmp_path)


def test_json_has_exactly_the_four_keys(env):
    data = ok_json(["diff", DIFF / "base.bpmn", DIFF / "added_step.bpmn"], env)
    assert data == {"added": ["f_periksa_verifikasi", "f_verifikasi_end", "verifikasi"],
                    "removed": ["f_periksa_end"], "changed": {}, "layout_changed": ["end_selesai"]}


def test_json_changed_maps_attributes_to_old_and_new(env):
    data = ok_json(["diff", DIFF / "base.bpmn", DIFF / "rename.bpmn"], env)
    assert data["changed"] == {"terima": {"name": ["Terima berkas", "Terima dan registrasi berkas"]}}


def test_json_of_identical_files(env):
    data = ok_json(["diff", DIFF / "base.bpmn", DIFF / "base.bpmn"], env)
    assert data == {"added": [], "removed": [], "changed": {}, "layout_changed": []}


def test_the_sop_library_pair(env):
    data = ok_json(["diff", ROOT / "processes/izin-reklame/v1.bpmn", ROOT / "processes/izin-reklame/v2.bpmn"], env)
    assert "tugaskan_survei" in data["added"] and "registrasi_berkas" in data["removed"]
    assert all(ids == sorted(ids) for ids in (data["added"], data["removed"], data["layout_changed"]))
    assert list(data["changed"]) == sorted(data["changed"])
    assert not Path(env["ALUR_DATABASE_URL"].removeprefix("sqlite:///")).exists(), "diff needs no database"


def test_text_for_people(env):
    out = ok(["diff", DIFF / "base.bpmn", DIFF / "budget.bpmn"], env).stdout
    assert "0 added, 0 removed, 1 changed, 0 moved" in out
    assert "~ periksa  Periksa teknis (userTask)" in out and "budget: PT2H -> PT1H" in out


def test_text_marks_each_kind_of_change(env):
    out = ok(["diff", DIFF / "base.bpmn", DIFF / "added_step.bpmn"], env).stdout
    assert "+ verifikasi  Verifikasi kepala bidang (userTask)" in out
    assert "- f_periksa_end (sequenceFlow)" in out and "> end_selesai  Selesai (endEvent)" in out


def test_text_of_identical_files(env):
    assert "no differences" in ok(["diff", DIFF / "base.bpmn", DIFF / "base.bpmn"], env).stdout


def test_a_missing_file_is_named(env):
    message = refused(["diff", DIFF / "base.bpmn", "tidak-ada.bpmn"], env, code=1)
    assert "tidak-ada.bpmn" in message and "cannot be read" in message


def test_a_file_that_is_not_bpmn_is_located(env, tmp_path):
    bad = tmp_path / "rusak.bpmn"
    bad.write_text("<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>\n<oops>")
    message = refused(["diff", bad, DIFF / "base.bpmn", "--json"], env, code=1)
    assert "rusak.bpmn:" in message and "not well-formed XML" in message


def test_help(env):
    out = ok(["diff", "--help"], env).stdout
    assert "layout_changed" in out and "A.bpmn" in out
