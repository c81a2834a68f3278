"""Validation errors that say what was wrong and where."""

from __future__ import annotations

import re

import msgspec


MAX_ERRORS = 100
"""The most errors one refusal lists."""


class InvalidEvent(ValueError):
    """An event (or batch) was rejected at the edge; nothing was stored.

    ``path`` is a JSON path into the submitted document (``$[2].data.score``), ``reason`` says why.
    """

    def __init__(self, reason: str, path: str = "$", more: "list[InvalidEvent] | None" = None) -> None:
        self.reason = reason
        self.path = path
        self.more = more or []
        """The batch's other errors: a client fixes them all in one round trip."""
        super().__init__(f"{reason} - at `{path}`" + (f" (and {len(self.more)} more)" if self.more else ""))

    @classmethod
    def every(cls, errors: "list[InvalidEvent]") -> "InvalidEvent":
        """One exception carrying a list of errors (the first is its own reason and path), at most
        ``MAX_ERRORS``: a batch of 1000 broken events gets a readable answer, not a 1 MB one."""
        first, *rest = errors
        rest = [*first.more, *rest]
        if len(rest) >= MAX_ERRORS:
            left = len(rest) - (MAX_ERRORS - 2)
            rest = [*rest[:MAX_ERRORS - 2], InvalidEvent(f"{left} more errors not listed: fix these first", "$")]
        return cls(first.reason, first.path, rest)

    @property
    def errors(self) -> "list[InvalidEvent]":
        return [InvalidEvent(self.reason, self.path), *self.more]

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}

    def under(self, prefix: str) -> "InvalidEvent":
        """The same error, its path nested under ``prefix`` (``$[3]`` for a batch's 4th event)."""
        return InvalidEvent(self.reason, prefix + self.path[1:], [e.under(prefix) for e in self.more])


_AT = re.compile(r"^(?P<reason>.*?)(?: - at `(?P<path>[^`]*)`)?$", re.DOTALL)


_MISSING = re.compile(r"^Object missing required field `([A-Za-z0-9_]+)`$")
_UNKNOWN = re.compile(r"^unknown field `([A-Za-z_][A-Za-z0-9_]*)`$")
_FIELD_OF_CHECK = [(re.compile(pattern), field) for pattern, field in [
    (r"^unknown IANA time zone", "time_zone"),
    (r"^pre_injury_longest_run_km exceeds", "pre_injury_longest_run_km"),
    (r"^bone_site is", "bone_site"),
    (r"^contributors must", "contributors"),
    (r"^load_kg must", "load_kg"),
    (r"^walk_run_level is", "walk_run_level"),
    (r"^(result \(symmetry|hop_symmetry result)", "result"),
]]
"""Checks made in ``__post_init__`` are reported by msgspec at the object; each names its field."""


def from_msgspec(error: msgspec.ValidationError | msgspec.DecodeError) -> InvalidEvent:
    """Turn msgspec's one-line message (``Expected ... - at `$.x` ``) into an InvalidEvent."""
    match = _AT.match(str(error))
    assert match is not None
    reason = match.group("reason")
    reason = reason.replace("Object contains unknown field", "unknown field")
    path = match.group("path") or "$"
    missing = _MISSING.match(reason)
    unknown = _UNKNOWN.match(reason)
    if missing:  # point at the field itself, not at the object lacking it
        reason, path = f"missing required field `{missing.group(1)}`", f"{path}.{missing.group(1)}"
    elif unknown:  # at the unexpected field (a name a path can spell), not at the object holding it
        path = f"{path}.{unknown.group(1)}"
    else:
        for pattern, field in _FIELD_OF_CHECK:
            if pattern.match(reason):
                path = f"{path}.{field}"
                break
    if path.endswith(".replacement.type") and reason.startswith("Invalid value"):
        reason = ("an amendment can only replace a measurement (pain, lift, plyometric, run, sleep, "
                  "fuelling or readiness test), not" + reason[len("Invalid value"):])
    elif path.endswith(".type") and reason.startswith("Invalid value"):
        reason = "unknown event type" + reason[len("Invalid value"):]
    return InvalidEvent(reason, path)
