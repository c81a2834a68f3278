"""Logs: structlog for ours and the stdlib's (dramatiq, uvicorn), JSON off a terminal and readable
on one, bound ids on every line, and never a free-text health note."""

from __future__ import annotations

import io
import json
import logging

import msgspec
import pytest
import structlog

from engine.logs import REDACTED, configure_logging

NOTE = "left knee swollen after the party, scared to run"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def restore_logging():
    """Each test configures logging its own way; put everything back afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, structlog.get_config())
    named = {n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate, logging.getLogger(n).level)
             for n in ("uvicorn", "uvicorn.error", "uvicorn.access", "dramatiq")}
    yield
    root.handlers[:], level, config = saved
    root.setLevel(level)
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()
    for name, (handlers, propagate, lvl) in named.items():
        logger = logging.getLogger(name)
        logger.handlers[:], logger.propagate = handlers, propagate
        logger.setLevel(lvl)


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_free_text_keys_are_redacted_from_our_lines():
    """note, reason and explanation values never reach the output; ids and numbers do."""
    out = io.StringIO()
    configure_logging(stream=out)
    structlog.get_logger("t").info("pain_logged", athlete_id="ath-1", score=6, note=NOTE,
                                   reason=NOTE, explanation=NOTE)
    (line,) = _lines(out)
    assert NOTE not in out.getvalue()
    assert line["note"] == line["reason"] == line["explanation"] == REDACTED
    assert line["athlete_id"] == "ath-1" and line["score"] == 6 and line["event"] == "pain_logged"


def test_nested_free_text_is_redacted_too():
    """Inside dicts, lists and msgspec Structs (an event payload logged whole) notes are redacted."""
    from events.vocabulary import PainReported

    out = io.StringIO()
    configure_logging(stream=out)
    event = msgspec.convert({"score": 4, "context": "rest", "note": NOTE}, PainReported)
    structlog.get_logger("t").warning("rejected", data={"type": "pain.reported", "note": NOTE},
                                      batch=[{"Comment": NOTE}], event_payload=event)
    (line,) = _lines(out)
    assert NOTE not in out.getvalue()
    assert line["data"] == {"type": "pain.reported", "note": REDACTED}
    assert line["event_payload"]["note"] == REDACTED and line["event_payload"]["score"] == 4


def test_stdlib_lines_go_through_structlog_and_are_redacted():
    """dramatiq's and uvicorn's stdlib records come out as JSON with their extra fields redacted."""
    out = io.StringIO()
    configure_logging(stream=out)
    logging.getLogger("dramatiq.worker.WorkerThread").error("Failed to process message %s", "project('ath-1')",
                                                            extra={"reason": NOTE, "attempt": 2})
    logging.getLogger("uvicorn.error").info("Started server process")
    first, second = _lines(out)
    assert first["event"] == "dramatiq_failed_to_process_message" and first["level"] == "error"
    assert first["args"] == ["project('ath-1')"]
    assert first["reason"] == REDACTED and first["attempt"] == 2
    assert second["logger"] == "uvicorn.error"
    assert NOTE not in out.getvalue()


def test_bound_ids_appear_on_stdlib_and_structlog_lines():
    """Ids bound for a message or request (contextvars) are on every line logged meanwhile."""
    out = io.StringIO()
    configure_logging(stream=out)
    with structlog.contextvars.bound_contextvars(message_id="m-1", athlete_id="ath-7", request_id="r-9"):
        structlog.get_logger("t").info("projected", events=3)
        logging.getLogger("dramatiq.broker").warning("Retrying message")
    structlog.get_logger("t").info("after")
    inside, dramatiq_line, after = _lines(out)
    for line in (inside, dramatiq_line):
        assert (line["message_id"], line["athlete_id"], line["request_id"]) == ("m-1", "ath-7", "r-9")
    assert "message_id" not in after


def test_json_off_a_terminal_and_readable_on_one(monkeypatch):
    """A pipe gets one JSON object per line; a terminal gets aligned key=value text."""
    monkeypatch.delenv("STRIDELINE_LOG_FORMAT", raising=False)
    pipe, tty = io.StringIO(), Terminal()
    configure_logging(stream=pipe)
    structlog.get_logger("t").info("hello", athlete_id="ath-1")
    configure_logging(stream=tty)
    structlog.get_logger("t").info("hello", athlete_id="ath-1")
    assert json.loads(pipe.getvalue())["event"] == "hello"
    assert tty.getvalue().lstrip()[0] != "{" and "hello" in tty.getvalue() and "athlete_id=ath-1" in tty.getvalue()


def test_log_format_variable_overrides_the_terminal_check(monkeypatch):
    """STRIDELINE_LOG_FORMAT=json gives JSON even on a terminal (a process manager's pseudo-TTY)."""
    monkeypatch.setenv("STRIDELINE_LOG_FORMAT", "json")
    tty = Terminal()
    configure_logging(stream=tty)
    structlog.get_logger("t").info("hello")
    assert json.loads(tty.getvalue())["event"] == "hello"


def test_uvicorn_handlers_give_way_to_ours():
    """uvicorn's own handlers are removed so its records propagate to ours; its access log is off."""
    logging.getLogger("uvicorn.error").addHandler(logging.StreamHandler(io.StringIO()))
    logging.getLogger("uvicorn.error").propagate = False
    configure_logging(stream=io.StringIO())
    assert logging.getLogger("uvicorn.error").handlers == []
    assert logging.getLogger("uvicorn.error").propagate
    assert logging.getLogger("uvicorn.access").getEffectiveLevel() == logging.WARNING


def test_dramatiq_lines_get_constant_event_names_with_ids_as_keys():
    """Given dramatiq's retry line, when it is logged, then its event is the same for every message
    (``dramatiq_retry_scheduled``) and the message id and delay are keys, not part of the name."""
    out = io.StringIO()
    configure_logging(stream=out)
    for message_id in ("7f3a", "9c1e"):
        logging.getLogger("dramatiq.middleware.retries.Retries").info(
            "Retrying message %r in %d milliseconds.", message_id, 1500)
    first, second = _lines(out)
    assert first["event"] == second["event"] == "dramatiq_retry_scheduled"
    assert (first["message_id"], first["delay_ms"], second["message_id"]) == ("7f3a", 1500, "9c1e")


def test_uvicorn_color_message_is_dropped():
    """uvicorn's ANSI-coloured duplicate of its message never reaches the output."""
    out = io.StringIO()
    configure_logging(stream=out)
    logging.getLogger("uvicorn.error").info("Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", "http",
                                            "127.0.0.1", 8000, extra={"color_message": "\x1b[1m%s\x1b[0m"})
    (line,) = _lines(out)
    assert "color_message" not in line and "\x1b" not in out.getvalue()
    assert (line["event"], line["host"], line["port"]) == ("uvicorn_listening", "127.0.0.1", 8000)


def test_an_expected_retry_is_a_warning_without_a_traceback():
    """Given a webhook answering 503 (TransientDeliveryError, retried with backoff), when dramatiq
    logs the failed attempt with its traceback at ERROR, then the line is a WARNING naming the
    error, with no traceback; an unexpected exception keeps ERROR and its traceback."""
    import uuid

    from engine.outbox import TransientDeliveryError

    out = io.StringIO()
    configure_logging(stream=out)
    worker = logging.getLogger("dramatiq.worker.WorkerThread")
    for exc in (TransientDeliveryError("webhook", "ath-1", uuid.uuid4(), RuntimeError("HTTP 503")),
                KeyError("bug")):
        try:
            raise exc
        except Exception:
            worker.error("Failed to process message %s with unhandled exception.", "notify('webhook', 'ath-1')",
                         exc_info=True)
    retried, bug = _lines(out)
    assert retried["level"] == "warning" and "exception" not in retried
    assert "HTTP 503" in retried["error"] and retried["event"] == "dramatiq_message_failed"
    assert bug["level"] == "error" and "Traceback" in bug["exception"]

