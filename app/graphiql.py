"""The GraphiQL explorer, served offline: the page at ``GET /graphql`` loads only assets that
Fidus serves itself under ``/graphiql/`` (bundled from the pinned npm project in
web/graphiql by ``scripts/node-setup``, committed and shipped as package data, so no
install needs Node), under a Content-Security-Policy of 'self'."""

from html import escape
from pathlib import Path

from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

ASSETS_DIR = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/graphiql"
BUNDLE = ("graphiql.js", "graphiql.css")

# GraphiQL (CodeMirror, React) sets style attributes and its fonts are data: URIs; nothing
# else is needed beyond this origin (connect-src 'self' covers the same-origin WebSocket).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Fidus GraphiQL</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="{path}/graphiql.css">
  </head>
  <body>
    <div id="graphiql">Loading GraphiQL…</div>
    <script src="{path}/graphiql.js"></script>
  </body>
</html>
"""

NOT_BUILT = """<!doctype html>
<html lang="en">
  <head><meta charset="utf-8"><title>Fidus GraphiQL</title></head>
  <body>
    <h1>GraphiQL's assets are missing</h1>
    <p>They ship with Fidus but were not found in <code>{directory}</code>: this install is
    incomplete. Reinstall Fidus, or in a checkout restore them with
    <code>git checkout -- app/static/graphiql</code> or rebuild them with
    <code>scripts/node-setup graphiql</code> (needs Node.js and npm).</p>
  </body>
</html>
"""


def assets_built() -> bool:
    return all((ASSETS_DIR / name).is_file() for name in BUNDLE)


def page() -> HTMLResponse:
    """The explorer's page, or (a broken install) a 503 page that says how to restore its
    assets."""
    if not assets_built():
        return HTMLResponse(
            NOT_BUILT.format(directory=escape(str(ASSETS_DIR))), status_code=503, headers=HEADERS
        )
    return HTMLResponse(PAGE.format(path=ASSETS_PATH), headers=HEADERS)


def routes(enabled: bool) -> list[BaseRoute]:
    """The bundle under ASSETS_PATH when GraphiQL is on (404s until it is built)."""
    if not enabled:
        return []
    return [Mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR, check_dir=False), name="graphiql")]
