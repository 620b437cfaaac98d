"""The production profile for real: two Rasa servers and two action servers behind Debian's
nginx, trackers in PostgreSQL, locks in Redis, the admin beside them (bot/production.py).
The cluster starts once for the module (about a minute); the test that kills servers runs last.

Needs the local PostgreSQL and Redis (skipped with the reason when either is absent) and
nginx (installed by `make test`; a missing nginx fails)."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text

from bot.production import NGINX, Cluster, Settings
from tests.conftest import PG_ADMIN_URL

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_base() -> int:
    """A base whose ports (base, base+1, base+100, base+101, base+200) are all free."""
    for _ in range(50):
        base = random.randrange(20000, 40000, 10)
        if all(_free(base + off) for off in (0, 1, 100, 101, 200, 300, 301)):
            return base
    raise RuntimeError("no free port range")


def _create_database(name: str) -> str:
    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - no server to test against
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_databases(*names: str) -> None:
    from knowledge.db import get_engine

    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            get_engine(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}").dispose()
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def cluster(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not Path(NGINX).exists():
        pytest.fail(f"nginx not found at {NGINX}: run `make test` (it installs Debian's nginx-light)")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    from knowledge.db import new_session
    from knowledge.migrate import upgrade
    from knowledge.seed import read_seed, seed

    suffix = uuid.uuid4().hex[:10]
    kb_name, tracker_name = f"prod_kb_{suffix}", f"prod_tracker_{suffix}"
    kb_url = _create_database(kb_name)
    try:
        upgrade(kb_url)
        with new_session(kb_url) as session, session.begin():
            seed(session, read_seed())
        base = _free_port_base()
        settings = Settings(
            database_url=kb_url,
            # Not created here: the profile must make its tracker database itself.
            tracker_database_url=PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{tracker_name}",
            redis_url=REDIS_URL,
            rasa_replicas=2,
            action_replicas=2,
            public_port=base + 300,
            admin_port=base + 301,
            port_base=base,
            var_dir=tmp_path_factory.mktemp("production"),
            lock_key_prefix=f"test{suffix}",  # Rasa accepts letters and digits only
        )
        from bot.launcher import runtime_env

        # INFO so the servers do log something whose format the test can check.
        env = runtime_env() | {"LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}
        started = time.monotonic()
        running = Cluster(settings, trained_model, env=env).start()
        running.startup_seconds = time.monotonic() - started  # type: ignore[attr-defined]
        try:
            yield running
        finally:
            running.stop()
    finally:
        _drop_databases(kb_name, tracker_name)


def ask(base_url: str, sender: str, message: str, timeout: float = 60) -> list[dict[str, Any]]:
    response = requests.post(
        f"{base_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=timeout
    )
    assert response.status_code == 200, f"{base_url}: HTTP {response.status_code} {response.text[:300]}"
    return response.json()


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r.get("text") or "" for r in replies)


def direct(cluster: Cluster, replica: int) -> str:
    return f"http://127.0.0.1:{cluster.settings.rasa_ports[replica]}"


def tracker_events(cluster: Cluster, sender: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(type, action name, data) of every event Rasa stored for ``sender``, in order."""
    engine = create_engine(cluster.settings.tracker_database_url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT type_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"),
                {"s": sender},
            ).all()
    finally:
        engine.dispose()
    return [(r.type_name, r.action_name, json.loads(r.data)) for r in rows]


def turns(events: list[tuple[str, str | None, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The stored conversation cut at each user message: its text, the bot's texts that
    follow it, and the actions run before the next user message."""
    out: list[dict[str, Any]] = []
    for kind, action, data in events:
        if kind == "user":
            out.append({"user": data.get("text"), "bot": [], "actions": []})
        elif out and kind == "bot":
            out[-1]["bot"].append(data.get("text") or "")
        elif out and kind == "action":
            out[-1]["actions"].append(action)
    return out


def metric(base_url: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return samples(requests.get(f"{base_url}/metrics", timeout=10).text, name, **labels)


def samples(body: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in body.splitlines():
        match = re.match(rf"^{name}(?:\{{(.*)\}})? (\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def test_turns_alternating_between_servers_keep_context(cluster: Cluster) -> None:
    # Straight to each server in turn: the second server knows only what PostgreSQL holds.
    sender = f"alt-{uuid.uuid4().hex[:8]}"
    first = text_of(ask(direct(cluster, 0), sender, "cầu rồng ở đâu"))
    assert "Cầu Rồng" in first
    follow_up = text_of(ask(direct(cluster, 1), sender, "mấy giờ mở cửa?"))
    assert "Cầu Rồng" in follow_up and "cả ngày" in follow_up, follow_up
    again = text_of(ask(direct(cluster, 0), sender, "còn giá vé thì sao?"))
    assert "Cầu Rồng" in again, again

    # Through nginx, with both servers taking turns of one conversation.
    served_before = [metric(direct(cluster, i), "assistant_messages_total") for i in (0, 1)]
    sender = f"nginx-{uuid.uuid4().hex[:8]}"
    assert "Bảo tàng Điêu khắc Chăm" in text_of(ask(cluster.public_url, sender, "Bảo tàng Chăm ở đâu?"))
    for _ in range(3):
        follow_up = text_of(ask(cluster.public_url, sender, "Mấy giờ mở cửa?"))
        assert "Bảo tàng Điêu khắc Chăm" in follow_up and "giờ mở cửa" in follow_up, follow_up
    served = [metric(direct(cluster, i), "assistant_messages_total") - served_before[i] for i in (0, 1)]
    assert all(n >= 1 for n in served), f"nginx sent every turn to one server: {served}"
    assert [t["user"] for t in turns(tracker_events(cluster, sender))] == [
        "Bảo tàng Chăm ở đâu?", *["Mấy giờ mở cửa?"] * 3
    ]


def test_concurrent_messages_of_one_sender_are_processed_in_order(cluster: Cluster) -> None:
    sender = f"burst-{uuid.uuid4().hex[:8]}"
    questions = [
        "Cầu Rồng ở đâu?", "Cầu sông Hàn ở đâu?", "Cầu Thuận Phước ở đâu?", "Cầu Trần Thị Lý ở đâu?",
        "Cầu Tình Yêu ở đâu?", "Cầu Vàng ở đâu?", "Ngũ Hành Sơn ở đâu?", "Chùa Linh Ứng ở đâu?",
        "Bảo tàng Chăm ở đâu?", "Biển Mỹ Khê ở đâu?",
    ]
    with ThreadPoolExecutor(len(questions)) as pool:
        answers = list(pool.map(lambda q: ask(cluster.public_url, sender, q), questions))
    assert all(text_of(a).strip() for a in answers), answers

    stored = turns(tracker_events(cluster, sender))
    assert sorted(t["user"] for t in stored) == sorted(questions)
    for turn in stored:
        # Each message's whole turn lies between it and the next message: the lock store
        # let one server at a time handle this conversation.
        assert turn["bot"], f"no bot reply stored after {turn['user']!r}: {stored}"
        assert turn["actions"] and turn["actions"][-1] == "action_listen", f"turn interleaved: {turn}"
    # And each HTTP answer is the one stored after its own question.
    stored_replies = {t["user"]: "\n".join(t["bot"]) for t in stored}
    for question, answer in zip(questions, answers, strict=True):
        assert text_of(answer) == stored_replies[question], question


def test_probes_metrics_and_json_logs(cluster: Cluster) -> None:
    ask(cluster.public_url, f"probe-{uuid.uuid4().hex[:8]}", "Cầu Rồng ở đâu?")
    for port in cluster.settings.rasa_ports:
        ready = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    assert requests.get(f"{cluster.public_url}/readyz", timeout=10).status_code == 200
    for port in cluster.settings.action_ports:
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    admin = f"http://127.0.0.1:{cluster.settings.admin_port}"
    assert requests.get(f"{admin}/healthz", timeout=10).status_code == 200
    status = requests.get(f"{cluster.public_url}/nginx_status", timeout=10)
    assert status.status_code == 200 and "Active connections" in status.text
    # Metrics stay off the public address; each replica serves its own.
    assert requests.get(f"{cluster.public_url}/metrics", timeout=10).status_code == 404

    rest = {"route": "/webhooks/rest/webhook", "method": "POST", "status": "200"}
    assert sum(metric(direct(cluster, i), "assistant_http_requests_total", **rest) for i in (0, 1)) >= 1
    assert sum(metric(direct(cluster, i), "assistant_turn_duration_seconds_count") for i in (0, 1)) >= 1
    action_calls = sum(
        metric(f"http://127.0.0.1:{p}", "assistant_http_requests_total", route="/webhook", status="200")
        for p in cluster.settings.action_ports
    )
    assert action_calls >= 1

    logs = cluster.settings.log_dir
    for name in ("rasa-*.log", "actions-*.log", "nginx-access.log"):
        files = sorted(logs.glob(name))
        assert files, f"no {name} in {logs}"
        records = []
        for path in files:
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    records.append(json.loads(line))  # every line a JSON object
        assert records, f"{name}: nothing logged"
        for record in records:
            assert {"time", "level", "logger"} <= record.keys(), record
    access = [json.loads(line) for line in (logs / "nginx-access.log").read_text().splitlines()]
    assert any(
        r["uri"] == "/webhooks/rest/webhook" and r["status"] == 200 and r["request_id"] for r in access
    )


def test_website_chat_through_nginx(cluster: Cluster) -> None:
    """The widget's socket.io channel through nginx with long polling, whose requests must
    all reach the server holding the session (ip_hash). (The websocket transport would need
    the websocket-client package in the tests; the browser test covers it.)"""
    import queue

    import socketio

    answers: queue.Queue[dict[str, Any]] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("bot_uttered", answers.put)
    session = uuid.uuid4().hex
    client.connect(cluster.public_url, transports=["polling"], socketio_path="socket.io", wait_timeout=20)
    try:
        client.emit("session_request", {"session_id": session})
        time.sleep(0.5)
        for _ in range(3):  # several polling round trips, all on the same server
            client.emit("user_uttered", {"message": "Cầu Rồng ở đâu?", "session_id": session})
            reply = answers.get(timeout=30)
            assert "Cầu Rồng" in (reply.get("text") or ""), reply
            while not answers.empty():
                answers.get_nowait()
            time.sleep(0.2)
    finally:
        # abort: no waiting for the long poll under way (up to socket.io's ping interval).
        client.eio.disconnect(abort=True)


def test_killed_servers_are_skipped_and_nothing_is_lost(cluster: Cluster) -> None:
    sender = f"kill-{uuid.uuid4().hex[:8]}"
    assert "Cầu Rồng" in text_of(ask(cluster.public_url, sender, "cầu rồng ở đâu"))
    assert "Cầu Rồng" in text_of(ask(direct(cluster, 0), sender, "có mất tiền không?"))
    # Mid-conversation: the server that took the last turn, and an action server, die.
    cluster.kill(f"rasa-{cluster.settings.rasa_ports[0]}")
    cluster.kill(f"actions-{cluster.settings.action_ports[0]}")
    follow_ups = ["mấy giờ mở cửa?", "mấy giờ mở cửa?", "có mất tiền không?", "mấy giờ mở cửa?"]
    for message in follow_ups:
        reply = text_of(ask(cluster.public_url, sender, message))
        assert "Cầu Rồng" in reply, (message, reply)
    stored = turns(tracker_events(cluster, sender))
    assert [t["user"] for t in stored] == ["cầu rồng ở đâu", "có mất tiền không?", *follow_ups]
    assert all(t["bot"] and t["actions"][-1] == "action_listen" for t in stored), stored


def test_admin_probes_report_the_database_and_count_requests() -> None:
    """bot/admin_probes.py on an aiohttp app served for real: ready with a database that
    answers, 503 with one that does not, and the requests counted in /metrics."""
    import asyncio

    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from bot.admin_probes import register

    try:
        _probe_engine = create_engine(PG_ADMIN_URL, future=True)
        with _probe_engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        _probe_engine.dispose()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")

    async def probe(database_url: str) -> tuple[int, int, str]:
        app = web.Application()
        register(app, database_url)
        async with TestServer(app, host="127.0.0.1") as server, aiohttp.ClientSession() as client:
            async with client.get(server.make_url("/readyz")) as ready:
                ready_status = ready.status
            async with client.get(server.make_url("/nowhere")) as missing:
                missing_status = missing.status
            async with client.get(server.make_url("/metrics")) as metrics:
                return ready_status, missing_status, await metrics.text()

    from prometheus_client import generate_latest

    # The registry is the process's: other tests here may have counted admin requests too.
    counted = {"service": "admin", "method": "GET"}
    series = (("assistant_http_requests_total", {"route": "/readyz", "status": "200"}),
              ("assistant_http_requests_total", {"route": "unmatched", "status": "404"}),
              ("assistant_http_request_duration_seconds_count", {"route": "/readyz"}))
    earlier = generate_latest().decode()
    ready, missing, body = asyncio.run(probe(PG_ADMIN_URL))
    assert ready == 200 and missing == 404
    for name, labels in series:
        assert samples(body, name, **labels, **counted) - samples(earlier, name, **labels, **counted) == 1
    unreachable, _, _ = asyncio.run(probe("postgresql://postgres@127.0.0.1:1/nothing"))
    assert unreachable == 503


def test_lock_store_issues_each_ticket_once_across_servers() -> None:
    """Two lock stores (two Rasa servers) issuing and returning tickets for one conversation
    from several threads at once: every ticket number is issued exactly once and the lock
    is gone at the end. (Rasa's own RedisLockStore reads and writes the lock in two steps.)"""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    from rasa.utils.endpoints import EndpointConfig

    from bot.lock_store import AtomicRedisLockStore
    from bot.production import lock_store_section

    prefix = f"t{uuid.uuid4().hex[:10]}"
    section = lock_store_section(REDIS_URL, prefix)
    stores = [AtomicRedisLockStore(EndpointConfig.from_dict(section)) for _ in range(2)]
    conversation = "same-sender"

    def work(index: int) -> list[int]:
        store = stores[index % 2]
        issued = []
        for _ in range(50):
            ticket = store.issue_ticket(conversation)
            issued.append(ticket)
            if ticket % 3 == 0:
                store.update_lock(conversation)
        return issued

    try:
        with ThreadPoolExecutor(8) as pool:
            tickets = [t for batch in pool.map(work, range(8)) for t in batch]
        assert sorted(tickets) == list(range(400))
        for ticket in tickets:
            stores[ticket % 2].cleanup(conversation, ticket)
        assert stores[0].get_lock(conversation) is None
    finally:
        leftovers = stores[0].red.keys(f"{prefix}:*")
        if leftovers:
            stores[0].red.delete(*leftovers)


def test_settings_from_the_environment() -> None:
    settings = Settings.from_env({"DATABASE_URL": "postgres://kb:s%40cret@db.internal:6543/danang"})
    assert settings.database_url == "postgresql://kb:s%40cret@db.internal:6543/danang"
    # The tracker store gets a database of its own on the same server.
    assert settings.tracker_database_url == "postgresql://kb:s%40cret@db.internal:6543/danang_tracker"
    assert (settings.rasa_replicas, settings.action_replicas, settings.public_port) == (2, 2, 5005)
    from bot.production import lock_store_section, tracker_store_section

    assert tracker_store_section(settings.tracker_database_url) == {
        "type": "SQL", "dialect": "postgresql", "url": "db.internal", "port": 6543,
        "db": "danang_tracker", "username": "kb", "password": "s@cret",
    }
    assert lock_store_section("redis://:pw@cache:6380/3", "dn") == {
        "type": "bot.lock_store.AtomicRedisLockStore",
        "url": "cache", "port": 6380, "db": 3, "password": "pw", "key_prefix": "dn",
    }
    with pytest.raises(SystemExit, match="DATABASE_URL"):
        Settings.from_env({})
    with pytest.raises(SystemExit, match="another database"):
        Settings.from_env({"DATABASE_URL": "postgresql://h/x", "TRACKER_DATABASE_URL": "postgresql://h/x"})


def test_one_setting_starts_and_stops_the_production_profile(
    trained_model: Path, tmp_path: Path, cluster: Cluster
) -> None:
    """`ASSISTANT_PROFILE=production python -m bot.launcher`, as `make run` runs it: it
    answers through nginx, and SIGTERM stops every process it started. (``cluster`` only
    orders this test after the others, so both clusters never load models at once.)"""
    import signal
    import subprocess
    import sys

    from bot.launcher import runtime_env

    suffix = uuid.uuid4().hex[:10]
    kb_name = f"prod_run_{suffix}"
    kb_url = _create_database(kb_name)
    base = _free_port_base()
    env = runtime_env() | {
        "ASSISTANT_PROFILE": "production",
        "ASSISTANT_VAR_DIR": str(tmp_path),
        "DATABASE_URL": kb_url,
        "REDIS_URL": REDIS_URL,
        "RASA_REPLICAS": "1",
        "ACTION_REPLICAS": "1",
        "INTERNAL_PORT_BASE": str(base),
        "PUBLIC_PORT": str(base + 300),
        "ADMIN_PORT": str(base + 301),
        "LOCK_KEY_PREFIX": f"run{suffix}",
        "ADMIN_PASSWORD": "not-a-real-password",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.launcher"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
    )
    output: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            output.append(line)
            if "ready: REST channel" in line:
                break
        assert any("ready: REST channel" in line for line in output), "".join(output)
        assert "Cầu Rồng" in text_of(ask(f"http://127.0.0.1:{base + 300}", "run-1", "cầu rồng ở đâu"))
        children = [int(p.name) for p in Path("/proc").iterdir()
                    if p.name.isdigit() and _parent(p) == proc.pid]
        assert len(children) >= 4, children  # Rasa, actions, admin, nginx
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        time.sleep(0.5)
        assert not [pid for pid in children if Path(f"/proc/{pid}").exists() and _state(pid) != "Z"]
        for port in (base, base + 100, base + 200, base + 300, base + 301):
            assert not _listening(port), f"something still listens on {port} after the stop"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        _drop_databases(kb_name, f"{kb_name}_tracker")


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _parent(proc_dir: Path) -> int | None:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"
