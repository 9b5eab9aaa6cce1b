"""`alur sop-doc`, run as a real subprocess: both formats, the default version, one-line refusals."""
from __future__ import annotations

from pathlib import Path

import pytest

from cli_run import alur_env, ok, run_alur

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """A database with both versions of the Izin Reklame SOP, made through the CLI."""
    home = tmp_path_factory.mktemp("sopdoc")
    env = alur_env(f"sqlite:///{home / 'a.sqlite'}", home)
    ok(["processes", "deploy", ROOT / "processes" / "izin-reklame"], env)
    return env, home


def test_writes_a_pdf_of_a_chosen_version(office, tmp_path):
    env, _ = office
    out = tmp_path / "reklame-v1.pdf"
    done = ok(["sop-doc", "izin_reklame", "--version", "1", "--out", out], env)
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"/Count " in data
    assert "version 1" in done.stdout and "Izin Penyelenggaraan Reklame" in done.stdout


def test_writes_html_of_the_latest_published_version_by_default(office, tmp_path):
    env, _ = office
    out = tmp_path / "reklame.html"
    done = ok(["sop-doc", "izin_reklame", "--out", out], env)
    html = out.read_text(encoding="utf-8")
    assert "version 2" in done.stdout
    assert html.startswith("<!doctype html>") and "<style>" in html  # one file that opens anywhere
    assert "Nomor SOP" in html and "Versi 2" in html and "berlaku" in html
    assert "Menandatangani izin reklame (TTE)" in html  # a step only version 2 has


def test_english_on_request(office, tmp_path):
    env, _ = office
    out = tmp_path / "reklame-en.html"
    ok(["sop-doc", "izin_reklame", "--version", "1", "--language", "en", "--out", out], env)
    assert "SOP number" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("args, message", [
    (["nope", "--out", "x.pdf"], "no published version of SOP 'nope'"),
    (["izin_reklame", "--version", "9", "--out", "x.pdf"], "has no version 9"),
    (["izin_reklame", "--out", "x.docx"], "end the file name with .pdf or .html"),
    (["izin_reklame", "--version", "0", "--out", "x.pdf"], "--version"),
])
def test_mistakes_are_one_line_and_exit_1(office, tmp_path, args, message):
    env, _ = office
    done = run_alur(["sop-doc", *args], env)
    assert done.returncode == 1
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert not (ROOT / "x.pdf").exists()


def test_an_unwritable_place_is_a_clear_message(office, tmp_path):
    env, _ = office
    done = run_alur(["sop-doc", "izin_reklame", "--out", tmp_path / "missing" / "x.pdf"], env)
    assert done.returncode == 1 and "cannot write" in done.stderr and "Traceback" not in done.stderr


def test_help_names_the_formats(office):
    env, _ = office
    assert "FILE.pdf or FILE.html" in " ".join(ok(["sop-doc", "--help"], env).stdout.split())
