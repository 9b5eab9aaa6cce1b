"""The SOP library in the demo's past: each version deployed when it was published, and read back."""
from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from pathlib import Path

from workflow_engine import FixedClock
from workflow_engine.errors import AlurError
from workflow_engine.sop_info import SopInfo

from .knobs import SWITCH_SHARE, Echo


def history_period(now: datetime, days: int) -> tuple[datetime, datetime]:
    """The period's start and the moment the newest SOP versions are published."""
    start = now - timedelta(days=days)
    return start, start + (now - start) * SWITCH_SHARE


def deploy_library(engine, folder: Path, *, now: datetime, days: int, echo: Echo = print,
                   author: str = "analis") -> list:
    """Deploy every SOP version under `folder` at the moment it was published in the demo's past."""
    # The first version of each SOP is deployed a week before the history begins, later versions at
    # the switch moment, so that version dates agree with the cases that run on them.
    start, switch = history_period(now, days)
    by_sop: dict[Path, list[Path]] = {}
    for path in sorted(folder.rglob("*.bpmn")):
        by_sop.setdefault(path.parent, []).append(path)
    old_clock, results = engine.clock, []
    try:
        for parent in sorted(by_sop):
            files = sorted(by_sop[parent], key=lambda p: (int(m.group(1)) if (m := re.search(r"(\d+)", p.stem))
                                                          else 0, p.name))
            for index, path in enumerate(files):
                engine.clock = FixedClock(start - timedelta(days=7) if index == 0 else switch)
                result = engine.deploy(path.read_bytes(), path.name, author=author,
                                       note=f"SOP library: {parent.name}/{path.name}")
                echo(f"SOP {result.key} v{result.version}")
                results.append(result)
    finally:
        engine.clock = old_clock
    return results


def published_sops(engine, rng: random.Random) -> tuple[dict[str, list[int]], dict[tuple[str, int], SopInfo],
                                                         dict[str, float]]:
    """The published version numbers of every SOP, each version's facts, and how often each SOP is asked for."""
    versions: dict[str, list[int]] = {}
    infos: dict[tuple[str, int], SopInfo] = {}
    for proc in sorted(engine.processes(), key=lambda p: p["key"]):
        numbers = sorted(v["version"] for v in proc["versions"] if v["status"] == "published")
        if not numbers:
            continue
        versions[proc["key"]] = numbers
        for number in numbers:
            infos[(proc["key"], number)] = SopInfo.from_dict(engine.process_info(proc["key"], number))
    if not versions:
        raise AlurError("no SOP is deployed: deploy the SOP library before making a history")
    # Some services are asked for more often than others.
    weights = {key: rng.uniform(0.6, 1.4) for key in versions}
    return versions, infos, weights
