"""Log notifier: one structured log line per recommendation-stream entry; never free-text notes.

``recommendation_issued`` carries the ids, kind and topic; ``recommendation_withdrawn`` carries the
withdrawal id, the withdrawn recommendation's id, its kind and topic, and the reason. Rule ids and
targets stay out of logs (they describe the athlete's health: docs/security.md).
"""

from __future__ import annotations

import structlog

from events.vocabulary import RecommendationEvent, RecommendationWithdrawn

log = structlog.get_logger("strideline.notify")


class LogNotifier:
    channel = "log"

    def __init__(self, logger=None) -> None:
        self.log = logger or log
        self.delivered = 0

    def deliver(self, event: RecommendationEvent) -> None:
        self.delivered += 1
        if isinstance(event, RecommendationWithdrawn):
            self.log.info("recommendation_withdrawn", withdrawal_id=str(event.withdrawal_id),
                          recommendation_id=str(event.recommendation_id), athlete_id=event.athlete_id,
                          kind=event.kind, topic=event.topic, reason=str(event.reason),
                          superseded_by=None if event.superseded_by is None else str(event.superseded_by),
                          decision_time=event.decision_time.isoformat())
            return
        self.log.info("recommendation_issued", recommendation_id=str(event.recommendation_id),
                      athlete_id=event.athlete_id, kind=event.kind, topic=event.topic,
                      supersedes=None if event.supersedes is None else str(event.supersedes),
                      decision_time=event.decision_time.isoformat())
