"""Upcasters: pure functions that lift an old-shape stored payload to the current shape.

Stored events are never rewritten. When a change cannot be additive (docs/schema-evolution.md), the
old tag stays readable through a chain of upcasters applied at read time, before typed decoding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]


def _sleep_recorded_v0(old: Payload) -> Payload:
    """The 2025 beta app logged sleep as whole minutes under ``sleep.recorded``."""
    new: Payload = {"type": "sleep.logged", "hours": round(old["minutes"] / 60.0, 3)}
    if old.get("quality") is not None:
        new["quality"] = old["quality"]
    return new


def _pain_logged_v0(old: Payload) -> Payload:
    """The beta app's ``pain.logged`` used ``level`` and ``when`` (``morning`` for next morning)."""
    context = {"morning": "next_morning"}.get(old["when"], old["when"])
    return {"type": "pain.reported", "score": old["level"], "context": context,
            "site": old.get("site", "injury")}


UPCASTERS: dict[str, Upcaster] = {
    "sleep.recorded": _sleep_recorded_v0,
    "pain.logged": _pain_logged_v0,
}
"""Old tag -> upcaster. An upcaster may return another old tag; the chain runs to a current one."""


def upcast(payload: Payload) -> Payload:
    """Apply upcasters until the payload has a current tag (bounded, so a cycle cannot hang).

    A payload that embeds a whole event (``entry.amended``'s ``replacement``) has that event
    upcast too, so retiring a measurement's tag never strands the amendments that replaced one.
    """
    for _ in range(16):
        step = UPCASTERS.get(payload.get("type", ""))
        if step is None:
            break
        payload = step(payload)
    else:
        raise RuntimeError(f"upcaster chain too long for {payload.get('type')!r}")
    nested = payload.get("replacement")
    if isinstance(nested, dict) and nested.get("type") in UPCASTERS:
        payload = {**payload, "replacement": upcast(nested)}
    return payload
