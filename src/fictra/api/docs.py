"""``/api/docs``: the vendored Swagger UI (npm ``swagger-ui-dist``, copied by scripts/vendor_assets.js into
``fictra/api/static/swagger``), served from our own path: no CDN, works offline, and the page runs under
the same Content-Security-Policy as everything else (``script-src 'self'``: the start-up is ``init.js``,
a file, not an inline script)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/api/docs"
ASSETS_PATH = "/api/docs/assets"
ASSETS_DIR = Path(__file__).parent / "static" / "swagger"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>FICTRA Ops API</title>
<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="{ASSETS_PATH}/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """The docs page and its assets (public, like the schema they render)."""

    @app.get(DOCS_PATH, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(PAGE)

    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="api-docs-assets")
