"""SOP drafts: BPMN being edited, checked on every save, published through deploy as the next version."""
from __future__ import annotations

import re
from pathlib import PurePath

from sqlalchemy import select

from . import store, store_drafts
from .engine_versions import DeployResult
from .errors import BpmnValidationError, Conflict, InvalidState, Problem
from .models import ProcessDraft, ProcessVersion
from .sop_lint import Inspection, inspect_bpmn
from .sop_template import check_key_and_name, new_sop_bpmn


class Drafts:
    """The Engine's operations on drafts and the SOP catalogue."""

    def inspect(self, content: bytes, filename: str) -> Inspection:
        """Check a BPMN file as deploy would, plus the simplification warnings; never raises for a bad file."""
        return inspect_bpmn(content, filename, max_bytes=self.settings.max_bpmn_bytes,
                            scripts_enabled=self.settings.scripts_enabled)

    def _checked(self, content: bytes, filename: str) -> tuple[Inspection, str]:
        """Inspect a file to be stored; refuse it when it is not safe, readable BPMN with a process."""
        if isinstance(content, str):
            content = content.encode("utf-8")
        inspection = self.inspect(content, filename)
        if not inspection.readable:
            raise BpmnValidationError(inspection.errors)
        try:
            text = bytes(content).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BpmnValidationError([Problem("the file is not UTF-8 text; save it as UTF-8 (every BPMN modeler "
                                               "can)", filename, code="unreadable")]) from exc
        return inspection, text

    @staticmethod
    def _columns(inspection: Inspection, filename: str) -> dict:
        key = inspection.key or re.sub(r"[^A-Za-z0-9_.-]+", "_", PurePath(filename).stem).strip("_") or "draft"
        return {"key": key[:200], "name": (inspection.name or key)[:500],
                "executable": inspection.executable,
                "problems": [p.to_dict() for p in inspection.problems]}

    def create_draft(self, content: bytes, filename: str, *, author: str | None, note: str | None = None,
                     base_version: int | None = None) -> int:
        """Store any readable BPMN file as a draft, descriptive models included; returns its id."""
        inspection, text = self._checked(content, filename)
        now = self.now()
        with self.db.write() as s:
            row = ProcessDraft(bpmn_xml=text, filename=(filename or "sop.bpmn")[:500], base_version=base_version,
                               author=author, note=note, created_at=now, updated_at=now, revision=1,
                               **self._columns(inspection, filename))
            s.add(row)
            s.flush()
            store.audit(s, now, "draft.created", actor=author, draft_id=row.id, key=row.key,
                        base_version=base_version)
            return row.id

    def new_draft(self, key: str, name: str, *, author: str | None) -> int:
        """Start a new SOP from the template (one lane, a start, one user task, an end)."""
        key, name = check_key_and_name(key, name)
        with self.db.read() as s:
            if s.scalar(select(ProcessVersion.id).where(ProcessVersion.key == key).limit(1)) is not None:
                raise InvalidState(f"SOP '{key}' already exists; open one of its versions as a draft instead")
        return self.create_draft(new_sop_bpmn(key, name), f"{key}.bpmn", author=author)

    def draft_from_version(self, key: str, number: int, *, author: str | None) -> int:
        """Open a copy of an SOP version as a new draft based on it."""
        with self.db.read() as s:
            row = s.get(ProcessVersion, store.version_id(s, key, number))
            xml, filename, version = row.bpmn_xml, row.filename, row.version
        return self.create_draft(xml.encode("utf-8"), filename, author=author, base_version=version)

    def save_draft(self, draft_id: int, content: bytes, *, author: str | None, expected_revision: int) -> dict:
        """Replace a draft's BPMN if nobody saved it since `expected_revision`; returns the saved draft."""
        with self.db.read() as s:
            filename = store_drafts.draft_by_id(s, draft_id).filename
        inspection, text = self._checked(content, filename)
        now = self.now()
        with self.db.write() as s:
            saved = store_drafts.update_draft_if_revision(
                s, draft_id, expected_revision, bpmn_xml=text, author=author, updated_at=now,
                **self._columns(inspection, filename))
            if not saved:
                current = store_drafts.draft_by_id(s, draft_id)  # NotFound when it was deleted
                raise Conflict(f"draft {draft_id} was saved by {current.author or 'someone else'} meanwhile "
                               f"(revision {current.revision}, yours was {expected_revision}); nothing of yours "
                               "was saved: reload it and make your change again")
            store.audit(s, now, "draft.saved", actor=author, draft_id=draft_id, revision=expected_revision + 1)
        return self.draft(draft_id)

    def draft(self, draft_id: int) -> dict:
        """A draft with its BPMN, errors and warnings."""
        with self.db.read() as s:
            row = store_drafts.draft_by_id(s, draft_id)
            return {**self._draft_dict(row), "xml": row.bpmn_xml}

    def drafts(self, key: str | None = None) -> list[dict]:
        """Drafts (newest change first) without their BPMN, with problem counts."""
        with self.db.read() as s:
            return [self._draft_dict(row) for row in store_drafts.draft_summaries(s, key)]

    def _draft_dict(self, row) -> dict:
        problems = row.problems or []
        errors = [p for p in problems if p.get("severity") == "error"]
        warnings = [p for p in problems if p.get("severity") != "error"]
        return {"id": row.id, "key": row.key, "name": row.name, "filename": row.filename,
                "base_version": row.base_version, "author": row.author, "note": row.note,
                "created_at": self.viewer.iso(row.created_at), "updated_at": self.viewer.iso(row.updated_at),
                "revision": row.revision, "executable": row.executable, "errors": errors, "warnings": warnings,
                "error_count": len(errors), "warning_count": len(warnings)}

    def delete_draft(self, draft_id: int, *, actor: str | None) -> None:
        with self.db.write() as s:
            key = store_drafts.draft_by_id(s, draft_id).key
            store_drafts.delete_draft_if_revision(s, draft_id)
            store.audit(s, self.now(), "draft.deleted", actor=actor, draft_id=draft_id, key=key)

    def publish_draft(self, draft_id: int, *, note: str | None, author: str | None) -> DeployResult:
        """Deploy a draft as the next version of its SOP (the same checks as any deploy), then drop it."""
        with self.db.read() as s:
            row = store_drafts.draft_by_id(s, draft_id)
            xml, filename, revision = row.bpmn_xml, row.filename, row.revision
        result = self.deploy(xml.encode("utf-8"), filename, author=author, note=note)
        if not result.created:
            raise InvalidState(f"the draft is the same as version {result.version} of SOP '{result.key}'; "
                               "change something before publishing")
        with self.db.write() as s:
            # A save made while deploying stays as a draft: it holds edits the new version lacks.
            dropped = store_drafts.delete_draft_if_revision(s, draft_id, revision)
            store.audit(s, self.now(), "process.published_draft", actor=author, draft_id=draft_id,
                        key=result.key, version=result.version, draft_kept=not dropped)
        return result

    def catalogue(self) -> list[dict]:
        """Every SOP with its versions (status, cases run) and drafts, SOPs with only drafts included."""
        with self.db.read() as s:
            versions = store.version_summaries(s)
            counts = store.case_counts_by_version(s)
            drafts = store_drafts.draft_summaries(s)
        entries: dict[str, dict] = {}

        def entry(key: str, name: str) -> dict:
            return entries.setdefault(key, {"key": key, "name": name, "published_version": None,
                                            "versions": [], "drafts": []})

        for v in versions:  # ordered by key and number, so the last name seen is the latest
            item = entry(v.key, v.name)
            item["name"] = v.name
            item["versions"].append({"version": v.version, "status": v.status, "author": v.author,
                                     "created_at": self.viewer.iso(v.created_at), "note": v.note,
                                     "cases": counts.get(v.id, 0), "filename": v.filename})
            if v.status == "published":
                item["published_version"] = v.version
        for d in drafts:
            summary = self._draft_dict(d)
            entry(d.key, d.name)["drafts"].append(
                {k: summary[k] for k in ("id", "name", "author", "updated_at", "base_version", "executable",
                                         "error_count", "warning_count")})
        return sorted(entries.values(), key=lambda e: (e["name"].casefold(), e["key"]))

