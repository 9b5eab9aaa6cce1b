"""SOP metrics per version: steps, actors, hand-offs, sign-offs, decisions, planned time, complexity."""
import pytest

from conftest import FIXTURES, PROCESSES
from workflow_engine.errors import BpmnValidationError, NotFound
from workflow_engine.sop_info import StepInfo
from workflow_engine.sop_metrics import delta, is_signoff, metrics_of

HOUR = 3600
REKLAME = PROCESSES / "izin-reklame"


def reklame(n: int) -> dict:
    return metrics_of((REKLAME / f"v{n}.bpmn").read_bytes(), "izin_reklame")


# --- a small model written in the test ------------------------------------------------------------

def task(tid: str, name: str | None = None, budget: str = "PT1H", jeda: bool = False) -> str:
    props = f'<camunda:property name="mutu.waktu" value="{budget}"/>'
    if jeda:
        props += '<camunda:property name="sla.jeda" value="true"/>'
    return (f'<bpmn:userTask id="{tid}" name="{name or tid}"><bpmn:extensionElements><camunda:properties>'
            f'{props}</camunda:properties></bpmn:extensionElements></bpmn:userTask>')


def flow(src: str, dst: str, name: str | None = None, condition: str | None = None, fid: str | None = None) -> str:
    fid = fid or f"f_{src}_{dst}"
    label = f' name="{name}"' if name else ""
    body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}"{label}>{body}</bpmn:sequenceFlow>'


def model(*parts: str, lanes: dict | None = None) -> bytes:
    lane_xml = ""
    if lanes:
        lane_xml = "<bpmn:laneSet id='ls'>" + "".join(
            f'<bpmn:lane id="lane_{i}" name="{name}">' + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
            + "</bpmn:lane>" for i, (name, nodes) in enumerate(lanes.items())) + "</bpmn:laneSet>"
    return (
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">'
        f'<bpmn:process id="p" name="P" isExecutable="true">{lane_xml}'
        + "".join(parts) + "</bpmn:process></bpmn:definitions>").encode()


def gateway(kind: str, gid: str, default: str | None = None) -> str:
    attr = f' default="{default}"' if default else ""
    return f'<bpmn:{kind} id="{gid}"{attr}/>'


START, END = '<bpmn:startEvent id="s"/>', '<bpmn:endEvent id="e" name="Selesai"/>'


# --- izin reklame v1 and v2, counted by hand from the BPMN and the folder's README ------------------

def test_reklame_counts_of_steps_actors_and_signoffs():
    v1, v2 = reklame(1), reklame(2)
    assert (v1["steps"], v2["steps"]) == (20, 12)
    assert v1["actors"] == v2["actors"] == 6
    assert v1["signoff_steps"] == ["paraf_surat_tugas", "tandatangani_surat_tugas", "persetujuan_kabid",
                                   "persetujuan_kadis"]
    assert v2["signoff_steps"] == ["persetujuan_kadis"]


def test_reklame_hand_offs_on_the_main_path():
    # v1: FO>BO>Kabid>Kadis>[survey || spatial plan]>BO>Pemohon>BO>Kabid>Kadis>FO; v2 drops the letter chain.
    assert (reklame(1)["handoffs"], reklame(2)["handoffs"]) == (10, 6)


def test_reklame_decisions_branches_and_complexity():
    v1, v2 = reklame(1), reklame(2)
    # v1: lengkap?, layak?, Kabid?, Kadis?; v2: lengkap?, >= 24 m2?, layak?, Kadis?  Each a 2-way XOR.
    assert v1["decision_points"] == v2["decision_points"] == 4
    assert v1["parallel_branches"] == v2["parallel_branches"] == 2
    assert v1["complexity"] == v2["complexity"] == 4 * 2 + 1


def test_reklame_planned_time_of_the_main_and_longest_paths():
    v1, v2 = reklame(1), reklame(2)
    assert v1["main_path_seconds"] == 32 * HOUR + 25 * 60  # the README's longest path to "Izin terbit"
    assert v1["longest_path_seconds"] == 32 * HOUR + 55 * 60  # the Kadis refuses: letter 1 h, not 30 min
    assert v2["main_path_seconds"] == 5 * HOUR + 45 * 60  # a large sign: survey branch 3 h 15 min
    assert v2["longest_path_seconds"] == 6 * HOUR
    assert v1["main_path_applicant_seconds"] == 72 * HOUR  # paying the tax; never the return loop


def test_reklame_main_path_takes_approving_branches_and_no_loop():
    v1, v2 = reklame(1), reklame(2)
    assert v1["main_path_steps"] == 18 and "melengkapi_berkas" not in v1["main_path"]
    assert "susun_surat_penolakan" not in v1["main_path"] and v1["main_path"][-1] == "serahkan_izin"
    assert v2["main_path"] == ["terima_berkas", "verifikasi_administrasi", "tugaskan_survei", "survei_lapangan",
                               "susun_bap_rekomendasi", "terbitkan_skpd", "bayar_pajak", "verifikasi_pembayaran",
                               "persetujuan_kadis", "serahkan_izin"]
    assert v1["loop_steps"] == ["periksa_kelengkapan", "melengkapi_berkas"]
    assert v2["loop_steps"] == ["terima_berkas", "melengkapi_berkas"]


@pytest.mark.parametrize("folder, handoffs, signoffs, hours", [
    ("izin-reklame", (10, 6), (4, 1), ("32:25", "5:45")),
    ("izin-trayek", (8, 4), (4, 2), ("35:25", "5:45")),
    ("persetujuan-bangunan-gedung", (12, 6), (5, 1), ("60:15", "5:35")),
    ("surat-izin-praktik", (9, 4), (4, 1), ("43:15", "4:50")),
    ("verifikasi-sertifikat-standar", (10, 2), (4, 1), ("48:00", "5:30")),
])
def test_library_figures_agree_with_the_readmes(folder, handoffs, signoffs, hours):
    figures = [metrics_of((PROCESSES / folder / f"v{n}.bpmn").read_bytes()) for n in (1, 2)]
    assert tuple(f["handoffs"] for f in figures) == handoffs
    assert tuple(f["signoffs"] for f in figures) == signoffs
    planned = tuple(f"{f['main_path_seconds'] // HOUR}:{f['main_path_seconds'] % HOUR // 60:02d}" for f in figures)
    assert planned == hours


# --- definitions on small models -------------------------------------------------------------------

@pytest.mark.parametrize("name, lane, step_id, expected", [
    ("Memaraf konsep surat tugas", "Kepala Bidang", "x", True),
    ("Menandatangani izin (TTE)", "Kepala Dinas", "x", True),
    ("Memeriksa dan memaraf draf izin", "Kepala Bidang", "x", True),
    ("Menyetujui hasil verifikasi", "Kepala Dinas", "x", True),
    ("Approve the request", None, "x", True),
    ("Memeriksa SIP yang ditandatangani", "Back Office", "x", False),
    ("Menugaskan Tim Teknis", "Kepala Bidang", "tugaskan_survei", False),
    ("Keputusan", "Kepala Dinas", "persetujuan_kadis", True),
])
def test_signoff_heuristic(name, lane, step_id, expected):
    assert is_signoff(StepInfo(id=step_id, name=name, kind="userTask", lane=lane)) is expected


def test_a_service_task_is_never_a_signoff():
    assert not is_signoff(StepInfo(id="approve", name="Approve", kind="serviceTask"))


def test_main_path_prefers_an_approving_branch_over_the_default():
    xml = model(START, task("a"), gateway("exclusiveGateway", "g", default="f_g_r"), task("ok", budget="PT2H"),
                task("r", budget="PT5H"), END, '<bpmn:endEvent id="e2" name="Ditolak"/>',
                flow("s", "a"), flow("a", "g"), flow("g", "ok", "Ya", "x == 1"), flow("g", "r", "Tidak"),
                flow("ok", "e"), flow("r", "e2"))
    m = metrics_of(xml)
    assert m["main_path"] == ["a", "ok"] and m["main_path_seconds"] == 3 * HOUR
    assert m["longest_path"] == ["a", "r"] and m["longest_path_seconds"] == 6 * HOUR


def test_main_path_takes_the_default_when_no_branch_is_named():
    xml = model(START, gateway("exclusiveGateway", "g", default="f_g_b"), task("a"), task("b", budget="PT3H"), END,
                flow("s", "g"), flow("g", "a", condition="x == 1"), flow("g", "b"), flow("a", "e"), flow("b", "e"))
    assert metrics_of(xml)["main_path"] == ["b"]


def test_main_path_avoids_a_branch_that_only_ends_in_a_refusal():
    xml = model(START, gateway("exclusiveGateway", "g", default="f_g_a"), task("a"), task("b"), END,
                '<bpmn:endEvent id="e2" name="Permohonan ditolak"/>',
                flow("s", "g"), flow("g", "a"), flow("g", "b", condition="x == 1"), flow("a", "e2"), flow("b", "e"))
    assert metrics_of(xml)["main_path"] == ["b"]


def test_parallel_branches_count_as_the_longest_and_a_block_counts_once_for_hand_offs():
    m = metrics_of((FIXTURES / "parallel.bpmn").read_bytes())
    # cek_administrasi (BO, 2 h) || survei_lapangan (TT, 4 h), then tanda_tangan (Kadis, 1 h).
    assert m["main_path_seconds"] == m["longest_path_seconds"] == 5 * HOUR
    assert m["parallel_branches"] == 2 and m["complexity"] == 1 and m["decision_points"] == 0
    assert m["handoffs"] == 1  # the block is read as its longest branch (TT), then to Kepala Dinas


def test_hand_offs_count_lane_changes_between_consecutive_steps():
    lanes = {"FO": ["a", "b"], "BO": ["c"], "Kadis": ["d"]}
    xml = model(START, task("a"), task("b"), task("c"), task("d"), END, flow("s", "a"), flow("a", "b"),
                flow("b", "c"), flow("c", "d"), flow("d", "e"), lanes=lanes)
    m = metrics_of(xml)
    assert m["handoffs"] == 2 and m["actors"] == 3 and m["steps"] == 4


def test_complexity_of_inclusive_and_exclusive_splits():
    m = metrics_of((FIXTURES / "inclusive.bpmn").read_bytes())
    assert m["decision_points"] == 1 and m["complexity"] == 2 ** 4 - 1
    xml = model(START, gateway("exclusiveGateway", "g", default="f_g_a"), task("a"), task("b"), task("c"), END,
                flow("s", "g"), flow("g", "a"), flow("g", "b", condition="x"), flow("g", "c", condition="y"),
                flow("a", "e"), flow("b", "e"), flow("c", "e"))
    assert metrics_of(xml)["complexity"] == 3


def test_loop_steps_and_the_applicant_time_of_a_rework_loop():
    m = metrics_of((FIXTURES / "rework_loop.bpmn").read_bytes())
    assert m["loop_steps"] == ["periksa", "perbaiki"]
    assert m["main_path"] == ["periksa"] and m["main_path_seconds"] == 30 * 60
    assert m["longest_path_seconds"] == 30 * 60  # the loop is followed once, back to periksa: no end


def test_an_embedded_subprocess_costs_its_inner_path():
    m = metrics_of((FIXTURES / "subprocess.bpmn").read_bytes())
    assert m["main_path"] == ["terima", "periksa_dokumen", "periksa_lapangan", "terbitkan"]
    assert m["main_path_seconds"] == 15 * 60 + 3 * HOUR + 30 * 60


def test_a_boundary_event_is_on_the_longest_path_but_not_the_main_one():
    m = metrics_of((FIXTURES / "boundary_timer.bpmn").read_bytes())
    assert m["main_path"] == ["tunggu_rekomendasi", "terbitkan_izin"]
    assert m["longest_path_seconds"] == 2 * HOUR + HOUR + 30 * 60


def test_bad_input_is_a_located_problem_not_a_crash():
    with pytest.raises(BpmnValidationError):
        metrics_of(b"<not-bpmn", filename="x.bpmn")
    with pytest.raises(BpmnValidationError) as caught:
        metrics_of((FIXTURES / "parallel.bpmn").read_bytes(), key="nope")
    assert "nope" in str(caught.value.problems[0])


def test_delta_is_b_minus_a():
    d = delta(reklame(1), reklame(2))
    assert d["steps"] == -8 and d["handoffs"] == -4 and d["signoffs"] == -3
    assert d["main_path_seconds"] == (5 * HOUR + 45 * 60) - (32 * HOUR + 25 * 60)
    assert delta(None, reklame(2))["steps"] is None


# --- through the engine, on both databases ---------------------------------------------------------

def test_engine_reads_metrics_of_stored_versions(engine):
    for n in (1, 2):
        engine.deploy((REKLAME / f"v{n}.bpmn").read_bytes(), f"v{n}.bpmn")
    assert engine.sop_metrics("izin_reklame", 1)["handoffs"] == 10
    latest = engine.sop_metrics("izin_reklame")
    assert latest["version"] == 2 and latest["steps"] == 12
    assert engine.sop_metrics("izin_reklame", 2) is latest  # versions never change: computed once
    with pytest.raises(NotFound):
        engine.sop_metrics("izin_reklame", 9)


def test_metrics_partial_renders_both_sides_without_inline_code(engine, web):
    from flask import render_template

    for n in (1, 2):
        engine.deploy((REKLAME / f"v{n}.bpmn").read_bytes(), f"v{n}.bpmn")
    comparison = engine.compare("izin_reklame", 1, 2)
    context = {"metrics": {"a": comparison["a"]["metrics"], "b": comparison["b"]["metrics"],
                           "delta": comparison["delta"]["metrics"]}}
    with web.test_request_context("/?lang=id"):
        html = render_template("compare/_metrics.html", **context)
    assert "Serah terima antarpelaksana pada jalur utama" in html and "32 j 25 mnt" in html
    assert "Jalur utama Versi 2: 10 langkah" in html and "style=" not in html and "<script" not in html
    with web.test_request_context("/?lang=en"):
        assert "Hand-offs between lanes on the main path" in render_template("compare/_metrics.html", **context)
