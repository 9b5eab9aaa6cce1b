"""References to one side of an SOP comparison (a version or a draft), and reading its BPMN."""
from __future__ import annotations

import re

from . import store
from .bpmn_diff import BpmnDiff, diff_bpmn
from .errors import InvalidState, NotFound
from .models import ProcessVersion

_REF = re.compile(r"^\s*(?:v(?P<version>\d{1,9})|(?P<bare>\d{1,9})|d(?P<draft>\d{1,9}))\s*$", re.IGNORECASE)


class BadRef(InvalidState, ValueError):
    """A reference that is neither a version number nor a draft."""


def parse_ref(ref) -> tuple[str, int]:
    """A reference as ("version", n) or ("draft", id): 2, "2", "v2" or "d7"; BadRef otherwise."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        if ref < 1:
            raise BadRef(f"{ref!r} is not a version number (1, 2, v2) or a draft (d7)")
        return "version", ref
    match = _REF.match(str(ref))
    number = match and int(match.group("version") or match.group("bare") or match.group("draft"))
    if not number:
        raise BadRef(f"{str(ref)!r} is not a version number (1, 2, v2) or a draft (d7)")
    return ("draft" if match.group("draft") else "version"), number


class VersionDiffs:
    """The Engine's reading of one side of a comparison, and the structural diff of two sides."""

    def sop_xml(self, key: str, ref) -> str:
        """The BPMN XML of version `ref` (2) or draft `ref` (d7) of SOP `key`; NotFound otherwise."""
        try:
            kind, number = parse_ref(ref)
        except BadRef as exc:
            raise NotFound(str(exc)) from exc
        if kind == "version":
            with self.db.read() as s:
                return s.get(ProcessVersion, store.version_id(s, key, number)).bpmn_xml
        draft = self.draft(number)
        if draft.get("key") != key:
            raise NotFound(f"draft d{number} is not a draft of SOP '{key}'")
        return draft["xml"]

    def diff_versions(self, key: str, a, b) -> BpmnDiff:
        """Compare two versions or drafts of SOP `key` (refs as in sop_xml)."""
        old, new = self.sop_xml(key, a), self.sop_xml(key, b)
        return diff_bpmn(old.encode("utf-8"), new.encode("utf-8"), old_name=f"{key} {a}", new_name=f"{key} {b}",
                         max_bytes=self.settings.max_bpmn_bytes)
