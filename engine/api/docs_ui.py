"""Swagger UI at /schema (and /schema/swagger), working offline: its JavaScript and CSS are served
by the API itself from the ``openapi-ui-bundles`` package, not fetched from a CDN, so the page is
not blank on a machine (or a browser) without internet access."""

from __future__ import annotations

from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from openapi_ui_bundles import swagger_ui

ASSETS_PATH = "/schema/assets/swagger-ui"


def render_plugins() -> list[SwaggerRenderPlugin]:
    return [SwaggerRenderPlugin(
        path=["/", "/swagger"],
        js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        css_url=f"{ASSETS_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{ASSETS_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{ASSETS_PATH}/favicon-32x32.png'>",
    )]


def assets_router():
    """The bundle's files (JavaScript, CSS, icons) under ASSETS_PATH; no key needed, nothing secret."""
    return create_static_files_router(path=ASSETS_PATH, directories=[swagger_ui.static_path],
                                      name="swagger-ui-assets", include_in_schema=False)
