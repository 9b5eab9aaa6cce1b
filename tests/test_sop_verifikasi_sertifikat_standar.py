"""Verifikasi Sertifikat Standar OSS: both versions through every path (issue: the SOP library)."""
import pytest

from conftest import PROCESSES
from sop_budgets import assert_applicant_time_paused, office_budget_of_run, office_longest_path
from sop_paths import deploy_versions, office_users, run_path, steps_done

KEY = "verifikasi_sertifikat_standar"
FOLDER = PROCESSES / "verifikasi-sertifikat-standar"
HOURS = 3600

BUSINESS = {"nib": "9120001234567", "nama_pelaku_usaha": "CV Wene Sejahtera", "no_hp": "081248001122",
            "kbli": "56101", "judul_kbli": "Restoran", "sektor": "pariwisata",
            "lokasi_usaha": "Jl. Raya Karubaga, Distrik Karubaga", "tanggal_masuk_oss": "2026-11-30"}
# One plan for both versions: a step kept from v1 keeps its field ids in v2, and a merged v2 step
# takes the fields of the v1 steps it replaces (fields a form does not have are ignored).
HAPPY = {
    "terima_notifikasi": BUSINESS,
    "disposisi_verifikasi": {"verifikator": "Maria Kogoya"},
    "periksa_dokumen": [{**BUSINESS, "hasil": "lengkap", "perlu_verifikasi_lapangan": "perlu"}],
    "perbaikan_dokumen": {"dokumen_perbaikan": "Sertifikat laik higiene sanitasi dan daftar peralatan dapur"},
    "periksa_persyaratan_dasar": {"hasil_persyaratan_dasar": "sesuai"},
    "konsep_surat_permintaan": {"opd_teknis": "Dinas Pariwisata", "tanggal_verifikasi_lapangan": "2026-12-01"},
    "tandatangani_surat_permintaan": {"nomor_surat_permintaan": "500/01/DPMPTSP/2026"},
    "verifikasi_lapangan": {"hasil_lapangan": "sesuai", "koordinat": "-3.6721, 138.4785"},
    "susun_bap_rekomendasi": {"nomor_bap": "BAP/VSS/01/2026", "rekomendasi": "layak"},
    "konsep_hasil_verifikasi": {"nomor_ba_verifikasi": "BA/VSS/01/2026"},
    "persetujuan_kabid": {"keputusan_kabid": "setuju", "nomor_sertifikat_standar": "SS-9120001234567-001"},
    "persetujuan_kadis": {"keputusan_kadis": "setuju"},
    "input_hasil_oss": {"nomor_sertifikat_standar": "SS-9120001234567-001"},
    "beritahu_pemohon": {"tanggal_pemberitahuan": "2026-12-01", "cara_pemberitahuan": "whatsapp"},
    "catat_penolakan_oss": {"nomor_surat_penolakan": "503/TOLAK-VSS/01",
                            "alasan_penolakan": "Standar sarana dan prasarana usaha tidak terpenuhi"},
}
LAST_STEP = {1: "beritahu_pemohon", 2: "persetujuan_kabid"}
TECHNICAL_REJECTIONS = [
    ("not-suitable", {"susun_bap_rekomendasi": {"nomor_bap": "BAP/VSS/02", "rekomendasi": "tidak_layak"}}),
    ("basic-requirements", {"periksa_persyaratan_dasar": {"hasil_persyaratan_dasar": "tidak_sesuai"}}),
]
REJECTIONS = {
    1: TECHNICAL_REJECTIONS + [("kabid-refuses", {"persetujuan_kabid": {"keputusan_kabid": "tolak"}}),
                               ("kadis-refuses", {"persetujuan_kadis": {"keputusan_kadis": "tolak"}})],
    2: TECHNICAL_REJECTIONS + [("kabid-refuses", {"persetujuan_kabid": {"keputusan_kabid": "tolak"}})],
}


@pytest.fixture
def vss(engine):
    office_users(engine)
    deploy_versions(engine, FOLDER)
    return engine




def test_v2_keeps_the_steps_and_field_ids_of_v1_with_fewer_hand_offs(vss):
    steps = {n: {s["id"]: s for s in vss.process_info(KEY, n)["steps"] if s["kind"] == "userTask"} for n in (1, 2)}
    kept = steps[1].keys() & steps[2].keys()
    assert kept == {"periksa_dokumen", "perbaikan_dokumen", "periksa_persyaratan_dasar", "verifikasi_lapangan",
                    "susun_bap_rekomendasi", "persetujuan_kabid", "catat_penolakan_oss"}
    for step in kept:
        assert steps[1][step]["lane"] == steps[2][step]["lane"], step
        assert {f["id"] for f in steps[1][step]["form"]} <= {f["id"] for f in steps[2][step]["form"]}, step
    assert {s["lane"] for s in steps[2].values()} == {"Pemohon", "Back Office", "Tim Teknis", "Kepala Bidang"}
    assert len(steps[2]) == 7 < len(steps[1]) == 16


@pytest.mark.parametrize("version", [1, 2])
def test_approved(vss, version):
    view = run_path(vss, KEY, HAPPY, version=version)
    assert view["version"] == version and view["registration_number"].startswith("VSS-")
    assert view["status"] == "completed" and view["sla_state"] == "met"
    done = steps_done(view)
    assert done[-1] == LAST_STEP[version] and "catat_penolakan_oss" not in done
    assert "verifikasi_lapangan" in done and "perbaikan_dokumen" not in done
    # No applicant-side step on this path: the clock never paused.
    assert view["sla"]["paused_seconds"] == 0
    assert_applicant_time_paused(view)


def test_v2_approved_without_field_verification(vss):
    plan = {**HAPPY, "periksa_dokumen": [{**BUSINESS, "hasil": "lengkap", "perlu_verifikasi_lapangan": "tidak_perlu"}]}
    view = run_path(vss, KEY, plan, version=2)
    done = steps_done(view)
    assert view["status"] == "completed" and done[-1] == "persetujuan_kabid"
    assert "verifikasi_lapangan" not in done and "susun_bap_rekomendasi" in done
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("version", [1, 2])
def test_correction_requested_twice_then_fixed(vss, version):
    plan = {**HAPPY, "periksa_dokumen": [
        {**BUSINESS, "hasil": "tidak_lengkap", "catatan_kelengkapan": "Sertifikat laik higiene belum diunggah",
         "perlu_verifikasi_lapangan": "perlu"},
        {**BUSINESS, "hasil": "tidak_lengkap", "perlu_verifikasi_lapangan": "perlu"},
        {**BUSINESS, "hasil": "lengkap", "perlu_verifikasi_lapangan": "perlu"}]}
    view = run_path(vss, KEY, plan, version=version)
    done = steps_done(view)
    assert done.count("perbaikan_dokumen") == 2 and done.count("periksa_dokumen") == 3
    assert view["status"] == "completed" and done[-1] == LAST_STEP[version]
    assert view["sla"]["paused_seconds"] > 0  # the applicant's corrections stopped the clock
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("version, name, change",
                         [(v, name, change) for v, items in REJECTIONS.items() for name, change in items],
                         ids=[f"v{v}-{name}" for v, items in REJECTIONS.items() for name, _ in items])
def test_rejected(vss, version, name, change):
    view = run_path(vss, KEY, {**HAPPY, **change}, version=version)
    done = steps_done(view)
    assert view["status"] == "completed" and done[-1] == "catat_penolakan_oss"
    assert LAST_STEP[1] not in done and "input_hasil_oss" not in done
    assert view["sla"]["paused_seconds"] == 0
    assert_applicant_time_paused(view)


def test_v2_rejected_after_a_correction_keeps_the_paused_time(vss):
    plan = {**HAPPY, **dict(TECHNICAL_REJECTIONS)["not-suitable"], "periksa_dokumen": [
        {**BUSINESS, "hasil": "tidak_lengkap", "perlu_verifikasi_lapangan": "tidak_perlu"},
        {**BUSINESS, "hasil": "lengkap", "perlu_verifikasi_lapangan": "tidak_perlu"}]}
    view = run_path(vss, KEY, plan, version=2)
    assert steps_done(view)[-1] == "catat_penolakan_oss" and view["sla"]["paused_seconds"] > 0
    assert_applicant_time_paused(view)


def test_office_budget_of_the_approved_path_shrinks_to_within_24_hours(vss):
    budgets = {n: office_budget_of_run(run_path(vss, KEY, HAPPY, version=n)) for n in (1, 2)}
    assert budgets[1] > 24 * HOURS >= budgets[2]
    assert budgets[1] > budgets[2]


def test_longest_office_path_matches_the_readme():
    # processes/verifikasi-sertifikat-standar/README.md quotes these sums of mutu.waktu.
    v1, v1_steps = office_longest_path(FOLDER / "v1.bpmn", end="end_terverifikasi")
    v2, v2_steps = office_longest_path(FOLDER / "v2.bpmn", end="end_terverifikasi")
    assert v1 == 48 * HOURS and len(v1_steps) == 14
    assert v2 == 5 * HOURS + 30 * 60 and v2_steps == ["periksa_dokumen", "verifikasi_lapangan",
                                                       "susun_bap_rekomendasi", "persetujuan_kabid"]
    assert office_longest_path(FOLDER / "v2.bpmn")[0] <= 6 * HOURS  # the refusal path too
