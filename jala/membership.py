"""Who belongs to the alliance, and when: member libraries, membership on a date, the chair.

Every domain asks this module, never the dates on a ``Library`` row: a library is a member
from ``joined_on`` until the day before ``left_on`` (the day its withdrawal or revocation
takes effect). A library that gave notice stays a member until then.
"""
from datetime import date

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select

from jala import clock
from jala.accounts.models import ChairTerm, Library
from jala.errors import NotFound, RuleViolation
from jala.extensions import db

# --- finding libraries ---------------------------------------------------------------------------

def find_library(code):
    """Return the library with this code (any case), or None."""
    if not code:
        return None
    return db.session.execute(
        select(Library).where(Library.code == code.strip().upper())
    ).scalar_one_or_none()


def get_library(code):
    """Return the library with this code or raise NotFound."""
    library = find_library(code)
    if library is None:
        raise NotFound(_("No member library has the code %(code)s.", code=code))
    return library


def member_libraries(include_former=False):
    """Libraries in join order (founders first): those that have not given notice, or all."""
    query = select(Library).order_by(Library.joined_on.nulls_last(), Library.id)
    if not include_former:
        query = query.where(Library.left_on.is_(None))
    return db.session.execute(query).scalars().all()


def library_ids_by_code():
    """``{code: id}`` of the libraries that have not given notice (the importer's holdings)."""
    return dict(db.session.execute(
        select(Library.code, Library.id).where(Library.left_on.is_(None))).all())


def library_name(library):
    """The library's name in the language in use."""
    return library.name_zh if str(get_locale() or "zh").startswith("zh") else library.name_en


def library_or_centre_name(library):
    """Who acts: a library's name, or the management centre when no library is named."""
    return library_name(library) if library is not None else _("Alliance management centre")


def library_short_name(library):
    """The library's name without the word "library" (南昌大学), where space is short."""
    if str(get_locale() or "zh").startswith("zh"):
        return library.name_zh.removesuffix("图书馆") or library.name_zh
    return library.name_en.removesuffix(" Library") or library.name_en


# --- membership on a date ------------------------------------------------------------------------

def is_member(library, on=None):
    """Whether ``library`` is a member on ``on`` (today, in Shanghai, by default)."""
    day = on or clock.local_today()
    return library is not None and library.joined_on <= day and (
        library.left_on is None or day < library.left_on)


def member_on(on=None):
    """The SQL condition on ``Library`` for "a member on ``on``" (today by default)."""
    day = on or clock.local_today()
    return and_(Library.joined_on <= day, or_(Library.left_on.is_(None), Library.left_on > day))


def member_library_ids(on=None):
    """Ids of the libraries that are members on ``on`` (today by default)."""
    return set(db.session.execute(select(Library.id).where(member_on(on))).scalars())


def former_member_ids(on=None):
    """Ids of the libraries that have left by ``on``: their holdings leave the union search."""
    day = on or clock.local_today()
    return list(db.session.execute(
        select(Library.id).where(Library.left_on.is_not(None), Library.left_on <= day)
    ).scalars())


def member_during(library, year):
    """Whether ``library`` was a member on at least one day of ``year``."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    return library.joined_on <= last and (library.left_on is None or library.left_on > first)


def member_count(on=None):
    """How many libraries are members on ``on`` (today by default)."""
    return len(member_library_ids(on))


# --- people and membership -----------------------------------------------------------------------

def home_library_is_member(user, on=None):
    """Whether ``user`` is a reader (or staff) of a library that is a member on ``on``."""
    return user.home_library_id is not None and is_member(user.home_library, on)


def check_reader_standing(user):
    """Raise unless a reader's library is a member and has verified their card.

    Public users (社会用户, no home library) pass: the services that take them set their own
    limits.
    """
    if user.home_library_id is None:
        return
    if not is_member(user.home_library):
        raise RuleViolation(_("Your library has left the alliance, so its readers can no "
                              "longer use alliance-wide services."))
    if user.verified_at is None:
        raise RuleViolation(_("Your library card has not been verified yet. Your library "
                              "will check it soon."))


def serves_member_library(user):
    """Whether ``user`` is an active staff member of a library that is a member today."""
    return (user is not None and getattr(user, "is_authenticated", False) and user.is_active
            and user.is_staff and home_library_is_member(user))


# --- the chair library ---------------------------------------------------------------------------

def current_chair_term():
    """The chair library's term now: the latest that took office (at its handover)."""
    return db.session.execute(
        select(ChairTerm).where(ChairTerm.took_office_at.is_not(None))
        .order_by(ChairTerm.year.desc()).limit(1)
    ).scalar_one_or_none()


def current_chair_library(year=None):
    """The chair library (轮值主任馆) now, or the one that held office in ``year``."""
    if year is None:
        term = current_chair_term()
    else:
        term = db.session.execute(
            select(ChairTerm).where(ChairTerm.year <= year, ChairTerm.took_office_at.is_not(None))
            .order_by(ChairTerm.year.desc()).limit(1)
        ).scalar_one_or_none()
    return term.library if term else None
