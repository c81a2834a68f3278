"""Delivery outboxes (engine/outbox.py): each channel's checkpoint in the recommendation stream."""

from __future__ import annotations

import pytest

from engine import outbox, pipeline
from engine.ingest import Ingestor
from engine.notifiers import DeliveryRejected, LogNotifier, delivery_id
from engine.policies.base import load_policy
from engine.runtime import DEFAULT_POLICY
from workers_support import feed_diaries


class Recording:
    channel = "webhook"

    def __init__(self, fail_on: dict | None = None) -> None:
        self.seen: list[str] = []
        self.fail_on = fail_on or {}

    def deliver(self, rec) -> None:
        error = self.fail_on.get(str(delivery_id(rec)))  # a withdrawal names the advice it withdraws
        if error is not None:                              # under recommendation_id: key by delivery id
            raise error
        self.seen.append(str(delivery_id(rec)))


@pytest.fixture
def recs(ingest_store, clock):
    """One athlete with several stored recommendations, in stream order."""
    feed_diaries(Ingestor(ingest_store, clock=clock), clock, ["ath-1"], days=14)
    pipeline.project_athlete(ingest_store, "ath-1", load_policy(DEFAULT_POLICY))
    stored = pipeline.recommendations(ingest_store, "ath-1")
    assert len(stored) >= 3
    return stored


def test_delivers_in_stream_order_and_saves_the_checkpoint(ingest_store, recs):
    """Every recommendation is delivered once, in order; the checkpoint reaches the stream head."""
    notifier = Recording()
    done = outbox.deliver_pending(ingest_store, "ath-1", notifier)
    assert notifier.seen == [str(delivery_id(r)) for r in recs]
    assert done.delivered == len(recs) and outbox.checkpoint(ingest_store, "ath-1", "webhook") == len(recs)
    assert outbox.deliver_pending(ingest_store, "ath-1", notifier).delivered == 0


def test_routing_passes_over_unwanted_kinds(ingest_store, recs):
    """Kinds the channel does not want are skipped, and the checkpoint still advances past them."""
    notifier = Recording()
    done = outbox.deliver_pending(ingest_store, "ath-1", notifier, lambda kind: kind == "advance_phase")
    assert notifier.seen == [str(delivery_id(r)) for r in recs if r.kind == "advance_phase"]
    assert done.skipped == len(recs) - len(notifier.seen) and done.checkpoint == len(recs)


def test_a_failure_keeps_the_progress_made_before_it(ingest_store, recs):
    """A transient failure saves the checkpoint before the failing recommendation; a retry starts there."""
    failing = str(delivery_id(recs[2]))
    notifier = Recording({failing: TimeoutError("slow receiver")})
    with pytest.raises(outbox.TransientDeliveryError) as raised:
        outbox.deliver_pending(ingest_store, "ath-1", notifier)
    assert str(raised.value.recommendation_id) == failing and not raised.value.permanent
    assert outbox.checkpoint(ingest_store, "ath-1", "webhook") == 2
    notifier.fail_on.clear()
    outbox.deliver_pending(ingest_store, "ath-1", notifier)
    assert notifier.seen == [str(delivery_id(r)) for r in recs]


def test_a_refusal_is_permanent_and_skip_passes_over_it(ingest_store, recs):
    """DeliveryRejected becomes a PermanentDeliveryError; skip moves the checkpoint past it only."""
    refused = delivery_id(recs[0])
    notifier = Recording({str(refused): DeliveryRejected("410 Gone")})
    with pytest.raises(outbox.PermanentDeliveryError):
        outbox.deliver_pending(ingest_store, "ath-1", notifier)
    assert not outbox.skip(ingest_store, "ath-1", "webhook", delivery_id(recs[1])), "not the next one"
    assert outbox.skip(ingest_store, "ath-1", "webhook", refused)
    assert outbox.deliver_pending(ingest_store, "ath-1", notifier).delivered == len(recs) - 1


def test_lagging_outboxes_compare_heads_with_checkpoints(ingest_store, recs):
    """The sweeper's question: which channel is behind for which athlete."""
    outbox.deliver_pending(ingest_store, "ath-1", LogNotifier())
    lagging = list(outbox.lagging_outboxes(ingest_store, ["log", "webhook"]))
    assert lagging == [("webhook", "ath-1", len(recs), 0)]
