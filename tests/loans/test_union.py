"""Union borrowing: lent at one desk with the card, returned at any, back to its owner."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.audit import AuditEntry
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.loans import cards, union
from jala.loans.models import UnionLoan
from jala.membership import get_library
from tests.support.factories import add_record, library_id, make_user, set_setting


@pytest.fixture
def card(reader, staff):
    return cards.approve_card(staff["JXUFE"], cards.apply_for_card(reader).id)


@pytest.fixture
def loan(staff, card):
    return union.lend(staff["NCU"], library_id("NCU"), card_code=cards.format_code(card.code),
                      item_barcode=" 3100 2233 ")


def test_a_card_holder_borrows_at_another_library(reader, staff, card, loan):
    assert loan.status == "on_loan" and loan.reader_id == reader.id
    assert loan.item_barcode == "31002233" and loan.lending_library.code == "NCU"
    assert loan.due_on == clock.local_today() + timedelta(days=30)
    assert loan.remind_at is not None and loan.lent_by_id == staff["NCU"].id
    assert cards.verify_card(staff["ECJTU"], card.code).open_loans == 1
    assert db_actions(loan) == ["union.lend"]


def db_actions(loan):
    from jala.extensions import db

    return db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "union_loan", AuditEntry.object_id == str(loan.id))
        .order_by(AuditEntry.id)).scalars().all()


def test_the_record_can_be_named_by_its_isbn(staff, card):
    record = add_record("union-isbn", ["NCU"], isbn="9787301046067")
    loan = union.lend(staff["NCU"], library_id("NCU"), card_code=card.code, item_barcode="X1",
                      record_ref="978-7-301-04606-7")
    assert loan.record_id == record.id and loan.holding_id is not None
    with pytest.raises(RuleViolation, match="No record in the union catalogue"):
        union.lend(staff["NCU"], library_id("NCU"), card_code=card.code, item_barcode="X2",
                   record_ref="9780000000000")


def test_the_readers_own_library_lends_with_its_own_system(staff, card):
    with pytest.raises(RuleViolation, match="reader's own library"):
        union.lend(staff["JXUFE"], library_id("JXUFE"), card_code=card.code, item_barcode="X3")


def test_only_staff_of_the_lending_library_record_its_loans(reader, staff, card):
    with pytest.raises(NotAllowed):
        union.lend(staff["ECJTU"], library_id("NCU"), card_code=card.code, item_barcode="X4")
    with pytest.raises(NotAllowed):
        union.lend(reader, library_id("NCU"), card_code=card.code, item_barcode="X4")


def test_an_item_already_out_cannot_be_lent_again(staff, card, loan):
    other = make_user(library="JXAU")
    other_card = cards.approve_card(staff["JXAU"], cards.apply_for_card(other).id)
    with pytest.raises(RuleViolation, match="Item 31002233 is already out") as info:
        union.lend(staff["NCU"], library_id("NCU"), card_code=other_card.code,
                   item_barcode="31002233")
    assert info.value.status == 409
    # the same barcode at another library is another item
    assert union.lend(staff["ECJTU"], library_id("ECJTU"), card_code=other_card.code,
                      item_barcode="31002233").status == "on_loan"


def test_open_union_loans_per_reader_are_limited(staff, card):
    set_setting("loans.union_open_per_reader", 1)
    union.lend(staff["NCU"], library_id("NCU"), card_code=card.code, item_barcode="L1")
    with pytest.raises(RuleViolation, match="1 union loans out, the limit"):
        union.lend(staff["ECJTU"], library_id("ECJTU"), card_code=card.code, item_barcode="L2")


def test_an_unknown_card_code_is_not_found(staff):
    with pytest.raises(NotFound):
        union.lend(staff["NCU"], library_id("NCU"), card_code="0000-0000-0000-0000",
                   item_barcode="X5")


def test_returned_at_the_lending_library_closes_the_loan(staff, loan):
    returned = union.take_return(staff["NCU"], library_id("NCU"), loan.id)
    assert returned.status == "closed" and returned.arrived_at == returned.returned_at
    assert returned.remind_at is None
    with pytest.raises(RuleViolation, match="already returned"):
        union.take_return(staff["ECJTU"], library_id("ECJTU"), loan.id)


def test_returned_elsewhere_travels_back_until_the_owner_confirms(staff, loan):
    returned = union.take_return(staff["ECJTU"], library_id("ECJTU"), loan.id)
    assert returned.status == "in_transit" and returned.return_library.code == "ECJTU"
    assert returned.arrived_at is None and returned.remind_at is None
    ecjtu = union.library_desk(staff["ECJTU"], get_library("ECJTU"))
    ncu = union.library_desk(staff["NCU"], get_library("NCU"))
    assert loan in ecjtu["sent_on"] and loan in ncu["arriving"] and loan not in ncu["out"]
    with pytest.raises(NotAllowed,
                       match="Only staff of the lending library, Nanchang University Library"):
        union.confirm_arrival(staff["ECJTU"], loan.id)
    with pytest.raises(NotFound):
        union.confirm_arrival(staff["JXAU"], loan.id)
    assert loan.status == "in_transit"
    arrived = union.confirm_arrival(staff["NCU"], loan.id)
    assert arrived.status == "closed" and arrived.arrived_at is not None
    with pytest.raises(RuleViolation, match="not in transit"):
        union.confirm_arrival(staff["NCU"], loan.id)
    assert db_actions(loan) == ["union.lend", "union.return", "union.arrived"]


def test_the_return_desk_finds_the_loan_by_barcode(staff, loan):
    assert union.find_open_by_barcode(staff["JXAU"], "3100 2233") == [loan]
    union.take_return(staff["JXAU"], library_id("JXAU"), loan.id)
    assert union.find_open_by_barcode(staff["JXAU"], "31002233") == []


def test_the_reader_renews_up_to_the_limit_and_not_when_overdue(reader, staff, loan):
    due = loan.due_on
    assert union.renew(reader, loan.id).due_on == due + timedelta(days=14)
    with pytest.raises(RuleViolation, match="renewed 1 times, the most allowed"):
        union.renew(reader, loan.id)
    with pytest.raises(NotFound):
        union.renew(make_user(library="JXUFE"), loan.id)
    set_setting("loans.max_renewals", 3)
    clock.advance(timedelta(days=45))
    with pytest.raises(RuleViolation, match="overdue"):
        union.renew(reader, loan.id)
    assert loan.due_on == due + timedelta(days=14)


def test_a_loan_row_needs_its_card(staff, loan):
    assert isinstance(loan, UnionLoan) and loan.card_id is not None
