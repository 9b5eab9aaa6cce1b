"""Queries over SOP drafts."""
from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from .errors import NotFound
from .models import ProcessDraft

# Columns that lists need; the BPMN text stays in the database.
DRAFT_SUMMARY = (ProcessDraft.id, ProcessDraft.key, ProcessDraft.name, ProcessDraft.filename,
                 ProcessDraft.base_version, ProcessDraft.author, ProcessDraft.note, ProcessDraft.created_at,
                 ProcessDraft.updated_at, ProcessDraft.revision, ProcessDraft.executable,
                 ProcessDraft.problems)


def draft_by_id(session: Session, draft_id: int) -> ProcessDraft:
    draft = session.get(ProcessDraft, draft_id)
    if draft is None:
        raise NotFound(f"draft {draft_id} does not exist")
    return draft


def draft_summaries(session: Session, key: str | None = None) -> list:
    query = select(*DRAFT_SUMMARY).order_by(ProcessDraft.updated_at.desc(), ProcessDraft.id.desc())
    if key is not None:
        query = query.where(ProcessDraft.key == key)
    return list(session.execute(query))


def update_draft_if_revision(session: Session, draft_id: int, expected_revision: int, **values) -> bool:
    """Write a new revision only if the draft is still at `expected_revision`; tell whether it was."""
    result = session.execute(
        update(ProcessDraft)
        .where(ProcessDraft.id == draft_id, ProcessDraft.revision == expected_revision)
        .values(revision=ProcessDraft.revision + 1, **values))
    return result.rowcount == 1


def delete_draft_if_revision(session: Session, draft_id: int, revision: int | None = None) -> bool:
    """Delete a draft (only at `revision`, when given); tell whether a row went."""
    query = delete(ProcessDraft).where(ProcessDraft.id == draft_id)
    if revision is not None:
        query = query.where(ProcessDraft.revision == revision)
    return session.execute(query).rowcount == 1
