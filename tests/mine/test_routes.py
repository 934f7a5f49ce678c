"""我的: the reader's own home."""
from jala.delivery.services import submit_request
from jala.extensions import db
from jala.mine.services import recent_notices
from jala.reading.lists import create_list
from jala.reference.models import QuestionMessage
from jala.reference.services import ask_question
from tests.support.factories import add_record, make_user
from tests.support.web import login


def test_mine_asks_who_you_are_first(client):
    response = client.get("/me")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_mine_shows_the_readers_requests_questions_and_lists(client, db_session):
    reader = make_user(library="JXUFE")
    record = add_record("mine-1", ["NCU"], title="高校图书馆联盟的资源共享研究",
                        type="article", journal="图书馆论坛", year=2020)
    submit_request(reader, kind="article", title=record.title, record_id=record.id)
    ask_question(reader, subject="如何借阅外校图书？", body="需要办理什么手续？")
    create_list(reader, "毕业论文")
    db_session.flush()
    assert login(client, reader).status_code == 303
    html = client.get("/me").get_data(as_text=True)
    assert "高校图书馆联盟的资源共享研究" in html
    assert "如何借阅外校图书？" in html
    assert "毕业论文" in html
    assert "江西财经大学图书馆" in html
    assert 'aria-current="page"' in html and "/me" in html


def test_mine_never_shows_another_readers_things(client, db_session):
    owner, other = make_user(library="JXUFE"), make_user(library="NCU")
    ask_question(owner, subject="只属于我的问题", body="内容")
    db_session.flush()
    assert login(client, other).status_code == 303
    assert "只属于我的问题" not in client.get("/me").get_data(as_text=True)


def test_a_librarians_reply_is_a_notice_but_the_readers_own_message_is_not(db_session):
    reader, librarian = make_user(library="JXUFE"), make_user(library="NCU")
    question = ask_question(reader, subject="馆藏查询", body="有这本书吗？")
    db.session.add(QuestionMessage(question_id=question.id, author_id=librarian.id,
                                   body="有的，在三楼。"))
    db_session.flush()
    notices = recent_notices(reader)
    assert [(n.kind, n.about.id) for n in notices] == [("reply", question.id)]
