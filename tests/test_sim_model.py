"""The path model the simulator runs on: built from BPMN for every SOP of the library and the fixtures."""
from __future__ import annotations

import pytest
from conftest import FIXTURES, PROCESSES

from workflow_engine.errors import BpmnValidationError
from workflow_engine.sim_model import END, START, build_model

# (folder, version): tasks, exclusive gateways, parallel gateways, parallel splits {id: branches}
LIBRARY = {
    ("izin-reklame", 1): (20, 6, 2, {"gw_split_pemeriksaan": 2}),
    ("izin-reklame", 2): (12, 7, 2, {"gw_split_pemeriksaan": 2}),
    ("izin-trayek", 1): (16, 8, 0, {}),
    ("izin-trayek", 2): (9, 5, 2, {"gw_split_pemeriksaan": 2}),
    ("persetujuan-bangunan-gedung", 1): (23, 6, 0, {}),
    ("persetujuan-bangunan-gedung", 2): (15, 5, 2, {"gw_split_pemeriksaan": 5}),
    ("surat-izin-praktik", 1): (16, 7, 0, {}),
    ("surat-izin-praktik", 2): (9, 5, 2, {"gw_split_pemeriksaan": 2}),
    ("verifikasi-sertifikat-standar", 1): (16, 6, 0, {}),
    ("verifikasi-sertifikat-standar", 2): (7, 7, 2, {"gw_split_pemeriksaan": 2}),
}


def model_of(path):
    return build_model(path.read_bytes(), path.name)


@pytest.mark.parametrize("folder,version", sorted(LIBRARY))
def test_library_model_counts(folder, version):
    tasks, exclusive, parallel, splits = LIBRARY[(folder, version)]
    model = model_of(PROCESSES / folder / f"v{version}.bpmn")
    counts = model.counts()
    assert (counts["tasks"], counts["exclusive_gateways"], counts["parallel_gateways"]) == (tasks, exclusive, parallel)
    assert model.parallel_splits() == splits
    assert len(model.starts) == 1


@pytest.mark.parametrize("folder,version", sorted(LIBRARY))
def test_library_return_to_applicant_is_the_only_rework(folder, version):
    model = model_of(PROCESSES / folder / f"v{version}.bpmn")
    rework = model.rework_flows()
    assert len(rework) == 1
    target = model.nodes[model.flows[rework.pop()].target]
    assert target.pauses_clock and target.lane == "Pemohon"


@pytest.mark.parametrize("folder,version", sorted(LIBRARY))
def test_library_steps_carry_lane_budget_and_pause(folder, version):
    model = model_of(PROCESSES / folder / f"v{version}.bpmn")
    assert all(t.lane and t.budget_seconds and t.person for t in model.tasks)
    assert sum(t.pauses_clock for t in model.tasks) >= 1
    assert model.info.limit_seconds == 24 * 3600 and model.info.calendar == "24x7"


def test_branch_first_steps_and_preceding_steps():
    model = model_of(PROCESSES / "izin-reklame" / "v2.bpmn")
    firsts = {model.flows[f].target: model.first_tasks(f) for f in model.nodes["gw_kelengkapan"].outgoing}
    assert firsts["melengkapi_berkas"] == {"melengkapi_berkas"}
    # Through the parallel split and the size gateway: every step the forward branch starts.
    assert firsts["gw_split_pemeriksaan"] == {"verifikasi_administrasi", "tugaskan_survei", "susun_bap_rekomendasi"}
    # The join waits for both checks, so either can be the step that leads to the decision.
    assert model.preceding_tasks("gw_layak") == {"verifikasi_administrasi", "susun_bap_rekomendasi"}
    assert model.preceding_tasks("gw_merge_kelengkapan") == {START, "melengkapi_berkas"}


def test_a_branch_straight_to_an_end_is_marked():
    model = model_of(FIXTURES / "rework_loop.bpmn")
    assert model.first_tasks("Flow_gw_hasil_end") == {END}
    assert model.rework_flows() == {"Flow_gw_hasil_perbaiki"}


def test_inclusive_gateway_and_its_branches():
    model = model_of(FIXTURES / "inclusive.bpmn")
    assert model.counts()["inclusive_gateways"] == 2
    assert model.parallel_splits() == {"gw_rekomendasi": 4}
    assert model.nodes["gw_rekomendasi"].default == "Flow_gw_rekomendasi_tanpa_rekomendasi"


def test_embedded_subprocess_is_modelled_inside():
    model = model_of(FIXTURES / "subprocess.bpmn")
    sub = model.nodes["pemeriksaan"]
    assert sub.kind == "sub" and sub.inner_starts == ("sub_start",)
    assert model.nodes["periksa_dokumen"].scope == "pemeriksaan"
    assert model.nodes["periksa_lapangan"].lane == "Back Office"
    assert "terbitkan" in model.reach("terima")


def test_call_activity_brings_in_the_called_process():
    model = model_of(FIXTURES / "call_activity.bpmn")
    call = model.nodes["minta_rekomendasi"]
    assert call.kind == "call" and call.inner_starts
    assert "beri_rekomendasi" in {t.id for t in model.tasks}
    assert model.key == "call_activity"


def test_boundary_timer_is_read():
    model = model_of(FIXTURES / "boundary_timer.bpmn")
    timer = model.nodes["timer_2_jam"]
    assert (timer.kind, timer.attached_to, timer.timer_seconds, timer.cancel_activity) == \
        ("boundary", "tunggu_rekomendasi", 7200, True)


def test_clock_start_and_calendar_come_from_the_sop():
    model = model_of(FIXTURES / "clock_start.bpmn")
    assert model.info.clock_starts_after == "berkas_lengkap"
    assert (model.info.calendar, model.info.limit_seconds) == ("jam-kerja", 8 * 3600)


def test_conditions_name_what_they_read():
    model = model_of(PROCESSES / "izin-reklame" / "v2.bpmn")
    assert model.flows["Flow_gw_layak_terbitkan_skpd"].reads() == {"rekomendasi", "hasil_tata_ruang"}
    assert model.flows["Flow_gw_ukuran_tugaskan_survei"].reads() == {"ukuran_m2"}


def test_without_bypasses_a_step():
    model = model_of(FIXTURES / "linear3.bpmn")
    edited = model.without(["verifikasi"])
    assert "verifikasi" not in edited.nodes and "verifikasi" in model.nodes
    assert edited.next_tasks("isi_formulir") == {"terbitkan"}
    assert edited.counts()["tasks"] == 2


def test_in_parallel_runs_two_steps_side_by_side():
    model = model_of(FIXTURES / "linear3.bpmn")
    assert model.consecutive("isi_formulir") == "verifikasi"
    edited = model.in_parallel("isi_formulir", "verifikasi")
    assert edited.parallel_splits() == {"isi_formulir__split": 2}
    assert edited.next_tasks("isi_formulir") == {"terbitkan"}
    assert edited.next_tasks("verifikasi") == {"terbitkan"}


def test_descriptive_model_without_executable_flag_still_builds():
    xml = (FIXTURES / "linear3.bpmn").read_text().replace('isExecutable="true"', 'isExecutable="false"')
    assert build_model(xml, "descriptive.bpmn").counts()["tasks"] == 3


def test_unsafe_xml_is_refused_by_the_hardened_parser():
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/hostname">]><x>&e;</x>'
    with pytest.raises(BpmnValidationError):
        build_model(evil, "evil.bpmn")


def test_not_bpmn_is_refused():
    with pytest.raises(BpmnValidationError):
        build_model(b"<html/>", "page.bpmn")
