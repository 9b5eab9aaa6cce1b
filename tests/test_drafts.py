"""Drafts: create, save with a revision check, publish through deploy, retire, catalogue, delete."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import fixture_bytes
from workflow_engine import BpmnValidationError, Conflict, FormError, InvalidState, NotFound
from workflow_engine.models import AuditEvent, ProcessDraft, ProcessVersion

LINT = Path(__file__).resolve().parent / "fixtures" / "lint"
LINEAR3_FORM = {"nama_pemohon": "Yakobus", "jumlah_berkas": 2, "jenis_layanan": "baru",
                "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}


def count(engine, model) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def actions(engine) -> list[str]:
    with engine.db.read() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# --- create --------------------------------------------------------------------------------------
def test_create_draft_stores_the_file_and_its_problems(engine):
    draft_id = engine.create_draft((LINT / "no_budget.bpmn").read_bytes(), "no_budget.bpmn", author="ana",
                                   note="awal")
    draft = engine.draft(draft_id)
    assert (draft["key"], draft["name"], draft["filename"], draft["author"], draft["note"]) == \
        ("no_budget", "Tanpa waktu", "no_budget.bpmn", "ana", "awal")
    assert draft["revision"] == 1 and draft["executable"] is True and draft["base_version"] is None
    assert draft["errors"] == [] and [w["code"] for w in draft["warnings"]] == ["no-budget"]
    assert draft["xml"] == (LINT / "no_budget.bpmn").read_text()
    assert draft["created_at"].endswith("+09:00")
    assert "draft.created" in actions(engine)


def test_descriptive_model_is_stored_with_its_blockers(engine):
    draft_id = engine.create_draft((LINT / "not_executable.bpmn").read_bytes(), "x.bpmn", author="ana")
    draft = engine.draft(draft_id)
    assert draft["executable"] is False and draft["errors"][0]["code"] == "not-executable"


def test_unknown_draft_is_not_found(engine):
    with pytest.raises(NotFound):
        engine.draft(999)
    with pytest.raises(NotFound):
        engine.delete_draft(999, actor="ana")
    with pytest.raises(NotFound):
        engine.save_draft(999, fixture_bytes("linear3.bpmn"), author="ana", expected_revision=1)


def test_new_draft_from_the_template_deploys_cleanly(engine):
    draft_id = engine.new_draft("izin_baru", "Izin Baru & Lain", author="ana")
    draft = engine.draft(draft_id)
    assert (draft["key"], draft["name"], draft["executable"]) == ("izin_baru", "Izin Baru & Lain", True)
    assert draft["errors"] == [] and draft["warnings"] == []
    assert 'name="sla.batasWaktu" value="PT24H"' in draft["xml"]
    result = engine.publish_draft(draft_id, note="SOP baru", author="ana")
    assert (result.key, result.version) == ("izin_baru", 1)
    info = engine.process_info("izin_baru")
    assert info["limit_seconds"] == 86400 and info["lanes"] == ["Front Office"]


@pytest.mark.parametrize("key, name", [("", "Nama"), ("1abc", "Nama"), ("a b", "Nama"), ("ok", "  ")])
def test_new_draft_checks_key_and_name(engine, key, name):
    with pytest.raises(FormError):
        engine.new_draft(key, name, author="ana")
    assert count(engine, ProcessDraft) == 0


def test_new_draft_refuses_an_existing_sop_key(engine):
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    with pytest.raises(InvalidState, match="already exists"):
        engine.new_draft("linear3", "Lagi", author="ana")


def test_draft_from_version_copies_it_with_its_base(engine):
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    draft = engine.draft(engine.draft_from_version("linear3", 1, author="ana"))
    assert (draft["key"], draft["base_version"], draft["filename"]) == ("linear3", 1, "linear3.bpmn")
    assert draft["xml"] == fixture_bytes("linear3.bpmn").decode()
    with pytest.raises(NotFound):
        engine.draft_from_version("linear3", 5, author="ana")


# --- save ----------------------------------------------------------------------------------------
def test_save_bumps_the_revision_and_rechecks(engine):
    draft_id = engine.create_draft((LINT / "clean.bpmn").read_bytes(), "clean.bpmn", author="ana")
    saved = engine.save_draft(draft_id, (LINT / "outside_lane.bpmn").read_bytes(), author="budi",
                              expected_revision=1)
    assert saved["revision"] == 2 and saved["key"] == "outside_lane" and saved["author"] == "budi"
    assert saved["executable"] is False and saved["errors"][0]["code"] == "outside-lane"
    assert saved["filename"] == "clean.bpmn"


def test_save_with_a_stale_revision_is_a_conflict_and_changes_nothing(engine):
    draft_id = engine.create_draft((LINT / "clean.bpmn").read_bytes(), "clean.bpmn", author="ana")
    engine.save_draft(draft_id, (LINT / "no_budget.bpmn").read_bytes(), author="ana", expected_revision=1)
    with pytest.raises(Conflict, match="revision 2"):
        engine.save_draft(draft_id, (LINT / "merge_candidates.bpmn").read_bytes(), author="budi",
                          expected_revision=1)
    draft = engine.draft(draft_id)
    assert draft["revision"] == 2 and draft["key"] == "no_budget"


def test_save_refuses_unreadable_bytes_and_keeps_the_draft(engine):
    draft_id = engine.create_draft((LINT / "clean.bpmn").read_bytes(), "clean.bpmn", author="ana")
    with pytest.raises(BpmnValidationError):
        engine.save_draft(draft_id, b"<nope", author="ana", expected_revision=1)
    assert engine.draft(draft_id)["revision"] == 1


# --- refusals ------------------------------------------------------------------------------------
HEAD = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">'
        '<bpmn:process id="p"><bpmn:documentation>{}</bpmn:documentation></bpmn:process></bpmn:definitions>')
XXE_FILE = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
            + HEAD.format("&x;")).encode()
XXE_PARAMETER = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>\n'
                 + HEAD.format("x")).encode()
LAUGHS = ('<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY a0 "lol">'
          + "".join(f'<!ENTITY a{i} "{("&a%d;" % (i - 1)) * 10}">' for i in range(1, 10)) + "]>\n"
          + HEAD.format("&a9;")).encode()


@pytest.mark.parametrize("payload, words", [
    (b"this is not XML at all", "well-formed"),
    (b"", "empty"),
    (XXE_FILE, "DOCTYPE"),
    (XXE_PARAMETER, "DOCTYPE"),
    (LAUGHS, "DOCTYPE"),
    (b'<definitions xmlns="urn:other"/>', "BPMN 2.0"),
    (b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x"/>',
     "no bpmn:process"),
    ("<?xml version='1.0' encoding='ISO-8859-1'?><bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL' id='d' targetNamespace='x'>"
     "<bpmn:process id='p' name='caf\u00e9'/></bpmn:definitions>".encode("latin-1"), "UTF-8"),
], ids=["not-xml", "empty", "xxe-file", "xxe-parameter", "billion-laughs", "wrong-root", "no-process", "latin-1"])
def test_unsafe_or_unreadable_files_are_refused_and_nothing_is_stored(engine, payload, words):
    with pytest.raises(BpmnValidationError) as caught:
        engine.create_draft(payload, "x.bpmn", author="ana")
    text = str(caught.value)
    assert words in text and "root:" not in text
    assert count(engine, ProcessDraft) == 0 and count(engine, AuditEvent) == 0


def test_over_size_upload_is_refused(engine):
    from dataclasses import replace
    engine.settings = replace(engine.settings, max_bpmn_bytes=500)
    with pytest.raises(BpmnValidationError, match="limit is 500 bytes"):
        engine.create_draft((LINT / "clean.bpmn").read_bytes(), "clean.bpmn", author="ana")
    assert count(engine, ProcessDraft) == 0
    assert engine.inspect((LINT / "clean.bpmn").read_bytes(), "clean.bpmn").readable is False


# --- publish, retire ----------------------------------------------------------------------------
def test_publish_makes_the_next_version_and_drops_the_draft(engine):
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    draft_id = engine.draft_from_version("linear3", 1, author="ana")
    changed = engine.draft(draft_id)["xml"].replace('name="Verifikasi berkas"', 'name="Verifikasi berkas lengkap"')
    engine.save_draft(draft_id, changed.encode(), author="ana", expected_revision=1)
    result = engine.publish_draft(draft_id, note="nama langkah", author="ana")
    assert (result.key, result.version, result.created) == ("linear3", 2, True)
    assert engine.process_info("linear3", 2)["note"] == "nama langkah"
    assert engine.drafts() == []
    assert actions(engine)[-2:] == ["process.deployed", "process.published_draft"]


def test_publish_of_a_non_executable_draft_is_refused_and_kept(engine):
    draft_id = engine.create_draft((LINT / "not_executable.bpmn").read_bytes(), "x.bpmn", author="ana")
    with pytest.raises(BpmnValidationError):
        engine.publish_draft(draft_id, note="coba", author="ana")
    assert count(engine, ProcessVersion) == 0 and engine.draft(draft_id)["id"] == draft_id


def test_publish_of_an_unchanged_copy_is_refused(engine):
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    draft_id = engine.draft_from_version("linear3", 1, author="ana")
    with pytest.raises(InvalidState, match="same as version 1"):
        engine.publish_draft(draft_id, note="sama", author="ana")
    assert engine.draft(draft_id)["id"] == draft_id


def test_retired_version_takes_no_new_cases_while_running_ones_finish_on_it(engine):
    engine.add_user("fo", role="admin", password_hash="x")
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    old_case = engine.start_case("linear3")
    draft_id = engine.draft_from_version("linear3", 1, author="ana")
    changed = engine.draft(draft_id)["xml"].replace('name="Verifikasi berkas"', 'name="Verifikasi"')
    engine.save_draft(draft_id, changed.encode(), author="ana", expected_revision=1)
    assert engine.publish_draft(draft_id, note="v2", author="ana").version == 2
    engine.set_version_status("linear3", 1, "retired", actor="ana")
    with pytest.raises(InvalidState, match="retired"):
        engine.start_case("linear3", version=1)
    new_case = engine.start_case("linear3")
    assert engine.case(new_case)["version"] == 2
    while engine.tasks(case_id=old_case):
        task = engine.tasks(case_id=old_case)[0]
        engine.complete(task["id"], user="fo", data=LINEAR3_FORM if task["step_id"] == "isi_formulir"
                        else {"nomor_dokumen": "123/2026"} if task["step_id"] == "terbitkan" else {})
    old = engine.case(old_case)
    assert (old["version"], old["status"]) == (1, "completed")
    assert "Verifikasi berkas" in [t["name"] for t in old["tasks"]]


# --- lists ---------------------------------------------------------------------------------------
def test_catalogue_lists_versions_cases_and_drafts(engine):
    engine.add_user("fo", role="admin", password_hash="x")
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn", author="ana", note="awal")
    engine.start_case("linear3")
    changed = fixture_bytes("linear3.bpmn").replace(b'name="Verifikasi berkas"', b'name="Verifikasi"')
    engine.deploy(changed, "linear3.bpmn", author="budi")
    engine.set_version_status("linear3", 1, "retired")
    draft_id = engine.draft_from_version("linear3", 2, author="ana")
    only_draft = engine.create_draft((LINT / "outside_lane.bpmn").read_bytes(), "outside_lane.bpmn", author="ana")
    catalogue = {e["key"]: e for e in engine.catalogue()}
    linear = catalogue["linear3"]
    assert linear["published_version"] == 2
    assert [(v["version"], v["status"], v["author"], v["cases"]) for v in linear["versions"]] == \
        [(1, "retired", "ana", 1), (2, "published", "budi", 0)]
    assert linear["versions"][0]["note"] == "awal" and linear["versions"][0]["filename"] == "linear3.bpmn"
    [draft] = linear["drafts"]
    assert (draft["id"], draft["base_version"], draft["executable"], draft["error_count"]) == (draft_id, 2, True, 0)
    lone = catalogue["outside_lane"]
    assert lone["versions"] == [] and lone["published_version"] is None
    assert lone["drafts"][0]["id"] == only_draft and lone["drafts"][0]["error_count"] == 1


def test_drafts_list_without_xml_filtered_by_key(engine):
    first = engine.create_draft((LINT / "clean.bpmn").read_bytes(), "clean.bpmn", author="ana")
    engine.create_draft((LINT / "no_budget.bpmn").read_bytes(), "no_budget.bpmn", author="ana")
    listed = engine.drafts(key="clean")
    assert [d["id"] for d in listed] == [first]
    assert "xml" not in listed[0] and listed[0]["warning_count"] == 0
    assert len(engine.drafts()) == 2


def test_delete_draft(engine):
    draft_id = engine.create_draft((LINT / "clean.bpmn").read_bytes(), "clean.bpmn", author="ana")
    engine.delete_draft(draft_id, actor="ana")
    assert engine.drafts() == [] and actions(engine)[-1] == "draft.deleted"
    with pytest.raises(NotFound):
        engine.draft(draft_id)
