"""What every notifier shares: the protocol, the routing of kinds to channels, and the delivery key.

A notifier delivers each entry of an athlete's recommendation stream: advice issued
(``recommendation.issued``) and advice withdrawn (``recommendation.withdrawn``). Both carry their
``type`` so a receiver can tell them apart, and both are routed by ``kind`` (a withdrawal has the
withdrawn advice's kind), so a channel that got a piece of advice also gets its withdrawal.
"""

from __future__ import annotations

import uuid
from typing import Protocol

import msgspec

from events.vocabulary import RecommendationEvent, RecommendationWithdrawn, event_type


class DeliveryRejected(Exception):
    """The receiver refused a delivery for good (e.g. HTTP 410): retrying cannot help."""


class Notifier(Protocol):
    channel: str

    def deliver(self, event: RecommendationEvent) -> None:
        """Deliver one recommendation-stream entry or raise: ``DeliveryRejected`` is final, anything
        else is retried with backoff. Receivers deduplicate by :func:`delivery_id`."""


class Routing(msgspec.Struct, frozen=True, kw_only=True):
    """Recommendation kinds per channel (``*`` means every kind)."""

    log: tuple[str, ...] = ("*",)
    webhook: tuple[str, ...] = ("*",)
    redis_stream: tuple[str, ...] = ("*",)

    def wants(self, channel: str, kind: str) -> bool:
        kinds = getattr(self, channel, ())
        return "*" in kinds or kind in kinds


def delivery_id(event: RecommendationEvent) -> uuid.UUID:
    """The idempotency key receivers dedupe by: the recommendation id of advice issued, the
    withdrawal id of a withdrawal (the id the store keeps the entry under)."""
    if isinstance(event, RecommendationWithdrawn):
        return event.withdrawal_id
    return event.recommendation_id


def delivery_type(event: RecommendationEvent) -> str:
    """``recommendation.issued`` or ``recommendation.withdrawn``: the event's permanent tag."""
    return event_type(event)
