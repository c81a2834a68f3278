"""Query strings say each scalar parameter once.

Litestar binds a repeated scalar parameter (``?phase=a&phase=b``) by picking one of its values and
drops the rest without a word, so a client that built its query wrongly gets an answer to a question
it did not ask. This guard refuses such a request with the same 400 and error shape as any other
malformed query parameter. Parameters declared as lists (``metrics=a&metrics=b``) may repeat.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import KwargDefinition

from engine.api.errors import ApiError
from engine.api.schemas import ErrorItem


def _may_repeat(annotation: object) -> bool:
    """True for list-like annotations (``list[str]``, ``Sequence[str] | None``, ...)."""
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset) or (isinstance(origin, type) and issubclass(origin, Sequence)
                                                    and origin is not str):
        return True
    if origin is typing.Union or str(origin) == "<class 'types.UnionType'>":
        return any(_may_repeat(arg) for arg in typing.get_args(annotation))
    if origin is typing.Annotated:
        return _may_repeat(typing.get_args(annotation)[0])
    return False


def _query_name(name: str, default: object) -> str:
    """The name a parameter has in the query string (its ``query=`` alias when it has one)."""
    if isinstance(default, KwargDefinition) and getattr(default, "query", None):
        return str(default.query)
    return name


def _scalar_query_names(handler: BaseRouteHandler) -> frozenset[str]:
    cached = getattr(handler, "_strideline_scalar_query", None)
    if cached is not None:
        return cached
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        kwarg = field.kwarg_definition
        if kwarg is not None and (getattr(kwarg, "header", None) or getattr(kwarg, "cookie", None)):
            continue  # headers and cookies are not in the query string
        if not _may_repeat(field.annotation):
            names.add(_query_name(name, kwarg))
    found = frozenset(names)
    handler._strideline_scalar_query = found  # type: ignore[attr-defined] - computed once per route
    return found


def single_query_values(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Guard: every scalar query parameter appears at most once; all repeats are named at once."""
    query = connection.query_params
    if not query:
        return
    scalar = _scalar_query_names(handler)
    items = [ErrorItem(path=name, reason=f"given {len(values)} times; give it once", location="query")
             for name in sorted(scalar) if len(values := query.getall(name, [])) > 1]
    if items:
        raise ApiError(400, items)
