"""Structural diff of two BPMN documents, matched by element id.

An *element* is a process, participant, lane, flow element (event, activity, gateway, sequence
flow, data reference), message flow, data association or artifact. Each element is reduced to
attribute categories (name, type, lane, source, target, condition, form, budget, properties,
documentation, camunda, default, event, process (of a pool), other); an element is *changed* when a category differs,
*layout-changed* when only its BPMNShape/BPMNEdge differs (bounds, waypoints, label).

Agreement with bpmn-js-differ (checked by tests/browser/test_diff_agreement.py on the SOP library,
tests/fixtures/bpmn/diff and the MIWG models), for the elements it tracks, with these deliberate
differences, all of them in how verdicts are reported, not in what is seen:
- lane: bpmn-js-differ skips Lane.flowNodeRef (a many-reference), so a step moved to another lane
  is at most "layout changed" there; here it is changed with attribute "lane".
- layout_changed holds only elements with no other change; bpmn-js-differ also lists changed ones.
- a process in a collaboration: bpmn-js-differ reports its own changes on the participant
  ("processRef.name"); here they are reported on the process id.
- an added or removed container (process, participant, subprocess): bpmn-js-differ names only the
  container; here every element inside it is listed too.
- shapes are matched by their bpmnElement here, by the DI element's own id there.
- attributes of namespaces other than BPMN, DI and Camunda (e.g. colours) are ignored by both.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from lxml import etree

from .bpmn_loader import MAX_BYTES, _fail, parse_bpmn
from .bpmn_xml import CAMUNDA_NS, is_bpmn, local_name, xpath
from .errors import Problem

DI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
DD_NAMESPACES = (DI_NS, "http://www.omg.org/spec/DD/20100524/DC", "http://www.omg.org/spec/DD/20100524/DI")
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
          "implicitThrowEvent")
ACTIVITIES = ("task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
              "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess",
              "callChoreography", "choreographyTask", "subChoreography")
GATEWAYS = ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway")
FLOW_ELEMENTS = EVENTS + ACTIVITIES + GATEWAYS + ("sequenceFlow", "dataObjectReference", "dataStoreReference")
# The element kinds bpmn-js-differ tracks, as named in the issue (the process stands for its pool).
DIFFER_TRACKED = FLOW_ELEMENTS + ("messageFlow", "participant", "lane", "process")
ELEMENTS = DIFFER_TRACKED + ("collaboration", "dataInputAssociation", "dataOutputAssociation", "textAnnotation",
                             "association", "group")
# Children that are described by a category of their owner, or are elements of their own.
_OWN_CATEGORY_CHILDREN = ("documentation", "conditionExpression", "incoming", "outgoing", "flowNodeRef",
                          "laneSet")
CATEGORIES = ("name", "type", "lane", "source", "target", "condition", "form", "budget", "properties",
              "documentation", "camunda", "default", "event", "process", "other")
BUDGET_KEY = "mutu.waktu"


@dataclass(frozen=True)
class Element:
    """One element of one document reduced to the categories it is compared by."""

    id: str
    kind: str
    name: str | None
    values: dict = field(hash=False)
    di: tuple = ()
    parent: str | None = None


@dataclass(frozen=True)
class BpmnDiff:
    """What changed from document A to document B; `to_dict()` is the `alur diff --json` shape."""

    added: list[str]
    removed: list[str]
    changed: dict[str, dict[str, list]]
    layout_changed: list[str]
    # Every element whose shape or edge moved, changed or not (for comparing with bpmn-js-differ).
    di_changed: list[str] = field(default_factory=list)
    old: dict[str, Element] = field(default_factory=dict, repr=False)
    new: dict[str, Element] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict:
        return {"added": list(self.added), "removed": list(self.removed),
                "changed": {k: {a: list(v) for a, v in attrs.items()} for k, attrs in self.changed.items()},
                "layout_changed": list(self.layout_changed)}

    def pools(self) -> dict[str, str]:
        """process id -> id of the pool (participant) that draws it, in either document."""
        return {e.values["process"]: e.id for side in (self.old, self.new) for e in side.values()
                if e.kind == "participant" and e.values.get("process")}

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.layout_changed)

    def element(self, element_id: str) -> Element | None:
        """The element in B, else in A."""
        return self.new.get(element_id) or self.old.get(element_id)

    def label(self, element_id: str) -> str:
        found = self.element(element_id)
        return " ".join((found.name or found.id).split()) if found is not None else element_id


def value_text(value) -> str:
    """A short one-line text of a category's value for people (forms as their fields)."""
    if value is None or value == {} or value == []:
        return "–"
    if isinstance(value, dict):
        return "; ".join(f"{k}={value_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_field_text(f) if isinstance(f, dict) else str(f) for f in value)
    return " ".join(str(value).split())


def _field_text(form_field: dict) -> str:
    required = ", required" if "required" in form_field.get("constraints", ()) else ""
    return f"{form_field.get('id')} ({form_field.get('type') or 'string'}{required})"


def diff_bpmn(old: bytes, new: bytes, *, old_name: str = "A.bpmn", new_name: str = "B.bpmn",
              max_bytes: int = MAX_BYTES) -> BpmnDiff:
    """Compare two BPMN documents; raise BpmnValidationError naming the file when one is not BPMN XML."""
    a = read_elements(old, old_name, max_bytes)
    b = read_elements(new, new_name, max_bytes)
    added = sorted(set(b) - set(a))
    removed = sorted(set(a) - set(b))
    changed: dict[str, dict[str, list]] = {}
    di_changed = []
    for element_id in sorted(set(a) & set(b)):
        if a[element_id].parent != b[element_id].parent:
            # Another process or subprocess holds it now: a different element that kept the id.
            added.append(element_id)
            removed.append(element_id)
            continue
        attrs = {c: [a[element_id].values.get(c), b[element_id].values.get(c)] for c in CATEGORIES
                 if a[element_id].values.get(c) != b[element_id].values.get(c)}
        if "properties" in attrs:
            attrs["properties"] = _only_differing(*attrs["properties"])
        if "camunda" in attrs:
            attrs["camunda"] = _only_differing(*attrs["camunda"])
        if "lane" in attrs:
            attrs["lane"] = [lane[1] if lane else None for lane in attrs["lane"]]
        if attrs:
            changed[element_id] = attrs
        if a[element_id].di and b[element_id].di and a[element_id].di != b[element_id].di:
            di_changed.append(element_id)
    layout = [i for i in di_changed if i not in changed]
    return BpmnDiff(sorted(added), sorted(removed), changed, layout, di_changed, a, b)


def _only_differing(old: dict | None, new: dict | None) -> list:
    old, new = old or {}, new or {}
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return [{k: old.get(k) for k in keys}, {k: new.get(k) for k in keys}]


# --- reading one document ------------------------------------------------------------------------
def parse_document(content: bytes, filename: str, max_bytes: int = MAX_BYTES):
    """Parse with the loader's hardened parser (no DTD, entities or network) and check the root."""
    return parse_bpmn(content, filename, max_bytes)


def read_elements(content: bytes, filename: str, max_bytes: int = MAX_BYTES) -> dict[str, Element]:
    """Every element of a BPMN document by id, with its categories and its diagram geometry."""
    root = parse_document(content, filename, max_bytes)
    lanes = _lane_of_nodes(root)
    di = _di_by_element(root)
    found: dict[str, Element] = {}
    problems = []
    for node in root.iter():
        if not is_bpmn(node, *ELEMENTS) or not node.get("id"):
            continue
        element_id = node.get("id")
        if element_id in found:
            problems.append(Problem(f"the id {element_id!r} is used twice; element ids must be unique",
                                    filename, element_id, node.sourceline))
            continue
        kind = local_name(node)
        values = _categories(node, kind, lanes)
        parent = _owner(node)
        found[element_id] = Element(element_id, kind, node.get("name"), values, tuple(di.get(element_id, ())),
                                    parent)
    _fail(problems)
    return found


def _owner(node) -> str | None:
    """The id of the nearest element above this one (the process of a task, the task of a boundary)."""
    parent = node.getparent()
    while parent is not None:
        if is_bpmn(parent, *ELEMENTS) and parent.get("id"):
            return parent.get("id")
        parent = parent.getparent()
    return None


def _lane_of_nodes(root) -> dict[str, tuple[str, str]]:
    """Flow node id -> (lane id, lane label); the innermost lane listing the node wins."""
    lanes: dict[str, tuple[str, str]] = {}
    for ref in xpath(root, ".//bpmn:lane/bpmn:flowNodeRef"):
        lane = ref.getparent()
        if ref.text and ref.text.strip():
            lanes[ref.text.strip()] = (lane.get("id") or "", lane.get("name") or lane.get("id") or "")
    return lanes


def _categories(node, kind: str, lanes) -> dict:
    values: dict = {"name": node.get("name"), "type": kind}
    if kind in FLOW_ELEMENTS and kind != "sequenceFlow":
        lane = lanes.get(node.get("id"))
        values["lane"] = _LaneRef(*lane) if lane else None
    if node.get("sourceRef") is not None or node.get("targetRef") is not None:
        values["source"], values["target"] = node.get("sourceRef"), node.get("targetRef")
    condition = xpath(node, "./bpmn:conditionExpression")
    values["condition"] = "".join(condition[0].itertext()) if condition else None
    docs = xpath(node, "./bpmn:documentation")
    values["documentation"] = "\n\n".join("".join(d.itertext()) for d in docs) if docs else None
    if node.get("default") is not None:
        values["default"] = node.get("default")
    if kind == "participant":
        values["process"] = node.get("processRef")
    events = [_canonical(e) for e in node if is_bpmn(e) and local_name(e).endswith("EventDefinition")]
    events += [f"eventDefinitionRef={r.text}" for r in xpath(node, "./bpmn:eventDefinitionRef")]
    values["event"] = "; ".join(events) or None
    values.update(_extensions(node))
    values["other"] = _other(node, kind) or None
    return values


class _LaneRef(tuple):
    """A lane compared by id and shown by name: renaming a lane does not move every step in it."""

    def __new__(cls, lane_id: str, label: str):
        return super().__new__(cls, (lane_id, label))

    def __eq__(self, other):
        return isinstance(other, tuple) and len(other) == 2 and self[0] == other[0]

    __ne__ = lambda self, other: not self == other  # noqa: E731 (tuple's own __ne__ would compare labels)
    __hash__ = lambda self: hash(self[0])  # noqa: E731


def _extensions(node) -> dict:
    """form, budget, properties and other camunda attributes and extension elements."""
    form = [_form_field(f) for f in xpath(node, "./bpmn:extensionElements/camunda:formData/camunda:formField")]
    props: dict[str, str] = {}
    for prop in xpath(node, "./bpmn:extensionElements/camunda:properties/camunda:property"):
        props[prop.get("name") or ""] = prop.get("value")
    budget = props.pop(BUDGET_KEY, None)
    camunda: dict[str, str] = {}
    for name, value in node.attrib.items():
        qname = etree.QName(name)
        if qname.namespace == CAMUNDA_NS:
            camunda[qname.localname] = value
    counts: dict[str, int] = {}
    for ext in xpath(node, "./bpmn:extensionElements/*"):
        qname = etree.QName(ext) if isinstance(ext.tag, str) else None
        if qname is None or qname.namespace != CAMUNDA_NS or qname.localname == "properties":
            continue
        if qname.localname == "formData":  # its fields are the "form" category
            if ext.attrib:
                camunda["formData"] = _canonical(ext, skip=("formField",))
            continue
        counts[qname.localname] = counts.get(qname.localname, 0) + 1
        key = qname.localname if counts[qname.localname] == 1 else f"{qname.localname}[{counts[qname.localname]}]"
        camunda[key] = _canonical(ext)
    return {"form": form or None, "budget": budget, "properties": props or None, "camunda": camunda or None}


def _form_field(xml_field) -> dict:
    data = {"id": xml_field.get("id"), "label": xml_field.get("label"), "type": xml_field.get("type")}
    for name in ("defaultValue", "datePattern"):
        if xml_field.get(name) is not None:
            data[name] = xml_field.get(name)
    constraints = [f"{c.get('name')}={c.get('config')}" if c.get("config") is not None else c.get("name")
                   for c in xpath(xml_field, "./camunda:validation/camunda:constraint")]
    if constraints:
        data["constraints"] = constraints
    options = [f"{v.get('id')}={v.get('name')}" for v in xpath(xml_field, "./camunda:value")]
    if options:
        data["values"] = options
    rest = [c for c in xml_field if isinstance(c.tag, str) and local_name(c) not in ("validation", "value")]
    if rest:
        data["other"] = "".join(_canonical(c) for c in rest)
    return data


def _other(node, kind: str) -> str:
    """Everything of the element not in another category, nor an element of its own, as a string."""
    parts = []
    for name, value in sorted(node.attrib.items()):
        qname = etree.QName(name)
        if qname.namespace is None and name not in ("id", "name", "sourceRef", "targetRef", "default", "processRef"):
            parts.append(f"@{name}={value}")
        elif name == XSI_TYPE:
            parts.append(f"@xsi:type={_resolve_qname(node, value)}")
    for child in node:
        if not isinstance(child.tag, str):
            continue
        if is_bpmn(child, *ELEMENTS) and child.get("id"):
            continue  # an element of its own
        if is_bpmn(child, *_OWN_CATEGORY_CHILDREN) and not (kind == "lane" and local_name(child) == "laneSet"):
            if is_bpmn(child, "conditionExpression"):
                parts.append(_canonical(child, text=False))
            continue
        if is_bpmn(child) and local_name(child).endswith("EventDefinition") or is_bpmn(child, "eventDefinitionRef"):
            continue
        if is_bpmn(child, "extensionElements"):
            foreign = [c for c in child if isinstance(c.tag, str) and etree.QName(c).namespace != CAMUNDA_NS]
            parts.extend(_canonical(c) for c in foreign)
            continue
        if kind == "lane" and is_bpmn(child, "childLaneSet"):
            # bpmn-js-differ sees a child lane's own changes as a change of the parent lane too.
            parts.append(_canonical(child, skip=("flowNodeRef",)))
            continue
        parts.append(_canonical(child))
    return " ".join(parts)


def _resolve_qname(node, value: str) -> str:
    prefix, _, local = value.rpartition(":")
    namespace = node.nsmap.get(prefix or None)
    return f"{{{namespace}}}{local}" if namespace else value


def _canonical(node, *, skip: tuple = (), text: bool = True) -> str:
    """A prefix-independent text form of an XML subtree (namespaces by URI, attributes sorted)."""
    if not isinstance(node.tag, str):
        return ""
    attrs = []
    for name, value in sorted(node.attrib.items()):
        if name == XSI_TYPE:
            value = _resolve_qname(node, value)
        attrs.append(f"{name}={value!r}")
    inner = [_canonical(c, skip=skip) for c in node if isinstance(c.tag, str) and local_name(c) not in skip]
    body = (node.text or "").strip() if text else ""
    return f"<{node.tag} {' '.join(attrs)}>{body}{''.join(inner)}</>"


def _di_by_element(root) -> dict[str, list[str]]:
    """bpmnElement id -> the canonical geometry of its shapes and edges (every diagram)."""
    found: dict[str, list[str]] = {}
    for di in root.iter(f"{{{DI_NS}}}BPMNShape", f"{{{DI_NS}}}BPMNEdge"):
        target = di.get("bpmnElement")
        if target:
            found.setdefault(target, []).append(_geometry(di))
    return found


def _geometry(node) -> str:
    """Attributes of DI namespaces and children, ids and references left out, numbers as floats."""
    attrs = []
    for name, value in sorted(node.attrib.items()):
        qname = etree.QName(name)
        if name in ("id", "bpmnElement") or (qname.namespace and qname.namespace not in DD_NAMESPACES):
            continue
        attrs.append(f"{qname.localname}={_number(value)}")
    inner = "".join(_geometry(c) for c in node if isinstance(c.tag, str)
                    and etree.QName(c).namespace in DD_NAMESPACES)
    return f"<{local_name(node)} {' '.join(attrs)}>{inner}</>"


def _number(value: str) -> str:
    try:
        return repr(float(value))
    except ValueError:
        return value
