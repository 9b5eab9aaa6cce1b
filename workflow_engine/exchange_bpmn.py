"""The BPMN side of the exchange with other agencies: checks on service tasks and message events.

A service task calls another agency (OPD) through a connector an administrator configured; the
BPMN only names it, with the camunda property ``alur.connector``. A message catch event or receive
task waits until the other agency's callback delivers the message named by its ``bpmn:message``.
Everything else that Camunda can hang on a service task (Java classes, expressions, external
topics, scripts) and every message Alur would have to send itself are refused with a hint.
"""
from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from .bpmn_xml import CAMUNDA_NS, camunda_properties, is_bpmn, local_name, xpath

if TYPE_CHECKING:
    from .bpmn_checks import Checker

CONNECTOR_KEY = "alur.connector"
# Connector names: what admins type and what the BPMN names; no spaces, so CLI and URLs stay simple.
CONNECTOR_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Message names end up in /api/v1/cases/{number}/messages/{name}: keep them URL-safe.
MESSAGE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
ELEMENTS = ("serviceTask", "messageEventDefinition", "receiveTask", "sendTask")
_CAMUNDA_IMPLEMENTATIONS = ("class", "expression", "delegateExpression")
_HOW = ("name a connector with the camunda property alur.connector (an administrator sets the connector up "
        "under Admin → Connectors)")


def check_exchange(checker: "Checker", element) -> None:
    """Add the problems of one service task, message event definition, receive or send task."""
    name = local_name(element)
    if name == "serviceTask":
        _service_task(checker, element)
    elif name == "sendTask":
        _add(checker, f"send task {element.get('id')!r}: Alur does not send BPMN messages; to call another "
                      f"agency use a service task and {_HOW}", element)
    elif name == "receiveTask":
        if element.get("instantiate") == "true":
            _add(checker, f"receive task {element.get('id')!r} starts the process (instantiate=\"true\"); cases "
                          "are registered by staff or through the API, so remove that", element)
        _message_name(checker, element, element.get("messageRef") or _child_message_ref(element))
    else:
        _message_definition(checker, element)


def connector_of(element) -> str | None:
    """The connector a service task names (alur.connector), or None."""
    values = [value for key, value, _ in camunda_properties(element) if key == CONNECTOR_KEY and value]
    return values[-1] if values else None


def _add(checker: "Checker", message: str, element, severity: str = "error", owner: str | None = None) -> None:
    checker.add(message, element, owner, severity)
    # The rule's code lets the workbench and tests tell these apart from the other deploy checks.
    checker.problems[-1] = replace(checker.problems[-1], code="exchange")


def _service_task(checker: "Checker", task) -> None:
    task_id = task.get("id")
    what = f"service task {task_id!r}"
    camunda = {attr: task.get(f"{{{CAMUNDA_NS}}}{attr}") for attr in (*_CAMUNDA_IMPLEMENTATIONS, "type", "topic")}
    if (camunda["type"] or "").strip() == "external":
        topic = (camunda["topic"] or "").strip()
        hint = f" (here: alur.connector = {topic})" if topic else ""
        _add(checker, f"{what} is a Camunda external task; Alur runs its own worker: remove the external "
                      f"implementation and {_HOW}{hint}", task)
    for attr in _CAMUNDA_IMPLEMENTATIONS:
        if camunda[attr]:
            _add(checker, f"{what} is implemented with camunda:{attr}, which Alur cannot run; remove it and "
                          f"{_HOW}", task)
    if xpath(task, "./bpmn:extensionElements/camunda:connector"):
        _add(checker, f"{what} uses a Camunda connector (camunda:connector); remove it and {_HOW}", task)
    if xpath(task, ".//camunda:script") or xpath(task, "./bpmn:extensionElements/camunda:executionListener"):
        _add(checker, f"{what} carries a script or listener; Alur runs no code around a connector call: remove "
                      "it (which case data goes out and which answer fields come back is set on the connector)",
             task)
    elif xpath(task, "./bpmn:extensionElements/camunda:inputOutput"):
        _add(checker, f"{what} has camunda:inputOutput mappings, which Alur ignores: remove them (which case "
                      "data goes out and which answer fields come back is set on the connector)", task)
    if xpath(task, "./bpmn:multiInstanceLoopCharacteristics | ./bpmn:standardLoopCharacteristics"):
        _add(checker, f"{what} repeats (a loop or multi-instance marker); a connector call runs once per "
                      "step: remove the marker", task)
    for key, _value, prop in camunda_properties(task):
        if key.startswith("alur.") and key != CONNECTOR_KEY:
            _add(checker, f"property {key!r} is not known and is ignored; did you mean {CONNECTOR_KEY!r}?", prop,
                 "warning", task_id)
    connector = connector_of(task)
    implemented = camunda["type"] or any(camunda[a] for a in _CAMUNDA_IMPLEMENTATIONS) or \
        xpath(task, "./bpmn:extensionElements/camunda:connector")
    if connector is None and not implemented:  # else the message above already says what to do
        _add(checker, f"{what} names no connector: {_HOW}", task)
    elif connector is not None and not CONNECTOR_NAME.fullmatch(connector):
        _add(checker, f"{what}: the connector name {connector[:120]!r} may have only letters, digits, '.', '_' "
                      "and '-' (at most 100, no spaces)", task)


def _child_message_ref(element) -> str | None:
    definition = next(iter(xpath(element, "./bpmn:messageEventDefinition")), None)
    return definition.get("messageRef") if definition is not None else None


def _message_definition(checker: "Checker", definition) -> None:
    event = definition.getparent()
    kind = local_name(event)
    what = f"message event {event.get('id')!r}"
    if kind in ("intermediateThrowEvent", "endEvent"):
        _add(checker, f"{what} sends a message; Alur does not send BPMN messages: to call another agency use a "
                      f"service task and {_HOW}", definition, owner=event.get("id"))
    elif kind == "startEvent":
        _add(checker, f"{what} would start the process on a message; cases are registered by staff or through "
                      "the API: use a plain start event", definition, owner=event.get("id"))
    elif kind in ("intermediateCatchEvent", "boundaryEvent"):
        _message_name(checker, event, definition.get("messageRef"))


def _message_name(checker: "Checker", waiting, ref: str | None) -> None:
    """A waiting element must name a bpmn:message that has a name: the callback addresses it by that name."""
    what = f"{local_name(waiting)} {waiting.get('id')!r}"
    message = checker.by_id.get((ref or "").strip()) if ref else None
    if message is None or not is_bpmn(message, "message"):
        _add(checker, f"{what} waits for a message but names none: choose a message (messageRef) with a name; "
                      "the other agency's system posts it to /api/v1/cases/{number}/messages/{name}", waiting)
        return
    name = (message.get("name") or "").strip()
    if not name:
        _add(checker, f"{what} waits for message {ref!r}, which has no name; give the message a name such as "
                      "hasil_verifikasi (the callback uses it)", waiting)
    elif not MESSAGE_NAME.fullmatch(name):
        _add(checker, f"{what} waits for message {name[:120]!r}; use only letters, digits, '.', '_' and '-' (at "
                      "most 100), since other systems put the name in a web address", waiting)


def spiff_parser():
    """CamundaParser, except that receive tasks get Camunda's message definition, which the codec stores."""
    return _parser_class()(validator=None)


@lru_cache(maxsize=1)
def _parser_class():
    from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
    from SpiffWorkflow.bpmn.parser.event_parsers import ReceiveTaskParser
    from SpiffWorkflow.bpmn.specs.defaults import ReceiveTask
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.camunda.parser.event_parsers import CamundaEventDefinitionParser

    class CamundaReceiveTaskParser(CamundaEventDefinitionParser, ReceiveTaskParser):
        def create_task(self):
            return ReceiveTaskParser.create_task(self)

    class AlurParser(CamundaParser):
        # Stock CamundaParser gives receive tasks the plain BPMN message definition, which Camunda's
        # serializer config cannot store (TypeError at deploy).
        OVERRIDE_PARSER_CLASSES = {**CamundaParser.OVERRIDE_PARSER_CLASSES,
                                   full_tag("receiveTask"): (CamundaReceiveTaskParser, ReceiveTask)}

    return AlurParser
