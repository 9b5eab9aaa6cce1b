"""Simplification findings on crafted models and histories: each rule fires when it should, and only then."""
from __future__ import annotations

from datetime import timedelta

from conftest import FIXTURES
from test_simulation import LINEAR3_DATA, fixture, linear_sop, simulator

from workflow_engine.findings import find, human, main_next
from workflow_engine.sim_model import build_model


def codes(found: list[dict]) -> list[tuple[str, str]]:
    return [(f["code"], f["element_id"]) for f in found]


def assert_ranked(found: list[dict]) -> None:
    savings = [f["estimated_saving_seconds"] for f in found]
    assert savings == sorted(savings, reverse=True)
    for f in found:
        assert set(f) == {"code", "element_id", "element_name", "message", "evidence", "estimated_saving_seconds"}
        assert f["estimated_saving_seconds"] > 0 and f["message"]


def linear3_history(verify: tuple, *, times: int = 6) -> list:
    """Plans for linear3 where `verifikasi` is (ready, done[, claimed]) hours after the start."""
    ready, done, *claimed = verify
    return [[("isi_formulir", 0, 0.2), ("verifikasi", ready, done, *claimed), ("terbitkan", done, done + 0.3)]] * times


def test_a_step_that_mostly_waits_is_found():
    sim = simulator(fixture("linear3.bpmn"), linear3_history((0.2, 3.5, 3.2)))
    found = find(sim, cases=200)
    assert ("waiting", "verifikasi") in codes(found)
    waiting = next(f for f in found if f["code"] == "waiting")
    assert waiting["evidence"]["median_wait_seconds"] == 3 * 3600
    assert waiting["evidence"]["median_work_seconds"] == 18 * 60
    assert abs(waiting["estimated_saving_seconds"] - 1.5 * 3600) < 60  # the wait halved
    assert_ranked(found)


def test_a_step_picked_up_quickly_is_not_waiting():
    sim = simulator(fixture("linear3.bpmn"), linear3_history((0.2, 1.0, 0.3)))
    assert "waiting" not in {f["code"] for f in find(sim, cases=100)}


def approvals(count: int) -> list[dict]:
    steps = [{"id": "draf", "name": "Menyusun draf izin", "lane": "Back Office", "budget": "PT1H"}]
    signers = [("paraf_kasi", "Memaraf draf izin", "Back Office"), ("paraf_kabid", "Memaraf draf izin", "Kepala Bidang"),
               ("ttd_kadis", "Menandatangani izin", "Kepala Dinas")][-count:]
    steps += [{"id": i, "name": n, "lane": lane, "budget": "PT2H"} for i, n, lane in signers]
    steps.append({"id": "serahkan", "name": "Menyerahkan izin", "lane": "Front Office", "budget": "PT15M"})
    return steps


def test_three_approvals_in_a_row_are_a_signoff_chain():
    sim = simulator(build_model(linear_sop("chain", approvals(3))))
    found = find(sim, cases=200)
    chain = next(f for f in found if f["code"] == "signoff_chain")
    assert chain["element_id"] == "paraf_kasi"
    assert chain["evidence"]["steps"] == ["paraf_kasi", "paraf_kabid", "ttd_kadis"]
    # Two of the three 2-hour approvals go (budget medians, lognormal): about four hours saved.
    assert 3 * 3600 < chain["estimated_saving_seconds"] < 6 * 3600
    assert_ranked(found)


def test_two_approvals_are_not_a_chain():
    sim = simulator(build_model(linear_sop("pair", approvals(2))))
    assert "signoff_chain" not in {f["code"] for f in find(sim, cases=100)}


def test_main_next_follows_the_likeliest_branch():
    sim = simulator(fixture("exclusive.bpmn"))
    assert main_next(sim, "ajukan") == "putuskan"
    assert main_next(sim, "putuskan") == "terbitkan_izin"
    assert main_next(sim, "terbitkan_izin") is None


def two_checks(second_fields: list[str]) -> str:
    return linear_sop("checks", [
        {"id": "cek_admin", "name": "Memeriksa administrasi", "lane": "Back Office", "budget": "PT2H",
         "fields": ["hasil_admin"]},
        {"id": "cek_teknis", "name": "Memeriksa teknis", "lane": "Tim Teknis", "budget": "PT2H",
         "fields": second_fields},
        {"id": "serahkan", "name": "Menyerahkan izin", "lane": "Front Office", "budget": "PT15M"}])


def test_independent_checks_in_different_lanes_could_run_in_parallel():
    sim = simulator(build_model(two_checks(["hasil_teknis"])))
    found = find(sim, cases=200)
    parallel = next(f for f in found if f["code"] == "parallel")
    assert parallel["element_id"] == "cek_admin"
    assert parallel["evidence"]["steps"] == ["cek_admin", "cek_teknis"]
    assert 1 * 3600 < parallel["estimated_saving_seconds"] < 3 * 3600  # about the shorter of the two


def test_a_check_that_reads_the_first_ones_field_is_not_parallel():
    sim = simulator(build_model(two_checks(["hasil_admin", "hasil_teknis"])))
    assert ("parallel", "cek_admin") not in codes(find(sim, cases=100))


def test_a_step_over_its_budget_is_found():
    sim = simulator(fixture("linear3.bpmn"), linear3_history((0.2, 3.2)))  # verifikasi: 3 h against 1 h
    found = find(sim, cases=200)
    over = next(f for f in found if f["code"] == "over_budget")
    assert over["element_id"] == "verifikasi"
    assert over["evidence"]["median_seconds"] == 3 * 3600 and over["evidence"]["budget_seconds"] == 3600
    assert over["evidence"]["over_budget_share"] == 1.0
    assert abs(over["estimated_saving_seconds"] - 2 * 3600) < 60
    assert_ranked(found)


def test_a_step_within_its_budget_is_not_found():
    sim = simulator(fixture("linear3.bpmn"), linear3_history((0.2, 0.9)))
    assert "over_budget" not in {f["code"] for f in find(sim, cases=100)}


def rework_plans(returned: int, kept: int) -> list:
    back = [("periksa", 0, 3), ("perbaiki", 3, 27), ("periksa", 27, 30)]
    return [back] * returned + [[("periksa", 0, 3)]] * kept


def test_a_loop_with_many_returns_is_found():
    sim = simulator(fixture("rework_loop.bpmn"), rework_plans(4, 6))
    found = find(sim, cases=400)
    rework = next(f for f in found if f["code"] == "rework")
    assert rework["element_id"] == "gw_hasil"
    assert rework["evidence"]["return_share"] == round(4 / 14, 4)
    assert rework["evidence"]["flows"] == ["Flow_gw_hasil_perbaiki"]
    assert rework["evidence"]["met_share_after"] >= rework["evidence"]["met_share"]


def test_a_loop_with_few_returns_is_not_found():
    sim = simulator(fixture("rework_loop.bpmn"), rework_plans(1, 9))
    assert "rework" not in {f["code"] for f in find(sim, cases=100)}


def test_findings_are_ranked_by_time_saved():
    model = build_model(linear_sop("mixed", [
        {"id": "a", "name": "Mencatat permohonan", "lane": "Front Office", "budget": "PT1H", "fields": ["x"]},
        {"id": "b", "name": "Memeriksa lokasi", "lane": "Tim Teknis", "budget": "PT1H", "fields": ["y"]}]))
    plans = [[("a", 0, 1), ("b", 1, 6)]] * 6  # b: 5 h against 1 h; a and b could also run side by side
    found = find(simulator(model, plans), cases=200)
    assert codes(found) == [("over_budget", "b"), ("parallel", "a")]
    assert_ranked(found)


def test_engine_findings_of_a_version(engine):
    from sop_paths import office_users, run_path

    office_users(engine)
    key = engine.deploy((FIXTURES / "linear3.bpmn").read_bytes(), "linear3.bpmn", author="test").key
    for _ in range(6):
        run_path(engine, key, LINEAR3_DATA, step=timedelta(minutes=45))
    found = engine.findings(key, 1, cases=200)
    assert ("over_budget", "isi_formulir") in codes(found)  # 45 min against 15
    assert all(f["element_id"] in {"isi_formulir", "verifikasi", "terbitkan"} for f in found)
    assert_ranked(found)


def test_human_durations():
    assert (human(90), human(3600), human(5400), human(26 * 3600), human(76 * 3600)) == \
        ("2 min", "1 h", "1 h 30 min", "26 h", "3 d 4 h")
