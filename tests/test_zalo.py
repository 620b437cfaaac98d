"""The Zalo OA channel: its parts on their own (MAC, freshness, de-duplication, message
splitting, buttons, token choice), its API client against a fake Zalo, and the real Rasa and
action servers answering signed webhook events, with replies going to the fake Zalo."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import stat
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.exceptions import RasaException

from bot.channels import zalo
from bot.channels.zalo_api import (
    TokenFile,
    Tokens,
    ZaloClient,
    ZaloSettings,
    fingerprint,
    initial_tokens,
    split_text,
    zalo_button,
)
from bot.channels.zalo_signature import HEADER, SeenEvents, is_fresh, mac, verify
from bot.credentials import write as write_credentials
from tests.e2e.servers import Assistant, seeded_knowledge_base
from tests.fake_zalo import FakeZalo

APP_ID = "4291763606161179100"
APP_SECRET = "app-secret-for-tests"
OA_SECRET = "oa-secret-for-tests"
OA_ID = "579745863508352884"


# --- the parts on their own ----------------------------------------------------------------


def test_mac_is_sha256_of_app_id_body_timestamp_and_oa_secret():
    body = b'{"event_name":"user_send_text","timestamp":"1700000000000"}'
    # printf '%s' '<app id><body><timestamp>oa-secret' | sha256sum
    expected = "mac=3495f7ee671436feffe4ed6ac6a1c56f20655f9597d5046693bb5a77d604c994"
    assert mac(APP_ID, body, "1700000000000", "oa-secret") == expected
    assert verify(expected, APP_ID, body, "1700000000000", "oa-secret")
    assert verify(expected.upper().replace("MAC=", "mac="), APP_ID, body, "1700000000000", "oa-secret")
    assert not verify(expected, APP_ID, body + b" ", "1700000000000", "oa-secret")
    assert not verify(expected, APP_ID, body, "1700000000001", "oa-secret")
    assert not verify(expected, APP_ID, body, "1700000000000", "other-secret")
    assert not verify(expected[4:], APP_ID, body, "1700000000000", "oa-secret")


def test_freshness_window():
    now = 1_700_000_000_000
    assert is_fresh(now, 300, now)
    assert is_fresh(now - 299_000, 300, now)
    assert not is_fresh(now - 301_000, 300, now)
    assert is_fresh(now + 30_000, 300, now)  # a clock a little ahead
    assert not is_fresh(now + 600_000, 300, now)


def test_seen_events_forget_after_their_window_and_stay_bounded():
    seen = SeenEvents(ttl_seconds=10, size=3)
    assert seen.first_time("a", now=0)
    assert not seen.first_time("a", now=5)
    assert seen.first_time("a", now=11)  # forgotten: older events are refused as stale anyway
    for key in "bcd":
        assert seen.first_time(key, now=12)
    assert seen.first_time("a", now=12)  # pushed out by the size bound


def test_event_key_uses_msg_id_else_event_time_and_user():
    text = {"event_name": "user_send_text", "timestamp": "1", "sender": {"id": "u"},
            "message": {"msg_id": "m1"}}
    follow = {"event_name": "follow", "timestamp": "2", "follower": {"id": "u"}}
    assert zalo.event_key(text) == "msg:m1"
    assert zalo.event_key(follow) == "follow:2:u"


def test_split_text_keeps_short_texts_and_cuts_long_ones_at_line_ends():
    assert split_text("Xin chào") == ["Xin chào"]
    assert split_text("") == [] and split_text(" \n ") == []
    assert split_text(" " * 2500 + "x") == ["x"]  # never an empty message
    lines = [f"• Địa điểm số {i}: " + " ".join(["mô tả"] * 20) for i in range(40)]
    parts = split_text("\n".join(lines))
    assert len(parts) > 1
    assert all(len(p) <= 2000 for p in parts)
    assert "\n".join(parts) == "\n".join(lines).strip()  # nothing lost, cut only at line ends
    assert all(p.split("\n")[0].startswith("• Địa điểm") for p in parts)


def test_split_text_cuts_an_overlong_line_at_spaces_and_counts_emoji_twice():
    words = "đà nẵng " * 600
    parts = split_text(words)
    assert all(len(p) <= 2000 for p in parts)
    assert " ".join(parts).split() == words.split()
    emoji = split_text("🐉" * 1500)  # 3000 UTF-16 units
    assert [len(p) for p in emoji] == [1000, 500]
    assert split_text("x" * 4500) == ["x" * 2000, "x" * 2000, "x" * 500]


def test_buttons_become_zalo_template_buttons():
    assert zalo_button({"title": "Giờ mở cửa", "payload": '/place_hours{"place": "Cầu Rồng"}'}) == {
        "title": "Giờ mở cửa", "type": "oa.query.hide", "payload": '/place_hours{"place": "Cầu Rồng"}'}
    assert zalo_button({"title": "Cầu Rồng ở đâu?", "payload": "Cầu Rồng ở đâu?"})["type"] == "oa.query.show"
    assert zalo_button({"title": "Bản đồ", "url": "https://maps.example/x"}) == {
        "title": "Bản đồ", "type": "oa.open.url", "payload": {"url": "https://maps.example/x"}}
    assert len(zalo_button({"title": "x" * 300, "payload": "/help"})["title"]) == 100
    assert zalo_button({"title": "", "payload": "/help"}) is None
    assert zalo_button({"title": "x", "payload": "/" + "a" * 1000}) is None


def test_credentials_refer_only_to_variables_that_are_set():
    assert zalo.credentials_from_env({}) is None
    assert zalo.credentials_from_env({"ZALO_APP_ID": "1"}) is None
    env = {"ZALO_APP_ID": "1", "ZALO_OA_SECRET_KEY": "k", "ZALO_ACCESS_TOKEN": "t", "ZALO_API_URL": ""}
    assert zalo.credentials_from_env(env) == {
        "app_id": "${ZALO_APP_ID}",
        "oa_secret_key": "${ZALO_OA_SECRET_KEY}",
        "access_token": "${ZALO_ACCESS_TOKEN}",
    }


def test_the_channel_is_built_from_its_credentials_with_defaults(tmp_path):
    channel = zalo.ZaloInput.from_credentials(
        {"app_id": APP_ID, "oa_secret_key": OA_SECRET, "token_file": str(tmp_path / "t.json")})
    settings = channel.client.settings
    assert (settings.api_url, settings.oauth_url) == ("https://openapi.zalo.me", "https://oauth.zaloapp.com")
    assert channel.max_event_age_seconds == 300 and settings.failed_file.name == "zalo-failed.jsonl"
    assert isinstance(channel.get_output_channel(), zalo.ZaloOutput)
    with pytest.raises(RasaException):
        zalo.ZaloInput.from_credentials({"app_id": APP_ID})
    with pytest.raises(RasaException, match="ZALO_MAX_EVENT_AGE_SECONDS"):
        zalo.ZaloInput.from_credentials({"app_id": APP_ID, "oa_secret_key": "k",
                                         "max_event_age_seconds": "soon"})


def test_stored_tokens_win_unless_the_environment_has_a_newer_pair(tmp_path):
    env_pair = ("env-access", "env-refresh")
    stored = (Tokens("file-access", "file-refresh", 1e12), fingerprint("env-refresh"))
    from_env = (Tokens("env-access", "env-refresh"), fingerprint("env-refresh"))
    assert initial_tokens(*env_pair, None) == from_env
    # The file descends from the environment's pair: it is newer (that refresh token is spent).
    assert initial_tokens(*env_pair, stored)[0].access_token == "file-access"
    # An operator put a new pair in the environment since: it wins.
    assert initial_tokens("new-access", "new-refresh", stored)[0].access_token == "new-access"
    assert initial_tokens(None, None, stored)[0].access_token == "file-access"
    assert initial_tokens(None, None, None)[0] is None
    store = TokenFile(tmp_path / "var" / "tokens.json")
    store.save(Tokens("a", "r", 123.0), "origin")
    assert store.load() == (Tokens("a", "r", 123.0), "origin")
    assert stat.S_IMODE(os.stat(store.path).st_mode) == 0o600
    assert [p.name for p in store.path.parent.iterdir()] == ["tokens.json"]  # no temporary left


# --- the API client against the fake Zalo ------------------------------------------------------


@pytest.fixture
def fake():
    server = FakeZalo(APP_ID, APP_SECRET).start()
    yield server
    server.stop()


def _client(fake: FakeZalo, tmp_path: Path, **overrides: Any) -> ZaloClient:
    settings = dict(
        app_id=APP_ID, app_secret=APP_SECRET, access_token=fake.access_token,
        refresh_token=fake.refresh_token, api_url=fake.url, oauth_url=fake.url,
        token_file=tmp_path / "tokens.json", failed_file=tmp_path / "failed.jsonl", retry_delay_seconds=0.05,
    )
    return ZaloClient(ZaloSettings(**(settings | overrides)))


async def _with(client: ZaloClient, work: Any) -> Any:
    try:
        return await work
    finally:
        await client.close()


def test_concurrent_sends_refresh_a_single_use_refresh_token_once(fake, tmp_path):
    client = _client(fake, tmp_path)
    fake.expire_token()

    async def three() -> list[bool]:
        return await asyncio.gather(*(client.send_text(f"u{i}", f"tin {i}") for i in range(3)))

    assert asyncio.run(_with(client, three())) == [True, True, True]
    assert len(fake.refreshes()) == 1
    assert all(fake.delivered(f"u{i}") == [{"text": f"tin {i}"}] for i in range(3))


def test_a_token_about_to_expire_is_refreshed_before_sending(fake, tmp_path):
    TokenFile(tmp_path / "tokens.json").save(
        Tokens(fake.access_token, fake.refresh_token, time.time() + 60), fingerprint(fake.refresh_token))
    client = _client(fake, tmp_path)
    assert asyncio.run(_with(client, client.send_text("u", "chào")))
    assert len(fake.refreshes()) == 1
    assert [r.headers["access_token"] for r in fake.sends("u")] == [fake.access_token]  # no -216 first
    assert client.tokens.expires_at > time.time() + 80_000


def test_an_undeliverable_message_is_logged_and_recorded(fake, tmp_path, caplog):
    client = _client(fake, tmp_path)
    fake.fail_next(3)
    with caplog.at_level(logging.ERROR, logger="bot.channels.zalo_api"):
        assert not asyncio.run(_with(client, client.send_text("u-lost", "Cầu Rồng ở Sơn Trà")))
    assert [r.status for r in fake.sends("u-lost")] == [500, 500, 500]
    assert "u-lost" in caplog.text and "Cầu Rồng ở Sơn Trà" in caplog.text
    [record] = [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()]
    assert record["user_id"] == "u-lost" and record["message"] == {"text": "Cầu Rồng ở Sơn Trà"}
    assert "HTTP 500" in record["problem"]
    assert stat.S_IMODE(os.stat(tmp_path / "failed.jsonl").st_mode) == 0o600


def test_a_spent_refresh_token_fails_loudly_without_retrying_forever(fake, tmp_path, caplog):
    client = _client(fake, tmp_path, refresh_token="already-used")
    fake.expire_token()
    with caplog.at_level(logging.ERROR, logger="bot.channels.zalo_api"):
        assert not asyncio.run(_with(client, client.send_text("u", "chào")))
    assert len(fake.refreshes()) == 1 and len(fake.sends("u")) == 1
    assert "ZALO_REFRESH_TOKEN" in caplog.text and "already-used" not in caplog.text
    assert (tmp_path / "failed.jsonl").exists()


# --- the channel in the real Rasa server --------------------------------------------------------


class Zalo:
    """Signed webhook events into the running assistant; replies read from the fake Zalo."""

    def __init__(self, assistant: Assistant, fake: FakeZalo, work: Path) -> None:
        self.assistant, self.fake, self.work = assistant, fake, work

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.assistant.rasa_port}/webhooks/zalo/webhook"

    def post(self, event: dict | None = None, *, body: bytes | None = None,
             signature: str | None = "good") -> tuple[int, float]:
        raw = body if body is not None else json.dumps(event, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json"}
        if signature == "good":
            signature = mac(APP_ID, raw, str(event["timestamp"]), OA_SECRET)
        if signature is not None:
            headers[HEADER] = signature
        start = time.monotonic()
        try:
            with urllib.request.urlopen(urllib.request.Request(self.url, raw, headers), timeout=30) as r:
                status = r.status
        except urllib.error.HTTPError as error:
            status = error.code
        return status, time.monotonic() - start

    def replies(self, user: str, containing: str = "", timeout: float = 60) -> list[dict[str, Any]]:
        """The messages delivered to ``user``, once one of them contains ``containing``."""
        return self.fake.wait_for(
            lambda: (m := self.fake.delivered(user)) and any(containing in x["text"] for x in m) and m,
            timeout, f"a reply to {user} containing {containing!r}",
        )

    def settle(self) -> None:
        """Wait for the answer to a fresh question: work started before has had its time."""
        user = new_user()
        assert self.post(text_event(user, "xin chào"))[0] == 200
        self.replies(user)


def new_user() -> str:
    return str(uuid.uuid4().int)[:19]


def now_ms(shift_seconds: float = 0) -> str:
    return str(int((time.time() + shift_seconds) * 1000))


def text_event(user: str, text: str, **fields: Any) -> dict[str, Any]:
    return {
        "app_id": APP_ID, "user_id_by_app": f"app-{user}", "event_name": "user_send_text",
        "timestamp": now_ms(), "sender": {"id": user}, "recipient": {"id": OA_ID},
        "message": {"text": text, "msg_id": uuid.uuid4().hex}, **fields,
    }


def event(name: str, user: str, **fields: Any) -> dict[str, Any]:
    return {"app_id": APP_ID, "event_name": name, "timestamp": now_ms(), "sender": {"id": user},
            "recipient": {"id": OA_ID}, **fields}


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return ((message.get("attachment") or {}).get("payload") or {}).get("buttons") or []


@pytest.fixture(scope="module")
def channel(tmp_path_factory, trained_model):
    work = tmp_path_factory.mktemp("zalo")
    url = seeded_knowledge_base(work)
    fake = FakeZalo(APP_ID, APP_SECRET).start()
    env = {
        "DATABASE_URL": url,
        "ZALO_APP_ID": APP_ID,
        "ZALO_APP_SECRET": APP_SECRET,
        "ZALO_OA_SECRET_KEY": OA_SECRET,
        "ZALO_ACCESS_TOKEN": fake.access_token,
        "ZALO_REFRESH_TOKEN": fake.refresh_token,
        "ZALO_API_URL": fake.url,
        "ZALO_OAUTH_URL": fake.url,
        "ZALO_TOKEN_FILE": str(work / "zalo-tokens.json"),
        "ZALO_FAILED_FILE": str(work / "zalo-failed.jsonl"),
        "ZALO_RETRY_DELAY_SECONDS": "0.1",
    }
    credentials = write_credentials(work / "credentials.yml", env)
    assistant = Assistant(trained_model, work, env, credentials=credentials).start()
    yield Zalo(assistant, fake, work)
    assistant.stop()
    fake.stop()


def test_a_question_is_acknowledged_at_once_and_answered_through_the_oa_api(channel):
    user = new_user()
    channel.fake.slow_users[user] = 3.0  # Zalo itself is slow today: the webhook must not wait
    status, seconds = channel.post(text_event(user, "cầu rồng ở đâu"))
    assert status == 200 and seconds < 1.5, seconds
    channel.replies(user, "Cầu Rồng")
    with_buttons = channel.fake.wait_for(lambda: [m for m in channel.fake.delivered(user) if buttons(m)])
    sends = channel.fake.sends(user)
    assert all(r.headers["access_token"] == channel.fake.access_token for r in sends)
    assert with_buttons[0]["attachment"]["type"] == "template"
    kinds = {"oa.query.hide", "oa.query.show", "oa.open.url"}
    assert all(b["type"] in kinds for b in buttons(with_buttons[0]))


def test_a_question_without_diacritics_is_answered(channel):
    user = new_user()
    assert channel.post(text_event(user, "cau rong o dau"))[0] == 200
    assert channel.replies(user, "Cầu Rồng")


def test_a_new_follower_is_welcomed_with_example_questions(channel):
    user = new_user()
    follow = {"app_id": APP_ID, "oa_id": OA_ID, "event_name": "follow", "timestamp": now_ms(),
              "source": "oa_profile", "follower": {"id": user}, "user_id_by_app": f"app-{user}"}
    assert channel.post(follow)[0] == 200
    [welcome] = channel.replies(user, "trợ lý du lịch Đà Nẵng")
    assert [b["type"] for b in buttons(welcome)] == ["oa.query.show"] * 3
    assert "Cầu Rồng ở đâu?" in [b["payload"] for b in buttons(welcome)]


def test_a_shared_location_gets_the_nearest_places(channel):
    user = new_user()
    location = {"text": "", "msg_id": uuid.uuid4().hex, "attachments": [
        {"type": "location", "payload": {"coordinates": {"latitude": "16.0613", "longitude": "108.2270"}}}]}
    assert channel.post(event("user_send_location", user, message=location))[0] == 200
    [reply] = channel.replies(user, "Cầu Rồng")
    assert reply["text"].index("Cầu Rồng") < 80  # the nearest sight comes first
    assert "Bệnh viện gần nhất" in reply["text"] and "google.com/maps" in reply["text"]
    assert {"title": "Cầu Rồng", "type": "oa.query.hide",
            "payload": '/place_info{"place": "Cầu Rồng"}'} in buttons(reply)


def test_a_sticker_gets_a_polite_note_that_only_text_is_read(channel):
    user = new_user()
    sticker = {"msg_id": uuid.uuid4().hex, "attachments": [{"type": "sticker", "payload": {"id": "x"}}]}
    assert channel.post(event("user_send_sticker", user, message=sticker))[0] == 200
    assert channel.replies(user, "chỉ đọc được tin nhắn chữ")


@pytest.mark.parametrize("name", ["user_received_message", "user_seen_message", "oa_send_text", "unfollow",
                                  "an_event_zalo_adds_next_year", "user_send_text"])
def test_other_events_are_acknowledged_and_ignored(channel, name):
    user = new_user()
    message = {"msg_ids": ["x"]} if name != "user_send_text" else {"msg_id": uuid.uuid4().hex}  # no text
    assert channel.post(event(name, user, message=message, follower={"id": user}))[0] == 200
    channel.settle()
    assert channel.fake.sends(user) == []


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("no signature", 401),
        ("signed with another key", 403),
        ("body changed after signing", 403),
        ("ten minutes old", 403),
        ("ten minutes in the future", 403),
        ("not JSON", 400),
        ("a JSON list", 400),
        ("no timestamp", 400),
        ("empty body", 400),
    ],
)
def test_forged_stale_and_malformed_requests_are_refused_and_nothing_is_sent(channel, case, expected):
    user = new_user()
    good = text_event(user, "cầu rồng ở đâu")
    raw = json.dumps(good).encode()
    right = mac(APP_ID, raw, good["timestamp"], OA_SECRET)
    post = {
        "no signature": lambda: channel.post(good, signature=None),
        "signed with another key": lambda: channel.post(
            good, signature=mac(APP_ID, raw, good["timestamp"], "guessed-key")),
        "body changed after signing": lambda: channel.post(
            body=raw[:-1] + b', "extra": 1}', signature=right),
        "ten minutes old": lambda: channel.post(dict(good, timestamp=now_ms(-600))),
        "ten minutes in the future": lambda: channel.post(dict(good, timestamp=now_ms(600))),
        "not JSON": lambda: channel.post(body=b"{not json", signature=right),
        "a JSON list": lambda: channel.post(body=b"[]", signature=right),
        "no timestamp": lambda: channel.post(body=b'{"event_name": "user_send_text"}', signature=right),
        "empty body": lambda: channel.post(body=b"", signature=right),
    }[case]
    assert post()[0] == expected
    channel.settle()
    assert channel.fake.sends(user) == []


def test_an_event_sent_again_is_answered_once(channel):
    user, control = new_user(), new_user()
    first = text_event(user, "xin chào")
    assert channel.post(first)[0] == 200
    assert channel.post(first)[0] == 200  # Zalo's retry: same body
    assert channel.post(dict(first, timestamp=now_ms(1)))[0] == 200  # same msg_id, later stamp
    assert channel.post(text_event(control, "xin chào"))[0] == 200
    # A later question of the same visitor is answered after the earlier ones (Rasa handles
    # one conversation's messages in turn): once it is, every duplicate would have been too.
    for who in (user, control):
        channel.replies(who)
        assert channel.post(text_event(who, "cầu rồng ở đâu"))[0] == 200
        channel.replies(who, "Cầu Rồng")
    assert len(channel.fake.delivered(user)) == len(channel.fake.delivered(control))


def test_a_server_error_from_zalo_is_retried(channel):
    channel.settle()  # nothing of an earlier test is still being sent
    user = new_user()
    channel.fake.fail_next(1)
    assert channel.post(text_event(user, "Bảo tàng Chăm ở đâu?"))[0] == 200
    channel.replies(user, "Bảo tàng Điêu khắc Chăm")
    first, second = channel.fake.sends(user)[:2]
    assert (first.status, second.status, second.delivered) == (500, 200, True)
    assert first.body == second.body


def test_an_expired_token_is_refreshed_stored_and_the_message_resent(channel):
    channel.settle()  # nothing of an earlier test is still being sent
    fake = channel.fake
    old_access, old_refresh, refreshes = fake.access_token, fake.refresh_token, len(fake.refreshes())
    fake.expire_token()
    user = new_user()
    assert channel.post(text_event(user, "cầu rồng ở đâu"))[0] == 200
    channel.replies(user, "Cầu Rồng")
    [refresh] = fake.refreshes()[refreshes:]
    assert refresh.body == {"refresh_token": old_refresh, "app_id": APP_ID, "grant_type": "refresh_token"}
    assert refresh.headers["secret_key"] == APP_SECRET
    first, second = fake.sends(user)[:2]
    assert first.headers["access_token"] == old_access and first.answer["error"] == -216
    assert second.headers["access_token"] == fake.access_token != old_access
    assert second.body == first.body
    stored = channel.work / "zalo-tokens.json"
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    data = json.loads(stored.read_text())
    assert (data["access_token"], data["refresh_token"]) == (fake.access_token, fake.refresh_token)
    assert data["expires_at"] > time.time() + 80_000


def test_an_undeliverable_reply_is_logged_and_recorded(channel):
    channel.settle()  # nothing of an earlier test is still being sent
    user = new_user()
    channel.fake.fail_next(3)
    assert channel.post(text_event(user, "xin chào"))[0] == 200
    failed = channel.work / "zalo-failed.jsonl"
    records = channel.fake.wait_for(
        lambda: failed.exists() and [r for r in map(json.loads, failed.read_text().splitlines())
                                     if r["user_id"] == user], 60, "the failure record")
    assert records[0]["message"]["text"] and "HTTP 500" in records[0]["problem"]
    log = (channel.work / "logs" / "rasa.log").read_text(errors="replace")
    assert f"Zalo message to user {user} NOT delivered" in log
    assert APP_SECRET not in log and OA_SECRET not in log and channel.fake.access_token not in log


def test_refreshed_tokens_survive_a_restart(channel):
    """Refresh tokens are single-use: after a restart the channel must use the stored pair,
    not the spent one from the environment."""
    fake = channel.fake
    refreshes = len(fake.refreshes())
    channel.assistant.restart_rasa()
    user = new_user()
    assert channel.post(text_event(user, "cầu rồng ở đâu"))[0] == 200
    channel.replies(user, "Cầu Rồng")
    assert all(r.delivered and r.headers["access_token"] == fake.access_token for r in fake.sends(user))
    assert len(fake.refreshes()) == refreshes
