"""The year's commendations (年度先进集体、先进个人评选): window, nominations, vote, results.

The centre (the chair library's portal admins) opens a year's nomination window; while it is
open, each member library (its library admins or its committee member) nominates advanced
units (a member library) and advanced individuals (a person, who needs no portal account). The
nominations go on a committee meeting's agenda as items of kind ``commendation`` and are voted
on there under the 2/3 rule like every other item (``jala.governance``); a nomination whose
item closed passed is a commendation. The centre then publishes the year's results once, as
one news article of category ``commendation``; from then on they are public on
``/commendations`` and on each library's page.
"""
import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from jala import clock
from jala.accounts.models import ROLE_COMMITTEE_MEMBER, ROLE_LIBRARY_ADMIN, Library
from jala.audit import record_audit
from jala.checks import typed_text
from jala.community.news import services as news_services
from jala.community.recognition.models import NOMINATION_KINDS, CommendationYear, Nomination
from jala.errors import NotAllowed, NotFound, RuleViolation
from jala.extensions import db
from jala.governance.center import check_year, is_center_admin, require_center_admin
from jala.governance.committee import committee_seat
from jala.governance.models import AgendaItem, Meeting
from jala.governance.resolutions import add_agenda_item
from jala.membership import is_member, member_libraries

NAME_MAX = 100
TITLE_MAX = 100
CITATION_MAX = 1000
NOMINATING_ROLES = (ROLE_LIBRARY_ADMIN, ROLE_COMMITTEE_MEMBER)
_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~])")


# --- who does what ------------------------------------------------------------------------------

def nominating_libraries(actor):
    """The member libraries ``actor`` nominates for (as their library admin or director)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return []
    return [library for library in member_libraries()
            if any(actor.has_role(role, library.id) for role in NOMINATING_ROLES)]


def can_follow_commendations(actor):
    """The centre and the committee follow the nominations and put them on the agenda."""
    return is_center_admin(actor) or committee_seat(actor) is not None


def require_follower(actor):
    """Raise unless ``actor`` may see every nomination of a year."""
    if not can_follow_commendations(actor):
        raise NotAllowed(_("The nominations are for the alliance centre and the committee."))


# --- the nomination window ----------------------------------------------------------------------

def get_year(year):
    """The year's commendation row (its window and publication), or None."""
    return db.session.get(CommendationYear, year)


def _lock_year(year):
    row = db.session.execute(select(CommendationYear).where(CommendationYear.year == year)
                             .with_for_update()).scalar_one_or_none()
    if row is None:
        raise NotFound(_("Nominations for %(year)d have not been opened.", year=year))
    return row


def window_is_open(row, today=None):
    """Whether nominations for ``row``'s year are taken today."""
    today = today or clock.local_today()
    return row is not None and row.published_at is None and row.opens_on <= today <= row.closes_on


def open_window():
    """The year whose nominations are taken today (the latest, if windows overlap), or None."""
    today = clock.local_today()
    return db.session.execute(
        select(CommendationYear).where(CommendationYear.opens_on <= today,
                                       CommendationYear.closes_on >= today,
                                       CommendationYear.published_at.is_(None))
        .order_by(CommendationYear.year.desc()).limit(1)).scalar_one_or_none()


def set_window(actor, year, opens_on, closes_on):
    """The centre opens (or moves) the nomination window of ``year``."""
    require_center_admin(actor)
    check_year(year)
    if not isinstance(opens_on, date) or not isinstance(closes_on, date):
        raise RuleViolation(_("Give the first and the last day of nominations."))
    if closes_on < opens_on:
        raise RuleViolation(_("The last day of nominations comes after the first."))
    row = db.session.execute(select(CommendationYear).where(CommendationYear.year == year)
                             .with_for_update()).scalar_one_or_none()
    if row is not None and row.published_at is not None:
        raise RuleViolation(_("The results of %(year)d are published: the nominations are "
                              "closed.", year=year), status=409)
    if row is None:
        row = CommendationYear(year=year, opens_on=opens_on, closes_on=closes_on,
                               opened_by_id=actor.id, opened_at=clock.now())
        db.session.add(row)
    else:
        row.opens_on, row.closes_on = opens_on, closes_on
    db.session.flush()
    record_audit(actor, "commendation.window", "commendation_year", year,
                 details={"opens_on": opens_on.isoformat(), "closes_on": closes_on.isoformat()})
    return row


# --- nominating ---------------------------------------------------------------------------------



def _duplicate(year, kind, library_id, person_name):
    query = select(Nomination.id).where(Nomination.year == year, Nomination.kind == kind,
                                        Nomination.library_id == library_id)
    if kind == "individual":
        query = query.where(Nomination.person_name == person_name)
    return db.session.execute(query).first() is not None


def nominate(actor, *, year, kind, library_id, citation, person_name=None, person_title=None,
             nominating_library_id=None):
    """A member library nominates an advanced unit or individual while the window is open."""
    mine = nominating_libraries(actor)
    if not mine:
        raise NotAllowed(_("Library admins and committee members of member libraries "
                           "nominate."))
    nominating = next((lib for lib in mine if lib.id == nominating_library_id), None) \
        if nominating_library_id else mine[0]
    if nominating is None:
        raise NotAllowed(_("You can only nominate for your own library."))
    row = _lock_year(year)
    if not window_is_open(row):
        raise RuleViolation(_("Nominations for %(year)d are not open now.", year=year),
                            status=409)
    if kind not in NOMINATION_KINDS:
        raise RuleViolation(_("Choose an advanced unit or an advanced individual."))
    library = db.session.get(Library, library_id) if library_id else None
    if library is None or not is_member(library):
        raise RuleViolation(_("Choose a member library."))
    citation = typed_text(citation, CITATION_MAX, one_line=True,
                          missing=_("Say in a few sentences what they did."))
    if kind == "individual":
        person_name = typed_text(person_name, NAME_MAX, one_line=True,
                                 missing=_("Give the person's name."))
        person_title = typed_text(person_title, TITLE_MAX, one_line=True,
                                  missing=_("Give the person's role or title."))
    else:
        person_name = person_title = None
    if _duplicate(year, kind, library.id, person_name):
        raise RuleViolation(_("This nomination has already been made for %(year)d.", year=year),
                            status=409)
    nomination = Nomination(year=year, kind=kind, library_id=library.id, person_name=person_name,
                            person_title=person_title, citation=citation,
                            nominating_library_id=nominating.id, nominated_by_id=actor.id,
                            created_at=clock.now())
    db.session.add(nomination)
    db.session.flush()
    record_audit(actor, "commendation.nominate", "commendation_nomination", nomination.id,
                 library_id=nominating.id,
                 details={"year": year, "kind": kind, "library_id": library.id,
                          "person_name": person_name})
    return nomination


def _lock_nomination(nomination_id):
    nomination = db.session.execute(select(Nomination).where(Nomination.id == nomination_id)
                                    .with_for_update()).scalar_one_or_none()
    if nomination is None:
        raise NotFound(_("No such nomination."))
    return nomination


def withdraw_nomination(actor, nomination_id):
    """The nominating library takes back a nomination not yet on an agenda."""
    nomination = _lock_nomination(nomination_id)
    if nomination.nominating_library_id not in {lib.id for lib in nominating_libraries(actor)}:
        raise NotFound(_("No such nomination."))
    if nomination.agenda_item_id is not None:
        raise RuleViolation(_("This nomination is on the committee's agenda already."),
                            status=409)
    record_audit(actor, "commendation.withdraw", "commendation_nomination", nomination.id,
                 library_id=nomination.nominating_library_id,
                 details={"year": nomination.year, "kind": nomination.kind,
                          "person_name": nomination.person_name})
    db.session.delete(nomination)
    db.session.flush()


def my_nominations(actor, year):
    """The nominations ``actor``'s libraries made for ``year``."""
    ids = [lib.id for lib in nominating_libraries(actor)]
    if not ids:
        return []
    return _nominations(Nomination.year == year, Nomination.nominating_library_id.in_(ids))


def _nominations(*where):
    return db.session.execute(
        select(Nomination).where(*where)
        .options(selectinload(Nomination.library), selectinload(Nomination.agenda_item))
        .order_by(Nomination.kind.desc(), Nomination.library_id, Nomination.id)
    ).scalars().all()


def nominations_for(actor, year):
    """Every nomination of ``year``, for the centre and the committee."""
    require_follower(actor)
    return _nominations(Nomination.year == year)


# --- the committee's vote -----------------------------------------------------------------------

def nomination_title(nomination):
    """How the agenda names the nomination (libraries by their official, Chinese name)."""
    if nomination.kind == "unit":
        return _("Advanced unit: %(library)s", library=nomination.library.name_zh)
    return _("Advanced individual: %(name)s (%(library)s, %(title)s)",
             name=nomination.person_name, library=nomination.library.name_zh,
             title=nomination.person_title)


def put_on_agenda(actor, meeting_id, nomination_ids):
    """Put nominations on a meeting's agenda, one ``commendation`` item each."""
    require_follower(actor)
    if not meeting_id:
        raise RuleViolation(_("Choose a meeting."))
    ids = sorted({int(i) for i in nomination_ids or () if str(i).isdecimal()})
    if not ids:
        raise RuleViolation(_("Choose the nominations to put on the agenda."))
    items = []
    for nomination_id in ids:
        nomination = _lock_nomination(nomination_id)
        if nomination.agenda_item_id is not None:
            raise RuleViolation(_("%(title)s is on an agenda already.",
                                  title=nomination_title(nomination)), status=409)
        year = get_year(nomination.year)
        if year.published_at is not None:
            raise RuleViolation(_("The results of %(year)d are published.",
                                  year=nomination.year), status=409)
        item = add_agenda_item(actor, meeting_id, kind="commendation",
                               title=nomination_title(nomination), body=nomination.citation)
        nomination.agenda_item_id = item.id
        db.session.flush()
        record_audit(actor, "commendation.agenda", "commendation_nomination", nomination.id,
                     details={"meeting_id": meeting_id, "agenda_item_id": item.id})
        items.append(item)
    return items


def meetings_for_agenda():
    """Meetings whose agenda can still take items: requested or convened, soonest first."""
    return db.session.execute(select(Meeting).where(Meeting.status != "closed")
                              .order_by(Meeting.starts_at)).scalars().all()


def _commended(*where):
    return db.session.execute(
        select(Nomination).join(AgendaItem, and_(AgendaItem.id == Nomination.agenda_item_id,
                                                 AgendaItem.status == "closed",
                                                 AgendaItem.passed.is_(True)))
        .where(*where).options(selectinload(Nomination.library))
        .order_by(Nomination.year.desc(), Nomination.kind.desc(), Nomination.library_id,
                  Nomination.id)
    ).scalars().all()


def commended(year):
    """The nominations of ``year`` the committee passed: the year's commendations."""
    return _commended(Nomination.year == year)


# --- the results --------------------------------------------------------------------------------

def _md(text):
    """Typed text as literal Markdown (no link, emphasis or heading sneaks in)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join((text or "").split()))


def results_markdown(year, rows):
    """The news article's body: the units, then the individuals, each with its citation."""
    units = [n for n in rows if n.kind == "unit"]
    people = [n for n in rows if n.kind == "individual"]
    lines = [_("The committee of the alliance commends these advanced units and individuals "
               "of %(year)d.", year=year)]
    if units:
        lines += ["", "## " + _("Advanced units"), ""]
        lines += ["- " + _("**%(library)s**: %(citation)s", library=_md(n.library.name_zh),
                           citation=_md(n.citation)) for n in units]
    if people:
        lines += ["", "## " + _("Advanced individuals"), ""]
        lines += ["- " + _("**%(name)s** (%(library)s, %(title)s): %(citation)s",
                           name=_md(n.person_name), library=_md(n.library.name_zh),
                           title=_md(n.person_title), citation=_md(n.citation)) for n in people]
    return "\n".join(lines)


def publish_results(actor, year):
    """The centre publishes the year's commendations once, as one news article."""
    require_center_admin(actor)
    row = _lock_year(year)
    if row.published_at is not None:
        raise RuleViolation(_("The results of %(year)d are published already.", year=year),
                            status=409)
    pending = [n for n in _nominations(Nomination.year == year) if n.status == "on_agenda"]
    if pending:
        raise RuleViolation(_("The committee is still voting on %(n)d nominations.",
                              n=len(pending)), status=409)
    rows = commended(year)
    if not rows:
        raise RuleViolation(_("The committee has passed no nomination for %(year)d yet.",
                              year=year), status=409)
    news = news_services.publish_news(
        actor, title=_("%(year)d advanced units and individuals", year=year),
        body=results_markdown(year, rows), category="commendation", library_id=None)
    row.published_at = clock.now()
    row.published_by_id = actor.id
    row.news_id = news.id
    db.session.flush()
    record_audit(actor, "commendation.publish", "commendation_year", year,
                 details={"news_id": news.id, "commended": [n.id for n in rows]})
    return row


def published_results(year=None):
    """``[(CommendationYear, [commended nominations])]`` of the published years, newest first."""
    query = select(CommendationYear).where(CommendationYear.published_at.is_not(None))
    if year is not None:
        query = query.where(CommendationYear.year == year)
    years = db.session.execute(query.order_by(CommendationYear.year.desc())).scalars().all()
    return [(row, commended(row.year)) for row in years]


def library_commendations(library):
    """The published commendations of ``library``: as a unit, and of the people working there."""
    published = select(CommendationYear.year).where(CommendationYear.published_at.is_not(None))
    return _commended(Nomination.library_id == library.id, Nomination.year.in_(published))
