"""structlog everywhere: JSON when not on a terminal, readable on one; stdlib logs (dramatiq's,
uvicorn's, Litestar's) routed through the same processors. Event names are constant snake_case
strings with key/values.

* Context: ``structlog.contextvars`` is merged into every line, structlog's and the stdlib's, so the
  ids bound per HTTP request (``request_id``) and per dramatiq message (``message_id``, ``actor``,
  ``athlete_id``) appear on everything logged while handling it, dramatiq's own lines included.
* Privacy: no free-text health notes in logs. :func:`redact_free_text` replaces the value of any key
  named like a free-text field (``note``, ``reason``, ``explanation``, ...; see ``FREE_TEXT_KEYS``)
  with ``"[redacted]"``, also inside nested dicts, lists and msgspec Structs, and in stdlib
  ``extra=`` fields. It runs last before rendering, after every other processor.
* ``STRIDELINE_LOG_FORMAT=json|console`` overrides the terminal check (e.g. ``console`` under a
  process manager that is not a TTY); ``configure_logging(json=...)`` overrides both.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import msgspec
import structlog

FREE_TEXT_KEYS = frozenset({
    "note", "notes", "reason", "reasons", "explanation", "comment", "comments", "free_text", "text",
    "description", "body", "message_body", "symptoms",
})
"""Keys whose values are (or may be) free text an athlete or coach wrote: never logged."""
REDACTED = "[redacted]"
_MAX_DEPTH = 8
_STDLIB_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq", "litestar")


def _scrub(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return value
    if isinstance(value, msgspec.Struct):
        value = msgspec.to_builtins(value)
    if isinstance(value, dict):
        return {k: REDACTED if _is_free_text(k, v) else _scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, depth + 1) for v in value]
    return value


def _is_free_text(key: Any, value: Any) -> bool:
    return isinstance(key, str) and key.lower() in FREE_TEXT_KEYS and value not in (None, "")


def redact_free_text(logger: Any, method_name: str, event_dict: dict) -> dict:
    """structlog processor: replace free-text values (see ``FREE_TEXT_KEYS``), nested ones too."""
    for key in list(event_dict):
        if key in ("event", "_record", "_from_structlog"):
            continue
        value = event_dict[key]
        if _is_free_text(key, value):
            event_dict[key] = REDACTED
        elif isinstance(value, (dict, list, tuple, msgspec.Struct)):
            event_dict[key] = _scrub(value, 0)
    return event_dict


_SHARED = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.processors.StackInfoRenderer(),
]


def _wants_json(stream: Any, json: bool | None) -> bool:
    if json is not None:
        return json
    chosen = os.environ.get("STRIDELINE_LOG_FORMAT", "").strip().lower()
    if chosen in ("json", "console"):
        return chosen == "json"
    isatty = getattr(stream, "isatty", None)
    try:
        return not (isatty is not None and isatty())
    except (ValueError, OSError):  # a closed or odd stream (dramatiq's worker pipes)
        return True


def configure_logging(level: str = "INFO", *, json: bool | None = None, stream=None) -> None:
    """Configure structlog and the stdlib root logger for this process (idempotent)."""
    stream = stream or sys.stderr
    as_json = _wants_json(stream, json)
    renderer = structlog.processors.JSONRenderer() if as_json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=_SHARED + [redact_free_text, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED + [structlog.stdlib.ExtraAdder(), redact_free_text],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _STDLIB_LOGGERS:  # their own handlers (uvicorn's dictConfig) would bypass ours
        named = logging.getLogger(name)
        named.handlers[:] = []
        named.propagate = True
    # The API logs one privacy-safe ``http_request`` line per request; uvicorn's access log would
    # add raw paths and query strings.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
