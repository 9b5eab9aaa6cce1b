"""Inspect a BPMN file: what stops it from running (errors) and what could be simpler (warnings)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .bpmn_checks import FLOW_NODES, Checker
from .bpmn_loader import MAX_BYTES, load_bpmn, parse_bpmn
from .bpmn_xml import is_bpmn, line_of, xpath
from .errors import BpmnValidationError, Problem
from .sop_info import read_sop_info
from .sop_simplify import simplification_warnings


@dataclass(frozen=True)
class Inspection:
    """The outcome of inspecting one BPMN file; `executable` means deploy would accept it."""

    key: str | None
    name: str | None
    executable: bool
    errors: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    # False when the bytes are not safe, readable BPMN with a process: such a file is never stored.
    readable: bool = field(default=True, compare=False)

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "executable": self.executable,
                "errors": [p.to_dict() for p in self.errors], "warnings": [p.to_dict() for p in self.warnings]}

    @property
    def problems(self) -> list:
        return list(self.errors) + list(self.warnings)


def read_tree(content: bytes, filename: str, max_bytes: int = MAX_BYTES):
    """Parse bytes the way the loader does and require a bpmn:process; raise BpmnValidationError otherwise."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    try:
        root = parse_bpmn(content, filename, max_bytes)
    except BpmnValidationError as exc:
        raise BpmnValidationError([replace(p, code="unreadable") for p in exc.problems]) from exc
    if not xpath(root, "./bpmn:process"):
        raise BpmnValidationError([Problem(
            "the file has no bpmn:process, so there is no model to open (a choreography or a bare diagram "
            "cannot be edited here)", filename, root.get("id"), line_of(root), code="unreadable")])
    return root


def inspect_bpmn(content: bytes, filename: str, *, max_bytes: int = MAX_BYTES,
                 scripts_enabled: bool = False) -> Inspection:
    """Inspect a BPMN file; never raises for a bad file (an unreadable one has readable=False)."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    content = bytes(content)
    try:
        root = read_tree(content, filename, max_bytes)
    except BpmnValidationError as exc:
        return Inspection(None, None, False, list(exc.problems), [], readable=False)
    try:
        return _inspect(content, root, filename, max_bytes, scripts_enabled)
    except Exception as exc:  # a last net: an odd file must give a message, not a traceback
        problem = Problem(f"the file could not be checked because of an unexpected {type(exc).__name__}; "
                          "please report it together with the file", filename, code="internal")
        candidate = main_process(root)
        return Inspection(candidate.get("id"), candidate.get("name") or candidate.get("id"), False, [problem], [])


def main_process(root):
    """The process that is the SOP: the executable one no call activity calls, else the largest one."""
    processes = xpath(root, "./bpmn:process")
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    if executable:
        called = {(c.get("calledElement") or "").strip() for p in executable for c in xpath(p, ".//bpmn:callActivity")}
        entries = [p for p in executable if p.get("id") not in called]
        return (entries or executable)[0]
    return max(processes, key=lambda p: sum(1 for c in p if is_bpmn(c, *FLOW_NODES)))


def _inspect(content: bytes, root, filename: str, max_bytes: int, scripts_enabled: bool) -> Inspection:
    process = main_process(root)
    descriptive = process.get("isExecutable", "true") != "true"
    problems: list[Problem] = []
    if descriptive:
        problems.append(Problem(
            f"process \"{_label(process)}\" is a descriptive model (isExecutable=\"false\"); it cannot run as an "
            "SOP until it is marked executable (the 'Executable' box of the process)", filename,
            process.get("id"), line_of(process), code="not-executable"))
        # What else blocks it: check the file as if the process were executable.
        content = _as_executable(content, process)
    key, name = process.get("id") or None, None
    try:
        loaded = load_bpmn(content, filename, max_bytes=max_bytes, scripts_enabled=scripts_enabled)
        problems += loaded.warnings
        key, name = loaded.key, loaded.name
    except BpmnValidationError as exc:
        problems += exc.problems
    # The loader stops at the first stage that fails; run its later checks too so all show at once.
    info, more = _direct_checks(content, filename, max_bytes, scripts_enabled)
    problems += more
    if info is not None:
        name = name or info.name
    problems = _unique([_classify(p, info) for p in problems])
    if descriptive:
        problems = [p for p in problems if not p.message.startswith("no executable process")]
    if info is not None:
        problems += simplification_warnings(root, process, info, filename)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    errors.sort(key=lambda p: (p.code != "not-executable", p.line or 0))
    warnings.sort(key=lambda p: (p.line or 0))
    return Inspection(key, name or key, not errors, errors, warnings)


def _direct_checks(content: bytes, filename: str, max_bytes: int, scripts_enabled: bool):
    """The loader's own checks on the main process, whatever stage the loader stopped at."""
    try:
        root = read_tree(content, filename, max_bytes)
        process = main_process(root)
        checker = Checker(root, filename)
        checker.check_references()
        checker.check_document()
        by_id = {p.get("id"): p for p in xpath(root, "./bpmn:process") if p.get("id")}
        checker.check_process(process, by_id, scripts_enabled)
        info = read_sop_info(process, root, filename)
        return info, checker.problems + list(info.problems)
    except Exception:  # the loader has already said what is wrong with such a file
        return None, []


_EXECUTABLE_FALSE = re.compile(rb"""isExecutable\s*=\s*["']false["']""")


def _as_executable(content: bytes, process) -> bytes:
    """The same bytes with the process's isExecutable set to true; lines stay where they were."""
    process_id = process.get("id")
    if not process_id:
        return content
    start = re.compile(rb"<(?:[\w.-]+:)?process\b[^>]*?\bid\s*=\s*[\"']" + re.escape(process_id.encode())
                       + rb"[\"'][^>]*>")
    match = start.search(content)
    if match is None:
        return content
    tag = _EXECUTABLE_FALSE.sub(b'isExecutable="true" ', match.group(0), count=1)
    return content[:match.start()] + tag + content[match.end():]


# (pattern in the message, code): names the rule behind each problem the loader reports.
_CODES = [
    (r"^no executable process|marked isExecutable=\"false\"", "not-executable"),
    (r"points to .* but no element has that id|has no (source|target) \(|cannot cross that border"
     r"|is not one of its outgoing", "dangling-flow"),
    (r"without a condition", "no-condition"),
    (r"is outside any lane", "outside-lane"),
    (r"^(mutu\.waktu|sla\.batasWaktu)\b", "invalid-duration"),
    (r"not supported|disabled|no implementation|need a DMN|needs a camunda:decisionRef|cannot run",
     "unsupported"),
    (r"does not follow the BPMN 2\.0 schema|more schema errors", "schema"),
    (r"outgoing sequence flows; SpiffWorkflow cannot split|several outgoing sequence flows", "split-without-gateway"),
    (r"not a valid Python expression|condition on sequence flow .* is ignored", "bad-condition"),
    (r"^timer |timer .* has no time", "bad-timer"),
    (r"^call activity|called process", "bad-call"),
    (r"has no time budget", "no-budget"),
    (r"has no documentation", "no-instructions"),
]


def _classify(problem: Problem, info) -> Problem:
    """Give a loader problem its rule code; the two step warnings get a message naming the step."""
    if problem.code:
        return problem
    code = next((c for pattern, c in _CODES if re.search(pattern, problem.message)), None)
    if code is None:
        return replace(problem, code="invalid" if problem.severity == "error" else None)
    step = info.steps.get(problem.element_id) if info is not None else None
    label = step.name if step is not None else problem.element_id
    if code == "no-budget":
        return replace(problem, code=code, message=f"step \"{label}\" has no time budget: add mutu.waktu "
                                                   "(e.g. PT2H) so its time can be watched")
    if code == "no-instructions":
        return replace(problem, code=code, message=f"step \"{label}\" has no instructions: write what staff "
                                                   "must do in its documentation")
    return replace(problem, code=code)


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, kept = set(), []
    for p in problems:
        mark = (p.message, p.element_id, p.line, p.severity)
        if mark not in seen:
            seen.add(mark)
            kept.append(p)
    return kept


def _label(element) -> str:
    return " ".join((element.get("name") or "").split()) or element.get("id") or "?"
