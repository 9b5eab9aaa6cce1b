"""Every MIWG reference model imports as a draft with its blockers listed, or is refused clearly."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from workflow_engine import BpmnValidationError
from workflow_engine.models import ProcessDraft

ROOT = Path(__file__).resolve().parent.parent
from corpus import MIWG as CORPUS  # noqa: E402
REQUIRE = os.environ.get("ALUR_REQUIRE_CORPUS") == "1"
FILES = sorted(CORPUS.glob("*.bpmn")) if CORPUS.is_dir() else []


def _corpus_or_skip() -> None:
    if FILES:
        return
    reason = f"the MIWG reference corpus is not at {CORPUS} (set ALUR_MIWG_DIR)"
    if REQUIRE:
        pytest.fail(f"ALUR_REQUIRE_CORPUS=1 but {reason}")
    pytest.skip(reason)


def test_the_corpus_is_there():
    _corpus_or_skip()
    assert len(FILES) >= 20


@pytest.mark.parametrize("name", [p.name for p in FILES] or ["(none)"])
def test_reference_model_imports_as_a_draft_or_is_refused_clearly(engine, name):
    _corpus_or_skip()
    path = CORPUS / name
    try:
        draft_id = engine.create_draft(path.read_bytes(), name, author="analis")
    except BpmnValidationError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file == name and problem.message and problem.line, str(problem)
            assert problem.element_id, f"{problem} names no element"
        with engine.db.read() as s:
            assert s.scalar(select(func.count()).select_from(ProcessDraft)) == 0
        return
    draft = engine.draft(draft_id)
    assert draft["key"] and draft["name"] and draft["xml"] == path.read_text(encoding="utf-8")
    for problem in draft["errors"] + draft["warnings"]:
        assert problem["file"] == name and problem["message"] and problem["code"]
        assert "Traceback" not in problem["message"]
        if problem["element_id"]:
            assert problem["line"], f"{problem} names an element but no line"
    if not draft["executable"]:
        assert draft["errors"], "a model that cannot run must say what blocks it"
    listed = {d["id"] for entry in engine.catalogue() for d in entry["drafts"]}
    assert draft_id in listed
