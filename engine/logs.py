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
* One format: the stdlib's lines get constant event names too (:func:`constant_event_names`:
  ``dramatiq_retry_scheduled`` with ``message_id`` and ``delay_ms``, not "Retrying message 'ab12'
  in 1000 milliseconds."), uvicorn's ``color_message`` (ANSI escapes) is dropped, and an attempt
  whose exception says ``retry_expected`` (a webhook 503 retried with backoff) is logged at WARNING
  with the error, without a traceback (:class:`StdlibRecords`).
"""

from __future__ import annotations

import logging
import os
import re
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


_KNOWN_TEMPLATES: dict[str, tuple[str, tuple[str | None, ...]]] = {
    # dramatiq's own lines -> (event, what each argument is; None: a Message, read for its ids)
    "Retrying message %r in %d milliseconds.": ("dramatiq_retry_scheduled", ("message_id", "delay_ms")),
    "Retries exceeded for message %r.": ("dramatiq_retries_exceeded", ("message_id",)),
    "Failed to process message %s with unhandled exception.": ("dramatiq_message_failed", (None,)),
    "Failed to process message %s with expected exception %s.": ("dramatiq_message_refused",
                                                                 (None, "exception")),
    "Message %s was skipped.": ("dramatiq_message_skipped", (None,)),
    "Received message %s with id %r.": ("dramatiq_message_received", (None, "message_id")),
    "Worker process is ready for action.": ("dramatiq_worker_process_ready", ()),
    # uvicorn's
    "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)": ("uvicorn_listening", ("scheme", "host", "port")),
    "Started server process [%d]": ("uvicorn_started", ("pid",)),
}
_BOOTING = re.compile(r"^Dramatiq '([^']+)' is booting up\.$")
_PLACEHOLDER = re.compile(r"%[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]")
_NOT_A_NAME = re.compile(r"[^a-z0-9]+")


def constant_event_names(logger: Any, method_name: str, event_dict: dict) -> dict:
    """structlog processor for stdlib records: the event is a constant snake_case name derived from
    the format string, never the formatted text (which embeds message and athlete ids); the
    arguments become keys. uvicorn's ``color_message`` is dropped."""
    event_dict.pop("color_message", None)
    raw_args = event_dict.pop(_ARGS, None)  # stashed by StdlibRecords: the formatter empties record.args
    record = event_dict.get("_record")
    if record is None or event_dict.get("_from_structlog") or not isinstance(record.msg, str):
        return event_dict
    args = raw_args if isinstance(raw_args, tuple) else ((raw_args,) if raw_args else ())
    known = _KNOWN_TEMPLATES.get(record.msg)
    if known is None and (booting := _BOOTING.match(record.msg)):  # dramatiq formats this one itself
        known, args = ("dramatiq_booting", ("version",)), booting.groups()
    if known is None:
        prefix = record.name.split(".", 1)[0]
        slug = _NOT_A_NAME.sub("_", _PLACEHOLDER.sub(" ", record.msg).lower()).strip("_")[:60].rstrip("_")
        event_dict["event"] = f"{prefix}_{slug}" if slug else prefix
        if args:
            event_dict["args"] = [a if isinstance(a, (int, float)) else str(a) for a in args]
        return event_dict
    event_dict["event"], names = known
    for name, value in zip(names, args):
        if name is None:  # a dramatiq Message: its ids as keys (not its repr with the arguments)
            event_dict.setdefault("message_id", getattr(value, "message_id", None))
            event_dict.setdefault("actor", getattr(value, "actor_name", None))
        else:
            event_dict[name] = value if isinstance(value, (int, float)) else str(value)
    return event_dict


_ARGS = "_strideline_args"


class StdlibRecords(logging.Filter):
    """Before formatting: keeps a record's arguments for :func:`constant_event_names`, and logs an
    attempt that failed with an exception marked ``retry_expected`` (retried with backoff, e.g. a
    webhook answering 503) as routine: WARNING with the error, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__[_ARGS] = record.args
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and getattr(exc, "retry_expected", False) and record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
            record.__dict__["error"] = f"{type(exc).__name__}: {exc}"[:500]
            record.__dict__["retry_expected"] = True
        return True


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
    handler.addFilter(StdlibRecords())
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED + [structlog.stdlib.ExtraAdder(), constant_event_names, redact_free_text],
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
