"""The runtime the actors use: set by the composition root, or built from the environment."""

from __future__ import annotations

import threading

from engine.runtime import Runtime, build_runtime

_runtime: Runtime | None = None
_lock = threading.Lock()


def configure(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = build_runtime()
    return _runtime
