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
    assert first["event"] == "Failed to process message project('ath-1')" and first["level"] == "error"
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
