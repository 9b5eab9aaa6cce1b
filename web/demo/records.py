"""The simulation's own records: a planned arrival, a case it started, and a task it will do."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from workflow_engine.sop_info import SopInfo, StepInfo


@dataclass
class Plan:
    """An arrival: when, which SOP version, and any scripted fate."""

    at: datetime
    key: str
    version: int
    rng: random.Random
    hold: str | None = None          # "head" or "handoff": one step waits past now
    return_at: datetime | None = None  # scripted: the check returns the file at this moment
    clean: bool = False              # no return, no refusal


@dataclass
class SimCase:
    """A case the simulation started, with the form values and decisions made in it so far."""

    id: int
    plan: Plan
    info: SopInfo
    registrar: str
    first_lane: str | None
    factor: float
    ctx: dict = field(default_factory=dict)
    negatives: list = field(default_factory=list)
    seen_steps: dict = field(default_factory=dict)
    known: set = field(default_factory=set)
    held: bool = False
    intake_planned: bool = False
    returned: bool = False
    done: bool = False
    timer_at: datetime | None = None
    deadline: datetime | None = None


@dataclass
class SimTask:
    """An open task of a case, and who is to do it."""

    id: int
    case: SimCase
    step: StepInfo | None
    lane: str | None
    user: str | None = None
    gone: bool = False
    force_return: bool = False
