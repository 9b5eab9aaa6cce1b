"""Errors the engine raises; each carries a message a person can act on."""
from __future__ import annotations

from dataclasses import dataclass


class AlurError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Problem:
    """One located problem in a BPMN file."""

    message: str
    file: str | None = None
    element_id: str | None = None
    line: int | None = None
    severity: str = "error"
    # The rule that found it (e.g. "no-budget", "handoff-chain"), so the UI and tests can refer to it.
    code: str | None = None

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p)
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element}: {self.message}" if where or element else self.message

    def to_dict(self) -> dict:
        return {"message": self.message, "file": self.file, "element_id": self.element_id,
                "line": self.line, "severity": self.severity, "code": self.code}


class BpmnValidationError(AlurError):
    """A BPMN file was refused; `problems` says where and why."""

    code = "invalid_bpmn"

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid BPMN file")


class NotFound(AlurError):
    code = "not_found"


class Forbidden(AlurError):
    code = "forbidden"


class Conflict(AlurError):
    """Someone else changed the case first; nothing of this operation was saved."""

    code = "conflict"


class InvalidState(AlurError):
    """The operation does not fit the task's or case's current state."""

    code = "invalid_state"


class FormError(AlurError):
    """Submitted form data does not satisfy the step's form; `fields` maps field id to message."""

    code = "invalid_form"

    def __init__(self, fields: dict[str, str]):
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


class ScriptError(AlurError):
    """A script or condition in the SOP failed or was refused by the sandbox."""

    code = "script_error"


class EngineLimitError(AlurError):
    """The case reached a limit of the underlying engine (e.g. the task-tree depth)."""

    code = "engine_limit"
