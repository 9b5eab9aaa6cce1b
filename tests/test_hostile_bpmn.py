"""Hostile BPMN files: each refused by deploy and by the workbench, quickly, located, with nothing read or stored.

The corpus is tests/fixtures/hostile/ (its README lists every attack). A sentinel file with unique
content stands for a secret on the server: it must never appear in an answer or the database. An
HTTP server on 127.0.0.1 stands for the network: it counts requests, which must stay at zero.
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import func, select

from workflow_engine import BpmnValidationError
from workflow_engine.models import Base, ProcessDraft, ProcessVersion

HOSTILE = Path(__file__).resolve().parent / "fixtures" / "hostile"
LIMIT_SECONDS = 1.0
U, I, G = "unsafe", "invalid", "ignored"

# file -> (kind, words the first located problem must contain); kinds are explained in the README.
EXPECTED = {
    "malformed_unclosed_tag.bpmn": (U, "not well-formed"),
    "malformed_mismatched_tags.bpmn": (U, "not well-formed"),
    "malformed_truncated.bpmn": (U, "not well-formed"),
    "malformed_zip_archive.bpmn": (U, "not well-formed"),
    "malformed_empty.bpmn": (U, "empty"),
    "malformed_two_roots.bpmn": (U, "not well-formed"),
    "malformed_nul_bytes.bpmn": (U, "not well-formed"),
    "malformed_bare_ampersand.bpmn": (U, "not well-formed"),
    "malformed_invalid_utf8.bpmn": (U, "not well-formed"),
    "malformed_undeclared_prefix.bpmn": (U, "not well-formed"),
    "malformed_html_page.bpmn": (U, "DOCTYPE"),
    "xxe_external_file_entity.bpmn": (U, "DOCTYPE"),
    "xxe_external_http_entity.bpmn": (U, "DOCTYPE"),
    "xxe_entity_in_attribute.bpmn": (U, "DOCTYPE"),
    "xxe_parameter_entity_file.bpmn": (U, "DOCTYPE"),
    "xxe_parameter_entity_http_dtd.bpmn": (U, "DOCTYPE"),
    "xxe_external_dtd_http.bpmn": (U, "DOCTYPE"),
    "xxe_external_dtd_file.bpmn": (U, "DOCTYPE"),
    "xxe_public_dtd.bpmn": (U, "DOCTYPE"),
    "xxe_utf16_encoded.bpmn": (U, "DOCTYPE"),
    "xxe_internal_entity.bpmn": (U, "DOCTYPE"),
    "xinclude_file.bpmn": (U, "XInclude"),
    "xinclude_http.bpmn": (U, "XInclude"),
    "xinclude_2003_namespace.bpmn": (U, "XInclude"),
    "billion_laughs.bpmn": (U, "DOCTYPE"),
    "billion_laughs_parameter_entities.bpmn": (U, "DOCTYPE"),
    "quadratic_blowup.bpmn": (U, "DOCTYPE"),
    "long_id_300_chars.bpmn": (I, "at most 200"),
    "long_name_600_chars.bpmn": (I, "at most 500"),
    "namespace_bpmn_2_0_draft.bpmn": (U, "namespace"),
    "namespace_missing.bpmn": (U, "namespace"),
    "namespace_process_elsewhere.bpmn": (U, "process"),
    "root_svg_image.bpmn": (U, "not a BPMN 2.0 file"),
    "dangling_flow_target.bpmn": (I, "no element has that id"),
    "dangling_flow_source.bpmn": (I, "no element has that id"),
    "dangling_boundary_attachment.bpmn": (I, "not an activity"),
    "dangling_default_flow.bpmn": (I, "default flow"),
    "dangling_call_activity.bpmn": (I, "not in this file"),
    "dangling_error_ref.bpmn": (I, "not defined in this file"),
    "dangling_lane_node_ref.bpmn": (I, "no element has that id"),
    "duplicate_task_ids.bpmn": (I, "used twice"),
    "duplicate_process_ids.bpmn": (I, "used twice"),
    "duplicate_flow_ids.bpmn": (I, "used twice"),
    "unsupported_complex_gateway.bpmn": (I, "not supported"),
    "unsupported_compensation_event.bpmn": (I, "not supported"),
    "unsupported_ad_hoc_subprocess.bpmn": (I, "not supported"),
    "unsupported_transaction.bpmn": (I, "not supported"),
    "unsupported_business_rule_task.bpmn": (I, "DMN"),
    "unsupported_data_store.bpmn": (I, "not supported"),
    "unknown_element.bpmn": (I, "schema"),
    "script_syntax_error.bpmn": (I, "not valid Python"),
    "script_task_scripts_disabled.bpmn": (I, "script tasks are disabled"),
    "condition_statement.bpmn": (I, "not a valid Python expression"),
    "condition_feel.bpmn": (I, "not a valid Python expression"),
    "condition_syntax_error.bpmn": (I, "not a valid Python expression"),
    "timer_cycle_R_P0D.bpmn": (I, "without end"),
    "timer_cycle_R_minus_1.bpmn": (I, "positive whole number"),
    "timer_cycle_huge_count.bpmn": (I, "at most 1,000 times"),
    "timer_cycle_PT0S.bpmn": (I, "without pause"),
    "timer_cycle_no_count.bpmn": (I, "without end"),
    "timer_cycle_huge_interval.bpmn": (I, "more than 10 years"),
    "timer_duration_unquoted.bpmn": (I, "must be quoted"),
    "timer_duration_10000_years.bpmn": (I, "more than 10 years"),
    "timer_date_garbage.bpmn": (I, "not an ISO 8601 date"),
    "ignored_schema_location_http.bpmn": (G, ""),
    "ignored_no_namespace_schema_location.bpmn": (G, ""),
    "ignored_stylesheet_instruction.bpmn": (G, ""),
}
REFUSED = sorted(name for name, (kind, _) in EXPECTED.items() if kind != G)
IGNORED = sorted(name for name, (kind, _) in EXPECTED.items() if kind == G)
# Whole-file problems have no line to point at.
UNLOCATED = {"malformed_empty.bpmn"}
SCRIPTS_ON = {"script_syntax_error.bpmn"}


# --- the sentinel secret and the counting network ----------------------------------------------------
class _Counter(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        type(self).requests.append(self.path)
        body = b'<!ENTITY % send "<!ENTITY leak SYSTEM \'http://127.0.0.1/leak\'>">'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def network():
    """An HTTP server on 127.0.0.1 that records every request made to it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Counter.requests
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory):
    """A file standing for a server secret; its content must never appear anywhere."""
    secret = f"SENTINEL-{uuid.uuid4().hex}"
    path = tmp_path_factory.mktemp("secret") / "sentinel.txt"
    path.write_text(secret)
    return path, secret


def materialize(name: str, sentinel_path: Path, base_url: str) -> bytes:
    raw = (HOSTILE / name).read_bytes()
    if name == "xxe_utf16_encoded.bpmn":
        text = raw.decode("utf-16")
        return text.replace("@@SENTINEL_PATH@@", str(sentinel_path)).replace("@@HTTP@@", base_url).encode("utf-16")
    return raw.replace(b"@@SENTINEL_PATH@@", str(sentinel_path).encode()).replace(b"@@HTTP@@", base_url.encode())


def everything_stored(engine) -> str:
    """Every row of every table as text: where a leaked secret would end up."""
    with engine.db.read() as s:
        return "\n".join(str(row) for table in Base.metadata.sorted_tables for row in s.execute(select(table)))


def count(engine, model) -> int:
    with engine.db.read() as s:
        return s.scalar(select(func.count()).select_from(model))


def timed(action):
    began = time.monotonic()
    try:
        return action(), time.monotonic() - began
    except BpmnValidationError as exc:
        return exc, time.monotonic() - began


def assert_located(problems, name: str, words: str) -> None:
    assert problems, "a refusal must say why"
    for problem in problems:
        assert problem.file == name and problem.message
        for raw in ("Traceback", "XMLSyntaxError", "KeyError", "TypeError"):
            assert raw not in problem.message, problem
    first = problems[0]
    assert any(words.lower() in p.message.lower() for p in problems), [str(p) for p in problems]
    if name not in UNLOCATED:
        assert first.line or first.element_id, f"{first} names neither a line nor an element"


# --- the corpus ------------------------------------------------------------------------------------------
def test_corpus_is_complete_and_small():
    files = sorted(p.name for p in HOSTILE.glob("*.bpmn"))
    assert files == sorted(EXPECTED), "every hostile file needs an expectation here and a README row"
    assert len(REFUSED) >= 40
    readme = (HOSTILE / "README.md").read_text()
    for name, (kind, _) in EXPECTED.items():
        assert re.search(rf"\| `{re.escape(name)}` \| [^|]+ \| {kind} \|", readme), f"README row for {name}"
        assert (HOSTILE / name).stat().st_size < 64_000, f"{name} is not small"


@pytest.fixture
def office(engine):
    """The engine the analyst uploads to; scripts switched per file."""
    return engine


@pytest.mark.parametrize("name", REFUSED)
def test_hostile_file_is_refused_by_deploy_and_workbench(office, name, sentinel, network):
    kind, words = EXPECTED[name]
    base_url, requests = network
    sentinel_path, secret = sentinel
    before = len(requests)
    office.settings = replace(office.settings, scripts_enabled=name in SCRIPTS_ON)
    content = materialize(name, sentinel_path, base_url)

    # The deploy path.
    refused, seconds = timed(lambda: office.deploy(content, name, author="analis"))
    assert isinstance(refused, BpmnValidationError), f"{name} was deployed"
    assert seconds < LIMIT_SECONDS, f"deploy took {seconds:.2f} s"
    assert_located(refused.problems, name, words)

    # The workbench: inspect never raises, and says the same.
    inspection, seconds = timed(lambda: office.inspect(content, name))
    assert seconds < LIMIT_SECONDS, f"inspect took {seconds:.2f} s"
    assert not inspection.executable and inspection.errors
    assert inspection.readable is (kind == I)
    assert_located(inspection.errors, name, words)

    # Storing it as a draft: unsafe files never; invalid ones as a draft that cannot be published.
    stored, seconds = timed(lambda: office.create_draft(content, name, author="analis"))
    assert seconds < LIMIT_SECONDS, f"create_draft took {seconds:.2f} s"
    if kind == U:
        assert isinstance(stored, BpmnValidationError)
        assert_located(stored.problems, name, words)
        assert count(office, ProcessDraft) == 0
    else:
        draft = office.draft(stored)
        assert draft["executable"] is False and draft["errors"]
        with pytest.raises(BpmnValidationError):
            office.publish_draft(stored, note="coba", author="analis")
    assert count(office, ProcessVersion) == 0

    answers = f"{refused} {inspection.to_dict()} {stored!s}"
    assert secret not in answers and secret not in everything_stored(office)
    assert requests[before:] == [], f"{name} made network requests: {requests[before:]}"


@pytest.mark.parametrize("name", IGNORED)
def test_schema_locations_and_stylesheets_are_never_fetched(office, name, sentinel, network):
    base_url, requests = network
    before = len(requests)
    content = materialize(name, sentinel[0], base_url)
    assert office.inspect(content, name).executable
    assert office.deploy(content, name, author="analis").created
    assert requests[before:] == []


# --- attacks too big to commit -----------------------------------------------------------------------------
def _wrap(inner: str) -> bytes:
    head = (HOSTILE / "dangling_flow_target.bpmn").read_text().replace('targetRef="tidak_ada"', 'targetRef="end"')
    return head.replace("Periksa berkas.</bpmn:documentation>", "Periksa berkas.</bpmn:documentation>" + inner).encode()


GENERATED = {
    "deep_nesting_10000": (lambda: _wrap("<bpmn:extensionElements>" + "<a>" * 10_000 + "</a>" * 10_000
                                         + "</bpmn:extensionElements>"), U, "not well-formed"),
    "huge_attribute_3mb": (lambda: _wrap("").replace(b'name="Periksa berkas"', b'name="' + b"N" * 3_000_000 + b'"'),
                           I, "at most 500"),
    "huge_element_name_1mb": (lambda: _wrap("<bpmn:extensionElements><" + "x" * 1_000_000 + "/>"
                                            "</bpmn:extensionElements>"), U, "not well-formed"),
    "fifty_mb_upload": (lambda: _wrap("<bpmn:extensionElements><a>" + "x" * 50_000_000 + "</a>"
                                      "</bpmn:extensionElements>"), U, "limit"),
}


def test_generated_control_file_loads(office):
    assert office.deploy(_wrap(""), "control.bpmn").created


@pytest.mark.parametrize("case", sorted(GENERATED))
def test_generated_attack_is_refused_quickly(office, case):
    build, kind, words = GENERATED[case]
    content = build()
    name = f"{case}.bpmn"
    refused, seconds = timed(lambda: office.deploy(content, name))
    assert isinstance(refused, BpmnValidationError) and seconds < LIMIT_SECONDS, seconds
    assert any(words in p.message for p in refused.problems), refused
    inspection, seconds = timed(lambda: office.inspect(content, name))
    assert seconds < LIMIT_SECONDS and not inspection.executable
    assert inspection.readable is (kind == I)
    stored, seconds = timed(lambda: office.create_draft(content, name, author="analis"))
    assert seconds < LIMIT_SECONDS
    assert isinstance(stored, BpmnValidationError) if kind == U else office.draft(stored)["executable"] is False
    assert count(office, ProcessVersion) == 0


def test_large_harmless_text_within_the_limit_loads_in_time(office):
    content = _wrap('<bpmn:extensionElements><c:a xmlns:c="urn:alur:test">' + "x" * 4_000_000
                    + "</c:a></bpmn:extensionElements>")
    loaded, seconds = timed(lambda: office.deploy(content, "big.bpmn"))
    assert loaded.created and seconds < LIMIT_SECONDS * 2, f"{seconds:.2f} s"


def test_fifty_megabyte_upload_is_refused_by_the_web_before_reading_it(web):
    from conftest import csrf_of, sign_in
    import io

    client = sign_in(web, "analis")
    token = csrf_of(client.get("/sop").get_data(as_text=True))
    began = time.monotonic()
    response = client.post("/sop/upload", data={"csrf_token": token,
                                                "file": (io.BytesIO(GENERATED["fifty_mb_upload"][0]()), "besar.bpmn")},
                           content_type="multipart/form-data")
    assert response.status_code == 413 and time.monotonic() - began < 5
    engine = web.extensions["alur"]
    assert count(engine, ProcessDraft) == 0
