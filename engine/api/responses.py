"""What every route module documents alike, written once: the athlete id path parameter and the
error answers (each an ``ErrorBody`` with an example built from its description)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import Parameter

from engine.api.schemas import AthleteIdPattern, ErrorBody

AthleteId = Annotated[str, Parameter(pattern=AthleteIdPattern, min_length=1, max_length=64,
                                     description="the athlete's id: 1-64 letters, digits, `_` or `-`")]

Location = Literal["body", "path", "query", "header", "request"]


def error_response(description: str, path: str = "$", location: Location = "request") -> ResponseSpec:
    """An error answer: ``ErrorBody``, documented with ``description`` and an example of it."""
    example = {"errors": [{"path": path, "reason": description, "location": location}]}
    return ResponseSpec(ErrorBody, description=description, generate_examples=False,
                        examples=[Example(summary=description[:80], value=example)])


AUTH_ERRORS = {
    400: error_response("malformed request: a query or path parameter is invalid", "limit", "query"),
    401: error_response("missing, unknown or revoked API key", "Authorization", "header"),
    403: error_response("the key lacks this endpoint's scope", "Authorization", "header"),
    429: error_response("too many requests for this key: retry after `Retry-After` seconds"),
}
"""What any authenticated endpoint may answer before its own work starts."""

NOT_FOUND = {404: error_response("no events for this athlete", "athlete_id", "path")}

ATHLETE_ERRORS = {
    **AUTH_ERRORS,
    404: error_response("no such athlete for this key (another organisation or outside its caseload "
                        "reads the same)", "athlete_id", "path"),
    410: error_response("the athlete was erased", "athlete_id", "path"),
}


def example_of(value: msgspec.Struct | dict | list) -> list[Example]:
    """One example for a request or response body, from a typed value (encoded as on the wire)."""
    return [Example(summary="example", value=msgspec.to_builtins(value))]


__all__ = ["ATHLETE_ERRORS", "AUTH_ERRORS", "AthleteId", "NOT_FOUND", "error_response", "example_of"]
