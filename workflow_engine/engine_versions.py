"""SOP versions: validate and store BPMN files as immutable versions, and read them back."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import store
from .bpmn_loader import LoadedProcess, load_bpmn
from .errors import Conflict, InvalidState
from .models import ProcessVersion
from .sop_info import SopInfo


@dataclass(frozen=True)
class DeployResult:
    key: str
    name: str
    version: int
    created: bool
    content_hash: str
    warnings: tuple

    def to_dict(self) -> dict:
        return {"key": self.key, "name": self.name, "version": self.version, "created": self.created,
                "content_hash": self.content_hash, "warnings": [w.to_dict() for w in self.warnings]}


class ParsedVersion(NamedTuple):
    spec: Any
    subprocess_specs: dict
    info: SopInfo
    number: int


class SopVersions:
    """The Engine's operations on SOP versions."""

    def load(self, content: bytes, filename: str) -> LoadedProcess:
        """Validate a BPMN file without storing anything."""
        return load_bpmn(content, filename, max_bytes=self.settings.max_bpmn_bytes,
                         scripts_enabled=self.settings.scripts_enabled)

    def deploy(self, content: bytes, filename: str, *, author: str | None = None,
               note: str | None = None) -> DeployResult:
        """Store a BPMN file as the next version of its SOP; identical content changes nothing."""
        loaded = self.load(content, filename)
        now = self.now()
        try:
            with self.db.write() as s:
                existing = store.version_by_hash(s, loaded.key, loaded.content_hash)
                if existing is not None:
                    return DeployResult(loaded.key, existing.name, existing.version, False,
                                        loaded.content_hash, loaded.warnings)
                number = store.next_version_number(s, loaded.key)
                row = ProcessVersion(
                    key=loaded.key, version=number, name=loaded.name,
                    bpmn_xml=loaded.xml.decode("utf-8"), filename=filename,
                    content_hash=loaded.content_hash,
                    spec_json=self.codec.dump_spec(loaded.spec, loaded.subprocess_specs),
                    info=loaded.info.to_dict(), status="published", author=author, note=note,
                    created_at=now)
                s.add(row)
                s.flush()
                store.audit(s, now, "process.deployed", actor=author, key=loaded.key,
                            version=number, content_hash=loaded.content_hash)
                return DeployResult(loaded.key, loaded.name, number, True, loaded.content_hash,
                                    loaded.warnings)
        except IntegrityError as exc:
            raise Conflict(f"another deploy of SOP '{loaded.key}' happened at the same time; "
                           "try again") from exc

    def version(self, version_id: int, session: Session) -> "ParsedVersion":
        """The parsed spec and metadata of a version, parsed once and cached (versions never change)."""
        def parse():
            row = session.get(ProcessVersion, version_id)
            spec, subprocess_specs = self.codec.load_spec(row.spec_json)
            return ParsedVersion(spec, subprocess_specs, SopInfo.from_dict(row.info), row.version)
        return self._specs.get(version_id, parse)

    def set_version_status(self, key: str, number: int, status: str, *, actor: str | None = None) -> None:
        if status not in ("published", "retired"):
            raise InvalidState(f"unknown version status '{status}' (published or retired)")
        with self.db.write() as s:
            row = s.get(ProcessVersion, store.version_id(s, key, number))
            row.status = status
            store.audit(s, self.now(), f"process.{status}", actor=actor, key=key, version=number)

    def process_info(self, key: str, number: int | None = None) -> dict:
        """An SOP version's metadata: identity, service limit, lanes and steps with mutu baku."""
        with self.db.read() as s:
            vid = store.version_id(s, key, number)
            row = s.get(ProcessVersion, vid)
            return {"key": row.key, "version": row.version, "status": row.status,
                    "content_hash": row.content_hash, "author": row.author, "note": row.note,
                    "created_at": self.viewer.iso(row.created_at), **row.info}

    def version_xml(self, case_ref) -> str:
        """The BPMN XML of the SOP version a case runs on (for the case page's diagram)."""
        with self.db.read() as s:
            case = store.case_by_reference(s, case_ref)
            return s.get(ProcessVersion, case.process_version_id).bpmn_xml

    def processes(self) -> list[dict]:
        return self.viewer.processes()

