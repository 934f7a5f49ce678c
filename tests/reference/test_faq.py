"""The FAQ: anonymised drafts, publishing, and search with the catalogue's tokens."""
import pytest
from sqlalchemy import select, text

from jala.audit import AuditEntry
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.reference import faq
from jala.reference import services as reference
from tests.support.factories import make_user

QUESTION = "本科生可以通过馆际互借借阅南昌大学图书馆的图书吗？"
ANSWER = ("可以。登录门户后，在“馆际互借”页面填写书名和索书号，提交申请；"
          "书到馆后会有邮件通知，请凭校园卡到本馆流通台取书。")


@pytest.fixture
def answered(reader, group):
    """A question with its answer, not yet in the FAQ."""
    question = reference.ask_question(
        reader, subject="馆际互借",
        body=f"老师好，我是李小红（{reader.email}，证号 {reader.card_number}，电话 13812345678）。"
             f"{QUESTION}")
    reference.answer_question(group["ncu"], question.id,
                              f"李小红同学你好：{ANSWER}如有问题请写信给 ill@ncu.edu.cn。")
    return question


def publish(question, librarian, q=QUESTION, a=ANSWER):
    return faq.publish(librarian, question.id, q, a)


def test_the_draft_leaves_out_who_asked(answered, reader, group):
    draft_q, draft_a = faq.draft(group["ecjtu"], answered.id)
    for secret in ("李小红", reader.email, reader.card_number, "13812345678"):
        assert secret not in draft_q and secret not in draft_a
    assert draft_q.startswith("馆际互借\n\n老师好，我是***（***，证号 ***，电话 ***）。")
    assert QUESTION in draft_q
    assert ANSWER in draft_a
    assert "ill@ncu.edu.cn" not in draft_a  # any address, in the draft: the librarian decides


def test_publishing_strips_the_askers_details_again(answered, reader, group):
    publish(answered, group["ecjtu"], q=f"{reader.display_name}问：{QUESTION}",
            a=f"{ANSWER}（读者证 {reader.card_number.lower()}）请写信给 ill@ncu.edu.cn。")
    assert reader.display_name not in answered.faq_question
    assert answered.faq_question == f"***问：{QUESTION}"
    assert reader.card_number not in answered.faq_answer.upper()
    assert "ill@ncu.edu.cn" in answered.faq_answer  # the library's own address may stay
    assert answered.faq_published_at is not None
    assert db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "reference_question",
        AuditEntry.object_id == str(answered.id))).scalars().all()[-1] == "reference.faq_publish"


def test_only_answered_questions_by_the_group_are_published(reader, group, answered):
    unanswered = reference.ask_question(reader, subject="还没回答", body="问题")
    with pytest.raises(RuleViolation, match="Only answered questions"):
        publish(unanswered, group["ncu"])
    with pytest.raises(NotAllowed):
        publish(answered, group["outsider"])
    with pytest.raises(NotAllowed):
        publish(answered, reader)
    with pytest.raises(RuleViolation, match="Write the answer"):
        publish(answered, group["ncu"], a="   ")


def titles(query):
    return [hit.entry.id for hit in faq.search(query).hits]


def test_search_finds_a_published_answer_by_a_chinese_fragment(answered, group):
    assert answered.id not in titles("借阅南昌")  # not published yet
    publish(answered, group["ncu"])
    assert answered.id in titles("借阅南昌")
    assert answered.id in titles("流通台取书")  # in the answer
    assert answered.id not in titles("考研真题")


def test_search_finds_it_by_traditional_characters(answered, group):
    publish(answered, group["ncu"])
    assert answered.id in titles("館際互借")
    assert answered.id in titles("南昌大學圖書館")


def test_search_finds_it_by_pinyin(answered, group):
    publish(answered, group["ncu"])
    assert answered.id in titles("guanji hujie")
    assert answered.id in titles("nanchang daxue")


def test_results_mark_the_match_in_question_and_answer(answered, group):
    publish(answered, group["ncu"])
    [hit] = [h for h in faq.search("館際互借").hits if h.entry.id == answered.id]
    assert "<mark>馆际互借</mark>" in str(hit.question_html)
    assert "<mark>馆际互借</mark>" in str(hit.excerpt_html)


def test_the_question_weighs_more_than_the_answer(reader, group):
    in_answer = reference.ask_question(reader, subject="问", body="如何续借？")
    reference.answer_question(group["ncu"], in_answer.id, "答")
    in_question = reference.ask_question(reader, subject="问", body="如何找学位论文？")
    reference.answer_question(group["ncu"], in_question.id, "答")
    faq.publish(group["ncu"], in_answer.id, "图书能续借几次？", "学位论文可在本馆借阅，不外借。")
    faq.publish(group["ncu"], in_question.id, "学位论文在哪里查？", "在学位论文数据库中检索。")
    ids = titles("学位论文")
    assert ids.index(in_question.id) < ids.index(in_answer.id)


def test_the_vector_is_the_catalogues_tokens(answered, group):
    publish(answered, group["ncu"])
    vector = db.session.execute(text(
        "SELECT faq_vector::text FROM reference_questions WHERE id = :i"), {"i": answered.id}
    ).scalar_one()
    assert "'馆际':" in vector and "'~guanji':" in vector


def test_unpublished_entries_are_gone_from_search_and_page(answered, group):
    publish(answered, group["ncu"])
    assert faq.get_entry(answered.id) is answered
    faq.unpublish(group["ecjtu"], answered.id)
    assert answered.id not in titles("馆际互借")
    with pytest.raises(NotFound):
        faq.get_entry(answered.id)
    # the text is kept: publishing again starts from it
    assert faq.draft(group["ncu"], answered.id) == (QUESTION, ANSWER)


def test_an_empty_query_lists_the_newest_entries(answered, group):
    publish(answered, group["ncu"])
    results = faq.search("")
    assert results.hits[0].entry.id == answered.id and results.total >= 1


def test_hostile_queries_do_not_break_the_search(answered, group):
    publish(answered, group["ncu"])
    for query in ("'", "\\", "a & | !", "title:", '"', "-", "::*", "<script>", "!!!"):
        faq.search(query)
    assert faq.search("!!!").total == 0


def test_a_reader_cannot_see_a_draft(answered):
    with pytest.raises(NotAllowed):
        faq.draft(make_user(library="JXUFE"), answered.id)
