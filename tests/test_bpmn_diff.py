"""The structural diff: one small fixture per attribute category, layout-only moves, bad files, versions and drafts."""
from __future__ import annotations

from pathlib import Path

import pytest

from workflow_engine import NotFound
from workflow_engine.bpmn_diff import diff_bpmn, value_text
from workflow_engine.sop_refs import parse_ref
from workflow_engine.errors import BpmnValidationError

DIFF = Path(__file__).resolve().parent / "fixtures" / "diff"
ROOT = Path(__file__).resolve().parent.parent


def against_base(name: str):
    return diff_bpmn((DIFF / "base.bpmn").read_bytes(), (DIFF / name).read_bytes(),
                     old_name="base.bpmn", new_name=name)


def only_change(name: str) -> tuple[str, dict]:
    result = against_base(name)
    assert result.added == [] and result.removed == [] and result.layout_changed == []
    assert len(result.changed) == 1, result.changed
    return next(iter(result.changed.items()))


def test_a_file_against_itself_has_no_differences():
    result = against_base("base.bpmn")
    assert result.empty
    assert result.to_dict() == {"added": [], "removed": [], "changed": {}, "layout_changed": []}


def test_rename():
    assert only_change("rename.bpmn") == ("terima", {"name": ["Terima berkas", "Terima dan registrasi berkas"]})


def test_retype():
    assert only_change("retype.bpmn") == ("periksa", {"type": ["userTask", "manualTask"]})


def test_condition():
    assert only_change("condition.bpmn") == (
        "f_gw_periksa", {"condition": ["lengkap == True", "lengkap is True and nama_pemohon"]})


def test_flow_target():
    assert only_change("flow_target.bpmn") == ("f_tolak_end", {"target": ["end_tolak", "end_selesai"]})


def test_budget():
    assert only_change("budget.bpmn") == ("periksa", {"budget": ["PT2H", "PT1H"]})


def test_documentation():
    element, attrs = only_change("documentation.bpmn")
    assert element == "periksa" and attrs["documentation"][1] == "Periksa dokumen teknis dan foto lokasi."


def test_other_camunda_attributes():
    assert only_change("camunda.bpmn") == ("terima", {"camunda": [{"dueDate": None}, {"dueDate": "PT1H"}]})


def test_default_flow():
    assert only_change("default_flow.bpmn") == ("gw_lengkap", {"default": [None, "f_gw_tolak"]})


def test_form_fields_added_and_constrained():
    element, attrs = only_change("form.bpmn")
    old, new = attrs["form"]
    assert element == "terima" and list(attrs) == ["form"]
    assert [f["id"] for f in old] == ["nama_pemohon", "lengkap"]
    assert [f["id"] for f in new] == ["nama_pemohon", "nik", "lengkap"]
    assert new[2]["constraints"] == ["required"] and "constraints" not in old[1]


def test_properties_report_only_the_keys_that_differ():
    result = against_base("properties.bpmn")
    assert result.changed == {
        "diff_demo": {"properties": [{"sop.nomor": "001/SOP/2026"}, {"sop.nomor": "001/SOP/2026 Revisi 1"}]},
        "terima": {"properties": [{"mutu.output": "Tanda terima"}, {"mutu.output": "Tanda terima dan nomor registrasi"}]},
    }


def test_moving_a_step_to_another_lane_changes_its_lane_by_name():
    assert only_change("move_lane.bpmn") == ("tolak", {"lane": ["Front Office", "Back Office"]})


def test_a_moved_step_whose_lane_changed_is_changed_not_layout_changed():
    result = against_base("move_lane.bpmn")
    assert "tolak" in result.di_changed and "tolak" not in result.layout_changed


def test_lane_membership_alone():
    assert only_change("lane_only.bpmn") == ("end_tolak", {"lane": ["Front Office", "Back Office"]})


def test_renaming_a_lane_does_not_change_its_steps():
    assert only_change("rename_lane.bpmn") == ("Lane_bo", {"name": ["Back Office", "Back Office Teknis"]})


def test_layout_only_move():
    result = against_base("layout_move.bpmn")
    assert result.changed == {} and result.added == [] and result.removed == []
    assert result.layout_changed == ["f_gw_periksa", "f_periksa_end", "periksa"]


def test_added_step_with_its_flows():
    result = against_base("added_step.bpmn")
    assert result.added == ["f_periksa_verifikasi", "f_verifikasi_end", "verifikasi"]
    assert result.removed == ["f_periksa_end"]
    assert result.changed == {}  # incoming/outgoing references are not attributes
    assert result.layout_changed == ["end_selesai"]


def test_removed_branch():
    result = against_base("removed_branch.bpmn")
    assert result.removed == ["end_tolak", "f_gw_tolak", "f_tolak_end", "tolak"]
    assert result.added == [] and result.changed == {}


def test_the_reverse_diff_swaps_added_and_removed():
    forward = against_base("added_step.bpmn")
    backward = diff_bpmn((DIFF / "added_step.bpmn").read_bytes(), (DIFF / "base.bpmn").read_bytes())
    assert backward.added == forward.removed and backward.removed == forward.added
    assert backward.layout_changed == forward.layout_changed


def test_namespace_prefixes_do_not_matter():
    text = (DIFF / "base.bpmn").read_text(encoding="utf-8")
    renamed = text.replace("bpmn:", "semantic:").replace("xmlns:bpmn=", "xmlns:semantic=")
    assert diff_bpmn(text.encode(), renamed.encode()).empty


def test_the_sop_library_versions_differ_in_every_category_of_verdict():
    result = diff_bpmn((ROOT / "processes/izin-reklame/v1.bpmn").read_bytes(),
                       (ROOT / "processes/izin-reklame/v2.bpmn").read_bytes())
    assert result.added and result.removed and result.changed and result.layout_changed
    assert result.changed["terima_berkas"]["name"][1] == "Menerima, memeriksa dan meregistrasi berkas"
    assert result.pools() == {"izin_reklame": "Participant_izin_reklame"}


def test_ids_are_sorted_and_json_ready():
    import json

    data = against_base("added_step.bpmn").to_dict()
    assert list(data) == ["added", "removed", "changed", "layout_changed"]
    assert data["added"] == sorted(data["added"])
    json.dumps(data)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"<definitions", "not well-formed XML"),
    (b"<a/>", "not a BPMN 2.0 file"),
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><d/>', "DOCTYPE"),
])
def test_bad_files_are_refused_with_the_file_named(content, message):
    with pytest.raises(BpmnValidationError) as caught:
        diff_bpmn((DIFF / "base.bpmn").read_bytes(), content, new_name="rusak.bpmn")
    problem = caught.value.problems[0]
    assert message in problem.message and problem.file == "rusak.bpmn"


def test_a_duplicate_id_is_refused_with_its_line():
    text = (DIFF / "base.bpmn").read_text(encoding="utf-8").replace('id="periksa"', 'id="terima"')
    with pytest.raises(BpmnValidationError) as caught:
        diff_bpmn(text.encode(), text.encode(), old_name="a.bpmn")
    problem = caught.value.problems[0]
    assert problem.element_id == "terima" and problem.line and problem.file == "a.bpmn"


def test_too_big_files_are_refused():
    with pytest.raises(BpmnValidationError, match="limit"):
        diff_bpmn(b"<a/>" * 10, (DIFF / "base.bpmn").read_bytes(), max_bytes=20)


@pytest.mark.parametrize("ref, parsed", [("2", ("version", 2)), (3, ("version", 3)), ("d7", ("draft", 7)),
                                         ("D12", ("draft", 12))])
def test_refs(ref, parsed):
    assert parse_ref(ref) == parsed


@pytest.mark.parametrize("ref", ["", "0", "d0", "x", "d", "1.5", "-2", "1234567890"])
def test_bad_refs(ref):
    with pytest.raises(ValueError, match="d7"):
        parse_ref(ref)


def test_value_text():
    assert value_text(None) == "–"
    assert value_text({"a": "1", "b": None}) == "a=1; b=–"
    assert value_text([{"id": "nik", "type": "string", "constraints": ["required"]}]) == "nik (string, required)"
    assert value_text("two\n  lines") == "two lines"


# --- through the engine ------------------------------------------------------------------------
@pytest.fixture
def two_versions(engine):
    for name in ("base.bpmn", "rename.bpmn"):
        engine.deploy((DIFF / name).read_bytes(), name, author="test")
    return engine


def test_diff_versions(two_versions):
    result = two_versions.diff_versions("diff_demo", 1, "2")
    assert result.changed == {"terima": {"name": ["Terima berkas", "Terima dan registrasi berkas"]}}


def test_diff_versions_missing_version(two_versions):
    with pytest.raises(NotFound, match="no version 3"):
        two_versions.diff_versions("diff_demo", 1, 3)


def test_diff_versions_bad_ref(two_versions):
    with pytest.raises(NotFound, match="d7"):
        two_versions.diff_versions("diff_demo", 1, "zz")


def test_diff_versions_missing_draft(two_versions):
    with pytest.raises(NotFound):
        two_versions.diff_versions("diff_demo", 1, "d999")


def test_diff_against_a_draft(two_versions):
    if not hasattr(two_versions, "create_draft"):
        pytest.skip("drafts are not in this build yet")
    draft_id = two_versions.create_draft((DIFF / "budget.bpmn").read_bytes(), "budget.bpmn", author="analis")
    result = two_versions.diff_versions("diff_demo", 1, f"d{draft_id}")
    assert result.changed == {"periksa": {"budget": ["PT2H", "PT1H"]}}


def test_a_draft_of_another_sop_is_not_found(two_versions):
    if not hasattr(two_versions, "create_draft"):
        pytest.skip("drafts are not in this build yet")
    other = (ROOT / "tests/fixtures/bpmn/linear3.bpmn").read_bytes()
    draft_id = two_versions.create_draft(other, "linear3.bpmn", author="analis")
    with pytest.raises(NotFound, match="not a draft of SOP 'diff_demo'"):
        two_versions.diff_versions("diff_demo", 1, f"d{draft_id}")
