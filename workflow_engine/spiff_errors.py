"""Turn SpiffWorkflow parser exceptions into Problems a process analyst can act on."""
from __future__ import annotations

import re

from .bpmn_xml import line_of
from .errors import Problem

# (pattern in Spiff's message, our message); {id} is the element id Spiff reported, {m} a captured group.
_KNOWN = [
    (r"we found two items, perhaps a form has the same ID",
     "a sequence flow from {id!r} points to an element that does not exist in the same process"),
    (r"Multiple outgoing flows are not supported",
     "{id!r} has several outgoing sequence flows; add a parallel or exclusive gateway after it to split"),
    (r"Non-default exclusive outgoing sequence flow without condition",
     "sequence flow {id!r} leaves a gateway without a condition; add one or make it the default flow"),
    (r"No start event found", "process {id!r} has no start event; add one"),
    (r"Exactly one start event is required in a SubWorkflow Task; found (\d+)",
     "subprocess {id!r} needs exactly one start event (it has {m})"),
    (r"A SubWorkflow Must contain an End event", "subprocess {id!r} needs an end event"),
    (r"Process (\S+) is not executable", "process {m!r} is marked isExecutable=\"false\" but is needed to run"),
    (r"The process '([^']*)' was not found", "the called process {m!r} is not in this file"),
    (r"Duplicate process ID: (\S+)", "process id {m!r} is used twice"),
    (r"There is no support implemented for this task type",
     "element {id!r} is of a type the engine cannot run"),
    (r"decisionRef", "business rule task {id!r} needs a camunda:decisionRef and a DMN table, which Alur does not load"),
    (r"No DMN Diagram available", "business rule task {id!r} refers to a DMN table that is not loaded"),
    (r"loopMaximum or loopCondition must be specified",
     "loop task {id!r} needs a loop maximum or a loop condition, or it would never stop"),
    (r"multiinstance task must specify",
     "multi-instance task {id!r} needs a loop cardinality or a collection to iterate over"),
    (r"Cannot resolve data(Input|Output)Association",
     "task {id!r} has a data association to something the engine cannot find (it must point to a data "
     "object reference in the same process)"),
    (r"Unknown Time Specification", "timer {id!r} has no time; add a duration such as \"PT24H\" with the quotes"),
    (r"Time Specification Error", "timer {id!r} has a time the engine cannot read"),
    (r"raise_validation_exception\(\) got an unexpected keyword",
     "event {id!r} refers to a message, signal, error or escalation that is not defined in this file"),
    (r"Message identifier is missing", "a bpmn:message has no id"),
    (r"Signal identifier is missing", "a bpmn:signal has no id"),
    (r"Error identifier is missing", "a bpmn:error has no id"),
    (r"Escalation identifier is missing", "a bpmn:escalation has no id"),
    (r"Data Store .* has no implementation", "data stores are not supported; remove the data store"),
    (r"Cancel Events may only be used with transactions",
     "cancel events are only allowed on transactions, which Alur does not support"),
    (r"Ad hoc subprocesses may not contain|Sequential ordering for ad hoc", "ad-hoc subprocesses are not supported"),
    (r"Service Task must have an operator", "service task {id!r} has no operator"),
    (r"Invalid Script Task", "script task {id!r} has no script"),
    (r"Conditional event definition with missing condition", "conditional event {id!r} has no condition"),
    (r"RecursionError|maximum recursion depth",
     "the process is too long for the engine to read (more than about 480 steps in one chain); "
     "split it into call activities"),
]


def spiff_problem(exc: BaseException, root, filename: str | None) -> Problem:
    """Return a Problem for an exception raised while SpiffWorkflow parsed the file."""
    element_id = (getattr(exc, "id", None) or None)
    line = getattr(exc, "line_number", None) or None
    text = _message(exc)
    element = _find(root, element_id) if element_id else None
    if element is not None:
        # Spiff reads `node.line_number`, which lxml does not have; `sourceline` is the real line.
        line = line_of(element) or line
    tag = getattr(exc, "tag", "") or ""
    for pattern, template in _KNOWN:
        match = re.search(pattern, text)
        if match:
            shown_id = element_id or tag or "?"
            message = template.format(id=shown_id, m=match.group(1) if match.groups() else "")
            return Problem(message, filename, element_id, _int(line))
    where = f" at {tag} {element_id!r}" if element_id else ""
    return Problem(f"the engine cannot use this model{where}: {text}", filename, element_id, _int(line))


def _message(exc: BaseException) -> str:
    """Return the exception's text without Spiff's trailing '. ' note separator or a bare class name."""
    text = str(exc).strip().rstrip(".").strip()
    if not text:
        return type(exc).__name__
    if not getattr(exc, "id", None) and type(exc).__name__ not in ("ValidationException",):
        return f"{type(exc).__name__}: {text}"
    return text


def _find(root, element_id: str):
    for element in root.iter():
        if isinstance(element.tag, str) and element.get("id") == element_id:
            return element
    return None


def _int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
