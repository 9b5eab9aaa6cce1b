"""Small helpers for reading BPMN 2.0 / Camunda XML trees with lxml."""
from __future__ import annotations

from lxml import etree

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NSMAP = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}

# Elements that own flow nodes: a node's "container" is the nearest of these above it.
CONTAINERS = ("process", "subProcess", "transaction", "adHocSubProcess")
EMBEDDED_SUBPROCESSES = ("subProcess", "transaction", "adHocSubProcess")
ACTIVITIES = ("task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask",
              "receiveTask", "businessRuleTask", "callActivity") + EMBEDDED_SUBPROCESSES
PERSON_TASKS = ("userTask", "manualTask")


def bpmn(tag: str) -> str:
    """Return the Clark name of a BPMN model element, e.g. ``{...MODEL}userTask``."""
    return f"{{{BPMN_NS}}}{tag}"


def local_name(element) -> str:
    """Return an element's tag without its namespace ('' for comments and processing instructions)."""
    if not isinstance(element.tag, str):
        return ""
    return etree.QName(element).localname


def is_bpmn(element, *names: str) -> bool:
    """Tell whether the element is in the BPMN namespace and, if names are given, is one of them."""
    if not isinstance(element.tag, str) or not element.tag.startswith(f"{{{BPMN_NS}}}"):
        return False
    return not names or local_name(element) in names


def line_of(element) -> int | None:
    """Return the element's line in the source, if lxml knows it."""
    return getattr(element, "sourceline", None) or None


def xpath(element, path: str) -> list:
    """Evaluate an XPath with the bpmn and camunda prefixes bound."""
    return element.xpath(path, namespaces=NSMAP)


def container_of(element):
    """Return the nearest process or embedded subprocess that holds the element."""
    parent = element.getparent()
    while parent is not None and not is_bpmn(parent, *CONTAINERS):
        parent = parent.getparent()
    return parent


def camunda_properties(element) -> list[tuple[str, str, object]]:
    """Return (name, value, property element) for the element's own camunda:properties."""
    found = []
    for prop in xpath(element, "./bpmn:extensionElements/camunda:properties/camunda:property"):
        found.append(((prop.get("name") or "").strip(), (prop.get("value") or "").strip(), prop))
    return found


def documentation_of(element) -> str | None:
    """Return the text of the element's first own bpmn:documentation, stripped, or None."""
    for doc in xpath(element, "./bpmn:documentation"):
        text = "".join(doc.itertext()).strip()
        return text or None
    return None


def effective_lanes(process_element, root) -> dict[str, str | None]:
    """Map each flow node id in the process to the lane name SpiffWorkflow will give its task."""
    # Mirror Spiff: the innermost lane listing the node wins (a later flowNodeRef overwrites), except
    # that a node inside an embedded subprocess inherits the subprocess's lane when it has one.
    listed: dict[str, str | None] = {}
    for ref in xpath(root, ".//bpmn:flowNodeRef"):
        if ref.text:
            listed[ref.text.strip()] = ref.getparent().get("name")
    result: dict[str, str | None] = {}
    # Document order visits a subprocess before its children, so its lane is known when needed.
    for node in process_element.iter():
        node_id = node.get("id") if isinstance(node.tag, str) else None
        if not node_id or not is_bpmn(node):
            continue
        container = container_of(node)
        inherited = None
        if container is not None and container is not process_element and is_bpmn(container, *EMBEDDED_SUBPROCESSES):
            inherited = result.get(container.get("id"))
        result[node_id] = inherited if inherited is not None else listed.get(node_id)
    return result


def lane_elements(process_element) -> list:
    """Return every lane of the process (nested lanes included) in document order."""
    return xpath(process_element, "./bpmn:laneSet//bpmn:lane")
