"""Valid form values for a step, choosing the way forward where a field decides the path."""
from __future__ import annotations

FORWARD = ("lengkap", "sesuai", "setuju", "disetujui", "ya", "lulus", "layak", "lunas", "terbit",
           "approve", "ok")


def form_values(fields) -> dict:
    values = {}
    for f in fields:
        if f.type == "enum" and f.options:
            ids = [o[0] for o in f.options]
            values[f.id] = next((i for i in ids if i.lower() in FORWARD), ids[0])
        elif f.type == "boolean":
            values[f.id] = True
        elif f.type in ("long", "double"):
            low = f.constraints.get("min")
            values[f.id] = int(float(low)) if low not in (None, "") else 1
        elif f.type == "date":
            values[f.id] = "2026-12-01"
        else:
            minimum = int(f.constraints.get("minlength") or 1)
            values[f.id] = ("contoh-isian-" * 20)[:max(minimum, 12)]
    return values
