"""Read SopInfo out of a BPMN process element, collecting every problem instead of stopping at one."""
from __future__ import annotations

import difflib
import re

from .bpmn_xml import (ACTIVITIES, PERSON_TASKS, camunda_properties, documentation_of,
                       effective_lanes, is_bpmn, lane_elements, line_of, local_name, xpath)
from .durations import parse_duration
from .errors import Problem
from .exchange_bpmn import connector_of
from .forms import FIELD_TYPES, convert_value
from .sop_info import (CALENDARS, DEFAULT_CALENDAR, DEFAULT_LIMIT, PROCESS_SLA_KEYS,
                       SOP_IDENTITY_KEYS, TASK_MUTU_KEYS, TASK_SLA_KEYS, FormField, SopInfo,
                       StepInfo, default_prefix)

PROCESS_KEYS = tuple(f"sop.{k}" for k in SOP_IDENTITY_KEYS) + tuple(f"sla.{k}" for k in PROCESS_SLA_KEYS)
TASK_KEYS = tuple(f"mutu.{k}" for k in TASK_MUTU_KEYS) + tuple(f"sla.{k}" for k in TASK_SLA_KEYS)
OUR_PREFIXES = ("sop.", "sla.", "mutu.")
_PREFIX = re.compile(r"[A-Z]{2,6}")
_CONSTRAINTS = ("required", "readonly", "minlength", "maxlength", "min", "max")


def _one_line(text: str | None) -> str | None:
    """Collapse the line breaks modelers put into names."""
    return " ".join(text.split()) if text and text.strip() else None


class SopReader:
    """Reads one process (plus the processes it calls in the same file) into a SopInfo."""

    def __init__(self, process, root, file: str | None):
        self.process = process
        self.root = root if root is not None else process.getroottree().getroot()
        self.file = file
        self.problems: list[Problem] = []

    def problem(self, message: str, element, element_id: str | None = None, severity: str = "error"):
        element_id = element_id or (element.get("id") if element is not None else None)
        self.problems.append(Problem(message, self.file, element_id, line_of(element) if element is not None else None,
                                     severity))

    def read(self) -> SopInfo:
        """Return the SopInfo; `problems` holds every error and warning met."""
        key = self.process.get("id") or ""
        props = self.properties(self.process, PROCESS_KEYS, TASK_KEYS, "process")
        identity = {name[4:]: value for name, (value, _) in props.items() if name.startswith("sop.")}
        processes = self.called_processes()
        lanes_by_node: dict[str, str | None] = {}
        for proc in processes:
            lanes_by_node.update(effective_lanes(proc, self.root))
        steps: dict[str, StepInfo] = {}
        for proc in processes:
            for element in proc.iter():
                if is_bpmn(element, *ACTIVITIES) and element.get("id"):
                    steps[element.get("id")] = self.step(element, lanes_by_node.get(element.get("id")))
        limit = self.limit(props)
        return SopInfo(
            key=key, name=self.process_name(key), identity=identity,
            registration_prefix=self.prefix(props, key), limit_seconds=limit,
            calendar=self.calendar(props), clock_starts_after=self.clock_start(props, steps),
            lanes=self.lane_names(processes, steps), steps=steps,
            escalate_share=self.escalate_share(props), webhook=self.webhook(props),
            problems=tuple(self.problems))

    def process_name(self, key: str) -> str:
        """Return the process name, else its pool's (participant's) name, else its id."""
        name = _one_line(self.process.get("name"))
        if name:
            return name
        for participant in xpath(self.root, ".//bpmn:participant"):
            if participant.get("processRef") == key and _one_line(participant.get("name")):
                return _one_line(participant.get("name"))
        return key

    def called_processes(self) -> list:
        """Return the process followed by the processes it calls, transitively, from this file."""
        by_id = {p.get("id"): p for p in xpath(self.root, ".//bpmn:process") if p.get("id")}
        found, queue = [self.process], [self.process]
        while queue:
            current = queue.pop(0)
            for call in xpath(current, ".//bpmn:callActivity"):
                target = by_id.get(call.get("calledElement"))
                if target is not None and all(target is not seen for seen in found):
                    found.append(target)
                    queue.append(target)
        return found

    def properties(self, element, allowed, elsewhere, where: str) -> dict[str, tuple[str, object]]:
        """Return our camunda:properties of an element; misspelt or misplaced keys become warnings."""
        found: dict[str, tuple[str, object]] = {}
        owner = element.get("id")
        for name, value, prop in camunda_properties(element):
            if not name.startswith(OUR_PREFIXES):
                continue  # other tools' properties are none of our business
            if name not in allowed:
                if name in elsewhere:
                    hint = f"it belongs on a {'task' if where == 'process' else 'process'}, not on a {where}"
                else:
                    close = difflib.get_close_matches(name, allowed, n=1)
                    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(allowed)}"
                self.problem(f"property {name!r} is not used here and is ignored; {hint}", prop, owner, "warning")
                continue
            if name in found:
                self.problem(f"property {name!r} is given twice; the last value is used", prop, owner, "warning")
            if value:
                found[name] = (value, prop)
        return found

    def limit(self, props) -> int:
        value, prop = props.get("sla.batasWaktu", (DEFAULT_LIMIT, None))
        seconds = self.duration(value, prop, "sla.batasWaktu", self.process.get("id"))
        if seconds == 0:
            self.problem("sla.batasWaktu must be longer than zero", prop, self.process.get("id"))
        return seconds or parse_duration(DEFAULT_LIMIT)

    def duration(self, value: str, prop, key: str, owner: str | None) -> int | None:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(f"{key}: {exc}", prop, owner)
            return None

    def calendar(self, props) -> str:
        value, prop = props.get("sla.kalender", (DEFAULT_CALENDAR, None))
        if value.lower() in CALENDARS:
            return value.lower()
        self.problem(f"sla.kalender is {value!r}; use '24x7' (round the clock) or 'jam-kerja' (working hours)",
                     prop, self.process.get("id"))
        return DEFAULT_CALENDAR

    def prefix(self, props, key: str) -> str:
        value, prop = props.get("sop.kodeRegistrasi", (None, None))
        if value is None:
            return default_prefix(key)
        if _PREFIX.fullmatch(value):
            return value
        self.problem(f"sop.kodeRegistrasi is {value!r}; use 2 to 6 capital letters A-Z, e.g. 'REK'",
                     prop, self.process.get("id"))
        return default_prefix(key)

    def clock_start(self, props, steps: dict[str, StepInfo]) -> str | None:
        value, prop = props.get("sla.mulaiSetelah", (None, None))
        if value is None:
            return None
        step = steps.get(value)
        if step is None or step.kind != "userTask":
            user_tasks = ", ".join(s.id for s in steps.values() if s.kind == "userTask") or "none"
            self.problem(f"sla.mulaiSetelah names {value!r}, which is not a user task of this process; "
                         f"give the id of a user task (user tasks: {user_tasks})", prop, self.process.get("id"))
            return None
        return value

    def escalate_share(self, props) -> float | None:
        """sla.eskalasiPada: the used share (0.75 or 75%) at which the lane's head is told."""
        value, prop = props.get("sla.eskalasiPada", (None, None))
        if value is None:
            return None
        text = value.strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            share = None
        if share is None or not 0 < share < 1:
            self.problem(f"sla.eskalasiPada is {value!r}; give the share of sla.batasWaktu after which the "
                         "lane's head is told, between 0 and 1 (e.g. 0.75 or 75%)", prop, self.process.get("id"))
            return None
        return share

    def webhook(self, props) -> str | None:
        """sla.webhook: an http(s) URL that receives each escalation as JSON."""
        value, prop = props.get("sla.webhook", (None, None))
        if value is None:
            return None
        text = value.strip()
        if not re.fullmatch(r"https?://[^\s/?#]+[^\s]*", text):
            self.problem(f"sla.webhook is {value!r}; give an http:// or https:// address", prop,
                         self.process.get("id"))
            return None
        return text

    def lane_names(self, processes, steps: dict[str, StepInfo]) -> tuple[str, ...]:
        """Return the actors: every named leaf lane, plus any other lane a step sits in, in order."""
        used = {s.lane for s in steps.values() if s.lane}
        names: list[str] = []
        for proc in processes:
            for lane in lane_elements(proc):
                name = lane.get("name")
                is_leaf = not xpath(lane, "./bpmn:childLaneSet/bpmn:lane")
                if name and (is_leaf or name in used) and name not in names:
                    names.append(name)
        return tuple(names)

    def step(self, element, lane: str | None) -> StepInfo:
        """Return the StepInfo of one activity."""
        step_id = element.get("id")
        kind = local_name(element)
        props = self.properties(element, TASK_KEYS, PROCESS_KEYS, "task")
        budget = None
        if "mutu.waktu" in props:
            value, prop = props["mutu.waktu"]
            budget = self.duration(value, prop, "mutu.waktu", step_id)
        pauses = False
        if "sla.jeda" in props:
            value, prop = props["sla.jeda"]
            if value.lower() in ("true", "false"):
                pauses = value.lower() == "true"
            else:
                self.problem(f"sla.jeda is {value!r}; use 'true' (the clock stops while this step is open) "
                             "or 'false'", prop, step_id)
        documentation = documentation_of(element)
        if kind in PERSON_TASKS:
            label = "user task" if kind == "userTask" else "manual task"
            if documentation is None:
                self.problem(f"{label} {step_id!r} has no documentation: staff will see no instruction",
                             element, severity="warning")
            if "mutu.waktu" not in props:
                self.problem(f"{label} {step_id!r} has no time budget (property mutu.waktu, e.g. PT2H)",
                             element, severity="warning")
        return StepInfo(
            id=step_id, name=_one_line(element.get("name")) or step_id, kind=kind, lane=lane,
            documentation=documentation, budget_seconds=budget,
            requirements=props.get("mutu.kelengkapan", (None,))[0], output=props.get("mutu.output", (None,))[0],
            note=props.get("mutu.keterangan", (None,))[0], pauses_clock=pauses,
            form=self.form(element) if kind == "userTask" else (),
            connector=connector_of(element) if kind == "serviceTask" else None)

    def form(self, task) -> tuple[FormField, ...]:
        """Return the camunda:formData fields of a user task."""
        fields: list[FormField] = []
        for xml_field in xpath(task, "./bpmn:extensionElements/camunda:formData/camunda:formField"):
            form_field = self.form_field(task.get("id"), xml_field)
            if form_field is None:
                continue
            if any(f.id == form_field.id for f in fields):
                self.problem(f"form field {form_field.id!r} appears twice in this form", xml_field, task.get("id"))
                continue
            fields.append(form_field)
        return tuple(fields)

    def form_field(self, task_id: str, xml_field) -> FormField | None:
        """Return one FormField, or None (with a problem) when it cannot be used."""
        field_id = (xml_field.get("id") or "").strip()
        if not field_id.isidentifier():
            # The value lands in task data that conditions read as Python names.
            self.problem(f"form field id {field_id!r} must be a name of letters, digits and _ "
                         "(not starting with a digit)", xml_field, task_id)
            return None
        field_type = (xml_field.get("type") or "string").strip()
        if field_type not in FIELD_TYPES:
            self.problem(f"form field {field_id!r} has type {field_type!r}; use one of {', '.join(FIELD_TYPES)}",
                         xml_field, task_id)
            return None
        options = tuple((v.get("id") or "", _one_line(v.get("name")) or v.get("id") or "")
                        for v in xpath(xml_field, "./camunda:value"))
        if field_type == "enum" and (not options or any(not oid for oid, _ in options)):
            self.problem(f"enum form field {field_id!r} needs values, each with an id", xml_field, task_id)
            return None
        required, constraints = self.constraints(task_id, field_id, field_type, xml_field)
        default = xml_field.get("defaultValue")
        if default is not None and default.strip():
            try:
                default = convert_value(field_type, default, options)
            except ValueError as exc:
                self.problem(f"default value of form field {field_id!r} {exc}", xml_field, task_id)
                default = None
        else:
            default = None
        return FormField(id=field_id, label=_one_line(xml_field.get("label")) or field_id, type=field_type,
                         required=required, options=options, constraints=constraints, default=default)

    def constraints(self, task_id, field_id, field_type, xml_field) -> tuple[bool, dict]:
        """Return (required, other constraints) of a form field, typed for its field type."""
        required, found = False, {}
        for constraint in xpath(xml_field, "./camunda:validation/camunda:constraint"):
            name = (constraint.get("name") or "").strip()
            config = (constraint.get("config") or "").strip()
            if name not in _CONSTRAINTS:
                self.problem(f"form field {field_id!r}: constraint {name!r} is not supported; "
                             f"use {', '.join(_CONSTRAINTS)}", constraint, task_id)
            elif name == "required":
                required = True
            elif name == "readonly":
                found["readonly"] = True
            elif name in ("minlength", "maxlength"):
                if field_type not in ("string", "text"):
                    self.problem(f"form field {field_id!r}: {name} applies to text fields only", constraint, task_id)
                elif not config.isdigit():
                    self.problem(f"form field {field_id!r}: {name} needs a whole number, not {config!r}",
                                 constraint, task_id)
                else:
                    found[name] = int(config)
            elif field_type not in ("long", "double", "date"):
                self.problem(f"form field {field_id!r}: {name} applies to number and date fields only",
                             constraint, task_id)
            else:
                try:
                    found[name] = convert_value(field_type, config)
                except ValueError as exc:
                    self.problem(f"form field {field_id!r}: {name} value {config!r} {exc}", constraint, task_id)
        return required, found
