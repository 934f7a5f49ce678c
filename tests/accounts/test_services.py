from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from jala import clock
from jala.accounts import services as accounts
from jala.accounts.models import RoleGrant, User
from jala.accounts.passwords import check_password_policy, hash_password, password_matches
from jala.accounts.roles import grant_role, revoke_role
from jala.accounts.sessions import (
    check_totp,
    disable_totp,
    end_session,
    load_session_user,
    start_session,
)
from jala.audit import AuditEntry, record_audit
from jala.errors import NotAllowed, RuleViolation
from jala.extensions import db
from jala.jobs import OutboxEmail
from jala.membership import current_chair_library, get_library
from tests.support.factories import PASSWORD, current_code, make_user


@pytest.mark.parametrize("password", ["short", "password123", "12345678", "qwertyuiop"])
def test_weak_passwords_are_refused(ctx, password):
    with pytest.raises(RuleViolation):
        check_password_policy(password, "reader@example.com")


def test_password_containing_the_email_name_is_refused(ctx):
    with pytest.raises(RuleViolation):
        check_password_policy("zhangwei-2026!", "zhangwei@example.com")


def test_passwords_are_hashed_with_argon2id(ctx):
    hashed = hash_password("a good long passphrase")
    assert hashed.startswith("$argon2id$")
    assert password_matches(hashed, "a good long passphrase")
    assert not password_matches(hashed, "a good long passphrasE")


def test_register_reader_queues_a_confirmation_email(ctx):
    user = accounts.register_user(email="  Li.Na@Example.EDU.cn ", password=PASSWORD,
                                  display_name="李娜", library_code="ncu", card_number="N2026-1")
    assert user.email == "li.na@example.edu.cn"
    assert user.home_library.code == "NCU" and user.verified_at is None
    mail = db.session.query(OutboxEmail).filter_by(to_addr=user.email).one()
    assert mail.kind == "account.confirm" and "/confirm/" in mail.body_text
    assert mail.status == "pending" and mail.message_id.startswith("<")


def test_register_public_user_has_no_library(ctx):
    user = accounts.register_user(email="public@example.com", password=PASSWORD,
                                  display_name="Public")
    assert user.is_public_user and not user.is_verified_reader


def test_duplicate_email_in_other_case_creates_nothing_and_tells_the_owner(ctx):
    owner = make_user(email="dup@example.com")
    assert accounts.register_user(email="DUP@example.com", password=PASSWORD,
                                  display_name="X") is None
    assert db.session.query(User).filter(User.email.ilike("dup@example.com")).count() == 1
    mail = db.session.query(OutboxEmail).filter_by(kind="account.exists").one()
    assert mail.to_addr == owner.email and "/password/forgot" in mail.body_text
    assert "/confirm/" not in mail.body_text


def test_same_card_twice_at_one_library_creates_nothing_and_tells_the_address(ctx):
    first = make_user(library="JXAU")
    assert accounts.register_user(email="other@example.com", password=PASSWORD,
                                  display_name="X", library_code="JXAU",
                                  card_number=first.card_number) is None
    assert db.session.query(User).filter_by(email="other@example.com").count() == 0
    mail = db.session.query(OutboxEmail).filter_by(kind="account.exists").one()
    assert mail.to_addr == "other@example.com" and first.card_number in mail.body_text
    assert first.email not in mail.body_text


def test_register_with_unknown_library_is_refused(ctx):
    with pytest.raises(RuleViolation):
        accounts.register_user(email="x@example.com", password=PASSWORD, display_name="X",
                               library_code="NOPE", card_number="123456")


def test_former_member_library_takes_no_new_readers(ctx):
    library = get_library("YCU")
    library.left_on = clock.local_today()
    with pytest.raises(RuleViolation):
        accounts.register_user(email="y@example.com", password=PASSWORD, display_name="Y",
                               library_code="YCU", card_number="Y12345")


def test_librarian_of_home_library_verifies_reader_and_it_is_audited(ctx):
    librarian = make_user(library="JXUFE", roles=["librarian"])
    reader = make_user(library="JXUFE", verified=False)
    assert reader in accounts.readers_awaiting_verification(librarian)
    accounts.verify_reader(reader.id, librarian)
    assert reader.verified_at is not None and reader.verified_by_id == librarian.id
    entry = db.session.query(AuditEntry).filter_by(action="reader.verify",
                                                   object_id=str(reader.id)).one()
    assert entry.actor_id == librarian.id and entry.actor_role == "librarian"


def test_librarian_of_another_library_cannot_verify(ctx):
    librarian = make_user(library="ECJTU", roles=["librarian"])
    reader = make_user(library="JXUFE", verified=False)
    with pytest.raises(NotAllowed):
        accounts.verify_reader(reader.id, librarian)
    assert reader.verified_at is None


def test_reader_cannot_see_the_verification_queue(ctx):
    with pytest.raises(NotAllowed):
        accounts.readers_awaiting_verification(make_user())


def test_library_admin_grants_librarian_only_at_own_library(ctx):
    admin = make_user(library="JXAU", roles=["library_admin"])
    colleague = make_user(library="JXAU")
    outsider = make_user(library="NCU")
    grant = grant_role(admin, colleague.id, "librarian", "jxau")
    assert grant.library.code == "JXAU" and colleague.has_role("librarian")
    with pytest.raises(NotAllowed):
        grant_role(admin, outsider.id, "librarian", "NCU")
    with pytest.raises(RuleViolation):
        grant_role(admin, outsider.id, "librarian", "JXAU")  # not their library
    with pytest.raises(NotAllowed):
        grant_role(admin, colleague.id, "committee_member", "JXAU")


def test_portal_admin_must_come_from_the_chair_library(ctx):
    chair = current_chair_library()
    admin = make_user(library=chair.code, roles=["portal_admin"])
    elsewhere = make_user(library="JJU")
    with pytest.raises(RuleViolation):
        grant_role(admin, elsewhere.id, "portal_admin", "JJU")


def test_one_committee_seat_per_library(ctx):
    chair = current_chair_library()
    admin = make_user(library=chair.code, roles=["portal_admin"])
    director = make_user(library="NIT")
    deputy = make_user(library="NIT")
    grant_role(admin, director.id, "committee_member", "NIT")
    with pytest.raises(RuleViolation):
        grant_role(admin, deputy.id, "committee_member", "NIT")


def test_database_refuses_a_second_committee_seat_even_without_the_service(ctx):
    first, second = make_user(library="SRNU"), make_user(library="SRNU")
    library_id = first.home_library_id
    db.session.add(RoleGrant(user_id=first.id, role="committee_member", library_id=library_id))
    db.session.flush()
    db.session.add(RoleGrant(user_id=second.id, role="committee_member", library_id=library_id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_last_portal_admin_cannot_be_revoked(ctx):
    chair = current_chair_library()
    existing = db.session.query(RoleGrant).filter_by(role="portal_admin", revoked_at=None).all()
    for grant in existing:
        grant.revoked_at = clock.now()
    admin = make_user(library=chair.code, roles=["portal_admin"])
    only = admin.grants[0]
    with pytest.raises(RuleViolation, match="portal admin|门户管理员"):
        revoke_role(admin, only.id)
    second = make_user(library=chair.code, roles=["portal_admin"])
    revoke_role(second, only.id)
    assert only.revoked_at is not None


def test_role_changes_are_audited(ctx):
    admin = make_user(library="JDZU", roles=["library_admin"])
    colleague = make_user(library="JDZU")
    grant = grant_role(admin, colleague.id, "librarian", "JDZU")
    revoke_role(admin, grant.id)
    actions = [e.action for e in db.session.query(AuditEntry)
               .filter_by(object_id=str(colleague.id)).order_by(AuditEntry.id)]
    assert actions == ["role.grant", "role.revoke"]


def test_audit_log_is_append_only_in_the_database(ctx):
    entry = record_audit(None, "test.entry")
    db.session.flush()
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE audit_log SET action = 'x' WHERE id = :id"),
                               {"id": entry.id})
    with pytest.raises(DBAPIError, match="append-only"):
        with db.session.begin_nested():
            db.session.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": entry.id})


def test_library_codes_are_immutable_in_the_database(ctx):
    with pytest.raises(DBAPIError, match="immutable"):
        with db.session.begin_nested():
            db.session.execute(text("UPDATE libraries SET code = 'XXX' WHERE code = 'NCU'"))


def test_totp_code_is_good_once(ctx):
    user = make_user(totp=True)
    code = current_code(user)
    check_totp(user, code)
    with pytest.raises(RuleViolation):
        check_totp(user, code)


def test_wrong_or_malformed_totp_is_refused(ctx):
    user = make_user(totp=True)
    for code in ("000000" if current_code(user) != "000000" else "111111", "12ab56", "", "1" * 50):
        with pytest.raises(RuleViolation):
            check_totp(user, code)


def test_staff_cannot_turn_off_the_second_factor(ctx):
    librarian = make_user(roles=["librarian"])
    with pytest.raises(RuleViolation):
        disable_totp(librarian, current_code(librarian))


def test_session_ends_after_idle_timeout(ctx):
    user = make_user()
    session_id = start_session(user).id
    db.session.flush()
    assert load_session_user(session_id) == user
    clock.advance(timedelta(minutes=119))
    assert load_session_user(session_id) == user  # activity renews it
    clock.advance(timedelta(minutes=121))
    assert load_session_user(session_id) is None


def test_ended_session_cannot_be_loaded(ctx):
    user = make_user()
    session_id = start_session(user).id
    db.session.flush()
    end_session(session_id)
    assert load_session_user(session_id) is None


def test_reset_link_is_single_use_and_ends_sessions(ctx):
    user = make_user()
    session_id = start_session(user).id
    accounts.request_password_reset(user.email.upper())
    mail = db.session.query(OutboxEmail).filter_by(kind="account.reset").one()
    token = mail.body_text.split("/password/reset/")[1].split()[0]
    accounts.reset_password(token, "a brand new passphrase")
    assert password_matches(user.password_hash, "a brand new passphrase")
    assert load_session_user(session_id) is None
    with pytest.raises(RuleViolation) as replay:
        accounts.reset_password(token, "another new passphrase")
    assert replay.value.status == 410


def test_a_reset_ends_every_other_outstanding_reset_link(ctx):
    user = make_user()
    for _ in range(2):
        accounts.request_password_reset(user.email)
    older, newer = [m.body_text.split("/password/reset/")[1].split()[0] for m in
                    db.session.query(OutboxEmail).filter_by(kind="account.reset")
                    .order_by(OutboxEmail.id)]
    accounts.reset_password(newer, "a brand new passphrase")
    with pytest.raises(RuleViolation) as stale:
        accounts.reset_password(older, "the attacker's passphrase")
    assert stale.value.status == 410
    assert password_matches(user.password_hash, "a brand new passphrase")


def test_reset_link_expires(ctx):
    user = make_user()
    accounts.request_password_reset(user.email)
    token = db.session.query(OutboxEmail).filter_by(kind="account.reset").one() \
        .body_text.split("/password/reset/")[1].split()[0]
    clock.advance(timedelta(hours=3))
    with pytest.raises(RuleViolation) as expired:
        accounts.reset_password(token, "a brand new passphrase")
    assert expired.value.status == 410


def test_reset_for_unknown_email_sends_nothing(ctx):
    assert accounts.request_password_reset("nobody@example.com") is None
    assert db.session.query(OutboxEmail).filter_by(kind="account.reset").count() == 0
