"""Izin Reklame: every version through every path (issue: the SOP library)."""
import pytest

from conftest import PROCESSES
from sop_budgets import assert_applicant_time_paused, office_budget_of_run, office_longest_path
from sop_paths import deploy_versions, office_users, run_path, steps_done

APPLICATION = {"nama_pemohon": "Yakobus Wenda", "nik": "9471010101800001", "no_hp": "081234567890",
               "jenis_reklame": "papan_billboard", "ukuran_m2": 8, "lokasi": "Jl. Raya Karubaga No. 1",
               "lama_pemasangan_bulan": 12}
HAPPY = {
    "terima_berkas": APPLICATION, "periksa_kelengkapan": [{"hasil": "lengkap"}],
    "verifikasi_administrasi": {"npwpd": "P.2.0001234.01"},
    "konsep_surat_tugas": {"tanggal_survei": "2026-12-01", "anggota_tim": "Tim Teknis A"},
    "tandatangani_surat_tugas": {"nomor_surat_tugas": "800/01/DPMPTSP/2026"},
    "survei_lapangan": {"ukuran_terukur_m2": 8, "hasil_survei": "sesuai"},
    "susun_bap_rekomendasi": {"nomor_bap": "BAP/01/2026", "rekomendasi": "layak"},
    "periksa_tata_ruang": {"hasil_tata_ruang": "sesuai"},
    "hitung_pajak": {"nilai_sewa_reklame": 4000000, "pajak_reklame": 1000000},
    "terbitkan_skpd": {"nomor_skpd": "SKPD/01/2026", "jatuh_tempo": "2026-12-15"},
    "bayar_pajak": {"nomor_bukti_bayar": "BB-001", "tanggal_bayar": "2026-12-02"},
    "verifikasi_pembayaran": {"jumlah_dibayar": 1000000},
    "susun_draf_izin": {"nomor_izin": "503/REK/01/2026", "masa_berlaku_sampai": "2027-12-01"},
    "persetujuan_kabid": {"keputusan_kabid": "setuju"}, "persetujuan_kadis": {"keputusan_kadis": "setuju"},
    "serahkan_izin": {"tanggal_penyerahan": "2026-12-03", "diterima_oleh": "Yakobus Wenda"},
    "melengkapi_berkas": {"dokumen_perbaikan": "Fotokopi KTP dan desain reklame"},
    "susun_surat_penolakan": {"nomor_surat_penolakan": "503/TOLAK/01", "alasan_penolakan":
                              "Lokasi tidak sesuai rencana tata ruang"},
}


@pytest.fixture
def reklame(engine):
    office_users(engine)
    engine.deploy((PROCESSES / "izin-reklame" / "v1.bpmn").read_bytes(), "v1.bpmn")
    return engine


def test_v1_approved(reklame):
    view = run_path(reklame, "izin_reklame", HAPPY, version=1)
    assert view["status"] == "completed"
    assert steps_done(view)[-1] == "serahkan_izin" and "susun_surat_penolakan" not in steps_done(view)


def test_v1_returned_twice_then_fixed(reklame):
    plan = {**HAPPY, "periksa_kelengkapan": [{"hasil": "tidak_lengkap"}] * 2 + [{"hasil": "lengkap"}]}
    view = run_path(reklame, "izin_reklame", plan, version=1)
    assert steps_done(view).count("melengkapi_berkas") == 2
    assert view["status"] == "completed" and steps_done(view)[-1] == "serahkan_izin"
    assert view["sla"]["paused_seconds"] > 0


@pytest.mark.parametrize("change", [
    {"susun_bap_rekomendasi": {"nomor_bap": "BAP/02", "rekomendasi": "tidak_layak"}},
    {"periksa_tata_ruang": {"hasil_tata_ruang": "tidak_sesuai"}},
    {"persetujuan_kabid": {"keputusan_kabid": "tolak"}},
    {"persetujuan_kadis": {"keputusan_kadis": "tolak"}},
], ids=["not-suitable", "spatial-plan", "kabid-refuses", "kadis-refuses"])
def test_v1_rejected(reklame, change):
    view = run_path(reklame, "izin_reklame", {**HAPPY, **change}, version=1)
    assert view["status"] == "completed"
    assert steps_done(view)[-1] == "susun_surat_penolakan"


# --- version 2: the simplified SOP (and what v1 and v2 have in common) ------------------------------

KEY = "izin_reklame"
FOLDER = PROCESSES / "izin-reklame"
HOURS = 3600
LARGE = {**APPLICATION, "ukuran_m2": 32}  # 24 m² or more: v2 sends the Tim Teknis to the site
# v2 merges steps: a merged step takes the fields of the v1 steps it replaces, under the same ids.
HAPPY_V2 = {
    **HAPPY,
    "terima_berkas": [{**APPLICATION, "hasil": "lengkap"}],
    "verifikasi_administrasi": {"npwpd": "P.2.0001234.01", "hasil_tata_ruang": "sesuai",
                                "nilai_sewa_reklame": 4000000, "pajak_reklame": 1000000},
    "tugaskan_survei": {"tanggal_survei": "2026-12-01", "anggota_tim": "Tim Teknis A"},
    "survei_lapangan": {"ukuran_terukur_m2": 32, "koordinat": "-3.6721, 138.4785", "hasil_survei": "sesuai"},
    "verifikasi_pembayaran": {"jumlah_dibayar": 1000000, "nomor_izin": "503/REK/01/2026",
                              "masa_berlaku_sampai": "2027-12-01"},
}
HAPPY_V2_LARGE = {**HAPPY_V2, "terima_berkas": [{**LARGE, "hasil": "lengkap"}]}
NOT_SUITABLE = {"susun_bap_rekomendasi": {"nomor_bap": "BAP/02", "rekomendasi": "tidak_layak"}}
V2_REJECTIONS = {
    "not-suitable": {**HAPPY_V2, **NOT_SUITABLE},
    "spatial-plan": {**HAPPY_V2, "verifikasi_administrasi": {**HAPPY_V2["verifikasi_administrasi"],
                                                              "hasil_tata_ruang": "tidak_sesuai"}},
    "large-not-suitable-after-survey": {**HAPPY_V2_LARGE, "survei_lapangan": {"ukuran_terukur_m2": 40,
                                                                              "hasil_survei": "tidak_sesuai"},
                                        **NOT_SUITABLE},
    "kadis-refuses": {**HAPPY_V2, "persetujuan_kadis": {"keputusan_kadis": "tolak"}},
}


@pytest.fixture
def reklame_both(engine):
    office_users(engine)
    deploy_versions(engine, FOLDER)
    return engine




def test_v2_keeps_the_steps_and_field_ids_of_v1_with_fewer_hand_offs(reklame_both):
    steps = {n: {s["id"]: s for s in reklame_both.process_info(KEY, n)["steps"] if s["kind"] == "userTask"}
             for n in (1, 2)}
    kept = steps[1].keys() & steps[2].keys()
    assert {"terima_berkas", "melengkapi_berkas", "verifikasi_administrasi", "survei_lapangan",
            "susun_bap_rekomendasi", "terbitkan_skpd", "bayar_pajak", "verifikasi_pembayaran",
            "persetujuan_kadis", "serahkan_izin", "susun_surat_penolakan"} <= kept
    for step in kept:
        assert steps[1][step]["lane"] == steps[2][step]["lane"], step
    fields = {n: {f["id"]: f["type"] for s in steps[n].values() for f in s["form"]} for n in (1, 2)}
    dropped = {"tanda_terima_diserahkan", "catatan_paraf", "nomor_surat_tugas", "keputusan_kabid", "catatan_kabid"}
    assert fields[1].keys() - fields[2].keys() == dropped  # the surat tugas chain and the paraf are gone
    assert all(fields[1][f] == fields[2][f] for f in fields[1].keys() & fields[2].keys())
    assert len(steps[2]) == 12 < len(steps[1]) == 20
    assert [s for s in steps[2].values() if s["pauses_clock"]] == [steps[2]["melengkapi_berkas"],
                                                                   steps[2]["bayar_pajak"]]


def test_v2_approved_small_billboard_needs_no_survey(reklame_both):
    view = run_path(reklame_both, KEY, HAPPY_V2, version=2)
    assert view["version"] == 2 and view["registration_number"].startswith("REK-")
    assert view["status"] == "completed" and view["sla_state"] == "met"
    done = steps_done(view)
    assert done[-1] == "serahkan_izin" and "susun_surat_penolakan" not in done
    assert "tugaskan_survei" not in done and "survei_lapangan" not in done
    assert done.count("bayar_pajak") == 1 and "melengkapi_berkas" not in done
    assert view["sla"]["paused_seconds"] > 0  # waiting for the tax payment stopped the clock
    assert_applicant_time_paused(view)


def test_v2_approved_large_billboard_is_surveyed(reklame_both):
    view = run_path(reklame_both, KEY, HAPPY_V2_LARGE, version=2)
    done = steps_done(view)
    assert view["status"] == "completed" and done[-1] == "serahkan_izin"
    assert done.index("tugaskan_survei") < done.index("survei_lapangan") < done.index("susun_bap_rekomendasi")
    assert {t["lane"] for t in view["tasks"] if t["step_id"] == "tugaskan_survei"} == {"Kepala Bidang"}
    assert view["sla"]["paused_seconds"] > 0
    assert_applicant_time_paused(view)


def test_v2_returned_twice_then_fixed(reklame_both):
    plan = {**HAPPY_V2, "terima_berkas": [
        {**APPLICATION, "hasil": "tidak_lengkap", "catatan_kelengkapan": "Desain reklame belum dilampirkan"},
        {**APPLICATION, "hasil": "tidak_lengkap", "catatan_kelengkapan": "Surat persetujuan pemilik lahan"},
        {**APPLICATION, "hasil": "lengkap"}]}
    view = run_path(reklame_both, KEY, plan, version=2)
    done = steps_done(view)
    assert done.count("melengkapi_berkas") == 2 and done.count("terima_berkas") == 3
    assert view["status"] == "completed" and done[-1] == "serahkan_izin"
    assert view["sla"]["paused_seconds"] > 0
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("name", list(V2_REJECTIONS))
def test_v2_rejected(reklame_both, name):
    view = run_path(reklame_both, KEY, V2_REJECTIONS[name], version=2)
    done = steps_done(view)
    assert view["status"] == "completed" and done[-1] == "susun_surat_penolakan"
    assert "serahkan_izin" not in done
    # A technical refusal comes before the tax: the applicant never waited, so the clock never paused.
    paid = name == "kadis-refuses"
    assert ("bayar_pajak" in done) == paid and (view["sla"]["paused_seconds"] > 0) == paid
    assert ("survei_lapangan" in done) == name.startswith("large")
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("plan, paused", [
    (HAPPY, True),
    ({**HAPPY, **NOT_SUITABLE}, False),
    ({**HAPPY, "persetujuan_kadis": {"keputusan_kadis": "tolak"}}, True),
], ids=["approved", "not-suitable", "kadis-refuses"])
def test_v1_clock_pauses_only_while_the_applicant_acts(reklame_both, plan, paused):
    view = run_path(reklame_both, KEY, plan, version=1)
    assert view["status"] == "completed" and view["version"] == 1
    assert (view["sla"]["paused_seconds"] > 0) == paused
    assert_applicant_time_paused(view)


def test_office_budget_of_the_approved_path_shrinks_to_within_24_hours(reklame_both):
    budgets = {1: office_budget_of_run(run_path(reklame_both, KEY, HAPPY, version=1)),
               2: office_budget_of_run(run_path(reklame_both, KEY, HAPPY_V2_LARGE, version=2))}
    assert budgets[1] > 24 * HOURS >= budgets[2]
    assert budgets[1] > budgets[2]


def test_longest_office_path_matches_the_readme():
    # processes/izin-reklame/README.md quotes these sums of mutu.waktu on the longest office-side path.
    v1, v1_steps = office_longest_path(FOLDER / "v1.bpmn", end="end_izin_terbit")
    v2, v2_steps = office_longest_path(FOLDER / "v2.bpmn", end="end_izin_terbit")
    assert v1 == 32 * HOURS + 25 * 60 and len(v1_steps) == 15
    assert v2 == 5 * HOURS + 45 * 60 and len(v2_steps) == 8 and "survei_lapangan" in v2_steps
    assert office_longest_path(FOLDER / "v2.bpmn")[0] <= 6 * HOURS  # the refusal path too
