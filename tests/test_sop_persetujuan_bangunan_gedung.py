"""Persetujuan Bangunan Gedung (PBG): both versions through every path (issue: the SOP library)."""
import pytest

from conftest import PROCESSES
from sop_budgets import assert_applicant_time_paused, office_budget_of_run, office_longest_path
from sop_paths import deploy_versions, office_users, run_path, steps_done

KEY = "persetujuan_bangunan_gedung"
FOLDER = PROCESSES / "persetujuan-bangunan-gedung"
HOURS = 3600

APPLICATION = {"nama_pemohon": "Yulianus Kogoya", "nik": "9504010101850001", "no_hp": "081344556677",
               "fungsi_bangunan": "hunian", "lokasi_bangunan": "Kampung Wenam, Distrik Karubaga",
               "luas_bangunan_m2": 120, "jumlah_lantai": 1, "nomor_simbg": "SIMBG-9504-2026-0042"}
TEAM = {"tanggal_pemeriksaan": "2026-12-01", "anggota_tim": "Arsitek, ahli struktur, ahli MEP, staf PUPR"}
SKRD = {"nomor_skrd": "SKRD/PBG/01/2026", "jatuh_tempo": "2026-12-31"}
# One plan for both versions: a step kept from v1 keeps its field ids in v2, and a merged v2 step
# takes the fields of the v1 steps it replaces (fields a form does not have are ignored).
HAPPY = {
    "terima_berkas": APPLICATION, "periksa_kelengkapan": [{"hasil": "lengkap"}],
    "melengkapi_berkas": {"dokumen_perbaikan": "Gambar rencana struktur dan bukti hak atas tanah"},
    "registrasi_berkas": {"tanda_terima_diserahkan": True},
    "verifikasi_administrasi": {"nomor_kkpr": "KKPR/9504/2026/0017", "bukti_hak_tanah": "SHM No. 00123/Wenam",
                                **TEAM},
    "konsep_surat_tugas": TEAM,
    "tandatangani_surat_tugas": {"nomor_surat_tugas": "800/02/DPMPTSP/2026"},
    "periksa_arsitektur": {"hasil_arsitektur": "memenuhi"},
    "periksa_struktur": {"hasil_struktur": "memenuhi"},
    "periksa_mep": {"hasil_mep": "memenuhi"},
    "peninjauan_lapangan": {"koordinat": "-3.6721, 138.4785", "hasil_lapangan": "sesuai"},
    "susun_bap_rekomendasi": {"nomor_bap": "BAP/PBG/01/2026", "rekomendasi": "layak",
                              "nomor_sppst": "SPPST/01/2026"},
    "hitung_retribusi": {"luas_dihitung_m2": 120, "nilai_retribusi": 2450000, **SKRD},
    "tandatangani_sppst": {"nomor_sppst": "SPPST/01/2026"},
    "terbitkan_skrd": SKRD,
    "bayar_retribusi": {"nomor_bukti_bayar": "BP-0042", "tanggal_bayar": "2026-12-01"},
    "verifikasi_pembayaran": {"jumlah_dibayar": 2450000, "nomor_pbg": "PBG-950401-01122026-01"},
    "susun_draf_pbg": {"nomor_pbg": "PBG-950401-01122026-01"},
    "persetujuan_kabid": {"keputusan_kabid": "setuju"},
    "persetujuan_kadis": {"keputusan_kadis": "setuju"},
    "serahkan_pbg": {"tanggal_penyerahan": "2026-12-02", "diterima_oleh": "Yulianus Kogoya"},
    "susun_surat_penolakan": {"nomor_surat_penolakan": "503/TOLAK-PBG/01",
                              "alasan_penolakan": "Rencana struktur tidak memenuhi standar teknis"},
}
TECHNICAL_REJECTIONS = [
    ("architecture", {"periksa_arsitektur": {"hasil_arsitektur": "tidak_memenuhi"}}),
    ("structure", {"periksa_struktur": {"hasil_struktur": "tidak_memenuhi"}}),
    ("mep", {"periksa_mep": {"hasil_mep": "tidak_memenuhi"}}),
    ("site", {"peninjauan_lapangan": {"hasil_lapangan": "tidak_sesuai"}}),
    ("not-suitable", {"susun_bap_rekomendasi": {"nomor_bap": "BAP/PBG/02", "rekomendasi": "tidak_layak"}}),
]
REJECTIONS = {
    1: TECHNICAL_REJECTIONS + [("kabid-refuses", {"persetujuan_kabid": {"keputusan_kabid": "tolak"}}),
                               ("kadis-refuses", {"persetujuan_kadis": {"keputusan_kadis": "tolak"}})],
    2: TECHNICAL_REJECTIONS + [("kadis-refuses", {"persetujuan_kadis": {"keputusan_kadis": "tolak"}})],
}


@pytest.fixture
def pbg(engine):
    office_users(engine)
    deploy_versions(engine, FOLDER)
    return engine




def test_steps_kept_in_v2_keep_their_lane_and_field_ids(pbg):
    steps = {n: {s["id"]: s for s in pbg.process_info(KEY, n)["steps"] if s["kind"] == "userTask"} for n in (1, 2)}
    kept = steps[1].keys() & steps[2].keys()
    assert {"terima_berkas", "periksa_kelengkapan", "melengkapi_berkas", "verifikasi_administrasi",
            "periksa_arsitektur", "peninjauan_lapangan", "hitung_retribusi", "bayar_retribusi",
            "persetujuan_kadis", "serahkan_pbg", "susun_surat_penolakan"} <= kept
    for step in kept:
        assert steps[1][step]["lane"] == steps[2][step]["lane"], step
        assert {f["id"] for f in steps[1][step]["form"]} <= {f["id"] for f in steps[2][step]["form"]}, step
    assert len(steps[2]) < len(steps[1])


@pytest.mark.parametrize("version", [1, 2])
def test_approved(pbg, version):
    view = run_path(pbg, KEY, HAPPY, version=version)
    assert view["version"] == version and view["registration_number"].startswith("PBG-")
    assert view["status"] == "completed" and view["sla_state"] == "met"
    done = steps_done(view)
    assert done[-1] == "serahkan_pbg" and "susun_surat_penolakan" not in done
    assert done.count("bayar_retribusi") == 1 and "melengkapi_berkas" not in done
    assert view["sla"]["paused_seconds"] > 0  # waiting for the payment stopped the clock
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("version", [1, 2])
def test_returned_twice_then_fixed(pbg, version):
    plan = {**HAPPY, "periksa_kelengkapan": [{"hasil": "tidak_lengkap", "catatan_kelengkapan": "KKPR belum ada"},
                                             {"hasil": "tidak_lengkap"}, {"hasil": "lengkap"}]}
    view = run_path(pbg, KEY, plan, version=version)
    done = steps_done(view)
    assert done.count("melengkapi_berkas") == 2 and done.count("periksa_kelengkapan") == 3
    assert view["status"] == "completed" and done[-1] == "serahkan_pbg"
    assert view["sla"]["paused_seconds"] > 0
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("version, name, change",
                         [(v, name, change) for v, items in REJECTIONS.items() for name, change in items],
                         ids=[f"v{v}-{name}" for v, items in REJECTIONS.items() for name, _ in items])
def test_rejected(pbg, version, name, change):
    view = run_path(pbg, KEY, {**HAPPY, **change}, version=version)
    done = steps_done(view)
    assert view["status"] == "completed" and done[-1] == "susun_surat_penolakan"
    assert "serahkan_pbg" not in done
    # A technical refusal comes before the fee: the applicant never waited, so the clock never paused.
    # A head refuses after the payment, which paused the clock.
    technical = name in dict(TECHNICAL_REJECTIONS)
    assert ("bayar_retribusi" not in done) == technical
    assert (view["sla"]["paused_seconds"] == 0) == technical
    assert_applicant_time_paused(view)


def test_office_budget_of_the_approved_path_shrinks_to_within_24_hours(pbg):
    budgets = {n: office_budget_of_run(run_path(pbg, KEY, HAPPY, version=n)) for n in (1, 2)}
    assert budgets[1] > 24 * HOURS >= budgets[2]
    assert budgets[1] > budgets[2]


def test_longest_office_path_matches_the_readme():
    # The README of the SOP quotes these sums of mutu.waktu on the longest office-side path.
    v1, v1_steps = office_longest_path(FOLDER / "v1.bpmn", end="end_pbg_terbit")
    v2, v2_steps = office_longest_path(FOLDER / "v2.bpmn", end="end_pbg_terbit")
    assert v1 == 60 * HOURS + 15 * 60 and len(v1_steps) == 20
    assert v2 == 5 * HOURS + 35 * 60 and "peninjauan_lapangan" in v2_steps
    assert office_longest_path(FOLDER / "v2.bpmn")[0] <= 6 * HOURS  # the refusal path too
