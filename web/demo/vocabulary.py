"""The fake-data vocabulary of Tolikara: names, places, businesses, agencies, documents and notes."""
from __future__ import annotations

import random
import re

PAPUAN_FIRST = ("Yakobus", "Yohanes", "Markus", "Yulianus", "Nius", "Tinus", "Otniel", "Petrus",
                "Lukas", "Amos", "Elias", "Yance", "Benny", "Natalis", "Marthen", "Nahor", "Yeremias",
                "Daniel", "Silas", "Yosina", "Maria", "Debora", "Ester", "Rahel", "Agustina",
                "Yuliana", "Martha", "Selfina", "Naomi", "Ribka", "Lince", "Herlina", "Yemima",
                "Mince", "Sarlota", "Obed", "Kornelius", "Melkias")
PAPUAN_CLANS = ("Wenda", "Kogoya", "Wanimbo", "Jikwa", "Yikwa", "Enembe", "Tabuni", "Karoba",
                "Gombo", "Weya", "Wandik", "Kiwo", "Murib", "Kanoragen", "Yanengga", "Wakerkwa",
                "Telenggen", "Bogum", "Yoman", "Wonda")
OTHER_FIRST = ("Andi", "Muhammad", "Siti", "Ahmad", "Rudi", "Dewi", "Hasan", "Nur", "Sri", "Budi",
               "Ratna", "Hendra", "Fitri", "Yusuf", "Made", "Rahmat", "Samuel", "Frans", "Agus")
OTHER_LAST = ("Saputra", "Rahmawati", "Hidayat", "Wijaya", "Lestari", "Sitorus", "Pattiasina",
              "Rumbiak", "Latuconsina", "Manurung", "Gultom", "Nugroho", "Setiawan", "Siregar",
              "Mambrasar", "Rumaropen", "Ohee", "Wally")
DISTRICTS = ("Karubaga", "Karubaga", "Karubaga", "Bokondini", "Bokondini", "Kembu", "Kanggime",
             "Wunim", "Wina", "Goyage", "Nabunage", "Bokoneri", "Geya", "Nelawi", "Kubu", "Panaga",
             "Numba", "Air Garam")
STREETS = ("Jl. Trikora", "Jl. Irian", "Jl. Pasar Baru", "Jl. Bandara", "Jl. Pemda", "Jl. Gereja",
           "Jl. Kampung Baru", "Jl. Poros Karubaga-Wamena", "Jl. Pendidikan", "Jl. Sosial",
           "Jl. Kantor Distrik")
BUSINESS_KINDS = ("Toko", "Kios", "CV", "UD", "Warung Makan", "Apotek", "Bengkel", "Koperasi", "PT",
                  "Losmen", "Rumah Makan")
BUSINESS_NAMES = ("Karubaga Jaya", "Bokondini Indah", "Sinar Kembu", "Kanggime Mandiri",
                  "Tolikara Sejahtera", "Lembah Baliem", "Anugerah", "Berkat Abadi", "Harapan Baru",
                  "Cahaya Pegunungan", "Maju Bersama", "Sumber Rezeki", "Sion", "Efata", "Imanuel",
                  "Bethel", "Wenda Mandiri", "Kogoya Group", "Pegunungan Tengah")
PHONE_PREFIXES = ("0811", "0812", "0813", "0821", "0822", "0823", "0852", "0853", "0813", "0812")
GENERIC_DOCUMENTS = ("Fotokopi KTP", "NPWP/NPWPD", "Pas foto 3x4", "Surat pernyataan bermeterai",
                     "Denah lokasi", "Foto lokasi", "Surat keterangan domisili")
NOTES = ("Sesuai ketentuan.", "Berkas lengkap dan benar.", "Lanjut ke tahap berikutnya.",
         "Sudah dicek, tidak ada catatan.", "Pemohon sudah dihubungi lewat WhatsApp.",
         "Data sudah dicocokkan dengan berkas asli.", "Dikerjakan sesuai urutan antrean.",
         "Sudah dikoordinasikan dengan OPD teknis.")
FACILITIES = ("Puskesmas {district}", "RSUD Karubaga", "Klinik Pratama {name}", "Apotek {name}",
              "Praktik mandiri, Distrik {district}", "Pustu Distrik {district}")
ROUTE_PLACES = ("Terminal Karubaga", "Bokondini", "Kembu", "Kanggime", "Wunim", "Goyage", "Bokoneri",
                "Wamena (Jayawijaya)", "Mamit", "Nabunage", "Geya")
AGENCIES = ("Dinas PUPR Kabupaten Tolikara", "Dinas Kesehatan Kabupaten Tolikara",
            "Dinas Perhubungan Kabupaten Tolikara", "Dinas Lingkungan Hidup Kabupaten Tolikara",
            "Dinas Perindustrian dan Perdagangan Kabupaten Tolikara", "Bapenda Kabupaten Tolikara")
KBLI = (("47111", "Perdagangan eceran berbagai macam barang yang utamanya makanan, minuman atau tembakau"),
        ("56101", "Restoran"), ("55199", "Penyediaan akomodasi jangka pendek lainnya"),
        ("47730", "Perdagangan eceran barang farmasi di apotek"), ("01131", "Pertanian hortikultura sayuran"),
        ("49421", "Angkutan bermotor untuk barang umum"), ("10710", "Industri produk roti dan kue"),
        ("45200", "Reparasi dan perawatan mobil"))
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def slug(text: str) -> str:
    """Lower-case letters and digits only, as in a login or a mail name."""
    return re.sub(r"[^a-z0-9]+", "", text.lower()) or "staf"


def person(rng: random.Random) -> str:
    """A resident's name: mostly Papuan, some from elsewhere in Indonesia."""
    if rng.random() < 0.7:
        return f"{rng.choice(PAPUAN_FIRST)} {rng.choice(PAPUAN_CLANS)}"
    return f"{rng.choice(OTHER_FIRST)} {rng.choice(OTHER_LAST)}"
