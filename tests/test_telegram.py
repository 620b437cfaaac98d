"""The Telegram channel: the real Rasa and action servers on loopback with the seeded
knowledge base, Telegram played by a fake Bot API server (tests/fake_telegram.py) that
records what the bot sends. Updates are posted to the webhook as Telegram posts them, and
the polling process is run against the same fake."""

from __future__ import annotations

import asyncio
import itertools
import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from bot import credentials as run_credentials
from bot.channels import telegram_config
from bot.channels.telegram import NotAnUpdate, TelegramInput, TelegramOutput, parse_update
from bot.channels.telegram_format import (
    MESSAGE_LIMIT,
    PayloadStore,
    inline_keyboard,
    single_map_link,
    split_text,
    to_html,
    user_language,
    utf16_len,
)
from bot.channels.telegram_nearby import near_data, parse_near_data
from bot.launcher import runtime_env
from knowledge.db import new_session
from knowledge.queries import places_near
from tests.e2e.servers import Assistant, seeded_knowledge_base
from tests.fake_telegram import BOT_USER, FakeTelegram

TOKEN = "7000001:AAF-test_token_0123456789abcdefghijkl"
SECRET = "test-webhook_secret-42"
PUBLIC_URL = "https://bot.example.org/webhooks/telegram/webhook"
DRAGON_BRIDGE = (16.0612, 108.2272)
ROOT = Path(__file__).resolve().parent.parent

_chat_ids = itertools.count(910_001)
_update_ids = itertools.count(500_001)


# --- pure functions -------------------------------------------------------------------


def test_credentials_section_only_names_the_variables_that_are_set():
    assert telegram_config.credentials_from_env({}) is None
    assert telegram_config.credentials_from_env({"TELEGRAM_BOT_TOKEN": "  "}) is None
    assert telegram_config.credentials_from_env({"TELEGRAM_BOT_TOKEN": "1:x"}) == {
        "access_token": "${TELEGRAM_BOT_TOKEN}"
    }
    env = {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_SECRET": "s", "TELEGRAM_WEBHOOK_URL": "https://a/b"}
    rendered = run_credentials.render(env)
    assert "bot.channels.telegram.TelegramInput:" in rendered
    assert "${TELEGRAM_WEBHOOK_SECRET}" in rendered and "${TELEGRAM_WEBHOOK_URL}" in rendered
    assert "1:x" not in rendered and "api_url" not in rendered  # secrets stay in the environment


def test_polling_is_wanted_with_a_token_and_no_public_url():
    assert telegram_config.polling_wanted({"TELEGRAM_BOT_TOKEN": "1:x"})
    assert not telegram_config.polling_wanted(
        {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_URL": "https://a"}
    )
    assert not telegram_config.polling_wanted({})


def test_webhook_secret_is_derived_from_the_token_unless_configured():
    derived = telegram_config.webhook_secret("1:x", None)
    assert (
        derived == telegram_config.webhook_secret("1:x", None) != telegram_config.webhook_secret("2:y", None)
    )
    assert "1:x" not in derived and len(derived) == 64
    assert TelegramInput("1:x").secret == derived  # the channel and the poller agree
    assert telegram_config.webhook_secret("1:x", "my_secret-1") == "my_secret-1"
    with pytest.raises(ValueError, match="TELEGRAM_WEBHOOK_SECRET"):
        telegram_config.webhook_secret("1:x", "has spaces & symbols")


def test_long_text_splits_at_paragraphs_then_lines_then_words():
    paragraphs = [f"Đoạn {i}. " + "chữ " * 300 for i in range(8)]  # ~1,200 chars each
    text = "\n\n".join(paragraphs)
    chunks = split_text(text)
    assert len(chunks) == 3
    assert all(utf16_len(c) <= MESSAGE_LIMIT for c in chunks)
    assert all(c.startswith("Đoạn") for c in chunks)  # cut between paragraphs
    assert "".join("".join(chunks).split()) == "".join(text.split())  # nothing lost

    one_line = "từ " * 3000
    chunks = split_text(one_line)
    assert all(utf16_len(c) <= MESSAGE_LIMIT for c in chunks)
    assert all(not c.startswith(" ") and c.split(" ")[-1] == "từ" for c in chunks)  # words kept whole


def test_split_counts_emoji_as_two_units_and_cuts_words_too_long_to_keep():
    chunks = split_text("🗺" * 5000)
    assert [len(c) for c in chunks] == [2048, 2048, 904]
    assert split_text("x" * 9000) == ["x" * 4096, "x" * 4096, "x" * 808]
    assert split_text("  \n\n ") == []
    assert split_text("ngắn") == ["ngắn"]


def test_html_is_escaped_and_the_subject_is_bold():
    assert to_html("Giá <100.000đ> & *miễn phí* _trẻ em_") == "Giá &lt;100.000đ&gt; &amp; *miễn phí* _trẻ em_"
    assert to_html("Cầu Rồng\n📍 Địa chỉ: A & B") == "<b>Cầu Rồng</b>\n📍 Địa chỉ: A &amp; B"
    assert to_html("Cầu Rồng: cầu <rồng>\nthêm") == "<b>Cầu Rồng</b>: cầu &lt;rồng&gt;\nthêm"
    assert to_html("Cầu Rồng\nthêm", heading=False) == "Cầu Rồng\nthêm"
    assert to_html("x" * 150 + "\ny") == "x" * 150 + "\ny"  # a long first line is not a heading


def test_long_payloads_get_short_keys_in_a_bounded_map():
    store = PayloadStore(capacity=2)
    short = '/place_hours{"place": "Cầu Rồng"}'
    long = '/place_contact{"place": "Bệnh viện Đa khoa Quốc tế Vinmec Đà Nẵng"}'
    assert store.callback_data(short) == short
    key = store.callback_data(long)
    assert len(key.encode()) <= 64 and key == store.callback_data(long) and store.resolve(key) == long
    assert store.resolve(short) == short
    store.callback_data("/a" + "x" * 70)
    store.callback_data("/b" + "x" * 70)
    assert store.resolve(key) is None  # the oldest went
    keyboard = inline_keyboard([{"title": "A", "payload": long}, {"title": "", "payload": "/x"}, {}], store)
    assert keyboard is not None and len(keyboard.inline_keyboard) == 1
    assert inline_keyboard([], store) is None


def test_a_single_map_link_is_found_and_its_line_dropped():
    text = "Cầu Rồng\n📍 Địa chỉ: X\n🗺 Bản đồ: https://www.google.com/maps/search/?api=1&query=16.06120,108.22720"
    link = single_map_link(text)
    assert link is not None and (link.lat, link.lon) == (16.0612, 108.2272)
    assert link.text == "Cầu Rồng\n📍 Địa chỉ: X"
    two = text + "\n🗺 https://www.google.com/maps/search/?api=1&query=16.07200,108.21600"
    assert single_map_link(two) is None and single_map_link("no link") is None


def test_language_of_the_telegram_app():
    assert user_language("vi") == user_language("vi-VN") == user_language(None) == "vi"
    assert user_language("en") == user_language("ko") == "en"


def test_near_callback_data_round_trips_and_rejects_forgeries():
    data = near_data("hospital", 16.0612, 108.2272)
    assert len(data.encode()) <= 64 and parse_near_data(data) == ("hospital", 16.0612, 108.2272)
    for forged in ("#near:casino:16.1,108.2", "#near:hospital:99.1,108.2", "#near:hospital:x,y", "/greet"):
        assert parse_near_data(forged) is None


def test_bodies_that_are_not_updates_are_refused():
    for body in (b"", b"not json", b"[]", b'"x"', b'{"message": {}}', b'{"update_id": "1"}', b"\xff\xfe"):
        with pytest.raises(NotAnUpdate):
            parse_update(body)
    # Updates the library cannot read (a newer Bot API's shapes) are ignored, not refused:
    # Telegram would re-send a refused update for hours.
    assert parse_update(b'{"update_id": 1, "message": 7}') is None
    empty = parse_update(b'{"update_id": 1}')
    assert empty is not None and empty.message is None


# --- servers --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake():
    server = FakeTelegram(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    work = tmp_path_factory.mktemp("telegram")
    url = seeded_knowledge_base(work)
    return work, url


@pytest.fixture(scope="module")
def telegram_env(fake, kb) -> dict[str, str]:
    return {
        "DATABASE_URL": kb[1],
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_API_URL": fake.api_url,
        "TELEGRAM_WEBHOOK_URL": PUBLIC_URL,
    }


@pytest.fixture(scope="module")
def assistant(kb, telegram_env, trained_model):
    work, _ = kb
    credentials = run_credentials.write(work / "credentials.yml", telegram_env)
    running = Assistant(trained_model, work, telegram_env, credentials=credentials)
    try:
        running.start()
    except Exception:
        print(running.logs())
        raise
    yield running
    running.stop()


def post(assistant: Assistant, body: bytes | dict[str, Any], secret: str | None = SECRET) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[telegram_config.SECRET_HEADER] = secret
    request = urllib.request.Request(
        f"http://127.0.0.1:{assistant.rasa_port}{telegram_config.WEBHOOK_PATH}", data=data, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def person(language: str = "vi", user_id: int = 1234) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Lan", "language_code": language}


def message(chat_id: int, language: str = "vi", chat_type: str = "private", **content: Any) -> dict[str, Any]:
    chat = {"id": chat_id, "type": chat_type}
    chat.update({"first_name": "Lan"} if chat_type == "private" else {"title": "Nhóm du lịch"})
    return {
        "message_id": next(_update_ids),
        "date": int(time.time()),
        "chat": chat,
        "from": person(language, abs(chat_id)),
        **content,
    }


def update(**kinds: Any) -> dict[str, Any]:
    return {"update_id": next(_update_ids), **kinds}


def text_update(chat_id: int, text: str, language: str = "vi", **extra: Any) -> dict[str, Any]:
    return update(message=message(chat_id, language, text=text, **extra))


def press(
    chat_id: int, data: str, language: str = "vi", shown: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A button press on a message the bot sent (``shown``: that message's keyboard)."""
    sent = message(chat_id, language, text="…", reply_markup=shown or {"inline_keyboard": []})
    sent["from"] = BOT_USER
    query = {
        "id": f"cbq-{next(_update_ids)}",
        "from": person(language, abs(chat_id)),
        "chat_instance": "42",
        "data": data,
        "message": sent,
    }
    return update(callback_query=query)


def sent(fake: FakeTelegram, chat_id: int, method: str = "sendMessage") -> list[dict[str, Any]]:
    return [c.params for c in fake.calls_to(method, chat_id)]


def wait_sent(
    fake: FakeTelegram, chat_id: int, count: int = 1, method: str = "sendMessage"
) -> list[dict[str, Any]]:
    fake.wait_for(lambda f: len(sent(f, chat_id, method)) >= count, what=f"{count} {method} to {chat_id}")
    return sent(fake, chat_id, method)


def buttons(params: dict[str, Any]) -> list[dict[str, str]]:
    return [b for row in (params.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


HELP_EN = "I can tell you about sights"
HELP_VI = "Mình có thể giới thiệu điểm tham quan"


def barrier(assistant: Assistant, fake: FakeTelegram, chat_id: int) -> None:
    """Send /help and wait for its answer: every update of the chat posted before it has
    been handled by then (a chat's turns are handled in order)."""
    assert post(assistant, text_update(chat_id, "/help", "en")) == 200

    def answered(f: FakeTelegram) -> bool:
        return any(m["text"].startswith((HELP_EN, HELP_VI)) for m in sent(f, chat_id))

    fake.wait_for(answered, what=f"/help answer to {chat_id}")


# --- webhook mode ----------------------------------------------------------------------


def test_webhook_is_registered_with_the_secret_at_start_up(assistant, fake):
    fake.wait_for(lambda f: f.calls_to("setWebhook"), what="setWebhook")
    (call,) = fake.calls_to("setWebhook")
    assert call.params["url"] == PUBLIC_URL and call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]


def test_requests_without_the_secret_are_refused_and_nothing_is_sent(assistant, fake):
    chat = next(_chat_ids)
    assert post(assistant, text_update(chat, "cau rong o dau"), secret=None) == 403
    assert post(assistant, text_update(chat, "cau rong o dau"), secret="wrong") == 403
    assert post(assistant, text_update(chat, "cau rong o dau"), secret=SECRET + "x") == 403
    assert post(assistant, b"not json", secret=None) == 403  # the secret is checked first
    barrier(assistant, fake, chat)
    assert [m["text"][: len(HELP_EN)] for m in sent(fake, chat)] == [HELP_EN]


@pytest.mark.parametrize(
    "body",
    [b"", b"{not json", b"[]", b'"text"', b'{"message": {"text": "hi"}}', b'{"update_id": 1.5}'],
)
def test_malformed_bodies_get_a_400(assistant, body):
    assert post(assistant, body) == 400


def test_vietnamese_without_diacritics_gets_the_answer_buttons_and_a_venue(assistant, fake):
    chat = next(_chat_ids)
    assert post(assistant, text_update(chat, "cau rong o dau")) == 200
    (reply,) = wait_sent(fake, chat)
    assert reply["parse_mode"] == "HTML"
    assert reply["text"].startswith("<b>Cầu Rồng</b>\n📍 Địa chỉ:")
    assert "google.com/maps" not in reply["text"]  # the venue message replaces the link
    titles = [b["text"] for b in buttons(reply)]
    assert "Giờ mở cửa" in titles and "Giá vé" in titles
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(reply))
    (venue,) = wait_sent(fake, chat, method="sendVenue")
    assert (float(venue["latitude"]), float(venue["longitude"])) == DRAGON_BRIDGE
    assert venue["title"] == "Cầu Rồng" and venue["address"].startswith("Nối đường Nguyễn Văn Linh")

    # Pressing "Giờ mở cửa": the press is answered, and the answer is about Cầu Rồng.
    hours = next(b for b in buttons(reply) if b["text"] == "Giờ mở cửa")
    pressed = press(chat, hours["callback_data"], shown=reply["reply_markup"])
    assert post(assistant, pressed) == 200
    fake.wait_for(lambda f: f.calls_to("answerCallbackQuery"), what="answerCallbackQuery")
    answered = [c.params["callback_query_id"] for c in fake.calls_to("answerCallbackQuery")]
    assert pressed["callback_query"]["id"] in answered
    follow = wait_sent(fake, chat, 2)[1]
    assert "Cầu Rồng – giờ mở cửa: Mở cửa cả ngày" in follow["text"]

    # A key the server no longer knows (it restarted since): the button's title is asked.
    shown = {"inline_keyboard": [[{"text": "Giá vé", "callback_data": "#kforgotten-key-000000"}]]}
    assert post(assistant, press(chat, "#kforgotten-key-000000", shown=shown)) == 200
    price = wait_sent(fake, chat, 3)[2]
    assert "Cầu Rồng" in price["text"] and "Miễn phí" in price["text"]


def test_english_question_gets_an_english_venue(assistant, fake):
    chat = next(_chat_ids)
    assert post(assistant, text_update(chat, "where is the dragon bridge?", "en")) == 200
    (reply,) = wait_sent(fake, chat)
    assert reply["text"].startswith("<b>Dragon Bridge</b>\n📍 Address:")
    (venue,) = wait_sent(fake, chat, method="sendVenue")
    assert venue["title"] == "Dragon Bridge" and venue["address"].startswith("Links Nguyen Van Linh")


def test_long_payloads_travel_as_short_keys(assistant, fake):
    chat = next(_chat_ids)
    assert post(assistant, text_update(chat, "bệnh viện gần cầu rồng")) == 200
    (reply,) = wait_sent(fake, chat)
    assert "bệnh viện" in reply["text"] and "google.com/maps" in reply["text"]  # a list keeps its links
    assert not sent(fake, chat, "sendVenue")
    keyed = [b for b in buttons(reply) if b["callback_data"].startswith("#k")]
    assert keyed, "expected a payload longer than 64 bytes among the hospital buttons"
    assert all(len(b["callback_data"].encode()) <= 64 for b in buttons(reply))
    choice = keyed[0]
    assert post(assistant, press(chat, choice["callback_data"], shown=reply["reply_markup"])) == 200
    contact = wait_sent(fake, chat, 2)[1]
    assert contact["text"].startswith(f"<b>{choice['text']}</b>")
    (venue,) = wait_sent(fake, chat, method="sendVenue")
    assert venue["title"] == choice["text"]


@pytest.mark.parametrize(
    ("command", "language", "expected", "button"),
    [
        ("/start", "en", "Hello! I'm the Da Nang tourism assistant", "Top sights"),
        ("/start", "vi", "Xin chào! Mình là trợ lý du lịch Đà Nẵng", "Điểm nên đến"),
        ("/start@danang_test_bot", "en-GB", "Hello!", "Top sights"),
        ("/help", "en", HELP_EN, "Nearest hospital"),
        ("/help", "vi", HELP_VI, "Bệnh viện"),
        ("/settings", "en", "I can tell you about sights", "Top sights"),
    ],
)
def test_commands_answer_in_the_language_of_the_app(assistant, fake, command, language, expected, button):
    chat = next(_chat_ids)
    assert post(assistant, text_update(chat, command, language)) == 200
    (reply,) = wait_sent(fake, chat)
    assert reply["text"].startswith(expected)
    assert button in [b["text"] for b in buttons(reply)]


def test_not_text_gets_a_polite_reply_in_the_language_of_the_app(assistant, fake):
    chat = next(_chat_ids)
    sticker = {
        "file_id": "s1",
        "file_unique_id": "u1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "🐉",
    }
    assert post(assistant, update(message=message(chat, "en", sticker=sticker))) == 200
    (reply,) = wait_sent(fake, chat)
    assert reply["text"].startswith("I can only read text messages.")

    chat = next(_chat_ids)
    photo = [{"file_id": "p1", "file_unique_id": "pu1", "width": 90, "height": 90}]
    assert post(assistant, update(message=message(chat, "vi", photo=photo, caption="đẹp không"))) == 200
    (reply,) = wait_sent(fake, chat)
    assert reply["text"].startswith("Mình chỉ đọc được tin nhắn chữ.")


def test_the_channel_answers_in_the_language_the_visitor_writes(assistant, fake):
    chat = next(_chat_ids)
    assert post(assistant, text_update(chat, "xin chào", "en")) == 200  # an English app, Vietnamese words
    wait_sent(fake, chat)
    dice = update(message=message(chat, "en", dice={"emoji": "🎲", "value": 3}))
    assert post(assistant, dice) == 200
    assert wait_sent(fake, chat, 2)[1]["text"].startswith("Mình chỉ đọc được tin nhắn chữ.")
    assert post(assistant, text_update(chat, "/start", "en")) == 200
    assert wait_sent(fake, chat, 3)[2]["text"].startswith("Xin chào!")


def test_a_shared_location_is_answered_with_what_is_near_it(assistant, fake, kb):
    chat = next(_chat_ids)
    lat, lon = DRAGON_BRIDGE
    shared = update(message=message(chat, "en", location={"latitude": lat, "longitude": lon}))
    assert post(assistant, shared) == 200
    (reply,) = wait_sent(fake, chat)
    assert reply["text"].startswith("<b>Near your location:</b>\n• Dragon Bridge (~0.0 km)")
    titles = [b["text"] for b in buttons(reply)]
    assert titles[0] == "Dragon Bridge" and "Hospitals nearby" in titles and "Banks and ATMs nearby" in titles

    hospital = next(b for b in buttons(reply) if b["text"] == "Hospitals nearby")
    assert hospital["callback_data"] == "#near:hospital:16.06120,108.22720"
    assert post(assistant, press(chat, hospital["callback_data"], "en", reply["reply_markup"])) == 200
    listed = wait_sent(fake, chat, 2)[1]
    with new_session(kb[1]) as session:
        expected = [p for p, _ in places_near(session, lat, lon, categories=["hospital"], limit=3)]
    assert listed["text"].startswith("<b>Nearest hospitals:</b>")
    assert [line.split(" (~")[0] for line in listed["text"].split("\n")[1:]] == [
        f"• {p.name_en or p.name_vi}" for p in expected
    ]
    (venue,) = wait_sent(fake, chat, method="sendVenue")
    assert (float(venue["latitude"]), float(venue["longitude"])) == (expected[0].lat, expected[0].lon)

    far = next(_chat_ids)
    hanoi = update(message=message(far, "vi", location={"latitude": 21.0285, "longitude": 105.8542}))
    assert post(assistant, hanoi) == 200
    (reply,) = wait_sent(fake, far)
    assert (
        reply["text"].startswith("Vị trí này cách xa Đà Nẵng")
        and "Mình chỉ có thông tin về Đà Nẵng" in reply["text"]
    )


def test_updates_that_are_not_messages_are_ignored(assistant, fake):
    chat = next(_chat_ids)
    group = -1_000_000 - chat
    channel = {"id": -1_001_234, "type": "channel", "title": "Tin Đà Nẵng"}
    original = message(chat, text="cau rong o dau")
    edited = dict(original, text="bao tang cham o dau", edit_date=int(time.time()))
    member = {"user": person("vi", chat), "status": "kicked", "until_date": 0}
    ignored = [
        update(edited_message=edited),
        update(channel_post={"message_id": 1, "date": 1, "chat": channel, "text": "tin mới"}),
        update(
            my_chat_member={
                "chat": {"id": chat, "type": "private"},
                "from": person("vi", chat),
                "date": 1,
                "old_chat_member": {"user": BOT_USER, "status": "member"},
                "new_chat_member": dict(member, user=BOT_USER),
            }
        ),
        update(message=message(group, chat_type="group", new_chat_members=[person("vi", 77)])),
        update(message=message(group, chat_type="group", left_chat_member=person("vi", 77))),
        update(
            message=message(
                group,
                chat_type="group",
                sticker={
                    "file_id": "s",
                    "file_unique_id": "u",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                },
            )
        ),
        update(message=message(group, chat_type="group", text="/start@some_other_bot")),
        update(message=message(chat, text="   ")),
        update(
            poll={
                "id": "p",
                "question": "?",
                "options": [],
                "total_voter_count": 0,
                "is_closed": False,
                "is_anonymous": True,
                "type": "regular",
                "allows_multiple_answers": False,
            }
        ),
        update(message=message(chat, text=5)),  # wrong types: read, then ignored
        {"update_id": next(_update_ids), "message": 7},  # unreadable: ignored
        update(),
    ]
    for body in ignored:
        assert post(assistant, body) == 200
    barrier(assistant, fake, chat)
    assert [m["text"][: len(HELP_EN)] for m in sent(fake, chat)] == [HELP_EN]
    assert not fake.calls_to(chat_id=group)
    assert not fake.calls_to("answerCallbackQuery", chat)


def test_a_resent_update_is_answered_once(assistant, fake):
    chat = next(_chat_ids)
    hello = text_update(chat, "xin chào")
    assert post(assistant, hello) == 200
    assert post(assistant, hello) == 200
    barrier(assistant, fake, chat)
    texts = [m["text"] for m in sent(fake, chat)]
    assert len(texts) == 2 and texts[0].startswith("Xin chào") and texts[1].startswith(HELP_VI)


def test_a_group_mention_is_read_without_the_bot_name(assistant, fake):
    group = -2_000_000 - next(_chat_ids)
    body = update(message=message(group, "vi", "group", text="@danang_test_bot cau rong o dau"))
    assert post(assistant, body) == 200
    (reply,) = wait_sent(fake, group)
    assert reply["text"].startswith("<b>Cầu Rồng</b>")


# --- the output channel alone, against the fake ------------------------------------------


def test_long_replies_are_split_escaped_and_keep_the_keyboard_on_the_last_part(fake):
    chat = next(_chat_ids)
    text = "Tiêu đề <b>\n" + "\n\n".join(f"Đoạn & <i>{i}</i> " + "chữ " * 400 for i in range(6))
    button = [{"title": "Xem thêm", "payload": "/help"}]

    async def send() -> None:
        output = TelegramOutput(TOKEN, fake.api_url)
        await output.send_text_with_buttons(str(chat), text, button)
        await output.close()

    asyncio.run(send())
    parts = sent(fake, chat)
    assert len(parts) == 3
    assert parts[0]["text"].startswith("<b>Tiêu đề &lt;b&gt;</b>\nĐoạn &amp; &lt;i&gt;0&lt;/i&gt;")
    assert "<i>" not in "".join(p["text"] for p in parts)
    assert [bool(p.get("reply_markup")) for p in parts] == [False, False, True]
    assert all(p["parse_mode"] == "HTML" for p in parts)


def test_a_message_telegram_refuses_as_html_is_resent_as_plain_text(fake):
    chat = next(_chat_ids)
    fake.fail_once("sendMessage", 400, "Bad Request: can't parse entities: unsupported start tag")

    async def send() -> None:
        output = TelegramOutput(TOKEN, fake.api_url)
        await output.send_text_message(str(chat), "A & B\nC")
        await output.send_text_message("not-a-chat", "ignored")
        await output.close()

    asyncio.run(send())
    first, second = sent(fake, chat)
    assert first["parse_mode"] == "HTML" and first["text"] == "<b>A &amp; B</b>\nC"
    assert "parse_mode" not in second and second["text"] == "A & B\nC"


def test_a_map_link_to_a_place_not_in_the_base_still_becomes_a_venue(fake, kb, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", kb[1])
    chat = next(_chat_ids)
    text = (
        "Chợ đêm mới: mở 18:00\n🗺 Bản đồ: https://www.google.com/maps/search/?api=1&query=16.10000,108.30000"
    )

    async def send() -> None:
        output = TelegramOutput(TOKEN, fake.api_url)
        await output.send_text_message(str(chat), text)
        await output.close()

    asyncio.run(send())
    (reply,) = sent(fake, chat)
    (venue,) = sent(fake, chat, "sendVenue")
    assert reply["text"] == "Chợ đêm mới: mở 18:00"
    assert venue["title"] == "Chợ đêm mới" and venue["address"] == "16.10000, 108.30000"


# --- polling mode -----------------------------------------------------------------------


def test_polling_forwards_updates_to_rasa_and_stops_on_sigterm(assistant, fake, telegram_env, tmp_path):
    env = runtime_env() | telegram_env | {"RASA_URL": f"http://127.0.0.1:{assistant.rasa_port}"}
    env.pop("TELEGRAM_WEBHOOK_URL")
    started = time.monotonic()
    log = tmp_path / "poll.log"
    with open(log, "wb") as out:
        poller = subprocess.Popen(
            [sys.executable, "-m", "bot.channels.telegram_poll"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        chat = next(_chat_ids)
        # An update python-telegram-bot cannot parse (Bot API 9.6 made PollOption.persistent_id
        # required) must not stall polling: it is forwarded, ignored, and the next one comes.
        poll = {
            "id": "p",
            "question": "?",
            "options": [{"text": "a", "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
            "type": "regular",
            "allows_multiple_answers": False,
        }
        fake.queue_update(update(poll=poll))
        hello = text_update(chat, "hello", "en")
        fake.queue_update(hello)
        (reply,) = wait_sent(fake, chat)
        assert reply["text"].startswith("Hello! I'm the Da Nang tourism assistant")

        mine = [c for c in fake.calls if c.at >= started]
        methods = [c.method for c in mine]
        assert methods.index("deleteWebhook") < methods.index("getUpdates")
        # The update is confirmed to Telegram (the next getUpdates asks for later ones only).
        fake.wait_for(
            lambda f: any(
                c.method == "getUpdates" and int(c.params.get("offset") or 0) == hello["update_id"] + 1
                for c in f.calls
            ),
            what="getUpdates confirming the update",
        )
        poller.send_signal(signal.SIGTERM)
        assert poller.wait(timeout=15) == 0
    finally:
        if poller.poll() is None:
            poller.kill()
            poller.wait()
    output = log.read_text()
    assert "stopping" in output and TOKEN not in output


def test_polling_refuses_to_run_in_webhook_mode(telegram_env):
    env = runtime_env() | telegram_env
    done = subprocess.run(
        [sys.executable, "-m", "bot.channels.telegram_poll"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2 and b"TELEGRAM_WEBHOOK_URL is set" in done.stderr


# Last: after every test above has made the servers talk to the fake Telegram.
def test_the_bot_token_never_reaches_the_logs(assistant):
    logs = "".join(p.read_text(errors="replace") for p in Path(assistant.workdir, "logs").glob("*.log"))
    assert "Telegram" in logs or "telegram" in logs  # the channel's requests were logged at all
    assert TOKEN not in logs and SECRET not in logs
