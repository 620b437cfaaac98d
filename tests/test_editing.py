"""The editing service every admin path shares: validation in Vietnamese, unique names,
optimistic locking, verification stamps, history and restore, search and filters; staff
accounts; the migration that adds them to an existing base."""

from __future__ import annotations

from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from knowledge import accounts, editing
from knowledge.db import new_session
from knowledge.migrate import alembic_config
from knowledge.models import Place, Revision, utcnow
from knowledge.schemas import InvalidEntry, validate
from knowledge.seed import seed
from tests.conftest import MINI

NEW_PLACE = {"kind": "attraction", "category": "pagoda", "name_vi": "Chùa Tam Bảo", "district": "Hải Châu"}


def _errors(kind: str, data: dict) -> dict[str, str]:
    with pytest.raises(InvalidEntry) as caught:
        validate(kind, data)
    return {e["field"]: e["message"] for e in caught.value.errors}


def test_validation_names_every_wrong_field_in_vietnamese() -> None:
    errors = _errors("places", {"kind": "museum", "category": "Bảo tàng", "lat": "abc", "lon": 200,
                                "phone": "call me", "website": "www.x.vn", "colour": "red"})
    assert errors["name_vi"] == "Bắt buộc phải điền."
    assert "attraction" in errors["kind"] and "service" in errors["kind"]
    assert "mã viết thường không dấu" in errors["category"]
    assert errors["lat"].startswith("Phải là một số")
    assert errors["lon"] == "Phải nhỏ hơn hoặc bằng 180."
    assert "Số điện thoại" in errors["phone"]
    assert "http://" in errors["website"]
    assert errors["colour"] == "Trường này không có trong biểu mẫu."


def test_validation_cross_field_rules_blame_the_field_to_fix() -> None:
    assert "lon" in _errors("places", {**NEW_PLACE, "lat": 16.06})
    errors = _errors("events", {"category": "show", "name_vi": "Thử",
                                "recurrence": "FREQ=WEEKLY;BYDAY=SA", "dates": "2027-06-05..2027-06-01"})
    assert set(errors) == {"recurrence_start", "dates.0.end"}
    event = {"category": "show", "name_vi": "Thử"}
    assert "RFC 5545" in _errors("events", {**event, "recurrence": "hằng tuần"})["recurrence"]
    assert "HH:MM" in _errors("events", {**event, "start_time": "25:00"})["start_time"]


def test_validation_normalises_text_lists_and_dates() -> None:
    values = validate("places", {**NEW_PLACE, "name_vi": "  Chùa Tam Bảo ",
                                 "aliases": "chua tam bao; Tam Bao\n\n", "lat": "16.0637", "lon": "108.2209",
                                 "free": "có", "verified": "không"})
    assert values["name_vi"] == "Chùa Tam Bảo"
    assert values["aliases"] == ["chua tam bao", "Tam Bao"]
    assert values["lat"] == pytest.approx(16.0637) and values["free"] is True and values["verified"] is False
    # NFD input and old-style tone placement are stored in the one canonical form.
    decomposed = validate("places", {**NEW_PLACE, "name_vi": "Chu\u0300a Tam Ba\u0309o",
                                     "address_vi": "Hoà Khánh"})
    assert decomposed["name_vi"] == "Chùa Tam Bảo" and decomposed["address_vi"] == "Hòa Khánh"
    event = validate("events", {"category": "show", "name_vi": "Thử", "start_time": "9:30",
                                "dates": "2027-06-01..2027-06-03; 2027-07-01"})
    assert event["start_time"] == "09:30"
    assert [(d["start"].isoformat(), d["end"].isoformat()) for d in event["dates"]] == [
        ("2027-06-01", "2027-06-03"), ("2027-07-01", "2027-07-01")]


def test_create_makes_a_slug_a_revision_and_refuses_a_duplicate_name(mini_kb: Session) -> None:
    row = editing.create(mini_kb, "places", {**NEW_PLACE, "verified": True}, "lan")
    assert row.slug == "chua-tam-bao" and row.version == 1
    assert row.verified_by == "lan" and row.verified_at is not None
    [revision] = editing.history(mini_kb, "places", row.id)
    assert revision.action == "create" and revision.username == "lan"
    assert revision.snapshot["name_vi"] == "Chùa Tam Bảo"
    with pytest.raises(InvalidEntry) as caught:
        editing.create(mini_kb, "places", {**NEW_PLACE, "name_vi": "chua tam bao"}, "lan")
    [error] = caught.value.errors
    assert error["field"] == "name_vi" and "Chùa Tam Bảo" in error["message"]
    # A retired row's name may be used again; the slug stays unique.
    editing.set_retired(mini_kb, "places", row.id, True, "lan")
    again = editing.create(mini_kb, "places", NEW_PLACE, "lan")
    assert again.slug == "chua-tam-bao-2"


def test_update_refuses_a_stale_version_and_saves_nothing(mini_kb: Session) -> None:
    row = editing.get_by_slug(mini_kb, "places", "cau-rong")
    editing.update(mini_kb, "places", row.id, {"hours_vi": "Mở cả ngày"}, "lan", 1, partial=True)
    with pytest.raises(editing.VersionConflict) as caught:
        editing.update(mini_kb, "places", row.id, {"hours_vi": "Đóng cửa"}, "binh", 1, partial=True)
    assert caught.value.current["hours_vi"] == "Mở cả ngày" and caught.value.current["version"] == 2
    assert row.hours_vi == "Mở cả ngày"
    # Saving identical values makes no new version.
    editing.update(mini_kb, "places", row.id, {"hours_vi": "Mở cả ngày"}, "lan", 2, partial=True)
    assert row.version == 2


def test_history_keeps_the_seed_text_and_restore_brings_it_back(mini_kb: Session) -> None:
    row = editing.get_by_slug(mini_kb, "places", "bao-tang-cham")
    editing.update(mini_kb, "places", row.id, {"price_vi": "80.000 đồng"}, "lan", None, partial=True)
    seed_revision, update_revision = reversed(editing.history(mini_kb, "places", row.id))
    assert seed_revision.action == "seed" and seed_revision.snapshot["price_vi"] == "60.000 đồng"
    assert update_revision.changes == {"price_vi": ["60.000 đồng", "80.000 đồng"]}
    editing.restore(mini_kb, "places", row.id, seed_revision.id, "binh", 2)
    assert row.price_vi == "60.000 đồng" and row.version == 3
    assert editing.history(mini_kb, "places", row.id)[0].action == "restore"
    with pytest.raises(editing.NotFound):
        editing.restore(mini_kb, "places", row.id + 1, seed_revision.id, "binh")


def test_event_venue_and_dates_round_trip(mini_kb: Session) -> None:
    fields = {"category": "festival", "name_vi": "Lễ hội thử", "venue_slug": "cau-rong",
              "dates": "2027-06-01..2027-06-02"}
    event = editing.create(mini_kb, "events", fields, "lan")
    data = editing.to_dict(event)
    assert data["venue_slug"] == "cau-rong"
    assert data["dates"] == [{"start": "2027-06-01", "end": "2027-06-02"}]
    with pytest.raises(InvalidEntry) as caught:
        editing.update(mini_kb, "events", event.id, {"venue_slug": "khong-co"}, "lan", None, partial=True)
    assert caught.value.errors[0]["field"] == "venue_slug"


def test_search_ignores_diacritics_and_matches_word_starts(mini_kb: Session) -> None:
    def found(q: str, **filters: object) -> set[str]:
        return {r.slug for r in editing.listing(mini_kb, "places", q=q, filters=filters).rows}

    assert found("cau rong") == {"cau-rong"}
    assert found("CẦU RỒNG") == {"cau-rong"}
    assert found("bao tang") == {"bao-tang-cham", "bao-tang-da-nang"}
    assert found("cham museum") == {"bao-tang-cham"}  # English alias
    assert found("ang") == set()  # not the middle of "Nẵng"
    assert found("", kind="service") == {"benh-vien-da-nang", "benh-vien-xa"}
    assert found("", category="museum", verified=False) == {"bao-tang-cham", "bao-tang-da-nang"}
    page = editing.listing(mini_kb, "places", offset=2, limit=2)
    assert page.total == len(MINI["places"]) and len(page.rows) == 2


def test_stale_means_unverified_or_checked_over_a_year_ago(mini_kb: Session) -> None:
    row = editing.get_by_slug(mini_kb, "places", "cau-rong")
    editing.verify(mini_kb, "places", row.id, "lan")
    stale = {r.slug for r in editing.listing(mini_kb, "places", filters={"stale": True}).rows}
    assert "cau-rong" not in stale and "bao-tang-cham" in stale
    row.verified_at = utcnow() - timedelta(days=400)
    mini_kb.flush()
    assert editing.is_stale(row)
    assert "cau-rong" in {r.slug for r in editing.listing(mini_kb, "places", filters={"stale": True}).rows}


def test_retired_rows_leave_the_default_list(mini_kb: Session) -> None:
    row = editing.get_by_slug(mini_kb, "faqs", "visa")
    editing.delete(mini_kb, "faqs", row.id, "lan")
    assert row.retired
    assert "visa" not in {r.slug for r in editing.listing(mini_kb, "faqs").rows}
    assert "visa" in {r.slug for r in editing.listing(mini_kb, "faqs", filters={"retired": True}).rows}


def test_passwords_are_hashed_and_tokens_stored_as_digests(kb_url: str) -> None:
    with new_session(kb_url) as session, session.begin():
        user = accounts.create_user(session, "Lan.Nguyen", "editor", password="mat-khau-du-dai")
        token = accounts.issue_token(session, user)
        assert user.username == "lan.nguyen"
        assert user.password_hash.startswith("$argon2id$") and "mat-khau" not in user.password_hash
        assert token not in (user.token_digest or "")
        assert accounts.user_for_token(session, token).id == user.id
        assert accounts.authenticate(session, "LAN.NGUYEN", "mat-khau-du-dai").id == user.id
        assert accounts.authenticate(session, "lan.nguyen", "sai") is None
        second = accounts.issue_token(session, user)
        assert accounts.user_for_token(session, token) is None and accounts.user_for_token(session, second)
        user.active = False
        assert accounts.user_for_token(session, second) is None
        assert accounts.authenticate(session, "lan.nguyen", "mat-khau-du-dai") is None
        with pytest.raises(accounts.AccountError) as caught:
            accounts.create_user(session, "lan.nguyen", "editor")
        assert caught.value.field == "username"
        with pytest.raises(accounts.AccountError):
            accounts.create_user(session, "binh", "editor", password="ngan")
        with pytest.raises(accounts.AccountError):
            accounts.create_user(session, "binh", "owner")


def test_first_admin_is_made_only_on_an_empty_base(kb_url: str) -> None:
    with new_session(kb_url) as session, session.begin():
        user, password = accounts.ensure_first_admin(session, "admin", None)
        assert user.role == "admin" and len(password) >= 12
        assert accounts.authenticate(session, "admin", password) is not None
        assert accounts.ensure_first_admin(session, "other", "x" * 12) is None


def test_migration_0002_adds_search_text_to_an_existing_base(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0001")
    with new_session(url) as session, session.begin():
        session.execute(text(
            "INSERT INTO places (slug, kind, category, name_vi, aliases, tags, verified, retired, "
            "created_at, updated_at, version) VALUES ('cau-rong', 'attraction', 'bridge', 'Cầu Rồng', "
            "'[\"Dragon Bridge\"]', '[]', 0, 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1)"))
    command.upgrade(alembic_config(url), "head")
    with new_session(url) as session:
        place = session.execute(select(Place)).scalar_one()
        assert "cau rong" in place.search_text and "dragon bridge" in place.search_text
        assert session.execute(select(Revision)).first() is None
    command.downgrade(alembic_config(url), "0001")


def test_seeding_fills_search_text(kb_url: str) -> None:
    with new_session(kb_url) as session, session.begin():
        seed(session, {"places": MINI["places"][:1], "events": [], "faqs": []})
    with new_session(kb_url) as session:
        assert " cau rong" in session.execute(select(Place.search_text)).scalar_one()


def test_blank_free_means_not_known() -> None:
    assert validate("places", {**NEW_PLACE, "free": ""})["free"] is None
    assert validate("places", {**NEW_PLACE, "free": "không"})["free"] is False


def test_changed_facts_need_checking_again_unless_the_change_vouches_for_them(mini_kb: Session) -> None:
    row = editing.get_by_slug(mini_kb, "places", "cau-rong")  # seeded verified
    editing.update(mini_kb, "places", row.id, {"source": "https://danang.gov.vn/x"}, "lan", None,
                   partial=True)
    editing.verify(mini_kb, "places", row.id, "lan")
    editing.update(mini_kb, "places", row.id, {"hours_vi": "18:00–23:00"}, "binh", None, partial=True)
    assert (row.verified, row.verified_by) == (False, None)
    editing.update(mini_kb, "places", row.id, {"hours_vi": "18:00–22:00", "verified": True}, "binh", None,
                   partial=True)
    assert (row.verified, row.verified_by) == (True, "binh")
    fresh = {r.slug for r in editing.listing(mini_kb, "places", filters={"stale": False}).rows}
    assert fresh == {"cau-rong"}


def test_restore_and_full_replacement_leave_retirement_alone(mini_kb: Session) -> None:
    row = editing.get_by_slug(mini_kb, "places", "bao-tang-da-nang")
    editing.update(mini_kb, "places", row.id, {"hours_vi": "8:00–17:00"}, "lan", None, partial=True)
    editing.set_retired(mini_kb, "places", row.id, True, "lan")
    first = editing.history(mini_kb, "places", row.id)[-1]
    editing.restore(mini_kb, "places", row.id, first.id, "lan")
    assert row.retired and row.hours_vi is None
    data = {k: v for k, v in editing.editable(editing.to_dict(row)).items() if k != "retired"}
    editing.update(mini_kb, "places", row.id, {**data, "hours_vi": "9:00–17:00"}, "lan", None)
    assert row.retired and row.hours_vi == "9:00–17:00"


def test_a_save_reads_the_row_again_once_it_holds_it(mini_kb: Session, kb_url: str) -> None:
    row = editing.get_by_slug(mini_kb, "faqs", "visa")  # loaded here, before the other save
    mini_kb.commit()
    with new_session(kb_url) as other, other.begin():
        editing.update(other, "faqs", row.id, {"answer_en": "Apply online."}, "binh", None, partial=True)
    editing.update(mini_kb, "faqs", row.id, {"title_en": "Visas and e-visas"}, "lan", None, partial=True)
    mini_kb.commit()
    assert (row.answer_en, row.title_en, row.version) == ("Apply online.", "Visas and e-visas", 3)
    versions = [r.version for r in editing.history(mini_kb, "faqs", row.id)]
    assert versions == [3, 2, 1]


def test_rules_that_repeat_within_a_day_are_refused_and_never_expanded(mini_kb: Session) -> None:
    from datetime import date

    from knowledge.queries import occurrences_of

    event = {"category": "show", "name_vi": "Thử", "recurrence_start": "2020-01-01"}
    for rule in ("FREQ=MINUTELY", "FREQ=HOURLY", "FREQ=DAILY;BYHOUR=9,21"):
        assert "DAILY, WEEKLY" in _errors("events", {**event, "recurrence": rule})["recurrence"]
    # A rule written straight into the base is skipped, not expanded minute by minute.
    show = editing.get_by_slug(mini_kb, "events", "dragon-bridge-show")
    show.recurrence = "FREQ=MINUTELY"
    assert occurrences_of(show, date(2026, 12, 1), date(2026, 12, 7)) == []


def test_text_no_database_can_store_is_refused_by_name() -> None:
    for bad in ("Cầu\x00Rồng", "Cầu \udc80 Rồng"):
        assert "ký tự không hợp lệ" in _errors("places", {**NEW_PLACE, "name_vi": bad})["name_vi"]
    assert "aliases" in _errors("places", {**NEW_PLACE, "aliases": ["ok", "x\x00y"]})


def test_search_words_ignore_punctuation_and_hyphens(mini_kb: Session) -> None:
    editing.create(mini_kb, "faqs", {"topic": "emergency", "title_vi": "Cảnh sát 113 (số khẩn cấp)",
                                     "answer_vi": "Gọi 113."}, "lan")

    def found(kind: str, q: str) -> set[str]:
        return {r.slug for r in editing.listing(mini_kb, kind, q=q).rows}

    assert "canh-sat-113-so-khan-cap" in found("faqs", "số khẩn cấp")
    assert "canh-sat-113-so-khan-cap" in found("faqs", "(113)")
    assert found("places", "cầu rồng,") == {"cau-rong"}
    assert found("places", "cau-rong") == {"cau-rong"}
    assert found("places", "Rồng!") == {"cau-rong"}
    assert found("places", "ong") == set()  # still word starts only
    text_of = mini_kb.execute(select(Place.search_text).where(Place.slug == "cau-rong")).scalar_one()
    assert text_of.startswith(" cau rong ") and "|" not in text_of and "  " not in text_of


def test_the_database_refuses_two_live_rows_with_one_name(
    mini_kb: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two officers creating the same name at once both pass the check (neither sees the
    # other's row yet): the unique index decides, and the loser gets the form's message.
    monkeypatch.setattr(editing, "_check_unique_title", lambda *args: None)
    first = editing.create(mini_kb, "places", NEW_PLACE, "lan")
    with pytest.raises(InvalidEntry) as caught:
        editing.create(mini_kb, "places", {**NEW_PLACE, "name_vi": "CHÙA TAM BẢO", "slug": "khac"}, "binh")
    [error] = caught.value.errors
    assert error["field"] == "name_vi"
    assert error["message"] == f"Đã có mục khác tên “Chùa Tam Bảo” (số {first.id})."
    # Renaming another row onto the name is refused the same way.
    other = editing.get_by_slug(mini_kb, "places", "cau-rong")
    with pytest.raises(InvalidEntry) as caught:
        editing.update(mini_kb, "places", other.id, {"name_vi": "chùa tam bảo"}, "binh", None, partial=True)
    assert caught.value.errors[0]["field"] == "name_vi"
    hours = {"topic": "hours", "title_vi": "Giờ mở cửa", "answer_vi": "8h"}
    faq = editing.create(mini_kb, "faqs", hours, "lan")
    with pytest.raises(InvalidEntry) as caught:
        editing.create(mini_kb, "faqs", {**hours, "title_vi": "giờ mở cửa"}, "lan")
    [error] = caught.value.errors
    assert error["field"] == "title_vi" and f"(số {faq.id})" in error["message"]
    # The transaction is still usable: retired rows may share the name, and it all commits.
    editing.set_retired(mini_kb, "places", first.id, True, "lan")
    again = editing.create(mini_kb, "places", NEW_PLACE, "lan")
    mini_kb.commit()
    assert again.title_key == "chua tam bao" and other.name_vi == "Cầu Rồng"
    with pytest.raises(InvalidEntry):  # bringing the retired one back would make two
        editing.set_retired(mini_kb, "places", first.id, False, "lan")


def test_migration_0003_fills_title_keys_and_word_search_text(tmp_path) -> None:  # noqa: ANN001
    url = f"sqlite:///{tmp_path / 'old.db'}"
    command.upgrade(alembic_config(url), "0002")
    with new_session(url) as session, session.begin():
        for slug, name, retired in [("cau-rong", "Cầu Rồng", 0), ("cau-rong-cu", "CẦU RỒNG", 1),
                                    ("cho-han", "Chợ Hàn (chợ, đêm)", 0)]:
            session.execute(text(
                "INSERT INTO places (slug, kind, category, name_vi, aliases, tags, verified, retired, "
                "created_at, updated_at, version, search_text) VALUES (:slug, 'attraction', 'bridge', :name, "
                "'[\"Dragon-Bridge\"]', '[]', 0, :retired, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, "
                "' old')"), {"slug": slug, "name": name, "retired": retired})
        session.execute(text("INSERT INTO users (username, role, active, created_at) "
                             "VALUES ('lan', 'editor', 1, '2026-01-01 00:00:00')"))
    command.upgrade(alembic_config(url), "head")
    with new_session(url) as session:
        rows = {p.slug: p for p in session.execute(select(Place)).scalars()}
        assert rows["cau-rong"].title_key == "cau rong" == rows["cau-rong-cu"].title_key
        assert rows["cho-han"].search_text == " cho han cho han cho dem dragon bridge bridge"
        assert session.execute(text("SELECT session_epoch FROM users")).scalar_one() == 0
        with pytest.raises(IntegrityError):  # a second live "Cầu Rồng"
            session.execute(text("UPDATE places SET retired = 0 WHERE slug = 'cau-rong-cu'"))
        session.rollback()
    command.downgrade(alembic_config(url), "0002")


def test_admin_form_answers_a_clashing_slug_with_the_form_not_a_server_error(
    admin_server, monkeypatch: pytest.MonkeyPatch  # noqa: ANN001
) -> None:
    from tests.admin_support import csrf_of, signed_in

    # Two creates picking the same free slug at once: the second INSERT breaks the unique slug.
    monkeypatch.setattr(editing, "_unique_slug", lambda *args: "cau-rong")
    client = signed_in(admin_server)
    token = csrf_of(client.get(admin_server.url("/admin/places/new")).text)
    response = client.post(admin_server.url("/admin/places/new"), data={
        "_csrf": token, "kind": "attraction", "category": "pagoda", "name_vi": "Chùa Tam Bảo"})
    assert response.status_code == 409 and "Hãy bấm Lưu lần nữa" in response.text
