"""Surat Izin Praktik Tenaga Kesehatan (SIP): both versions through every path (issue: the SOP library)."""
import pytest

from conftest import PROCESSES
from sop_budgets import assert_applicant_time_paused, office_budget_of_run, office_longest_path
from sop_paths import deploy_versions, office_users, run_path, steps_done

KEY = "surat_izin_praktik"
FOLDER = PROCESSES / "surat-izin-praktik"
HOURS = 3600

APPLICATION = {"nama_pemohon": "dr. Maria Wandikbo", "nik": "9504014506900002", "no_hp": "082198765432",
               "jenis_tenaga": "dokter", "nomor_str": "STR-9504-0001234", "jenis_praktik": "fasyankes_pemerintah",
               "tempat_praktik": "Puskesmas Karubaga", "alamat_praktik": "Jl. Poros Karubaga, Distrik Karubaga"}
# One plan for both versions: a step kept from v1 keeps its field ids in v2, and a merged v2 step
# takes the fields of the v1 steps it replaces (fields a form does not have are ignored).
HAPPY = {
    "terima_berkas": APPLICATION, "periksa_kelengkapan": [{"hasil": "lengkap"}],
    "melengkapi_berkas": {"dokumen_perbaikan": "Surat keterangan dari kepala puskesmas"},
    "registrasi_berkas": {"tanda_terima_diserahkan": True},
    "verifikasi_administrasi": {"hasil_verifikasi": "sesuai", "jumlah_sip_dimiliki": 1},
    "konsep_surat_rekomendasi": {"tanggal_peninjauan": "2026-12-01"},
    "tandatangani_surat_rekomendasi": {"nomor_surat_permohonan": "440/05/DPMPTSP/2026"},
    "peninjauan_tempat_praktik": {"hasil_peninjauan": "memenuhi"},
    # v2 merges the site visit into the recommendation; a puskesmas needs none.
    "rekomendasi_dinkes": {"hasil_peninjauan": "tidak_perlu", "nomor_rekomendasi": "440/REK-SIP/12/2026",
                           "rekomendasi": "layak"},
    "susun_draf_izin": {"nomor_sip": "503/SIP-DU/001/DPMPTSP/2026", "masa_berlaku_sampai": "2031-12-01"},
    "persetujuan_kabid": {"keputusan_kabid": "setuju"},
    "persetujuan_kadis": {"keputusan_kadis": "setuju"},
    "tandatangani_sip": {"keputusan_kabid": "setuju"},
    "periksa_izin_terbit": {"nomor_register": "001"},
    "serahkan_izin": {"tanggal_penyerahan": "2026-12-01", "diterima_oleh": "dr. Maria Wandikbo"},
    "susun_surat_penolakan": {"nomor_surat_penolakan": "503/TOLAK-SIP/01",
                              "alasan_penolakan": "STR tidak ditemukan pada laman KKI"},
}
REJECTIONS = {
    1: [("str-invalid", {"verifikasi_administrasi": {"hasil_verifikasi": "tidak_sesuai", "jumlah_sip_dimiliki": 0}}),
        ("site-fails", {"peninjauan_tempat_praktik": {"hasil_peninjauan": "tidak_memenuhi"}}),
        ("dinkes-not-suitable", {"rekomendasi_dinkes": {**HAPPY["rekomendasi_dinkes"], "rekomendasi": "tidak_layak"}}),
        ("kabid-refuses", {"persetujuan_kabid": {"keputusan_kabid": "tolak"}}),
        ("kadis-refuses", {"persetujuan_kadis": {"keputusan_kadis": "tolak"}})],
    2: [("str-invalid", {"verifikasi_administrasi": {"hasil_verifikasi": "tidak_sesuai", "jumlah_sip_dimiliki": 0}}),
        ("site-fails", {"rekomendasi_dinkes": {**HAPPY["rekomendasi_dinkes"], "hasil_peninjauan": "tidak_memenuhi"}}),
        ("dinkes-not-suitable", {"rekomendasi_dinkes": {**HAPPY["rekomendasi_dinkes"], "rekomendasi": "tidak_layak"}}),
        ("kabid-refuses", {"tandatangani_sip": {"keputusan_kabid": "tolak"}})],
}


@pytest.fixture
def sip(engine):
    office_users(engine)
    deploy_versions(engine, FOLDER)
    return engine



def test_v2_signs_once_by_delegation(sip):
    v1, v2 = sip.process_info(KEY, 1), sip.process_info(KEY, 2)
    assert "Kepala Dinas" in v1["lanes"] and "Kepala Dinas" not in v2["lanes"]


def test_steps_kept_in_v2_keep_their_lane_and_field_ids(sip):
    steps = {n: {s["id"]: s for s in sip.process_info(KEY, n)["steps"] if s["kind"] == "userTask"} for n in (1, 2)}
    kept = steps[1].keys() & steps[2].keys()
    assert {"terima_berkas", "periksa_kelengkapan", "melengkapi_berkas", "verifikasi_administrasi",
            "rekomendasi_dinkes", "susun_draf_izin", "serahkan_izin", "susun_surat_penolakan"} <= kept
    for step in kept:
        assert steps[1][step]["lane"] == steps[2][step]["lane"], step
        assert {f["id"] for f in steps[1][step]["form"]} <= {f["id"] for f in steps[2][step]["form"]}, step
    # The Dinas Kesehatan recommendation is government time: the clock keeps counting there.
    assert not steps[1]["rekomendasi_dinkes"]["pauses_clock"] and not steps[2]["rekomendasi_dinkes"]["pauses_clock"]
    assert steps[1]["rekomendasi_dinkes"]["lane"] == "Tim Teknis"
    assert len(steps[2]) < len(steps[1])


@pytest.mark.parametrize("version, site", [(1, "memenuhi"), (2, "tidak_perlu"), (2, "memenuhi")],
                         ids=["v1", "v2-puskesmas", "v2-praktik-mandiri"])
def test_approved(sip, version, site):
    plan = {**HAPPY, "rekomendasi_dinkes": {**HAPPY["rekomendasi_dinkes"], "hasil_peninjauan": site}}
    if site == "memenuhi" and version == 2:
        plan["terima_berkas"] = {**APPLICATION, "jenis_praktik": "praktik_mandiri"}
    view = run_path(sip, KEY, plan, version=version)
    assert view["version"] == version and view["registration_number"].startswith("SIP-")
    assert view["status"] == "completed" and view["sla_state"] == "met"
    done = steps_done(view)
    assert done[-1] == "serahkan_izin" and "susun_surat_penolakan" not in done
    assert "rekomendasi_dinkes" in done and "melengkapi_berkas" not in done
    assert view["sla"]["paused_seconds"] == 0  # no applicant-side step on this path
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("version", [1, 2])
def test_returned_twice_then_fixed(sip, version):
    plan = {**HAPPY, "periksa_kelengkapan": [{"hasil": "tidak_lengkap", "catatan_kelengkapan": "STR belum dilampirkan"},
                                             {"hasil": "tidak_lengkap"}, {"hasil": "lengkap"}]}
    view = run_path(sip, KEY, plan, version=version)
    done = steps_done(view)
    assert done.count("melengkapi_berkas") == 2 and done.count("periksa_kelengkapan") == 3
    assert view["status"] == "completed" and done[-1] == "serahkan_izin"
    assert view["sla"]["paused_seconds"] > 0
    assert_applicant_time_paused(view)


@pytest.mark.parametrize("version, name, change",
                         [(v, name, change) for v, items in REJECTIONS.items() for name, change in items],
                         ids=[f"v{v}-{name}" for v, items in REJECTIONS.items() for name, _ in items])
def test_rejected(sip, version, name, change):
    view = run_path(sip, KEY, {**HAPPY, **change}, version=version)
    done = steps_done(view)
    assert view["status"] == "completed" and done[-1] == "susun_surat_penolakan"
    assert "serahkan_izin" not in done
    assert ("susun_draf_izin" in done) == name.endswith("refuses")  # only a signer refuses a drafted SIP
    if version == 1 and name == "str-invalid":
        assert "rekomendasi_dinkes" not in done  # v1 checks in sequence and stops early
    if version == 2:
        assert "rekomendasi_dinkes" in done and "verifikasi_administrasi" in done  # both checks ran in parallel
    assert view["sla"]["paused_seconds"] == 0
    assert_applicant_time_paused(view)


def test_office_budget_of_the_approved_path_shrinks_to_within_24_hours(sip):
    budgets = {n: office_budget_of_run(run_path(sip, KEY, HAPPY, version=n)) for n in (1, 2)}
    assert budgets[1] > 24 * HOURS >= budgets[2]
    assert budgets[1] > budgets[2]


def test_longest_office_path_matches_the_readme():
    # The README of the SOP quotes these sums of mutu.waktu on the longest office-side path.
    v1, v1_steps = office_longest_path(FOLDER / "v1.bpmn", end="end_izin_terbit")
    v2, v2_steps = office_longest_path(FOLDER / "v2.bpmn", end="end_izin_terbit")
    assert v1 == 43 * HOURS + 15 * 60 and len(v1_steps) == 14
    assert v2 == 4 * HOURS + 50 * 60 and "rekomendasi_dinkes" in v2_steps and "verifikasi_administrasi" not in v2_steps
    assert office_longest_path(FOLDER / "v2.bpmn")[0] <= 6 * HOURS  # the refusal path too
