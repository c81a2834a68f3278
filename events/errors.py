"""Validation errors that say what was wrong and where."""

from __future__ import annotations

import re

import msgspec


class InvalidEvent(ValueError):
    """An event (or batch) was rejected at the edge; nothing was stored.

    ``path`` is a JSON path into the submitted document (``$[2].data.score``), ``reason`` says why.
    """

    def __init__(self, reason: str, path: str = "$") -> None:
        self.reason = reason
        self.path = path
        super().__init__(f"{reason} - at `{path}`")

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}

    def under(self, prefix: str) -> "InvalidEvent":
        """The same error, its path nested under ``prefix`` (``$[3]`` for a batch's 4th event)."""
        return InvalidEvent(self.reason, prefix + self.path[1:])


_AT = re.compile(r"^(?P<reason>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)


def from_msgspec(error: msgspec.ValidationError | msgspec.DecodeError) -> InvalidEvent:
    """Turn msgspec's one-line message (``Expected ... - at `$.x` ``) into an InvalidEvent."""
    match = _AT.match(str(error))
    assert match is not None
    reason = match.group("reason")
    reason = reason.replace("Object contains unknown field", "unknown field")
    path = match.group("path") or "$"
    if path.endswith(".replacement.type") and reason.startswith("Invalid value"):
        reason = ("an amendment can only replace a measurement (pain, lift, plyometric, run, sleep, "
                  "fuelling or readiness test), not" + reason[len("Invalid value"):])
    elif path.endswith(".type") and reason.startswith("Invalid value"):
        reason = "unknown event type" + reason[len("Invalid value"):]
    return InvalidEvent(reason, path)
