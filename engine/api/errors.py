"""Errors as answers: every refusal is a 4xx with a machine-readable body (``ErrorBody``), never a 500.

Handlers raise :class:`ApiError`; Litestar's own refusals (no route, bad query parameter, body too
large) and anything unexpected are turned into the same shape here.
"""

from __future__ import annotations

import re
import traceback

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from engine.api.schemas import ErrorBody, ErrorItem
from events import InvalidEvent
from events.errors import from_msgspec

log = structlog.get_logger("strideline.api")

_STATUS_REASON = {
    400: "the request is malformed",
    401: "authentication required",
    403: "not allowed",
    404: "not found",
    405: "method not allowed",
    413: "the request body is too large",
    415: "unsupported media type",
}


class ApiError(Exception):
    """A refusal with its status, its errors, and optional headers or version details."""

    def __init__(self, status: int, errors: list[ErrorItem], *, headers: dict[str, str] | None = None,
                 expected_version: int | None = None, actual_version: int | None = None) -> None:
        super().__init__(f"{status}: {errors[0].reason if errors else ''}")
        self.status = status
        self.errors = errors
        self.headers = headers or {}
        self.expected_version = expected_version
        self.actual_version = actual_version

    @classmethod
    def one(cls, status: int, reason: str, path: str = "$", location: str = "body", **kw) -> ApiError:
        return cls(status, [ErrorItem(path=path, reason=reason, location=location)], **kw)  # type: ignore[arg-type]

    def body(self) -> ErrorBody:
        return ErrorBody(errors=self.errors, expected_version=self.expected_version,
                         actual_version=self.actual_version)


_BATCH_INDEX = re.compile(r"^\$\[")


def batch_path_to_body(path: str) -> tuple[str, str]:
    """Map an ingest error path to (request path, location).

    ``InvalidEvent`` paths point into the batch (``$[2].data.score``); in the HTTP body the batch is
    ``$.events``. ``expected_version`` and ``athlete_id`` are named bare by the ingestor."""
    if path == "athlete_id":
        return "athlete_id", "path"
    if path == "expected_version":
        return "$.expected_version", "body"
    if path == "$":
        return "$.events", "body"
    if _BATCH_INDEX.match(path):
        return "$.events" + path[1:], "body"
    return path, "body"


def invalid_event(exc: InvalidEvent, status: int = 422) -> ApiError:
    """Every error of the batch at once, each at its path in the request."""
    items = []
    for error in exc.errors:
        path, location = batch_path_to_body(error.path)
        items.append(ErrorItem(path=path, reason=error.reason, location=location))  # type: ignore[arg-type]
    return ApiError(status, items)


def _respond(request: Request, error: ApiError) -> Response[ErrorBody]:
    return Response(error.body(), status_code=error.status, headers=error.headers)


def handle_api_error(request: Request, exc: ApiError) -> Response[ErrorBody]:
    return _respond(request, exc)


def handle_validation(request: Request, exc: ValidationException) -> Response[ErrorBody]:
    """Litestar's parameter and body validation: 400 with one item each for a malformed request
    (query, path, headers, no body), 422 for a well-formed body that is invalid (as for events)."""
    items: list[ErrorItem] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for entry in extra:
        if not isinstance(entry, dict):
            continue
        source = entry.get("source") or "body"
        source = str(getattr(source, "value", source))
        location = source if source in {"path", "query", "header", "body"} else "request"
        key = str(entry.get("key") or "")
        reason = str(entry.get("message") or exc.detail)
        if location == "body" and key == "data" and reason.startswith("Object "):  # at the body's root
            root = from_msgspec(msgspec.ValidationError(reason))  # unknown or missing field: at its path
            path, reason = root.path, root.reason
        elif location == "body" and key == "data":  # the whole body is missing
            path, reason = "$", "a JSON request body is required"
        else:
            path = key if location in {"path", "query", "header"} else ("$." + key if key else "$")
        items.append(ErrorItem(path=path, reason=reason, location=location))  # type: ignore[arg-type]
    if not items:
        items.append(ErrorItem(path="$", reason=str(exc.detail or "invalid request"), location="request"))
    invalid_body = all(i.location == "body" and i.path != "$" for i in items)
    return _respond(request, ApiError(422 if invalid_body else 400, items))


def handle_http_exception(request: Request, exc: HTTPException) -> Response[ErrorBody]:
    """Litestar's other refusals (404 no route, 405, 413 too large, ...) in our shape."""
    status = exc.status_code
    if status >= 500:
        return handle_unexpected(request, exc)
    detail = str(exc.detail or "")
    reason = _STATUS_REASON.get(status, "the request was refused")
    if detail and detail.lower() not in {"not found", "bad request", "method not allowed"}:
        reason = f"{reason}: {detail}"
    headers = dict(exc.headers or {})
    return _respond(request, ApiError.one(status, reason, "$", "request", headers=headers))


def handle_unexpected(request: Request, exc: Exception) -> Response[ErrorBody]:
    """The one 500: logged with the exception's kind and place only (messages may carry data)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else ""
    log.error("http_unhandled_error", error=type(exc).__name__, where=where)
    return _respond(request, ApiError.one(500, "internal error; the request id identifies it in the logs",
                                          "$", "request"))


def handle_too_deep(request: Request, exc: RecursionError) -> Response[ErrorBody]:
    """A body nested deeper than any decoder can follow (Litestar's own decoding of small bodies
    included): the client's fault, so 400, not 500."""
    return _respond(request, ApiError.one(400, "the body is nested too deeply", "$", "body"))


EXCEPTION_HANDLERS = {
    ApiError: handle_api_error,
    RecursionError: handle_too_deep,
    ValidationException: handle_validation,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}
