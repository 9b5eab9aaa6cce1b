"""Messages from other agencies: a callback delivers a named message and the waiting case goes on.

A case waits for a message at an intermediate message catch event, a receive task, or a message
boundary event; the BPMN names the message (bpmn:message name="hasil_verifikasi"). The other
agency's system posts it to /api/v1/cases/{number}/messages/{name} (web/api), which calls
`Engine.deliver_message`. The payload is a JSON object whose fields are merged into the case data
at the top level, so a gateway after the event can read them (status_verifikasi == "disetujui").
"""
from __future__ import annotations

import json
from typing import Mapping

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState

from . import store
from .errors import FormError, InvalidState, NotFound

MAX_PAYLOAD_BYTES = 64_000
MAX_FIELDS = 100
_MESSAGE = "MessageEventDefinition"


def check_payload(payload) -> dict:
    """The payload as case data fields, or FormError naming what is wrong."""
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise FormError({"payload": "must be a JSON object such as {\"status\": \"disetujui\"}"})
    if len(payload) > MAX_FIELDS:
        raise FormError({"payload": f"has {len(payload)} fields; at most {MAX_FIELDS}"})
    problems = {}
    for key in payload:
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_") or len(key) > 100:
            problems[str(key)[:100]] = ("is not a field name: letters, digits and _, not starting with a digit "
                                        "or _ (at most 100)")
    if problems:
        raise FormError(problems)
    try:
        size = len(json.dumps(payload, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError) as exc:
        raise FormError({"payload": f"is not JSON data: {exc}"}) from exc
    if size > MAX_PAYLOAD_BYTES:
        raise FormError({"payload": f"is {size:,} bytes; at most {MAX_PAYLOAD_BYTES:,}"})
    return dict(payload)


def waiting_messages(workflow) -> list[str]:
    """The names of the messages a workflow waits for now."""
    return sorted({e.name for e in workflow.waiting_events() if e.event_type == _MESSAGE and e.name})


class Messages:
    """The Engine's operations on BPMN messages from outside."""

    def deliver_message(self, case_ref, name: str, payload: Mapping | None, *, actor: str | None) -> dict:
        """Deliver message `name` with `payload` to a waiting case and run it on; returns engine.case(ref).

        NotFound if there is no such case; InvalidState if the case is not running or waits for no
        message of that name (the message says what it does wait for); FormError for a bad payload.
        """
        payload = check_payload(payload)
        name = (name or "").strip()
        if not name:
            raise NotFound("no message name given")
        with self._operation() as s:
            case = store.case_by_reference(s, case_ref)
            if case.status != "running":
                raise InvalidState(f"case {case.registration_number} is {case.status}; it waits for no message")
            loaded = self._open(s, case.id)
            workflow = loaded.workflow
            waiting = waiting_messages(workflow)
            if name not in waiting:
                now_waits = f"it waits for: {', '.join(waiting)}" if waiting else "it waits for no message now"
                raise InvalidState(f"case {case.registration_number} is not waiting for message '{name}'; "
                                   f"{now_waits}")
            now = self.now()
            self._run(lambda: self._catch(workflow, name, payload))
            self._advance(workflow)
            case.data = {**case.data, **payload}
            store.audit(s, now, "case.message_received", actor=actor, case_id=case.id, message=name,
                        fields=sorted(payload))
            self._save(s, loaded, now)
            case_id = case.id
        return self.case(case_id)

    def waiting_messages(self, case_ref) -> list[str]:
        """The names of the messages a running case waits for now (reads its workflow)."""
        with self.db.read() as s:
            case = store.case_by_reference(s, case_ref)
            if case.status != "running":
                return []
            spec, subprocess_specs, _, _ = self.version(case.process_version_id, s)
            state = case.state_json
        return waiting_messages(self.codec.load_state(state, spec, subprocess_specs, self._script_engine))

    @staticmethod
    def _catch(workflow, name: str, payload: dict) -> None:
        # Camunda's message definition stores the payload under one variable (default
        # "<task>_Response") when the catching task runs. We merge the fields at the top level
        # instead and point that variable at a field that already holds its value, so the
        # merge leaves no extra key behind.
        first = next(iter(payload), None)
        workflow.send_event(BpmnEvent(MessageEventDefinition(name),
                                      {"payload": payload.get(first), "result_var": first}))
        for task in workflow.get_tasks(state=TaskState.WAITING | TaskState.READY):
            caught = task.internal_data.get(name)
            if not isinstance(caught, dict) or "result_var" not in caught:
                continue
            task.data.update(payload)
            key = first or next(iter(task.data), None)
            if key is None:
                key = "_pesan"  # nothing at all to point at: one harmless key
            task.internal_data[name] = {"payload": task.data.get(key), "result_var": key}
