"""Search contest pages over HTTP: taking a round (full pages and HTMX), the server's timer,
one attempt, leaderboards at closing, organisers' forms, escaping, CSRF."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.audit import AuditEntry
from jala.community.contest import attempts
from jala.community.contest.models import ContestRound
from jala.extensions import db
from tests.community.test_contest_services import QUESTIONS, by_kind, make_round
from tests.support.factories import make_portal_admin, make_user
from tests.support.web import HTMX, as_user, other_client, post_form


@pytest.fixture
def centre(ctx):
    return make_portal_admin()


@pytest.fixture
def official(centre):
    return make_round(centre, hours=1)


def start(client, found, name=""):
    return post_form(client, f"/contest/{found.id}/start", {"public_name": name},
                     token_from=f"/contest/{found.id}")


def answer(client, found, question, *, n=1, go="next", headers=None, **values):
    data = {"question": str(question.id), "go": go, **values}
    return post_form(client, f"/contest/{found.id}/attempt?n={n}", data,
                     token_from="/contest", headers=headers or {})


# --- looking and starting -------------------------------------------------------------------------

def test_a_visitor_sees_the_rounds_and_is_asked_to_log_in_to_take_part(client, official):
    listing = client.get("/contest").get_data(as_text=True)
    assert f"/contest/{official.id}" in listing and "馆藏检索赛" in listing
    page = client.get(f"/contest/{official.id}")
    assert page.status_code == 200 and "/login" in page.get_data(as_text=True)
    response = client.post(f"/contest/{official.id}/start")
    assert response.status_code in (302, 400)


def test_a_draft_round_does_not_exist_for_readers(client, centre, reader):
    draft = make_round(centre, publish=False)
    as_user(client, reader)
    assert client.get(f"/contest/{draft.id}").status_code == 404
    assert client.get(f"/contest/{draft.id}/edit").status_code == 404


def test_a_reader_starts_and_gets_one_question_a_screen_without_the_answers(client, official,
                                                                             reader):
    as_user(client, reader)
    response = start(client, official, "检索达人")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/contest/{official.id}/attempt")
    page = client.get(f"/contest/{official.id}/attempt").get_data(as_text=True)
    assert "Question 1 of 3" in page and re.search(r'data-countdown="(1800|179\d)"', page)
    everything = "".join(client.get(f"/contest/{official.id}/attempt?n={n}")
                         .get_data(as_text=True) for n in (1, 2, 3))
    assert "中国发展报告" not in everything  # the accepted text answer never leaves the server
    assert "correct" not in everything.lower()
    # a reload, or another tab's start, lands on the same attempt and the same order
    again = start(client, official)
    assert again.status_code == 303
    assert re.findall(r'name="question" value="\d+"', client.get(
        f"/contest/{official.id}/attempt").get_data(as_text=True)) == re.findall(
        r'name="question" value="\d+"', page)


def test_answering_with_htmx_saves_and_swaps_in_the_next_question(client, official, reader):
    as_user(client, reader)
    start(client, official)
    mine = attempts.my_attempt(reader, official.id)
    first, second = attempts.attempt_questions(mine)[:2]
    values = ({"text": "中国发展报告"} if first.kind == "text"
              else {"choice": [str(i) for i in first.correct]})
    response = answer(client, official, first, headers=HTMX, **values)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert fragment.strip().startswith('<section class="card contest-attempt"')
    assert "Question 2 of 3" in fragment and f'value="{second.id}"' in fragment
    assert response.headers["HX-Push-Url"].endswith(f"/contest/{official.id}/attempt?n=2")
    # without JavaScript the same form redirects to the next screen
    plain = answer(client, official, second, n=2, choice=[], text="")
    assert plain.status_code == 303 and plain.headers["Location"].endswith("?n=3")
    db.session.expire_all()
    assert {a.question_id for a in attempts.my_attempt(reader, official.id).answers} == {
        first.id}


def test_handing_in_shows_only_your_own_score_until_the_round_closes(client, official, reader):
    as_user(client, reader)
    start(client, official)
    text = by_kind(official, "text")
    answer(client, official, text, text="《中國發展報告》")
    response = answer(client, official, by_kind(official, "single"), go="submit", choice=["1"])
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "5 of 6 points" in page and 'id="people-board"' not in page
    assert "江西人民出版社" not in re.sub(r'<section class="card" id="contest-round".*?</section>',
                                     "", page, flags=re.S) or "Right answer" not in page
    assert "Right answer" not in page
    other = other_client(client, make_user(library="JXUFE"))
    assert "5 of 6 points" not in other.get(f"/contest/{official.id}").get_data(as_text=True)


def test_a_second_attempt_at_an_official_round_is_refused(client, official, reader):
    as_user(client, reader)
    start(client, official)
    post_form(client, f"/contest/{official.id}/submit", {}, token_from="/contest")
    again = start(client, official)
    assert again.status_code == 409
    assert "one attempt" in again.get_data(as_text=True)
    assert client.get(f"/contest/{official.id}/attempt").status_code == 303


def test_answers_after_the_deadline_are_refused_and_the_score_stands(client, centre, reader):
    found = make_round(centre, minutes=5)
    as_user(client, reader)
    start(client, found)
    answer(client, found, by_kind(found, "text"), text="中国发展报告")
    clock.advance(timedelta(minutes=5, seconds=1))
    late = answer(client, found, by_kind(found, "single"), choice=["1"])
    assert late.status_code == 409 and "Time is up" in late.get_data(as_text=True)
    htmx_late = answer(client, found, by_kind(found, "single"), headers=HTMX, choice=["1"])
    assert htmx_late.headers["HX-Redirect"].endswith(f"/contest/{found.id}")
    page = client.get(f"/contest/{found.id}").get_data(as_text=True)
    assert "3 of 6 points" in page


def test_closing_early_hands_in_a_running_attempt_and_refuses_its_next_answer(
        client, centre, official, reader):
    as_user(client, reader)
    start(client, official)
    answer(client, official, by_kind(official, "text"), text="中国发展报告")
    organiser = other_client(client, centre)
    closed = post_form(organiser, f"/contest/{official.id}/close", {},
                       token_from=f"/contest/{official.id}/edit")
    assert closed.status_code == 303
    late = answer(client, official, by_kind(official, "single"), choice=["1"])
    assert late.status_code == 409 and "submitted" in late.get_data(as_text=True)
    page = client.get(f"/contest/{official.id}").get_data(as_text=True)
    assert "3 of 6 points" in page and 'id="people-board"' in page
    assert client.get(f"/contest/{official.id}/attempt").status_code == 303


def test_the_start_limit_counts_per_reader_not_per_address(client, centre, official, reader):
    as_user(client, reader)
    assert all(start(client, official).status_code == 303 for _ in range(30))
    assert start(client, official).status_code == 429
    neighbour = other_client(client, make_user(library="JXUFE"))  # the same lab, the same IP
    assert start(neighbour, official).status_code == 303


def test_after_closing_the_leaderboards_and_answers_are_published_without_emails(
        client, official, reader):
    as_user(client, reader)
    start(client, official, "赣水书虫")
    answer(client, official, by_kind(official, "text"), go="submit", text="中国发展报告")
    clock.advance(timedelta(minutes=61))  # closed (and still signed in)
    page = client.get(f"/contest/{official.id}").get_data(as_text=True)
    assert 'id="people-board"' in page and "赣水书虫" in page
    public = client.application.test_client().get(f"/contest/{official.id}").get_data(
        as_text=True)
    assert "赣水书虫" in public
    assert reader.email not in public and reader.display_name not in public
    assert "average points of their best 5 contestants" in page
    assert "江西人民出版社" in page and "/search?q=" in page  # the answers and the hints


def test_html_and_script_in_questions_answers_and_names_are_neutralised(client, centre,
                                                                         reader):
    found = make_round(centre, hours=1, questions=[
        {**QUESTIONS[2], "prompt": "<script>alert('q')</script>**题名**<img src=x onerror=a()>"}])
    as_user(client, reader)
    assert start(client, found, "<b onclick=x()>名</b>").status_code == 303
    page = client.get(f"/contest/{found.id}/attempt").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "<strong>题名</strong>" in page and "&lt;script&gt;" in page
    answer(client, found, found.questions[0], go="submit",
           text="<script>alert('a')</script>")
    clock.advance(timedelta(minutes=61))  # closed (and still signed in)
    closed = client.get(f"/contest/{found.id}").get_data(as_text=True)
    assert "<script>alert" not in closed and "<b onclick" not in closed
    assert "&lt;b onclick=x()&gt;名&lt;/b&gt;" in closed
    assert "&lt;script&gt;alert(&#39;a&#39;)&lt;/script&gt;" in closed


def test_answering_without_the_csrf_token_is_refused(client, official, reader):
    as_user(client, reader)
    start(client, official)
    response = client.post(f"/contest/{official.id}/attempt",
                           data={"question": str(official.questions[0].id), "choice": "1"})
    assert response.status_code == 400


def test_answering_a_round_you_have_not_started_is_not_found(client, official, reader):
    as_user(client, reader)
    response = answer(client, official, official.questions[0], choice=["1"])
    assert response.status_code == 404


# --- organising -------------------------------------------------------------------------------

def test_a_centre_admin_writes_publishes_and_closes_a_round_through_the_forms(client, centre):
    as_user(client, centre)
    assert client.get("/contest/manage").status_code == 200
    response = post_form(client, "/contest/new", {
        "library": "", "title": "2026年搜索大赛", "description": "规则见下。", "kind": "official",
        "opens_at": "2026-01-01T09:00", "closes_at": "2099-01-01T09:00",
        "time_limit_minutes": "20", "ranking": "sum", "top_n": "3"}, token_from="/contest/new")
    assert response.status_code == 303
    found = db.session.execute(select(ContestRound).where(
        ContestRound.title == "2026年搜索大赛")).scalar_one()
    assert found.library_id is None and found.ranking == "sum"
    assert found.opens_at.isoformat() == "2026-01-01T01:00:00+00:00"  # Beijing time
    edit = f"/contest/{found.id}/edit"
    added = post_form(client, f"/contest/{found.id}/questions", {
        "kind": "multiple", "prompt": "哪些馆收藏？",
        "choices": "*南昌大学\n九江学院\n＊江西财经大学",
        "accepted": "", "points": "2", "hint_url": "/search?q=水文志"}, token_from=edit)
    assert added.status_code == 303
    db.session.refresh(found)
    [question] = found.questions
    assert question.choices == ["南昌大学", "九江学院", "江西财经大学"]
    assert question.correct == [0, 2]
    bad = post_form(client, f"/contest/{found.id}/questions", {
        "kind": "single", "prompt": "?", "choices": "a\nb", "points": "1"}, token_from=edit)
    assert bad.status_code == 400 and "Mark the right choice" in bad.get_data(as_text=True)
    assert post_form(client, f"/contest/{found.id}/publish", {}, token_from=edit
                     ).status_code == 303
    assert post_form(client, f"/contest/{found.id}/close", {}, token_from=edit
                     ).status_code == 303
    actions = db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_id == str(found.id), AuditEntry.object_type == "contest_round")
        .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["contest.round.create", "contest.question.add", "contest.round.publish",
                       "contest.round.close"]


def test_readers_and_other_libraries_staff_cannot_organise(client, centre, reader):
    found = make_round(centre, publish=False)
    as_user(client, reader)
    assert client.get("/contest/new").status_code == 403
    librarian = other_client(client, make_user(library="JXUFE", roles=("librarian",)))
    assert librarian.get(f"/contest/{found.id}/edit").status_code == 404
    response = post_form(librarian, f"/contest/{found.id}/questions",
                         {"kind": "text", "prompt": "x", "accepted": "y", "points": "1"},
                         token_from="/contest")
    assert response.status_code == 404
    assert librarian.get("/contest/new").status_code == 200  # their own library's rounds


# --- words, not codes: dates and the empty question list ------------------------------------------

def test_a_round_not_open_yet_says_when_it_opens_as_a_chinese_date_not_iso(client, centre,
                                                                          reader):
    found = make_round(centre, opens_in=3 * 24 * 60)
    as_user(client, reader)
    post_form(client, "/language", {"lang": "zh_Hans"})
    page = client.get(f"/contest/{found.id}").get_data(as_text=True)
    local = found.opens_at.astimezone(clock.SHANGHAI)
    words = f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    assert f"本场比赛将于{words}开始" in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)


def test_a_draft_without_questions_says_to_add_them_not_the_reference_desks_words(client,
                                                                                 centre):
    draft = make_round(centre, publish=False, questions=[])
    as_user(client, centre)
    post_form(client, "/language", {"lang": "zh_Hans"})
    page = client.get(f"/contest/{draft.id}/edit").get_data(as_text=True)
    assert "还没有题目，请在下方添加。" in page and "还没有咨询" not in page
