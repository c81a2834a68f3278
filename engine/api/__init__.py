"""The HTTP API (Litestar, msgspec-native, served by uvicorn): see docs/api.md."""

from engine.api.app import create_app

__all__ = ["create_app"]
