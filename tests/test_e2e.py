"""End to end: the real Rasa server and action server on loopback, the trained model, a
real SQLite knowledge base with the seed data, questions over the REST channel."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
import warnings

import pytest

from knowledge.db import new_session
from tests.e2e.scoring import check, load_questions, reply_text
from tests.e2e.servers import Assistant, seeded_knowledge_base

QUESTIONS = load_questions()


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    work = tmp_path_factory.mktemp("e2e")
    url = seeded_knowledge_base(work)
    return work, url


@pytest.fixture(scope="module")
def assistant(kb, trained_model):
    work, url = kb
    env = {"DATABASE_URL": url, "ASSISTANT_TODAY": QUESTIONS.today.isoformat()}
    running = Assistant(trained_model, work, env).start()
    yield running
    running.stop()


def test_question_set_is_large_enough():
    assert QUESTIONS.turns >= 60


def test_every_question_gets_the_right_answer(assistant, kb):
    _, url = kb
    failures = []
    with new_session(url) as session:
        for conversation in QUESTIONS.conversations:
            sender = f"e2e-{uuid.uuid4().hex[:8]}"
            for turn in conversation:
                replies = assistant.ask(sender, turn["say"])
                problems = check(turn, replies, session, QUESTIONS.today)
                if problems:
                    failures.append(f"{turn['say']!r}: {problems}\n    reply: {reply_text(replies)[:300]!r}")
    # The foundation's target is 95 % (issue #2); the benchmark reports the exact figure.
    # Every wrong answer is listed, so a regression is visible even when the rate holds.
    correct = 1 - len(failures) / QUESTIONS.turns
    assert correct >= 0.95, f"{len(failures)} of {QUESTIONS.turns} answers wrong:\n" + "\n".join(failures)
    if failures:
        warnings.warn(
            f"{len(failures)} of {QUESTIONS.turns} answers wrong:\n" + "\n".join(failures), stacklevel=1
        )


def test_conversation_survives_a_rasa_restart(assistant):
    sender = f"restart-{uuid.uuid4().hex[:8]}"
    first = reply_text(assistant.ask(sender, "Bảo tàng Chăm ở đâu?"))
    assert "Bảo tàng Điêu khắc Chăm" in first
    assistant.restart_rasa()
    follow_up = reply_text(assistant.ask(sender, "Mấy giờ mở cửa?"))
    assert "Bảo tàng Điêu khắc Chăm" in follow_up and "giờ mở cửa" in follow_up


@pytest.mark.parametrize(
    "message",
    ["", "   ", "🐉🐉🐉", "?" * 50, "đà nẵng " * 1500, "<script>alert(1)</script>", "\u0000\u200b"],
)
def test_strange_messages_get_a_polite_reply(assistant, message):
    replies = assistant.ask(f"odd-{uuid.uuid4().hex[:8]}", message)
    assert isinstance(replies, list)
    for reply in replies:
        assert "Traceback" not in (reply.get("text") or "")


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"sender": 5}',
        b'{"sender": "x"}',
        b'{"sender": "x", "message": 3}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": "x", "message": "hi", "metadata": 1}',
    ],
)
def test_malformed_webhook_requests_get_a_4xx(assistant, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{assistant.rasa_port}/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert 400 <= caught.value.code < 500, caught.value.read()[:300]


def test_replies_are_json_with_buttons(assistant):
    replies = assistant.ask(f"btn-{uuid.uuid4().hex[:8]}", "xin chào")
    payloads = [b["payload"] for r in replies for b in r.get("buttons") or []]
    # Entity JSON in a domain response's buttons arrives intact, and Rasa's template filling
    # did not log an error over it.
    assert '/event_list{"time": "tuần này"}' in payloads
    assert "interpolator.interpolate.text" not in assistant.logs()
    json.dumps(replies)
