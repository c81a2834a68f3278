"""Cross-cutting concerns as dramatiq middleware, never inside actor bodies."""

from __future__ import annotations

import dramatiq
import structlog


class LogContext(dramatiq.Middleware):
    """Binds message id, actor and athlete id to structlog's context for the message's duration."""

    def before_process_message(self, broker, message):
        athlete = message.args[0] if message.args else message.kwargs.get("athlete_id")
        structlog.contextvars.bind_contextvars(message_id=message.message_id, actor=message.actor_name,
                                               athlete_id=athlete)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        structlog.contextvars.clear_contextvars()

    after_skip_message = after_process_message
