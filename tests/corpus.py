"""Where the BPMN MIWG reference models are read from (in place; they are never copied into the repository)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _miwg_dir() -> Path:
    """ALUR_MIWG_DIR, else the shared corpus beside the checkout, else the one at /work/shared."""
    if os.environ.get("ALUR_MIWG_DIR"):
        return Path(os.environ["ALUR_MIWG_DIR"])
    for candidate in (ROOT.parent / "shared" / "corpus" / "miwg-reference",
                      Path("/work/shared/corpus/miwg-reference")):
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared" / "corpus" / "miwg-reference"


MIWG = _miwg_dir()
