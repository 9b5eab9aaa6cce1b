"""Inspection rules: each error and simplification warning has a fixture that triggers it and one that does not."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import PROCESSES
from workflow_engine.sop_lint import inspect_bpmn
from workflow_engine.sop_simplify import human
from workflow_engine.sop_words import is_signoff_name

LINT = Path(__file__).resolve().parent / "fixtures" / "lint"


def inspect(name: str):
    return inspect_bpmn((LINT / name).read_bytes(), name)


def codes(problems) -> list:
    return [p.code for p in problems]


def only(problems, code: str):
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, f"expected one {code}: {[str(p) for p in problems]}"
    return found[0]


# --- the clean model --------------------------------------------------------------------------------
def test_clean_model_is_executable_without_problems():
    result = inspect("clean.bpmn")
    assert (result.key, result.name, result.executable) == ("clean", "Bersih", True)
    assert result.errors == [] and result.warnings == []


def test_every_problem_is_located_and_coded():
    for path in sorted(LINT.glob("*.bpmn")):
        result = inspect_bpmn(path.read_bytes(), path.name)
        for problem in result.problems:
            assert problem.file == path.name and problem.code and problem.message
            assert problem.element_id and problem.line, str(problem)


def test_to_dict_has_the_contract_keys():
    data = inspect("no_budget.bpmn").to_dict()
    assert set(data) == {"key", "name", "executable", "errors", "warnings"}
    assert data["warnings"][0]["code"] == "no-budget"


# --- errors -----------------------------------------------------------------------------------------
def test_descriptive_model_is_not_executable_and_says_so_first():
    result = inspect("not_executable.bpmn")
    assert result.executable is False and result.key == "not_executable"
    first = result.errors[0]
    assert (first.code, first.element_id, first.line) == ("not-executable", "not_executable", 3)
    assert '"Model deskriptif"' in first.message


def test_executable_model_has_no_not_executable_error():
    assert "not-executable" not in codes(inspect("clean.bpmn").errors)


def test_unsupported_element_comes_from_the_loader():
    problem = only(inspect("unsupported.bpmn").errors, "unsupported")
    assert problem.element_id == "rumit" and "complex" in problem.message


def test_dangling_flow_names_the_flow_and_its_line():
    problem = only(inspect("dangling_flow.bpmn").errors, "dangling-flow")
    assert (problem.element_id, problem.line) == ("f_hilang", 9) and "tidak_ada" in problem.message


def test_gateway_branch_without_condition():
    problem = only(inspect("no_condition.bpmn").errors, "no-condition")
    assert problem.element_id == "f_tanpa"


def test_gateway_with_a_default_branch_needs_no_condition_there():
    assert "no-condition" not in codes(inspect("merge_not_plain.bpmn").errors)


def test_user_task_outside_any_lane():
    problem = only(inspect("outside_lane.bpmn").errors, "outside-lane")
    assert problem.element_id == "t2"


def test_invalid_durations_in_budget_and_limit():
    errors = [p for p in inspect("bad_duration.bpmn").errors if p.code == "invalid-duration"]
    assert {p.element_id for p in errors} == {"t1", "bad_duration"}
    assert any("mutu.waktu" in p.message and "2 jam" in p.message for p in errors)
    assert any("sla.batasWaktu" in p.message for p in errors)


def test_errors_from_different_loader_stages_show_together():
    result = inspect("dangling_and_outside_lane.bpmn")
    assert {"dangling-flow", "outside-lane"} <= set(codes(result.errors))


# --- warnings ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fixture, code, element", [
    ("no_budget.bpmn", "no-budget", "terima"),
    ("no_instructions.bpmn", "no-instructions", "terima"),
    ("path_over_limit.bpmn", "path-over-limit", "path_over_limit"),
    ("handoff_chain.bpmn", "handoff-chain", "t1"),
    ("merge_candidates.bpmn", "merge-candidates", "t1"),
    ("signoff_chain.bpmn", "signoff-chain", "t1"),
])
def test_warning_is_raised(fixture, code, element):
    result = inspect(fixture)
    assert result.executable, "warnings never block a deploy"
    warning = only(result.warnings, code)
    assert warning.severity == "warning" and warning.element_id == element


@pytest.mark.parametrize("fixture, code", [
    ("clean.bpmn", "no-budget"),
    ("clean.bpmn", "no-instructions"),
    ("path_within_limit.bpmn", "path-over-limit"),
    ("handoff_short.bpmn", "handoff-chain"),
    ("clean.bpmn", "handoff-chain"),
    ("merge_not_plain.bpmn", "merge-candidates"),
    ("clean.bpmn", "merge-candidates"),
    ("signoff_two.bpmn", "signoff-chain"),
])
def test_warning_is_not_raised(fixture, code):
    assert code not in codes(inspect(fixture).warnings)


def test_step_warnings_name_the_step_in_quotes():
    assert '"Menerima berkas"' in only(inspect("no_budget.bpmn").warnings, "no-budget").message
    assert '"Menerima berkas"' in only(inspect("no_instructions.bpmn").warnings, "no-instructions").message


def test_path_over_limit_names_the_steps_and_total_and_ignores_the_loop_and_applicant_steps():
    message = only(inspect("path_over_limit.bpmn").warnings, "path-over-limit").message
    assert "6 h" in message and "4 h" in message
    for name in ("Memeriksa berkas", "Menghitung retribusi", "Menyusun izin"):
        assert f'"{name}"' in message
    assert "Melengkapi berkas" not in message  # a clock-pausing step spends no service time


def test_parallel_branches_count_once_on_the_longest_path():
    # 1 h + max(2 h, 2 h) + 1 h = 4 h: exactly the limit, so no warning.
    assert "path-over-limit" not in codes(inspect("path_within_limit.bpmn").warnings)


def test_handoff_chain_names_the_lanes_in_order():
    message = only(inspect("handoff_chain.bpmn").warnings, "handoff-chain").message
    assert "3 times" in message
    assert message.index("Front Office") < message.index("Back Office") < message.index("Tim Teknis")


def test_merge_candidates_name_both_steps_and_the_lane():
    message = only(inspect("merge_candidates.bpmn").warnings, "merge-candidates").message
    assert '"Memeriksa berkas"' in message and '"Meregistrasi berkas"' in message and "Front Office" in message


def test_signoff_chain_names_the_approvals():
    message = only(inspect("signoff_chain.bpmn").warnings, "signoff-chain").message
    assert message.startswith("3 sign-offs")
    assert "Menyusun draf izin" not in message


@pytest.mark.parametrize("name, lane, expected", [
    ("Menandatangani izin", "Back Office", True),
    ("Memeriksa dan memaraf draf", "Back Office", True),
    ("Menyetujui permohonan", None, True),
    ("Approve invoice", None, True),
    ("Sign contract", None, True),
    ("Tanda tangan Kadis", None, True),
    ("Menyusun disposisi", "Kepala Bidang", False),  # a head's lane alone is no sign-off
    ("Mencatat izin yang ditandatangani", "Back Office", False),
    ("Assign the case", None, False),
    ("Memeriksa berkas", "Front Office", False),
])
def test_approval_heuristic(name, lane, expected):
    assert is_signoff_name(name) is expected


def test_human_durations():
    assert [human(s) for s in (2700, 5400, 26 * 3600, 5 * 86400 + 3600)] == ["45 min", "1 h 30 min", "26 h", "5 d 1 h"]


# --- robustness -------------------------------------------------------------------------------------
def test_a_long_chain_with_a_loop_is_measured_quickly():
    import time
    tasks = "".join(f'<bpmn:task id="t{i}" name="Langkah {i}"/>' for i in range(1500))
    flows = "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="t{i}" targetRef="t{i + 1}"/>' for i in range(1499))
    content = ('<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" '
               'targetNamespace="x"><bpmn:process id="p" isExecutable="false"><bpmn:startEvent id="s"/>'
               f'{tasks}<bpmn:sequenceFlow id="fs" sourceRef="s" targetRef="t0"/>{flows}'
               '<bpmn:sequenceFlow id="back" sourceRef="t1499" targetRef="t0"/></bpmn:process></bpmn:definitions>')
    started = time.perf_counter()
    result = inspect_bpmn(content.encode(), "long.bpmn")
    assert time.perf_counter() - started < 10
    assert result.errors and result.errors[0].code == "not-executable"


def test_unreadable_bytes_are_not_readable_and_not_raised():
    result = inspect_bpmn(b"<not xml", "x.bpmn")
    assert result.readable is False and result.executable is False and result.errors[0].code == "unreadable"


@pytest.mark.parametrize("folder", sorted(p.name for p in PROCESSES.iterdir() if p.is_dir()))
def test_library_sops_have_no_errors_and_v2_is_simpler(folder):
    def simplification(version: str) -> int:
        path = PROCESSES / folder / f"{version}.bpmn"
        result = inspect_bpmn(path.read_bytes(), path.name)
        assert result.executable and result.errors == [], [str(p) for p in result.errors]
        return len([w for w in result.warnings if w.code in (
            "path-over-limit", "handoff-chain", "merge-candidates", "signoff-chain")])
    assert simplification("v2") < simplification("v1")


# --- the command line -------------------------------------------------------------------------------
def test_cli_check_prints_errors_and_warnings_and_exits_1_on_errors(tmp_path):
    import json

    from cli_run import alur_env, run_alur
    env = alur_env(f"sqlite:///{tmp_path / 'a.sqlite'}", tmp_path)
    done = run_alur(["processes", "check", LINT / "dangling_and_outside_lane.bpmn", "--json"], env)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is False and result["executable"] is False
    assert {"key", "name", "errors", "warnings", "problems"} <= set(result)
    assert {p["code"] for p in result["errors"]} >= {"dangling-flow", "outside-lane"}
    done = run_alur(["processes", "check", LINT / "handoff_chain.bpmn", "--json"], env)
    assert done.returncode == 0
    result = json.loads(done.stdout)
    assert result["ok"] is True and [w["code"] for w in result["warnings"]] == ["handoff-chain"]
    assert result["problems"] == []  # what deploy itself says, as before
