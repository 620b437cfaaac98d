"""Shared fixtures: a real SQLite knowledge base per test (migrated with Alembic), either
with a small hand-made data set or with the project's seed data."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from knowledge.db import new_session
from knowledge.migrate import upgrade
from knowledge.seed import read_seed, seed
from tests.admin_support import AdminServer

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

MINI = {
    "places": [
        {
            "slug": "cau-rong",
            "kind": "attraction",
            "category": "bridge",
            "district": "Sơn Trà",
            "name_vi": "Cầu Rồng",
            "name_en": "Dragon Bridge",
            "aliases": ["cầu con rồng"],
            "address_vi": "Đường Nguyễn Văn Linh",
            "address_en": "Nguyen Van Linh St",
            "lat": 16.0612,
            "lon": 108.2272,
            "hours_vi": "Cả ngày",
            "hours_en": "All day",
            "price_vi": None,
            "price_en": None,
            "free": True,
            "tags": ["famous", "evening", "free"],
            "summary_vi": "Cây cầu hình rồng.",
            "summary_en": "A dragon-shaped bridge.",
            "source": "https://example.org/cau-rong",
            "verified": True,
        },
        {
            "slug": "bao-tang-cham",
            "kind": "attraction",
            "category": "museum",
            "district": "Hải Châu",
            "name_vi": "Bảo tàng Điêu khắc Chăm",
            "name_en": "Museum of Cham Sculpture",
            "aliases": ["bảo tàng Chăm", "Cham museum"],
            "lat": 16.0604,
            "lon": 108.2237,
            "hours_vi": "7:00–17:00",
            "hours_en": "7am–5pm",
            "price_vi": "60.000 đồng",
            "price_en": "60,000 VND",
            "free": False,
            "tags": ["famous", "rain", "history"],
            "source": "https://example.org/cham",
            "verified": False,
        },
        {
            "slug": "bao-tang-da-nang",
            "kind": "attraction",
            "category": "museum",
            "district": "Hải Châu",
            "name_vi": "Bảo tàng Đà Nẵng",
            "name_en": "Da Nang Museum",
            "aliases": [],
            "lat": 16.0760,
            "lon": 108.2210,
            "tags": ["rain", "history"],
            "source": "https://example.org/btdn",
            "verified": False,
        },
        {
            "slug": "bien-my-khe",
            "kind": "attraction",
            "category": "beach",
            "district": "Sơn Trà",
            "name_vi": "Biển Mỹ Khê",
            "name_en": "My Khe Beach",
            "aliases": [],
            "lat": 16.0620,
            "lon": 108.2470,
            "tags": ["famous", "beach", "free", "children"],
            "source": "https://example.org/mk",
            "verified": True,
        },
        {
            "slug": "benh-vien-da-nang",
            "kind": "service",
            "category": "hospital",
            "district": "Hải Châu",
            "name_vi": "Bệnh viện Đà Nẵng",
            "name_en": "Da Nang Hospital",
            "aliases": ["BV Đà Nẵng"],
            "lat": 16.0703,
            "lon": 108.2178,
            "phone": "0236 3821 118",
            "tags": ["emergency", "24h"],
            "source": "https://example.org/bv",
            "verified": True,
        },
        {
            "slug": "benh-vien-xa",
            "kind": "service",
            "category": "hospital",
            "district": "Liên Chiểu",
            "name_vi": "Bệnh viện Xa Tâm",
            "name_en": "Far Hospital",
            "aliases": [],
            "lat": 16.0900,
            "lon": 108.1500,
            "tags": [],
            "source": "https://example.org/bvx",
            "verified": False,
        },
    ],
    "events": [
        {
            "slug": "dragon-bridge-show",
            "name_vi": "Cầu Rồng phun lửa, phun nước",
            "name_en": "Dragon Bridge fire and water show",
            "aliases": ["rồng phun lửa"],
            "category": "show",
            "venue_slug": "cau-rong",
            "venue_vi": "Cầu Rồng",
            "venue_en": "Dragon Bridge",
            "recurrence": "FREQ=WEEKLY;BYDAY=SA,SU",
            "start_time": "21:00",
            "end_time": "21:15",
            "dates": [],
            "typical_vi": "Tối thứ Bảy, Chủ nhật lúc 21:00",
            "typical_en": "Sat & Sun 9pm",
            "source": "https://example.org/show",
            "verified": True,
        },
        {
            "slug": "tet-2027",
            "name_vi": "Tết Nguyên Đán 2027",
            "name_en": "Lunar New Year 2027",
            "aliases": ["Tết"],
            "category": "holiday",
            "venue_slug": None,
            "recurrence": None,
            "dates": [{"start": date(2027, 2, 5), "end": date(2027, 2, 9)}],
            "source": "https://example.org/tet",
            "verified": False,
        },
        {
            "slug": "fireworks",
            "name_vi": "Lễ hội Pháo hoa Quốc tế Đà Nẵng",
            "name_en": "Da Nang International Fireworks Festival",
            "aliases": ["DIFF"],
            "category": "festival",
            "venue_slug": None,
            "recurrence": None,
            "dates": [],
            "typical_vi": "Thường vào tháng 6–7",
            "typical_en": "Usually June–July",
            "source": "https://example.org/diff",
            "verified": False,
        },
    ],
    "faqs": [
        {
            "slug": "emergency-numbers",
            "topic": "emergency",
            "title_vi": "Số điện thoại khẩn cấp",
            "title_en": "Emergency numbers",
            "keywords": ["cấp cứu", "113", "115", "emergency"],
            "answer_vi": "Công an 113, cứu hỏa 114, cấp cứu 115.",
            "answer_en": "Police 113, fire 114, ambulance 115.",
            "source": "https://example.org/sos",
            "verified": True,
        },
        {
            "slug": "visa",
            "topic": "visa",
            "title_vi": "Thị thực (visa)",
            "title_en": "Visas",
            "keywords": ["visa", "thị thực", "e-visa"],
            "answer_vi": "Xin e-visa trực tuyến.",
            "answer_en": "Apply for an e-visa online.",
            "source": "https://example.org/visa",
            "verified": False,
        },
    ],
}


# The PostgreSQL server the production profile uses; on a machine without one the
# PostgreSQL variants of the knowledge tests are skipped with this reason.
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _postgres_database(name: str) -> str:
    """Create an empty database for one test and return its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure means "no server to test against"
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}")
    finally:
        admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from knowledge.db import get_engine

    get_engine(url).dispose()
    admin = create_engine(PG_ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def kb_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, migrated knowledge base that the code under test finds through
    DATABASE_URL, like the real servers do: a SQLite file (the embedded default) and a
    PostgreSQL database (the production engine)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'knowledge.db'}"
    else:
        url = _postgres_database(f"kb_test_{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("DATABASE_URL", url)
    upgrade(url)
    yield url
    if request.param == "postgresql":
        _drop_postgres_database(url)


@pytest.fixture
def mini_kb(kb_url: str) -> Iterator[Session]:
    with new_session(kb_url) as session:
        seed(session, MINI)
        session.commit()
        yield session


@pytest.fixture
def seeded_kb(kb_url: str) -> Iterator[Session]:
    with new_session(kb_url) as session:
        seed(session, read_seed())
        session.commit()
        yield session


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The project's model, trained once if the training data changed (as `make run` does)."""
    from bot.launcher import ensure_model

    return ensure_model()


@pytest.fixture
def admin_server(mini_kb: Session, kb_url: str) -> Iterator[AdminServer]:
    """The admin and API on a free loopback port, over the mini knowledge base."""
    server = AdminServer(kb_url).start()
    yield server
    server.stop()


# Debian's Chromium, driven by Playwright (no browser download: see requirements-dev.txt).
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--no-first-run",
    # This machine's network is closed; without these Chromium keeps trying to phone home.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope: Playwright's sync API runs an asyncio loop in this thread while a browser
# is open, and tests in other modules call asyncio.run(), which refuses a running loop.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make test` (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page: object, server: AdminServer, role: str = "editor") -> None:
    """Sign ``page`` in through the real form as a fresh account of ``role``."""
    account = server.account(role)
    page.goto(server.url("/admin/login"))  # type: ignore[attr-defined]
    page.fill("input[name=username]", account.username)  # type: ignore[attr-defined]
    page.fill("input[name=password]", account.password)  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(server.url("/admin"))  # type: ignore[attr-defined]
