"""The audit log in words: a sentence per kind of action, naming who acted and on what.

``describe(entries)`` looks up the names of the objects of a page of entries (one query per
kind of object) and returns, for each entry, the sentence and its details as readable lines.
"""
import json
from typing import NamedTuple

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from jala.accounts.models import Library, User
from jala.catalog.models import Record
from jala.community.contest.models import ContestRound
from jala.community.events.models import Event
from jala.community.news.models import News
from jala.community.recognition.models import BookList, Nomination
from jala.extensions import db
from jala.governance.models import AgendaItem, Handover, Meeting, MembershipApplication
from jala.loans.models import Hold, IllRequest, InterlibraryCard, UnionLoan
from jala.membership import library_name
from jala.procurement.models import PurchaseSuggestion
from jala.reference.models import Question
from jala.settings import SPECS

# action → sentence; %(actor)s is who acted, %(object)s the name or title of what they acted on
SENTENCES = {
    "user.login": _l("%(actor)s signed in"),
    "user.logout": _l("%(actor)s signed out"),
    "user.login_failed": _l("A wrong password was given for %(object)s"),
    "user.register": _l("%(actor)s registered"),
    "user.reset_requested": _l("A password reset link was sent to %(object)s"),
    "user.password_reset": _l("%(actor)s set a new password with a reset link"),
    "user.password_change": _l("%(actor)s changed their password"),
    "user.totp_enabled": _l("%(actor)s turned on the second factor"),
    "user.totp_disabled": _l("%(actor)s turned off the second factor"),
    "user.totp_failed": _l("%(actor)s gave a wrong second-factor code"),
    "user.register_signon": _l("%(actor)s joined through their university's sign-on"),
    "user.link_signon": _l("%(actor)s linked their university account"),
    "user.unlink_signon": _l("%(actor)s unlinked a university account"),
    "user.campus_verification_ended": _l(
        "%(actor)s is no longer a current member, says their university: borrowing ends"),
    "signon.provider_set": _l("%(actor)s set up the campus sign-on of %(object)s"),
    "signon.provider_removed": _l("%(actor)s stopped the campus sign-on of %(object)s"),
    "sip2.endpoint_set": _l("%(actor)s set up the SIP2 server of %(object)s"),
    "sip2.endpoint_removed": _l("%(actor)s stopped the SIP2 server of %(object)s"),
    "harvest.source_added": _l("%(actor)s added a repository %(object)s harvests records from"),
    "harvest.interval_changed": _l("%(actor)s changed how often %(object)s harvests a repository"),
    "harvest.paused": _l("%(actor)s paused the harvests of a repository of %(object)s"),
    "harvest.resumed": _l("%(actor)s resumed the harvests of a repository of %(object)s"),
    "harvest.source_removed": _l("%(actor)s removed a repository %(object)s harvested from"),
    "harvest.run_requested": _l("%(actor)s started a harvest for %(object)s"),
    "reader.verify": _l("%(actor)s verified the reader %(object)s"),
    "role.grant": _l("%(actor)s gave %(object)s a role"),
    "role.revoke": _l("%(actor)s took a role from %(object)s"),
    "setting.change": _l("%(actor)s changed the setting “%(object)s”"),
    "email.retry": _l("%(actor)s queued the email %(object)s again"),
    "catalog.import_upload": _l("%(actor)s uploaded records to import: %(object)s"),
    "application.submit": _l("%(object)s applied to join the alliance"),
    "application.review": _l("%(actor)s checked the application of %(object)s"),
    "membership.admit": _l("%(object)s was admitted to the alliance (vote closed by %(actor)s)"),
    "membership.withdraw": _l("%(actor)s gave notice of withdrawal of %(object)s"),
    "membership.revoke": _l("%(object)s lost its membership (vote closed by %(actor)s)"),
    "meeting.convene": _l("%(actor)s convened the meeting “%(object)s”"),
    "meeting.request": _l("%(actor)s requested the meeting “%(object)s”"),
    "meeting.cosign": _l("%(actor)s signed the request for the meeting “%(object)s”"),
    "meeting.check_in": _l("%(actor)s checked in to the meeting “%(object)s”"),
    "meeting.close": _l("%(actor)s closed the meeting “%(object)s” and published the minutes"),
    "agenda.add": _l("%(actor)s put “%(object)s” on the agenda"),
    "agenda.close": _l("%(actor)s closed the vote: “%(object)s”"),
    "vote.cast": _l("%(actor)s voted on “%(object)s”"),
    "office.elect": _l("%(actor)s recorded the election of %(object)s"),
    "office.remove": _l("%(actor)s recorded the removal of %(object)s from office"),
    "rotation.approve": _l("%(actor)s recorded the approved order of chair libraries"),
    "handover.start": _l("%(actor)s started the handover to %(object)s"),
    "handover.accept": _l("%(actor)s accepted the handover to %(object)s"),
    "handover.cancel": _l("%(actor)s cancelled the handover to %(object)s"),
    "ill.approve": _l("%(actor)s approved the interlibrary loan of “%(object)s”"),
    "ill.refuse": _l("%(actor)s refused the interlibrary loan of “%(object)s”"),
    "ill.cancel": _l("%(actor)s cancelled the interlibrary loan of “%(object)s”"),
    "ill.ship": _l("%(actor)s sent “%(object)s” (interlibrary loan)"),
    "ill.receive": _l("%(actor)s received “%(object)s” (interlibrary loan)"),
    "ill.lend": _l("%(actor)s lent “%(object)s” to the reader (interlibrary loan)"),
    "ill.renew": _l("%(actor)s renewed “%(object)s” (interlibrary loan)"),
    "ill.return": _l("%(actor)s took back “%(object)s” (interlibrary loan)"),
    "ill.receive_back": _l("%(actor)s received “%(object)s” back (interlibrary loan)"),
    "ill.close": _l("%(actor)s closed the interlibrary loan of “%(object)s”"),
    "union.lend": _l("%(actor)s lent “%(object)s” (union borrowing)"),
    "union.return": _l("%(actor)s took back “%(object)s” (union borrowing)"),
    "union.arrived": _l("%(actor)s received “%(object)s” back (union borrowing)"),
    "union.renew": _l("%(actor)s renewed “%(object)s” (union borrowing)"),
    "hold.ready": _l("%(actor)s put “%(object)s” on the hold shelf"),
    "hold.collected": _l("%(actor)s handed out the hold “%(object)s”"),
    "hold.cancel": _l("%(actor)s cancelled the hold “%(object)s”"),
    "card.approve": _l("%(actor)s approved the interlibrary card of %(object)s"),
    "card.refuse": _l("%(actor)s refused the interlibrary card of %(object)s"),
    "card.revoke": _l("%(actor)s revoked the interlibrary card of %(object)s"),
    "card.verify": _l("%(actor)s checked the interlibrary card of %(object)s"),
    "procurement.order": _l("%(actor)s ordered the suggested title “%(object)s”"),
    "procurement.decline": _l("%(actor)s declined the suggested title “%(object)s”"),
    "procurement.receive": _l("%(actor)s received the suggested title “%(object)s”"),
    "reference.claim": _l("%(actor)s took the question “%(object)s”"),
    "reference.release": _l("%(actor)s gave back the question “%(object)s”"),
    "reference.answer": _l("%(actor)s answered the question “%(object)s”"),
    "reference.reply": _l("%(actor)s replied to the question “%(object)s”"),
    "reference.close": _l("%(actor)s closed the question “%(object)s”"),
    "reference.escalated": _l("The question “%(object)s” was passed to the whole desk"),
    "coverage.save": _l("%(actor)s saved the journal holdings of %(object)s"),
    "coverage.delete": _l("%(actor)s deleted the journal holdings of %(object)s"),
    "coverage.import": _l("%(actor)s imported journal holdings of %(object)s"),
    "news.create": _l("%(actor)s wrote the news “%(object)s” as a draft"),
    "news.update": _l("%(actor)s edited the news “%(object)s”"),
    "news.publish": _l("%(actor)s published the news “%(object)s”"),
    "news.unpublish": _l("%(actor)s took down the news “%(object)s”"),
    "news.attach": _l("%(actor)s attached a file to the news “%(object)s”"),
    "news.detach": _l("%(actor)s removed a file from the news “%(object)s”"),
    "event.create": _l("%(actor)s created the event “%(object)s”"),
    "event.edit": _l("%(actor)s changed the event “%(object)s”"),
    "event.cancel": _l("%(actor)s cancelled the event “%(object)s”"),
    "event.check_in": _l("%(actor)s checked a reader in to the event “%(object)s”"),
    "contest.round.create": _l("%(actor)s created the contest round “%(object)s”"),
    "contest.round.update": _l("%(actor)s changed the contest round “%(object)s”"),
    "contest.round.publish": _l("%(actor)s published the contest round “%(object)s”"),
    "contest.round.close": _l("%(actor)s closed the contest round “%(object)s” early"),
    "contest.question.add": _l("%(actor)s added a question to the contest round “%(object)s”"),
    "contest.question.delete": _l(
        "%(actor)s deleted a question from the contest round “%(object)s”"),
    "book_list.create": _l("%(actor)s created the book list “%(object)s”"),
    "book_list.update": _l("%(actor)s edited the book list “%(object)s”"),
    "book_list.publish": _l("%(actor)s published the book list “%(object)s”"),
    "book_list.unpublish": _l("%(actor)s took down the book list “%(object)s”"),
    "book_list.delete": _l("%(actor)s deleted the book list “%(object)s”"),
    "book_list.add_entry": _l("%(actor)s added a book to the book list “%(object)s”"),
    "book_list.note": _l("%(actor)s wrote a note on a book in the book list “%(object)s”"),
    "book_list.move": _l("%(actor)s moved a book in the book list “%(object)s”"),
    "book_list.remove_entry": _l("%(actor)s removed a book from the book list “%(object)s”"),
    "commendation.window": _l("%(actor)s set the nomination dates for the commendations of "
                              "%(object)s"),
    "commendation.nominate": _l("%(actor)s nominated %(object)s for a commendation"),
    "commendation.withdraw": _l("%(actor)s withdrew the nomination of %(object)s"),
    "commendation.agenda": _l("%(actor)s put the nomination of %(object)s on the agenda"),
    "commendation.publish": _l("%(actor)s published the commendations of %(object)s"),
}

# the kinds of action the log is filtered by (an action's name starts with its kind)
KINDS = {
    "user.": _l("Accounts and sign-ins"), "role.": _l("Roles"), "setting.": _l("Settings"),
    "meeting.": _l("Meetings"), "agenda.": _l("Agenda items"), "vote.": _l("Votes"),
    "application.": _l("Applications to join"), "membership.": _l("Membership"),
    "office.": _l("Committee offices"), "handover.": _l("Chair library handover"),
    "center.": _l("Management center"), "ill.": _l("Interlibrary loan"),
    "union.": _l("Union borrowing"), "hold.": _l("Holds"), "card.": _l("Interlibrary cards"),
    "procurement.": _l("Purchase suggestions"), "reference.": _l("Reference desk"),
    "coverage.": _l("Journal holdings"), "catalog.": _l("Catalogue imports"),
    "reading.": _l("Reading"), "email.": _l("Emails"), "signon.": _l("Campus sign-on"),
    "sip2.": _l("Live availability"), "harvest.": _l("Harvesting records"),
    "news.": _l("News and notices"), "event.": _l("Events"), "contest.": _l("Search contest"),
    "book_list.": _l("Book lists"), "commendation.": _l("Commendations"),
}

# what details say, in words: key → label, for the keys the log's entries use
DETAIL_LABELS = {
    "code": _l("Code"), "choice": _l("Vote"), "mode": _l("Check-in"), "role": _l("Role"),
    "from": _l("Before"), "to": _l("After"),
    "year": _l("For the year"), "note": _l("Remark"), "reason": _l("Reason"), "file": _l("File"),
    "complete": _l("Complete"), "office": _l("Office"), "amount": _l("Amount"),
    "effective_on": _l("Effective on"), "passed": _l("Passed"), "kind": _l("Kind"),
    "via": _l("Convened by"), "signatures": _l("Signatures"), "valid": _l("Valid"),
    "barcode": _l("Barcode"), "group": _l("Group"), "terms": _l("Chair libraries"),
    "url": _l("Address"), "trust_provider_mfa": _l("Trusts the university's second factor"),
    "reader": _l("Reader of the library"),
    "host": _l("Host"), "port": _l("Port"), "every_hours": _l("Every (hours)"),
    "sessions": _l("Sessions"), "changed": _l("Changed"), "category": _l("News category"),
    "pinned": _l("Pinned"), "published": _l("Is published"), "size": _l("Size (bytes)"),
    "opens_on": _l("Nominations open on"), "closes_on": _l("Nominations close on"),
    "position": _l("Position"),
}
# values that are codes, in words
ROLE_NAMES = {"librarian": _l("Librarian"), "library_admin": _l("Library admin"),
              "committee_member": _l("Committee member"), "portal_admin": _l("Portal admin")}
CHOICE_NAMES = {"yes": _l("For"), "no": _l("Against"), "abstain": _l("Abstain")}
MODE_NAMES = {"in_person": _l("in person"), "online": _l("online")}
OFFICE_NAMES = {"chair": _l("Committee chair"), "vice_chair": _l("Vice-chair"),
                "joint": _l("Jointly, by three members")}
SIGN_ON_KINDS = {"cas": "CAS", "saml": "SAML", "oidc": "OpenID Connect"}
CODED_VALUES = {"role": ROLE_NAMES, "choice": CHOICE_NAMES, "mode": MODE_NAMES,
                "via": OFFICE_NAMES, "office": OFFICE_NAMES, "kind": SIGN_ON_KINDS}

# what the sentence already names: the object's title, and ids of rows it points at
HIDDEN_DETAILS = {"title", "name", "grant_id", "item_id", "meeting_id", "application_id",
                  "reader_id", "user_id", "record_id", "lending_library_id",
                  "person_name"}


class Described(NamedTuple):
    """An audit entry in words: the sentence, and its details as ``(label, value)`` lines."""

    entry: object
    sentence: str
    details: list


def _names_by_id(model, ids, name):
    """``{str(id): name(row)}`` for the rows of ``model`` with those ids."""
    numbers = [int(i) for i in ids if str(i).isdecimal()]
    if not numbers:
        return {}
    rows = db.session.execute(select(model).where(model.id.in_(numbers))).scalars()
    return {str(row.id): name(row) for row in rows}


def _title_of_record_row(model):
    def names(ids):
        rows = _names_by_id(model, ids, lambda row: row.record_id)
        titles = _names_by_id(Record, rows.values(), lambda record: record.title)
        return {key: titles.get(str(record_id), "") for key, record_id in rows.items()}
    return names


def _libraries_by_code(codes):
    rows = db.session.execute(select(Library).where(Library.code.in_(list(codes)))).scalars()
    return {row.code: library_name(row) for row in rows}


def _user_name(user):
    return user.display_name or user.email


# object type → ids → {id: the object's name in words}
NAMERS = {
    "user": lambda ids: _names_by_id(User, ids, _user_name),
    "meeting": lambda ids: _names_by_id(Meeting, ids, lambda m: m.title),
    "agenda_item": lambda ids: _names_by_id(AgendaItem, ids, lambda i: i.title),
    "application": lambda ids: _names_by_id(MembershipApplication, ids, lambda a: a.name_zh),
    "library": _libraries_by_code,
    "handover": lambda ids: _names_by_id(
        Handover, ids, lambda h: f"{library_name(h.to_library)} ({h.year})"),
    "setting": lambda keys: {key: str(SPECS[key].label) for key in keys if key in SPECS},
    "purchase_suggestion": lambda ids: _names_by_id(PurchaseSuggestion, ids, lambda s: s.title),
    "reference_question": lambda ids: _names_by_id(Question, ids, lambda q: q.subject),
    "interlibrary_card": lambda ids: _names_by_id(
        InterlibraryCard, ids, lambda c: _user_name(c.reader)),
    "ill_request": _title_of_record_row(IllRequest),
    "hold": _title_of_record_row(Hold),
    "union_loan": _title_of_record_row(UnionLoan),
    "news": lambda ids: _names_by_id(News, ids, lambda n: n.title),
    "event": lambda ids: _names_by_id(Event, ids, lambda e: e.title),
    "contest_round": lambda ids: _names_by_id(ContestRound, ids, lambda r: r.title),
    "book_list": lambda ids: _names_by_id(BookList, ids, lambda b: b.title),
    "commendation_nomination": lambda ids: _names_by_id(
        Nomination, ids, lambda n: n.person_name or library_name(n.library)),
}


def _object_names(entries):
    wanted = {}
    for entry in entries:
        if entry.object_type in NAMERS and entry.object_id is not None:
            wanted.setdefault(entry.object_type, set()).add(entry.object_id)
    return {(kind, key): name for kind, ids in wanted.items()
            for key, name in NAMERS[kind](ids).items()}


def _object_name(entry, names):
    name = names.get((entry.object_type, entry.object_id))
    if name:
        return name
    details = entry.details or {}
    for key in ("title", "name", "person_name", "file", "label", "code", "issn"):
        if details.get(key):
            return str(details[key])
    if entry.library is not None and entry.object_type in ("library", "journal_coverage"):
        return library_name(entry.library)
    return entry.object_id or "—"


def _value(value):
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if value is None or value == "":
        return "—"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _terms(terms):
    """An approved rotation ``[[year, library id], …]`` as "2027 南昌大学图书馆, …"."""
    ids = [library_id for _year, library_id in terms]
    names = _names_by_id(Library, ids, library_name)
    return ", ".join(f"{year} {names.get(str(library_id), '—')}" for year, library_id in terms)


def _details(entry):
    """The details as ``(label, value)`` lines, "before" ahead of "after" (JSONB keeps no order)."""
    order = {key: n for n, key in enumerate(DETAIL_LABELS)}
    details = sorted((entry.details or {}).items(), key=lambda kv: order.get(kv[0], len(order)))
    return [(str(DETAIL_LABELS.get(key, key)), _detail_value(key, value))
            for key, value in details if key not in HIDDEN_DETAILS]


def _detail_value(key, value):
    if key == "terms" and isinstance(value, list):
        return _terms(value)
    if key in CODED_VALUES and value in CODED_VALUES[key]:
        return str(CODED_VALUES[key][value])
    return _value(value)


def describe(entries):
    """Each entry in words: who did what to which object, and the details as lines."""
    names = _object_names(entries)
    described = []
    for entry in entries:
        actor = _user_name(entry.actor) if entry.actor else _("The portal")
        sentence = SENTENCES.get(entry.action)
        object_name = _object_name(entry, names)
        if sentence is None:
            text = _("%(actor)s: %(action)s, %(object)s", actor=actor, action=entry.action,
                     object=object_name)
        else:
            text = str(sentence) % {"actor": actor, "object": object_name}
        described.append(Described(entry, text, _details(entry)))
    return described
