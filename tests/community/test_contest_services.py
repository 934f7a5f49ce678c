"""The search contest's rules: organising a round, one timed attempt, answers checked on the
server, leaderboards published at closing."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.audit import AuditEntry
from jala.community.contest import attempts, leaderboard
from jala.community.contest import services as contest
from jala.community.contest.answers import (
    choice_order,
    clean_public_name,
    is_right,
    masked_name,
    normalize_answer,
    question_order,
)
from jala.community.contest.models import ContestAttempt
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from tests.support.factories import library_id, make_portal_admin, make_user


@pytest.fixture
def language():
    """These tests read the rules' messages in English."""
    return "en"


def make_round(organiser, *, library=None, kind="official", minutes=30, opens_in=-1,
               hours=2, questions=None, publish=True, ranking="average", top_n=5):
    """A round opened ``opens_in`` minutes from now (negative: already open), with questions:
    a single choice (right: 1, worth 2), a multiple choice (right: 0 and 2) and a text answer
    (中国发展报告, worth 3)."""
    now = clock.now()
    found = contest.create_round(
        organiser, library_id=library_id(library) if library else None, title="馆藏检索赛",
        description="在**门户**里找答案。", kind=kind,
        opens_at=now + timedelta(minutes=opens_in),
        closes_at=now + timedelta(minutes=opens_in) + timedelta(hours=hours),
        time_limit_minutes=minutes, ranking=ranking, top_n=top_n)
    for question in questions if questions is not None else QUESTIONS:
        contest.add_question(organiser, found.id, **question)
    if publish:
        contest.publish_round(organiser, found.id)
    return found


QUESTIONS = [
    {"kind": "single", "prompt": "《赣江流域水文志》由哪家出版社出版？",
     "choices": ["人民出版社", "江西人民出版社", "科学出版社"], "correct": [1], "points": 2,
     "hint_url": "/search?q=赣江流域水文志"},
    {"kind": "multiple", "prompt": "哪些图书馆收藏了这本书？",
     "choices": ["南昌大学图书馆", "九江学院图书馆", "江西财经大学图书馆"], "correct": [0, 2]},
    {"kind": "text", "prompt": "题名是什么？", "accepted": ["中国发展报告"], "points": 3},
]


def by_kind(found, kind):
    return next(q for q in found.questions if q.kind == kind)


def answer_all_right(user, found):
    attempts.save_answer(user, found.id, by_kind(found, "single").id, chosen=["1"])
    attempts.save_answer(user, found.id, by_kind(found, "multiple").id, chosen=["2", "0"])
    attempts.save_answer(user, found.id, by_kind(found, "text").id, text="中国发展报告")


@pytest.fixture
def centre(ctx):
    return make_portal_admin()


# --- answers, pure ------------------------------------------------------------------------------

def test_text_answers_match_whatever_the_width_case_spaces_marks_or_script():
    assert normalize_answer("《中國 發展報告》") == normalize_answer("中国发展报告")
    assert normalize_answer("ＩＳＢＮ 978") == normalize_answer("isbn978")
    assert normalize_answer(" New  York ") == normalize_answer("new york")


def test_a_choice_question_is_right_only_with_exactly_the_right_choices(ctx, centre):
    found = make_round(centre, publish=False)
    multiple = by_kind(found, "multiple")
    assert is_right(multiple, [0, 2])
    assert not is_right(multiple, [0])
    assert not is_right(multiple, [0, 1, 2])
    assert not is_right(multiple, None)
    text = by_kind(found, "text")
    assert is_right(text, "中國發展報告") and not is_right(text, "") and not is_right(text, "发展")


def test_the_order_is_random_per_seed_and_the_same_on_every_reload(ctx, centre):
    found = make_round(centre, questions=[{**QUESTIONS[2], "prompt": f"第{i}题"}
                                          for i in range(8)])
    orders = {tuple(q.id for q in question_order(found.questions, seed)) for seed in range(10)}
    assert len(orders) > 1
    assert question_order(found.questions, 42) == question_order(found.questions, 42)
    single = make_round(centre, questions=[QUESTIONS[0]]).questions[0]
    assert sorted(choice_order(single, 7)) == [0, 1, 2]
    assert choice_order(single, 7) == choice_order(single, 7)


def test_leaderboard_names_are_masked_or_chosen_never_an_email():
    assert masked_name("李小红") == "李**"
    assert clean_public_name("  检索 达人 ") == "检索 达人"
    assert clean_public_name("") is None
    with pytest.raises(RuleViolation, match="not an email"):
        clean_public_name("me@example.edu.cn")
    with pytest.raises(RuleViolation, match="at most 20"):
        clean_public_name("长" * 21)


# --- organising ---------------------------------------------------------------------------------

def test_centre_admins_organise_alliance_rounds_and_library_staff_their_own(ctx, centre):
    librarian = make_user(library="JXUFE", roles=("librarian",))
    reader = make_user(library="JXUFE")
    assert contest.can_organise(centre, None) and contest.can_organise(centre, library_id("JJU"))
    assert contest.can_organise(librarian, library_id("JXUFE"))
    assert not contest.can_organise(librarian, None)
    assert not contest.can_organise(librarian, library_id("NCU"))
    assert not contest.can_organise(reader, library_id("JXUFE"))
    with pytest.raises(NotAllowed):
        make_round(librarian)
    with pytest.raises(NotAllowed):
        make_round(reader, library="JXUFE")
    own = make_round(librarian, library="JXUFE")
    assert own.library.code == "JXUFE"
    assert contest.organiser_libraries(librarian) == [library_id("JXUFE")]


def test_organiser_steps_are_audited(ctx, centre):
    found = make_round(centre, publish=False)
    contest.delete_question(centre, found.id, found.questions[-1].id)
    contest.publish_round(centre, found.id)
    contest.close_round_now(centre, found.id)
    actions = db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "contest_round", AuditEntry.object_id == str(found.id))
        .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["contest.round.create", "contest.question.add", "contest.question.add",
                       "contest.question.add", "contest.question.delete",
                       "contest.round.publish", "contest.round.close"]


def test_bad_rounds_and_questions_are_refused_with_a_reason(ctx, centre):
    now = clock.now()
    with pytest.raises(RuleViolation, match="close after it opens"):
        contest.create_round(centre, title="x", opens_at=now, closes_at=now,
                             time_limit_minutes=10)
    with pytest.raises(RuleViolation, match="between 1 and 600"):
        contest.create_round(centre, title="x", opens_at=now, closes_at=now + timedelta(1),
                             time_limit_minutes=0)
    found = make_round(centre, questions=[], publish=False)
    with pytest.raises(RuleViolation, match="Mark the right choice"):
        contest.add_question(centre, found.id, kind="single", prompt="?", choices=["a", "b"])
    with pytest.raises(RuleViolation, match="exactly one right"):
        contest.add_question(centre, found.id, kind="single", prompt="?", choices=["a", "b"],
                             correct=[0, 1])
    with pytest.raises(RuleViolation, match="between 2 and 8"):
        contest.add_question(centre, found.id, kind="multiple", prompt="?", choices=["a"],
                             correct=[0])
    with pytest.raises(RuleViolation, match="at least one accepted"):
        contest.add_question(centre, found.id, kind="text", prompt="?", accepted=["  "])
    with pytest.raises(RuleViolation, match="The hint is a link"):
        contest.add_question(centre, found.id, kind="text", prompt="?", accepted=["a"],
                             hint_url="javascript:alert(1)")
    with pytest.raises(RuleViolation, match="at least one question"):
        contest.publish_round(centre, found.id)


@pytest.mark.parametrize("hint", ["/\\evil.example", "/\\/evil.example", "/search\\x",
                                  "/search?q=a\x00b", "/search\nx", "/\tsearch", "//evil.example",
                                  "http://evil.example\\@portal"])
def test_a_hint_with_backslashes_or_control_characters_is_refused(ctx, centre, hint):
    found = make_round(centre, questions=[], publish=False)
    with pytest.raises(RuleViolation, match="The hint is a link"):
        contest.add_question(centre, found.id, kind="text", prompt="?", accepted=["a"],
                             hint_url=hint)
    added = contest.add_question(centre, found.id, kind="text", prompt="?", accepted=["a"],
                                 hint_url="/search?q=中国 发展报告")
    assert added.hint_url == "/search?q=中国 发展报告"


def test_a_published_round_is_fixed_and_a_draft_is_hidden_from_readers(ctx, centre):
    draft = make_round(centre, publish=False)
    reader = make_user(library="JXUFE")
    with pytest.raises(NotFound):
        contest.get_round(reader, draft.id)
    assert contest.get_round(centre, draft.id) is draft
    contest.publish_round(centre, draft.id)
    assert contest.get_round(reader, draft.id) is draft
    with pytest.raises(RuleViolation, match="fixed") as refused:
        contest.add_question(centre, draft.id, **QUESTIONS[2])
    assert refused.value.status == 409


# --- who takes part -----------------------------------------------------------------------------

def test_open_rounds_are_those_the_user_can_take_now(ctx, centre):
    open_official = make_round(centre)
    practice = make_round(centre, kind="practice")
    coming = make_round(centre, opens_in=60)
    ncu_own = make_round(centre, library="NCU")
    make_round(centre, publish=False)
    reader = make_user(library="JXUFE")
    public = make_user(library=None)
    assert contest.open_rounds(reader) == [open_official, practice] or set(
        contest.open_rounds(reader)) == {open_official, practice}
    assert set(contest.open_rounds(public)) == {practice}
    assert set(contest.open_rounds(make_user(library="NCU"))) == {open_official, practice,
                                                                 ncu_own}
    assert coming not in contest.open_rounds(None)
    assert set(contest.open_rounds(None)) == {open_official, practice, ncu_own}
    attempts.start_attempt(reader, open_official.id)
    assert open_official in contest.open_rounds(reader)  # still running: can go back to it
    attempts.submit_attempt(reader, open_official.id)
    assert set(contest.open_rounds(reader)) == {practice}


def test_official_rounds_are_for_verified_readers_of_member_libraries(ctx, centre):
    found = make_round(centre)
    for user, reason in ((make_user(library=None), "readers of member libraries"),
                         (make_user(library="JXUFE", verified=False), "not been verified"),
                         (centre, "Organisers can see the answers")):
        with pytest.raises(RuleViolation, match=reason):
            attempts.start_attempt(user, found.id)
    jju = make_round(centre, library="JJU")
    with pytest.raises(RuleViolation, match="for readers of"):
        attempts.start_attempt(make_user(library="JXUFE"), jju.id)
    assert attempts.start_attempt(make_user(library="JJU"), jju.id).round_id == jju.id


def test_a_round_cannot_be_started_before_it_opens_or_after_it_closes(ctx, centre):
    found = make_round(centre, opens_in=30)
    reader = make_user(library="JXUFE")
    with pytest.raises(RuleViolation, match="opens on"):
        attempts.start_attempt(reader, found.id)
    clock.advance(timedelta(hours=3))
    with pytest.raises(RuleViolation, match="has closed"):
        attempts.start_attempt(reader, found.id)


# --- the attempt ----------------------------------------------------------------------------------

def test_a_second_start_returns_the_same_attempt_with_the_same_clock_and_order(ctx, centre):
    found = make_round(centre)
    reader = make_user(library="JXUFE", name="王晓明")
    first = attempts.start_attempt(reader, found.id)
    order = [q.id for q in attempts.attempt_questions(first)]
    clock.advance(timedelta(minutes=5))
    again = attempts.start_attempt(reader, found.id, "另一个名字")
    assert again.id == first.id and again.started_at == first.started_at
    assert [q.id for q in attempts.attempt_questions(again)] == order
    assert again.public_name == "王**"
    assert first.deadline == first.started_at + timedelta(minutes=30)


def test_a_submitted_official_attempt_cannot_be_started_again(ctx, centre):
    found = make_round(centre)
    reader = make_user(library="JXUFE")
    attempts.start_attempt(reader, found.id)
    attempts.submit_attempt(reader, found.id)
    with pytest.raises(RuleViolation, match="one attempt") as refused:
        attempts.start_attempt(reader, found.id)
    assert refused.value.status == 409
    with pytest.raises(RuleViolation, match="submitted"):
        attempts.save_answer(reader, found.id, found.questions[0].id, chosen=["1"])
    assert db.session.execute(select(ContestAttempt).where(
        ContestAttempt.round_id == found.id)).scalars().all().__len__() == 1


def test_a_practice_round_may_be_taken_again_from_scratch(ctx, centre):
    found = make_round(centre, kind="practice")
    public = make_user(library=None)
    first = attempts.start_attempt(public, found.id)
    first_started = first.started_at
    answer_all_right(public, found)
    attempts.submit_attempt(public, found.id)
    assert first.score == 6
    clock.advance(timedelta(minutes=1))
    again = attempts.start_attempt(public, found.id)
    assert again.id == first.id and again.submitted_at is None and again.score is None
    assert again.answers == [] and again.started_at > first_started


def test_answers_are_checked_on_submission_and_scored(ctx, centre):
    found = make_round(centre)
    reader = make_user(library="JXUFE")
    attempts.start_attempt(reader, found.id)
    attempts.save_answer(reader, found.id, by_kind(found, "single").id, chosen=["0"])
    attempts.save_answer(reader, found.id, by_kind(found, "single").id, chosen=["1"])
    attempts.save_answer(reader, found.id, by_kind(found, "multiple").id, chosen=["0"])
    attempts.save_answer(reader, found.id, by_kind(found, "text").id, text="《中國發展報告》")
    clock.advance(timedelta(minutes=4, seconds=10))
    done = attempts.submit_attempt(reader, found.id)
    assert (done.score, done.correct_count, done.duration_seconds) == (5, 2, 250)
    assert attempts.submit_attempt(reader, found.id).score == 5  # handing in twice: the same


def test_bad_answers_are_refused_and_an_empty_one_clears(ctx, centre):
    found = make_round(centre)
    reader = make_user(library="JXUFE")
    attempts.start_attempt(reader, found.id)
    single = by_kind(found, "single")
    with pytest.raises(RuleViolation, match="Choose only one"):
        attempts.save_answer(reader, found.id, single.id, chosen=["0", "1"])
    with pytest.raises(RuleViolation, match="Choose one of the answers"):
        attempts.save_answer(reader, found.id, single.id, chosen=["9"])
    with pytest.raises(RuleViolation, match="At most 200"):
        attempts.save_answer(reader, found.id, by_kind(found, "text").id, text="长" * 201)
    other = make_round(centre)
    with pytest.raises(NotFound):
        attempts.save_answer(reader, found.id, other.questions[0].id, chosen=["1"])
    with pytest.raises(NotFound):  # someone else's attempt is not reachable
        attempts.save_answer(make_user(library="JXUFE"), found.id, single.id, chosen=["1"])
    attempts.save_answer(reader, found.id, single.id, chosen=["1"])
    mine = attempts.save_answer(reader, found.id, single.id, chosen=[])
    assert mine.answers == []


def test_answers_after_the_deadline_are_refused_and_the_attempt_is_handed_in(ctx, centre):
    found = make_round(centre, minutes=10)
    reader = make_user(library="JXUFE")
    started = attempts.start_attempt(reader, found.id)
    attempts.save_answer(reader, found.id, by_kind(found, "text").id, text="中国发展报告")
    clock.advance(timedelta(minutes=10))
    with pytest.raises(RuleViolation, match="Time is up") as refused:
        attempts.save_answer(reader, found.id, by_kind(found, "single").id, chosen=["1"])
    assert refused.value.status == 409
    mine = attempts.my_attempt(reader, found.id)
    assert mine.submitted_at == started.deadline and mine.score == 3
    assert mine.duration_seconds == 600


def test_the_deadline_never_passes_the_rounds_closing_time(ctx, centre):
    found = make_round(centre, minutes=60, hours=1, opens_in=-50)
    mine = attempts.start_attempt(make_user(library="JXUFE"), found.id)
    assert mine.deadline == found.closes_at


def test_closing_early_refuses_a_running_attempts_answers_and_hands_it_in_as_it_stood(
        ctx, centre):
    found = make_round(centre, minutes=30)
    reader = make_user(library="JXUFE")
    attempts.start_attempt(reader, found.id)
    attempts.save_answer(reader, found.id, by_kind(found, "text").id, text="中国发展报告")
    clock.advance(timedelta(minutes=2))
    closed_at = contest.close_round_now(centre, found.id).closes_at
    mine = db.session.execute(select(ContestAttempt).where(
        ContestAttempt.round_id == found.id)).scalar_one()
    assert mine.submitted_at == closed_at and mine.deadline == closed_at  # same transaction
    assert mine.score == 3 and mine.correct_count == 1 and mine.duration_seconds >= 120
    with pytest.raises(RuleViolation, match="submitted") as refused:
        attempts.save_answer(reader, found.id, by_kind(found, "single").id, chosen=["1"])
    assert refused.value.status == 409
    assert attempts.submit_attempt(reader, found.id).score == 3
    assert [(rank, a.score) for rank, a in leaderboard.people_board(found)] == [(1, 3)]


def test_an_attempt_started_as_the_round_closes_takes_no_answer_after_closing(ctx, centre):
    found = make_round(centre, minutes=30)
    reader = make_user(library="JXUFE")
    started = attempts.start_attempt(reader, found.id)
    found.closes_at = clock.now()  # closed by another transaction after this start
    db.session.flush()
    with pytest.raises(RuleViolation, match="round has closed") as refused:
        attempts.save_answer(reader, found.id, by_kind(found, "text").id, text="中国发展报告")
    assert refused.value.status == 409
    mine = attempts.my_attempt(reader, found.id)
    assert mine is started and mine.submitted_at == found.closes_at and mine.score == 0
    assert attempts.seconds_left(mine) == 0


def test_the_sweeper_hands_in_attempts_whose_time_is_up(ctx, centre):
    found = make_round(centre, minutes=5)
    readers = [make_user(library="JXUFE") for _ in range(2)]
    for reader in readers:
        attempts.start_attempt(reader, found.id)
    clock.advance(timedelta(minutes=6))
    assert attempts.finish_due_attempts() >= 2
    assert all(attempts.my_attempt(r, found.id).score == 0 for r in readers)


# --- leaderboards -----------------------------------------------------------------------------

def test_the_leaderboard_is_hidden_until_the_round_closes(ctx, centre):
    found = make_round(centre)
    with pytest.raises(RuleViolation, match="published when the round closes"):
        leaderboard.people_board(found)
    with pytest.raises(RuleViolation):
        leaderboard.review(found, None)


def _take(found, user, *, right, seconds):
    attempts.start_attempt(user, found.id)
    if right:
        answer_all_right(user, found)
    else:
        attempts.save_answer(user, found.id, by_kind(found, "text").id, text="中国发展报告")
    clock.advance(timedelta(seconds=seconds))
    attempts.submit_attempt(user, found.id)
    clock.advance(timedelta(seconds=-seconds))


def test_people_rank_by_points_then_shorter_time_and_libraries_by_their_best(ctx, centre):
    found = make_round(centre, top_n=2)
    fast = make_user(library="NCU", name="快")
    slow = make_user(library="JXUFE", name="慢")
    weak = make_user(library="JXUFE", name="弱")
    late = make_user(library="NCU", name="迟")
    _take(found, slow, right=True, seconds=300)
    _take(found, fast, right=True, seconds=100)
    _take(found, weak, right=False, seconds=50)
    attempts.start_attempt(late, found.id)  # never hands in: submitted when time is up
    clock.advance(timedelta(hours=3))
    people = leaderboard.people_board(found)
    assert [(rank, a.public_name, a.score) for rank, a in people] == [
        (1, "快**", 6), (2, "慢**", 6), (3, "弱**", 3), (4, "迟**", 0)]
    libraries = leaderboard.library_board(found)
    assert [(rank, row["library"].code, row["value"]) for rank, row in libraries] == [
        (1, "JXUFE", 4.5), (2, "NCU", 3.0)]
    found.ranking = "sum"
    assert [(r["library"].code, r["value"]) for _, r in leaderboard.library_board(found)] == [
        ("JXUFE", 9), ("NCU", 6)]


def test_after_closing_the_review_shows_right_answers_and_the_contestants(ctx, centre):
    found = make_round(centre)
    reader = make_user(library="JXUFE")
    _take(found, reader, right=False, seconds=30)
    clock.advance(timedelta(hours=3))
    items = leaderboard.review(found, attempts.my_attempt(reader, found.id))
    single, multiple, text = items
    assert single["right"] == ["江西人民出版社"] and single["given"] is None
    assert multiple["right"] == ["南昌大学图书馆", "江西财经大学图书馆"]
    assert text["given"] == "中国发展报告" and text["answer"].is_correct
    assert single["question"].hint_url == "/search?q=赣江流域水文志"
