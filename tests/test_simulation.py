"""The simulator: deterministic, joins wait for all branches, the applicant's time pauses the clock,
branch shares and durations follow the history, budgets fill in, and forecasts agree with the demo."""
from __future__ import annotations

import time
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

import pytest
from conftest import FIXTURES, PROCESSES, WIT

from workflow_engine.calendars import TwentyFourSeven, WorkingHours
from workflow_engine.sim_history import History
from workflow_engine.sim_model import build_model
from workflow_engine.sim_summary import histogram, wilson
from workflow_engine.simulation import (
    LOOP_CAP,
    NO_HISTORY_MAIN,
    NO_HISTORY_REWORK,
    Simulator,
)

MONDAY = datetime(2026, 11, 30, 8, 0, tzinfo=WIT)
H = 3600.0


def linear_sop(key: str, steps: list[dict], *, process_props: str = "") -> str:
    """A BPMN file: start -> steps in order -> end; a step is {id, name, lane, budget, pause, fields, doc}."""
    lanes: dict[str, list[str]] = {}
    for s in steps:
        lanes.setdefault(s.get("lane", "Front Office"), []).append(s["id"])
    lane_xml = "".join(
        f'<bpmn:lane id="lane_{i}" name="{escape(name)}">'
        + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ids) + "</bpmn:lane>"
        for i, (name, ids) in enumerate(lanes.items()))
    tasks, chain = [], ["start"] + [s["id"] for s in steps] + ["end"]
    for s in steps:
        props = f'<camunda:property name="mutu.waktu" value="{s.get("budget", "PT1H")}"/>'
        if s.get("pause"):
            props += '<camunda:property name="sla.jeda" value="true"/>'
        fields = "".join(f'<camunda:formField id="{f}" label="{f}" type="string"/>' for f in s.get("fields", ()))
        form = f"<camunda:formData>{fields}</camunda:formData>" if fields else ""
        tasks.append(f'<bpmn:userTask id="{s["id"]}" name="{escape(s.get("name", s["id"]))}">'
                     f'<bpmn:documentation>{escape(s.get("doc", "Kerjakan."))}</bpmn:documentation>'
                     f"<bpmn:extensionElements>{form}<camunda:properties>{props}</camunda:properties>"
                     f"</bpmn:extensionElements></bpmn:userTask>")
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}"/>'
                    for i, (a, b) in enumerate(zip(chain, chain[1:])))
    props = f"<bpmn:extensionElements><camunda:properties>{process_props}</camunda:properties></bpmn:extensionElements>" \
        if process_props else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            f'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="http://alur.test">'
            f'<bpmn:process id="{key}" name="{key}" isExecutable="true">{props}'
            f'<bpmn:laneSet id="ls">{lane_xml}</bpmn:laneSet><bpmn:startEvent id="start"/>{"".join(tasks)}'
            f'<bpmn:endEvent id="end"/>{flows}</bpmn:process></bpmn:definitions>')


def history_of(model, plans: list[list[tuple]], *, start=MONDAY, every=timedelta(days=1), office=None) -> History:
    """Recorded cases: each plan is a list of (step_id, ready hours, done hours[, claimed hours]) from its start."""
    cases, tasks = [], []
    for index, plan in enumerate(plans):
        begin = start + every * index
        cases.append({"id": index + 1, "version": 1, "started_at": begin, "status": "completed"})
        for step_id, ready, done, *claimed in plan:
            node = model.nodes.get(step_id)
            tasks.append({
                "case_id": index + 1, "version": 1, "step_id": step_id, "name": node.name if node else step_id,
                "ready_at": begin + timedelta(hours=ready), "completed_at": begin + timedelta(hours=done),
                "claimed_at": begin + timedelta(hours=claimed[0]) if claimed else None, "cancelled_at": None,
                "budget_seconds": node.budget_seconds if node else None,
                "pauses_clock": bool(node and node.pauses_clock)})
    return History(cases, tasks, office or TwentyFourSeven())


def simulator(model, plans=(), *, office=None, sla=None, **kw) -> Simulator:
    return Simulator(model, history_of(model, list(plans), office=office, **kw), sla or TwentyFourSeven())


def fixture(name: str):
    return build_model((FIXTURES / name).read_bytes(), name)


def visits(sim: Simulator, cases: int, seed: int = 0) -> dict[str, float]:
    counts: dict[str, int] = {}
    for run, _, _ in sim.results(cases, seed):
        for node_id, _, _ in run.visits:
            counts[node_id] = counts.get(node_id, 0) + 1
    return {k: v / cases for k, v in counts.items()}


def test_same_seed_same_forecast():
    model = fixture("twenty_steps.bpmn")
    first, again, other = (simulator(model).run(300, seed) for seed in (5, 5, 6))
    for result in (first, again, other):
        result.pop("elapsed_seconds")
    assert first == again
    assert first != other


def test_parallel_join_waits_for_the_slowest_branch():
    model = fixture("parallel.bpmn")
    plan = [("cek_administrasi", 0, 1), ("survei_lapangan", 0, 3), ("tanda_tangan", 3, 3.5)]
    result = simulator(model, [plan] * 6).run(50, 0)
    assert result["case_hours"]["sla"] == {"p10": 3.5, "p50": 3.5, "p90": 3.5, "mean": 3.5}
    critical = {c["id"]: c["share"] for c in result["critical_path"]}
    assert critical == {"survei_lapangan": 1.0, "tanda_tangan": 1.0}


def test_applicant_time_counts_for_the_calendar_but_not_the_clock():
    model = build_model(linear_sop("jeda", [{"id": "a"}, {"id": "p", "lane": "Pemohon", "pause": True, "budget": "PT72H"},
                                            {"id": "b"}]))
    plan = [("a", 0, 1), ("p", 1, 11), ("b", 11, 12)]
    result = simulator(model, [plan] * 6).run(20, 0)
    assert result["case_hours"]["calendar"]["p50"] == 12.0
    assert result["case_hours"]["sla"]["p50"] == 2.0
    assert result["meets_limit"]["share"] == 1.0


def test_a_long_pause_does_not_breach_the_limit():
    model = build_model(linear_sop("jeda2", [{"id": "a"}, {"id": "p", "lane": "Pemohon", "pause": True},
                                             {"id": "b"}]))
    plan = [("a", 0, 2), ("p", 2, 50), ("b", 50, 52)]
    result = simulator(model, [plan] * 6).run(20, 0)
    assert result["case_hours"]["calendar"]["p50"] == 52.0 and result["meets_limit"]["share"] == 1.0


def test_office_steps_wait_for_office_hours():
    model = fixture("linear3.bpmn")
    plan = [("isi_formulir", 0, 1), ("verifikasi", 1, 18), ("terbitkan", 18, 19)]  # Monday 15:00 to Tuesday 10:00
    start = datetime(2026, 11, 2, 15, 0, tzinfo=WIT)  # Mondays of a month without holidays
    sim = simulator(model, [plan] * 6, office=WorkingHours(), start=start, every=timedelta(days=7))
    assert sim.sources["verifikasi"].values == [3600.0] * 6  # ready 16:00, done 09:00: one office hour
    assert sim.run(10, 0)["case_hours"]["calendar"]["p50"] == 19.0


def test_clock_starts_after_the_named_step_on_working_hours():
    model = fixture("clock_start.bpmn")
    plan = [("berkas_lengkap", 0, 2), ("proses", 2, 6), ("terbitkan", 6, 7)]
    sim = simulator(model, [plan] * 6, office=WorkingHours(), sla=WorkingHours(), every=timedelta(days=7))
    result = sim.run(10, 0)
    assert result["case_hours"]["calendar"]["p50"] == 7.0
    assert result["case_hours"]["sla"]["p50"] == 5.0
    assert result["meets_limit"]["share"] == 1.0


def test_durations_are_drawn_from_the_same_step_in_history():
    model = fixture("linear3.bpmn")
    plans = [[("isi_formulir", 0, 0.25), ("verifikasi", 0.25, 0.25 + k), ("terbitkan", 5, 5.5)] for k in (1, 2, 3, 1, 2, 3)]
    sim = simulator(model, plans)
    assert sorted(sim.sources["verifikasi"].values) == [3600.0, 3600.0, 7200.0, 7200.0, 10800.0, 10800.0]
    assert sim.sources["verifikasi"].to_dict()["kind"] == "history"
    seen = {round(done - ready) for run, _, _ in sim.results(200, 1) for node, ready, done in run.visits
            if node == "verifikasi"}
    assert seen == {3600, 7200, 10800}


def test_steps_match_by_name_when_ids_differ():
    model = fixture("linear3.bpmn")
    history = history_of(model, [[("old_id", 0, 2)]] * 6)
    for row in history.tasks:
        row["name"] = "Verifikasi berkas"
    history = History(list(history.cases.values()), history.tasks, TwentyFourSeven())
    source = Simulator(model, history, TwentyFourSeven()).sources["verifikasi"]
    assert (source.kind, source.match, source.n) == ("history", "name", 6)


def test_budget_fallback_is_a_lognormal_around_the_budget():
    model = fixture("linear3.bpmn")
    sim = simulator(model)
    source = sim.sources["verifikasi"]
    assert (source.kind, source.median) == ("budget", 3600.0)
    durations = sorted(done - ready for run, _, _ in sim.results(2000, 3) for node, ready, done in run.visits
                       if node == "verifikasi")
    median = durations[len(durations) // 2]
    assert 0.9 * 3600 < median < 1.1 * 3600
    assert durations[len(durations) // 10] < 0.7 * 3600 < 1.5 * 3600 < durations[-len(durations) // 10]


def test_branch_shares_come_from_history():
    model = fixture("exclusive.bpmn")
    yes = [("ajukan", 0, 0.25), ("putuskan", 0.25, 1.25), ("terbitkan_izin", 1.25, 1.75)]
    no = [("ajukan", 0, 0.25), ("putuskan", 0.25, 1.25), ("kirim_penolakan", 1.25, 1.75)]
    sim = simulator(model, [yes] * 7 + [no] * 3)
    assert sim.shares["gw_keputusan"] == {"Flow_gw_keputusan_terbitkan_izin": 0.7,
                                          "Flow_gw_keputusan_kirim_penolakan": 0.3}
    assert sim.share_sources["gw_keputusan"] == {"kind": "history", "n": 10}
    assert abs(visits(sim, 2000)["terbitkan_izin"] - 0.7) < 0.04


def test_without_history_the_forward_branch_is_likely_and_rework_rare():
    exclusive = simulator(fixture("exclusive.bpmn"))
    assert exclusive.shares["gw_keputusan"]["Flow_gw_keputusan_terbitkan_izin"] == pytest.approx(NO_HISTORY_MAIN)
    assert exclusive.share_sources["gw_keputusan"]["kind"] == "rule"
    loop = simulator(fixture("rework_loop.bpmn"))
    assert loop.shares["gw_hasil"] == pytest.approx({"Flow_gw_hasil_perbaiki": NO_HISTORY_REWORK,
                                                     "Flow_gw_hasil_end": 1 - NO_HISTORY_REWORK})
    assert abs(visits(loop, 3000)["perbaiki"] - NO_HISTORY_REWORK / (1 - NO_HISTORY_REWORK)) < 0.03


def test_loops_are_capped():
    sim = simulator(fixture("rework_loop.bpmn"))
    sim.shares = {"gw_hasil": {"Flow_gw_hasil_perbaiki": 1.0, "Flow_gw_hasil_end": 0.0}}
    result = sim.run(20, 0)
    assert result["stuck_cases"] == 0
    assert {s["id"]: s["visits_per_case"] for s in result["steps"]}["periksa"] == LOOP_CAP + 1


def test_inclusive_join_waits_for_the_branches_taken():
    sim = simulator(fixture("inclusive.bpmn"))
    runs = sim.results(300, 2)
    assert all(not run.stuck for run, _, _ in runs)
    for run, _, _ in runs:
        done = {node: end for node, _, end in run.visits}
        starts = {node: ready for node, ready, _ in run.visits}
        taken = [done[n] for n in ("rekomendasi_dinkes", "rekomendasi_pupr", "rekomendasi_lh", "tanpa_rekomendasi")
                 if n in done]
        assert taken and starts["terbitkan"] == max(taken)
    assert any(sum(n.startswith("rekomendasi_") for n, _, _ in run.visits) >= 2 for run, _, _ in runs)


def test_boundary_timer_escalates_a_step_that_runs_too_long():
    model = fixture("boundary_timer.bpmn")
    slow = simulator(model, [[("tunggu_rekomendasi", 0, 3)]] * 6)
    quick = simulator(model, [[("tunggu_rekomendasi", 0, 1)]] * 6)
    assert visits(slow, 50).get("eskalasi_rekomendasi") == 1.0
    assert "eskalasi_rekomendasi" not in visits(quick, 50)
    run = slow.results(1, 0)[0][0]
    ready, done = next((r, d) for n, r, d in run.visits if n == "tunggu_rekomendasi")
    assert done - ready == 2 * H  # interrupted by the 2-hour timer


@pytest.mark.parametrize("name,inner", [("subprocess.bpmn", "periksa_lapangan"), ("call_activity.bpmn", "beri_rekomendasi")])
def test_subprocesses_run_inside_and_the_case_goes_on(name, inner):
    result = simulator(fixture(name)).run(50, 0)
    steps = {s["id"]: s["visits_per_case"] for s in result["steps"]}
    assert result["stuck_cases"] == 0 and steps[inner] == 1.0 and steps["terbitkan"] == 1.0


def test_wilson_interval():
    low, high = wilson(50, 100)
    assert (round(low, 3), round(high, 3)) == (0.404, 0.596)
    assert wilson(0, 1000)[0] == 0.0 and wilson(1000, 1000)[1] == 1.0


def test_histogram_bins_are_a_sixth_of_the_limit():
    result = histogram(24.0, {"sla": [1.0, 5.0, 23.9, 100.0]})
    assert result["edges"][:3] == [0.0, 4.0, 8.0] and len(result["edges"]) == 19
    assert result["sla"][0] == 1 and result["sla"][1] == 1 and result["sla"][5] == 1 and result["sla"][-1] == 1


@pytest.mark.parametrize("path", [FIXTURES / "twenty_steps.bpmn", PROCESSES / "persetujuan-bangunan-gedung" / "v1.bpmn"])
def test_a_thousand_cases_take_well_under_five_seconds(path):
    model = build_model(path.read_bytes(), path.name)
    sim = Simulator(model, History([], [], WorkingHours()), TwentyFourSeven())
    began = time.perf_counter()
    result = sim.run(1000, 0)
    elapsed = time.perf_counter() - began
    print(f"\n{path.name}: 1000 simulated cases in {elapsed:.2f} s (met {result['meets_limit']['share']:.1%})")
    assert result["cases"] == 1000 and result["stuck_cases"] == 0


# --- through the engine: stored versions, drafts and recorded cases ----------------------------------
LINEAR3_DATA = {"isi_formulir": {"nama_pemohon": "Yosua Wenda", "jumlah_berkas": 3, "jenis_layanan": "baru",
                                 "pernyataan_benar": True, "tanggal_permohonan": "2026-03-02"},
                "terbitkan": {"nomor_dokumen": "503/1/2026"}}


def without_step(xml: bytes, step_id: str) -> bytes:
    """The BPMN with one step (one flow in, one out) taken out and its flows joined, diagram included."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
    root = etree.fromstring(xml)
    task = root.find(f".//bpmn:*[@id='{step_id}']", ns)
    incoming = root.find(f".//bpmn:sequenceFlow[@targetRef='{step_id}']", ns)
    outgoing = root.find(f".//bpmn:sequenceFlow[@sourceRef='{step_id}']", ns)
    target = outgoing.get("targetRef")
    incoming.set("targetRef", target)
    for ref in root.iterfind(f".//bpmn:*[@id='{target}']/bpmn:incoming", ns):
        if ref.text == outgoing.get("id"):
            ref.text = incoming.get("id")
    gone = {step_id, outgoing.get("id")}
    for element in list(root.iter()):
        if element is task or element is outgoing or element.get("bpmnElement") in gone or \
                (etree.QName(element).localname == "flowNodeRef" and element.text == step_id):
            element.getparent().remove(element)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_engine_forecast_of_a_version_and_of_a_draft_uses_recorded_cases(engine):
    from sop_paths import office_users, run_path

    office_users(engine)
    content = (FIXTURES / "linear3.bpmn").read_bytes()
    key = engine.deploy(content, "linear3.bpmn", author="test").key
    for _ in range(6):
        run_path(engine, key, LINEAR3_DATA, step=timedelta(minutes=30))
    practice = engine.start_case(key, practice=True)  # practice cases never count
    assert engine.case(practice)["practice"]

    version = engine.simulate(key, 1, cases=200, seed=1)
    assert version["version"] == 1 and version["ref"] == "1"
    assert version["sources"]["history_cases"] == 6
    assert all(s["source"]["kind"] == "history" and s["source"]["n"] == 6 for s in version["steps"])
    assert version["meets_limit"]["share"] == 1.0

    draft_id = engine.create_draft(without_step(content, "verifikasi"), "linear3.bpmn", author="test")
    draft = engine.simulate(key, f"d{draft_id}", cases=200, seed=1)
    assert draft["draft"] == draft_id and draft["version"] is None
    assert [s["id"] for s in draft["steps"]] == ["isi_formulir", "terbitkan"]
    assert all(s["source"]["kind"] == "history" and s["source"]["versions"] == [1] for s in draft["steps"])
    assert draft["case_hours"]["sla"]["p50"] < version["case_hours"]["sla"]["p50"]


def test_a_remembered_forecast_is_renewed_when_the_records_or_the_draft_change(engine):
    from sop_paths import office_users, run_path

    office_users(engine)
    content = (FIXTURES / "linear3.bpmn").read_bytes()
    key = engine.deploy(content, "linear3.bpmn", author="test").key
    for _ in range(5):
        run_path(engine, key, LINEAR3_DATA, step=timedelta(minutes=30))
    first = engine.simulate(key, 1, cases=100, seed=1)
    first["meets_limit"]["share"] = -1  # a caller changing its copy changes nothing remembered
    assert engine.simulate(key, 1, cases=100, seed=1)["sources"]["history_cases"] == 5
    assert engine.simulate(key, 1, cases=100, seed=1)["meets_limit"]["share"] == 1.0
    run_path(engine, key, LINEAR3_DATA, step=timedelta(minutes=30))
    assert engine.simulate(key, 1, cases=100, seed=1)["sources"]["history_cases"] == 6

    draft_id = engine.create_draft(content, "linear3.bpmn", author="test")
    before = engine.simulate(key, f"d{draft_id}", cases=100, seed=1)
    assert [s["id"] for s in before["steps"]] == ["isi_formulir", "verifikasi", "terbitkan"]
    revision = engine.draft(draft_id)["revision"]
    engine.save_draft(draft_id, without_step(content, "verifikasi"), author="test", expected_revision=revision)
    after = engine.simulate(key, f"d{draft_id}", cases=100, seed=1)
    assert [s["id"] for s in after["steps"]] == ["isi_formulir", "terbitkan"]


def test_engine_forecast_refuses_unknown_references(engine):
    from workflow_engine.errors import InvalidState, NotFound

    key = engine.deploy((FIXTURES / "linear3.bpmn").read_bytes(), "linear3.bpmn", author="test").key
    with pytest.raises(NotFound):
        engine.simulate(key, 7)
    with pytest.raises(InvalidState):
        engine.simulate(key, "seven")
    with pytest.raises(InvalidState):
        engine.simulate(key, 1, cases=0)
    assert engine.simulate(key, "v1", cases=10)["sources"]["history_cases"] == 0  # budgets only


@pytest.mark.slow
def test_forecasts_agree_with_the_demo_history(tmp_path, sqlite_template):
    """Simulated share meeting 24 h vs the share measured on a generated history, per version and for a draft."""
    from web.demo import deploy_library, generate_history, history_period
    from workflow_engine import Database, Engine, FixedClock, Settings

    path = tmp_path / "demo.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    now = datetime(2026, 12, 2, 14, 30, tzinfo=WIT)
    engine = Engine(Database(url), FixedClock(now), Settings(database_url=url))
    days, folder = 60, PROCESSES / "surat-izin-praktik"
    engine.clock = FixedClock(history_period(now, days)[0] - timedelta(days=7))
    deploy_library(engine, folder, now=now, days=days, echo=lambda line: None)
    for lane in ("Pemohon", "Front Office", "Back Office", "Tim Teknis", "Kepala Bidang", "Kepala Dinas"):
        engine.add_user(lane.lower().replace(" ", "_"), role="staff", lanes=[lane], password_hash="x")
    generate_history(engine, seed=11, days=days, cases=300, now=now, password_hash="x", echo=lambda line: None)
    engine.clock = FixedClock(now)
    key = "surat_izin_praktik"
    forecasts = {}
    for number in (1, 2):
        forecast = engine.simulate(key, number, cases=1000, seed=0)
        compliance = engine.measured(key, number)["compliance"]
        meets = forecast["meets_limit"]
        print(f"\nv{number}: simulated {meets['share']:.3f} [{meets['low']:.3f}, {meets['high']:.3f}], measured "
              f"{compliance['met_share']:.3f} of {compliance['met'] + compliance['missed']} cases")
        assert compliance["met"] + compliance["missed"] >= 40
        assert meets["low"] - 0.10 <= compliance["met_share"] <= meets["high"] + 0.10
        forecasts[number] = forecast
    assert forecasts[2]["meets_limit"]["share"] > forecasts[1]["meets_limit"]["share"] + 0.5

    xml = (folder / "v2.bpmn").read_bytes()
    draft_id = engine.create_draft(without_step(xml, "susun_draf_izin"), "v2.bpmn", author="analis")
    draft = engine.simulate(key, f"d{draft_id}", cases=1000, seed=0)
    steps = {s["id"]: s["source"] for s in draft["steps"]}
    assert "susun_draf_izin" not in steps
    assert all(source["kind"] == "history" and 2 in source["versions"] for source in steps.values())
    assert draft["meets_limit"]["share"] >= forecasts[2]["meets_limit"]["share"] - 0.03
    assert draft["case_hours"]["sla"]["mean"] < forecasts[2]["case_hours"]["sla"]["mean"]
    engine.db.dispose()


def test_cli_simulate(sqlite_url, tmp_path):
    from cli_run import alur_env, ok, ok_json, run_alur

    env = alur_env(sqlite_url, tmp_path)
    ok(["processes", "deploy", FIXTURES / "parallel.bpmn"], env)
    result = ok_json(["simulate", "parallel", "--version", "1", "--cases", "300", "--seed", "4"], env)
    assert result["cases"] == 300 and result["seed"] == 4 and result["meets_limit"]["method"] == "wilson"
    assert ok_json(["simulate", "parallel", "--version", "1", "--cases", "300", "--seed", "4"], env)["steps"] == \
        result["steps"]
    text = ok(["simulate", "parallel", "--version", "1", "--cases", "100", "--findings"], env).stdout
    assert "Meets the 24-hour limit" in text and "Findings" in text
    for args in (["simulate", "parallel"], ["simulate", "parallel", "--version", "1", "--draft", "2"],
                 ["simulate", "parallel", "--version", "9"], ["simulate", "parallel", "--draft", "9"]):
        done = run_alur(args, env)
        assert done.returncode != 0 and "Traceback" not in done.stderr and done.stderr.startswith("error:")
