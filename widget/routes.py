"""The chat widget's public files under /chat/, for mounting into an aiohttp app:

    app.router.add_routes(widget.routes.routes)

/chat/widget.js, /chat/widget.css   the widget (embed widget.js on any page)
/chat/socket.io.min.js              the socket.io client it talks to Rasa with (from npm)
/chat/demo, /chat/demo.css          a page that looks like the city's tourism site, with the
                                    widget pointed at the Rasa server (env RASA_PUBLIC_URL,
                                    default: this host on port 5005); ?lang=en for English
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
from pathlib import Path

from aiohttp import web
from yarl import URL

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
DEMO_PAGE = HERE / "demo.html"
# Installed by `npm ci --prefix widget` at the version package-lock.json pins.
SOCKET_IO_CLIENT = HERE / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
RASA_PORT = 5005
HOST_NAME = re.compile(r"[A-Za-z0-9.-]{1,253}")
IPV6 = re.compile(r"[0-9A-Fa-f:.]{2,45}")

JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# Our own files change with a deploy and have no version in their names: caches may keep
# them a few minutes, then revalidate (ETag / Last-Modified). The socket.io client changes
# only with a package bump.
SHORT_CACHE = "public, max-age=300"
LONG_CACHE = "public, max-age=86400"

routes = web.RouteTableDef()


def _file(path: Path, content_type: str, cache: str) -> web.StreamResponse:
    if not path.is_file():
        raise web.HTTPServiceUnavailable(
            text=f"{path.name} is missing: run `npm ci --prefix widget`", content_type="text/plain"
        )
    return web.FileResponse(
        path,
        headers={
            "Content-Type": content_type,
            "Cache-Control": cache,
            "X-Content-Type-Options": "nosniff",
            # Public assets for any site that embeds the widget.
            "Access-Control-Allow-Origin": "*",
        },
    )


@routes.get("/chat/widget.js")
async def widget_js(_: web.Request) -> web.StreamResponse:
    return _file(STATIC / "widget.js", JS, SHORT_CACHE)


@routes.get("/chat/widget.css")
async def widget_css(_: web.Request) -> web.StreamResponse:
    return _file(STATIC / "widget.css", CSS, SHORT_CACHE)


@routes.get("/chat/socket.io.min.js")
async def socket_io_client(_: web.Request) -> web.StreamResponse:
    return _file(SOCKET_IO_CLIENT, JS, LONG_CACHE)


@routes.get("/chat/demo.css")
async def demo_css(_: web.Request) -> web.StreamResponse:
    return _file(STATIC / "demo.css", CSS, SHORT_CACHE)


def rasa_public_url(request: web.Request) -> str:
    """Where browsers reach the Rasa server: RASA_PUBLIC_URL, else the host the visitor
    used for this page on Rasa's port (right for `make run` on one machine)."""
    configured = os.environ.get("RASA_PUBLIC_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    try:  # the Host header, without its port
        host = URL(f"http://{request.host}").host or ""
    except ValueError:
        host = ""
    if HOST_NAME.fullmatch(host):
        pass
    elif IPV6.fullmatch(host):
        host = f"[{host}]"
    else:  # no host name: a forged header gets nothing of its own into the page
        host = "localhost"
    return f"http://{host}:{RASA_PORT}"


def _connect_sources(socket_url: str) -> str:
    """The CSP connect-src for the socket URL: its origin over HTTP and WebSocket."""
    try:
        url = URL(socket_url)
    except ValueError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        return "'self' http: https: ws: wss:"
    origin = url.origin()
    ws_origin = origin.with_scheme("wss" if url.scheme == "https" else "ws")
    return f"'self' {origin} {ws_origin}"


@routes.get("/chat/demo")
async def demo(request: web.Request) -> web.Response:
    socket_url = rasa_public_url(request)
    config: dict[str, str] = {"socketUrl": socket_url}
    if request.query.get("lang") in ("vi", "en"):
        config["lang"] = request.query["lang"]
    # JSON inside <script>: "<" escaped so no value can close the tag.
    config_js = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    nonce = secrets.token_urlsafe(16)
    page = DEMO_PAGE.read_text(encoding="utf-8")
    page = page.replace("{{NONCE}}", html.escape(nonce)).replace("{{CONFIG}}", config_js)
    if config.get("lang") == "en":
        page = page.replace('<html lang="vi">', '<html lang="en">', 1)
    # Only our own scripts (and the page's one config script) may run: a defence in depth
    # on top of the widget never turning reply text into markup.
    csp = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
        f"img-src 'self' http: https: data:; connect-src {_connect_sources(socket_url)}; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
    )
    return web.Response(
        text=page,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-store",  # the nonce is per response
            "Content-Security-Policy": csp,
            "X-Content-Type-Options": "nosniff",
        },
    )
