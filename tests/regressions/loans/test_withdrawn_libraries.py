"""A library that has left the alliance: its readers lose alliance services, and its staff
should not keep working other libraries' loans."""
from datetime import timedelta

import pytest

from jala import clock
from jala.errors import RuleViolation
from jala.loans import cards, ill, union
from jala.membership import get_library
from tests.support.factories import add_record, copy_at, make_user


@pytest.fixture
def setup(ctx):
    reader = make_user(library="JXUFE")
    staff = {code: make_user(library=code, roles=("librarian",))
             for code in ("JXUFE", "NCU", "ECJTU")}
    book = add_record("rlr-withdrawn-1", ["NCU", "ECJTU"], title="Withdrawn test")
    return reader, staff, book


def test_lender_cannot_approve_a_request_of_a_reader_whose_library_has_left(setup):
    # jala/loans/ill.py _approve checks only the LENDING library's membership (line 196):
    # the reader's home library may have left since the request was made.
    reader, staff, book = setup
    req = ill.request_loan(reader, copy_at(book, "NCU").id)
    get_library("JXUFE").left_on = clock.local_today()  # JXUFE withdraws today
    with pytest.raises(RuleViolation):
        ill.approve(staff["NCU"], req.id)


def test_withdrawn_home_library_cannot_lend_an_ill_copy_to_its_reader(setup):
    # the 'lend' step (jala/loans/ill.py _lend) starts a new loan with no membership check
    reader, staff, book = setup
    req = ill.request_loan(reader, copy_at(book, "NCU").id)
    ill.approve(staff["NCU"], req.id)
    ill.ship(staff["NCU"], req.id)
    ill.receive(staff["JXUFE"], req.id)
    get_library("JXUFE").left_on = clock.local_today()
    with pytest.raises(RuleViolation):
        ill.lend(staff["JXUFE"], req.id)


def _valid_card(reader):
    card = cards.apply_for_card(reader)
    card.status = "approved"
    card.valid_until = clock.local_today() + timedelta(days=30)
    return card


def test_staff_of_a_withdrawn_library_cannot_take_returns_of_other_libraries_loans(setup):
    # grants are not revoked when a library withdraws: take_return must check that the desk's
    # library is still a member (jala.loans.services.require_desk_of), not only the grant
    reader, staff, book = setup
    card = _valid_card(reader)
    loan = union.lend(staff["NCU"], get_library("NCU").id, card_code=card.code,
                      item_barcode="NCU-0001")
    get_library("ECJTU").left_on = clock.local_today() - timedelta(days=1)
    with pytest.raises(RuleViolation):
        union.take_return(staff["ECJTU"], get_library("ECJTU").id, loan.id)


def test_staff_of_a_withdrawn_library_cannot_look_up_readers_by_barcode(setup):
    # jala/loans/union.py find_open_by_barcode / get_for_staff: any grant, member or not,
    # shows every library's open union loans with the reader's name and home library
    reader, staff, book = setup
    card = _valid_card(reader)
    union.lend(staff["NCU"], get_library("NCU").id, card_code=card.code,
               item_barcode="NCU-0002")
    get_library("ECJTU").left_on = clock.local_today() - timedelta(days=1)
    with pytest.raises(RuleViolation):
        union.find_open_by_barcode(staff["ECJTU"], "NCU-0002")


def test_a_union_loan_cannot_be_renewed_on_a_withdrawn_card(setup):
    # jala/loans/union.py renew: check_can_borrow(reader) only; the card the loan was made on
    # (loan.card_id) may have been withdrawn by the home library ("lost, misused") or expired,
    # and the reader still extends the loan themselves.
    reader, staff, book = setup
    card = _valid_card(reader)
    loan = union.lend(staff["NCU"], get_library("NCU").id, card_code=card.code,
                      item_barcode="NCU-0003")
    cards.revoke_card(staff["JXUFE"], card.id, "card reported lost")
    with pytest.raises(RuleViolation):
        union.renew(reader, loan.id)
