"""What the words of a step say about it: one sign-off rule for the lint, the metrics and the findings."""
from __future__ import annotations

import re

# Whole words only, so "ditandatangani" (already signed: "check the signed permit") and "disetujui?"
# (a gateway's question) are not sign-offs, while "menandatangani" and "memaraf" are. "persetujuan"
# counts only as the start of a step id: as a word it is also the name of a licence (Persetujuan
# Bangunan Gedung). A head's lane alone does not make a step a sign-off: heads also assign work.
SIGN_WORDS = frozenset("""paraf memaraf tandatangani menandatangani tandatangan ttd menyetujui mengesahkan
    sahkan approve approves approval approving sign signs signing signoff countersign endorse""".split())
SIGN_PHRASE = re.compile(r"\btanda\s+tangan\b|\bsign-off\b", re.IGNORECASE)
SIGN_ID = re.compile(r"^(paraf|tandatangani|ttd|persetujuan|pengesahan|approv|sign)", re.IGNORECASE)


def words(text: str | None) -> set[str]:
    return set(re.findall(r"[a-z]+", (text or "").lower()))


def is_signoff_name(name: str | None, step_id: str | None = None) -> bool:
    """True when a step's name or id says it is a paraf, a signature or an approval."""
    text = name or ""
    return bool(words(text) & SIGN_WORDS) or bool(SIGN_PHRASE.search(text)) or bool(SIGN_ID.match(step_id or ""))
