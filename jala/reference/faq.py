"""The published FAQ: anonymised questions and answers, searched like the union catalogue.

The vector is built with the catalogue's tokens (CJK characters and bigrams, Latin words,
pinyin syllable pairs, all after the same normalisation) and queried with the catalogue's own
query parser, so Chinese fragments, Traditional characters and pinyin find an entry the way
they find a book. Weights: the question A, the answer C.
"""
import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import cast, func, select, text
from sqlalchemy.dialects.postgresql import TSVECTOR

from jala import clock
from jala.checks import typed_text
from jala.errors import NotFound, RuleViolation
from jala.extensions import db
from jala.reference.group import require_reference_librarian
from jala.reference.models import Question
from jala.reference.services import audit_question, lock_question
from jala.search.candidates import RANK_WEIGHTS
from jala.search.highlight import excerpt, highlight
from jala.search.normalize import normalize_text
from jala.search.pinyin import romanize
from jala.search.query import parse_query
from jala.search.tokens import VectorBuilder

FAQ_QUESTION_MAX = 2000
FAQ_ANSWER_MAX = 20000
PER_PAGE = 20
EXCERPT = 160


# --- writing an entry -----------------------------------------------------------------------

def build_vector(question, answer):
    """The tsvector literal of an FAQ entry (catalogue tokens and pinyin)."""
    vector = VectorBuilder()
    for value, weight in ((question, "A"), (answer, "C")):
        normalized = normalize_text(value)
        vector.add_text(normalized, weight, normalized=True)
        vector.add_pinyin(romanize(normalized), weight)
    return vector.literal()


def draft(librarian, question_id):
    """``(question, answer)`` for the FAQ form: the saved text, else the thread anonymised."""
    require_reference_librarian(librarian)
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound(_("No such question."))
    if question.faq_question or question.faq_answer:
        return question.faq_question or "", question.faq_answer or ""
    asked = [m.body for m in question.messages if m.author_id == question.asker_id]
    answers = [m.body for m in question.messages if m.library_id is not None]
    text_q = "\n\n".join([question.subject] + asked[:1])
    return anonymise(text_q, question.asker), anonymise("\n\n".join(answers), question.asker)


def publish(librarian, question_id, faq_question, faq_answer):
    """Publish (or update) the anonymised version of an answered question in the FAQ."""
    require_reference_librarian(librarian)
    question = lock_question(question_id)
    if question.first_response_at is None:
        raise RuleViolation(_("Only answered questions can go into the FAQ."))
    # whatever was typed, the asker's name, address and card number do not go out
    faq_question = anonymise(typed_text(
        faq_question, FAQ_QUESTION_MAX,
        missing=_("Write the question as the FAQ should show it.")), question.asker,
        contacts=False)
    faq_answer = anonymise(typed_text(
        faq_answer, FAQ_ANSWER_MAX, missing=_("Write the answer as the FAQ should show it.")),
        question.asker, contacts=False)
    first = question.faq_published_at is None
    question.faq_question = faq_question
    question.faq_answer = faq_answer
    if first:
        question.faq_published_at = clock.now()
    question.faq_vector = cast(build_vector(faq_question, faq_answer), TSVECTOR)
    audit_question(librarian, "reference.faq_publish" if first else "reference.faq_update",
                   question)
    return question


def unpublish(librarian, question_id):
    """Take an entry out of the FAQ (its text is kept for publishing again)."""
    require_reference_librarian(librarian)
    question = lock_question(question_id)
    if question.faq_published_at is None:
        return question
    question.faq_published_at = None
    question.faq_vector = None
    audit_question(librarian, "reference.faq_unpublish", question)
    return question


# --- anonymising ----------------------------------------------------------------------------

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)")
MASK = "***"


def anonymise(text, asker, contacts=True):
    """``text`` without the asker's name, email address and card number.

    With ``contacts`` (the draft), any email address or mobile number goes too; the librarian
    checks the draft, may put a library's own address back, and edits the rest.
    """
    text = text or ""
    values = [asker.email, asker.card_number, asker.display_name]
    local_part = (asker.email or "").split("@")[0]
    if len(local_part) >= 4:
        values.append(local_part)
    # longest first, so that a name inside the email address does not break the address up
    for value in sorted({(v or "").strip() for v in values}, key=len, reverse=True):
        if len(value) >= 2:
            text = re.sub(re.escape(value), MASK, text, flags=re.IGNORECASE)
    if contacts:
        text = PHONE_RE.sub(MASK, EMAIL_RE.sub(MASK, text))
    return text


# --- reading and searching ------------------------------------------------------------------

def get_entry(question_id):
    """A published FAQ entry (anyone may read it)."""
    question = db.session.get(Question, question_id)
    if question is None or question.faq_published_at is None:
        raise NotFound(_("No such FAQ entry."))
    return question


def answering_library(question):
    """The library whose librarian answered first."""
    for message in question.messages:
        if message.library_id is not None:
            return message.library
    return None


@dataclass
class FaqHit:
    """One entry in the results, with its marked-up question and answer excerpt."""

    entry: Question
    question_html: str
    excerpt_html: str


@dataclass
class FaqResults:
    """A page of FAQ entries for a query (the newest entries when there is none)."""

    q: str
    hits: list
    total: int
    page: int
    per_page: int = PER_PAGE

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))


SEARCH_SQL = f"""
SELECT id FROM reference_questions
WHERE faq_published_at IS NOT NULL AND faq_vector @@ CAST(:q AS tsquery)
ORDER BY ts_rank(CAST('{RANK_WEIGHTS}' AS float4[]), faq_vector, CAST(:q AS tsquery), 1) DESC,
         faq_published_at DESC, id DESC
LIMIT :limit OFFSET :offset
"""
COUNT_SQL = """
SELECT count(*) FROM reference_questions
WHERE faq_published_at IS NOT NULL AND faq_vector @@ CAST(:q AS tsquery)
"""


def search(raw, page=1, per_page=PER_PAGE):
    """Published entries matching ``raw`` (parsed exactly like a catalogue query), best first."""
    page = max(1, min(int(page or 1), 500))
    parsed = parse_query(raw or "")
    offset = (page - 1) * per_page
    if parsed.is_empty and (raw or "").strip():
        ids, total = [], 0  # only punctuation or operators: nothing can match
    elif parsed.is_empty:
        total = db.session.execute(select(func.count()).select_from(Question).where(
            Question.faq_published_at.is_not(None))).scalar_one()
        ids = db.session.execute(
            select(Question.id).where(Question.faq_published_at.is_not(None))
            .order_by(Question.faq_published_at.desc(), Question.id.desc())
            .limit(per_page).offset(offset)).scalars().all()
    else:
        params = {"q": parsed.tsquery, "limit": per_page, "offset": offset}
        total = db.session.execute(text(COUNT_SQL), params).scalar_one()
        ids = db.session.execute(text(SEARCH_SQL), params).scalars().all()
    entries = {q.id: q for q in db.session.execute(
        select(Question).where(Question.id.in_(ids))).scalars()} if ids else {}
    hits = [FaqHit(entries[i], highlight(entries[i].faq_question, parsed.highlight),
                   excerpt(entries[i].faq_answer, parsed.highlight, EXCERPT))
            for i in ids if i in entries]
    return FaqResults(q=raw or "", hits=hits, total=total, page=page, per_page=per_page)
