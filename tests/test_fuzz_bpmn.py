"""Fuzzing the importer: mutated SOPs from processes/ are deployed or refused cleanly, never a crash.

Hypothesis mutates the real SOP library (drop, duplicate and rename elements, drop and change
attributes, point references elsewhere, insert garbage, truncate bytes). `engine.deploy` must answer
with a version or a BpmnValidationError whose problems name the file; `engine.inspect` must never
raise. CI runs a fixed, derandomized set of examples (profile "ci"); set HYPOTHESIS_PROFILE=dev for
fresh random ones on your machine.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings, strategies as st
from lxml import etree

from workflow_engine import BpmnValidationError, Database, Engine, FixedClock, Settings
from workflow_engine.engine_versions import DeployResult
from workflow_engine.sop_lint import Inspection

from conftest import MONDAY_MORNING, PROCESSES

SOPS = sorted(PROCESSES.glob("*/v*.bpmn"))
_COMMON = dict(max_examples=200, deadline=2000, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture])
settings.register_profile("ci", derandomize=True, **_COMMON)
settings.register_profile("dev", **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI") or os.environ.get("ALUR_REQUIRE_POSTGRES") == "1" else "dev")
FUZZ = settings(settings.get_profile(PROFILE if PROFILE in ("ci", "dev") else "ci"))

NAMES = ["userTask", "task", "startEvent", "endEvent", "exclusiveGateway", "parallelGateway", "subProcess",
         "callActivity", "boundaryEvent", "sequenceFlow", "lane", "process", "scriptTask", "timerEventDefinition",
         "complexGateway", "bogus", "documentation", "extensionElements"]
ATTRIBUTES = ["id", "sourceRef", "targetRef", "attachedToRef", "default", "calledElement", "name",
              "isExecutable", "processRef", "cancelActivity", "value"]
GARBAGE = ["", "<", "&", "&amp;", "]]>", "<!--", "\x00", "\ufffd", "${x}", "R/P0D", '"PT0S"', "()", "x" * 300,
           "<!DOCTYPE x>", "<?pi?>", "é", "\u202e", "-1", "99999999999999999999"]
# What lxml lets us put in an attribute or text (no control characters); raw bytes come in after.
XML_SAFE = st.sampled_from([g for g in GARBAGE if g not in ("\x00",)]) | \
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "alur.sqlite"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    engine = Engine(db, FixedClock(MONDAY_MORNING), Settings(database_url=f"sqlite:///{path}"))
    yield engine
    db.dispose()


@st.composite
def mutated_sop(draw) -> tuple[str, bytes]:
    path = draw(st.sampled_from(SOPS))
    root = etree.fromstring(path.read_bytes())
    elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
    ids = [e.get("id") for e in elements if e.get("id")]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["drop", "duplicate", "rename", "drop_attr", "set_attr", "flip_ref", "text"]))
        element = draw(st.sampled_from(elements))
        parent = element.getparent()
        if kind == "drop" and parent is not None:
            parent.remove(element)
            elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
        elif kind == "duplicate" and parent is not None:
            parent.insert(parent.index(element) + 1, etree.fromstring(etree.tostring(element)))
        elif kind == "rename":
            namespace = etree.QName(element).namespace
            element.tag = etree.QName(namespace, draw(st.sampled_from(NAMES))).text if namespace else \
                draw(st.sampled_from(NAMES))
        elif kind == "drop_attr" and element.attrib:
            del element.attrib[draw(st.sampled_from(sorted(element.attrib)))]
        elif kind == "set_attr":
            element.set(draw(st.sampled_from(ATTRIBUTES)), draw(XML_SAFE))
        elif kind == "flip_ref" and ids:
            element.set(draw(st.sampled_from(["sourceRef", "targetRef", "attachedToRef", "default",
                                              "calledElement"])), draw(st.sampled_from(ids)))
        elif kind == "text":
            element.text = draw(XML_SAFE)
        if not elements:
            break
    content = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(content)))
        if draw(st.booleans()):
            content = content[:at]
        else:
            content = content[:at] + draw(st.sampled_from(GARBAGE).map(str.encode) | st.binary(max_size=8)) \
                + content[at:]
    return path.name, content


def test_unmutated_library_deploys(office):
    for path in SOPS:
        assert isinstance(office.deploy(path.read_bytes(), path.name), DeployResult)


@pytest.mark.slow
@FUZZ
@given(mutated_sop())
def test_importer_answers_deployed_or_a_located_refusal(office, sample):
    name, content = sample
    try:
        result = office.deploy(content, name, author="fuzz")
    except BpmnValidationError as exc:
        assert exc.problems
        first = exc.problems[0].message
        event("refused: " + ("XML" if "well-formed" in first or "empty" in first else
                             "schema" if "schema" in first else "checks"))
        for problem in exc.problems:
            assert problem.file == name and problem.message.strip()
            assert "unexpected" not in problem.message, problem  # the loader's last net caught a crash
    else:
        assert isinstance(result, DeployResult) and result.version >= 1
        event("deployed")


@pytest.mark.slow
@FUZZ
@given(mutated_sop())
def test_inspect_never_raises(office, sample):
    name, content = sample
    inspection = office.inspect(content, name)
    assert isinstance(inspection, Inspection)
    assert inspection.executable == (not inspection.errors)
    for problem in inspection.errors:
        assert problem.message.strip() and problem.code != "internal", problem
    inspection.to_dict()
