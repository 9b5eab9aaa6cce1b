"""The `alur diff` command: what changed between two BPMN files, matched by element id."""
from __future__ import annotations

from pathlib import Path

import click

from workflow_engine.bpmn_diff import BpmnDiff, diff_bpmn, value_text
from workflow_engine.errors import BpmnValidationError, Problem

from .cli_common import emit, friendly, json_option

# Longest value shown in the text output; --json always has the whole value.
SHOWN = 120


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise BpmnValidationError([Problem(f"the file cannot be read: {exc.strerror or exc}", path)]) from exc


def _short(value) -> str:
    text = value_text(value)
    return text if len(text) <= SHOWN else text[:SHOWN - 1] + "…"


def describe(result: BpmnDiff, old: str, new: str) -> str:
    """The diff as lines for people: a summary, then one line per element (+ added, - removed,
    ~ changed with one indented line per attribute, > moved in the diagram only)."""
    counts = (f"{len(result.added)} added, {len(result.removed)} removed, {len(result.changed)} changed, "
              f"{len(result.layout_changed)} moved")
    lines = [f"{old} -> {new}: " + ("no differences" if result.empty else counts)]

    def head(mark: str, element_id: str) -> str:
        element = result.element(element_id)
        kind = f" ({element.kind})" if element is not None else ""
        label = result.label(element_id)
        return f"{mark} {element_id}" + (f"  {label}" if label != element_id else "") + kind

    lines += [head("+", i) for i in result.added]
    lines += [head("-", i) for i in result.removed]
    for element_id, attrs in result.changed.items():
        lines.append(head("~", element_id))
        lines += [f"    {attr}: {_short(old_value)} -> {_short(new_value)}"
                  for attr, (old_value, new_value) in attrs.items()]
    lines += [head(">", i) for i in result.layout_changed]
    return "\n".join(lines)


@click.command("diff")
@click.argument("old", metavar="A.bpmn")
@click.argument("new", metavar="B.bpmn")
@json_option
@friendly
def diff(old, new, as_json):
    """Compare two BPMN files by element id: added, removed, changed (which attributes) and moved.

    With --json: {"added": [ids], "removed": [ids], "changed": {id: {attribute: [old, new]}},
    "layout_changed": [ids]}; layout_changed lists elements only moved in the diagram.
    """
    result = diff_bpmn(_read(old), _read(new), old_name=old, new_name=new)
    emit(result.to_dict(), as_json, describe(result, old, new))
