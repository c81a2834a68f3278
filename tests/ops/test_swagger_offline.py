"""The API's Swagger UI works offline: the page loads its JavaScript, CSS and icon from the API
itself (the openapi-ui-bundles package), never from a CDN."""

from __future__ import annotations

import re

from litestar.testing import TestClient


def test_swagger_ui_loads_every_asset_from_the_api(tmp_path):
    """Given the API, when a browser opens /schema/swagger, then every script, stylesheet and icon
    it references is a path on the API, and each one is served (200, the right media type)."""
    from engine.api import create_app
    from engine.runtime import build_runtime

    runtime = build_runtime(store_url=str(tmp_path / "store.sqlite3"))
    with TestClient(create_app(runtime, start_workers=False)) as client:
        page = client.get("/schema/swagger")
        assert page.status_code == 200
        head = page.text.split("<body", 1)[0]
        references = re.findall(r"""(?:src|href)=['"]([^'"]+)['"]""", head)
        assert references and all(ref.startswith("/schema/assets/") for ref in references), references
        assert "https://" not in head
        types = {}
        for ref in references:
            asset = client.get(ref)
            assert asset.status_code == 200 and len(asset.content) > 100, ref
            types[ref.rsplit(".", 1)[-1]] = asset.headers["content-type"]
        assert types["js"].startswith("text/javascript") and types["css"].startswith("text/css")
        assert client.get("/schema").status_code == 200
