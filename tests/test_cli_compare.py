"""`alur compare KEY A B`: the JSON shape, the readable table and clear refusals, run as a real process."""
from datetime import timedelta

import pytest

from cli_run import alur_env, ok, ok_json, refused
from conftest import PROCESSES
from sop_paths import deploy_versions, office_users, run_path
from test_sop_izin_reklame import HAPPY, HAPPY_V2

KEY = "izin_reklame"


@pytest.fixture
def env(engine, database_url, tmp_path):
    """Both versions of izin reklame, one approved case on each and a case returned once on v2."""
    office_users(engine)
    deploy_versions(engine, PROCESSES / "izin-reklame")
    run_path(engine, KEY, HAPPY, version=1)
    run_path(engine, KEY, HAPPY_V2, version=2)
    returned = {**HAPPY_V2, "terima_berkas": [{**HAPPY_V2["terima_berkas"][0], "hasil": "tidak_lengkap"},
                                              HAPPY_V2["terima_berkas"][0]]}
    run_path(engine, KEY, returned, version=2, step=timedelta(minutes=30))
    return alur_env(database_url, tmp_path / "home")


def test_json_has_both_sides_and_their_differences(env, engine):
    result = ok_json(["compare", KEY, "1", "2"], env)
    assert set(result) == {"key", "a", "b", "delta", "diff"} and result["key"] == KEY
    assert {"paraf_surat_tugas", "persetujuan_kabid"} <= set(result["diff"]["removed"])  # v2 drops sign-offs
    for side, version in (("a", 1), ("b", 2)):
        assert {"version", "metrics", "measured", "forecast"} <= set(result[side])
        assert 0 <= result[side]["forecast"]["meets_limit"]["share"] <= 1
        assert result[side]["version"] == version == result[side]["measured"]["version"]
    assert (result["a"]["metrics"]["handoffs"], result["b"]["metrics"]["handoffs"]) == (10, 6)
    assert result["a"]["measured"]["cases"]["completed"] == 1
    assert result["b"]["measured"]["cases"]["completed"] == 2
    assert result["b"]["measured"]["rework"]["reworked"] == 1
    assert set(result["delta"]) == {"metrics", "measured", "forecast"}
    assert result["delta"]["metrics"]["steps"] == -8 and result["delta"]["measured"]["cases_completed"] == 1
    # The share meeting the limit is what the case pages say.
    pages = [c for c in engine.cases(process=KEY) if c["version"] == 2 and c["status"] == "completed"]
    met_share = result["b"]["measured"]["compliance"]["met_share"]
    assert met_share == round(sum(c["sla_state"] == "met" for c in pages) / len(pages), 4)


def test_the_same_comparison_with_v_prefixed_references(env):
    assert ok_json(["compare", KEY, "v2", "v1"], env)["delta"]["metrics"]["steps"] == 8


def test_readable_table_without_json(env):
    text = ok(["compare", KEY, "1", "2"], env).stdout
    assert text.startswith("SOP izin_reklame: v1 against v2")
    line = next(row for row in text.splitlines() if row.startswith("Hand-offs on the main path"))
    assert line.split()[-3:] == ["10", "6", "-4"]
    assert "Planned office time, main path" in text and "32 h 25 m" in text and "5 h 45 m" in text
    assert "practice cases" in text


@pytest.mark.parametrize("args, message", [
    (["compare", KEY, "1", "x"], "is not a version number"),
    (["compare", KEY, "1", "9"], "has no version 9"),
    (["compare", "tidak_ada", "1", "2"], "tidak_ada"),
    (["compare", KEY, "1", "2", "--since", "kemarin"], "not a date"),
])
def test_mistakes_are_one_clear_line(env, args, message):
    assert message in refused(args, env)


def test_help_names_the_references(env):
    assert "drafts (d7)" in ok(["compare", "--help"], env).stdout
