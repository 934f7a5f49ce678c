"""What the reader's home shows: each service's open items first, and what changed lately."""
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from jala import clock
from jala.community.events.signups import my_registrations
from jala.delivery.models import OPEN_STATUSES as DELIVERY_OPEN
from jala.delivery.models import DeliveryEvent, DeliveryRequest
from jala.delivery.services import my_requests
from jala.extensions import db
from jala.loans.cards import card_state, current_card
from jala.loans.holds import LIVE as LIVE_HOLDS
from jala.loans.holds import reader_holds
from jala.loans.ill import reader_requests
from jala.loans.models import ILL_OPEN, IllEvent, IllRequest
from jala.loans.union import reader_loans
from jala.procurement.services import my_suggestions
from jala.reading.lists import list_sizes, my_lists
from jala.reading.saved_searches import my_saved_searches
from jala.reference.models import Question, QuestionMessage
from jala.reference.services import my_questions

SHOWN = 3  # items of each kind on the home page; the kind's own page has them all
SAVED_SEARCHES_SHOWN = 10
NOTICE_DAYS = 30
NOTICES = 8


@dataclass
class Notice:
    """Something that happened to one of the reader's requests or questions."""

    kind: str  # "delivery", "ill" or "reply"
    at: object
    item: object  # the DeliveryEvent, IllEvent or QuestionMessage
    about: object  # its DeliveryRequest, IllRequest or Question


@dataclass
class ReaderHome:
    card: object
    card_state: str
    on_loan: list  # union loans and ILL loans the reader has in hand, soonest due first
    loans_to_show: int
    ill_open: list
    holds: list
    deliveries: list
    deliveries_open: int
    questions: list
    lists: list
    list_sizes: dict
    suggestions: list
    searches: list
    notices: list = field(default_factory=list)
    events: list = field(default_factory=list)  # sign-ups (seats and waiting places) to come


def reader_home(reader):
    """Everything the 我的 page shows for ``reader``."""
    card = current_card(reader)
    union_loans = [loan for loan in reader_loans(reader, limit=50) if loan.status == "on_loan"]
    ill = [req for req in reader_requests(reader, limit=50) if req.status in ILL_OPEN]
    in_hand = sorted(union_loans + [req for req in ill if req.status == "on_loan"],
                     key=lambda item: item.due_on or clock.local_today())
    deliveries = my_requests(reader)
    return ReaderHome(
        card=card, card_state=card_state(card) if card else "",
        on_loan=in_hand[:SHOWN], loans_to_show=len(in_hand),
        ill_open=[req for req in ill if req.status != "on_loan"][:SHOWN],
        holds=[hold for hold in reader_holds(reader, limit=SHOWN * 2)
               if hold.status in LIVE_HOLDS][:SHOWN],
        deliveries=deliveries[:SHOWN],
        deliveries_open=sum(req.status in DELIVERY_OPEN for req in deliveries),
        questions=my_questions(reader)[:SHOWN],
        lists=my_lists(reader)[:SHOWN], list_sizes=list_sizes(reader),
        suggestions=my_suggestions(reader, limit=SHOWN),
        searches=my_saved_searches(reader)[:SAVED_SEARCHES_SHOWN],
        notices=recent_notices(reader),
        events=my_registrations(reader)[:SHOWN],
    )


def recent_notices(reader, days=NOTICE_DAYS, limit=NOTICES):
    """The latest steps of the reader's requests and librarians' replies, newest first."""
    since = clock.now() - timedelta(days=days)
    delivery = db.session.execute(
        select(DeliveryEvent).join(DeliveryRequest)
        .where(DeliveryRequest.reader_id == reader.id, DeliveryEvent.at >= since,
               DeliveryEvent.kind.not_in(("submitted", "cancelled", "reminded")))
        .order_by(DeliveryEvent.at.desc()).limit(limit)).scalars().all()
    ill = db.session.execute(
        select(IllEvent, IllRequest).join(IllRequest, IllEvent.request_id == IllRequest.id)
        .where(IllRequest.reader_id == reader.id, IllEvent.at >= since,
               IllEvent.from_status.is_not(None), IllEvent.actor_id.is_distinct_from(reader.id))
        .order_by(IllEvent.at.desc()).limit(limit)).all()
    replies = db.session.execute(
        select(QuestionMessage, Question).join(Question)
        .where(Question.asker_id == reader.id, QuestionMessage.author_id != reader.id,
               QuestionMessage.created_at >= since)
        .order_by(QuestionMessage.created_at.desc()).limit(limit)).all()
    notices = ([Notice("delivery", e.at, e, e.request) for e in delivery]
               + [Notice("ill", e.at, e, req) for e, req in ill]
               + [Notice("reply", m.created_at, m, q) for m, q in replies])
    return sorted(notices, key=lambda n: n.at, reverse=True)[:limit]
