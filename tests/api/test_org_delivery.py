"""Per-organisation delivery and less health data in logs and dead letters: an athlete's
recommendations go to their organisation's webhook and Redis stream when it has its own; webhook
failures name the host only; the log notifier writes no rule ids or targets; receivers verify
signatures with a str or bytes secret and refuse future timestamps."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
import uuid

import pytest
import redis
from api_support import enrolment
from structlog.testing import capture_logs

from engine import outbox
from engine.ingest import Ingestor
from engine.keys import KeyStore
from engine.notifiers import DeliveryRejected, LogNotifier
from engine.notifiers.redis_stream import RedisStreamNotifier
from engine.notifiers.webhook import WebhookNotifier, sign, verify_signature
from engine.store.actor import Actor, acting_as
from events import NewEvent, recommendation_stream
from events.vocabulary import RecommendationIssued

ATHLETE = "ath-routed"


class Receiver:
    """A local HTTP receiver answering ``status`` and keeping the paths it was called on."""

    def __init__(self, status: int = 200) -> None:
        received = self.paths = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers["Content-Length"]))
                received.append(self.path)
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def routed(api_store, clock):
    """ATHLETE enrolled by a key of ``clinic-a``, with one recommendation stored."""
    keys = KeyStore(api_store, clock=clock)
    keys.orgs.create("clinic-a")
    with acting_as(Actor(key_id="k1", org_id="clinic-a")):
        Ingestor(api_store, clock=clock).append(ATHLETE, [enrolment(clock.now())])
    rec = RecommendationIssued(
        recommendation_id=uuid.uuid4(), athlete_id=ATHLETE, kind="hold", topic="strength", rule_id="secret.rule",
        explanation="x", policy_name="t", policy_version="1", decision_time=clock.now(), trigger_position=1,
        target={"load_kg": 42})
    api_store.append(recommendation_stream(ATHLETE), [NewEvent(data=rec, occurred_at=clock.now())])
    return keys


def test_an_organisations_webhook_receives_its_athletes_recommendations(api_store, routed):
    """Given clinic-a's own webhook, the process-wide webhook is passed over for its athletes."""
    theirs, process_wide = Receiver(), Receiver()
    try:
        routed.orgs.configure("clinic-a", webhook_url=theirs.url("/clinic-a"), webhook_secret="s" * 32,
                              allow_insecure=True)
        outbox.deliver_pending(api_store, ATHLETE, WebhookNotifier(process_wide.url("/all"), "t" * 32))
    finally:
        theirs.close()
        process_wide.close()
    assert (theirs.paths, process_wide.paths) == (["/clinic-a"], [])


def test_an_organisations_redis_stream_receives_its_athletes_recommendations(api_store, routed, redis_db):
    """Given clinic-a's own Redis stream, its athletes' entries go there, not to the shared one."""
    routed.orgs.configure("clinic-a", redis_stream="strideline:clinic-a:recommendations")
    client = redis.Redis.from_url(redis_db)
    outbox.deliver_pending(api_store, ATHLETE, RedisStreamNotifier(client, "strideline:recommendations"))
    assert client.xlen("strideline:clinic-a:recommendations") == 1
    assert client.exists("strideline:recommendations") == 0
    client.close()


def test_a_refused_webhook_names_the_host_only(api_store, routed):
    """A 4xx from a webhook whose path carries a token: the error (dead-lettered as is) has no token."""
    receiver = Receiver(status=410)
    try:
        with pytest.raises(outbox.PermanentDeliveryError) as refused:
            outbox.deliver_pending(api_store, ATHLETE, WebhookNotifier(receiver.url("/hooks/tok3n-abc"), "t" * 32))
    finally:
        receiver.close()
    assert "tok3n" not in str(refused.value) and "127.0.0.1" in str(refused.value)
    assert isinstance(refused.value.__cause__, DeliveryRejected)


def test_the_log_notifier_writes_no_rule_ids_or_targets(api_store, routed):
    """A delivered recommendation's log line has ids, kind and topic, not its rule or target."""
    with capture_logs() as lines:
        outbox.deliver_pending(api_store, ATHLETE, LogNotifier())
    assert lines and "secret.rule" not in repr(lines) and "load_kg" not in repr(lines)


@pytest.mark.parametrize("secret", ["s" * 32, b"s" * 32], ids=["str", "bytes"])
def test_signatures_verify_with_either_secret_type_and_refuse_future_timestamps(secret):
    """The receiver's helper accepts a str or bytes secret, and refuses a timestamp beyond the
    tolerance in the future as it does in the past."""
    now = dt.datetime(2026, 3, 2, tzinfo=dt.timezone.utc).timestamp()
    body = b'{"recommendation_id": "x"}'
    for offset, ok in ((0, True), (-299, True), (299, True), (-301, False), (301, False)):
        stamp = str(int(now + offset))
        assert verify_signature(secret, body, stamp, sign(secret, stamp, body), now=now) is ok
