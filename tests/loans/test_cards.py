"""Interlibrary cards: applying, the home library's decision, verification at another desk."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from jala import clock
from jala.audit import AuditEntry
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.loans import cards, union
from jala.loans.models import InterlibraryCard
from jala.membership import get_library
from tests.support.factories import make_user
from tests.support.mail import emails_to


@pytest.fixture
def card(reader, staff):
    """An approved card of the JXUFE reader."""
    applied = cards.apply_for_card(reader)
    return cards.approve_card(staff["JXUFE"], applied.id)


def test_a_reader_applies_and_the_home_library_approves(reader, staff):
    applied = cards.apply_for_card(reader)
    assert applied.status == "requested" and applied.library.code == "JXUFE"
    assert len(applied.code) == 16 and cards.normalise_code(applied.code) == applied.code
    with pytest.raises(RuleViolation, match="already applied"):
        cards.apply_for_card(reader)
    approved = cards.approve_card(staff["JXUFE"], applied.id)
    assert approved.status == "approved" and cards.card_state(approved) == "valid"
    assert approved.valid_until == clock.local_today() + timedelta(days=365)
    assert approved.decided_by_id == staff["JXUFE"].id
    [mail] = emails_to(reader.email)
    assert mail.kind == "loans.card_approved" and approved.valid_until.isoformat() in mail.body_text
    with pytest.raises(RuleViolation, match="already have a valid interlibrary card"):
        cards.apply_for_card(reader)
    assert db.session.execute(select(AuditEntry.action).where(
        AuditEntry.object_type == "interlibrary_card", AuditEntry.object_id == str(applied.id))
    ).scalars().all() == ["card.approve"]


def test_only_the_home_library_decides(reader, staff):
    applied = cards.apply_for_card(reader)
    for other in ("NCU", "JXAU"):
        with pytest.raises(NotFound):
            cards.approve_card(staff[other], applied.id)
    with pytest.raises(NotFound):
        cards.approve_card(reader, applied.id)
    assert applied.status == "requested"


def test_a_refusal_needs_a_reason_the_reader_is_told(reader, staff):
    applied = cards.apply_for_card(reader)
    with pytest.raises(RuleViolation, match="Give a reason"):
        cards.refuse_card(staff["JXUFE"], applied.id, "")
    refused = cards.refuse_card(staff["JXUFE"], applied.id, "Unpaid fines")
    assert refused.status == "refused" and refused.reason == "Unpaid fines"
    [mail] = emails_to(reader.email)
    assert mail.kind == "loans.card_refused" and "Unpaid fines" in mail.body_text
    # a refused application does not stop a new one
    assert cards.apply_for_card(reader).status == "requested"


@pytest.mark.parametrize("who, message", [
    ("public", "Public users cannot borrow"),
    ("unverified", "has not been verified yet"),
    ("withdrawn", "has left the alliance"),
])
def test_only_verified_readers_of_member_libraries_may_apply(ctx, who, message):
    if who == "public":
        user = make_user(library=None)
    elif who == "unverified":
        user = make_user(library="JXUFE", verified=False)
    else:
        user = make_user(library="JXAU")
        get_library("JXAU").left_on = clock.local_today()
        db.session.flush()
    with pytest.raises(RuleViolation, match=message):
        cards.apply_for_card(user)
    assert cards.current_card(user) is None


def test_staff_of_another_library_verify_a_valid_card(reader, staff, card):
    check = cards.verify_card(staff["NCU"], card.code)
    assert check.valid and check.problem is None
    assert check.name == reader.display_name
    assert check.home_library == "Jiangxi University of Finance and Economics Library"
    assert check.valid_until == card.valid_until and check.state == "valid"
    assert check.open_loans == 0
    assert set(vars(check)) == {"card_id", "library_id", "name", "home_library", "valid_until",
                                "state", "open_loans", "problem"}
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == "card.verify", AuditEntry.object_id == str(card.id))).scalar_one()
    assert entry.actor_id == staff["NCU"].id


def test_a_typed_code_may_have_dashes_spaces_lower_case_and_o_for_zero(reader, staff, card):
    typed = cards.format_code(card.code).lower().replace("0", "o")
    assert cards.verify_card(staff["NCU"], f"  {typed} ").card_id == card.id
    with pytest.raises(NotFound, match="No interlibrary card has the code"):
        cards.verify_card(staff["NCU"], "ABCD")


def test_readers_and_public_users_cannot_verify_cards(reader, staff, card):
    with pytest.raises(NotAllowed):
        cards.verify_card(reader, card.code)
    with pytest.raises(NotAllowed):
        cards.verify_card(make_user(library=None), card.code)


def test_a_revoked_card_is_refused_at_the_desk(reader, staff, card):
    with pytest.raises(NotFound):
        cards.revoke_card(staff["NCU"], card.id, "lost")
    cards.revoke_card(staff["JXUFE"], card.id, "Reported lost")
    check = cards.verify_card(staff["NCU"], card.code)
    assert not check.valid and check.state == "revoked"
    assert "withdrawn this card" in check.problem
    with pytest.raises(RuleViolation, match="withdrawn this card"):
        union.lend(staff["NCU"], get_library("NCU").id, card_code=card.code,
                   item_barcode="B-1")
    assert emails_to(reader.email)[-1].kind == "loans.card_revoked"


def test_an_expired_card_is_refused_and_can_be_renewed_with_the_same_code(reader, staff, card):
    clock.advance(timedelta(days=366))
    check = cards.verify_card(staff["NCU"], card.code)
    assert not check.valid and check.state == "expired"
    assert f"expired on {card.valid_until.isoformat()}" in check.problem
    with pytest.raises(RuleViolation, match="expired"):
        union.lend(staff["NCU"], get_library("NCU").id, card_code=card.code,
                   item_barcode="B-2")
    again = cards.apply_for_card(reader)
    assert again.id == card.id and again.status == "requested"
    assert not cards.verify_card(staff["NCU"], card.code).valid
    cards.approve_card(staff["JXUFE"], card.id)
    assert cards.verify_card(staff["NCU"], card.code).valid
    assert card.valid_until == clock.local_today() + timedelta(days=365)


def test_a_card_of_a_reader_whose_library_left_gives_no_rights(reader, staff, card):
    get_library("JXUFE").left_on = clock.local_today()
    db.session.flush()
    check = cards.verify_card(staff["NCU"], card.code)
    assert not check.valid and "left the alliance" in check.problem


def test_one_live_card_per_reader_is_kept_by_the_database(reader, staff, card):
    second = InterlibraryCard(reader_id=reader.id, library_id=reader.home_library_id,
                              status="requested", code=cards.new_card_code())
    from jala.loans.services import insert_unique

    with pytest.raises(RuleViolation, match="already have an interlibrary card"):
        insert_unique(second, "uq_interlibrary_cards_one_live",
                      "You already have an interlibrary card or an application.")
