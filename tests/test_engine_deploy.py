"""Deploying SOP versions: validation, immutability, metadata."""
import pytest
from sqlalchemy import func, select

from conftest import FIXTURES, PROCESSES, fixture_bytes
from workflow_engine import BpmnValidationError, InvalidState, NotFound
from workflow_engine.models import AuditEvent, ProcessVersion


def _count_versions(engine):
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(ProcessVersion))


def test_first_deploy_is_version_one(engine):
    result = engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn", author="ana", note="awal")
    assert (result.key, result.version, result.created) == ("linear3", 1, True)
    [process] = engine.processes()
    assert process["latest_version"] == 1
    assert process["versions"][0]["author"] == "ana"
    assert process["versions"][0]["note"] == "awal"


def test_identical_content_changes_nothing(engine):
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    again = engine.deploy(fixture_bytes("linear3.bpmn"), "other-name.bpmn")
    assert (again.version, again.created) == (1, False)
    assert _count_versions(engine) == 1


def test_changed_content_is_the_next_version(engine):
    original = fixture_bytes("linear3.bpmn")
    engine.deploy(original, "linear3.bpmn")
    changed = original.replace(b'name="Verifikasi berkas"', b'name="Verifikasi berkas permohonan"')
    assert changed != original
    assert engine.deploy(changed, "linear3.bpmn", note="nama langkah").version == 2
    assert engine.deploy(original, "linear3.bpmn").version == 1  # old content is still version 1
    [process] = engine.processes()
    assert [v["version"] for v in process["versions"]] == [1, 2]
    assert process["latest_version"] == 2


def test_versions_are_numbered_per_key(engine):
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    assert engine.deploy(fixture_bytes("exclusive.bpmn"), "exclusive.bpmn").version == 1


def test_refused_file_stores_nothing(engine):
    bad = fixture_bytes("linear3.bpmn").replace(b'targetRef="verifikasi"', b'targetRef="nowhere"', 1)
    assert bad != fixture_bytes("linear3.bpmn")
    with pytest.raises(BpmnValidationError) as caught:
        engine.deploy(bad, "linear3.bpmn")
    problem = caught.value.problems[0]
    assert problem.file == "linear3.bpmn" and problem.line
    assert _count_versions(engine) == 0
    with engine.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("payload", [
    b"<not xml",
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
    b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&x;</definitions>',
    b"<definitions xmlns='urn:wrong'/>",
])
def test_hostile_or_broken_files_are_refused(engine, payload):
    with pytest.raises(BpmnValidationError):
        engine.deploy(payload, "bad.bpmn")
    assert _count_versions(engine) == 0


def test_oversized_file_is_refused(engine):
    from dataclasses import replace
    engine.settings = replace(engine.settings, max_bpmn_bytes=1000)
    with pytest.raises(BpmnValidationError, match="(?i)size|large|bytes"):
        engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")


def test_metadata_is_readable_from_each_version(engine):
    engine.deploy((PROCESSES / "izin-reklame" / "v1.bpmn").read_bytes(), "v1.bpmn")
    info = engine.process_info("izin_reklame", 1)
    assert info["registration_prefix"] == "REK"
    assert info["limit_seconds"] == 24 * 3600
    assert info["calendar"] == "24x7"
    assert info["identity"]["nomor"] and info["identity"]["dasarHukum"]
    steps = {s["id"]: s for s in info["steps"]}
    user_steps = [s for s in steps.values() if s["kind"] == "userTask"]
    assert len(user_steps) == 20
    assert all(s["budget_seconds"] for s in user_steps)
    assert any(s["pauses_clock"] for s in user_steps)
    assert all(s["lane"] for s in user_steps)


def test_unknown_version_is_not_found(engine):
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    with pytest.raises(NotFound, match="no version 7"):
        engine.process_info("linear3", 7)
    with pytest.raises(NotFound):
        engine.start_case("nope")


def test_retired_version_takes_no_new_cases_but_running_ones_go_on(engine):
    engine.add_user("fo", role="admin", password_hash="x")
    engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
    case_id = engine.start_case("linear3")
    engine.set_version_status("linear3", 1, "retired")
    with pytest.raises(NotFound):
        engine.start_case("linear3")
    with pytest.raises(InvalidState, match="retired"):
        engine.start_case("linear3", version=1)
    task = engine.tasks(case_id=case_id)[0]
    engine.complete(task["id"], user="fo", data={
        "nama_pemohon": "Yakobus", "jumlah_berkas": 2, "jenis_layanan": "baru",
        "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"})
    assert engine.case(case_id)["tasks"][0]["state"] == "completed"


def test_every_fixture_deploys(engine):
    for path in sorted(FIXTURES.glob("*.bpmn")):
        assert engine.deploy(path.read_bytes(), path.name).created
