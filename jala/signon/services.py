"""What a campus identity becomes in the portal.

A verified reader, the same account again, or a link to an account the person already proved
is theirs.

The rules: a subject belongs to one library's provider and one portal account for good; an
address already used by another account is never signed into or changed (refused instead);
affiliation decides whether the person is a reader of that library or a public user.
"""
import hashlib
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from jala import clock
from jala.accounts.models import NO_PASSWORD, ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN, User
from jala.accounts.services import CARD_RE, find_user_by_email, normalise_email
from jala.accounts.sessions import totp_required
from jala.audit import record_audit
from jala.errors import RuleViolation
from jala.extensions import db
from jala.mail import notify
from jala.membership import is_member, library_name
from jala.signon.identity import SignOnRefused
from jala.signon.models import CampusIdentity

# eduPerson affiliations that make a reader of the library, and the reader type they give
READER_TYPES = {"faculty": "faculty", "student": "student", "staff": "staff",
                "employee": "staff", "member": None}
# strongest first: a teaching PhD student counts as faculty
READER_TYPE_ORDER = ("faculty", "staff", "student", "employee", "member")


@dataclass(frozen=True)
class Standing:
    """Whether the provider's word makes the person a reader, and of which type."""

    is_reader: bool
    reader_type: str | None = None


def standing_of(identity):
    """Reader or public user, from the affiliations the provider released.

    A provider that says nothing about affiliation vouches for its own people (a CAS server
    signs in only the university's members); alumni and affiliates are public users.
    """
    affiliations = set(identity.affiliations)
    if not affiliations:
        return Standing(True)
    for affiliation in READER_TYPE_ORDER:
        if affiliation in affiliations:
            return Standing(True, READER_TYPES[affiliation])
    return Standing(False)


def identity_of(provider, subject):
    """The campus identity ``subject`` vouched for by ``provider`` (its issuer), or None."""
    return db.session.execute(
        select(CampusIdentity).where(CampusIdentity.library_id == provider.library_id,
                                     CampusIdentity.issuer == provider.issuer,
                                     CampusIdentity.subject == subject)
    ).scalar_one_or_none()


def identities_of(user):
    """The campus identities linked to ``user``."""
    return db.session.execute(
        select(CampusIdentity).where(CampusIdentity.user_id == user.id)
        .order_by(CampusIdentity.created_at)
    ).scalars().all()


def _card_number(library, identity, user=None):
    """The campus account name when it reads as a card number, else one from the subject.

    A card some unverified account typed in (anyone can register any number) does not stop
    the campus sign-on: the person gets the number made from the subject instead. A card a
    librarian verified for another account is refused.
    """
    derived = "SSO-" + hashlib.sha256(
        f"{library.code}:{identity.subject}".encode()).hexdigest()[:12].upper()
    card = (identity.username or "").strip()
    if not CARD_RE.match(card):
        card = derived
    holder = db.session.execute(
        select(User).where(User.home_library_id == library.id, User.card_number == card)
    ).scalar_one_or_none()
    if holder is None or holder is user:
        return card
    if holder.verified_at is None:
        return derived
    raise SignOnRefused(_(
        "An account of %(library)s already has the card number %(card)s. Log in with its "
        "password, then link your campus account on your account page.",
        library=library_name(library), card=card), status=409)


def _checked_email(identity):
    try:
        return normalise_email(identity.email)
    except RuleViolation as exc:
        raise SignOnRefused(_("The sign-in service of the library did not give a usable email "
                              "address, so no account can be made. Please tell the library."),
                            status=422) from exc


def _refuse_taken_email(email):
    if find_user_by_email(email) is not None:
        raise SignOnRefused(_(
            "Another portal account already uses the address %(email)s. If it is yours, log in "
            "with its password and link your campus account on your account page.",
            email=email), status=409)


def sign_in(provider, identity):
    """The portal account of a campus identity: the one it is tied to, or a new one.

    Returns ``(user, created)``. Nothing is written when it refuses.
    """
    library = provider.library
    if not is_member(library):
        raise SignOnRefused(_("%(library)s has left the alliance, so its campus sign-on no "
                              "longer opens the portal.", library=library_name(library)),
                            status=403)
    known = identity_of(provider, identity.subject)
    if known is not None:
        user = known.user
        if not user.is_active:
            raise SignOnRefused(_("This account is disabled."), status=403)
        _refresh(user, identity)
        if not standing_of(identity).is_reader:
            _end_campus_verification(user, provider)
        known.last_sign_in_at = clock.now()
        return user, False
    user = _new_account(provider, identity)
    _tie(user, provider, identity)
    record_audit(user, "user.register_signon", "user", user.id, library_id=library.id,
                 details={"kind": provider.kind, "reader": user.home_library_id is not None})
    return user, True


def _new_account(provider, identity):
    library = provider.library
    email = _checked_email(identity)
    _refuse_taken_email(email)
    standing = standing_of(identity)
    now = clock.now()
    user = User(email=email, password_hash=NO_PASSWORD, email_confirmed_at=now,
                display_name=_display_name(identity, email))
    if standing.is_reader:
        user.home_library_id = library.id
        user.card_number = _card_number(library, identity)
        user.reader_type = standing.reader_type
        user.verified_at = now
    db.session.add(user)
    db.session.flush()
    return user


def _display_name(identity, email):
    name = " ".join((identity.name or "").split())[:100]
    return name or email.split("@")[0]


def _refresh(user, identity):
    """Keep the name and address the provider gives now; never take another account's address."""
    name = " ".join((identity.name or "").split())[:100]
    if name:
        user.display_name = name
    try:
        email = normalise_email(identity.email)
    except RuleViolation:
        return
    if email != user.email.lower():
        owner = find_user_by_email(email)
        if owner is None:
            user.email = email
            user.email_confirmed_at = clock.now()
    standing = standing_of(identity)
    if user.home_library_id is not None and standing.reader_type:
        user.reader_type = standing.reader_type


def _end_campus_verification(user, provider):
    """A graduate no longer borrows: the verification campus sign-on gave ends.

    One a librarian gave, by checking the card, stays.
    """
    if (user.home_library_id == provider.library_id and user.verified_at is not None
            and user.verified_by_id is None):
        user.verified_at = None
        user.reader_type = None
        record_audit(user, "user.campus_verification_ended", "user", user.id,
                     library_id=provider.library_id)


def _tie(user, provider, identity):
    db.session.add(CampusIdentity(library_id=provider.library_id, issuer=provider.issuer,
                                  subject=identity.subject, user_id=user.id,
                                  kind=provider.kind, last_sign_in_at=clock.now()))
    db.session.flush()


def link(user, provider, identity):
    """Tie a campus identity to ``user``, who proved their password in this session.

    A public user becomes a verified reader of the provider's library (when the affiliation
    allows); a reader of another library cannot take this library's identity.
    """
    library = provider.library
    known = identity_of(provider, identity.subject)
    if known is not None:
        if known.user_id == user.id:
            return user
        raise SignOnRefused(_("This campus account is already linked to another portal "
                              "account."), status=409)
    if user.home_library_id not in (None, library.id):
        raise SignOnRefused(_(
            "Your account belongs to a reader of %(home)s; a campus account of %(library)s "
            "cannot be linked to it.", home=library_name(user.home_library),
            library=library_name(library)), status=403)
    standing = standing_of(identity)
    if standing.is_reader and user.verified_at is None:
        # the card the person typed was never checked: the campus account's number replaces it
        user.card_number = _card_number(library, identity, user)
        user.home_library_id = library.id
        user.verified_at = clock.now()
    if standing.is_reader:
        user.reader_type = standing.reader_type or user.reader_type
    _tie(user, provider, identity)
    notify(user, "account_campus_linked", kind="account.campus_linked",
           related=("user", user.id), library=library)
    record_audit(user, "user.link_signon", "user", user.id, library_id=library.id,
                 details={"kind": provider.kind})
    return user


def unlink(user, identity_id):
    """Remove one of ``user``'s campus identities; an account without a password keeps one."""
    row = db.session.get(CampusIdentity, identity_id)
    if row is None or row.user_id != user.id:
        raise SignOnRefused(_("No such campus account on your account."), status=404)
    others = db.session.execute(
        select(func.count()).select_from(CampusIdentity)
        .where(CampusIdentity.user_id == user.id, CampusIdentity.id != row.id)).scalar_one()
    if not user.has_password and not others:
        raise SignOnRefused(_("Set a password first: otherwise you could no longer log in."))
    db.session.delete(row)
    record_audit(user, "user.unlink_signon", "user", user.id, library_id=row.library_id)


def needs_portal_second_factor(user, provider, identity):
    """Whether the portal's code is still asked for after the provider's sign-in.

    Staff (and readers who turned it on) give it, unless the library admin trusts the
    provider's own second factor and the provider says it was used.
    """
    if not totp_required(user):
        return False
    if not (provider.trust_provider_mfa and identity.mfa):
        return True
    # the library vouches for its own librarians and admins, never for alliance-wide roles
    return any(grant.role not in (ROLE_LIBRARIAN, ROLE_LIBRARY_ADMIN)
               or grant.library_id != provider.library_id for grant in user.grants)
