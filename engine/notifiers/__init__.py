"""Notifiers deliver an athlete's recommendation stream downstream, one module per channel
(as dramatiq keeps its brokers): ``log``, ``webhook`` and ``redis_stream``.

Delivery is at-least-once: receivers dedupe by :func:`delivery_id`. Routing (which kinds go to which
channel) is configuration (:class:`Routing`); delivery state (how far each channel got) is
``engine.outbox``; which notifiers a process runs is built in one place, ``workers/notify_config.py``.
"""

from engine.notifiers.base import DeliveryRejected, Notifier, Routing, delivery_id, delivery_type
from engine.notifiers.log import LogNotifier

__all__ = ["DeliveryRejected", "LogNotifier", "Notifier", "Routing", "delivery_id", "delivery_type"]
