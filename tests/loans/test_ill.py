"""Interlibrary loan rules, without HTTP: asking, every step, the transition table, limits."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from jala import clock
from jala.audit import AuditEntry
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.loans import ill
from jala.loans.models import ILL_STATUSES, IllEvent, IllRequest
from jala.membership import get_library
from tests.support.factories import add_record, copy_at, make_user, set_setting
from tests.support.mail import emails_to


def count(model, *where):
    return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.fixture
def book(ctx):
    """A book held by NCU and ECJTU (not by the reader's library, JXUFE)."""
    return add_record("ill-book", ["NCU", "ECJTU"], title="赣鄱文化研究")


@pytest.fixture
def loan(reader, staff, book):
    """A request from the JXUFE reader for NCU's copy."""
    return ill.request_loan(reader, copy_at(book, "NCU").id, note="for my thesis")


def actor_for(party, reader, staff):
    return {ill.READER: reader, ill.LENDER: staff["NCU"], ill.HOME: staff["JXUFE"]}[party]


# --- asking -------------------------------------------------------------------------------------

def test_a_reader_requests_a_copy_of_another_library(reader, staff, book):
    req = ill.request_loan(reader, copy_at(book, "NCU").id, note=" for my thesis ")
    assert req.status == "requested"
    assert req.lending_library.code == "NCU" and req.home_library.code == "JXUFE"
    assert req.record_id == book.id and req.note == "for my thesis"
    [event] = req.events
    assert (event.from_status, event.to_status, event.actor_id) == (None, "requested", reader.id)


@pytest.mark.parametrize("who, message", [
    ("public", "Public users cannot borrow"),
    ("unverified", "has not been verified yet"),
    ("withdrawn", "has left the alliance"),
])
def test_only_verified_readers_of_member_libraries_may_ask(ctx, staff, book, who, message):
    if who == "public":
        user = make_user(library=None)
    elif who == "unverified":
        user = make_user(library="JXUFE", verified=False)
    else:
        user = make_user(library="JXAU")
        get_library("JXAU").left_on = clock.local_today()
        db.session.flush()
    with pytest.raises(RuleViolation, match=message):
        ill.request_loan(user, copy_at(book, "NCU").id)
    assert count(IllRequest, IllRequest.reader_id == user.id) == 0


def test_a_copy_at_the_readers_own_library_is_a_hold_not_an_ill(ctx, staff):
    record = add_record("ill-own", ["JXUFE", "NCU"])
    reader = make_user(library="JXUFE")
    with pytest.raises(RuleViolation, match="place a hold"):
        ill.request_loan(reader, copy_at(record, "JXUFE").id)


def test_a_withdrawn_library_lends_no_more(reader, staff, book):
    get_library("ECJTU").left_on = clock.local_today() - timedelta(days=1)
    db.session.flush()
    with pytest.raises(RuleViolation,
                       match="East China Jiaotong University Library has left the alliance"):
        ill.request_loan(reader, copy_at(book, "ECJTU").id)


def test_a_copy_already_requested_cannot_be_requested_again(reader, staff, book, loan):
    other = make_user(library="JXAU")
    with pytest.raises(RuleViolation, match="already requested by another reader"):
        ill.request_loan(other, copy_at(book, "NCU").id)
    with pytest.raises(RuleViolation, match="You have already requested this copy"):
        ill.request_loan(reader, copy_at(book, "NCU").id)
    # another library's copy of the same book is free
    assert ill.request_loan(other, copy_at(book, "ECJTU").id).status == "requested"


def test_the_unique_index_is_turned_into_the_same_clear_message(reader, staff, book, loan,
                                                                monkeypatch):
    # as if a concurrent request had slipped past the check: the index refuses it
    monkeypatch.setattr(ill, "ILL_OPEN", ())
    with pytest.raises(RuleViolation, match="already requested by another reader") as info:
        ill.request_loan(make_user(library="JXAU"), copy_at(book, "NCU").id)
    assert info.value.status == 409
    assert count(IllRequest, IllRequest.holding_id == copy_at(book, "NCU").id) == 1


def test_a_copy_can_be_asked_for_again_once_the_loan_is_over(reader, staff, book, loan):
    ill.refuse(staff["NCU"], loan.id, "being repaired")
    again = ill.request_loan(make_user(library="JXAU"), copy_at(book, "NCU").id)
    assert again.status == "requested"


def test_open_requests_per_reader_are_limited(reader, staff):
    set_setting("loans.ill_open_per_reader", 2)
    for n in range(2):
        record = add_record(f"ill-limit-{n}", ["NCU"])
        ill.request_loan(reader, copy_at(record, "NCU").id)
    record = add_record("ill-limit-x", ["NCU"])
    with pytest.raises(RuleViolation, match="You have 2 interlibrary loans open, the limit"):
        ill.request_loan(reader, copy_at(record, "NCU").id)


def test_open_loans_per_lending_library_are_limited(reader, staff):
    before = ill.open_count(lending_library_id=get_library("NCU").id)
    set_setting("loans.ill_open_per_library", before + 1)
    first = add_record("ill-lib-1", ["NCU"])
    ill.request_loan(make_user(library="JXAU"), copy_at(first, "NCU").id)
    second = add_record("ill-lib-2", ["NCU", "ECJTU"])
    with pytest.raises(RuleViolation,
                       match="Nanchang University Library cannot take more interlibrary loans"):
        ill.request_loan(reader, copy_at(second, "NCU").id)
    assert ill.request_loan(reader, copy_at(second, "ECJTU").id).status == "requested"


# --- the whole journey ------------------------------------------------------------------------

def test_the_full_lifecycle_with_events_emails_and_audit(reader, staff, loan):
    lender, home = staff["NCU"], staff["JXUFE"]
    assert ill.approve(lender, loan.id).status == "approved"
    assert ill.ship(lender, loan.id, note="EMS 1234").status == "shipped"
    assert ill.receive(home, loan.id).status == "received"
    req = ill.lend(home, loan.id)
    assert req.status == "on_loan"
    assert req.due_on == clock.local_today() + timedelta(days=30)
    assert req.remind_at is not None
    assert ill.mark_returned(home, loan.id).status == "returned"
    assert req.remind_at is None
    assert ill.receive_back(lender, loan.id).status == "back_at_lender"
    assert ill.close(lender, loan.id).status == "closed"
    assert [(e.from_status, e.to_status) for e in req.events] == [
        (None, "requested"), ("requested", "approved"), ("approved", "shipped"),
        ("shipped", "received"), ("received", "on_loan"), ("on_loan", "returned"),
        ("returned", "back_at_lender"), ("back_at_lender", "closed")]
    assert [e.library.code for e in req.events[1:]] == [
        "NCU", "NCU", "JXUFE", "JXUFE", "JXUFE", "NCU", "NCU"]
    assert req.events[2].note == "EMS 1234"
    kinds = [m.kind for m in emails_to(reader.email)]
    assert kinds == ["loans.ill_approved", "loans.ill_received", "loans.ill_lent"]
    lent = emails_to(reader.email)[-1]
    assert req.due_on.isoformat() in lent.subject and "江西财经大学图书馆" in lent.body_text
    audited = db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "ill_request", AuditEntry.object_id == str(req.id))
    ).scalars().all()
    assert audited == ["ill.approve", "ill.ship", "ill.receive", "ill.lend", "ill.return",
                       "ill.receive_back", "ill.close"]


def test_refusing_needs_a_reason_which_the_reader_is_told(reader, staff, loan):
    with pytest.raises(RuleViolation, match="Give a reason"):
        ill.refuse(staff["NCU"], loan.id, "  ")
    assert loan.status == "requested"
    req = ill.refuse(staff["NCU"], loan.id, "The copy is missing")
    assert req.status == "refused" and req.reason == "The copy is missing"
    [mail] = emails_to(reader.email)
    assert mail.kind == "loans.ill_refused" and "The copy is missing" in mail.body_text


def test_the_reader_can_cancel_only_while_requested(reader, staff, book, loan):
    assert ill.cancel(reader, loan.id).status == "cancelled"
    second = ill.request_loan(reader, copy_at(book, "ECJTU").id)
    ill.approve(staff["ECJTU"], second.id)
    with pytest.raises(RuleViolation, match="is approved: “Cancel” is not possible now"):
        ill.cancel(reader, second.id)


def test_a_withdrawn_lender_cannot_approve_any_more(reader, staff, loan):
    get_library("NCU").left_on = clock.local_today()
    db.session.flush()
    with pytest.raises(RuleViolation, match="Nanchang University Library has left the alliance"):
        ill.approve(staff["NCU"], loan.id)
    assert loan.status == "requested" and len(loan.events) == 1


# --- the transition table -------------------------------------------------------------------------

def test_the_table_names_one_party_per_action_and_only_known_statuses():
    for (status, action), (target, party) in ill.TRANSITIONS.items():
        assert status in ILL_STATUSES and target in ILL_STATUSES
        assert ill.ACTION_PARTY[action] == party
    assert set(ill.ACTIONS) == {"approve", "refuse", "cancel", "ship", "receive", "lend",
                                "renew", "return", "receive_back", "close"}


ILLEGAL = [(status, action) for status in ILL_STATUSES for action in ill.ACTIONS
           if (status, action) not in ill.TRANSITIONS]


def _snapshot(req):
    return (req.status, len(req.events), count(IllEvent, IllEvent.request_id == req.id),
            count(OutboxEmail), count(AuditEntry), req.due_on, req.renewals, req.reason)


@pytest.mark.parametrize("status, action", ILLEGAL, ids=[f"{s}-{a}" for s, a in ILLEGAL])
def test_every_illegal_transition_is_refused_and_changes_nothing(reader, staff, loan, status,
                                                                 action):
    loan.status = status
    loan.due_on = date(2030, 1, 1) if status == "on_loan" else None
    db.session.flush()
    before = _snapshot(loan)
    actor = actor_for(ill.ACTION_PARTY[action], reader, staff)
    with pytest.raises(RuleViolation) as info:
        ill.step(actor, loan.id, action, note="a reason")
    assert info.value.status == 409
    assert "not possible now" in info.value.message
    db.session.expire_all()
    assert _snapshot(db.session.get(IllRequest, loan.id)) == before


LEGAL = list(ill.TRANSITIONS)


@pytest.mark.parametrize("status, action", LEGAL, ids=[f"{s}-{a}" for s, a in LEGAL])
def test_every_step_by_the_wrong_party_is_refused_and_changes_nothing(reader, staff, loan,
                                                                      status, action):
    loan.status = status
    loan.due_on = clock.local_today() + timedelta(days=5) if status == "on_loan" else None
    db.session.flush()
    before = _snapshot(loan)
    right = ill.ACTION_PARTY[action]
    for party in (ill.READER, ill.LENDER, ill.HOME):
        if party == right:
            continue
        with pytest.raises(NotAllowed) as info:
            ill.step(actor_for(party, reader, staff), loan.id, action, note="a reason")
        assert "only" in info.value.message
    with pytest.raises(NotFound):  # staff of a library with no part in it
        ill.step(staff["JXAU"], loan.id, action, note="a reason")
    with pytest.raises(NotFound):  # another reader
        ill.step(make_user(library="JXUFE"), loan.id, action, note="a reason")
    db.session.expire_all()
    assert _snapshot(db.session.get(IllRequest, loan.id)) == before


@pytest.mark.parametrize("status, action", LEGAL, ids=[f"{s}-{a}" for s, a in LEGAL])
def test_every_legal_step_by_the_right_party_works(reader, staff, loan, status, action):
    loan.status = status
    loan.due_on = clock.local_today() + timedelta(days=5) if status == "on_loan" else None
    db.session.flush()
    actor = actor_for(ill.ACTION_PARTY[action], reader, staff)
    req = ill.step(actor, loan.id, action, note="a reason")
    assert req.status == ill.TRANSITIONS[(status, action)][0]
    assert (req.events[-1].from_status, req.events[-1].to_status) == (status, req.status)


def test_the_lending_library_sees_the_approve_step_the_home_library_does_not(reader, staff,
                                                                              loan):
    assert ill.available_actions(loan, staff["NCU"]) == ["approve", "refuse"]
    assert ill.available_actions(loan, staff["JXUFE"]) == []
    assert ill.available_actions(loan, reader) == ["cancel"]
    assert ill.available_actions(loan, staff["JXAU"]) == []


def test_an_unknown_action_is_not_found(reader, staff, loan):
    with pytest.raises(NotFound):
        ill.step(staff["NCU"], loan.id, "teleport")


# --- renewals ---------------------------------------------------------------------------

def _on_loan(loan, staff):
    for action, who in (("approve", "NCU"), ("ship", "NCU"), ("receive", "JXUFE"),
                        ("lend", "JXUFE")):
        ill.step(staff[who], loan.id, action)
    return loan


def test_renewals_extend_the_due_date_up_to_the_limit(reader, staff, loan):
    set_setting("loans.max_renewals", 2)
    _on_loan(loan, staff)
    due = loan.due_on
    assert ill.renew(reader, loan.id).due_on == due + timedelta(days=14)
    assert ill.renew(reader, loan.id).due_on == due + timedelta(days=28)
    assert loan.renewals == 2
    with pytest.raises(RuleViolation, match="renewed 2 times, the most allowed"):
        ill.renew(reader, loan.id)
    assert loan.due_on == due + timedelta(days=28)
    assert [e.to_status for e in loan.events].count("on_loan") == 3


def test_an_overdue_loan_cannot_be_renewed(reader, staff, loan):
    _on_loan(loan, staff)
    clock.advance(timedelta(days=31))
    with pytest.raises(RuleViolation, match="overdue"):
        ill.renew(reader, loan.id)
    assert loan.renewals == 0


def test_library_queues_show_whose_turn_it_is(reader, staff, loan):
    ncu, jxufe = get_library("NCU"), get_library("JXUFE")
    assert loan in ill.library_queue(staff["NCU"], ncu, "todo")
    assert loan not in ill.library_queue(staff["JXUFE"], jxufe, "todo")
    assert loan in ill.library_queue(staff["JXUFE"], jxufe, "borrowing")
    ill.approve(staff["NCU"], loan.id)
    ill.ship(staff["NCU"], loan.id)
    assert loan not in ill.library_queue(staff["NCU"], ncu, "todo")
    assert loan in ill.library_queue(staff["NCU"], ncu, "lending")
    assert loan in ill.library_queue(staff["JXUFE"], jxufe, "todo")
    with pytest.raises(NotAllowed):
        ill.library_queue(staff["JXAU"], ncu)
