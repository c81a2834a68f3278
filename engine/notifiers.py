"""Notifiers deliver recommendations downstream. At-least-once; consumers dedupe by recommendation id.

The log notifier lives here; the webhook and Redis-stream notifiers are in ``engine.notifiers_webhook``
and ``engine.notifiers_redis``. Routing (which kinds go to which channel) is configuration:
``Routing``. Delivery state (what each channel has delivered) is ``engine.outbox``.
"""

from __future__ import annotations

from typing import Protocol

import msgspec
import structlog

from events.vocabulary import RecommendationIssued

log = structlog.get_logger("strideline.notify")


class DeliveryRejected(Exception):
    """The receiver refused a recommendation for good (e.g. HTTP 410): retrying cannot help."""


class Notifier(Protocol):
    channel: str

    def deliver(self, recommendation: RecommendationIssued) -> None:
        """Deliver one recommendation or raise: ``DeliveryRejected`` is final, anything else is
        retried with backoff. Receivers deduplicate by ``recommendation_id``."""


class Routing(msgspec.Struct, frozen=True, kw_only=True):
    """Recommendation kinds per channel (``*`` means every kind)."""

    log: tuple[str, ...] = ("*",)
    webhook: tuple[str, ...] = ("*",)
    redis_stream: tuple[str, ...] = ("*",)

    def wants(self, channel: str, kind: str) -> bool:
        kinds = getattr(self, channel, ())
        return "*" in kinds or kind in kinds


class LogNotifier:
    """Structured log line per recommendation: ids, kind, rule and target; never free-text notes."""

    channel = "log"

    def __init__(self, logger=None) -> None:
        self.log = logger or log
        self.delivered = 0

    def deliver(self, recommendation: RecommendationIssued) -> None:
        self.delivered += 1
        self.log.info("recommendation_issued", recommendation_id=str(recommendation.recommendation_id),
                      athlete_id=recommendation.athlete_id, kind=recommendation.kind,
                      rule_id=recommendation.rule_id, target=recommendation.target,
                      decision_time=recommendation.decision_time.isoformat())
