"""The website chat widget, for real: the Rasa and action servers on loopback with the
committed credentials.yml (its socket.io channel), a seeded knowledge base, the widget's
aiohttp routes served on loopback, and Debian's Chromium driving the demo page."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
import yaml
from aiohttp import web
from playwright.sync_api import Page, expect

import widget.routes
from knowledge import editing
from knowledge.config import PROJECT_ROOT as ROOT
from knowledge.db import new_session
from tests.e2e.servers import Assistant, seeded_knowledge_base
from tests.loopback import LoopbackServer

REPLY_TIMEOUT = 20_000  # ms: the first answer loads the name index
# Markup planted in the knowledge base: it must reach the visitor as text, never run.
XSS_SUMMARY = "<img src=x onerror=alert(1)> Chợ trung tâm <script>alert(2)</script> bên sông Hàn"
XSS_ADDRESS = '119 Trần Phú <a href="javascript:alert(3)">bấm</a> <svg onload=alert(4)>'
WIDGET_JS = Path(widget.routes.STATIC / "widget.js")


def _widget_app() -> web.Application:
    """The widget's routes in a small aiohttp app of their own."""
    app = web.Application()
    app.router.add_routes(widget.routes.routes)
    return app


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, trained_model: Path) -> Iterator[Assistant]:
    work = tmp_path_factory.mktemp("widget")
    url = seeded_knowledge_base(work)
    with new_session(url) as session, session.begin():
        market = editing.get_by_slug(session, "places", "cho-han")
        editing.update(session, "places", market.id, {"summary_vi": XSS_SUMMARY, "address_vi": XSS_ADDRESS},
                       None, None, partial=True)
    running = Assistant(trained_model, work, {"DATABASE_URL": url}).start()  # committed credentials.yml
    yield running
    running.stop()


@pytest.fixture(scope="module")
def chat(assistant: Assistant) -> Iterator[LoopbackServer]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("RASA_PUBLIC_URL", f"http://127.0.0.1:{assistant.rasa_port}")
        server = LoopbackServer(_widget_app, "widget-server").start()
        yield server
        server.stop()


def test_committed_credentials_use_the_fixed_socketio_channel() -> None:
    # Rasa's own `socketio` channel loses every reply with session persistence
    # (RasaHQ/rasa#13027); the widget needs ours.
    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text(encoding="utf-8"))
    channel = credentials.get("bot.channels.widget.WidgetInput")
    assert channel is not None, "credentials.yml must enable bot.channels.widget.WidgetInput"
    assert "socketio" not in credentials  # two channels cannot both serve /socket.io
    assert channel["session_persistence"] is True
    assert (channel["user_message_evt"], channel["bot_message_evt"]) == ("user_uttered", "bot_uttered")


# ---- the files under /chat/ --------------------------------------------------------------


def test_assets_are_served_with_their_types_and_cache_headers(chat: LoopbackServer) -> None:
    expected = {
        "/chat/widget.js": ("text/javascript", "max-age=300"),
        "/chat/widget.css": ("text/css", "max-age=300"),
        "/chat/socket.io.min.js": ("text/javascript", "max-age=86400"),
        "/chat/demo.css": ("text/css", "max-age=300"),
    }
    for path, (content_type, cache) in expected.items():
        response = requests.get(chat.url(path), timeout=10)
        assert response.status_code == 200, path
        assert response.headers["Content-Type"].startswith(content_type), path
        assert "charset=utf-8" in response.headers["Content-Type"], path
        assert cache in response.headers["Cache-Control"], path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        # Revalidation instead of a download once the cache time is over.
        again = requests.get(chat.url(path), headers={"If-None-Match": response.headers["ETag"]}, timeout=10)
        assert again.status_code == 304, path

    # The client is the one package-lock.json pins, a 4.x (Socket.IO protocol v5, as Rasa's).
    lock = json.loads((widget.routes.HERE / "package-lock.json").read_text(encoding="utf-8"))
    pinned = lock["packages"]["node_modules/socket.io-client"]["version"]
    assert pinned.startswith("4.")
    client = requests.get(chat.url("/chat/socket.io.min.js"), timeout=10).text
    assert f"Socket.IO v{pinned}" in client[:200]

    assert requests.get(chat.url("/chat/nothing.js"), timeout=10).status_code == 404


def test_demo_page_points_the_widget_at_rasa(chat: LoopbackServer, assistant: Assistant,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    response = requests.get(chat.url("/chat/demo"), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.headers["Cache-Control"] == "no-store"
    page = response.text
    assert "Du lịch Đà Nẵng" in page and "Cầu Rồng" in page and "Bà Nà" in page and "Mỹ Khê" in page
    assert f'"socketUrl": "http://127.0.0.1:{assistant.rasa_port}"' in page
    assert '<script src="/chat/widget.js"' in page
    # Only scripts of our own and the one config script (by its nonce) may run.
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)  # type: ignore[union-attr]
    assert f'<script nonce="{nonce}">' in page
    assert f"ws://127.0.0.1:{assistant.rasa_port}" in csp

    # Without RASA_PUBLIC_URL: the host the visitor used, on Rasa's port.
    monkeypatch.delenv("RASA_PUBLIC_URL")
    page = requests.get(chat.url("/chat/demo"), headers={"Host": "dulich.example:8080"}, timeout=10).text
    assert '"socketUrl": "http://dulich.example:5005"' in page
    # A hostile Host header cannot break out of the config script.
    page = requests.get(chat.url("/chat/demo"), headers={"Host": "x</script><script>alert(1)//"}, timeout=10)
    assert page.status_code in (200, 400)
    assert "</script><script>alert(1)" not in page.text


def test_widget_never_parses_html() -> None:
    source = WIDGET_JS.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink


# ---- Rasa's socket.io channel ----------------------------------------------------------------


class SocketClient:
    """A Python socket.io client speaking the widget's protocol (long-polling: the installed
    engine.io client's WebSocket transport needs a newer aiohttp than Rasa allows)."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.sio = socketio.AsyncClient(reconnection=False)
        self.session: asyncio.Future[str] | None = None
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.sio.on("session_confirm", self._confirm)
        self.sio.on("bot_uttered", self.replies.put)

    async def _confirm(self, session_id: str) -> None:
        if self.session is not None and not self.session.done():
            self.session.set_result(session_id)

    async def open(self, session_id: str | None) -> str:
        self.session = asyncio.get_running_loop().create_future()
        await self.sio.connect(self.url, transports=["polling"], socketio_path="socket.io")
        await self.sio.emit("session_request", {"session_id": session_id})
        return await asyncio.wait_for(self.session, 10)

    async def close(self) -> None:
        # Without waiting for the pending long-poll to come back (up to Rasa's ping interval).
        await self.sio.eio.disconnect(abort=True)

    async def ask(self, session_id: str, text: str) -> str:
        await self.sio.emit("user_uttered", {"message": text, "session_id": session_id})
        try:
            reply = await asyncio.wait_for(self.replies.get(), REPLY_TIMEOUT / 1000)
        except asyncio.TimeoutError:
            raise AssertionError(f"no reply over socket.io to {text!r}") from None
        return reply.get("text", "")


def test_socketio_channel_keeps_the_conversation_of_a_session(assistant: Assistant) -> None:
    async def scenario() -> None:
        first = SocketClient(assistant.rasa_port)
        session = await first.open(None)
        assert re.fullmatch(r"[0-9a-f]{32}", session)
        # The stock channel loses every reply with session persistence (RasaHQ/rasa#13027).
        assert "Bảo tàng Điêu khắc Chăm" in await first.ask(session, "Bảo tàng Chăm ở đâu?")
        await first.close()

        # A reload: a new socket, the same session, the same conversation on the server.
        second = SocketClient(assistant.rasa_port)
        assert await second.open(session) == session
        follow_up = await second.ask(session, "Mấy giờ mở cửa?")
        assert "Bảo tàng Điêu khắc Chăm" in follow_up and "giờ mở cửa" in follow_up

        # Odd events are dropped without an answer and without hurting the next message.
        for data in ("chỉ là chuỗi", {"message": 5, "session_id": session}, {"message": "hi"},
                     {"message": "hi", "session_id": "../../etc/passwd"}, [1, 2], None):
            await second.sio.emit("user_uttered", data)
        assert "Cầu Rồng" in await second.ask(session, "Cầu Rồng ở đâu?")
        assert second.replies.empty()
        # An id that is not one of ours gets a fresh one.
        fresh = SocketClient(assistant.rasa_port)
        assert await fresh.open("x'; drop") not in ("x'; drop", session)
        # Another channel's sender id (a Telegram chat id) cannot be taken over either.
        other = SocketClient(assistant.rasa_port)
        assert await other.open("123456789") != "123456789"
        for client in (second, fresh, other):
            await client.close()

    asyncio.run(scenario())


# ---- the widget in Chromium ------------------------------------------------------------------


def watch(page: Page) -> dict[str, list[str]]:
    """Record alerts (none may fire) and script errors (none may happen) on ``page``."""
    seen: dict[str, list[str]] = {"dialogs": [], "errors": []}

    def on_dialog(dialog: Any) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on("console", lambda msg: seen["errors"].append(msg.text) if msg.type == "error" else None)
    return seen


def bot_texts(page: Page) -> Any:
    return page.locator(".message.from-bot .text")


def user_texts(page: Page) -> Any:
    return page.locator(".message.from-user .text")


def ask(page: Page, text: str, expect_in_reply: str) -> str:
    """Type ``text`` in the widget and wait for the reply that contains ``expect_in_reply``."""
    replies = bot_texts(page).count()
    page.fill("#dnc-input", text)
    page.press("#dnc-input", "Enter")
    expect(bot_texts(page).nth(replies)).to_contain_text(expect_in_reply, timeout=REPLY_TIMEOUT)
    return bot_texts(page).nth(replies).inner_text()


def record_typing(page: Page) -> None:
    page.evaluate(
        """() => {
            const typing = document.querySelector('#danang-chat').shadowRoot.querySelector('.typing');
            window.__typingShown = false;
            new MutationObserver(() => { if (!typing.hidden) window.__typingShown = true; })
                .observe(typing, {attributes: true});
        }"""
    )


def test_visitor_asks_clicks_a_quick_reply_and_reloads(page: Page, chat: LoopbackServer) -> None:
    seen = watch(page)
    page.goto(chat.url("/chat/demo"))
    expect(page.locator("h1")).to_contain_text("Đà Nẵng")
    launcher = page.locator("button.launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.click()
    expect(page.locator("[role=dialog]")).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")

    record_typing(page)
    first = ask(page, "Cầu Rồng ở đâu?", "Cầu Rồng")
    assert "Địa chỉ" in first
    assert page.evaluate("window.__typingShown") is True
    expect(page.locator(".typing")).to_be_hidden()
    # The map address is a real link that opens apart from the host page.
    link = page.locator(".message.from-bot a.link").first
    assert link.get_attribute("href").startswith("https://www.google.com/maps/")  # type: ignore[union-attr]
    assert link.get_attribute("rel") == "noopener noreferrer" and link.get_attribute("target") == "_blank"

    ask(page, "Bảo tàng Chăm mở cửa mấy giờ?", "Bảo tàng Điêu khắc Chăm")
    page.locator("button.reply", has_text="Giá vé").click()
    expect(user_texts(page).last).to_have_text("Giá vé")
    expect(bot_texts(page).nth(3)).to_contain_text("60.000", timeout=REPLY_TIMEOUT)
    expect(page.locator("button.reply", has_text="Đường đi")).to_be_visible()

    before = page.locator(".log").inner_text()
    session = confirmed_session(page)
    page.reload()
    # Still open, with the whole conversation and the last quick replies.
    expect(page.locator("[role=dialog]")).to_be_visible()
    assert page.locator(".log").inner_text() == before
    expect(user_texts(page)).to_have_text(["Cầu Rồng ở đâu?", "Bảo tàng Chăm mở cửa mấy giờ?", "Giá vé"])
    expect(page.locator("button.reply", has_text="Đường đi")).to_be_visible()
    # And the server kept it too: a follow-up about "it" is about the museum.
    follow_up = ask(page, "Đường đi thế nào?", "Bảo tàng Điêu khắc Chăm")
    assert "Địa chỉ" in follow_up
    assert confirmed_session(page) == session
    assert seen == {"dialogs": [], "errors": []}


def test_markup_from_the_knowledge_base_is_shown_as_text(page: Page, chat: LoopbackServer) -> None:
    seen = watch(page)
    page.goto(chat.url("/chat/demo"))
    page.locator("button.launcher").click()
    reply = ask(page, "Chợ Hàn là gì?", "Chợ Hàn")
    assert "<img src=x onerror=alert(1)>" in reply and "<script>alert(2)</script>" in reply
    reply = ask(page, "Chợ Hàn ở đâu?", "Chợ Hàn")
    assert '<a href="javascript:alert(3)">bấm</a>' in reply and "<svg onload=alert(4)>" in reply
    page.wait_for_timeout(300)  # give a (wrongly) created image the time to fail and fire
    planted = page.evaluate(
        """() => {
            const root = document.querySelector('#danang-chat').shadowRoot;
            return {
                images: root.querySelectorAll('img').length + document.querySelectorAll('img').length,
                scripts: root.querySelectorAll('script').length,
                svgOnload: root.querySelectorAll('svg[onload]').length,
                jsLinks: [...root.querySelectorAll('a')].filter(a => !/^https?:/.test(a.href)).length,
            };
        }"""
    )
    assert planted == {"images": 0, "scripts": 0, "svgOnload": 0, "jsLinks": 0}
    assert seen == {"dialogs": [], "errors": []}


def shadow_focus(page: Page) -> str | None:
    """What has the keyboard focus inside the widget: "launcher", an element id, or None."""
    return page.evaluate(
        """() => {
            const host = document.querySelector('#danang-chat');
            if (document.activeElement !== host) return null;
            const el = host.shadowRoot.activeElement;
            return el && (el.classList.contains('launcher') ? 'launcher' : el.id || el.className);
        }"""
    )


def test_keyboard_only_visitor(page: Page, chat: LoopbackServer) -> None:
    page.goto(chat.url("/chat/demo"))
    for _ in range(30):
        page.keyboard.press("Tab")
        if shadow_focus(page) == "launcher":
            break
    assert shadow_focus(page) == "launcher", "Tab never reached the chat button"
    page.keyboard.press("Enter")
    expect(page.locator("[role=dialog]")).to_be_visible()
    assert shadow_focus(page) == "dnc-input"
    page.keyboard.type("xin chào")
    page.keyboard.press("Enter")
    expect(user_texts(page).last).to_have_text("xin chào")
    expect(bot_texts(page).nth(1)).to_contain_text("Xin chào", timeout=REPLY_TIMEOUT)
    page.keyboard.press("Escape")
    expect(page.locator("[role=dialog]")).to_be_hidden()
    expect(page.locator("button.launcher")).to_have_attribute("aria-expanded", "false")
    assert shadow_focus(page) == "launcher"
    # The focused launcher shows a focus ring.
    outline = page.locator("button.launcher").evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline not in ("", "none")


def test_english_phone_layout(page: Page, chat: LoopbackServer) -> None:
    page.set_viewport_size({"width": 390, "height": 780})
    page.goto(chat.url("/chat/demo?lang=en"))
    launcher = page.locator("button.launcher")
    expect(launcher).to_have_attribute("aria-label", "Chat with the Da Nang tourism assistant")
    launcher.click()
    dialog = page.locator("[role=dialog]")
    expect(dialog).to_be_visible()
    assert dialog.bounding_box() == {"x": 0, "y": 0, "width": 390, "height": 780}
    expect(page.locator("#dnc-input")).to_have_attribute("placeholder", "Type a question…")
    expect(page.locator("label[for=dnc-input]")).to_have_text("Your question")
    # The host page styles every input in red Comic Sans: none of it reaches the widget.
    font = page.locator("#dnc-input").evaluate("el => getComputedStyle(el).fontFamily")
    assert "Comic" not in font
    expect(page.locator("button.reply").first).to_have_text("Where is the Dragon Bridge?")
    page.locator("button.reply").first.click()
    expect(bot_texts(page).nth(1)).to_contain_text("Dragon Bridge", timeout=REPLY_TIMEOUT)
    expect(page.locator("[role=log]")).to_have_attribute("aria-live", "polite")


def confirmed_session(page: Page, timeout: float = 10) -> str:
    """The session id the server confirmed to the widget on ``page``, once it has.
    (Polled from here: the demo page's CSP forbids the eval that wait_for_function uses.)"""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session = page.evaluate("(JSON.parse(localStorage.getItem('danang-chat:v1') || '{}')).sessionId")
        if session:
            return session
        page.wait_for_timeout(50)
    raise AssertionError("the widget never got a session id")


def test_session_id_is_new_per_browser(page: Page, chat: LoopbackServer) -> None:
    """Two visitors never share a conversation: each browser gets its own session."""
    page.goto(chat.url("/chat/demo"))
    page.locator("button.launcher").click()
    mine = confirmed_session(page)
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        tab = other.new_page()
        tab.goto(chat.url("/chat/demo"))
        tab.locator("button.launcher").click()
        assert confirmed_session(tab) != mine
    finally:
        other.close()
    assert uuid.UUID(mine)


def test_images_and_links_only_over_http(page: Page, chat: LoopbackServer) -> None:
    """Images and links are built as elements with web addresses only (here from a stored
    conversation, which the widget renders exactly as it renders live replies)."""
    pixel = bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
    page.route("https://anh.example/**", lambda route: route.fulfill(body=pixel, content_type="image/png"))
    page.goto(chat.url("/chat/demo"))
    stored = {
        "sessionId": None,
        "open": True,
        "buttons": [{"title": "Tiếp", "payload": "/greet"}, {"title": 5, "payload": "x"}],
        "messages": [
            {"from": "bot", "text": "Ảnh cầu: xem https://anh.example/info.", "image": "https://anh.example/cau.png"},
            {"from": "bot", "text": "javascript:alert(1) và data:text/html,<b>x</b>",
             "image": "javascript:alert(1)"},
            {"from": "hacker", "text": "<b>bỏ qua</b>"},
        ],
    }
    page.evaluate("s => localStorage.setItem('danang-chat:v1', JSON.stringify(s))", stored)
    page.reload()
    expect(page.locator("[role=dialog]")).to_be_visible()
    images = page.locator(".message img")
    expect(images).to_have_count(1)
    assert images.first.get_attribute("src") == "https://anh.example/cau.png"
    expect(images.first).to_have_js_property("naturalWidth", 1)  # loaded through the page CSP
    links = page.locator(".message a")
    expect(links).to_have_count(1)  # the trailing full stop is not part of the address
    assert links.first.get_attribute("href") == "https://anh.example/info"
    expect(bot_texts(page).nth(2)).to_have_text("javascript:alert(1) và data:text/html,<b>x</b>")
    expect(page.locator(".message")).to_have_count(3)  # the welcome and the two valid ones
    expect(page.locator("button.reply")).to_have_text(["Tiếp"])
