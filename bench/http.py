"""HTTP ingest: `strideline serve` (Litestar on uvicorn, one process) with a SQLite store, driven
by an asyncio client over keep-alive connections on 127.0.0.1.

* ``batched``: ``connections`` clients posting each athlete's events in batches of ``batch``,
  as fast as the server answers: events/s.
* ``single``: single-event requests paced at ``rate`` requests/s (open loop): latency percentiles.

The server runs its embedded in-process pipeline (the API's default without Redis); the client and
the server share the machine's 2 cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import msgspec

from bench.data import remove_sqlite

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`strideline serve` on a fresh store; with ``redis_url`` the server wakes Redis workers
    (``bench.live.Workers``, 2 processes) instead of running its embedded in-process pipeline."""

    def __init__(self, out: Path, name: str, redis_url: str | None = None) -> None:
        from engine.keys import KeyStore
        self.store = out / f"http-{name}.sqlite3"
        remove_sqlite(self.store)
        ks = KeyStore(self.store)  # keys live in the store the server opens
        self.key = ks.create("bench", ["ingest", "read"]).key
        ks.close()
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if k != "STRIDELINE_REDIS_URL"}
        self.workers = None
        if redis_url:
            from bench.live import Workers
            self.workers = Workers(self.store, redis_url, 2, 4)
            env["STRIDELINE_REDIS_URL"] = redis_url
        self.log = open(out / f"http-{name}.log", "w")
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("strideline")), "serve", "--port", str(self.port), "--store", str(self.store),
             "--log-level", "WARNING"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the API server did not start (see {self.log.name})")
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        if self.workers is not None:
            self.workers.stop()


class Conn:
    """One keep-alive HTTP/1.1 connection (a minimal client: the load generator must stay cheap)."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    async def post(self, path: str, body: bytes) -> int:
        head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"X-API-Key: {self.key}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return int(status_line.split()[1])


def _bodies(per_athlete: dict, batch: int) -> list[tuple[str, bytes]]:
    enc = msgspec.json.Encoder()
    out = []
    for athlete_id, events in per_athlete.items():
        for start in range(0, len(events), batch):
            chunk = [msgspec.to_builtins(e) for e in events[start:start + batch]]
            out.append((athlete_id, enc.encode({"events": chunk})))
    return out


async def _batched(port: int, key: str, work: list[tuple[str, bytes]], connections: int) -> list[int]:
    queue: asyncio.Queue = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)
    statuses: list[int] = []

    async def client() -> None:
        conn = Conn(port, key)
        await conn.open()
        while not queue.empty():
            athlete_id, body = queue.get_nowait()
            statuses.append(await conn.post(f"/v1/athletes/{athlete_id}/events", body))
        conn.writer.close()

    # one connection per athlete stream at a time keeps each stream's batches in order
    await asyncio.gather(*(client() for _ in range(connections)))
    return statuses


def batched(out: Path, per_athlete: dict, *, batch: int = 100, connections: int = 8) -> dict:
    # batches of one athlete must arrive in order (enrolment first): one lane per athlete
    lanes = [dict(list(per_athlete.items())[i::connections]) for i in range(connections)]
    server = Server(out, "batched")
    try:
        async def main():
            results = await asyncio.gather(*(_batched(server.port, server.key, _bodies(lane, batch), 1)
                                             for lane in lanes))
            return [s for r in results for s in r]
        events = sum(len(v) for v in per_athlete.values())
        began = time.perf_counter()
        statuses = asyncio.run(main())
        seconds = time.perf_counter() - began
    finally:
        server.stop()
    bad = sum(1 for s in statuses if s != 201)
    return {"events": events, "requests": len(statuses), "batch": batch, "connections": connections,
            "seconds": round(seconds, 2), "events_per_s": round(events / seconds), "non_201": bad}


def single(out: Path, per_athlete: dict, *, rate: float = 200, duration_s: float = 15,
           connections: int = 16, redis_url: str | None = None) -> dict:
    server = Server(out, "single-redis" if redis_url else "single", redis_url)
    try:
        # enrol every athlete first (not measured), then single-event requests in lanes by athlete
        enrol = {a: events[:1] for a, events in per_athlete.items()}
        asyncio.run(_batched(server.port, server.key, _bodies(enrol, 1), 4))
        lanes = [[(a, e) for a, events in list(per_athlete.items())[i::connections] for e in events[1:]]
                 for i in range(connections)]
        enc = msgspec.json.Encoder()
        latencies: list[float] = []
        statuses: list[int] = []

        async def main():
            began = time.perf_counter()
            total = int(rate * duration_s)

            async def lane(index: int, items):
                conn = Conn(server.port, server.key)
                await conn.open()
                # request k of this lane is due at (k * connections + index) / rate
                for k, (athlete_id, event) in enumerate(items):
                    n = k * connections + index
                    if n >= total:
                        break
                    delay = began + n / rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    body = enc.encode({"events": [msgspec.to_builtins(event)]})
                    t = time.perf_counter()
                    statuses.append(await conn.post(f"/v1/athletes/{athlete_id}/events", body))
                    latencies.append(time.perf_counter() - t)
                conn.writer.close()

            await asyncio.gather(*(lane(i, items) for i, items in enumerate(lanes)))
            return time.perf_counter() - began

        seconds = asyncio.run(main())
    finally:
        server.stop()
    latencies.sort()
    n = len(latencies)
    return {"pipeline": "Redis workers (2 processes)" if redis_url else "in-process (embedded default)",
            "offered_requests_per_s": rate, "requests": n, "seconds": round(seconds, 2),
            "achieved_requests_per_s": round(n / seconds),
            "p50_ms": round(latencies[n // 2] * 1000, 2), "p99_ms": round(latencies[int(n * 0.99)] * 1000, 2),
            "max_ms": round(latencies[-1] * 1000, 2), "non_201": sum(1 for s in statuses if s != 201)}
