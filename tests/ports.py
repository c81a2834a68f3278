"""Free TCP ports for the servers tests start, chosen outside the kernel's ephemeral range.

A port the kernel hands out as free (bind to port 0) comes from the ephemeral range, the same range
every outgoing connection (to Redis, PostgreSQL, ...) takes its local port from: between the test
choosing it and the server binding it, a client socket could take it ("Address already in use").
Ports below that range are never given to client sockets. A port is handed out once per process.
"""

from __future__ import annotations

import random
import socket
import threading

_given: set[int] = set()
_lock = threading.Lock()
_rng = random.SystemRandom()


def _ephemeral_range() -> tuple[int, int]:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
        return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port() -> int:
    """A port nothing listens on now, outside the ephemeral range, not given before here."""
    low, high = _ephemeral_range()
    first, last = (20000, low - 1) if low > 21000 else (high + 1, 65535)
    with _lock:
        for _ in range(2000):
            port = _rng.randint(first, last)
            if port in _given:
                continue
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    continue
            _given.add(port)
            return port
    raise RuntimeError(f"no free port in {first}-{last}")
