"""Grouping the questions the assistant could not answer, and what staff do with a group."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import editing, review
from knowledge.models import Faq, Place, Revision, UnansweredQuestion

T0 = datetime(2027, 3, 1, 8, 0)


def _ask(session: Session, *texts: str, reason: str = "fallback", start: int = 0,
         language: str = "vi") -> list[int]:
    rows = [UnansweredQuestion(text=t, reason=reason, language=language,
                               created_at=T0 + timedelta(minutes=start + i))
            for i, t in enumerate(texts)]
    session.add_all(rows)
    session.commit()
    return [r.id for r in rows]


def _place(session: Session, slug: str) -> Place:
    return session.execute(select(Place).where(Place.slug == slug)).scalar_one()


def _status(session: Session, ids: list[int]) -> set[str]:
    session.expire_all()
    return {q.status for q in _questions(session, ids)}


def _questions(session: Session, ids: list[int]) -> list[UnansweredQuestion]:
    return list(session.execute(select(UnansweredQuestion).where(UnansweredQuestion.id.in_(ids))).scalars())


def test_spellings_of_one_question_are_one_group(mini_kb: Session) -> None:
    dragon = _ask(mini_kb, "cầu rồng mấy giờ phun lửa", "cau rong may gio phun lua", start=0)
    visa = _ask(mini_kb, "thủ tục visa thế nào", "thu tuc visa the nao", reason="no_such_topic", start=10)
    dragon += _ask(mini_kb, "Cầu Rồng mấy giờ phun lửa vậy", reason="no_such_fact", start=20, language="vi")
    museum = _ask(mini_kb, "Bảo tàng điêu khắc ở đâu vậy?", reason="no_such_place", start=30)

    found = review.groups(mini_kb)

    assert [sorted(g.question_ids) for g in found] == [sorted(dragon), sorted(visa), museum]
    first = found[0]
    assert first.count == 3
    assert first.text == "Cầu Rồng mấy giờ phun lửa vậy"  # the newest wording of the commonest key
    assert first.subject == "Cầu Rồng phun lửa"
    assert set(first.texts) == {"cầu rồng mấy giờ phun lửa", "cau rong may gio phun lua",
                                "Cầu Rồng mấy giờ phun lửa vậy"}
    assert first.reasons == ["fallback", "no_such_fact"]
    assert first.languages == ["vi"]
    assert first.first_seen == T0 and first.last_seen == T0 + timedelta(minutes=20)
    assert found[1].count == 2 and found[1].reasons == ["no_such_topic"]
    # The museum question names an existing entry in other words: that entry is suggested.
    assert found[2].suggestion is not None
    assert (found[2].suggestion.kind, found[2].suggestion.name) == ("places", "Bảo tàng Điêu khắc Chăm")
    assert found[2].subject == "Bảo tàng điêu khắc"


def test_typos_join_and_shared_common_words_do_not(mini_kb: Session) -> None:
    dragon = _ask(mini_kb, "cầu rồng mấy giờ phun lửa", "cau roong may gio phun lua", start=0)
    sim = _ask(mini_kb, "sim có gì hay", start=5)
    taxi = _ask(mini_kb, "taxi có gì hay", start=6)
    assert [sorted(g.question_ids) for g in review.groups(mini_kb)] == [sorted(dragon), taxi, sim]


def test_equal_groups_are_ordered_by_most_recent(mini_kb: Session) -> None:
    older = _ask(mini_kb, "giá vé Bà Nà Hills", start=0)
    newer = _ask(mini_kb, "sim điện thoại mua ở đâu", start=5)
    assert [g.question_ids for g in review.groups(mini_kb)] == [newer, older]
    assert [g.question_ids for g in review.groups(mini_kb, limit=1)] == [newer]


def test_question_words_alone_do_not_join_different_subjects(mini_kb: Session) -> None:
    _ask(mini_kb, "bảo tàng Chăm ở đâu", "cầu Rồng ở đâu", "bãi biển Mỹ Khê ở đâu")
    assert [g.count for g in review.groups(mini_kb)] == [1, 1, 1]


def test_add_alias_changes_the_entry_keeps_history_and_resolves(mini_kb: Session) -> None:
    ids = _ask(mini_kb, "Bảo tàng điêu khắc ở đâu vậy?", "bao tang dieu khac o dau")
    museum = _place(mini_kb, "bao-tang-cham")
    version = museum.version

    _row, added = review.add_alias(mini_kb, "places", museum.id, "Bảo tàng điêu khắc", "bien-tap", ids)
    mini_kb.commit()
    assert added

    mini_kb.expire_all()
    museum = _place(mini_kb, "bao-tang-cham")
    assert museum.aliases == ["bảo tàng Chăm", "Cham museum", "Bảo tàng điêu khắc"]
    assert museum.version == version + 1
    revision = mini_kb.execute(
        select(Revision).where(Revision.table_name == "places", Revision.row_id == museum.id,
                               Revision.version == museum.version)
    ).scalar_one()
    assert revision.username == "bien-tap"
    assert revision.changes["aliases"][1][-1] == "Bảo tàng điêu khắc"
    questions = _questions(mini_kb, ids)
    assert {(q.status, q.resolved_by, q.resolution) for q in questions} == {
        ("resolved", "bien-tap", f"alias:places/{museum.id}")}
    assert all(q.resolved_at is not None for q in questions)
    assert review.groups(mini_kb) == []
    assert [g.count for g in review.groups(mini_kb, "resolved")] == [2]


def test_add_alias_to_a_faq_adds_a_keyword(mini_kb: Session) -> None:
    ids = _ask(mini_kb, "thị thực điện tử")
    faq = mini_kb.execute(select(Faq).where(Faq.slug == "visa")).scalar_one()
    review.add_alias(mini_kb, "faqs", faq.id, "thị thực điện tử", "bien-tap", ids)
    mini_kb.commit()
    mini_kb.expire_all()
    assert mini_kb.get(Faq, faq.id).keywords[-1] == "thị thực điện tử"
    assert editing.history(mini_kb, "faqs", faq.id)[0].action == "update"


def test_alias_already_known_resolves_without_a_new_version(mini_kb: Session) -> None:
    ids = _ask(mini_kb, "cau con rong o dau")
    bridge = _place(mini_kb, "cau-rong")
    version = bridge.version
    _row, added = review.add_alias(mini_kb, "places", bridge.id, "Cầu con rồng", "bien-tap", ids)
    mini_kb.commit()
    assert not added
    mini_kb.expire_all()
    assert _place(mini_kb, "cau-rong").version == version
    assert _status(mini_kb, ids) == {"resolved"}


@pytest.mark.parametrize("alias, message", [
    ("Bảo tàng Đà Nẵng", "đã là tên"),  # another entry's name: the assistant would have to ask which
    ("   ", "không để trống"),
    ("bảo tàng " * 30, "dài quá"),
])
def test_add_alias_refuses_and_changes_nothing(mini_kb: Session, alias: str, message: str) -> None:
    ids = _ask(mini_kb, "bao tang o dau")
    museum = _place(mini_kb, "bao-tang-cham")
    with pytest.raises(review.ReviewError, match=message):
        review.add_alias(mini_kb, "places", museum.id, alias, "bien-tap", ids)
    mini_kb.rollback()
    assert _place(mini_kb, "bao-tang-cham").aliases == ["bảo tàng Chăm", "Cham museum"]
    assert _status(mini_kb, ids) == {"open"}


def test_dismiss_and_reopen(mini_kb: Session) -> None:
    spam = _ask(mini_kb, "hello", "hello!!")
    keep = _ask(mini_kb, "giá vé Bà Nà Hills", start=5)
    assert review.dismiss(mini_kb, spam, "bien-tap") == 2
    mini_kb.commit()
    assert [g.question_ids for g in review.groups(mini_kb)] == [keep]
    dismissed = review.groups(mini_kb, "dismissed")
    assert [sorted(g.question_ids) for g in dismissed] == [sorted(spam)]
    assert dismissed[0].resolved_by == ["bien-tap"]
    review.reopen(mini_kb, spam)
    mini_kb.commit()
    assert _status(mini_kb, spam) == {"open"}


def test_resolve_needs_questions(mini_kb: Session) -> None:
    with pytest.raises(review.ReviewError):
        review.resolve(mini_kb, [], "bien-tap", "x")


def test_a_few_thousand_questions_group_quickly(mini_kb: Session) -> None:
    subjects = [f"địa điểm số {n} {w}" for n in range(150) for w in ("", "mới")]
    templates = ["{} ở đâu", "{} mấy giờ mở cửa", "cho hỏi {} ở đâu vậy", "{} giá vé bao nhiêu",
                 "{} o dau", "where is {}", "{} có gì hay", "{} có xa không", "{} ?", "{} đẹp không"]
    texts = [t.format(s) for s in subjects for t in templates]
    _ask(mini_kb, *texts)
    started = time.perf_counter()
    found = review.groups(mini_kb, limit=None, suggest=False)
    elapsed = time.perf_counter() - started
    assert sum(g.count for g in found) == len(texts) == 3000
    assert elapsed < 5.0, f"grouping took {elapsed:.1f}s"
