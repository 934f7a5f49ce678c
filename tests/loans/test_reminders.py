"""Due-date reminders and overdue notices: move the clock, run the sweep task, read the mail."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.extensions import db
from jala.jobs import OutboxEmail, _sweep_tasks
from jala.loans import cards, ill, reminders, union
from jala.membership import get_library
from tests.support.factories import add_record, copy_at, set_setting


def kinds_to(address):
    return db.session.execute(
        select(OutboxEmail.kind).where(OutboxEmail.to_addr == address,
                                       OutboxEmail.kind.like("loans.%er%"))
        .order_by(OutboxEmail.id)
    ).scalars().all()


def notices(address, kind):
    return db.session.execute(
        select(OutboxEmail).where(OutboxEmail.to_addr == address, OutboxEmail.kind == kind)
        .order_by(OutboxEmail.id)).scalars().all()


@pytest.fixture
def ill_loan(reader, staff):
    record = add_record("remind-ill", ["NCU"], title="滕王阁序注")
    req = ill.request_loan(reader, copy_at(record, "NCU").id)
    for action, who in (("approve", "NCU"), ("ship", "NCU"), ("receive", "JXUFE"),
                        ("lend", "JXUFE")):
        ill.step(staff[who], req.id, action)
    return req


@pytest.fixture
def union_loan(reader, staff):
    card = cards.approve_card(staff["JXUFE"], cards.apply_for_card(reader).id)
    return union.lend(staff["NCU"], get_library("NCU").id, card_code=card.code,
                      item_barcode="R-1")


def days_until(due_on):
    return (due_on - clock.local_today()).days


def test_an_interlibrary_loan_is_reminded_then_noticed_as_overdue(reader, ill_loan):
    reader.locale = "en"  # timer emails follow the reader's own language
    set_setting("loans.overdue_notices", 2)
    assert days_until(ill_loan.due_on) == 30
    clock.advance(timedelta(days=26))  # the reminder is due 3 days before, at 09:00
    reminders.remind_interlibrary_loans()
    assert notices(reader.email, "loans.ill_reminder") == []
    clock.advance(timedelta(days=1, hours=12))
    reminders.remind_interlibrary_loans()
    [reminder] = notices(reader.email, "loans.ill_reminder")
    assert ill_loan.due_on.isoformat() in reminder.subject and "滕王阁序注" in reminder.body_text
    reminders.remind_interlibrary_loans()  # once only
    assert len(notices(reader.email, "loans.ill_reminder")) == 1

    clock.advance(timedelta(days=4))  # past the due date
    reminders.remind_interlibrary_loans()
    [first] = notices(reader.email, "loans.ill_overdue")
    assert "notice 1" in first.body_text and ill_loan.overdue_notices == 1
    reminders.remind_interlibrary_loans()
    assert len(notices(reader.email, "loans.ill_overdue")) == 1
    clock.advance(timedelta(days=7, minutes=1))
    reminders.remind_interlibrary_loans()
    assert len(notices(reader.email, "loans.ill_overdue")) == 2
    assert ill_loan.overdue_notices == 2 and ill_loan.remind_at is None  # the last one
    clock.advance(timedelta(days=30))
    reminders.remind_interlibrary_loans()
    assert len(notices(reader.email, "loans.ill_overdue")) == 2


def test_a_returned_loan_gets_no_more_notices(reader, staff, ill_loan):
    ill.mark_returned(staff["JXUFE"], ill_loan.id)
    clock.advance(timedelta(days=40))
    reminders.remind_interlibrary_loans()
    assert kinds_to(reader.email) == []


def test_a_renewal_moves_the_reminder(reader, ill_loan):
    first = ill_loan.remind_at
    ill.renew(reader, ill_loan.id)
    assert ill_loan.remind_at == first + timedelta(days=14)


def test_a_union_loan_is_reminded_and_noticed_too(reader, union_loan):
    reader.locale = "en"
    clock.advance(timedelta(days=28))
    reminders.remind_union_loans()
    [reminder] = notices(reader.email, "loans.union_reminder")
    assert "R-1" in reminder.body_text and "any member library" in reminder.body_text
    clock.advance(timedelta(days=4))  # the day after the due date, whatever the hour
    reminders.remind_union_loans()
    [overdue] = notices(reader.email, "loans.union_overdue")
    assert union_loan.due_on.isoformat() in overdue.subject
    assert union_loan.overdue_notices == 1


def test_a_late_sweep_skips_the_reminder_and_sends_the_overdue_notice(reader, union_loan):
    clock.advance(timedelta(days=35))
    reminders.remind_union_loans()
    assert kinds_to(reader.email) == ["loans.union_overdue"]


def test_a_short_loan_gets_no_reminder_right_after_it_starts(reader, staff):
    set_setting("loans.union_loan_days", 2)
    card = cards.approve_card(staff["JXUFE"], cards.apply_for_card(reader).id)
    loan = union.lend(staff["NCU"], get_library("NCU").id, card_code=card.code,
                      item_barcode="R-2")
    assert loan.remind_at.astimezone(clock.SHANGHAI).date() == loan.due_on + timedelta(days=1)
    reminders.remind_union_loans()
    assert kinds_to(reader.email) == []


def test_the_reminders_run_in_the_sweeper():
    assert reminders.remind_interlibrary_loans in _sweep_tasks
    assert reminders.remind_union_loans in _sweep_tasks
