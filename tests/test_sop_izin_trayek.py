"""Izin Trayek Angkutan Perdesaan: both versions through every path (issue: the SOP library)."""
import pytest

from conftest import PROCESSES
from sop_budgets import assert_applicant_time_paused, office_budget_of_run, office_longest_path
from sop_paths import deploy_versions, office_users, run_path, steps_done

KEY = "izin_trayek"
FOLDER = PROCESSES / "izin-trayek"
HOURS = 3600

APPLICATION = {"nama_pemohon": "Benyamin Wanimbo", "nik": "9504020202800003", "no_hp": "082199887766",
               "nama_badan_usaha": "Koperasi Angkutan Wene Tolikara", "nib": "9120009876543",
               "trayek_asal": "Karubaga", "trayek_tujuan": "Kanggime", "jenis_kendaraan": "mobil_penumpang",
               "jumlah_kendaraan": 3, "nomor_kendaraan": "PA 8123 TL, PA 8124 TL, PA 8125 TL"}
TEAM = {"tanggal_survei": "2026-12-01", "anggota_tim": "Penguji kendaraan Dishub dan pengawas angkutan"}
# One plan for both versions: a step kept from v1 keeps its field ids in v2, and a merged v2 step
# takes the fields of the v1 steps it replaces (fields a form does not have are ignored).
HAPPY = {
    "terima_berkas": [{**APPLICATION, "hasil": "lengkap"}],
    "periksa_kelengkapan": [{"hasil": "lengkap"}],
    "melengkapi_berkas": {"dokumen_perbaikan": "Buku uji berkala PA 8125 TL yang masih berlaku"},
    "registrasi_berkas": {"tanda_terima_diserahkan": True},
    "verifikasi_administrasi": {"hasil_verifikasi": "sesuai", "masa_berlaku_uji": "2027-05-31",
                                "hasil_kuota": "tersedia", "sisa_kuota": 6},
    "cek_kuota_trayek": {"hasil_kuota": "tersedia", "sisa_kuota": 6},
    "konsep_surat_tugas": TEAM,
    "tandatangani_surat_tugas": {"nomor_surat_tugas": "800/03/DPMPTSP/2026", **TEAM},
    "survei_lapangan": {"hasil_survei": "sesuai", "jumlah_kendaraan_laik": 3, "kondisi_jalan": "rusak_ringan",
                        "nomor_bap": "BAP/TRY/01/2026", "rekomendasi": "layak"},
    "susun_bap_rekomendasi": {"nomor_bap": "BAP/TRY/01/2026", "rekomendasi": "layak"},
    "susun_draf_izin": {"nomor_izin": "503/TRY/01/2026", "masa_berlaku_sampai": "2031-12-01"},
    "persetujuan_kabid": {"keputusan_kabid": "setuju"},
    "persetujuan_kadis": {"keputusan_kadis": "setuju"},
    "serahkan_izin": {"tanggal_penyerahan": "2026-12-02", "diterima_oleh": "Benyamin Wanimbo"},
    "susun_bap_penolakan": {"nomor_bap_penolakan": "BAP-TOLAK/TRY/01",
                            "alasan_penolakan": "Kebutuhan kendaraan pada trayek Karubaga-Kanggime sudah terpenuhi"},
}
NOT_SUITABLE = {"survei_lapangan": {**HAPPY["survei_lapangan"], "hasil_survei": "tidak_sesuai",
                                    "jumlah_kendaraan_laik": 1, "rekomendasi": "tidak_layak"},
                "susun_bap_rekomendasi": {"nomor_bap": "BAP/TRY/02", "rekomendasi": "tidak_layak"}}
INVALID = {"verifikasi_administrasi": {**HAPPY["verifikasi_administrasi"], "hasil_verifikasi": "tidak_sesuai"}}
FULL = {"verifikasi_administrasi": {**HAPPY["verifikasi_administrasi"], "hasil_kuota": "penuh", "sisa_kuota": 0},
        "cek_kuota_trayek": {"hasil_kuota": "penuh", "sisa_kuota": 0}}
REJECTIONS = {
    1: [("documents-invalid", INVALID), ("route-full", FULL), ("not-suitable", NOT_SUITABLE),
        ("kabid-refuses", {"persetujuan_kabid": {"keputusan_kabid": "tolak"}}),
        ("kadis-refuses", {"persetujuan_kadis": {"keputusan_kadis": "tolak"}})],
    2: [("documents-invalid", INVALID), ("route-full", FULL), ("not-suitable", NOT_SUITABLE),
        ("kadis-refuses", {"persetujuan_kadis": {"keputusan_kadis": "tolak"}})],
}


@pytest.fixture
def trayek(engine):
    office_users(engine)
    deploy_versions(engine, FOLDER)
    return engine




def test_v2_keeps_the_steps_and_field_ids_of_v1_with_fewer_hand_offs(trayek):
    steps = {n: {s["id"]: s for s in trayek.process_info(KEY, n)["steps"] if s["kind"] == "userTask"}
             for n in (1, 2)}
    kept = steps[1].keys() & steps[2].keys()
    assert {"terima_berkas", "melengkapi_berkas", "verifikasi_administrasi", "tandatangani_surat_tugas",
            "survei_lapangan", "susun_draf_izin", "persetujuan_kadis", "serahkan_izin",
            "susun_bap_penolakan"} == kept
    for step in kept:
        assert steps[1][step]["lane"] == steps[2][step]["lane"], step
        assert {f["id"] for f in steps[1][step]["form"]} <= {f["id"] for f in steps[2][step]["form"]}, step
    assert "Kepala Bidang" not in {s["lane"] for s in steps[2].values()}  # no paraf layer any more
    assert len(steps[2]) == 9 < len(steps[1]) == 16


@pytest.mark.parametrize("version", [1, 2])
def test_approved(trayek, version):
    view = run_path(trayek, KEY, HAPPY, version=version)
    assert view["version"] == version and view["registration_number"].startswith("TRY-")
    assert view["status"] == "completed" and view["sla_state"] == "met"
    done = steps_done(view)
    assert done[-1] == "serahkan_izin" and "susun_bap_penolakan" not in done
    assert done.count("tandatangani_surat_tugas") == 1 and done.index("tandatangani_surat_tugas") < \
        done.index("survei_lapangan")
    # No fee for an izin trayek and a complete file: nothing waited on the applicant, the clock never paused.
    assert "melengkapi_berkas" not in done and view["sla"]["paused_seconds"] == 0
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("version", [1, 2])
def test_returned_twice_then_fixed(trayek, version):
    check = "terima_berkas" if version == 2 else "periksa_kelengkapan"
    data = APPLICATION if version == 2 else {}
    plan = {**HAPPY, check: [{**data, "hasil": "tidak_lengkap", "catatan_kelengkapan": "Buku uji PA 8125 TL habis"},
                             {**data, "hasil": "tidak_lengkap", "catatan_kelengkapan": "Akta koperasi belum ada"},
                             {**data, "hasil": "lengkap"}]}
    view = run_path(trayek, KEY, plan, version=version)
    done = steps_done(view)
    assert done.count("melengkapi_berkas") == 2 and done.count(check) == 3
    assert view["status"] == "completed" and done[-1] == "serahkan_izin"
    assert view["sla"]["paused_seconds"] > 0  # the applicant's fixes stopped the clock
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("version, name, change",
                         [(v, name, change) for v, items in REJECTIONS.items() for name, change in items],
                         ids=[f"v{v}-{name}" for v, items in REJECTIONS.items() for name, _ in items])
def test_rejected_with_bap_penolakan(trayek, version, name, change):
    view = run_path(trayek, KEY, {**HAPPY, **change}, version=version)
    done = steps_done(view)
    assert view["status"] == "completed" and done[-1] == "susun_bap_penolakan"
    assert "serahkan_izin" not in done
    assert ("susun_draf_izin" in done) == name.endswith("refuses")  # heads refuse the draft licence
    # v1 rejects invalid documents and a full route before the survey; v2 verifies while the team surveys.
    desk = name in ("documents-invalid", "route-full")
    assert ("survei_lapangan" in done) == (version == 2 or not desk)
    assert view["sla"]["paused_seconds"] == 0
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("change", [INVALID, FULL], ids=["documents-invalid", "route-full"])
def test_v1_rejects_at_the_desk_before_the_surat_tugas(trayek, change):
    view = run_path(trayek, KEY, {**HAPPY, **change}, version=1)
    assert steps_done(view)[-3:] == ["verifikasi_administrasi", "cek_kuota_trayek", "susun_bap_penolakan"]


def test_office_budget_of_the_approved_path_shrinks_to_within_24_hours(trayek):
    budgets = {n: office_budget_of_run(run_path(trayek, KEY, HAPPY, version=n)) for n in (1, 2)}
    assert budgets[1] > 24 * HOURS >= budgets[2]
    assert budgets[1] > budgets[2]


def test_longest_office_path_matches_the_readme():
    # processes/izin-trayek/README.md quotes these sums of mutu.waktu on the longest office-side path.
    v1, v1_steps = office_longest_path(FOLDER / "v1.bpmn", end="end_izin_terbit")
    v2, v2_steps = office_longest_path(FOLDER / "v2.bpmn", end="end_izin_terbit")
    assert v1 == 35 * HOURS + 25 * 60 and len(v1_steps) == 14
    assert v2 == 5 * HOURS + 45 * 60 and v2_steps == ["terima_berkas", "tandatangani_surat_tugas", "survei_lapangan",
                                                       "susun_draf_izin", "persetujuan_kadis", "serahkan_izin"]
    assert office_longest_path(FOLDER / "v2.bpmn")[0] <= 6 * HOURS  # the refusal path too
