"""The reader's emails: written to the outbox by each decision, sent over SMTP, in their
language, with the library's name (never its code) and the links they need."""
import pytest

from jala.errors import RuleViolation
from jala.extensions import db
from jala.jobs import send_outbox_email
from jala.procurement import lifecycle
from tests.support.factories import add_record
from tests.support.mail import emails_to


def sent_to(smtp, address):
    """Send every outbox email to ``address`` over SMTP; return what the server received."""
    for row in emails_to(address):
        assert send_outbox_email(row.id) == "sent"
    return [m for m in smtp.messages if m["To"] == address]


@pytest.fixture
def mailbox(smtp):
    smtp.clear()
    return smtp


def body_of(message):
    return message.get_body(("plain",)).get_content()


def test_ordered_in_chinese_by_default(mailbox, suggestion, reader, staff):
    lifecycle.order(staff["JXUFE"], suggestion.id)
    [message] = sent_to(mailbox, reader.email)
    assert message["Subject"] == "您荐购的图书已订购"
    body = body_of(message)
    assert "李小红" in body and "江西通史" in body and "江西财经大学图书馆" in body
    assert "JXUFE" not in body
    assert "/purchase/suggestions" in body
    html = message.get_body(("html",)).get_content()
    assert '<a href="http' in html


def test_declined_with_the_reason(mailbox, suggestion, reader, staff):
    lifecycle.decline(staff["JXUFE"], suggestion.id, "已绝版")
    [message] = sent_to(mailbox, reader.email)
    assert message["Subject"] == "您的荐购未被采纳"
    assert "已绝版" in body_of(message)


def test_available_with_the_record_in_the_readers_language(mailbox, suggestion, reader, staff):
    reader.locale = "en"
    db.session.flush()
    record = add_record("mail-arrived", ["JXUFE"], title="江西通史")
    record_id = record.id
    lifecycle.receive(staff["JXUFE"], suggestion.id, str(record_id))
    [message] = sent_to(mailbox, reader.email)
    assert message["Subject"] == "The book you suggested is available"
    body = body_of(message)
    assert "Jiangxi University of Finance and Economics Library" in body
    assert f"/records/{record_id}" in body and "/purchase/suggestions" in body


def test_available_without_a_record_has_no_record_link(mailbox, suggestion, reader, staff):
    lifecycle.receive(staff["JXUFE"], suggestion.id)
    [message] = sent_to(mailbox, reader.email)
    assert "/records/" not in body_of(message)


def test_a_refused_step_sends_nothing(mailbox, suggestion, reader, staff):
    with pytest.raises(RuleViolation):
        lifecycle.decline(staff["JXUFE"], suggestion.id, "")
    assert emails_to(reader.email) == [] and mailbox.messages == []
