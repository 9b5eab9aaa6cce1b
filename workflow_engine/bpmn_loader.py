"""Load an uploaded BPMN file safely into a SpiffWorkflow spec plus its SOP facts, or refuse it clearly."""
from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

from .bpmn_checks import Checker
from .bpmn_xml import BPMN_NS, bpmn, line_of, xpath
from .errors import BpmnValidationError, Problem
from .sop_info import SopInfo, read_sop_info
from .spiff_errors import spiff_problem

MAX_BYTES = 5_000_000
_MAX_XSD_PROBLEMS = 20
_xsd_lock = threading.Lock()  # the XSD validator keeps its error log on the shared schema object


@dataclass(frozen=True)
class LoadedProcess:
    """A BPMN file that passed every check: the executable spec and the SOP facts of its entry process."""

    key: str
    name: str
    xml: bytes
    content_hash: str
    spec: Any = field(compare=False, hash=False, repr=False)
    subprocess_specs: dict = field(compare=False, hash=False, repr=False)
    info: SopInfo = field(compare=False, hash=False)
    warnings: tuple[Problem, ...] = ()


def load_bpmn(content: bytes, filename: str, *, max_bytes: int = MAX_BYTES,
              scripts_enabled: bool = False) -> LoadedProcess:
    """Check and parse one BPMN file; raise BpmnValidationError (never anything else) when it is refused."""
    if isinstance(content, str):
        content = content.encode("utf-8")
    try:
        return _load(bytes(content), filename, max_bytes, scripts_enabled)
    except BpmnValidationError:
        raise
    except Exception as exc:  # a last net: a person must never see a raw traceback for an upload
        raise BpmnValidationError([Problem(
            f"the file could not be read because of an unexpected {type(exc).__name__} in the engine; "
            "please report it together with the file", filename)]) from exc


def read_bpmn_file(path, **kw) -> LoadedProcess:
    """Load a BPMN file from disk; messages name the file by its name only."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise BpmnValidationError([Problem(f"the file cannot be read: {exc.strerror or exc}", path.name)]) from exc
    return load_bpmn(content, path.name, **kw)


def _fail(problems: list[Problem]) -> None:
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BpmnValidationError(errors)


def parse_bpmn(content: bytes | str, filename: str, max_bytes: int = MAX_BYTES):
    """The root of a BPMN document read with the hardened parser; BpmnValidationError when it is not one.

    Every reader of uploaded or stored BPMN goes through here: size limit, no DTD, entities or
    network, and a bpmn:definitions root.
    """
    if isinstance(content, str):
        content = content.encode("utf-8")
    if len(content) > max_bytes:
        _fail([Problem(f"the file is {len(content):,} bytes; the limit is {max_bytes:,} bytes", filename)])
    if not content.strip():
        _fail([Problem("the file is empty", filename)])
    root = _parse_xml(content, filename)
    _check_root(root, filename)
    return root


def _load(content: bytes, filename: str, max_bytes: int, scripts_enabled: bool) -> LoadedProcess:
    root = parse_bpmn(content, filename, max_bytes)

    checker = Checker(root, filename)
    checker.check_references()
    _fail(checker.problems)
    _validate_xsd(root.getroottree(), filename)

    checker.check_document()
    processes = xpath(root, "./bpmn:process")
    by_id = {p.get("id"): p for p in processes if p.get("id")}
    executable = [p for p in processes if p.get("isExecutable", "true") == "true"]
    for process in executable:
        checker.check_process(process, by_id, scripts_enabled)
    entry, entry_problems = _entry_process(executable, filename)
    problems = checker.problems + entry_problems
    info = read_sop_info(entry, root, filename) if entry is not None else None
    if info is not None:
        problems += list(info.problems)
    _fail(problems)

    spec, subprocess_specs = _spiff_parse(root, entry.get("id"), filename)
    warnings = tuple(p for p in problems if p.severity != "error")
    return LoadedProcess(key=info.key, name=info.name, xml=content,
                         content_hash=hashlib.sha256(content).hexdigest(), spec=spec,
                         subprocess_specs=subprocess_specs, info=info, warnings=warnings)


def _parse_xml(content: bytes, filename: str):
    """Parse with entities, DTDs and network access off; refuse any DOCTYPE (XXE, billion laughs)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=False)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        # libxml2 still reads an internal DTD subset and may stop on it (e.g. entity amplification).
        if _DOCTYPE.search(content):
            _fail([Problem(_DOCTYPE_MESSAGE, filename, None, exc.lineno or None)])
        _fail([Problem(f"the file is not well-formed XML: {exc.msg or exc}", filename, None, exc.lineno or None)])
    if root is None:
        _fail([Problem("the file contains no XML element", filename)])
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        _fail([Problem(_DOCTYPE_MESSAGE, filename, None, 1)])
    # Nothing here expands XInclude, but a file asking for it is an attack, not a model: say so.
    include = next(root.iter(*(f"{{{ns}}}*" for ns in _XINCLUDE)), None)
    if include is not None:
        href = (include.get("href") or "no href")[:100]
        _fail([Problem(f"the file has an XInclude element ({href!r}); BPMN files must not include other files, "
                       "so remove it", filename, None, include.sourceline)])
    return root


_XINCLUDE = ("http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude")


_DOCTYPE = re.compile(rb"<!DOCTYPE|<!ENTITY")
_DOCTYPE_MESSAGE = ("the file has a DOCTYPE declaration; BPMN files must not have one (it can define entities "
                    "that read local files or exhaust memory), so remove it")


def _check_root(root, filename: str) -> None:
    if root.tag == bpmn("definitions"):
        return
    qname = etree.QName(root) if isinstance(root.tag, str) else None
    if qname is not None and qname.localname == "definitions":
        namespace = qname.namespace or "no namespace"
        message = (f"the root element 'definitions' is in namespace {namespace!r}; a BPMN 2.0 file must use "
                   f"{BPMN_NS!r} (export the model as BPMN 2.0 XML)")
    else:
        message = (f"this is not a BPMN 2.0 file: the root element is {root.tag!r}, "
                   "expected bpmn:definitions")
    _fail([Problem(message, filename, root.get("id") if isinstance(root.tag, str) else None, line_of(root))])


@lru_cache(maxsize=1)
def _validator():
    from SpiffWorkflow.bpmn.parser import BpmnValidator

    return BpmnValidator()


def _validate_xsd(tree, filename: str) -> None:
    """Check the file against the BPMN 2.0 schema bundled with SpiffWorkflow."""
    from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

    validator = _validator()
    with _xsd_lock:
        try:
            validator.validate(tree, filename)
            return
        except ValidationException as exc:
            entries = [(e.message, e.line) for e in validator.validator.error_log] or \
                      [(str(exc), exc.line_number or None)]
    root = tree.getroot()
    problems = []
    for message, line in entries[:_MAX_XSD_PROBLEMS]:
        element = _element_on_line(root, line)
        problems.append(Problem(f"does not follow the BPMN 2.0 schema: {_readable_xsd(message)}", filename,
                                element.get("id") if element is not None else None, line or None))
    if len(entries) > _MAX_XSD_PROBLEMS:
        problems.append(Problem(f"... and {len(entries) - _MAX_XSD_PROBLEMS} more schema errors", filename))
    _fail(problems)


_CLARK = re.compile(r"\{([^}]*)\}(\w+)")
_PREFIXES = {BPMN_NS: "bpmn", "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
             "http://www.omg.org/spec/DD/20100524/DC": "dc", "http://www.omg.org/spec/DD/20100524/DI": "di"}


def _readable_xsd(message: str) -> str:
    """Shorten namespace URIs to prefixes and explain the usual 'not expected' error."""
    text = _CLARK.sub(lambda m: f"{_PREFIXES.get(m.group(1), m.group(1))}:{m.group(2)}", message).strip()
    text = text.rstrip(". ").replace("..", ".")
    if "This element is not expected" in text:
        text = re.sub(r"Expected is one of \((.*)\)", lambda m: "allowed here: " + _shorten_list(m.group(1)), text)
        text += " (check the spelling, and that child elements are in BPMN's order: documentation first, " \
                "then extensionElements, then incoming/outgoing)"
    return text


def _shorten_list(items: str) -> str:
    names = [n.strip() for n in items.split(",") if n.strip()]
    return ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")


def _element_on_line(root, line: int | None):
    if not line:
        return None
    on_line = [e for e in root.iter() if isinstance(e.tag, str) and e.sourceline == line]
    return next((e for e in on_line if e.get("id")), on_line[0] if on_line else None)


def _entry_process(executable: list, filename: str):
    """Return the one executable process that no call activity of this file calls, plus problems."""
    called = set()
    for process in executable:
        called.update((c.get("calledElement") or "").strip() for c in xpath(process, ".//bpmn:callActivity"))
    entries = [p for p in executable if p.get("id") not in called]
    if len(entries) == 1:
        return entries[0], []
    if not executable:
        return None, [Problem("no executable process: mark the SOP's process isExecutable=\"true\" "
                              "(in Camunda Modeler: the 'Executable' checkbox of the process)", filename)]
    if not entries:
        return None, [Problem("every executable process is called by another; there is no process to start "
                              "(call activities form a cycle)", filename)]
    names = ", ".join(f"{p.get('id')!r} (line {line_of(p)})" for p in entries)
    return None, [Problem(f"the file has {len(entries)} executable processes that could be the SOP: {names}; "
                          "keep one executable (others may be descriptive, isExecutable=\"false\", or called "
                          "through a call activity)", filename, entries[1].get("id"), line_of(entries[1]))]


def _spiff_parse(root, key: str, filename: str):
    """Build the SpiffWorkflow spec of the entry process and of what it calls."""
    from .exchange_bpmn import spiff_parser

    parser = spiff_parser()  # CamundaParser that can read receive tasks
    try:
        parser.add_bpmn_xml(root.getroottree(), filename=filename)
        spec = parser.get_spec(key)
        subprocess_specs = parser.get_subprocess_specs(key)
    except RecursionError:
        _fail([_too_deep(filename, key)])
    except Exception as exc:
        _fail([spiff_problem(exc, root, filename)])
    return spec, subprocess_specs


def _too_deep(filename: str, key: str) -> Problem:
    return Problem("the process is too long for the engine to read (more than about 480 steps in one chain); "
                   "split it into call activities", filename, key)
