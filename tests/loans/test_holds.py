"""Holds at the reader's home library: placing, ready (with the expiry timer), collected."""
from datetime import timedelta

import pytest

from jala import clock
from jala.errors import NotFound, RuleViolation
from jala.jobs import _sweep_tasks
from jala.loans import holds
from tests.support.factories import add_record, copy_at, make_user, set_setting
from tests.support.mail import emails_to


@pytest.fixture
def book(ctx):
    return add_record("hold-book", ["JXUFE", "NCU"], title="庐山植物志")


@pytest.fixture
def hold(reader, staff, book):
    return holds.place_hold(reader, copy_at(book, "JXUFE").id)


def test_a_reader_places_a_hold_at_the_home_library(reader, book, hold):
    assert hold.status == "placed" and hold.library.code == "JXUFE"
    assert hold.record_id == book.id
    with pytest.raises(RuleViolation, match="already have a hold on this title"):
        holds.place_hold(reader, copy_at(book, "JXUFE").id)


def test_a_copy_at_another_library_is_for_interlibrary_loan(reader, book):
    with pytest.raises(RuleViolation, match="interlibrary loan"):
        holds.place_hold(reader, copy_at(book, "NCU").id)


def test_unverified_readers_cannot_place_holds(ctx, book):
    with pytest.raises(RuleViolation, match="not been verified"):
        holds.place_hold(make_user(library="JXUFE", verified=False), copy_at(book, "JXUFE").id)


def test_holds_per_reader_are_limited(reader, staff):
    set_setting("loans.holds_per_reader", 1)
    first = add_record("hold-l1", ["JXUFE"])
    holds.place_hold(reader, copy_at(first, "JXUFE").id)
    second = add_record("hold-l2", ["JXUFE"])
    with pytest.raises(RuleViolation, match="You have 1 holds, the limit"):
        holds.place_hold(reader, copy_at(second, "JXUFE").id)


def test_ready_holds_expire_after_the_set_days(reader, staff, hold):
    ready = holds.mark_ready(staff["JXUFE"], hold.id)
    assert ready.status == "ready"
    assert ready.expires_at == ready.ready_at + timedelta(days=7)
    [mail] = emails_to(reader.email)
    assert mail.kind == "loans.hold_ready" and "庐山植物志" in mail.body_text
    clock.advance(timedelta(days=6, hours=23))
    holds.expire_ready_holds()
    assert hold.status == "ready"
    clock.advance(timedelta(hours=2))
    holds.expire_ready_holds()
    assert hold.status == "expired" and hold.closed_at is not None and hold.expires_at is None
    assert emails_to(reader.email)[-1].kind == "loans.hold_expired"
    # an expired hold frees the title for a new one
    assert holds.place_hold(reader, hold.holding_id).status == "placed"


def test_a_collected_hold_does_not_expire(reader, staff, hold):
    holds.mark_ready(staff["JXUFE"], hold.id)
    assert holds.mark_collected(staff["JXUFE"], hold.id).status == "collected"
    clock.advance(timedelta(days=8))
    holds.expire_ready_holds()
    assert hold.status == "collected"
    with pytest.raises(RuleViolation, match="already collected"):
        holds.mark_ready(staff["JXUFE"], hold.id)


def test_only_the_home_librarys_staff_work_its_holds(reader, staff, hold):
    with pytest.raises(NotFound):
        holds.mark_ready(staff["NCU"], hold.id)
    with pytest.raises(NotFound):
        holds.cancel_hold(make_user(library="JXUFE"), hold.id)
    assert hold.status == "placed"


def test_the_reader_or_the_staff_cancel_and_only_staff_cancelling_emails(reader, staff, book,
                                                                         hold):
    assert holds.cancel_hold(reader, hold.id).status == "cancelled"
    assert emails_to(reader.email) == []
    second = holds.place_hold(reader, copy_at(book, "JXUFE").id)
    holds.cancel_hold(staff["JXUFE"], second.id)
    assert emails_to(reader.email)[-1].kind == "loans.hold_cancelled"
    with pytest.raises(RuleViolation, match="already cancelled"):
        holds.cancel_hold(reader, second.id)


def test_the_expiry_runs_in_the_sweeper():
    assert holds.expire_ready_holds in _sweep_tasks
