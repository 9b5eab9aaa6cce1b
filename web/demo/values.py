"""Text values from the words of a field's name: names, NIKs, phone numbers, places, document numbers, notes."""
from __future__ import annotations

import random
from datetime import date

from workflow_engine.sop_info import FormField, SopInfo, StepInfo

from .decisions import forward_option, reject_options, return_options
from .records import SimCase
from .vocabulary import (
    AGENCIES,
    BUSINESS_KINDS,
    BUSINESS_NAMES,
    DISTRICTS,
    FACILITIES,
    GENERIC_DOCUMENTS,
    KBLI,
    NOTES,
    PHONE_PREFIXES,
    ROMAN,
    ROUTE_PLACES,
    STREETS,
    person,
    slug,
)

NOTE_WORDS = {"catatan", "keterangan", "uraian", "saran", "komentar"}


def _digits(rng: random.Random, count: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(count))


class DocumentNumbers:
    """Document numbers in the office's style, counted per kind of document."""

    def __init__(self):
        self.counters: dict[str, int] = {}

    def next(self, kind: str) -> int:
        """The next running number of this kind of document."""
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return self.counters[kind]

    def document_number(self, t: set, info: SopInfo, year: int, month: str, rng: random.Random) -> str:
        """The number of the document a field's words name (izin, BAP, SKRD, NTPD, ...)."""
        prefix = info.registration_prefix
        if "str" in t:  # Surat Tanda Registrasi of a health worker
            return _digits(rng, 16)
        if "nib" in t:
            return _digits(rng, 13)
        if "simbg" in t:
            return f"SIMBG-9504-{year}{self.next('simbg'):05d}"
        if t & {"register", "registrasi"}:
            return f"{self.next('register-' + prefix):04d}/{prefix}/{year}"
        if "bap" in t:
            return f"BAP/{self.next('bap'):03d}/TT-{prefix}/{month}/{year}"
        if t & {"skpd", "skrd"}:
            return f"973/{self.next('skpd'):03d}/{'SKRD' if 'skrd' in t else 'SKPD'}/BAPENDA/{year}"
        if "tugas" in t:
            return f"800/{self.next('st'):03d}/ST/DPMPTSP-TLK/{year}"
        if t & {"penolakan", "tolak"}:
            return f"503/{self.next('tolak'):03d}/TOLAK-{prefix}/DPMPTSP-TLK/{year}"
        if t & {"izin", "sip", "pbg", "trayek", "sertifikat", "sppst"}:
            return f"503/{self.next('izin-' + prefix):03d}/{prefix}/DPMPTSP-TLK/{year}"
        if t & {"bukti", "bayar", "ntpd", "transaksi", "kwitansi"}:
            return f"NTPD-{year}{self.next('ntpd'):06d}"
        if "rekomendasi" in t:
            return f"600/{self.next('rek'):03d}/REKOM/{month}/{year}"
        if "kkpr" in t:
            return f"KKPR-{_digits(rng, 13)}"
        return f"{self.next('surat'):03d}/DPMPTSP-TLK/{month}/{year}"


def text_for(fld: FormField, t: set, case: SimCase, step: StepInfo, rng: random.Random, decided: dict,
             today: date, numbers: DocumentNumbers) -> str | None:
    """A plausible value for a text field from the words of its id (or label); None: no idea."""
    ctx, info = case.ctx, case.info
    year, month = today.year, ROMAN[today.month - 1]
    lo, hi = fld.constraints.get("minlength"), fld.constraints.get("maxlength")
    if t & {"nik", "ktp"}:
        born = date(rng.randint(1965, 2003), rng.randint(1, 12), rng.randint(1, 28))
        day = born.day + (40 if rng.random() < 0.4 else 0)
        return f"9504{rng.randint(1, 30):02d}{day:02d}{born.month:02d}{born.year % 100:02d}{rng.randint(1, 999):04d}"
    if t & {"hp", "telp", "telepon", "wa", "whatsapp", "ponsel", "handphone", "telpon"}:
        return rng.choice(PHONE_PREFIXES) + _digits(rng, rng.choice((7, 8)))
    if t & {"email", "surel"}:
        return f"{slug(person(rng))}{rng.randint(1, 99)}@gmail.com"
    if "npwpd" in t:
        return f"P.2.{rng.randint(1, 9_999_999):07d}.{rng.randint(1, 12):02d}"
    if "npwp" in t:
        return _digits(rng, 16)
    if t & {"koordinat", "gps", "lintang", "bujur"}:
        return f"-3.{rng.randint(6000, 7999)}, 138.{rng.randint(4000, 5999)}"
    if "kbli" in t:
        code, title = ctx.setdefault("_kbli", rng.choice(KBLI))
        return title if t & {"judul", "nama", "uraian"} else code
    if t & {"kendaraan", "polisi", "nopol", "plat"} and t & {"nomor", "no", "nopol", "plat"}:
        return ", ".join(f"PA {rng.randint(1000, 9999)} {rng.choice('ABDEJKLMT')}{rng.choice('ABDEJKLMT')}"
                         for _ in range(min(3, int(ctx.get("jumlah_kendaraan", 1) or 1))))
    if t & {"nomor", "no", "nomer"}:
        return numbers.document_number(t, info, year, month, rng)
    if t & {"asal", "tujuan", "rute", "trayek", "lintasan"}:
        origin = str(ctx.get("_asal") or "Terminal Karubaga")
        if t & {"tujuan"}:
            return rng.choice([p for p in ROUTE_PLACES if p not in origin])
        ctx["_asal"] = rng.choice(("Terminal Karubaga", "Terminal Karubaga", "Pasar Bokondini"))
        return ctx["_asal"]
    if t & NOTE_WORDS:
        return note(case, step, rng, decided)
    if t & {"dokumen", "berkas", "lampiran", "persyaratan", "kekurangan"}:
        docs = documents(info)
        return ", ".join(rng.sample(docs, k=min(len(docs), rng.randint(1, 2))))
    if "alasan" in t:
        return reason(case)
    if t & {"opd", "instansi", "dinas"}:
        return rng.choice(AGENCIES)
    if "tempat" in t and t & {"praktik", "fasyankes", "faskes", "kerja"} and "alamat" not in t:
        kind = next((str(v) for v in ctx.values() if isinstance(v, str) and ("fasyankes" in v or "mandiri" in v)), "")
        choices = [f for f in FACILITIES if ("Praktik" in f) == ("mandiri" in kind)] if kind else list(FACILITIES)
        if "pemerintah" in kind:
            choices = [f for f in choices if f.startswith(("Puskesmas", "RSUD", "Pustu"))]
        elif "swasta" in kind:
            choices = [f for f in choices if f.startswith(("Klinik", "Apotek"))]
        return rng.choice(choices or FACILITIES).format(district=rng.choice(DISTRICTS), name=rng.choice(BUSINESS_NAMES))
    if t & {"hak", "tanah", "lahan"}:
        return rng.choice(("Sertifikat Hak Milik No. {n}", "Surat pelepasan tanah adat No. {n}",
                           "Sertifikat Hak Guna Bangunan No. {n}")).format(n=rng.randint(10, 2500))
    if t & {"alamat", "lokasi", "tempat", "titik", "domisili"}:
        return f"{rng.choice(STREETS)} No. {rng.randint(1, 120)}, Distrik {rng.choice(DISTRICTS)}, Kabupaten Tolikara"
    if t & {"diterima", "penerima", "kuasa"}:
        applicant = next((v for k, v in ctx.items() if k.startswith("nama") and "usaha" not in k
                          and isinstance(v, str)), None)
        return applicant if applicant and rng.random() < 0.8 else f"{person(rng)} (kuasa)"
    if t & {"anggota", "tim"}:
        return ", ".join(person(rng) for _ in range(rng.randint(2, 3)))
    if "nama" in t and t & {"usaha", "perusahaan", "badan", "toko", "pelaku", "merek", "produk"}:
        return f"{rng.choice(BUSINESS_KINDS)} {rng.choice(BUSINESS_NAMES)}"
    if t & {"nama", "petugas", "pemohon", "oleh", "pejabat", "verifikator", "penanggung"}:
        return person(rng)
    if t & {"usaha", "perusahaan", "badan", "toko", "merek", "produk"}:
        return f"{rng.choice(BUSINESS_KINDS)} {rng.choice(BUSINESS_NAMES)}"
    if t & {"kode", "digit"} and hi is not None and hi <= 20:
        return _digits(rng, max(lo or 1, min(hi, 6)))
    return None


def documents(info: SopInfo) -> list[str]:
    """The SOP's list of required papers (its longest `;`-separated requirements), or a generic one."""
    lists = [s.requirements for s in info.steps.values() if s.requirements and ";" in s.requirements]
    if not lists:
        return list(GENERIC_DOCUMENTS)
    longest = max(lists, key=len)
    return [d.strip() for d in longest.split(";") if d.strip()]


def reason(case: SimCase) -> str:
    """Why the file was refused, from the decision that refused it."""
    if case.negatives:
        field_label, option_label = case.negatives[-1]
        return f"Permohonan ditolak: {field_label} - {option_label}."
    return "Permohonan tidak memenuhi persyaratan teknis sesuai ketentuan."


def note(case: SimCase, step: StepInfo, rng: random.Random, decided: dict) -> str:
    """A clerk's note: what is missing, why the file was refused, or a routine remark."""
    for f in step.form:
        forward = forward_option(f) if f.type == "enum" else None
        if not forward or f.id not in decided:
            continue
        if decided[f.id] in return_options(f):
            docs = documents(case.info)
            missing = rng.sample(docs, k=min(len(docs), rng.randint(1, 2)))
            return "Kurang: " + ", ".join(missing) + ". Pemohon diminta melengkapi."
        if decided[f.id] in reject_options(f, forward):
            return reason(case)
    return rng.choice(NOTES)
