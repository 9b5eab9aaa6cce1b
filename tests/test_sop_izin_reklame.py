"""Izin Reklame: every version through every path (issue: the SOP library)."""
import pytest

from conftest import PROCESSES
from sop_paths import office_users, run_path, steps_done

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
